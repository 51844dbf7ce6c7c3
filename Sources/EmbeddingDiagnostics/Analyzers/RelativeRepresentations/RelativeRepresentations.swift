import Foundation

/// Settings shared by the single-space projection and the two-space comparison.
/// Guide: Guides/RelativeRepresentations.md.
public struct RelativeRepresentationsConfiguration: Sendable {
    /// Number of anchors (ignored when `anchorRows` is given). Moschella et al. use 300.
    public var anchorCount: Int = 300 { didSet { anchorCountGiven = true } }
    /// Whether `anchorCount` was set (the CLI's --anchors). A comparison refuses a set count that
    /// leaves fewer than 2 paired rows to evaluate; the default is capped to half the paired rows
    /// (a warning of the report), so that it works on small inputs.
    public var anchorCountGiven = false
    public var anchorStrategy: AnchorStrategy = .random
    /// Explicit anchors: row indices of the reference (first) input file, before pairing and
    /// before invalid rows were dropped.
    public var anchorRows: [Int]?
    /// Explicit anchors by row label of the reference input (exact match first, then
    /// case-insensitive); `anchorLabelsSource` names where they came from in messages.
    public var anchorLabels: [String]?
    public var anchorLabelsSource = "anchor labels"
    /// Anchors given by row or label rather than selected by `anchorStrategy`.
    public var hasExplicitAnchors: Bool { anchorRows != nil || anchorLabels != nil }
    /// Whether to subtract the anchor mean before the cosine (latentis `Centering` fitted on the
    /// anchors): `auto` (default) centres when either space's mean pairwise cosine exceeds
    /// `autoCenterThreshold`; `none` is the literal Moschella et al. projection.
    public var center: RelrepCentering = .auto
    /// Mean pairwise cosine above which `auto` centres (the level above which cosine scores are
    /// inflated, Guides/Anisotropy.md).
    public var autoCenterThreshold: Double = 0.3
    /// Explicit centring on (`anchors`) or off (`none`); reading gives true only for `anchors`.
    public var centering: Bool {
        get { center == .anchors }
        set { center = newValue ? .anchors : .none }
    }
    /// Neighbours for k-NN Jaccard / mutual k-NN and the top-k hit rate (relreps protocol: 5):
    /// the first of `ks`.
    public var k: Int {
        get { ks.first ?? 5 }
        set { ks = [newValue] + ks.dropFirst().filter { $0 != newValue } }
    }
    /// Every k evaluated in one run (`--k 1,5,10`); the first is the primary one (`k`).
    public var ks: [Int] = [5]
    /// Rows used as queries for k-NN and retrieval metrics (seeded sample; 0 = every row). The
    /// gallery is always every row.
    public var maxQueries: Int = 1000
    /// Anchor counts for the sweep (capped by n); empty = no sweep.
    public var sweepCounts: [Int] = Self.defaultSweepCounts
    /// The default sweep, documented as capped by the row count (so its caps are not warned about).
    public static let defaultSweepCounts = [10, 50, 100, 300, 1000]
    public var pairing: RelrepPairing = .row
    /// Pairing by label: a label on several rows of one input is an error, or `.first` keeps its
    /// first row (the report counts the dropped rows).
    public var duplicateLabels: DuplicateIdPolicy = .error
    public var seed: UInt64 = 42
    /// Keep the n × N relative matrix of the first input in the result (for --write).
    public var keepRelativeMatrix: Bool = false

    public init() {}
}

/// Centring of relative projections (`--center`).
public enum RelrepCentering: String, CaseIterable, Sendable {
    /// Centre on the anchor mean when a space is anisotropic (mean pairwise cosine above the threshold).
    case auto
    /// Always centre on the anchor mean (latentis `Centering`).
    case anchors
    /// Never: cosine to the raw anchors, Moschella et al.'s projection as published.
    case none

    /// The decision for spaces with these mean pairwise cosines.
    public func resolve(meanCosines: [Double], threshold: Double) -> Bool {
        switch self {
        case .anchors: return true
        case .none: return false
        case .auto: return meanCosines.contains { $0 > threshold }
        }
    }
}

/// How rows of the two inputs are matched.
public enum RelrepPairing: String, CaseIterable, Sendable {
    /// Row i with row i (same count required).
    case row
    /// Rows with equal labels (first occurrence; the first input's order).
    case label
}

