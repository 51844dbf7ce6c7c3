import Foundation

/// Settings of the backward-compatibility check. Guide: Guides/Compatibility.md.
public struct CompatibilityConfiguration: Sendable {
    /// Cut-offs for recall@k (capped at the gallery size).
    public var ks: [Int] = [1, 10, 100]
    public var fit: MappingFit = .none
    /// Fraction of the paired rows the mapping is fitted on; the rest is held out for evaluation.
    public var trainFraction: Double = 0.5
    /// Explicit training rows (indices of the paired items) for the mapping; the other rows are
    /// held out. nil = a seeded split by `trainFraction`.
    public var trainRows: [Int]?
    /// Ridge penalties tried by `--fit ridge:auto` (exact leave-one-out / GCV error).
    public var ridgeGrid: [Double] = MappingFit.defaultRidgeGrid
    /// Least-squares rank cut-off (`--rcond`): nil = the Float32 rounding level of the inputs.
    public var rcond: Double?
    /// Optimiser and early-stopping settings of the adapters (`low-rank`, `mlp`).
    public var adapterSettings = AdapterTrainingSettings()
    /// Training-set sizes of the "how many paired rows do I need?" curve (`--fit-curve`); each
    /// size fits the chosen family (every family with `auto`) on that many training rows.
    public var fitCurve: [Int] = []
    /// `no_worse` holds when the margin is ≥ −`noWorseTolerance` (default 0: recall values are
    /// ratios of query counts computed the same way, so equal counts give equal numbers).
    public var noWorseTolerance: Double = 0
    public var seed: UInt64 = 42
    /// Neighbours for the neighbourhood-stability Jaccard (`knn_overlap_at_10`).
    public var neighborK: Int = 10
    /// Query rows sampled (seeded) from the items when no separate query files are given; 0 = all.
    public var maxQueries: Int = 10_000
    /// Pairs for the similarity Spearman and the Biondi constraints: all pairs when
    /// n(n−1)/2 ≤ `maxPairs`, else a seeded sample of `sampledPairs` pairs.
    public var maxPairs: Int = 2_000_000
    public var sampledPairs: Int = 200_000
    /// Rows in the "changed most" table.
    public var changedRowsShown: Int = 20
    /// OLD similarity thresholds to carry over to NEW (Guides/Compatibility.md "Thresholds").
    public var thresholds: [Double] = []
    /// Bootstrap replicates (over query rows) for each carried threshold's interval; 0 = none.
    public var thresholdBootstrap: Int = 200
    /// Compute only the retrieval metrics (recall@k, MRR, mAP, negative flips in every direction):
    /// no `SimilarityAgreement` (neighbourhood stability, pair similarities, thresholds, score
    /// shifts), which costs two more query × gallery passes and needs the whole gallery on one
    /// machine. The retrieval numbers are the same as in a full run.
    public var retrievalOnly: Bool = false
    /// Settings of `--fit unpaired` (`UnpairedAlignment`).
    public var unpairedSettings = UnpairedAlignmentSettings()
    /// `--fit unpaired`: the map found from the rows without a partner (`CompatibilityRun` finds
    /// it before the analysis); every paired row is then held out to judge it.
    var unpairedAlignment: UnpairedAlignment?

    public init() {}
}

/// What the user gave: the two galleries (same items, same row order), optional separate query sets
/// and relevance labels. `names` (optional) are shown in tables.
public struct CompatibilityInputs: Sendable {
    public var old: Embeddings
    public var new: Embeddings
    public var oldQueries: Embeddings?
    public var newQueries: Embeddings?
    /// One class label per gallery row: relevance = same label (nil = the paired item itself).
    public var labels: [String]?
    /// One class label per query row (separate queries only).
    public var queryLabels: [String]?
    /// Set when NEW was derived from OLD (`--new int8` …).
    public var compression: Compression?

    public init(old: Embeddings, new: Embeddings, oldQueries: Embeddings? = nil, newQueries: Embeddings? = nil,
                labels: [String]? = nil, queryLabels: [String]? = nil, compression: Compression? = nil) {
        self.old = old
        self.new = new
        self.oldQueries = oldQueries
        self.newQueries = newQueries
        self.labels = labels
        self.queryLabels = queryLabels
        self.compression = compression
    }
}

extension CompatibilityInputs {
    /// The checks on separate query files that the single run and `compat --partial` share: both
    /// files hold the same number of queries, each in its model's dimension, and with `labels`
    /// every query has a label.
    func checkQueryFiles(_ oq: Embeddings, _ nq: Embeddings) throws {
        guard oq.count == nq.count else {
            throw EmbdiagError.mismatch(nq.source.path, "has \(nq.count) rows but \(oq.source.path) has \(oq.count); the query files must hold the same queries")
        }
        guard oq.dimension == old.dimension else {
            throw EmbdiagError.mismatch(oq.source.path, "has \(oq.dimension) dimensions but OLD \(old.source.path) has \(old.dimension)")
        }
        guard nq.dimension == new.dimension else {
            throw EmbdiagError.mismatch(nq.source.path, "has \(nq.dimension) dimensions but NEW \(new.source.path) has \(new.dimension)")
        }
        if labels != nil {
            guard let ql = queryLabels else { throw EmbdiagError.usage("\(Setting.labels) with separate queries needs \(Setting.queryLabels)") }
            guard ql.count == oq.count else { throw EmbdiagError.mismatch(nil, "\(ql.count) query labels for \(oq.count) query rows") }
        }
    }
}

