import Foundation

/// Which gallery rows are relevant to a query (retrieval evaluation).
public enum RetrievalRelevance: Sendable {
    /// Query q's only relevant gallery row is `targets[q]` (paired items: "find my partner").
    case index([Int])
    /// Gallery row j is relevant to query q iff `gallery[j] == query[q]` (class ids; a negative
    /// id is never relevant to anything).
    case classes(query: [Int32], gallery: [Int32])
}

/// Exact retrieval ranks over the full ranking of the gallery (not a top-k cut-off).
public struct RetrievalRanks: Sendable {
    /// Per query: 1-based rank of the first relevant gallery row; 0 when the query has none.
    public var firstRank: [Int]
    /// Per query: average precision (1/R) Σ_t t/rank_t over its R relevant rows; NaN when R = 0.
    public var averagePrecision: [Double]
    /// Per query: number of relevant gallery rows R (after self-exclusion).
    public var relevantCount: [Int]
}

/// Ranks of the relevant gallery rows of every query, by inner product (use unit rows for
/// cosine), over the whole gallery: blocked GEMM (`pairwiseDotBlocks`, never the q × n matrix)
/// plus one parallel pass per query row. Ordering: gallery row j comes before row r iff
/// s_j > s_r, or s_j = s_r and j < r — the tie rule of `nearestNeighbors`, so rank 1 is that
/// function's first neighbour. `excludeSelf`: queries are the gallery rows (query q = gallery row
/// q), and row q is removed from its own ranking (same-space retrieval). `excluded` generalises
/// it: query q's ranking leaves out gallery row `excluded[q]` (−1: none), e.g. for queries gathered
/// from the gallery rows.
///
/// Per query with R relevant rows the pass is O(n log R): the relevant scores are sorted once, and
/// each other row finds, by binary search, how many relevant rows it precedes.
public func retrievalRanks(queries: Matrix, gallery: Matrix, relevance: RetrievalRelevance,
                           excludeSelf: Bool = false, excluded: [Int]? = nil, blockRows: Int? = nil) -> RetrievalRanks {
    precondition(queries.cols == gallery.cols, "retrievalRanks: dimensions differ")
    let nq = queries.rows, n = gallery.rows
    precondition(excluded == nil || excluded!.count == nq, "retrievalRanks: one excluded row per query")
    let skip: [Int] = excluded ?? (excludeSelf ? Array(0..<nq) : [Int](repeating: -1, count: nq))
    var first = [Int](repeating: 0, count: nq)
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
    if nq == 0 || n == 0 { return RetrievalRanks(firstRank: first, averagePrecision: ap, relevantCount: counts) }
    first.withUnsafeMutableBufferPointer { firstBuf in
        ap.withUnsafeMutableBufferPointer { apBuf in
            counts.withUnsafeMutableBufferPointer { countBuf in
                let firstOut = firstBuf.baseAddress!, apOut = apBuf.baseAddress!, countOut = countBuf.baseAddress!
                pairwiseDotBlocks(queries, gallery, blockRows: blockRows) { rowStart, block in
                    let bp = block.pointer
                    parallelChunks(block.rows, minimumChunk: 4) { range in
                        var relIdx: [Int] = [], relScore: [Float] = [], before: [Int] = []
                        for r in range {
                            let q = rowStart + r
                            let s = bp + r * n
                            let ex = skip[q]
                            if byIndex {
                                let t = targets[q]
                                if t < 0 || t >= n || t == ex { continue }
                                let target = s[t]
                                var better = 0
                                for j in 0..<n where s[j] > target || (s[j] == target && j < t) {
                                    if j == ex { continue }
                                    better += 1
                                }
                                firstOut[q] = better + 1
                                apOut[q] = 1 / Double(better + 1)
                                countOut[q] = 1
                                continue
                            }
                            let c = queryClass[q]
                            guard c >= 0, let list = members[c] else { continue }
                            // Relevant rows sorted by ranking order (score descending, index ascending).
                            relIdx.removeAll(keepingCapacity: true)
                            for j in list where j != ex { relIdx.append(j) }
                            let rCount = relIdx.count
                            if rCount == 0 { continue }
                            relIdx.sort { s[$0] > s[$1] || (s[$0] == s[$1] && $0 < $1) }
                            relScore.removeAll(keepingCapacity: true)
                            for j in relIdx { relScore.append(s[j]) }
                            before.removeAll(keepingCapacity: true)
                            before.append(contentsOf: repeatElement(0, count: rCount + 1))
                            let lowest = relScore[rCount - 1]
                            for j in 0..<n {
                                let v = s[j]
                                if v < lowest { continue }
                                if galleryClass[j] == c || j == ex { continue }
                                // p = number of relevant rows that come before row j.
                                var lo = 0, hi = rCount
                                while lo < hi {
                                    let mid = (lo + hi) >> 1
                                    let sm = relScore[mid]
                                    if sm > v || (sm == v && relIdx[mid] < j) { lo = mid + 1 } else { hi = mid }
                                }
                                before[lo] += 1
                            }
                            var others = 0, sum = 0.0
                            for t in 0..<rCount {
                                others += before[t]
                                sum += Double(t + 1) / Double(t + 1 + others)
                                if t == 0 { firstOut[q] = 1 + others }
                            }
                            apOut[q] = sum / Double(rCount)
                            countOut[q] = rCount
                        }
                    }
                }
            }
        }
    }
    return RetrievalRanks(firstRank: first, averagePrecision: ap, relevantCount: counts)
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