/// Rows of `embeddings` whose labels are `wanted` (exact match first, then case-insensitive), in
/// the order given; a missing label, no labels or a repeated anchor is an error naming `source`.
/// - Complexity: O(n + anchors) with hashing.
func anchorRows(labelled wanted: [String], in embeddings: Embeddings, source: String) throws -> [Int] {
    guard embeddings.labels != nil else {
        throw EmbdiagError.usage("anchors by label need row labels for \(embeddings.source.path)")
    }
    let exact = embeddings.labelIndex()
    let folded = embeddings.labelIndex(caseInsensitive: true)
    var rows: [Int] = [], missing: [String] = []
    for w in wanted {
        if let r = exact[LabelKey(w)] ?? folded[LabelKey(w.lowercased())] { rows.append(r) } else { missing.append(w) }
    }
    if !missing.isEmpty {
        throw EmbdiagError(.missingWords, path: source,
                           "\(missing.count) of \(wanted.count) anchor labels not found in \(embeddings.source.path): \(missing.prefix(5).joined(separator: ", "))\(missing.count > 5 ? ", …" : "")")
    }
    var seen = Set<Int>()
    for r in rows where !seen.insert(r).inserted {
        throw EmbdiagError.invalid(source, "row \(r) is listed twice as an anchor")
    }
    return rows
}

/// Anchors resolved for one run: row indices into the reference input.
private func resolveAnchors(_ space: Matrix, _ configuration: RelativeRepresentationsConfiguration, count: Int? = nil) throws -> [Int] {
    if count == nil, let rows = configuration.anchorRows { return rows }
    // Caps rule: more anchors than rows → every row (the CLI warns); 0 stays an error.
    return try AnchorStrategy.selectAnchors(space, count: min(count ?? configuration.anchorCount, space.rows), strategy: configuration.anchorStrategy,
                             seed: configuration.seed)
}

/// Summary of a relative representation of one space: what the anchors look like from the data.
public struct RelativeRepresentation: Sendable {
    public internal(set) var input: Source
    public let configuration: RelativeRepresentationsConfiguration
    /// Anchors as row indices of the embeddings given (after dropped rows were removed).
    public internal(set) var anchorRows: [Int]
    public internal(set) var anchorLabels: [String]
    /// Row index in the file of each row given (differs from 0..<n when rows were dropped).
    public internal(set) var fileRows: [Int]
    public var anchorFileRows: [Int] { anchorRows.map { fileRows[$0] } }
    /// n × N relative matrix (only when `keepRelativeMatrix`).
    public internal(set) var relativeMatrix: Matrix?
    public internal(set) var rowCount: Int
    /// Mean and standard deviation of all n·N relative entries.
    public internal(set) var meanRelativeCosine: Double
    public internal(set) var stdRelativeCosine: Double
    /// Mean over rows of the highest cosine to any anchor (how well the anchors cover the data).
    public internal(set) var meanMaxAnchorCosine: Double
    /// Mean cosine between distinct anchors (after centring if enabled).
    public internal(set) var meanAnchorPairCosine: Double
    /// Participation ratio of the anchors' Gram spectrum: how many independent directions the N anchors span.
    public internal(set) var anchorEffectiveRank: Double
    public internal(set) var dropped: [DroppedRow]
    /// Mean pairwise cosine of the space and whether the projection was centred.
    public internal(set) var meanCosine: Double
    public internal(set) var centered: Bool