/// Retrieval quality of one (query model, gallery model) combination. Every value is tie-aware:
/// the expected value over the orderings of exactly tied scores (McSherry & Najork 2008).
public struct RetrievalSummary: Sendable {
    /// "old" (old→old), "new" (new→new), "cross" (new queries → old gallery), "mapped".
    public internal(set) var name: String
    public internal(set) var ks: [Int]
    /// Per query (in query order): the tied block of its first relevant row (nil = none relevant).
    public internal(set) var firstRanks: [TiedFirstRank?]
    /// Per query: expected average precision (NaN = none relevant).
    public internal(set) var averagePrecisions: [Double]
    /// Queries that have at least one relevant gallery row (the ones averaged over).
    public internal(set) var evaluated: Int
    /// Expected recall@k per k of `ks`.
    public internal(set) var recall: [Double]
    /// Expected recall@1, whatever `ks` holds: Shen et al.'s compatibility criterion compares it,
    /// so it must not depend on which cut-offs `--k` asked for.
    public internal(set) var recallAtOne: Double
    /// Σ over the evaluated queries of P(a relevant row at rank 1): recall@1 × evaluated, kept
    /// so that differences of recall@1 are taken between counts (`recallAtOneDifference`).
    public internal(set) var expectedHitsAtOne: Double
    public internal(set) var mrr: Double
    public internal(set) var map: Double

    init(name: String, ks: [Int], ranks: RetrievalRanks) {
        self.name = name
        self.ks = ks
        firstRanks = ranks.first
        averagePrecisions = ranks.averagePrecision
        let valid = ranks.first.compactMap { $0 }
        evaluated = valid.count
        let m = Double(max(1, valid.count))
        recall = ks.map { k in valid.isEmpty ? .nan : valid.reduce(0.0) { $0 + $1.probabilityWithin(k) } / m }
        expectedHitsAtOne = valid.reduce(0.0) { $0 + $1.probabilityWithin(1) }
        recallAtOne = valid.isEmpty ? .nan : expectedHitsAtOne / m
        mrr = valid.isEmpty ? .nan : valid.reduce(0.0) { $0 + $1.expectedReciprocalRank } / m
        map = valid.isEmpty ? .nan : ranks.averagePrecision.filter { !$0.isNaN }.reduce(0, +) / m
    }

    public func recall(at k: Int) -> Double? { ks.firstIndex(of: k).map { recall[$0] } }

    /// self's recall@1 − other's over the same queries, as (hits − hits)/queries: without ties the
    /// hits are integers, so one query lost out of 100 is exactly the Double −0.01 a tolerance or
    /// a gate writes (0.89 − 0.90 is −0.010000000000000009). Other query sets: the plain difference.
    public func recallAtOneDifference(_ other: RetrievalSummary) -> Double {
        guard evaluated == other.evaluated, evaluated > 0 else { return recallAtOne - other.recallAtOne }
        return (expectedHitsAtOne - other.expectedHitsAtOne) / Double(evaluated)
    }

    /// Expected recall@k for every k in 1...kMax (element k − 1), for recall curves.
    ///
    /// - Complexity: O(q) without ties; O(q·kMax·r) for queries whose first block ties.
    public func recallCurve(upTo kMax: Int) -> [Double] {
        let valid = firstRanks.compactMap { $0 }
        guard !valid.isEmpty, kMax >= 1 else { return [] }
        var hist = [Double](repeating: 0, count: kMax + 2)
        for r in valid {
            // A block that starts past kMax adds nothing to the curve (its query is a miss at
            // every plotted k), however many rows tie in it.
            if r.before >= kMax { continue }
            if r.blockSize == 1 {
                hist[r.before + 1] += 1
                continue
            }
            // Increments of P(rank ≤ k) over the block's places.
            var previous = 0.0
            for k in (r.before + 1)...min(kMax, r.before + r.blockSize) {
                let p = r.probabilityWithin(k)
                hist[k] += p - previous
                previous = p
            }
        }
        var acc = 0.0
        return (1...kMax).map { k in acc += hist[k]; return acc / Double(valid.count) }
    }
}

/// Negative flips (Yan et al. 2021): queries the old model answers correctly at top-1 and the
/// other one does not. With tied scores a query flips with probability
/// max(0, P_old(top-1) − P_other(top-1)): the smallest probability of "old right, other wrong" over
/// every way of breaking the two rankings' ties (the Fréchet bound; both rankings break ties
/// alike where they can), so a model compared with itself has no flips and ties alone never make
/// one; without ties it is 1 or 0. The rate is the expected number of flips over the evaluated
/// queries.
public struct NegativeFlips: Sendable {
    /// Queries with a positive flip probability, most probable first (then by query order).
    public internal(set) var flips: [Int]
    /// Flip probability of each entry of `flips` (1 without ties).
    public internal(set) var probabilities: [Double]
    public internal(set) var evaluated: Int
    /// Expected number of flips and of top-1 errors of the other model.
    public internal(set) var expectedFlips: Double
    public internal(set) var expectedOtherErrors: Double
    /// NFR = expected flips / evaluated queries.
    public var rate: Double { evaluated > 0 ? expectedFlips / Double(evaluated) : .nan }
    /// NFI = expected flips / expected errors of the other model (0 when it makes none).
    public var index: Double { expectedOtherErrors > 0 ? expectedFlips / expectedOtherErrors : 0 }

