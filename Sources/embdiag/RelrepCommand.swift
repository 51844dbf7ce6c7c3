import ArgumentParser
import EmbeddingDiagnostics
import Foundation

extension AnchorStrategy: ExpressibleByArgument {}
extension RelrepPairing: ExpressibleByArgument {}
extension RelrepCentering: ExpressibleByArgument {}

struct RelrepCommand: ReportingCommand {
    static let configuration = CommandConfiguration(
        commandName: "relrep",
        abstract: "Relative representations (cosine to anchors) of a space, and comparison of two spaces through them (CKA, k-NN overlap, cross-space retrieval, Procrustes).",
        discussion: """
        Each row becomes the vector of its cosines to N anchor rows (Moschella et al., ICLR 2023); \
        with --compare, the same anchors (paired rows) are used in both spaces, so spaces of \
        different dimension can be compared without alignment. See Guides/RelativeRepresentations.md.
        Examples:
          embdiag relrep data/sentences/debian-minilm-l6.npy --anchors 300 \\
              --write rel.npy
          embdiag relrep data/sentences/debian-minilm-l6.npy \\
              --compare data/sentences/debian-minilm-l6-layer3.npy \\
              --output reports/relrep
          embdiag relrep a.npy --labels a.txt --compare b.vec --pair-by label \\
              --anchor-labels anchors.txt
          embdiag relrep old.npy --compare new.npy --require "relative_top1>=0.9" \\
              --require "cka_debiased>=0.8"
        """)

    @OptionGroup var input: InputOptions
    @OptionGroup var outputOptions: OutputOptions
    @OptionGroup var gates: GateOptions
    @OptionGroup var seedOptions: SeedOptions
    @OptionGroup var memory: MemoryBudgetOptions

    @Argument(help: "Embedding file (the reference space: anchors are chosen here).")
    var file: String

    @Option(help: "Second embedding file to compare with (any dimension).")
    var compare: String?

    @Option(help: "Labels for the --compare file (one per line).")
    var compareLabels: String?

    @Option(name: [.customLong("pair-by"), .customLong("pairs-by")], help: "Pair rows of the two files by row index or by label.")
    var pairBy: RelrepPairing = .row

    @Option(help: "--pair-by label: a label on several rows of one file is an error (default), or 'first' keeps its first row (the report counts the dropped rows).")
    var duplicates: DuplicateIdPolicy = .error

    @Option(help: "Number of anchors (default 300; with --compare: at most the paired rows − 2, the default capped to half the paired rows with a warning, and 0 for CKA, k-NN overlap and Procrustes only, no relative projection).")
    var anchors: Int?

    @Option(help: "How to choose anchors: random, farthest (farthest-point, cosine) or kmeans++.")
    var anchorStrategy: AnchorStrategy = .random

    @Option(help: "File of anchor labels, one per line (rows of the first file).")
    var anchorLabels: String?

    @Option(help: "File of anchor row indices (0-based, one per line) in the first file.")
    var anchorRows: String?

    @Option(help: "Centre on the anchor mean before the cosine (latentis Centering): auto (when a space's mean pairwise cosine exceeds --auto-center-level), anchors (always) or none (Moschella et al.'s literal projection).")
    var center: RelrepCentering = .auto

    @Option(help: "Mean pairwise cosine above which --center auto centres.", transform: DecimalNumber.option)
    var autoCenterLevel: Double = 0.3

    @Option(help: "Neighbours for k-NN Jaccard, mutual k-NN and the top-k hit rate; several comma-separated (the first is the primary k).",
            transform: PositiveIntegerList.init(parsing:))
    var k = PositiveIntegerList([5])

    @Option(help: "Query rows for k-NN and retrieval metrics (seeded sample; 0 = all rows).")
    var queries: Int = 1000

    @Option(help: "Anchor counts for the sweep, comma-separated (capped by the row count); 'none' to skip.")
    var sweep: String = Self.defaultSweep
    static let defaultSweep = RelativeRepresentationsConfiguration.defaultSweepCounts.map(String.init).joined(separator: ",")


    @Option(help: "Write the n × N relative matrix of the first file (.npy, or word2vec .bin/.txt with the row labels) plus OUT.json (anchors, settings).")
    var write: String?


    var requirements: [Requirement] { gates.requirements }
    var seed: UInt64 { seedOptions.seed }

    func validate() throws {
        if let anchors { try SettingRange.integer(anchors, "--anchors", atLeast: 0, meaning: "0 with --compare: no relative projection") }
        try SettingRange.integer(queries, "--queries", atLeast: 0, meaning: "0 = all rows")
        try SettingRange.number(autoCenterLevel, "--auto-center-level", atLeast: -1, atMost: 1)
        _ = try sweepCounts()
    }

