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
    public var first: [TiedFirstRank?]
    /// Per query: expected average precision (1/R) Σ_t t/rank_t over the orderings of tied
    /// blocks (McSherry & Najork 2008); NaN when R = 0.
    public var averagePrecision: [Double]
    /// Per query: number of relevant gallery rows R (after self-exclusion).
    public var relevantCount: [Int]

    /// Expected 1-based rank of the first relevant row (0 = none); an integer when nothing ties.
    public var expectedFirstRank: [Double] { first.map { $0?.expectedRank ?? 0 } }
}

/// Ranks of the relevant gallery rows of every query over the whole gallery, by the scores of
/// `ExactScores` (Float32 blocked GEMM screens; comparisons closer than its error bound are decided
/// by Float64 dot products), so the result is the same on every CPU, kernel and thread count.
/// Exactly equal scores are ties: each metric is the expected value over the orderings of the tied
/// block (`TiedFirstRank`; McSherry & Najork, ECIR 2008). `excludeSelf`: queries are the gallery
/// rows (query q = gallery row q), and row q is removed from its own ranking. `excluded`
/// generalises it: query q's ranking leaves out gallery row `excluded[q]` (−1: none).
/// `queryScale`/`galleryScale`: per-row factors of the score (see `ExactScores`), e.g. 1/‖code‖
/// for integer codes.
///
/// - Complexity: O(q·n·d) for the GEMM, plus per query O(n log R) (R relevant rows) and O(d) per
///   near-tie recomputed in Float64.
public func retrievalRanks(queries: Matrix, gallery: Matrix, relevance: RetrievalRelevance,
                           excludeSelf: Bool = false, excluded: [Int]? = nil, blockRows: Int? = nil,
                           queryScale: [Double]? = nil, galleryScale: [Double]? = nil) -> RetrievalRanks {
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
    let scores = ExactScores(queries: queries, gallery: gallery, queryScale: queryScale, galleryScale: galleryScale)
    let eps = scores.tolerance
    first.withUnsafeMutableBufferPointer { firstBuf in
        ap.withUnsafeMutableBufferPointer { apBuf in
            counts.withUnsafeMutableBufferPointer { countBuf in
                let firstOut = firstBuf.baseAddress!, apOut = apBuf.baseAddress!, countOut = countBuf.baseAddress!
                pairwiseDotBlocks(queries, gallery, blockRows: blockRows) { rowStart, block in
                    let bp = block.pointer
                    parallelChunks(block.rows, minimumChunk: 4) { range in
                        // Per query: the distinct relevant scores (descending), how many relevant
                        // rows share each, and per such value the non-relevant rows strictly
                        // between it and the previous value (`above`) or equal to it (`tied`).
                        var relScore: [Double] = [], value: [Double] = [], size: [Int] = [], above: [Int] = [], tied: [Int] = []
                        for r in range {
                            let q = rowStart + r
                            let s = bp + r * n
                            let ex = skip[q]
                            if byIndex {
                                let t = targets[q]
                                if t < 0 || t >= n || t == ex { continue }
                                let target = scores.exact(q, t)
                                var better = 0, equal = 0
                                for j in 0..<n where j != t && j != ex {
                                    switch scores.compare(s[j], q, j, to: target) {
                                    case 1: better += 1
                                    case 0: equal += 1
                                    default: break
                                    }
                                }
                                let block = TiedFirstRank(before: better, blockSize: equal + 1, relevantInBlock: 1)
                                firstOut[q] = block
                                apOut[q] = block.expectedReciprocalRank
                                countOut[q] = 1
                                continue
                            }
                            let c = queryClass[q]
                            guard c >= 0, let list = members[c] else { continue }
                            relScore.removeAll(keepingCapacity: true)
                            for j in list where j != ex { relScore.append(scores.exact(q, j)) }
                            let rCount = relScore.count
                            if rCount == 0 { continue }
                            relScore.sort(by: >)
                            value.removeAll(keepingCapacity: true); size.removeAll(keepingCapacity: true)
                            for x in relScore {
                                if let last = value.last, last == x { size[size.count - 1] += 1 } else { value.append(x); size.append(1) }
                            }
                            let groups = value.count
                            above.removeAll(keepingCapacity: true); above.append(contentsOf: repeatElement(0, count: groups + 1))
                            tied.removeAll(keepingCapacity: true); tied.append(contentsOf: repeatElement(0, count: groups))
                            let lowest = value[groups - 1] - eps
                            // Number of groups whose value is > x (binary search on descending values).
                            func groupsAbove(_ x: Double) -> Int {
                                var lo = 0, hi = groups
                                while lo < hi { let mid = (lo + hi) >> 1; if value[mid] > x { lo = mid + 1 } else { hi = mid } }
                                return lo
                            }
                            for j in 0..<n {
                                if galleryClass[j] == c || j == ex { continue }
                                let v = scores.screened(s[j], q, j)
                                if v < lowest { above[groups] += 1; continue }
                                // Certain when no group value lies within eps of v.
                                let a = groupsAbove(v + eps), b = groupsAbove((v - eps).nextDown)
                                if a == b { above[a] += 1; continue }
                                let e = scores.exact(q, j)
                                let k = groupsAbove(e)
                                if k < groups && value[k] == e { tied[k] += 1 } else { above[k] += 1 }
                            }
                            var precedingItems = 0, precedingRelevant = 0, sum = 0.0
                            for g in 0..<groups {
                                precedingItems += above[g]
                                let m = size[g] + tied[g]
                                if g == 0 { firstOut[q] = TiedFirstRank(before: precedingItems, blockSize: m, relevantInBlock: size[g]) }
                                sum += TiedFirstRank.averagePrecisionContribution(precedingItems: precedingItems, precedingRelevant: precedingRelevant,
                                                                                  blockSize: m, relevantInBlock: size[g])
                                precedingItems += m
                                precedingRelevant += size[g]
                            }
                            apOut[q] = sum / Double(rCount)
                            countOut[q] = rCount
                        }
                    }
                }
            }
        }
    }
    return RetrievalRanks(first: first, averagePrecision: ap, relevantCount: counts)
}

/// Integer class ids for string labels (first occurrence order), for `RetrievalRelevance.classes`.
/// Query labels absent from the gallery get -1 (never relevant).
public func classIds(gallery: [String], queries: [String]? = nil) -> (gallery: [Int32], queries: [Int32]) {
    var ids: [String: Int32] = [:]
    var g: [Int32] = []
    g.reserveCapacity(gallery.count)
    for l in gallery {
        if let id = ids[l] { g.append(id) } else { let id = Int32(ids.count); ids[l] = id; g.append(id) }
    }
    let q = (queries ?? gallery).map { ids[$0] ?? -1 }
    return (g, q)
}