    init(old: RetrievalSummary, other: RetrievalSummary) {
        var list: [(Int, Double)] = [], n = 0, flipsSum = 0.0, errors = 0.0
        for q in 0..<old.firstRanks.count {
            guard let o = old.firstRanks[q], let t = other.firstRanks[q] else { continue }
            n += 1
            let wrong = 1 - t.probabilityFirst
            errors += wrong
            let p = max(0, o.probabilityFirst - t.probabilityFirst)
            if p > 0 { list.append((q, p)); flipsSum += p }
        }
        list.sort { $0.1 > $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }
        flips = list.map(\.0); probabilities = list.map(\.1)
        evaluated = n; expectedFlips = flipsSum; expectedOtherErrors = errors
    }
}

/// The mapping NEW → OLD fitted on a train split and evaluated on the held-out rows.
public struct MappingEvaluation: Sendable {
    public internal(set) var map: FittedMapping
    public internal(set) var trainRows: [Int]
    public internal(set) var heldOutRows: [Int]
    public internal(set) var old: RetrievalSummary
    public internal(set) var cross: RetrievalSummary?
    public internal(set) var mapped: RetrievalSummary
    /// Mean cosine between mapped NEW row and OLD row over the held-out rows.
    public internal(set) var pairedCosineMean: Double
    /// The same over the training rows (fit quality; a large gap to the held-out one = over-fitting).
    public internal(set) var trainCosineMean: Double
    /// True when the split came from `trainRows` (explicit), false for the seeded split.
    public internal(set) var explicitSplit: Bool
    public internal(set) var flips: NegativeFlips
    /// OLD thresholds carried to the mapped space (held-out rows).
    public internal(set) var thresholds: [ThresholdTransfer]
    /// OLD vs mapped NEW score distributions on the held-out rows.
    public internal(set) var scoreShift: ScoreShift
    /// Gallery rows a held-out query is ranked against: recall@k uses min(k, this).
    public internal(set) var candidatesPerQuery: Int = 0
    /// `--fit auto`: every family fitted on the same rows, the chosen one marked.
    public internal(set) var candidates: [MappingCandidate] = []
    /// `--fit-curve`: held-out recall per training-set size (and family).
    public internal(set) var curve: [FitCurvePoint] = []
    /// NEW queries on a NEW gallery of the held-out rows: what re-embedding the index gives.
    public internal(set) var reembedded: RetrievalSummary?
    /// The cut-off of the share-of-re-embedding numbers (10 capped at the held-out gallery).
    public internal(set) var shareK: Int = 10
    /// Mapped recall@`shareK` on the held-out rows.
    public internal(set) var mappedAtShareK: Double?
    /// Mapped recall@`shareK` / re-embedded recall@`shareK` (held-out rows).
    public var shareOfReembedding: Double? {
        guard let r = reembedded?.recall(at: shareK), let m = mappedAtShareK, r > 0 else { return nil }
        return m / r
    }
    /// `--fit unpaired`: the alignment that found the map (nil for maps fitted on pairs).
    public internal(set) var unpaired: UnpairedAlignment?
    /// Recall@`shareK` of a random ranking of the held-out gallery (`shareK` / candidates).
    public var chanceAtShareK: Double { candidatesPerQuery > 0 ? Double(shareK) / Double(candidatesPerQuery) : .nan }
    /// Lower end of the 99 % Wilson interval of the mapped recall@`shareK` over the held-out queries.
    public var mappedLowerBoundAtShareK: Double? {
        mappedAtShareK.map { Statistics.wilsonLowerBound(successes: $0 * Double(mapped.evaluated), trials: mapped.evaluated, z: 2.5758293035489) }
    }
    /// `--fit unpaired`: whether a map better than chance was found — the 99 % Wilson lower bound
    /// of its held-out recall@`shareK` lies above both the unmapped (cross) recall@`shareK` and
    /// chance. nil for maps fitted on pairs.
    public var mapFound: Bool? {
        guard unpaired != nil else { return nil }
        guard let low = mappedLowerBoundAtShareK else { return false }
        let noMap = cross.flatMap { $0.recall(at: shareK) } ?? 0
        return low > max(noMap, chanceAtShareK)
    }
    public var margin: Double { mapped.recallAtOneDifference(old) }
    /// Shen et al.'s strict criterion on the held-out rows: mapped recall@1 > old/old recall@1 —
    /// and for `--fit unpaired`, a map was found at all (`mapFound`).
    public var compatible: Bool { margin > 0 && mapFound != false }
    public func noWorse(tolerance: Double) -> Bool { margin >= -tolerance }
}

