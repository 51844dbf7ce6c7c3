import COpenBLAS
import Foundation

/// Whether an all-pairs pass over m × n rows of dimension d can take a few seconds (≈ 2·10¹⁰
/// multiply-adds plus the per-score work): such passes report progress.
@inline(__always) func isLongPass(_ m: Int, _ n: Int, _ d: Int) -> Bool { Double(m) * Double(n) * Double(max(d, 64)) >= 2e10 }

/// Exact k nearest neighbours by inner product (use unit rows for cosine).
public struct NearestNeighbors: Sendable {
    public internal(set) var k: Int
    /// queries × k, row-major; best first. -1 where fewer than k candidates exist.
    public internal(set) var indices: [Int32]
    public internal(set) var scores: [Float]
    public var queryCount: Int { k == 0 ? 0 : indices.count / k }

    public func neighbors(of q: Int) -> ArraySlice<Int32> { indices[(q * k)..<((q + 1) * k)] }
    public func scores(of q: Int) -> ArraySlice<Float> { scores[(q * k)..<((q + 1) * k)] }

    /// The Float64 score (`exact`) of every query's k-th neighbour — the radius of its k-NN ball
    /// as the fixed-order dot product, not the Float32 score kept in `scores`, so that a row at
    /// exactly the radius compares equal to it. Lists of full length only (k ≥ 1, no -1).
    /// - Complexity: O(queries·d).
    public func kthNeighbourScores(_ exact: ExactScores) -> [Double] {
        (0..<queryCount).map { exact.exact($0, Int(indices[$0 * k + k - 1])) }
    }
}

/// Top-k by inner product of every query row against every gallery row, the same on every CPU:
/// blocked GEMM (both cores through OpenBLAS) screens, then every candidate within twice the
/// GEMM's error bound of the k-th screened score is rescored in Float64 (`ExactScores`) and the
/// list is ordered by (Float64 score descending, gallery index ascending). Ties at the k-th place
/// therefore go to the smaller gallery index, whatever the kernel, blocking or thread count.
/// `excludeSelf`: when queries and gallery are the same rows, skip gallery row i for query i.
/// `cosines`: the rows as given, whose `exactCosine`s are the Float64 scores (see `ExactScores`).
/// Scores returned are the Float64 scores rounded to Float32. One tiled GEMM pass
/// (`forEachScoreBlock`, blocks of at most `queryBlock` × `galleryBlock`), each tile scanned in cache.
///
/// - Complexity: O(q·n·d) GEMM, O(q·n) selection, plus O(d) per near-tie candidate.
public func nearestNeighbors(queries: Matrix, gallery: Matrix, k: Int, excludeSelf: Bool = false,
                             queryBlock: Int = 2048, galleryBlock: Int = 16384,
                             queryScale: [Double]? = nil, galleryScale: [Double]? = nil,
                             cosines: (queries: CosineRows, gallery: CosineRows)? = nil) -> NearestNeighbors {
    precondition(queries.cols == gallery.cols, "nearestNeighbors: dimensions differ")
    let nq = queries.rows, ng = gallery.rows
    let kk = max(0, k)
    var indices = [Int32](repeating: -1, count: nq * kk)
    var scores = [Float](repeating: -.infinity, count: nq * kk)
    if nq == 0 || kk == 0 || ng == 0 { return NearestNeighbors(k: kk, indices: indices, scores: scores) }
    let exact = ExactScores(queries: queries, gallery: gallery, queryScale: queryScale, galleryScale: galleryScale, cosines: cosines)
    let margin = 2 * exact.tolerance
    let unscaled = queryScale == nil && galleryScale == nil
    indices.withUnsafeMutableBufferPointer { idxBuf in
        scores.withUnsafeMutableBufferPointer { scBuf in
            let idx = idxBuf.baseAddress!, sc = scBuf.baseAddress!
            // One tiled GEMM pass; each worker owns its query block's running lists.
            forEachScoreBlock(queries: queries, gallery: gallery, queryBlock: min(queryBlock, defaultScoreQueryBlock(nq)),
                              galleryBlock: min(galleryBlock, 2048)) { rows, tiles in
                // Per query of this block: screened top-k (best first) and the candidates within
                // `margin` of the running k-th screened score.
                let rowsInBlock = rows.count, qs = rows.lowerBound
                var topScore = [Double](repeating: -.infinity, count: rowsInBlock * kk)
                var topCount = [Int](repeating: 0, count: rowsInBlock)
                var candidates = [[(Int32, Double)]](repeating: [], count: rowsInBlock)
                tiles.forEach { columns, tile in
                    let width = columns.count, gs = columns.lowerBound
                    topScore.withUnsafeMutableBufferPointer { tsBuf in
                        let ts = tsBuf.baseAddress!
                        for r in 0..<rowsInBlock {
                            let q = qs + r
                            let top = ts + r * kk
                            let vals = tile + r * width
                            var count = topCount[r]
                            var floor = count == kk ? top[kk - 1] - margin : -Double.infinity
                            // Raw Float32 values below `floorRaw` are below `floor` (unscaled scores).
                            func rawFloor(_ x: Double) -> Float {
                                guard unscaled, x > -Double.infinity else { return -.infinity }
                                var f = Float(x)
                                if Double(f) > x { f = f.nextDown }
                                return f
                            }
                            var floorRaw = rawFloor(floor)
                            let rawValues = UnsafeRawPointer(vals)
                            func consider(_ j: Int) {
                                let raw = vals[j]
                                if raw < floorRaw || raw.isNaN { return }
                                let v = exact.screened(raw, q, gs + j)
                                if v < floor { return }
                                let g = gs + j
                                if excludeSelf && g == q { return }
                                candidates[r].append((Int32(g), v))
                                // Screened top-k values (only the k-th matters for the floor).
                                if count < kk || v > top[kk - 1] {
                                    var pos = min(count, kk - 1)
                                    while pos > 0 && top[pos - 1] < v { top[pos] = top[pos - 1]; pos -= 1 }
                                    top[pos] = v
                                    if count < kk { count += 1 }
                                    if count == kk { floor = top[kk - 1] - margin; floorRaw = rawFloor(floor) }
                                }
                                if candidates[r].count > 4 * kk + 256 { candidates[r].removeAll { $0.1 < floor } }
                            }
                            var j = 0
                            while j + 16 <= width {
                                // Sixteen values at once when all are below the floor (NaN is not below
                                // it: such a group takes the scalar path, which skips NaN).
                                let x = rawValues.loadUnaligned(fromByteOffset: j * 4, as: SIMD16<Float>.self)
                                if !all(x .< SIMD16<Float>(repeating: floorRaw)) {
                                    for t in j..<(j + 16) { consider(t) }
                                }
                                j += 16
                            }
                            while j < width { consider(j); j += 1 }
                            topCount[r] = count
                        }
                    }
                }
                // Rescore the survivors in Float64 and keep the k best (ties: smaller index).
                for r in 0..<rowsInBlock {
                    let floor = topCount[r] == kk ? topScore[r * kk + kk - 1] - margin : -Double.infinity
                    writeRescoredTopK(candidates[r], floor: floor, row: qs + r, k: kk, exact: exact, indices: idx, scores: sc)
                }
            }
        }
    }
    return NearestNeighbors(k: kk, indices: indices, scores: scores)
}