    public init(_ embeddings: Embeddings, configuration: RelativeRepresentationsConfiguration, dropped: [DroppedRow] = []) throws {
        input = embeddings.source
        self.configuration = configuration
        self.dropped = dropped
        let n = embeddings.count
        guard n >= 2 else { throw EmbdiagError.invalid(embeddings.source.path, "needs at least 2 rows") }
        try configuration.validate()
        try MemoryBudget.installed.value.check(configuration.memoryEstimates(rows: n, largestK: configuration.ks.max() ?? 1))
        if RelativeComparison.isOneDirection(Matrix.normalizedRows(embeddings.matrix)) {
            throw EmbdiagError.invalid(embeddings.source.path, "all \(n) rows point the same way (1 − cos ≤ d·2⁻²⁴ to the first): cosines to anchors are all 1 (0 once centred), so relative representations are undefined")
        }
        let droppedRows = Set(dropped.map(\.row))
        fileRows = (0..<(n + dropped.count)).filter { !droppedRows.contains($0) }
        if let wanted = configuration.anchorLabels {
            anchorRows = try EmbeddingDiagnostics.anchorRows(labelled: wanted, in: embeddings, source: configuration.anchorLabelsSource)
        } else if let explicit = configuration.anchorRows, !dropped.isEmpty {
            // Explicit anchors are rows of the file: map them past the dropped rows.
            if let bad = explicit.first(where: { droppedRows.contains($0) }) {
                throw EmbdiagError.invalid(embeddings.source.path, "anchor row \(bad) was dropped (NaN/Inf or all-zero row)")
            }
            var position: [Int: Int] = [:]
            for (p, r) in fileRows.enumerated() { position[r] = p }
            anchorRows = explicit.map { position[$0]! }
        } else {
            anchorRows = try resolveAnchors(embeddings.matrix, configuration)
        }
        anchorLabels = anchorRows.map(embeddings.label)
        rowCount = n
        meanCosine = Matrix.meanPairwiseCosine(embeddings.matrix)
        centered = configuration.center.resolve(meanCosines: [meanCosine], threshold: configuration.autoCenterThreshold)
        let projection = RelativeProjection(space: embeddings.matrix, anchorRows: anchorRows, centering: centered)
        let relative = projection.project(embeddings.matrix)
        let nAnchors = anchorRows.count
        var sum = 0.0, sumSq = 0.0, sumMax = 0.0
        for i in 0..<n {
            let r = relative.row(i)
            var m = -Double.infinity
            for v in r { let x = Double(v); sum += x; sumSq += x * x; if x > m { m = x } }
            sumMax += m
        }
        let total = Double(n * nAnchors)
        meanRelativeCosine = sum / total
        stdRelativeCosine = max(0, sumSq / total - meanRelativeCosine * meanRelativeCosine).squareRoot()
        meanMaxAnchorCosine = sumMax / Double(n)
        let gram = BLAS.matmul(projection.unitAnchors, projection.unitAnchors, transposeB: true)
        var off = 0.0, trace = 0.0, frob = 0.0
        for i in 0..<nAnchors {
            for j in 0..<nAnchors {
                let g = Double(gram[i, j])
                frob += g * g
                if i == j { trace += g } else { off += g }
            }
        }
        meanAnchorPairCosine = nAnchors > 1 ? off / Double(nAnchors * (nAnchors - 1)) : .nan
        anchorEffectiveRank = frob > 0 ? trace * trace / frob : 0
        relativeMatrix = configuration.keepRelativeMatrix ? relative : nil
    }
}

/// Comparison of two spaces whose rows describe the same items (dimensions may differ), through
/// relative representations with shared anchors and through space-similarity measures.
public struct RelativeComparison: Sendable {
    public struct SweepPoint: Sendable {
        public internal(set) var anchors: Int
        public internal(set) var relativeCosineMean: Double
        public internal(set) var relativeTop1: Double
        public internal(set) var relativeMRR: Double
        public internal(set) var seconds: Double
    }