/// Backward compatibility of a NEW embedding model with an OLD one (Shen et al. 2020; Biondi et al.
/// 2024; Yan et al. 2021): retrieval old→old, new→new, new→old, negative flips, neighbourhood
/// stability, and a fitted NEW → OLD mapping. Pure: no printing, no files.
public struct CompatibilityAnalysis: Sendable {
    public internal(set) var inputs: [Source]
    /// The settings the result was judged with (`noWorse` reads its tolerance): fixed with the
    /// result, so no later change of a configuration can flip an answer already given.
    public let configuration: CompatibilityConfiguration
    public internal(set) var compression: Compression?
    public internal(set) var galleryRows: Int
    public internal(set) var dimensions: (old: Int, new: Int)
    /// "labels" (same label is relevant) or "identity" (the paired item is relevant).
    public internal(set) var relevance: String
    public internal(set) var separateQueries: Bool
    /// Query rows (indices into the items) when queries are the items themselves; empty with
    /// separate query files.
    public internal(set) var queryRows: [Int]
    /// Effective cut-offs (each asked k capped at `candidatesPerQuery`, deduplicated).
    public internal(set) var ks: [Int]
    /// The cut-offs as asked (positive, deduplicated): metric keys use these, never the capped ones.
    public internal(set) var askedKs: [Int]
    /// Gallery rows a query is ranked against (own row excluded with labels).
    public internal(set) var candidatesPerQuery: Int
    public internal(set) var old: RetrievalSummary
    public internal(set) var new: RetrievalSummary
    /// New queries against the old gallery; nil when the dimensions differ.
    public internal(set) var cross: RetrievalSummary?
    public internal(set) var flipsCross: NegativeFlips?
    public internal(set) var flipsNew: NegativeFlips
    /// Mean over queries of R/n: recall@1 of a random ranking.
    public internal(set) var chanceRecallAt1: Double
    /// How OLD and NEW agree on the items themselves; nil with `retrievalOnly`.
    public internal(set) var agreement: SimilarityAgreement?
    public internal(set) var mapping: MappingEvaluation?
    public internal(set) var names: [String]
    public internal(set) var labels: [String]?
    /// OLD file row of each paired item when the items are a subset or reordering of OLD's rows
    /// (dropped invalid rows, pairing by id); nil = item i is OLD row i. Reports show these.
    public internal(set) var sourceRows: [Int]? = nil

    /// Shen et al.'s empirical compatibility criterion (CVPR 2020), strict:
    /// M(φ_new, φ_old) > M(φ_old, φ_old) on recall@1. A map that exactly restores the old space is
    /// *not* compatible by this criterion (margin 0); it is `noWorse`.
    public var compatible: Bool? { margin.map { $0 > 0 } }
    /// Cross retrieval at least as good as old/old: margin ≥ −`noWorseTolerance`.
    public var noWorse: Bool? { margin.map { $0 >= -configuration.noWorseTolerance } }
    /// ECC margin on recall@1 (CMC top-1): cross − old/old.
    public var margin: Double? { cross.map { $0.recallAtOneDifference(old) } }
    public var marginMAP: Double? { cross.map { $0.map - old.map } }

