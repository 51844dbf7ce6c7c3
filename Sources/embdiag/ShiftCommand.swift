import ArgumentParser
import EmbeddingDiagnostics
import Foundation

extension MMDEstimator: ExpressibleByArgument {}

struct ShiftCommand: ReportingCommand {
    static let configuration = CommandConfiguration(
        commandName: "shift",
        abstract: "Is another corpus distributed like the reference? MMD, energy, classifier and depth tests, one verdict, and where it shifted.",
        discussion: """
        Runs two-sample tests of OTHER against REF on unit-normalised rows — MMD² (Gaussian kernel, \
        median heuristic), energy distance, a cross-fitted logistic-regression classifier (AUC) and the \
        two-sided depth rank-sum test — and combines them into one p-value (Westfall–Young min-p over \
        the permutation tests, which share their relabellings, joined with the classifier by a \
        weighted Bonferroni bound). Then says where: the MMD witness at every row, the OTHER rows in \
        regions it over-represents, the REF rows it does not cover, per-label shares, and precision, \
        recall, density and coverage (and MAUVE with --mauve). See Guides/Shift.md.
        Examples:
          embdiag shift data/sentences/by-section/games.npy data/sentences/by-section/fonts.npy \\
              --labels data/sentences/by-section/games.txt \\
              --other-labels data/sentences/by-section/fonts.txt
          embdiag shift human.npy synthetic.npy --output reports/shift
          # drift gate: exit 1 on a shift
          embdiag shift jan.npy feb.npy --require "p_value>=0.01"
          embdiag shift ref.npy new.npy --tests mmd,energy --permutations 5000 \\
              --seed 7
        """)

    @OptionGroup var input: InputOptions
    @OptionGroup var outputOptions: OutputOptions
    @OptionGroup var gates: GateOptions
    @OptionGroup var seedOptions: SeedOptions
    @OptionGroup var memory: MemoryBudgetOptions

    @Argument(help: "The reference corpus, then the corpora to compare with it (with --reference: only the corpora or windows to test).")
    var files: [String]

    @Option(help: "Cut OTHER into windows by this column of its source (Parquet column, JSONL path, CSV/TSV header or number, postgresql:// --table column): a batch id, a date or a timestamp.")
    var by: String?

    @Option(help: "Cut OTHER into windows by a file with one key per row of OTHER (a batch id, a date or a timestamp).")
    var byFile: String?

    @Option(help: "With --by/--by-file dates or timestamps: windows of this width, aligned to the Unix epoch in UTC (1d, 7d, 12h, 30m, 90s, 2w).")
    var window: String?

    @Option(help: "Cut OTHER into windows of N consecutive rows.")
    var chunk: Int?

    @Option(help: "Chunks of the reference drawn, per window size, for its band of normal variation (upper limit: the ⌈0.99(R + 1)⌉-th smallest chunk score; default 99; a saved reference keeps its own).")
    var bandChunks: Int?

    @Option(help: "Save the reference's sample, σ and bands to this state file (for later runs with --reference).")
    var saveReference: String?

    @Option(help: "Test against a saved reference (written by --save-reference) instead of a reference corpus.")
    var reference: String?

    @Option(parsing: .singleValue, help: "Labels for each other corpus, in order (one per line).")
    var otherLabels: [String] = []

    @Option(help: "Tests, comma-separated: \(ShiftTestKind.allCases.map(\.rawValue).joined(separator: ",")) (default: \(ShiftTestKind.defaults.map(\.rawValue).joined(separator: ","))).")
    var tests: String = ShiftTestKind.defaults.map(\.rawValue).joined(separator: ",")

    @Option(help: "Random relabellings of the permutation tests (MMD, energy, depth).")
    var permutations: Int = 1000


    @Option(help: "σ of the Gaussian kernel on unit rows (default: median heuristic).", transform: DecimalNumber.option)
    var bandwidth: Double?

    @Option(help: "The MMD test's bandwidths as multiples of σ, comma-separated (several: MMD aggregated over them by min-p).")
    var bandwidthScales: String?

    @Option(help: "The classifier's share w of α in the overall verdict (the permutation tests get 1 − w).", transform: DecimalNumber.option)
    var classifierWeight: Double = CombinedVerdict.defaultClassifierWeight

    @Flag(help: "Also compute MAUVE (PCA + k-means with min(m, n)/10 clusters; costly for large corpora).")
    var mauve = false

    @Option(help: "Folds of the cross-fitted classifier (2 = half/half, each half scored by the model of the other).")
    var folds: Int = 2

    @Option(help: "λ of the classifier's L2 penalty (λ/2)‖β‖² (scikit-learn C = 1/λ).", transform: DecimalNumber.option)
    var penalty: Double = 1

    @Option(name: .customLong("k"), help: "k of the k-NN balls (precision, recall, density, coverage, uncovered rows; default 5; a saved reference keeps its own).")
    var neighbors: Int?

    @Option(help: "Rows listed as over-represented and as uncovered.")
    var top: Int = 10

    @Option(help: "Level of the verdict and of the `shifted` metric.", transform: DecimalNumber.option)
    var alpha: Double = 0.05

    @Option(help: "Test a seeded sample of this many rows of each larger corpus (the tests cost O(N²) and do not shard; the report says so).")
    var maxRows: Int?

    @Option(help: "k of the reference's regions: k-means clusters whose shares are compared (default: round(√(rows/10)), at least 2, at most 12).")
    var clusters: Int?
    @Option(help: "How the MMD test is computed: exact (permutations over every pair of rows, O(N²)) or block (the block test on every row: O(N·b) time, memory of one block; with --tests mmd, for millions of rows; less power at equal size). See Guides/Shift.md.")
    var mmd: MMDEstimator = .exact