/// The k best of row q's screened candidates: those at or above `floor` rescored in Float64
/// (`ExactScores`) and ordered by (score descending, index ascending), written to row q of the
/// output lists. The decision step of `nearestNeighbors` and `nearestNeighborsWithinRows`.
@inline(__always)
func writeRescoredTopK(_ candidates: [(Int32, Double)], floor: Double, row q: Int, k: Int, exact: ExactScores,
                       indices: UnsafeMutablePointer<Int32>, scores: UnsafeMutablePointer<Float>) {
    var list = candidates.filter { $0.1 >= floor }.map { ($0.0, exact.exact(q, Int($0.0))) }
    list.sort { $0.1 > $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }
    for (t, item) in list.prefix(k).enumerated() {
        indices[q * k + t] = item.0
        scores[q * k + t] = Float(item.1)
    }
}

extension Matrix {
    /// Calls `body` with consecutive blocks of the product A · Bᵀ (rows of A against all rows of B),
    /// so that the full n × m matrix never sits in memory. Each block is `rowCount × b.rows`,
    /// row-major, starting at row `rowStart` of A. The GEMM uses all OpenBLAS threads; blocks are
    /// delivered in order on the calling thread.
    public static func pairwiseDotBlocks(_ a: Matrix, _ b: Matrix, blockRows: Int? = nil, progressLabel: String = "all pairs",
                                  body: (_ rowStart: Int, _ block: Matrix) throws -> Void) rethrows {
        precondition(a.cols == b.cols, "pairwise: dimensions differ (\(a.cols) vs \(b.cols))")
        let rowsPerBlock = blockRows ?? max(16, min(a.rows, (64 << 20) / max(1, b.rows * 4)))
        let scratch = Matrix(rows: min(rowsPerBlock, max(a.rows, 1)), cols: b.rows)
        let progress = ProgressReporter.current.task(progressLabel, total: a.rows, minimum: isLongPass(a.rows, b.rows, a.cols) ? 1 : .max)
        var start = 0
        while start < a.rows {
            let end = min(a.rows, start + rowsPerBlock)
            let out = Matrix(rows: end - start, cols: b.rows, storage: scratch.storage)
            BLAS.gemm(a.rows(start..<end), b, transposeB: true, into: out)
            try body(start, out)
            start = end
            progress?.update(start)
        }
        progress?.finish()
    }

    /// Cosine similarity blocks: rows of A against rows of B, both normalised first (copies).
    /// Zero rows give zero similarity.
    public static func pairwiseCosineBlocks(_ a: Matrix, _ b: Matrix, blockRows: Int? = nil,
                                     body: (_ rowStart: Int, _ block: Matrix) throws -> Void) rethrows {
        let an = Matrix.normalizedRows(a)
        let bn = a.storage === b.storage && a.offset == b.offset && a.rows == b.rows ? an : Matrix.normalizedRows(b)
        try Matrix.pairwiseDotBlocks(an, bn, blockRows: blockRows, body: body)
    }
}