    public init(_ inputs: CompatibilityInputs, configuration: CompatibilityConfiguration = CompatibilityConfiguration()) throws {
        self.configuration = configuration
        let old = inputs.old, new = inputs.new
        compression = inputs.compression
        var sources = [old.source, new.source]
        if let q = inputs.oldQueries { sources.append(q.source) }
        if let q = inputs.newQueries { sources.append(q.source) }
        self.inputs = sources
        guard old.count == new.count else {
            throw EmbdiagError.mismatch(new.source.path, "has \(new.count) rows but \(old.source.path) has \(old.count); OLD and NEW must embed the same items in the same order")
        }
        let n = old.count
        guard n >= 2 else { throw EmbdiagError.invalid(old.source.path, "needs at least 2 rows (got \(n))") }
        galleryRows = n
        dimensions = (old.dimension, new.dimension)
        try configuration.validate()
        try MemoryBudget.installed.value.check(configuration.memoryEstimates(galleryRows: n))
        guard configuration.noWorseTolerance >= 0, configuration.noWorseTolerance.isFinite else {
            throw EmbdiagError.usage("\(Setting.noWorseTolerance) must be a finite number ≥ 0 (got \(configuration.noWorseTolerance))")
        }
        if configuration.retrievalOnly && !configuration.thresholds.isEmpty {
            throw EmbdiagError.usage("\(Setting.threshold) needs the similarity agreement that \(Setting.retrievalOnly) skips; drop one of them")
        }
        guard configuration.trainFraction > 0 && configuration.trainFraction < 1 else {
            throw EmbdiagError.usage("\(Setting.trainFraction) must be in (0, 1) (got \(configuration.trainFraction))")
        }
        if let l = inputs.labels, l.count != n {
            throw EmbdiagError.mismatch(nil, "\(l.count) labels for \(n) rows of \(old.source.path)")
        }
        labels = inputs.labels
        sourceRows = old.sourceRows
        names = (0..<n).map { old.labels?[$0] ?? new.labels?[$0] ?? String(old.sourceRow($0)) }
        relevance = inputs.labels == nil ? "identity" : "labels"

        // Queries.
        let separate = inputs.oldQueries != nil || inputs.newQueries != nil
        separateQueries = separate
        if separate && (inputs.oldQueries == nil || inputs.newQueries == nil) {
            throw EmbdiagError.usage("give both \(Setting.oldQueries) and \(Setting.newQueries) (the same queries embedded by each model)")
        }
        let excludeSelf = !separate && inputs.labels != nil
        let unitOld = Matrix.normalizedRows(old.matrix)
        // Integer codes (int8, ±1) are scored exactly: integer dot products scaled by 1/‖code‖, so
        // equal codes tie exactly and every ranking is the same on every CPU (Guide: "Ties").
        let codes = inputs.compression == .int8 || inputs.compression == .binary
        let unitNew = codes ? new.matrix : Matrix.normalizedRows(new.matrix)
        let newScale: [Double]? = codes ? ExactScores.inverseNorms(new.matrix) : nil
        // The cosines that decide ties and thresholds: Float64, from the rows as given
        // (`exactCosine`; Guide: "Ties").
        let cosOld = CosineRows(old.matrix), cosNew = CosineRows(new.matrix)
        let qOld: Matrix, qNew: Matrix, qNewScale: [Double]?
        let qCosOld: CosineRows, qCosNew: CosineRows
        let rel: RetrievalRelevance
        let rowsOfQueries: [Int]
        if let oq = inputs.oldQueries, let nq = inputs.newQueries {
            try inputs.checkQueryFiles(oq, nq)
            qOld = Matrix.normalizedRows(oq.matrix); qNew = Matrix.normalizedRows(nq.matrix)
            qCosOld = CosineRows(oq.matrix); qCosNew = CosineRows(nq.matrix)
            qNewScale = nil
            rowsOfQueries = []
            if let labels = inputs.labels, let ql = inputs.queryLabels {
                let ids = Retrieval.classIds(gallery: labels, queries: ql)
                rel = .classes(query: ids.queries, gallery: ids.gallery)
            } else {
                guard oq.count <= n else {
                    throw EmbdiagError.usage("without labels, query i's relevant item is gallery row i: \(oq.count) queries for \(n) gallery rows; give \(Setting.labels) and \(Setting.queryLabels)")
                }
                rel = .index(Array(0..<oq.count))
            }
        } else {
            var rng = SeededGenerator(seed: configuration.seed &+ 1)
            let count = configuration.maxQueries <= 0 ? n : min(n, configuration.maxQueries)
            rowsOfQueries = rng.sampleIndices(n, count: count)
            qOld = count == n ? unitOld : unitOld.gather(rows: rowsOfQueries)
            qNew = count == n ? unitNew : unitNew.gather(rows: rowsOfQueries)
            qCosOld = count == n ? cosOld : cosOld.gather(rows: rowsOfQueries)
            qCosNew = count == n ? cosNew : cosNew.gather(rows: rowsOfQueries)
            qNewScale = newScale.map { scale in rowsOfQueries.map { scale[$0] } }
            if let labels = inputs.labels {
                let ids = Retrieval.classIds(gallery: labels)
                rel = .classes(query: rowsOfQueries.map { ids.gallery[$0] }, gallery: ids.gallery)
            } else {
                rel = .index(rowsOfQueries)
            }
        }
        let cap = n - (excludeSelf ? 1 : 0)
        let (effective, asked) = try Self.cutoffs(configuration.ks, cap: cap)
        ks = effective
        askedKs = asked
        candidatesPerQuery = cap

        // Retrieval in the three directions. Self-exclusion when queries are gallery rows: the
        // query row index must be its gallery index, so gathered queries use a shifted exclusion.
        let excludeRows = excludeSelf ? rowsOfQueries : nil
        let run = { (q: Matrix, qScale: [Double]?, g: Matrix, gScale: [Double]?, cosines: (CosineRows, CosineRows)) -> RetrievalRanks in
            Retrieval.retrievalRanks(queries: q, gallery: g, relevance: rel, excluded: excludeRows, queryScale: qScale, galleryScale: gScale,
                                     cosines: cosines)
        }
        let identity: Bool
        if case .index = rel { identity = true } else { identity = false }
        let r = try Self.retrieval(old: run(qOld, nil, unitOld, nil, (qCosOld, cosOld)), new: run(qNew, qNewScale, unitNew, newScale, (qCosNew, cosNew)),
                                   cross: old.dimension == new.dimension ? run(qNew, qNewScale, unitOld, nil, (qCosNew, cosOld)) : nil,
                                   ks: effective, candidates: cap, galleryRows: n, identity: identity, labelled: inputs.labels != nil)
        (self.old, self.new, cross, flipsCross, flipsNew, chanceRecallAt1) = (r.old, r.new, r.cross, r.flipsCross, r.flipsNew, r.chanceRecallAt1)

        queryRows = rowsOfQueries
        agreement = configuration.retrievalOnly ? nil
            : Self.similarityAgreement(unitOld: unitOld, unitNew: unitNew, cosOld: cosOld, cosNew: cosNew, newScale: newScale,
                                       labels: inputs.labels, rowsOfQueries: rowsOfQueries, configuration: configuration)

        // Mapping NEW → OLD on a train split, evaluated on the held-out rows only.
        if configuration.fit != .none {
            mapping = try Self.evaluateMapping(old: old, new: new, labels: inputs.labels, excludeSelf: inputs.labels != nil,
                                               ks: configuration.ks, configuration: configuration)
        } else {
            mapping = nil
        }
    }