    public internal(set) var inputs: [Source]
    public let configuration: RelativeRepresentationsConfiguration
    public internal(set) var pairedRows: Int
    /// Rows of each input used, in pairing order.
    public internal(set) var referenceRows: [Int]
    public internal(set) var otherRows: [Int]
    public internal(set) var labels: [String]
    /// Anchors as indices into the paired rows, and their labels.
    public internal(set) var anchorRows: [Int]
    public internal(set) var anchorLabels: [String]
    /// Paired rows that are not anchors (the rows every relative metric is averaged over).
    public internal(set) var evaluationRows: [Int]
    public internal(set) var queryRows: [Int]
    /// Per paired row: cosine between its two relative vectors.
    public internal(set) var relativeCosines: [Double]
    /// Per query: where its partner ranks when searching the other space's relative vectors (rows
    /// before it and its tied block; metrics are expected values over tied orders).
    public internal(set) var relativeRanks: [TiedFirstRank]
    /// Same through the absolute spaces (only when dimensions match; meaningless unless aligned).
    public internal(set) var absoluteRanks: [TiedFirstRank]?
    /// The most relative top-1 these rows allow: each space's relative vectors retrieving their own
    /// rows (the smaller of the two). Rows that tie in their relative vectors (few distinct
    /// directions: d = 1, quantised codes) cap it below 1, and a space compared with itself
    /// reaches exactly this value, so top-1 is judged against it, not against 1.
    public internal(set) var relativeTop1Ceiling: Double?
    public internal(set) var knnJaccardAbsolute: [Double]
    public internal(set) var knnJaccardRelative: [Double]
    public internal(set) var mutualKNN: [Double]
    public internal(set) var ckaLinear: Double
    public internal(set) var ckaDebiased: Double
    public internal(set) var procrustesDisparity: Double?
    public internal(set) var sweep: [SweepPoint]
    public internal(set) var relativeMatrix: Matrix?
    public internal(set) var dropped: [(input: String, rows: [DroppedRow])]
    /// Counts of duplicate and unmatched labels when pairing by label.
    public internal(set) var idPairing: IdPairing?
    public internal(set) var dimensions: (Int, Int)
    /// False with `anchorCount` 0 and no explicit anchors: CKA, k-NN overlap, Procrustes and
    /// absolute retrieval only (every relative field is empty).
    public internal(set) var hasAnchors: Bool
    /// Mean pairwise cosine of each space (all paired rows) and the centring decision.
    public internal(set) var meanCosines: (Double, Double)
    public internal(set) var centered: Bool
    /// The k values evaluated (first = `configuration.k`), and per k (same order): top-k hit rate
    /// of relative retrieval, mean k-NN Jaccard (absolute and relative), mean mutual k-NN.
    public internal(set) var ks: [Int]
    public internal(set) var relativeHitRateByK: [Double]
    public internal(set) var knnJaccardAbsoluteByK: [Double]
    public internal(set) var knnJaccardRelativeByK: [Double]
    public internal(set) var mutualKNNByK: [Double]
    /// Per k: share of the k-NN places (both spaces; absolute, relative) that ties fill
    /// (`SpaceComparison.tiedPlaceShare`); above `SpaceComparison.tiedPlaceShareLimit` the k-NN
    /// metrics of that k are not reported.
    public internal(set) var knnTiedPlaceShareAbsoluteByK: [Double]
    public internal(set) var knnTiedPlaceShareRelativeByK: [Double]

