import EmbeddingDiagnostics

/// The CLI flag of each setting the library names in its messages (installed around every command
/// in main.swift, so errors say `--on-invalid`, not the library's `onInvalid`).
enum SettingFlags {
    static func flag(_ setting: Setting) -> String {
        switch setting {
        case .anchors: return "--anchors"
        case .bandwidth: return "--bandwidth"
        case .column: return "--column"
        case .components: return "--components"
        case .debias: return "--debias"
        case .definitional: return "--definitional"
        case .direction: return "--direction"
        case .duplicates: return "--duplicates"
        case .fit: return "--fit"
        case .folds: return "--folds"
        case .format: return "--format"
        case .idColumn: return "--id-column"
        case .isoscoreZeta: return "--isoscore-zeta"
        case .jsonPath: return "--json-path"
        case .k: return "--k"
        case .key: return "--key"
        case .labelColumn: return "--label-column"
        case .labelPath: return "--label-path"
        case .labels: return "--labels"
        case .names: return "--names"
        case .new: return "--new"
        case .newIds: return "--new-ids"
        case .newQueries: return "--new-queries"
        case .noWorseTolerance: return "--no-worse-tolerance"
        case .oldIds: return "--old-ids"
        case .oldQueries: return "--old-queries"
        case .onInvalid: return "--on-invalid"
        case .pairBy: return "--pair-by"
        case .penalty: return "--penalty"
        case .permutations: return "--permutations"
        case .query: return "--query"
        case .queryLabels: return "--query-labels"
        case .referenceSample: return "--reference-sample"
        case .require: return "--require"
        case .saveMapping: return "--save-mapping"
        case .saveTransform: return "--save-transform"
        case .table: return "--table"
        case .tests: return "--tests"
        case .trainFraction: return "--train-fraction"
        case .trainRows: return "--train-rows"
        }
    }
}
