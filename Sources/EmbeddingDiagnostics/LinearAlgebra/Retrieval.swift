import Foundation

/// Which gallery rows are relevant to a query (retrieval evaluation).
public enum RetrievalRelevance: Sendable {
    /// Query q's only relevant gallery row is `targets[q]` (paired items: "find my partner").
    case index([Int])
    /// Gallery row j is relevant to query q iff `gallery[j] == query[q]` (class ids; a negative
    /// id is never relevant to anything).
    case classes(query: [Int32], gallery: [Int32])
}

/// Exact retrieval ranks over the full ranking of the gallery (not a top-k cut-off), tie-aware.
public struct RetrievalRanks: Sendable {
    /// Per query: the tied block that holds its first relevant gallery row; nil when the query has
    /// no relevant row.
    public internal(set) var first: [TiedFirstRank?]
    /// Per query: expected average precision (1/R) Σ_t t/rank_t over the orderings of tied
    /// blocks (McSherry & Najork 2008); NaN when R = 0.
    public internal(set) var averagePrecision: [Double]
    /// Per query: number of relevant gallery rows R (after self-exclusion).
    public internal(set) var relevantCount: [Int]

    /// Expected 1-based rank of the first relevant row (0 = none); an integer when nothing ties.
    public var expectedFirstRank: [Double] { first.map { $0?.expectedRank ?? 0 } }
}