    /// - Parameters:
    ///   - reference: the first space; anchors are chosen here (explicit rows refer to it).
    ///   - other: the second space (any dimension).
    public init(reference: Embeddings, other: Embeddings, configuration: RelativeRepresentationsConfiguration,
                invalidRows: InvalidRowPolicy = .error) throws {
        self.configuration = configuration
        inputs = [reference.source, other.source]
        dimensions = (reference.dimension, other.dimension)
        guard configuration.k >= 1 else { throw EmbdiagError.usage("\(Setting.k) must be at least 1 (got \(configuration.k))") }
        try configuration.validate()
        try MemoryBudget.installed.value.check(configuration.memoryEstimates(rows: min(reference.count, other.count), largestK: configuration.ks.max() ?? 1))

        // 1. Pair rows (by row or by label), then drop pairs where either side is non-finite or
        // zero (if allowed): the same rule as every two-space comparison.
        let pairing: RowPairing
        switch configuration.pairing {
        case .row:
            pairing = .rowIndex
        case .label:
            guard let lx = reference.labels else { throw EmbdiagError.usage("pairing by label needs labels for \(reference.source.path)") }
            guard let ly = other.labels else { throw EmbdiagError.usage("pairing by label needs labels for \(other.source.path)") }
            pairing = .itemIds(first: lx, second: ly, sources: (reference.source.path, other.source.path), duplicates: configuration.duplicateLabels)
        }
        let paired = try PairedEmbeddings(reference, other, pairing: pairing, invalidRows: invalidRows,
                                          roles: (reference.source.path, other.source.path), minimumPairs: 4)
        let x = paired.first, y = paired.second
        let rowsX = paired.firstRows
        dropped = [(input: reference.source.path, rows: paired.droppedFirst), (input: other.source.path, rows: paired.droppedSecond)]
            .filter { !$0.rows.isEmpty }
        idPairing = paired.idPairing
        referenceRows = rowsX
        otherRows = paired.secondRows
        let n = rowsX.count
        pairedRows = n
        let pairedLabels = (0..<n).map { x.labels?[$0] ?? String(rowsX[$0]) }
        labels = pairedLabels

        // 2. Anchors: indices into the paired rows (none with anchorCount 0: comparison only).
        let anchors: [Int]
        if let explicit = try configuration.anchorRows
            ?? configuration.anchorLabels.map({ try EmbeddingDiagnostics.anchorRows(labelled: $0, in: reference, source: configuration.anchorLabelsSource) }) {
            var position: [Int: Int] = [:]
            for (p, r) in rowsX.enumerated() { position[r] = p }
            let missing = explicit.filter { position[$0] == nil }
            if !missing.isEmpty {
                throw EmbdiagError.invalid(reference.source.path, "anchor rows \(missing.prefix(5).map(String.init).joined(separator: ", ")) have no partner in \(other.source.path) (or were dropped)")
            }
            anchors = explicit.map { position[$0]! }
        } else if configuration.anchorCount == 0 {
            anchors = []
        } else {
            // Anchors are not evaluated: a count given must leave at least 2 rows, the default
            // leaves at least half of them (`caps` warns).
            guard !configuration.anchorCountGiven || configuration.anchorCount <= n - 2 else {
                throw EmbdiagError.usage("\(Setting.anchors) \(configuration.anchorCount) leaves \(max(0, n - configuration.anchorCount)) of the \(n) paired rows to evaluate (anchors are not evaluated, and at least 2 rows must be): give \(Setting.anchors) in 0…\(n - 2)")
            }
            let count = configuration.anchorCountGiven ? configuration.anchorCount : min(configuration.anchorCount, n / 2)
            anchors = try AnchorStrategy.selectAnchors(x.matrix, count: count, strategy: configuration.anchorStrategy, seed: configuration.seed)
        }
        hasAnchors = !anchors.isEmpty
        anchorRows = anchors
        anchorLabels = anchors.map { pairedLabels[$0] }
        let ksRequested = configuration.ks.isEmpty ? [5] : configuration.ks
        guard ksRequested.allSatisfy({ $0 >= 1 }) else { throw EmbdiagError.usage("\(Setting.k) values must be at least 1 (got \(ksRequested))") }

        // 3. Evaluation rows = non-anchors (an anchor's relative vector has a 1 at its own
        // position in both spaces, so it would find itself trivially). Every retrieval and
        // relative k-NN metric uses them only, as queries (a seeded sample) and as the gallery.
        let evaluation = Self.nonAnchorRows(n, anchors)
        guard evaluation.count >= 2 else {
            throw EmbdiagError.usage("\(anchors.count) anchor rows leave \(evaluation.count) of the \(n) paired rows to evaluate (anchors are not evaluated, and at least 2 rows must be): give at most \(n - 2) anchor rows or labels")
        }
        evaluationRows = evaluation
        var rng = SeededGenerator(seed: configuration.seed &+ 1)
        let q = configuration.maxQueries <= 0 ? evaluation.count : min(evaluation.count, configuration.maxQueries)
        let queryPositions = rng.sampleIndices(evaluation.count, count: q)
        let queries = queryPositions.map { evaluation[$0] }
        queryRows = queries
        let galleryCap = evaluation.count - 1
        ks = ksRequested.map { min($0, galleryCap) }
        let kMax = ks.max()!

        // 4. Relative representations with shared anchors, centred when asked or (auto) when a
        // space is anisotropic.
        let unitX = Matrix.normalizedRows(x.matrix), unitY = Matrix.normalizedRows(y.matrix)
        // One direction for every row: every row ties with every other, so ranks, top-1 and the
        // verdict are undefined (not "hardly related").
        for (unit, source) in [(unitX, reference.source.path), (unitY, other.source.path)] where Self.isOneDirection(unit) {
            throw EmbdiagError.invalid(source, "all \(n) paired rows point the same way (1 − cos ≤ d·2⁻²⁴ to the first): every row ties with every other, so relative representations and retrieval are undefined")
        }
        meanCosines = (Matrix.meanPairwiseCosine(unitX), Matrix.meanPairwiseCosine(unitY))
        let centre = configuration.center.resolve(meanCosines: [meanCosines.0, meanCosines.1], threshold: configuration.autoCenterThreshold)
        centered = centre
        let evalX = unitX.gather(rows: evaluation), evalY = unitY.gather(rows: evaluation)
        if hasAnchors {
            let projected = Self.relativePair(x.matrix, y.matrix, unitX: unitX, unitY: unitY, anchors: anchors, centering: centre)
            relativeMatrix = configuration.keepRelativeMatrix ? projected.x.copy() : nil
            let unitRelX = projected.x, unitRelY = projected.y
            Matrix.normalizeRowsInPlace(unitRelX); Matrix.normalizeRowsInPlace(unitRelY)
            relativeCosines = Self.rowwiseDot(unitRelX, unitRelY)
            let relX = unitRelX.gather(rows: evaluation), relY = unitRelY.gather(rows: evaluation)
            relativeRanks = Retrieval.trueMatchRanks(queries: relX.gather(rows: queryPositions), gallery: relY, trueIndices: queryPositions)
            relativeTop1Ceiling = min(
                Self.hitRate(Retrieval.trueMatchRanks(queries: relX.gather(rows: queryPositions), gallery: relX, trueIndices: queryPositions), within: 1),
                Self.hitRate(Retrieval.trueMatchRanks(queries: relY.gather(rows: queryPositions), gallery: relY, trueIndices: queryPositions), within: 1))
            // One neighbour more than the largest k: the next score shows whether the k-th is tied.
            let relKnnX = nearestNeighbors(ofRows: queryPositions, in: relX, k: kMax + 1)
            let relKnnY = nearestNeighbors(ofRows: queryPositions, in: relY, k: kMax + 1)
            let relSets = ks.map { k in (NeighbourSet.sets(ofRows: queryPositions, in: relX, k: k, lists: relKnnX),
                                         NeighbourSet.sets(ofRows: queryPositions, in: relY, k: k, lists: relKnnY)) }
            knnJaccardRelativeByK = relSets.map { Self.mean(SpaceComparison.knnJaccard($0.0, $0.1)) }
            knnTiedPlaceShareRelativeByK = relSets.map { SpaceComparison.tiedPlaceShare($0.0, $0.1) }
            knnJaccardRelative = SpaceComparison.knnJaccard(relSets[0].0, relSets[0].1)
            let ranks = relativeRanks
            relativeHitRateByK = ks.map { Self.hitRate(ranks, within: $0) }
        } else {
            relativeMatrix = nil
            relativeCosines = []
            relativeRanks = []
            knnJaccardRelative = []
            knnJaccardRelativeByK = []
            knnTiedPlaceShareRelativeByK = []
            relativeHitRateByK = []
        }

        // 5. Absolute spaces: intrinsic neighbourhoods of the query rows among all paired rows
        // (anchors are ordinary rows there), CKA and Procrustes (all paired rows), the retrieval
        // baseline on the non-anchor rows (the same gallery as relative retrieval).
        let knnX = nearestNeighbors(ofRows: queries, in: unitX, k: min(kMax + 1, n - 1))
        let knnY = nearestNeighbors(ofRows: queries, in: unitY, k: min(kMax + 1, n - 1))
        let absSets = ks.map { k in (NeighbourSet.sets(ofRows: queries, in: unitX, k: k, lists: knnX),
                                     NeighbourSet.sets(ofRows: queries, in: unitY, k: k, lists: knnY)) }
        knnJaccardAbsoluteByK = absSets.map { Self.mean(SpaceComparison.knnJaccard($0.0, $0.1)) }
        mutualKNNByK = zip(ks, absSets).map { k, sets in Self.mean(SpaceComparison.knnOverlap(sets.0, sets.1, k: min(k, n - 1))) }
        knnTiedPlaceShareAbsoluteByK = absSets.map { SpaceComparison.tiedPlaceShare($0.0, $0.1) }
        knnJaccardAbsolute = SpaceComparison.knnJaccard(absSets[0].0, absSets[0].1)
        mutualKNN = SpaceComparison.knnOverlap(absSets[0].0, absSets[0].1, k: min(ks[0], n - 1))
        absoluteRanks = x.dimension == y.dimension
            ? Retrieval.trueMatchRanks(queries: evalX.gather(rows: queryPositions), gallery: evalY, trueIndices: queryPositions) : nil
        let moments = SpaceComparison.pairedCenteredMoments(x.matrix, y.matrix)
        ckaLinear = SpaceComparison.linearCKA(moments)
        ckaDebiased = SpaceComparison.debiasedLinearCKA(moments)
        procrustesDisparity = x.dimension == y.dimension ? (try? SpaceComparison.orthogonalProcrustes(moments))?.disparity : nil

        // 6. Anchor-count sweep (same strategy, seed and centring), capped at n/2 so that rows
        // remain to evaluate; queries = the main queries that are not anchors of that sweep
        // point, gallery = the rows that are not anchors of that sweep point.
        let cap = n / 2
        var counts = hasAnchors ? configuration.sweepCounts.filter { $0 >= 1 && $0 <= cap } : []
        if hasAnchors && configuration.sweepCounts.contains(where: { $0 > cap }) && !counts.contains(cap) { counts.append(cap) }
        var points: [SweepPoint] = []
        let mainCosines = relativeCosines, mainRanks = relativeRanks
        // Farthest-point and k-means++ selections are sequential: the first c anchors of a longer
        // run are the c-anchor selection (same seed), so select once and take prefixes.
        let sequentialAnchors: [Int]? = configuration.anchorStrategy == .random || counts.isEmpty ? nil
            : try AnchorStrategy.selectAnchors(x.matrix, count: counts.max()!, strategy: configuration.anchorStrategy, seed: configuration.seed)
        for c in counts.sorted() {
            let start = DispatchTime.now()
            if !configuration.hasExplicitAnchors && c == anchors.count {
                // Same count, strategy and seed as the main run: same anchors, same numbers.
                points.append(SweepPoint(anchors: c, relativeCosineMean: Self.mean(evaluation.map { mainCosines[$0] }),
                                         relativeTop1: Self.hitRate(mainRanks, within: 1),
                                         relativeMRR: Self.meanReciprocalRank(mainRanks), seconds: 0))
                continue
            }
            let anchors = try sequentialAnchors.map { Array($0.prefix(c)) }
                ?? AnchorStrategy.selectAnchors(x.matrix, count: c, strategy: configuration.anchorStrategy, seed: configuration.seed)
            let rel = Self.relativePair(x.matrix, y.matrix, unitX: unitX, unitY: unitY, anchors: anchors, centering: centre)
            Matrix.normalizeRowsInPlace(rel.x); Matrix.normalizeRowsInPlace(rel.y)
            let isAnchor = Set(anchors)
            let cosines = Self.rowwiseDot(rel.x, rel.y)
            let sweepEvaluation = Self.nonAnchorRows(n, anchors)
            var position: [Int: Int] = [:]
            for (p, r) in sweepEvaluation.enumerated() { position[r] = p }
            let sweepQueries = queries.filter { !isAnchor.contains($0) }.map { position[$0]! }
            let gx = rel.x.gather(rows: sweepEvaluation), gy = rel.y.gather(rows: sweepEvaluation)
            let ranks = Retrieval.trueMatchRanks(queries: gx.gather(rows: sweepQueries), gallery: gy, trueIndices: sweepQueries)
            points.append(SweepPoint(anchors: c, relativeCosineMean: Self.mean(sweepEvaluation.map { cosines[$0] }),
                                     relativeTop1: Self.hitRate(ranks, within: 1), relativeMRR: Self.meanReciprocalRank(ranks),
                                     seconds: Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9))
        }
        sweep = points
    }

