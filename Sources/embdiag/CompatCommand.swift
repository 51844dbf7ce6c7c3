import ArgumentParser
import EmbeddingDiagnostics
import Foundation

extension DuplicateIdPolicy: ExpressibleByArgument {}

struct CompatCommand: ReportingCommand {
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
          embdiag compat --old data/sentences/debian-minilm-l6-layer3.npy \\
              --new data/sentences/debian-minilm-l6.npy \\
              --labels data/sentences/debian-sections.txt --fit procrustes-scaled \\
              --output reports/compat
          embdiag compat --old old.npy --new new.npy --fit ridge:0.1 \\
              --save-mapping new-to-old.npy
          # Drift-Adapter adapters, every family side by side, and the training-size curve
          embdiag compat --old old.npy --new new.npy --fit auto \\
              --fit-curve 50,100,200,400 --save-mapping adapter.npy
          # compression as an upgrade
          embdiag compat --old full.npy --new truncate:128 --labels classes.txt
          embdiag compat --old old.npy --new new.npy \\
              --require "recall_at_10_cross>=0.9"
          # no paired rows: a map found from different texts on each side; rows whose ids
          # occur in both files judge it (none shared: the map cannot be judged)
          embdiag compat --old old.npy --new new.npy --fit unpaired \\
              --pair-by label --old-ids old-ids.txt --new-ids new-ids.txt
        """)

    @OptionGroup var input: InputOptions
    @OptionGroup var outputOptions: OutputOptions
    @OptionGroup var gates: GateOptions
    @OptionGroup var seedOptions: SeedOptions
    @OptionGroup var partialOptions: PartialOptions
    @OptionGroup var memory: MemoryBudgetOptions

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

    @Option(help: "Recall cut-offs, comma-separated (capped at the gallery size).", transform: PositiveIntegerList.init(parsing:))
    var k = PositiveIntegerList([1, 10, 100])

    @Option(help: "Mapping NEW → OLD: none, procrustes (centred, no scale), procrustes-scaled, rotation (uncentred), linear, linear-no-intercept, ridge, ridge:λ, ridge:auto (λ by leave-one-out error), low-rank[:R] (Drift-Adapter low-rank affine + diagonal, default R 64), mlp[:H] (residual MLP, default H 256), auto (every family, best validation MRR) or unpaired (a rotation found WITHOUT paired rows, from the rows whose id is in one file only; rows with ids in both files judge it; equal dimensions, at least 200 such rows per side). Dimensions may differ for the others.",
            transform: MappingFit.init(parsing:))
    var fit: MappingFit = .none

    @Option(help: "Training-set sizes for the 'how many paired rows do I need?' curve, comma-separated (e.g. 50,100,200,400): refits --fit (every family with auto) on nested subsets of the training rows.",
            transform: PositiveIntegerList.init(parsing:))
    var fitCurve: PositiveIntegerList?

    @Option(help: "Fraction of the rows the mapping is fitted on (the rest is held out for evaluation).", transform: DecimalNumber.option)
    var trainFraction: Double?

    @Option(help: "Fit the mapping on these rows (one per line: an OLD row index from 0, or an item id of --names / --old-ids); every other paired row is held out. Replaces --train-fraction.")
    var trainRows: String?

    @Option(help: "λ values tried by --fit ridge:auto, comma-separated (default 25 values from 1e-3 to 1e3).",
            transform: { text in
                try text.split(separator: ",").map {
                    guard let v = DecimalNumber.parse($0), v > 0 else {
                        throw ValidationError("'\($0)' is not a positive number")
                    }
                    return v
                }
            })
    var ridgeGrid: [Double]?

    @Option(help: "Least-squares rank cut-off relative to the largest singular value (numpy's rcond; default: the Float32 rounding level of the training rows).", transform: DecimalNumber.option)
    var rcond: Double?

    @Option(help: "no_worse holds when cross (or mapped) recall@1 ≥ old/old recall@1 − this tolerance.", transform: DecimalNumber.option)
    var noWorseTolerance: Double = 0

    @Option(help: "Item rows used as queries (seeded sample; 0 = all).")
    var queries: Int = 10_000

    @Option(help: "Neighbours for the neighbourhood-stability Jaccard.")
    var neighborK: Int = 10

    @Flag(help: "Only the retrieval metrics (recall@k, MRR, mAP, negative flips): skips neighbourhood stability, pair similarities, thresholds and score shifts — two fewer query × gallery passes.")
    var retrievalOnly = false

    @Option(help: "An OLD cosine threshold to carry over to NEW (quantile-matched and agreement-maximising cut, reuse precision/recall; repeatable).", transform: DecimalNumber.option)
    var threshold: [Double] = []

    @Option(help: "Bootstrap replicates over queries for each carried threshold's interval (0 = none).")
    var thresholdBootstrap: Int = 200

    @Option(help: "Write the fitted mapping: OUT.npy (weights) and OUT.json (bias, dims, fit, seed) for 'embdiag map'.")
    var saveMapping: String?


    var requirements: [Requirement] { gates.requirements }
    var writesState: Bool { partialOptions.isActive }
    var seed: UInt64 { seedOptions.seed }

    func validate() throws {
        try validatePartial()
        if let rcond, !(rcond.isFinite && rcond >= 0 && rcond < 1) { throw ValidationError("--rcond must be in [0, 1) (got \(rcond))") }
        if trainRows != nil && fit == .none { throw ValidationError("--train-rows needs --fit") }
        if let fitCurve {
            guard fit != .none else { throw ValidationError("--fit-curve needs --fit") }
            if let twice = fitCurve.values.first(where: { v in fitCurve.values.filter { $0 == v }.count > 1 }) { throw ValidationError("--fit-curve lists \(twice) twice") }
            guard fitCurve.values.allSatisfy({ $0 >= 2 }) else { throw ValidationError("--fit-curve sizes must be ≥ 2 training rows") }
        }
        guard threshold.allSatisfy({ $0.isFinite && $0 >= -1 && $0 <= 1 }) else {
            throw ValidationError("--threshold must be a cosine in [-1, 1] (got \(threshold.map { String($0) }.joined(separator: ", ")))")
        }
        try SettingRange.integer(thresholdBootstrap, "--threshold-bootstrap", atLeast: 0, meaning: "0 = no interval")
        try SettingRange.integer(queries, "--queries", atLeast: 0, meaning: "0 = all rows")
        try SettingRange.integer(neighborK, "--neighbor-k", atLeast: 1)
        if let trainFraction { try SettingRange.number(trainFraction, "--train-fraction", above: 0, below: 1) }
        if fit == .unpaired {
            // Options that size or split a fit on pairs: --fit unpaired has no pairs to fit on.
            let refused: [(Bool, String)] = [(trainFraction != nil, "--train-fraction"), (trainRows != nil, "--train-rows"),
                                             (fitCurve != nil, "--fit-curve"), (rcond != nil, "--rcond"), (ridgeGrid != nil, "--ridge-grid"),
                                             (oldQueries != nil || newQueries != nil, "--old-queries/--new-queries"),
                                             (input.labels != nil, "--labels"), (partialOptions.isActive, "--partial")]
            if let (_, option) = refused.first(where: { $0.0 }) {
                throw ValidationError("--fit unpaired cannot honour \(option): the map is found from the rows without a partner and judged by identity on the rows whose ids occur in both files")
            }
        }
        try SettingRange.number(noWorseTolerance, "--no-worse-tolerance", atLeast: 0, below: 1)
        if let ridgeGrid {
            guard !ridgeGrid.isEmpty else { throw ValidationError("--ridge-grid needs at least one λ") }
            if let twice = ridgeGrid.first(where: { v in ridgeGrid.filter { $0 == v }.count > 1 }) { throw ValidationError("--ridge-grid lists \(twice) twice") }
        }
        if retrievalOnly && !threshold.isEmpty {
            throw ValidationError("--threshold needs the similarity agreement that --retrieval-only skips; drop one of them")
        }
        if let saveMapping {
            guard fit != .none else { throw ValidationError("--save-mapping needs --fit (procrustes, rotation, linear, ridge, low-rank, mlp or auto)") }
            guard URL(fileURLWithPath: saveMapping).pathExtension.lowercased() == "npy" else {
                throw ValidationError("\(saveMapping): --save-mapping writes a .npy file (plus its .json metadata)")
            }
        }
        if (oldQueries == nil) != (newQueries == nil) {
            throw ValidationError("give both --old-queries and --new-queries (the same queries embedded by each model)")
        }
    }

    func makeReports() throws -> [CommandReport] {
        var configuration = CompatibilityConfiguration()
        configuration.ks = k.values
        configuration.fit = fit
        configuration.fitCurve = fitCurve?.values.sorted() ?? []
        if let trainFraction { configuration.trainFraction = trainFraction }
        configuration.noWorseTolerance = noWorseTolerance
        if let rcond { configuration.rcond = rcond }
        if let ridgeGrid { configuration.ridgeGrid = ridgeGrid }
        configuration.maxQueries = queries
        configuration.neighborK = neighborK
        configuration.seed = seed
        configuration.thresholds = threshold
        configuration.thresholdBootstrap = thresholdBootstrap
        configuration.retrievalOnly = retrievalOnly
        if partialOptions.isActive { try runPartial(configuration); return [] }  // a state file, no report

        // Read; the library pairs (row order or item ids) and validates the pairs: a row is
        // dropped from both files when either side is NaN/Inf or all-zero (--on-invalid drop).
        let oldE = try input.read(old, withLabels: false, quiet: outputOptions.quiet)
        let compression = try Compression.parse(new)
        let newE: Embeddings
        if let compression {
            guard pairBy == .row else { throw EmbdiagError.usage("--new \(compression) derives NEW from OLD row by row; --pair-by label does not apply") }
            newE = Embeddings(matrix: try compression.apply(oldE.matrix), name: "\(old) [\(compression)]")
        } else {
            newE = try input.read(new, withLabels: false, quiet: outputOptions.quiet)
        }
        var request = CompatibilityRequest(old: oldE, new: newE, invalidRows: input.onInvalid, compression: compression)
        request.labels = try input.labels.map { try LabelsFile.read($0, expectedCount: oldE.count, matrixPath: old) }
        request.labelsSource = input.labels
        request.itemNames = try names.map { try LabelsFile.read($0, expectedCount: oldE.count, matrixPath: old) }
        if pairBy == .label {
            guard let oldIds, let newIds else { throw EmbdiagError.usage("--pair-by label needs --old-ids and --new-ids (one item id per row)") }
            let idsOld = try LabelsFile.read(oldIds, expectedCount: oldE.count, matrixPath: old)
            let idsNew = try LabelsFile.read(newIds, expectedCount: newE.count, matrixPath: new)
            if request.itemNames == nil { request.itemNames = idsOld }
            request.pairing = .itemIds(first: idsOld, second: idsNew, sources: (oldIds, newIds), duplicates: duplicates)
        }
        request.trainRows = try trainRows.map(TrainRowsList.read)
        if let oldQueries, let newQueries {
            let oq = try input.readValidated(oldQueries, withLabels: false, quiet: true).embeddings
            request.oldQueries = oq
            request.newQueries = try input.readValidated(newQueries, withLabels: false, quiet: true).embeddings
            request.queryLabels = try queryLabels.map { try LabelsFile.read($0, expectedCount: oq.count, matrixPath: oldQueries) }
        }
        let run = try CompatibilityRun(request, configuration: configuration)
        var written: [String] = []
        if let saveMapping {
            let saved: (map: FittedMapping, extra: [String: Any])?
            if let m = run.analysis?.mapping {
                let split = m.unpaired != nil ? "unpaired: found without pairs, every shared row held out"
                    : trainRows.map { "explicit: \($0)" } ?? "train_fraction \(configuration.trainFraction)"
                var extra = m.savedMetadata(seed: seed, trainSplit: split, old: run.oldSource, new: run.newSource)
                if let u = m.unpaired { extra.merge(u.savedMetadata()) { a, _ in a } }
                saved = (m.map, extra)
            } else if let u = run.unpaired {
                saved = (.linear(u.map), u.savedMetadata().merging([
                    "direction": "new_to_old", "seed": Int(truncatingIfNeeded: seed), "train_split": "unpaired: found without pairs, no shared rows (not judged)",
                    "old": ["path": run.oldSource.path, "sha256": run.oldSource.sha256 ?? NSNull(), "dim": run.oldSource.dim] as [String: Any],
                    "new": ["path": run.newSource.path, "sha256": run.newSource.sha256 ?? NSNull(), "dim": run.newSource.dim] as [String: Any],
                ]) { a, _ in a })
            } else {
                saved = nil
            }
            if let (map, extra) = saved {
                try MappingFile.write(map, to: saveMapping, extra: extra)
                written.append("Mapping (\(map.inputDimension) → \(map.outputDimension), \(map.fit)) written to \(saveMapping); bias and settings in \(MappingFile.metadataPath(saveMapping)). Apply with: embdiag map --mapping \(saveMapping) IN OUT")
            }
        }
        return [CommandReport(report: run.report, written: written)]
    }
}
