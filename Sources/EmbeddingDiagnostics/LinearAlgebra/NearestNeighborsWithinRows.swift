import Foundation

/// The k nearest other rows of every row of `x` by inner product — the same lists as
/// `nearestNeighbors(queries: x, gallery: x, k: k, excludeSelf: true)`, bit for bit, from half the
/// GEMM work: X·Xᵀ is symmetric, so only its upper triangle is computed, and each value updates
/// two lists (row i's with j, row j's with i).
///
/// Row block I (rows i₀..<i₁) is multiplied with the rows from i₀ on, in column tiles. A tile feeds
/// two scans: the row scan (each row of I against every column of the tile but itself) and the
/// column scan (each column right of the diagonal block against the rows of I — the mirror
/// entries, which no later block computes). Every unordered pair is therefore seen once by each
/// of its two rows. Each scan is split between the cores by the lists it updates (rows, then
/// columns), so no list is touched by two threads. Screening and the decision are
/// `nearestNeighbors`'s: a candidate within twice the GEMM's error bound of a row's running k-th
/// screened score is kept, and the survivors are rescored in Float64 (`ExactScores`) and ordered
/// by (score descending, index ascending) — the result does not depend on the kernel, the tiling
/// or the thread count.
///
/// - Complexity: O(n²·d/2) GEMM, O(n²) screening, O(n·k) memory for the lists plus the candidates
///   near each k-th score; one tile of `rowBlock` × `columnTile` Float32 at a time.
public func nearestNeighborsWithinRows(_ x: Matrix, k: Int, rowBlock: Int = 1024, columnTile: Int = 4096) -> NearestNeighbors {
    let n = x.rows, kk = max(0, k)
    var indices = [Int32](repeating: -1, count: n * kk)
    var scores = [Float](repeating: -.infinity, count: n * kk)
    if n < 2 || kk == 0 { return NearestNeighbors(k: kk, indices: indices, scores: scores) }
    let exact = ExactScores(queries: x, gallery: x)
    let margin = 2 * exact.tolerance
    // Per row: screened top-k (best first), how many it holds, and the candidates within `margin`
    // of the running k-th screened score.
    var top = [Double](repeating: -.infinity, count: n * kk)
    var held = [Int](repeating: 0, count: n)
    var candidates = [[(Int32, Double)]](repeating: [], count: n)
    let progress = ProgressReporter.current.task("neighbours", total: n, minimum: isLongPass(n, n / 2, x.cols) ? 1 : .max)
    defer { progress?.finish() }
    let scratch = Matrix(rows: min(rowBlock, n), cols: min(columnTile, n))
    top.withUnsafeMutableBufferPointer { topBuf in
        held.withUnsafeMutableBufferPointer { heldBuf in
            candidates.withUnsafeMutableBufferPointer { candBuf in
                let topP = topBuf.baseAddress!, heldP = heldBuf.baseAddress!, candP = candBuf.baseAddress!
                /// Offers row `j` with screened score `v` to row `q`'s list.
                @inline(__always) func offer(_ q: Int, _ j: Int, _ v: Double) {
                    let t = topP + q * kk
                    var count = heldP[q]
                    let floor = count == kk ? t[kk - 1] - margin : -Double.infinity
                    if v < floor { return }
                    candP[q].append((Int32(j), v))
                    if count < kk || v > t[kk - 1] {
                        var pos = min(count, kk - 1)
                        while pos > 0 && t[pos - 1] < v { t[pos] = t[pos - 1]; pos -= 1 }
                        t[pos] = v
                        if count < kk { count += 1; heldP[q] = count }
                    }
                    if candP[q].count > 4 * kk + 256 {
                        let f = count == kk ? t[kk - 1] - margin : -Double.infinity
                        candP[q].removeAll { $0.1 < f }
                    }
                }
                var i0 = 0
                while i0 < n {
                    let i1 = min(n, i0 + rowBlock)
                    progress?.update(i0)
                    var c0 = i0
                    while c0 < n {
                        let c1 = min(n, c0 + columnTile)
                        let tile = Matrix(rows: i1 - i0, cols: c1 - c0, storage: scratch.storage)
                        BLAS.gemm(x.rows(i0..<i1), x.rows(c0..<c1), transposeB: true, into: tile)
                        let width = c1 - c0, values = tile.pointer
                        // Row scan: rows of the block, every column of the tile but the row itself.
                        parallelChunks(i1 - i0, minimumChunk: 64) { range in
                            for r in range {
                                let q = i0 + r
                                let row = values + r * width
                                for c in 0..<width where c0 + c != q {
                                    let raw = row[c]
                                    if raw.isNaN { continue }
                                    offer(q, c0 + c, exact.screened(raw, q, c0 + c))
                                }
                            }
                        }
                        // Column scan: columns right of the diagonal block take the block's rows.
                        let firstColumn = max(c0, i1)
                        if firstColumn < c1 {
                            parallelChunks(c1 - firstColumn, minimumChunk: 256) { range in
                                for r in 0..<(i1 - i0) {
                                    let row = values + r * width
                                    let q = i0 + r
                                    for c in range {
                                        let g = firstColumn + c
                                        let raw = row[g - c0]
                                        if raw.isNaN { continue }
                                        offer(g, q, exact.screened(raw, g, q))
                                    }
                                }
                            }
                        }
                        c0 = c1
                    }
                    i0 = i1
                }
            }
        }
    }
    // Rescore the survivors in Float64 and keep the k best (ties: smaller index).
    indices.withUnsafeMutableBufferPointer { idxBuf in
        scores.withUnsafeMutableBufferPointer { scBuf in
            let idx = idxBuf.baseAddress!, sc = scBuf.baseAddress!
            parallelChunks(n, minimumChunk: 256) { range in
                for q in range {
                    let floor = held[q] == kk ? top[q * kk + kk - 1] - margin : -Double.infinity
                    writeRescoredTopK(candidates[q], floor: floor, row: q, k: kk, exact: exact, indices: idx, scores: sc)
                }
            }
        }
    }
    return NearestNeighbors(k: kk, indices: indices, scores: scores)
}