    /// Whether every unit row lies within 1 − cos ≤ d·2⁻²⁴ (the Float32 resolution of a cosine)
    /// of the first one.
    /// - Complexity: O(n·d).
    static func isOneDirection(_ unit: Matrix) -> Bool {
        let n = unit.rows, d = unit.cols
        guard n >= 2 else { return false }
        let tolerance = Double(d) * 0x1p-24, p = unit.pointer
        for i in 1..<n {
            var dot = 0.0
            for t in 0..<d { dot += Double(p[i * d + t]) * Double(p[t]) }
            if 1 - dot > tolerance { return false }
        }
        return true
    }

    // MARK: summaries

    /// Per-row relative cosines of the non-anchor rows.
    public var evaluationCosines: [Double] { relativeCosines.isEmpty ? [] : evaluationRows.map { relativeCosines[$0] } }
    public var relativeCosineMean: Double { Self.mean(evaluationCosines) }
    public var relativeTop1: Double { Self.hitRate(relativeRanks, within: 1) }
    public var relativeTopK: Double { Self.hitRate(relativeRanks, within: ks.first ?? configuration.k) }
    public var relativeMRR: Double { Self.meanReciprocalRank(relativeRanks) }
    /// MRR as the relreps notebooks compute it: 1/rank if the partner is in the top k, else 0.
    public var relativeMRRAtK: Double {
        let k = ks.first ?? configuration.k
        return Self.mean(relativeRanks.map { $0.expectedReciprocalRank(within: k) })
    }
    /// Standard errors of the sampled retrieval metrics (over the q queries): √(p(1−p)/q) and s/√q.
    public var relativeTop1StandardError: Double {
        let p = relativeTop1, q = Double(relativeRanks.count)
        return q > 0 ? (p * (1 - p) / q).squareRoot() : .nan
    }
    public var relativeMRRStandardError: Double {
        let rr = relativeRanks.map(\.expectedReciprocalRank)
        guard rr.count > 1 else { return .nan }
        return Statistics.meanAndStandardDeviation(rr).std / Double(rr.count).squareRoot()
    }
    public var absoluteTop1: Double? { absoluteRanks.map { Self.hitRate($0, within: 1) } }
    public var absoluteMRR: Double? { absoluteRanks.map(Self.meanReciprocalRank) }
    /// 1 / gallery size (the non-anchor rows).
    public var chanceTop1: Double { 1 / Double(evaluationRows.count) }