    /// --sweep: anchor counts ≥ 1, each once, or none.
    func sweepCounts() throws -> [Int] {
        if sweep.lowercased() == "none" { return [] }
        let counts = try sweep.split(separator: ",", omittingEmptySubsequences: false).map {
            guard let c = Int($0.trimmingCharacters(in: .whitespaces)), c >= 1 else {
                throw EmbdiagError.usage("--sweep: '\($0)' is not a positive anchor count (give counts ≥ 1, comma-separated, or none)")
            }
            return c
        }
        try SettingRange.integers(counts, "--sweep", atLeast: 1)
        return counts
    }

    func makeReports() throws -> [CommandReport] {
        if let write { _ = try EmbeddingWriter.format(forOutputPath: write) }  // fail before the work
        if anchorLabels != nil && anchorRows != nil {
            throw EmbdiagError.usage("give either --anchor-labels or --anchor-rows, not both")
        }
        var configuration = RelativeRepresentationsConfiguration()
        if let anchors { configuration.anchorCount = anchors }
        configuration.anchorStrategy = anchorStrategy
        configuration.center = center
        guard autoCenterLevel.isFinite, autoCenterLevel >= -1, autoCenterLevel <= 1 else {
            throw EmbdiagError.usage("--auto-center-level must be a cosine in [-1, 1] (got \(autoCenterLevel))")
        }
        configuration.autoCenterThreshold = autoCenterLevel
        configuration.ks = k.values
        configuration.maxQueries = queries
        configuration.seed = seed
        configuration.pairing = pairBy
        configuration.duplicateLabels = duplicates
        configuration.keepRelativeMatrix = write != nil
        configuration.sweepCounts = try sweepCounts()

        let report: Report
        var written: [String] = []
        var relative: Matrix?
        var rowLabels: [String]?
        var sourceRows: [Int] = []
        var anchorRowsUsed: [Int] = []
        var anchorLabelsUsed: [String] = []
        var source: Source
        var centeredUsed = false
        if let compare {
            let reference = try input.read(file, quiet: outputOptions.quiet)
            let other = try EmbeddingReader.read(compare, options: input.readOptions(labels: compareLabels))
            try setExplicitAnchors(&configuration, fileRowCount: reference.count)
            let result = try RelativeComparison(reference: reference, other: other, configuration: configuration,
                                                invalidRows: input.onInvalid)
            report = result.report()
            relative = result.relativeMatrix
            rowLabels = result.labels
            sourceRows = result.referenceRows
            anchorRowsUsed = result.anchorRows.map { result.referenceRows[$0] }
            anchorLabelsUsed = result.anchorLabels
            centeredUsed = result.centered
            source = reference.source
        } else {
            let (e, dropped) = try input.readValidated(file, quiet: outputOptions.quiet)
            // Anchor rows refer to the file; the library maps them past dropped rows.
            try setExplicitAnchors(&configuration, fileRowCount: e.count + dropped.count)
            let result = try RelativeRepresentation(e, configuration: configuration, dropped: dropped)
            report = result.report()
            relative = result.relativeMatrix
            rowLabels = e.labels
            sourceRows = result.fileRows
            anchorRowsUsed = result.anchorFileRows
            anchorLabelsUsed = result.anchorLabels
            centeredUsed = result.centered
            source = e.source
        }
        if let write, let relative {
            try EmbeddingWriter.write(Embeddings(matrix: relative, labels: rowLabels, name: write), to: write)
            try RelativeMatrixFile.writeMetadata(to: write, anchors: anchorRowsUsed, labels: anchorLabelsUsed, sourceRows: sourceRows,
                                                 configuration: configuration, source: source, centered: centeredUsed)
            written.append("Relative matrix (\(relative.rows) × \(relative.cols), float32) written to \(write); anchors and settings in \(MappingFile.metadataPath(write)).")
        }
        return [CommandReport(report: report, written: written)]
    }

    func setExplicitAnchors(_ configuration: inout RelativeRepresentationsConfiguration, fileRowCount: Int) throws {
        if let anchorLabels {
            configuration.anchorLabels = try AnchorFile.readLabels(path: anchorLabels)
            configuration.anchorLabelsSource = anchorLabels
        }
        if let anchorRows { configuration.anchorRows = try AnchorFile.readRows(path: anchorRows, rowCount: fileRowCount) }
    }
}