    @Option(help: "Rows of the smaller corpus per block of --mmd block (default ⌊√rows⌋, at most rows/20: at least 20 blocks).")
    var mmdBlockRows: Int?

    @Flag(help: "Keep the other corpus's rows that duplicate reference rows in the tests (default: reported, and left out, since the tests assume independent samples).")
    var keepCrossDuplicates = false


    func validate() throws {
        try validateWindows()
        if reference == nil && saveReference == nil {
            guard files.count >= 2 else { throw ValidationError("give the reference corpus and at least one corpus to compare with it") }
        }
        guard otherLabels.count <= otherFiles.count else { throw ValidationError("more --other-labels than other corpora") }
        try SettingRange.number(alpha, "--alpha", above: 0, below: 1)
        try SettingRange.integer(permutations, "--permutations", atLeast: 1)
        try SettingRange.integer(folds, "--folds", atLeast: 2)
        if let neighbors { try SettingRange.integer(neighbors, "--k", atLeast: 1) }
        try SettingRange.integer(top, "--top", atLeast: 0)
        try SettingRange.number(penalty, "--penalty", above: 0)
        try SettingRange.number(classifierWeight, "--classifier-weight", above: 0, below: 1)
        if let bandwidth { try SettingRange.number(bandwidth, "--bandwidth", above: 0) }
        if let maxRows { try SettingRange.integer(maxRows, "--max-rows", atLeast: 2) }
        if let clusters { try SettingRange.integer(clusters, "--clusters", atLeast: 2) }
        if let mmdBlockRows { try SettingRange.integer(mmdBlockRows, "--mmd-block-rows", atLeast: 2) }
        // Lists: no empty items, no duplicates (a test or a bandwidth given twice means nothing more).
        let names = tests.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        if names.contains("") { throw ValidationError("--tests '\(tests)' has an empty item (give test names, comma-separated)") }
        if let twice = names.first(where: { n in names.filter { $0 == n }.count > 1 }) { throw ValidationError("--tests lists \(twice) twice") }
        // The block test's combinations are checked here too, before any file is read or written.
        var blockCheck = ShiftConfiguration()
        blockCheck.tests = try parsedTests()
        blockCheck.mmdEstimator = mmd
        blockCheck.mmdBlockRows = mmdBlockRows
        blockCheck.mauve = mauve
        blockCheck.bandwidth = bandwidth
        blockCheck.bandwidthScales = bandwidthScales.map { $0.split(separator: ",").compactMap { DecimalNumber.parse($0) } } ?? [1]
        try blockCheck.validate()
        if mmd == .block && (isWindowsRun || reference != nil || saveReference != nil) {
            throw ValidationError("--mmd block compares two whole corpora: it does not run with windows (--by, --by-file, --chunk, a directory), --reference or --save-reference")
        }
        if let scales = bandwidthScales {
            let values = try scales.split(separator: ",", omittingEmptySubsequences: false).map { part -> Double in
                guard let v = DecimalNumber.parse(part) else { throw ValidationError("--bandwidth-scales: '\(part)' is not a number") }
                try SettingRange.number(v, "--bandwidth-scales", above: 0)
                return v
            }
            if let twice = values.first(where: { v in values.filter { $0 == v }.count > 1 }) { throw ValidationError("--bandwidth-scales lists \(twice) twice") }
        }
    }

    func parsedTests() throws -> [ShiftTestKind] {
        var out: [ShiftTestKind] = []
        for name in tests.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) where !name.isEmpty {
            guard let kind = ShiftTestKind(rawValue: name) else {
                throw EmbdiagError.usage("--tests: unknown test '\(name)' (choose from \(ShiftTestKind.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            if !out.contains(kind) { out.append(kind) }
        }
        guard !out.isEmpty else { throw EmbdiagError.usage("--tests selects no test") }
        return out
    }

    var requirements: [Requirement] { gates.requirements }
    var seed: UInt64 { seedOptions.seed }

    /// A gate on a p-value at or below its permutation floor can never fail (exit 2, before any work).
    func refuseIfBelowPValueFloor(_ r: Requirement) throws {
        var floors = ShiftConfiguration()
        floors.tests = try parsedTests()
        floors.permutations = permutations
        floors.mmdEstimator = mmd
        try floors.refuseIfBelowPValueFloor(r)
    }

    func makeReports() throws -> [CommandReport] {
        var configuration = ShiftConfiguration()
        configuration.tests = try parsedTests()
        configuration.permutations = permutations
        configuration.seed = seed
        configuration.bandwidth = bandwidth
        if let scales = bandwidthScales {
            configuration.bandwidthScales = try scales.split(separator: ",").map { part in
                guard let v = DecimalNumber.parse(part) else {
                    throw EmbdiagError.usage("--bandwidth-scales: '\(part)' is not a number")
                }
                return v
            }
        }
        configuration.classifierWeight = classifierWeight
        configuration.mauve = mauve
        configuration.folds = folds
        configuration.penalty = penalty
        if let neighbors { configuration.neighbors = neighbors }
        configuration.top = top
        configuration.alpha = alpha
        configuration.maxRows = maxRows
        configuration.keepCrossDuplicates = keepCrossDuplicates
        configuration.clusters = clusters
        configuration.mmdEstimator = mmd
        configuration.mmdBlockRows = mmdBlockRows
        if isWindowsRun { return try makeWindowsReports(configuration) }
        let (reference, others, dropped) = try input.readCorpora(files, otherLabels: otherLabels, quiet: outputOptions.quiet)
        let report = try ShiftAnalysis(reference: reference, others: others, configuration: configuration).report()
        return [CommandReport(report: report, droppedByInput: dropped)]
    }
}
