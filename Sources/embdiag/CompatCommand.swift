import ArgumentParser
import EmbeddingDiagnostics
import Foundation

extension DuplicateIdPolicy: ExpressibleByArgument {}

struct CompatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compat",
        abstract: "Backward compatibility of a NEW embedding model with an OLD one: cross-model retrieval, negative flips, neighbourhood stability, a fitted NEW → OLD mapping.",
        discussion: """
        OLD and NEW embed the same items in the same row order (dimensions may differ). New queries \
        are searched against the old gallery (no backfill) and compared with old-vs-old retrieval: \
        compatible when cross recall@1 > old recall@1 (Shen et al. 2020, strict; no_worse: ≥). --labels gives each item a \
        class (relevance = same label, own row excluded); without it an item's only relevant result \
        is its partner. See Guides/Compatibility.md.
        Examples:
          embdiag compat --old data/sentences/debian-minilm-l6-layer3.npy --new data/sentences/debian-minilm-l6.npy \\
              --labels data/sentences/debian-sections.txt --fit procrustes-scaled --output reports/compat
          embdiag compat --old old.npy --new new.npy --fit ridge:0.1 --save-mapping new-to-old.npy
          embdiag compat --old full.npy --new truncate:128 --labels classes.txt     # compression as an upgrade
          embdiag compat --old old.npy --new new.npy --require "recall_at_10_cross>=0.9"
        """)

    @OptionGroup var input: InputOptions
    @OptionGroup var outputOptions: OutputOptions

    @Option(help: "Embeddings of the items by the OLD model (the gallery already indexed).")
    var old: String

    @Option(help: "Embeddings of the same items by the NEW model, or truncate:D, int8, binary (a compressed copy of OLD).")
    var new: String

    @Option(help: "Separate queries embedded by the OLD model (needs --new-queries).")
    var oldQueries: String?

    @Option(help: "The same queries embedded by the NEW model.")
    var newQueries: String?

    @Option(help: "Class labels of the separate queries (relevance = same label as a gallery item's --labels).")
    var queryLabels: String?

    @Option(help: "Item names shown in tables (one per line, row order of OLD).")
    var names: String?

    @Option(name: .customLong("pair-by"), help: "Pair OLD and NEW rows by row index (default) or by item id (--old-ids, --new-ids).")
    var pairBy: RelrepPairing = .row

    @Option(help: "Item ids of the OLD rows (one per line), for --pair-by label.")
    var oldIds: String?

    @Option(help: "Item ids of the NEW rows (one per line), for --pair-by label.")
    var newIds: String?

    @Option(help: "--pair-by label: an id on several rows of one file is an error (default), or 'first' keeps its first row (the report counts the dropped rows).")
    var duplicates: DuplicateIdPolicy = .error

    @Option(help: "Recall cut-offs, comma-separated (capped at the gallery size).")
    var k: String = "1,10,100"

    @Option(help: "Mapping NEW → OLD: none, procrustes (centred, no scale), procrustes-scaled, rotation (uncentred), linear, linear-no-intercept, ridge, ridge:λ or ridge:auto (λ by leave-one-out error). Dimensions may differ.")
    var fit: String = "none"

    @Option(help: "Fraction of the rows the mapping is fitted on (the rest is held out for evaluation).")
    var trainFraction: Double = 0.5

    @Option(help: "Fit the mapping on these rows (one per line: an OLD row index from 0, or an item id of --names / --old-ids); every other paired row is held out. Replaces --train-fraction.")
    var trainRows: String?

    @Option(help: "λ values tried by --fit ridge:auto, comma-separated (default 25 values from 1e-3 to 1e3).")
    var ridgeGrid: String?

    @Option(help: "Least-squares rank cut-off relative to the largest singular value (numpy's rcond; default: the Float32 rounding level of the training rows).")
    var rcond: Double?

    @Option(help: "no_worse holds when cross (or mapped) recall@1 ≥ old/old recall@1 − this tolerance.")
    var noWorseTolerance: Double = 0

    @Option(help: "Item rows used as queries (seeded sample; 0 = all).")
    var queries: Int = 10_000

    @Option(help: "Neighbours for the neighbourhood-stability Jaccard.")
    var neighborK: Int = 10

    @Option(help: "Seed for the query sample, the train split and sampled pairs.")
    var seed: UInt64 = 42

    @Option(help: "An OLD cosine threshold to carry over to NEW (quantile-matched and agreement-maximising cut, reuse precision/recall; repeatable).")
    var threshold: [Double] = []

    @Option(help: "Bootstrap replicates over queries for each carried threshold's interval (0 = none).")
    var thresholdBootstrap: Int = 200

    @Option(help: "Write the fitted mapping: OUT.npy (weights) and OUT.json (bias, dims, fit, seed) for 'embdiag map'.")
    var saveMapping: String?

    @Option(help: "Exit 1 unless a metric meets a threshold, e.g. \"recall_at_10_cross>=0.9\" (repeatable).")
    var require: [String] = []

    func run() throws {
        let clock = Stopwatch()
        let requirements = try require.map(Requirement.init(parsing:))
        var configuration = CompatibilityConfiguration()
        configuration.ks = try k.split(separator: ",").map {
            guard let v = Int($0.trimmingCharacters(in: .whitespaces)), v >= 1 else {
                throw EmbdiagError.usage("--k: '\($0)' is not a positive cut-off")
            }
            return v
        }
        configuration.fit = try MappingFit(parsing: fit)
        configuration.trainFraction = trainFraction
        configuration.noWorseTolerance = noWorseTolerance
        if let rcond {
            guard rcond.isFinite, rcond >= 0, rcond < 1 else { throw EmbdiagError.usage("--rcond must be in [0, 1) (got \(rcond))") }
            configuration.rcond = rcond
        }
        if let ridgeGrid {
            configuration.ridgeGrid = try ridgeGrid.split(separator: ",").map {
                guard let v = Double($0.trimmingCharacters(in: .whitespaces)), v.isFinite, v > 0 else {
                    throw EmbdiagError.usage("--ridge-grid: '\($0)' is not a positive number")
                }
                return v
            }
        }
        if trainRows != nil && configuration.fit == .none { throw EmbdiagError.usage("--train-rows needs --fit") }
        configuration.maxQueries = queries
        configuration.neighborK = neighborK
        configuration.seed = seed
        guard threshold.allSatisfy({ $0.isFinite && $0 >= -1 && $0 <= 1 }) else {
            throw EmbdiagError.usage("--threshold must be a cosine in [-1, 1] (got \(threshold.map { String($0) }.joined(separator: ", ")))")
        }
        guard thresholdBootstrap >= 0 else { throw EmbdiagError.usage("--threshold-bootstrap must be 0 or more (got \(thresholdBootstrap))") }
        configuration.thresholds = threshold
        configuration.thresholdBootstrap = thresholdBootstrap
        if let saveMapping {
            guard configuration.fit != .none else { throw EmbdiagError.usage("--save-mapping needs --fit procrustes, rotation, linear or ridge") }
            guard URL(fileURLWithPath: saveMapping).pathExtension.lowercased() == "npy" else {
                throw EmbdiagError.usage("\(saveMapping): --save-mapping writes a .npy file (plus its .json metadata)")
            }
        }
        if (oldQueries == nil) != (newQueries == nil) {
            throw EmbdiagError.usage("give both --old-queries and --new-queries (the same queries embedded by each model)")
        }

        // Read, pair (row order or item ids), then validate the pairs: a row is dropped from both
        // files when either side is NaN/Inf or all-zero (--on-invalid drop).
        var oldE = try input.read(old, withLabels: false, quiet: outputOptions.quiet)
        let oldRowCount = oldE.count
        let compression = try Compression.parse(new)
        var newE: Embeddings
        if let compression {
            guard pairBy == .row else { throw EmbdiagError.usage("--new \(compression) derives NEW from OLD row by row; --pair-by label does not apply") }
            newE = Embeddings(matrix: try compression.apply(oldE.matrix), name: "\(old) [\(compression)]")
        } else {
            newE = try input.read(new, withLabels: false, quiet: outputOptions.quiet)
        }
        var labels = try input.labels.map { try LabelsFile.read($0, expectedCount: oldE.count, matrixPath: old) }
        if let l = labels, oldQueries == nil, Set(l).count == l.count {
            throw EmbdiagError.invalid(input.labels!, "all \(l.count) labels are unique, so no query has a relevant row (--labels gives classes: relevance = same label, own row excluded). To pair OLD and NEW rows by item id use --pair-by label --old-ids FILE --new-ids FILE")
        }
        var itemNames = try names.map { try LabelsFile.read($0, expectedCount: oldE.count, matrixPath: old) }
        if pairBy == .label {
            guard let oldIds, let newIds else { throw EmbdiagError.usage("--pair-by label needs --old-ids and --new-ids (one item id per row)") }
            oldE.labels = try LabelsFile.read(oldIds, expectedCount: oldE.count, matrixPath: old)
            newE.labels = try LabelsFile.read(newIds, expectedCount: newE.count, matrixPath: new)
            if itemNames == nil { itemNames = oldE.labels }
        }
        var pairingNote: String?
        let rowsOld: [Int], rowsNew: [Int]
        if pairBy == .label {
            let pairing = try IdPairing(idsA: oldE.labels!, idsB: newE.labels!, nameA: oldIds!, nameB: newIds!, duplicates: duplicates)
            (rowsOld, rowsNew) = (pairing.rowsA, pairing.rowsB)
            pairingNote = pairing.summary(nameA: "OLD", nameB: "NEW", rowsInA: oldE.count, rowsInB: newE.count)
        } else {
            (rowsOld, rowsNew) = try pairBy.pairRows(oldE, newE)
        }
        guard rowsOld.count >= 2 else {
            throw EmbdiagError.mismatch(new, "only \(rowsOld.count) items paired with \(old) by id; need at least 2")
        }
        var keep = Array(0..<rowsOld.count)
        var dropped: [(row: Int, label: String?, reason: String)] = []
        let checkOld = ValidationSummary(oldE), checkNew = ValidationSummary(newE)
        if !checkOld.isClean || !checkNew.isClean {
            let badOld = Set(checkOld.nonFiniteRows + checkOld.zeroRows), badNew = Set(checkNew.nonFiniteRows + checkNew.zeroRows)
            keep = keep.filter { !badOld.contains(rowsOld[$0]) && !badNew.contains(rowsNew[$0]) }
            if input.onInvalid == .error || keep.count < 2 {
                // Same one-line error as every analyzer.
                _ = try oldE.requiringFiniteNonZeroRows(policy: .error)
                _ = try newE.requiringFiniteNonZeroRows(policy: .error)
            }
            let kept = Set(keep)
            dropped = (0..<rowsOld.count).filter { !kept.contains($0) }.map {
                (row: rowsOld[$0], label: itemNames?[rowsOld[$0]], reason: badOld.contains(rowsOld[$0]) ? "NaN/Inf or all-zero in OLD" : "NaN/Inf or all-zero in NEW")
            }
        }
        let selOld = keep.map { rowsOld[$0] }, selNew = keep.map { rowsNew[$0] }
        if selOld != Array(0..<oldE.count) { oldE = oldE.selecting(rows: selOld) }
        if selNew != Array(0..<newE.count) { newE = newE.selecting(rows: selNew) }
        labels = labels.map { l in selOld.map { l[$0] } }
        itemNames = itemNames.map { l in selOld.map { l[$0] } }
        if let trainRows {
            configuration.trainRows = try Self.readTrainRows(trainRows, pairedOldRows: selOld, oldRowCount: oldRowCount, ids: itemNames)
        }
        oldE.labels = itemNames
        newE.labels = nil
        var oq: Embeddings?, nq: Embeddings?, ql: [String]?
        if let oldQueries, let newQueries {
            oq = try input.readValidated(oldQueries, withLabels: false, quiet: true).embeddings
            nq = try input.readValidated(newQueries, withLabels: false, quiet: true).embeddings
            ql = try queryLabels.map { try LabelsFile.read($0, expectedCount: oq!.count, matrixPath: oldQueries) }
        }
        let analysis = try CompatibilityAnalysis(
            CompatibilityInputs(old: oldE, new: newE, oldQueries: oq, newQueries: nq, labels: labels, queryLabels: ql, compression: compression),
            configuration: configuration)
        var report = analysis.report()
        if !dropped.isEmpty {
            report.tables.append(ReportTable(name: "dropped_rows", title: "Pairs dropped (--on-invalid drop); row = OLD row", columns: ["row", "label", "reason"],
                                             rows: dropped.map { [.int($0.row), $0.label.map { .string($0) } ?? .null, .string($0.reason)] }))
        }
        if let pairingNote {
            report.notes.append(pairingNote + (oldE.count != rowsOld.count ? " \(oldE.count) pairs after validation." : ""))
            report.metrics.append(ReportMetric("paired_rows", "items paired by id (before validation)", .int(rowsOld.count)))
        }
        if let saveMapping, let m = analysis.mapping {
            let extra: [String: Any] = [
                "direction": "new_to_old", "seed": Int(truncatingIfNeeded: seed),
                "train_split": trainRows.map { "explicit: \($0)" } ?? "train_fraction \(trainFraction)",
                "train_rows": m.trainRows.count, "heldout_rows": m.heldOutRows.count,
                "heldout_recall_at_1_mapped": m.mapped.recall[0], "heldout_recall_at_1_old": m.old.recall[0],
                "old": ["path": oldE.source.path, "sha256": oldE.source.sha256 ?? NSNull(), "dim": oldE.dimension] as [String: Any],
                "new": ["path": newE.source.path, "sha256": newE.source.sha256 ?? NSNull(), "dim": newE.dimension] as [String: Any],
            ]
            try MappingFile.write(m.map, to: saveMapping, extra: extra)
            report.notes.append("Mapping (\(m.map.inputDimension) × \(m.map.outputDimension), \(m.map.fit)) written to \(saveMapping); bias and settings in \(MappingFile.metadataPath(saveMapping)). Apply with: embdiag map --mapping \(saveMapping) IN OUT")
        }
        try outputOptions.emit(report, checking: requirements, elapsedSeconds: clock.seconds)
    }

    /// `--train-rows FILE`: one row per line, an OLD row index (0-based, in the file) or an item id
    /// (--names / --old-ids); returned as positions among the paired, validated items.
    static func readTrainRows(_ path: String, pairedOldRows: [Int], oldRowCount: Int, ids: [String]?) throws -> [Int] {
        guard let data = FileManager.default.contents(atPath: path) else { throw EmbdiagError.io(path, "cannot read the file") }
        guard let text = String(data: data, encoding: .utf8) else { throw EmbdiagError.malformed(path, "not UTF-8 text") }
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
        guard !lines.isEmpty else { throw EmbdiagError.invalid(path, "no training rows") }
        var position: [Int: Int] = [:]
        for (p, r) in pairedOldRows.enumerated() { position[r] = p }
        let numeric = lines.allSatisfy { Int($0) != nil }
        var idRow: [String: Int] = [:]
        if !numeric {
            guard let ids else { throw EmbdiagError.invalid(path, "'\(lines.first { Int($0) == nil }!)' is not a row index; item ids need --names or --old-ids") }
            for (p, id) in ids.enumerated() where idRow[id] == nil { idRow[id] = pairedOldRows[p] }
        }
        return try lines.enumerated().map { (number, line) in
            let fileRow: Int
            if numeric {
                fileRow = Int(line)!
                guard fileRow >= 0 && fileRow < oldRowCount else {
                    throw EmbdiagError.invalid(path, "line \(number + 1): row \(fileRow) is outside OLD's \(oldRowCount) rows")
                }
            } else {
                guard let r = idRow[line] else { throw EmbdiagError.invalid(path, "line \(number + 1): no paired item with id '\(line)'") }
                fileRow = r
            }
            guard let p = position[fileRow] else {
                throw EmbdiagError.invalid(path, "line \(number + 1): OLD row \(fileRow) has no valid partner in NEW (dropped or unpaired)")
            }
            return p
        }
    }
}