    /// Neighbourhood stability on the item rows used as queries (or a seeded sample of items),
    /// pairwise-similarity agreement, carried thresholds and score shifts.
    ///
    /// - Complexity: two k-NN passes of the stability rows over the gallery, O(s·n·d), plus
    ///   O(p·d) for p pairs.
    static func similarityAgreement(unitOld: Matrix, unitNew: Matrix, cosOld: CosineRows, cosNew: CosineRows, newScale: [Double]?,
                                    labels: [String]?, rowsOfQueries: [Int], configuration: CompatibilityConfiguration) -> SimilarityAgreement {
        let n = unitOld.rows
        let stabilityRows: [Int]
        if rowsOfQueries.isEmpty {
            var rng = SeededGenerator(seed: configuration.seed &+ 1)
            stabilityRows = rng.sampleIndices(n, count: configuration.maxQueries <= 0 ? n : min(n, configuration.maxQueries))
        } else {
            stabilityRows = rowsOfQueries
        }
        let kk = min(configuration.neighborK, n - 1)
        // One neighbour more than compared: the (k + 1)-th score shows whether the k-th is tied.
        let oldLists = nearestNeighbors(ofRows: stabilityRows, in: unitOld, k: kk + 1, cosines: cosOld)
        let newLists = nearestNeighbors(ofRows: stabilityRows, in: unitNew, k: kk + 1, scale: newScale, cosines: cosNew)
        let oldNeighbors = oldLists.prefix(kk), newNeighbors = newLists.prefix(kk)
        let oldSets = NeighbourSet.sets(ofRows: stabilityRows, in: unitOld, k: kk, cosines: cosOld, lists: oldLists)
        let newSets = NeighbourSet.sets(ofRows: stabilityRows, in: unitNew, k: kk, scale: newScale, cosines: cosNew, lists: newLists)

        // Pairwise similarities: Spearman (old vs new cosines) and Biondi constraints.
        let pairs = pairStatistics(old: cosOld, new: cosNew, labels: labels,
                                   maxPairs: configuration.maxPairs, sampledPairs: configuration.sampledPairs,
                                   seed: configuration.seed &+ 3)
        let oldTop = neighbourScores(oldNeighbors), newTop = neighbourScores(newNeighbors)
        let thresholds = configuration.thresholds.enumerated().map { i, t in
            ThresholdTransfer.compute(threshold: t, scores: pairs.scores, oldTopK: oldTop, newTopK: newTop,
                                      bootstrap: configuration.thresholdBootstrap, seed: configuration.seed &+ 10 &+ UInt64(i))
        }
        let sortedOld = pairs.scores.sortedOld, sortedNew = pairs.scores.sortedNew
        let calibration = sortedOld.isEmpty ? [] : (0...60).map { i -> (old: Double, new: Double) in
            let level = 0.5 + 0.499 * Double(i) / 60
            return (Statistics.quantile(sortedOld, level), Statistics.quantile(sortedNew, level))
        }
        return SimilarityAgreement(rows: stabilityRows, knnJaccard: SpaceComparison.knnJaccard(oldSets, newSets),
                                   knnUndeterminedShare: SpaceComparison.undeterminedShare(oldSets, newSets),
                                   knnTiedPlaceShare: SpaceComparison.tiedPlaceShare(oldSets, newSets),
                                   oldNeighbors: oldNeighbors, newNeighbors: newNeighbors,
                                   similaritySpearman: pairs.spearman, similarityPairs: pairs.count, allPairs: pairs.all,
                                   positiveConstraint: pairs.positive, negativeConstraint: pairs.negative, thresholds: thresholds,
                                   scoreShift: scoreShift(pairs: pairs.scores, old: oldNeighbors, new: newNeighbors,
                                                          resolution: ScoreShift.cosineResolution(oldDimension: unitOld.cols, newDimension: unitNew.cols)),
                                   thresholdCalibration: calibration)
    }

    /// Every listed neighbour's score (the pairs a threshold mostly decides).
    static func neighbourScores(_ nn: NearestNeighbors) -> [Double] {
        nn.indices.indices.filter { nn.indices[$0] >= 0 }.map { Double(nn.scores[$0]) }
    }

    /// Quantiles and KS distances of random-pair cosines, top-1 cosines and top-1 − top-2 margins;
    /// the KS distances at the cosines' Float32 resolution (`ScoreShift.cosineResolution`, twice
    /// that for margins, a difference of two cosines).
    static func scoreShift(pairs: PairedScores, old: NearestNeighbors, new: NearestNeighbors, resolution: Double) -> ScoreShift {
        func top(_ nn: NearestNeighbors, _ place: Int) -> [Double] {
            (0..<nn.queryCount).compactMap { q in nn.k > place && nn.indices[q * nn.k + place] >= 0 ? Double(nn.scores[q * nn.k + place]) : nil }
        }
        func margins(_ nn: NearestNeighbors) -> [Double] { zip(top(nn, 0), top(nn, 1)).map { $0 - $1 } }
        return ScoreShift(distributions: [
            ScoreShift.describe("random_pairs", sortedOld: pairs.sortedOld, sortedNew: pairs.sortedNew, resolution: resolution),
            ScoreShift.describe("top1", old: top(old, 0), new: top(new, 0), resolution: resolution),
            ScoreShift.describe("top1_margin", old: margins(old), new: margins(new), resolution: 2 * resolution),
        ])
    }

