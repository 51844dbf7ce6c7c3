import ArgumentParser
import EmbeddingDiagnostics
import Foundation

extension AnchorStrategy: ExpressibleByArgument {}
extension RelrepPairing: ExpressibleByArgument {}
extension RelrepCentering: ExpressibleByArgument {}

struct RelrepCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "relrep",
        abstract: "Relative representations (cosine to anchors) of a space, and comparison of two spaces through them (CKA, k-NN overlap, cross-space retrieval, Procrustes).",
        discussion: """
        Each row becomes the vector of its cosines to N anchor rows (Moschella et al., ICLR 2023); \
        with --compare, the same anchors (paired rows) are used in both spaces, so spaces of \
        different dimension can be compared without alignment. See Guides/RelativeRepresentations.md.
        Examples:
          embdiag relrep data/sentences/debian-minilm-l6.npy --anchors 300 --write rel.npy
          embdiag relrep data/sentences/debian-minilm-l6.npy \\
              --compare data/sentences/debian-minilm-l6-layer3.npy --output reports/relrep
          embdiag relrep a.npy --labels a.txt --compare b.vec --pair-by label --anchor-labels anchors.txt
          embdiag relrep old.npy --compare new.npy --require "relative_top1>=0.9" --require "cka_debiased>=0.8"
        """)

    @OptionGroup var input: InputOptions
    @OptionGroup var outputOptions: OutputOptions

    @Argument(help: "Embedding file (the reference space: anchors are chosen here).")
    var file: String

    @Option(help: "Second embedding file to compare with (any dimension).")
    var compare: String?

    @Option(help: "Labels for the --compare file (one per line).")
    var compareLabels: String?

    @Option(name: [.customLong("pair-by"), .customLong("pairs-by")], help: "Pair rows of the two files by row index or by label.")
    var pairBy: RelrepPairing = .row

    @Option(help: "Number of anchors (0 with --compare: CKA, k-NN overlap and Procrustes only, no relative projection).")
    var anchors: Int = 300

    @Option(help: "How to choose anchors: random, farthest (farthest-point, cosine) or kmeans++.")
    var anchorStrategy: AnchorStrategy = .random

    @Option(help: "File of anchor labels, one per line (rows of the first file).")
    var anchorLabels: String?

    @Option(help: "File of anchor row indices (0-based, one per line) in the first file.")
    var anchorRows: String?

    @Option(help: "Centre on the anchor mean before the cosine (latentis Centering): auto (when a space's mean pairwise cosine exceeds --auto-center-level), anchors (always) or none (Moschella et al.'s literal projection).")
    var center: RelrepCentering = .auto

    @Option(help: "Mean pairwise cosine above which --center auto centres.")
    var autoCenterLevel: Double = 0.3

    @Option(help: "Neighbours for k-NN Jaccard, mutual k-NN and the top-k hit rate; several comma-separated (the first is the primary k).")
    var k: String = "5"

    @Option(help: "Query rows for k-NN and retrieval metrics (seeded sample; 0 = all rows).")
    var queries: Int = 1000

    @Option(help: "Anchor counts for the sweep, comma-separated (capped by the row count); 'none' to skip.")
    var sweep: String = "10,50,100,300,1000"

    @Option(help: "Seed for anchor and query sampling.")
    var seed: UInt64 = 42

    @Option(help: "Write the n × N relative matrix of the first file (.npy, or word2vec .bin/.txt with the row labels) plus OUT.json (anchors, settings).")
    var write: String?

    @Option(help: "Exit 1 unless a metric meets a threshold, e.g. \"relative_top1>=0.9\" (repeatable).")
    var require: [String] = []

    func run() throws {
        let clock = Stopwatch()
        let requirements = try require.map(Requirement.init(parsing:))
        if let write { _ = try EmbeddingWriter.format(forOutputPath: write) }  // fail before the work
        if anchorLabels != nil && anchorRows != nil {
            throw EmbdiagError.usage("give either --anchor-labels or --anchor-rows, not both")
        }
        var configuration = RelativeRepresentationsConfiguration()
        configuration.anchorCount = anchors
        configuration.anchorStrategy = anchorStrategy
        configuration.center = center
        guard autoCenterLevel.isFinite, autoCenterLevel >= -1, autoCenterLevel <= 1 else {
            throw EmbdiagError.usage("--auto-center-level must be a cosine in [-1, 1] (got \(autoCenterLevel))")
        }
        configuration.autoCenterThreshold = autoCenterLevel
        configuration.ks = try k.split(separator: ",").map {
            guard let v = Int($0.trimmingCharacters(in: .whitespaces)), v >= 1 else { throw EmbdiagError.usage("--k: '\($0)' is not a positive integer") }
            return v
        }
        guard !configuration.ks.isEmpty else { throw EmbdiagError.usage("--k needs at least one value") }
        configuration.maxQueries = queries
        configuration.seed = seed
        configuration.pairing = pairBy
        configuration.keepRelativeMatrix = write != nil
        if sweep.lowercased() == "none" || sweep.isEmpty {
            configuration.sweepCounts = []
        } else {
            configuration.sweepCounts = try sweep.split(separator: ",").map {
                guard let c = Int($0.trimmingCharacters(in: .whitespaces)), c >= 1 else {
                    throw EmbdiagError.usage("--sweep: '\($0)' is not a positive anchor count")
                }
                return c
            }
        }

        var report: Report
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
            configuration.anchorRows = try explicitAnchors(reference)
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
            if let anchorRows, !dropped.isEmpty {
                // Anchor rows refer to the file; map them past the dropped rows.
                let droppedRows = Set(dropped.map(\.row))
                let kept = (0..<(e.count + dropped.count)).filter { !droppedRows.contains($0) }
                var position: [Int: Int] = [:]
                for (p, r) in kept.enumerated() { position[r] = p }
                let rows = try readAnchorRows(path: anchorRows, rowCount: e.count + dropped.count)
                if let bad = rows.first(where: { position[$0] == nil }) {
                    throw EmbdiagError.invalid(anchorRows, "anchor row \(bad) was dropped (NaN/Inf or zero row in \(file))")
                }
                configuration.anchorRows = rows.map { position[$0]! }
            } else {
                configuration.anchorRows = try explicitAnchors(e)
            }
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
        if configuration.anchorRows == nil, anchorRowsUsed.count < anchors {
            report.warn(ParameterCap(parameter: "--anchors", asked: anchors, used: anchorRowsUsed.count, reason: "there are only \(anchorRowsUsed.count) usable rows").message)
        }
        if let write, let relative {
            try EmbeddingWriter.write(Embeddings(matrix: relative, labels: rowLabels, name: write), to: write)
            try writeMetadata(to: write, anchors: anchorRowsUsed, labels: anchorLabelsUsed, sourceRows: sourceRows, configuration: configuration, source: source, centered: centeredUsed)
            report.notes.append("Relative matrix (\(relative.rows) × \(relative.cols), float32) written to \(write); anchors and settings in \(metadataPath(write)).")
        }
        try outputOptions.emit(report, checking: requirements, elapsedSeconds: clock.seconds)
    }

    func explicitAnchors(_ e: Embeddings) throws -> [Int]? {
        if let anchorLabels { return try readAnchorLabels(path: anchorLabels, embeddings: e) }
        if let anchorRows { return try readAnchorRows(path: anchorRows, rowCount: e.count) }
        return nil
    }

    func metadataPath(_ out: String) -> String { MappingFile.metadataPath(out) }

    /// `sourceRows`: the input row of each written row, recorded when it is not simply 0..<n
    /// (dropped rows, label pairing).
    func writeMetadata(to out: String, anchors: [Int], labels: [String], sourceRows: [Int], configuration c: RelativeRepresentationsConfiguration, source: Source, centered: Bool) throws {
        var metadata: [String: Any] = [
            "kind": "relative_projection", "projection": "cosine", "centering": centered, "center": c.center.rawValue,
            "anchor_rows": anchors, "anchor_labels": labels, "anchor_strategy": c.anchorRows == nil ? c.anchorStrategy.rawValue : "explicit",
            "seed": Int(truncatingIfNeeded: c.seed), "tool": "embdiag", "version": embdiagVersion,
            "input": ["path": source.path, "rows": source.rows, "dim": source.dim, "sha256": source.sha256 ?? NSNull()] as [String: Any],
        ]
        if sourceRows != Array(0..<sourceRows.count) || sourceRows.count != source.rows { metadata["source_rows"] = sourceRows }
        let data = try JSONSerialization.data(withJSONObject: metadata, options: [.prettyPrinted, .sortedKeys])
        try AtomicFile.write(data, to: metadataPath(out))
    }
}