    static func mean(_ v: [Double]) -> Double { v.isEmpty ? .nan : v.reduce(0, +) / Double(v.count) }
    /// Expected share of queries whose partner ranks within k (ties: expected value over tied orders).
    static func hitRate(_ ranks: [TiedFirstRank], within k: Int) -> Double {
        ranks.isEmpty ? .nan : ranks.reduce(0) { $0 + $1.probabilityWithin(k) } / Double(ranks.count)
    }
    static func meanReciprocalRank(_ ranks: [TiedFirstRank]) -> Double { mean(ranks.map(\.expectedReciprocalRank)) }

    // MARK: helpers

    static func nonAnchorRows(_ n: Int, _ anchors: [Int]) -> [Int] {
        let isAnchor = Set(anchors)
        return (0..<n).filter { !isAnchor.contains($0) }
    }

    /// Relative matrices of both spaces for the same anchor rows (fitted separately in each space).
    /// Without centring the unit rows (computed once) are reused: one GEMM per space, no copies.
    static func relativePair(_ x: Matrix, _ y: Matrix, unitX: Matrix, unitY: Matrix, anchors: [Int], centering: Bool) -> (x: Matrix, y: Matrix) {
        let px = RelativeProjection(space: x, anchorRows: anchors, centering: centering)
        let py = RelativeProjection(space: y, anchorRows: anchors, centering: centering)
        if centering { return (px.project(x), py.project(y)) }
        return (px.projectUnitRows(unitX), py.projectUnitRows(unitY))
    }

    /// Row-wise dot products (rows already unit: cosines), Float64 accumulation.
    static func rowwiseDot(_ a: Matrix, _ b: Matrix) -> [Double] {
        let rows = Array(0..<a.rows)
        return Matrix.pairedDotProducts(a, rows, b, rows)
    }
}

extension Matrix {
    /// Exact mean cosine over all distinct pairs of rows: (‖Σ û_i‖² − n) / (n(n − 1)), Float64 sums.
    /// - Complexity: O(n·d).
    public static func meanPairwiseCosine(_ m: Matrix) -> Double {
        let n = m.rows, d = m.cols
        guard n >= 2 else { return .nan }
        var sum = [Double](repeating: 0, count: d)
        for i in 0..<n {
            let r = m.pointer + i * d
            var s = 0.0
            for j in 0..<d { s += Double(r[j]) * Double(r[j]) }
            guard s > 0 else { continue }
            let inv = 1 / s.squareRoot()
            for j in 0..<d { sum[j] += Double(r[j]) * inv }
        }
        let norm2 = sum.reduce(0) { $0 + $1 * $1 }
        return (norm2 - Double(n)) / (Double(n) * Double(n - 1))
    }
}
