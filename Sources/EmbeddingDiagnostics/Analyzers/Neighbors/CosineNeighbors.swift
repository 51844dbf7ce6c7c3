import Foundation

/// Exact cosine k nearest neighbours of every query row among the corpus rows (all pairs, blocked
/// GEMM of unit vectors + partial selection; the n × m similarity matrix is never stored).
/// Guide: Guides/Neighbors.md.
public struct CosineNeighbors: Sendable {
    public internal(set) var k: Int
    /// True when queries and corpus are the same rows (a row is not its own neighbour).
    public internal(set) var selfExcluded: Bool
    public internal(set) var neighbors: NearestNeighbors
    public internal(set) var queryLabels: [String]
    public internal(set) var corpusLabels: [String]
    /// Source row numbers when the rows are a subset of their file (`Embeddings.sourceRows`).
    public internal(set) var corpusSourceRows: [Int]?
    public internal(set) var querySourceRows: [Int]?
    public internal(set) var inputs: [Source]
    /// The k asked for when the corpus had fewer rows to list (then `k` is what it had).
    public internal(set) var requestedK: Int? = nil
    /// Share of the queries whose k-th neighbour ties with the (k + 1)-th (equal Float64 scores,
    /// `ExactScores`): their lists are one of several the data allow, chosen by the row-index rule.
    public internal(set) var undeterminedShare: Double = 0
    /// Share of all k·queries list places held by rows tied at an undetermined k-th score: how far
    /// the tie rule, not the data, decides the lists — and so the k-occurrence counts.
    public internal(set) var tiedPlaceShare: Double = 0
    /// Above this tied-place share the k-occurrence counts describe the tie rule more than the data
    /// (6-bit sign codes: skewness 2.0 by row index, about 0 with ties broken at random), so
    /// hubness is not reported — the limit k-NN overlaps use (`SpaceComparison`).
    public static var tiedPlaceShareLimit: Double { SpaceComparison.tiedPlaceShareLimit }
    /// Whether hubness describes the data (`tiedPlaceShare` within the limit).
    public var hubnessIsDetermined: Bool { tiedPlaceShare <= Self.tiedPlaceShareLimit }

    /// - Parameters:
    ///   - corpus: rows to search.
    ///   - queries: rows to search for; nil = the corpus itself, each row excluded from its own list.
    public init(corpus: Embeddings, queries: Embeddings? = nil, k: Int) throws {
        guard k >= 1 else { throw EmbdiagError.usage("\(Setting.k) must be at least 1 (got \(k))") }
        try MemoryBudget.installed.value.check(Self.memoryEstimates(queries: queries?.count ?? corpus.count, corpusRows: corpus.count, k: k))
        if let q = queries, q.dimension != corpus.dimension {
            throw EmbdiagError.mismatch(q.source.path, "dimension \(q.dimension) differs from \(corpus.source.path)'s \(corpus.dimension)")
        }
        let unitCorpus = Matrix.normalizedRows(corpus.matrix)
        let unitQueries = queries.map { Matrix.normalizedRows($0.matrix) } ?? unitCorpus
        selfExcluded = queries == nil
        self.k = min(k, corpus.count - (selfExcluded ? 1 : 0))
        if self.k < k { requestedK = k }
        guard self.k >= 1 else { throw EmbdiagError.invalid(corpus.source.path, "needs at least 2 rows to find neighbours") }
        // One neighbour more than listed where the corpus has it: the (k + 1)-th score shows
        // whether the k-th is tied.
        let listed = min(self.k + 1, corpus.count - (selfExcluded ? 1 : 0))
        // A corpus against itself: the upper triangle of X·Xᵀ gives the same lists, bit for bit, from half the GEMM.
        let lists = selfExcluded ? nearestNeighborsWithinRows(unitCorpus, k: listed)
            : nearestNeighbors(queries: unitQueries, gallery: unitCorpus, k: listed, excludeSelf: false)
        neighbors = lists.prefix(self.k)
        if listed > self.k {
            let exact = ExactScores(queries: unitQueries, gallery: unitCorpus)
            let scores = (0..<lists.queryCount).map { q in lists.neighbors(of: q).map { exact.exact(q, Int($0)) } }
            (undeterminedShare, tiedPlaceShare) = Self.ties(scores, k: self.k)
        }
        corpusLabels = (0..<corpus.count).map(corpus.label)
        let q = queries ?? corpus
        queryLabels = (0..<q.count).map(q.label)
        corpusSourceRows = corpus.sourceRows
        querySourceRows = q.sourceRows
        inputs = [corpus.source] + (queries.map { [$0.source] } ?? [])
    }

    /// The k this corpus could not supply, capped (a warning of the report).
    public var caps: [ParameterCap] {
        guard let requestedK, requestedK > k else { return [] }
        return [ParameterCap(parameter: "--k", asked: requestedK, used: k, reason: "the corpus has \(k) rows to list\(selfExcluded ? " besides each row itself" : "")")]
    }

    /// Mean cosine of the k-th neighbour: a quick hubness/crowding indicator.
    public var meanKthSimilarity: Double {
        let n = neighbors.queryCount
        guard n > 0 else { return .nan }
        return (0..<n).reduce(0.0) { $0 + Double(neighbors.scores[$1 * k + k - 1]) } / Double(n)
    }

    /// (`undeterminedShare`, `tiedPlaceShare`) from each query's k + 1 best Float64 scores, best first.
    ///
    /// - Complexity: O(queries·k).
    static func ties(_ scores: [[Double]], k: Int) -> (undetermined: Double, tiedPlaces: Double) {
        var undetermined = 0, tiedPlaces = 0
        for list in scores where list.count > k && list[k] == list[k - 1] {
            undetermined += 1
            tiedPlaces += list.prefix(k).filter { $0 == list[k - 1] }.count
        }
        let queries = max(1, scores.count)
        return (Double(undetermined) / Double(queries), Double(tiedPlaces) / Double(queries * k))
    }

    /// How often each corpus row appears in the query rows' lists (hubness: Radovanović et al. 2010).
    public var occurrenceCounts: [Int] {
        var counts = [Int](repeating: 0, count: corpusLabels.count)
        for i in neighbors.indices where i >= 0 { counts[Int(i)] += 1 }
        return counts
    }
}