    /// Pair cosines by `exactCosine` of the rows as given: a pair at exactly a threshold is at it
    /// (±1 codes at 0.5), and equal exact cosines are the ties the Spearman correlation averages.
    static func pairStatistics(old: CosineRows, new: CosineRows, labels: [String]?,
                               maxPairs: Int, sampledPairs: Int, seed: UInt64)
        -> (spearman: Double, count: Int, all: Bool, positive: (Int, Int)?, negative: (Int, Int)?, scores: PairedScores) {
        let n = old.rows.rows
        let total = n * (n - 1) / 2
        let sameDim = old.rows.cols == new.rows.cols
        let classes = labels.map { Retrieval.classIds(gallery: $0).gallery }
        var oldCos: [Double] = [], newCos: [Double] = []
        var pos = (0, 0), neg = (0, 0)
        func constraint(_ i: Int, _ j: Int, oldIJ: Double, oldJI: Double, crossIJ: Double, crossJI: Double) {
            guard let c = classes, sameDim else { return }
            // Cosine distances: d(new_i, old_j) vs d(old_i, old_j), both orientations (each
            // compared with the same-orientation old score, so NEW = OLD gives exact equality).
            if c[i] == c[j] {
                pos.1 += 2
                if crossIJ >= oldIJ { pos.0 += 1 }
                if crossJI >= oldJI { pos.0 += 1 }
            } else {
                neg.1 += 2
                if crossIJ <= oldIJ { neg.0 += 1 }
                if crossJI <= oldJI { neg.0 += 1 }
            }
        }
        // Pair scores by fixed-order Float64 dot products, not a GEMM: thresholds and constraints
        // compare them with cut-offs, and a kernel-dependent last bit would move pairs across them.
        let all = total <= maxPairs
        var first: [Int] = [], second: [Int] = []
        if all {
            first.reserveCapacity(total); second.reserveCapacity(total)
            for i in 0..<n { for j in (i + 1)..<n { first.append(i); second.append(j) } }
        } else {
            // Seeded pairs i ≠ j (drawn sequentially), then the dot products in parallel.
            var rng = SeededGenerator(seed: seed)
            (first, second) = rng.distinctPairs(n, count: sampledPairs)
        }
        let owners = first.map { Int32($0) }
        oldCos = old.pairedCosines(first, old, second)
        newCos = new.pairedCosines(first, new, second)
        if classes != nil && sameDim {
            let crossIJ = new.pairedCosines(first, old, second), crossJI = new.pairedCosines(second, old, first)
            for p in 0..<first.count {
                constraint(first[p], second[p], oldIJ: oldCos[p], oldJI: oldCos[p], crossIJ: crossIJ[p], crossJI: crossJI[p])
            }
        }
        let rho = Statistics.spearmanCorrelation(oldCos, newCos)
        let hasConstraints = classes != nil && sameDim
        return (rho, oldCos.count, all, hasConstraints ? pos : nil, hasConstraints ? neg : nil,
                PairedScores(old: oldCos, new: newCos, owners: owners, allPairs: all))
    }