extension Retrieval {
    /// Ranks of the relevant gallery rows of every query over the whole gallery, by the scores of
    /// `ExactScores` (Float32 blocked GEMM screens; comparisons closer than its error bound are decided
    /// by Float64 dot products), so the result is the same on every CPU, kernel and thread count.
    /// Exactly equal scores are ties: each metric is the expected value over the orderings of the tied
    /// block (`TiedFirstRank`; McSherry & Najork, ECIR 2008). `excludeSelf`: queries are the gallery
    /// rows (query q = gallery row q), and row q is removed from its own ranking. `excluded`
    /// generalises it: query q's ranking leaves out gallery row `excluded[q]` (−1: none).
    /// `queryScale`/`galleryScale`: per-row factors of the score (see `ExactScores`), e.g. 1/‖code‖
    /// for integer codes. `cosines`: the query and gallery rows as given, whose `exactCosine`s decide
    /// the comparisons (see `ExactScores`); the screened rows are then their unit rows (or codes).
    ///
    /// One tiled GEMM pass (`forEachScoreBlock`: both cores, each tile scanned while in cache);
    /// `blockRows` sets the query rows per block (default: chosen from the query count).
    ///
    /// - Complexity: O(q·n·d) for the GEMM, plus per query O(n log R) (R relevant rows) and O(d) per
    ///   near-tie recomputed in Float64.
    public static func retrievalRanks(queries: Matrix, gallery: Matrix, relevance: RetrievalRelevance,
                               excludeSelf: Bool = false, excluded: [Int]? = nil, blockRows: Int? = nil,
                               queryScale: [Double]? = nil, galleryScale: [Double]? = nil,
                               cosines: (queries: CosineRows, gallery: CosineRows)? = nil) -> RetrievalRanks {
        precondition(queries.cols == gallery.cols, "retrievalRanks: dimensions differ")
        let nq = queries.rows, n = gallery.rows
        precondition(excluded == nil || excluded!.count == nq, "retrievalRanks: one excluded row per query")
        let skip: [Int] = excluded ?? (excludeSelf ? Array(0..<nq) : [Int](repeating: -1, count: nq))
        var first = [TiedFirstRank?](repeating: nil, count: nq)
        var ap = [Double](repeating: .nan, count: nq)
        var counts = [Int](repeating: 0, count: nq)
        // Gallery rows of each class, in index order.
        var members: [Int32: [Int]] = [:]
        var galleryClass: [Int32] = []
        var queryClass: [Int32] = []
        var targets: [Int] = []
        switch relevance {
        case .index(let t):
            precondition(t.count == nq, "retrievalRanks: one target per query")
            targets = t
        case .classes(let q, let g):
            precondition(q.count == nq && g.count == n, "retrievalRanks: one class per row")
            queryClass = q; galleryClass = g
            for (j, c) in g.enumerated() where c >= 0 { members[c, default: []].append(j) }
        }
        let byIndex = !targets.isEmpty || queryClass.isEmpty
        if nq == 0 || n == 0 { return RetrievalRanks(first: first, averagePrecision: ap, relevantCount: counts) }
        let scores = ExactScores(queries: queries, gallery: gallery, queryScale: queryScale, galleryScale: galleryScale, cosines: cosines)
        first.withUnsafeMutableBufferPointer { firstBuf in
            ap.withUnsafeMutableBufferPointer { apBuf in
                counts.withUnsafeMutableBufferPointer { countBuf in
                    let firstOut = firstBuf.baseAddress!, apOut = apBuf.baseAddress!, countOut = countBuf.baseAddress!
                    // One tiled GEMM pass: every tile row is scanned while in cache, per-query state lives
                    // in the worker that owns the query block.
                    forEachScoreBlock(queries: queries, gallery: gallery, queryBlock: blockRows) { rows, tiles in
                        let m = rows.count
                        if byIndex {
                            // Per query: the Float64 target score, its Float32 cut-offs and the counts.
                            var targetScore = [Double](repeating: 0, count: m)
                            var cuts = [(lo: Float, up: Float)?](repeating: nil, count: m)
                            var live = [Bool](repeating: false, count: m)
                            var count = [TargetRankCount](repeating: TargetRankCount(), count: m)
                            for r in 0..<m {
                                let q = rows.lowerBound + r, t = targets[q]
                                if t < 0 || t >= n || t == skip[q] { continue }
                                live[r] = true
                                targetScore[r] = scores.exact(q, t)
                                cuts[r] = scores.screeningCuts(around: targetScore[r])
                            }
                            tiles.forEach { columns, tile in
                                for r in 0..<m where live[r] {
                                    let q = rows.lowerBound + r
                                    scores.countAgainstTarget(tile + r * columns.count, columns: columns, query: q, target: targets[q],
                                                              targetScore: targetScore[r], cuts: cuts[r], excluded: skip[q], into: &count[r])
                                }
                            }
                            for r in 0..<m where live[r] {
                                let q = rows.lowerBound + r
                                (firstOut[q], apOut[q]) = RetrievalRanks.rankedTarget(better: count[r].better, equal: count[r].equal)
                                countOut[q] = 1
                            }
                            return
                        }
                        // Per query: the distinct relevant scores (descending) with how many relevant
                        // rows share each, and per such value the non-relevant rows strictly between it
                        // and the previous value (`above`) or equal to it (`tied`).
                        var groups = [RelevantScoreGroups](repeating: .empty, count: m)
                        var above = [[Int]](repeating: [], count: m), tied = [[Int]](repeating: [], count: m)
                        var floorRaw = [Float](repeating: .infinity, count: m)
                        var relScore: [Double] = []
                        for r in 0..<m {
                            let q = rows.lowerBound + r
                            let ex = skip[q]
                            let c = queryClass[q]
                            guard c >= 0, let list = members[c] else { continue }
                            relScore.removeAll(keepingCapacity: true)
                            for j in list where j != ex { relScore.append(scores.exact(q, j)) }
                            if relScore.isEmpty { continue }
                            groups[r] = RelevantScoreGroups(scores: relScore)
                            above[r] = [Int](repeating: 0, count: groups[r].values.count + 1)
                            tied[r] = [Int](repeating: 0, count: groups[r].values.count)
                            floorRaw[r] = scores.rawFloor(below: groups[r].values[groups[r].values.count - 1])
                        }
                        tiles.forEach { columns, tile in
                            for r in 0..<m where !groups[r].values.isEmpty {
                                let q = rows.lowerBound + r
                                groups[r].values.withUnsafeBufferPointer { values in
                                above[r].withUnsafeMutableBufferPointer { aboveBuf in
                                tied[r].withUnsafeMutableBufferPointer { tiedBuf in
                                galleryClass.withUnsafeBufferPointer { classes in
                                    scores.countAroundGroups(tile + r * columns.count, columns: columns, query: q, queryClass: queryClass[q],
                                                             galleryClass: classes.baseAddress!, excluded: skip[q], values: values, floorRaw: floorRaw[r],
                                                             above: aboveBuf.baseAddress!, tied: tiedBuf.baseAddress!)
                                }}}}
                            }
                        }
                        for r in 0..<m where !groups[r].values.isEmpty {
                            let q = rows.lowerBound + r
                            (firstOut[q], apOut[q]) = RetrievalRanks.rankedGroups(groups[r], above: above[r], tied: tied[r])
                            countOut[q] = groups[r].relevantCount
                        }
                    }
                }
            }
        }
        return RetrievalRanks(first: first, averagePrecision: ap, relevantCount: counts)
    }

    /// Integer class ids for string labels (first occurrence order), for `RetrievalRelevance.classes`.
    /// Query labels absent from the gallery get -1 (never relevant).
    public static func classIds(gallery: [String], queries: [String]? = nil) -> (gallery: [Int32], queries: [Int32]) {
        var ids: [LabelKey: Int32] = [:]
        var g: [Int32] = []
        g.reserveCapacity(gallery.count)
        for l in gallery {
            let key = LabelKey(l)
            if let id = ids[key] { g.append(id) } else { let id = Int32(ids.count); ids[key] = id; g.append(id) }
        }
        let q = (queries ?? gallery).map { ids[LabelKey($0)] ?? -1 }
        return (g, q)
    }
}
