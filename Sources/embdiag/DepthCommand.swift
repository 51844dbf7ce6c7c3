import ArgumentParser
import EmbeddingDiagnostics
import Foundation

extension DepthKind: ExpressibleByArgument {}
extension DepthDistance: ExpressibleByArgument {}
extension Alternative: ExpressibleByArgument {}

struct DepthCommand: ReportingCommand {
    static let configuration = CommandConfiguration(
        commandName: "depth",
        abstract: "Statistical depth of every row (TTE, spatial, Mahalanobis) and rank-sum tests of corpora against a reference.",
        discussion: """
        Depth ranks texts by centrality in the reference corpus; the Wilcoxon rank-sum test of depths \
        (Liu & Singh 1993; Seegmiller & Preum 2023) asks whether another corpus is distributed like the \
        reference (alternative "greater": the other corpus is more outlying). See Guides/Depth.md.
        Examples:
          embdiag depth human.npy synthetic.npy --output reports/depth
          embdiag depth data/sentences/by-section/games.npy data/sentences/by-section/fonts.npy \\
              --labels data/sentences/by-section/games.txt \\
              --other-labels data/sentences/by-section/fonts.txt
          embdiag depth corpus.npy --labels sections.txt --select-central 5 \\
              --by-label --write central.npy
          # drift gate: exit 1 on a shift
          embdiag depth jan.npy feb.npy --require "p_value>=0.01"
          # sharded, against a seeded sample (pass 1 of 2; Guides/Scale.md):
          embdiag depth ref-K.npy --partial r1-K.state --row-offset N_K \\
              --depth spatial --reference-sample 5000 --reference-rows 1000000
        """)

    @OptionGroup var input: InputOptions
    @OptionGroup var outputOptions: OutputOptions
    @OptionGroup var gates: GateOptions
    @OptionGroup var seedOptions: SeedOptions
    @OptionGroup var partialOptions: PartialOptions
    @OptionGroup var memory: MemoryBudgetOptions

    @Argument(help: "The reference corpus, then the corpora to compare with it.")
    var files: [String]

    @Option(parsing: .singleValue, help: "Labels for each other corpus, in order (one per line).")
    var otherLabels: [String] = []

    @Option(help: "Depth: tte (default), spatial or mahalanobis.")
    var depth: DepthKind = .tte

    @Option(help: "Distance inside TTE depth: cosine (default) or chord.")
    var distance: DepthDistance = .cosine

    @Option(help: "Alternative: greater (default: the other corpus is more outlying), less or two-sided.")
    var alternative: Alternative = .greater

    @Option(help: "Measure depth against a seeded sample of N reference rows (for very large references).")
    var referenceSample: Int?

    @Option(help: "With --partial and --reference-sample: the reference's total row count over all shards (every shard draws the single run's sample from it).")
    var referenceRows: Int?


    @Option(help: "Relabellings of the pooled rows for the permutation p-value (cosine TTE depth, at most 4000 pooled rows; 0 = the normal approximation only).")
    var permutations: Int = DepthConfiguration().permutations

    @Option(help: "Most central and most outlying rows listed per corpus.")
    var top: Int = 10

    @Option(help: "Principal components for Mahalanobis depth.")
    var components: Int = 50

    @Option(help: "Select the K deepest reference rows (the paper's representative-example selection).")
    var selectCentral: Int?

    @Flag(help: "With --select-central: K per label of the reference.")
    var byLabel = false

    @Option(help: "With --select-central: write the selected rows here (.npy, .bin or .txt; labels kept: a .npy's in OUT.labels.txt).")
    var write: String?


    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give the reference corpus (and corpora to compare)") }
        guard otherLabels.count <= max(0, files.count - 1) else { throw ValidationError("more --other-labels than other corpora") }
        if write != nil && selectCentral == nil { throw ValidationError("--write needs --select-central K") }
        if byLabel && selectCentral == nil { throw ValidationError("--by-label needs --select-central K") }
        if let k = selectCentral, k < 1 { throw ValidationError("--select-central must be at least 1") }
        try SettingRange.integer(components, "--components", atLeast: 1)
        try SettingRange.integer(top, "--top", atLeast: 0)
        if let s = referenceSample { try SettingRange.integer(s, "--reference-sample", atLeast: 2) }
        if let r = referenceRows { try SettingRange.integer(r, "--reference-rows", atLeast: 2) }
        try SettingRange.integer(permutations, "--permutations", atLeast: 0, atMost: DepthConfiguration.maximumPermutations,
                                 meaning: "relabellings of the permutation p-value; 0 = the normal approximation")
        try validatePartial()
    }

    var requirements: [Requirement] { gates.requirements }
    var writesState: Bool { partialOptions.isActive }
    var seed: UInt64 { seedOptions.seed }

    func makeReports() throws -> [CommandReport] {
        let (reference, others, dropped) = try input.readCorpora(files, otherLabels: otherLabels, quiet: outputOptions.quiet)
        var configuration = DepthConfiguration()
        configuration.kind = depth
        configuration.distance = distance
        configuration.alternative = alternative
        configuration.referenceSample = referenceSample
        configuration.seed = seed
        configuration.top = top
        configuration.mahalanobisComponents = components
        configuration.permutations = permutations
        if partialOptions.isActive { try runPartial(reference, configuration: configuration); return [] }  // a state file, no report
        configuration.selectCentral = selectCentral
        configuration.selectCentralByLabel = byLabel
        let analysis = try DepthAnalysis(reference: reference, others: others, configuration: configuration)
        var output = CommandReport(report: analysis.report(), droppedByInput: dropped)
        if let write, let selection = analysis.centralSelection {
            // Selected rows index the reference as measured (each repeated row once).
            let inputRows = analysis.referenceRowsKept.map { kept in selection.rows.map { kept[$0] } } ?? selection.rows
            let files = try LabelledMatrix.write(reference.selecting(rows: inputRows), to: write)
            output.written.append("Wrote the \(selection.rows.count) selected rows to \(write)\(files.count > 1 ? " (their labels to \(files[1]))" : "").")
        }
        return [output]
    }
}