    static func evaluateMapping(old: Embeddings, new: Embeddings, labels: [String]?, excludeSelf: Bool, ks: [Int],
                                configuration: CompatibilityConfiguration) throws -> MappingEvaluation {
        let n = old.count
        let train: [Int]
        if configuration.unpairedAlignment != nil {
            // Found without pairs: every paired row judges it.
            train = []
        } else if let explicit = configuration.trainRows {
            var seen = Set<Int>()
            for r in explicit {
                guard r >= 0 && r < n else { throw EmbdiagError.usage("\(Setting.trainRows): row \(r) is outside the \(n) paired items") }
                guard seen.insert(r).inserted else { throw EmbdiagError.usage("\(Setting.trainRows): row \(r) is listed twice") }
            }
            train = explicit
            guard train.count >= 2, n - train.count >= 2 else {
                throw EmbdiagError.usage("\(Setting.trainRows) gives \(train.count) training and \(n - train.count) held-out rows of \(n); need at least 2 each")
            }
        } else {
            var rng = SeededGenerator(seed: configuration.seed &+ 2)
            let trainCount = Int((Double(n) * configuration.trainFraction).rounded())
            guard trainCount >= 2, n - trainCount >= 2 else {
                throw EmbdiagError.usage("\(Setting.trainFraction) \(configuration.trainFraction) leaves \(trainCount) training and \(n - trainCount) held-out rows of \(n); need at least 2 each")
            }
            train = rng.sampleIndices(n, count: trainCount)
        }
        let isTrain = Set(train)
        let held = (0..<n).filter { !isTrain.contains($0) }
        let trainX = new.matrix.gather(rows: train), trainY = old.matrix.gather(rows: train)
        let fitted: (map: FittedMapping, candidates: [MappingCandidate])
        if let found = configuration.unpairedAlignment {
            fitted = (.linear(found.map), [])
        } else {
            fitted = try MappingSelection.fit(configuration.fit, x: new.matrix, y: old.matrix, train: train, configuration: configuration)
        }
        let map = fitted.map
        let mappedTrain = try map.apply(trainX)
        let oldH = Matrix.normalizedRows(old.matrix.gather(rows: held))
        let newHRaw = new.matrix.gather(rows: held)
        let mappedHRaw = try map.apply(newHRaw)
        let mappedH = Matrix.normalizedRows(mappedHRaw)
        let newH = Matrix.normalizedRows(newHRaw)
        let rel: RetrievalRelevance
        if let labels {
            let ids = Retrieval.classIds(gallery: held.map { labels[$0] })
            rel = .classes(query: ids.gallery, gallery: ids.gallery)
        } else {
            rel = .index(Array(0..<held.count))
        }
        let cap = held.count - (excludeSelf ? 1 : 0)
        let effective = effectiveKs(ks, cap: cap)
        let shareK = min(10, cap)
        let scoredKs = effective.contains(shareK) ? effective : effective + [shareK]
        func run(_ name: String, _ q: Matrix, gallery: Matrix? = nil, ks: [Int]? = nil) -> RetrievalSummary {
            RetrievalSummary(name: name, ks: ks ?? effective, ranks: Retrieval.retrievalRanks(queries: q, gallery: gallery ?? oldH, relevance: rel, excludeSelf: excludeSelf))
        }
        func heldOut(_ m: FittedMapping) throws -> RetrievalSummary {
            let q = try m.apply(newHRaw)
            Matrix.normalizeRowsInPlace(q)
            return run("mapped", q, ks: scoredKs)
        }
        let o = run("old", oldH)
        let c = new.dimension == old.dimension ? run("cross", newH) : nil
        let m = run("mapped", mappedH)
        let mappedShare = run("mapped", mappedH, ks: scoredKs)
        let reembedded = run("reembedded", newH, gallery: newH, ks: scoredKs)
        var candidates = fitted.candidates
        for i in candidates.indices { if let cm = candidates[i].map { candidates[i].heldOut = try heldOut(cm) } }
        // Training-size curve: each size refits the family (every family with auto) on nested subsets.
        var curve: [FitCurvePoint] = []
        if !configuration.fitCurve.isEmpty {
            let reRecall = reembedded.recall(at: shareK) ?? .nan
            let families: [MappingFit] = configuration.fit == .auto ? MappingFamily.autoCandidates : [configuration.fit]
            for (size, rows) in try MappingSelection.curveSubsets(train: train, sizes: configuration.fitCurve, seed: configuration.seed) {
                for family in families {
                    do {
                        let fm = try MappingSelection.fit(family, x: new.matrix, y: old.matrix, train: rows, configuration: configuration).map
                        let r = try heldOut(fm).recall(at: shareK) ?? .nan
                        curve.append(FitCurvePoint(trainRows: size, fit: fm.fit, recallMapped: r, shareOfReembedding: r / reRecall, failure: nil))
                    } catch let e as EmbdiagError {
                        curve.append(FitCurvePoint(trainRows: size, fit: family, recallMapped: .nan, shareOfReembedding: .nan, failure: e.description))
                    }
                }
            }
        }
        Matrix.normalizeRowsInPlace(mappedTrain)
        // Thresholds and score shift in the mapped space, over pairs of held-out rows.
        let pairs = pairStatistics(old: CosineRows(old.matrix.gather(rows: held)), new: CosineRows(mappedHRaw), labels: nil, maxPairs: configuration.maxPairs,
                                   sampledPairs: configuration.sampledPairs, seed: configuration.seed &+ 4)
        let kk = min(configuration.neighborK, held.count - 1)
        let oldNN = nearestNeighbors(ofRows: Array(0..<held.count), in: oldH, k: kk)
        let mappedNN = nearestNeighbors(ofRows: Array(0..<held.count), in: mappedH, k: kk)
        let thresholds = configuration.thresholds.enumerated().map { i, t in
            ThresholdTransfer.compute(threshold: t, scores: pairs.scores, oldTopK: neighbourScores(oldNN), newTopK: neighbourScores(mappedNN),
                                      bootstrap: configuration.thresholdBootstrap, seed: configuration.seed &+ 20 &+ UInt64(i))
        }
        return MappingEvaluation(map: map, trainRows: train, heldOutRows: held, old: o, cross: c, mapped: m,
                                 pairedCosineMean: meanRowwiseDot(mappedH, oldH),
                                 trainCosineMean: meanRowwiseDot(mappedTrain, Matrix.normalizedRows(trainY)),
                                 explicitSplit: configuration.trainRows != nil, flips: NegativeFlips(old: o, other: m),
                                 thresholds: thresholds, scoreShift: scoreShift(pairs: pairs.scores, old: oldNN, new: mappedNN,
                                                         resolution: ScoreShift.cosineResolution(oldDimension: oldH.cols, newDimension: new.dimension)),
                                 candidatesPerQuery: cap, candidates: candidates, curve: curve, reembedded: reembedded,
                                 shareK: shareK, mappedAtShareK: mappedShare.recall(at: shareK), unpaired: configuration.unpairedAlignment)
    }

    /// Mean over rows of the dot product of row i of `a` with row i of `b` (unit rows: mean cosine),
    /// Float64 sums in row order.
    static func meanRowwiseDot(_ a: Matrix, _ b: Matrix) -> Double {
        let rows = Array(0..<a.rows)
        return a.rows > 0 ? Matrix.pairedDotProducts(a, rows, b, rows).reduce(0, +) / Double(a.rows) : .nan
    }

    /// The asked cut-offs (positive ones, in order) capped at `cap` candidates, deduplicated.
    static func effectiveKs(_ ks: [Int], cap: Int) -> [Int] {
        var effective: [Int] = []
        for k in ks where k >= 1 {
            let c = min(k, cap)
            if !effective.contains(c) { effective.append(c) }
        }
        return effective
    }
}
