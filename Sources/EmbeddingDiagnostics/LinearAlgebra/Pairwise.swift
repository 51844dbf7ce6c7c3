import COpenBLAS
import Foundation

/// Calls `body` with consecutive blocks of the product A · Bᵀ (rows of A against all rows of B),
/// so that the full n × m matrix never sits in memory. Each block is `rowCount × b.rows`,
/// row-major, starting at row `rowStart` of A. The GEMM uses all OpenBLAS threads; blocks are
/// delivered in order on the calling thread.
public func pairwiseDotBlocks(_ a: Matrix, _ b: Matrix, blockRows: Int? = nil,
                              body: (_ rowStart: Int, _ block: Matrix) throws -> Void) rethrows {
    precondition(a.cols == b.cols, "pairwise: dimensions differ (\(a.cols) vs \(b.cols))")
    let rowsPerBlock = blockRows ?? max(16, min(a.rows, (64 << 20) / max(1, b.rows * 4)))
    let scratch = Matrix(rows: min(rowsPerBlock, max(a.rows, 1)), cols: b.rows)
    var start = 0
    while start < a.rows {
        let end = min(a.rows, start + rowsPerBlock)
        let out = Matrix(rows: end - start, cols: b.rows, storage: scratch.storage)
        gemm(a.rows(start..<end), b, transposeB: true, into: out)
        try body(start, out)
        start = end
    }
}

/// Cosine similarity blocks: rows of A against rows of B, both normalised first (copies).
/// Zero rows give zero similarity.
public func pairwiseCosineBlocks(_ a: Matrix, _ b: Matrix, blockRows: Int? = nil,
                                 body: (_ rowStart: Int, _ block: Matrix) throws -> Void) rethrows {
    let an = normalizedRows(a)
    let bn = a.storage === b.storage && a.offset == b.offset && a.rows == b.rows ? an : normalizedRows(b)
    try pairwiseDotBlocks(an, bn, blockRows: blockRows, body: body)
}

/// Exact k nearest neighbours by inner product (use unit rows for cosine).
public struct NearestNeighbors: Sendable {
    public var k: Int
    /// queries × k, row-major; best first. -1 where fewer than k candidates exist.
    public var indices: [Int32]
    public var scores: [Float]
    public var queryCount: Int { k == 0 ? 0 : indices.count / k }

    public func neighbors(of q: Int) -> ArraySlice<Int32> { indices[(q * k)..<((q + 1) * k)] }
    public func scores(of q: Int) -> ArraySlice<Float> { scores[(q * k)..<((q + 1) * k)] }
}

/// Top-k by inner product of every query row against every gallery row: blocked GEMM (both cores
/// through OpenBLAS) plus a per-row partial selection run in parallel. Ties are broken by the
/// smaller gallery index, so results do not depend on blocking or thread count.
/// `excludeSelf`: when queries and gallery are the same rows, skip gallery row i for query i.
public func nearestNeighbors(queries: Matrix, gallery: Matrix, k: Int, excludeSelf: Bool = false,
                             queryBlock: Int = 2048, galleryBlock: Int = 16384) -> NearestNeighbors {
    precondition(queries.cols == gallery.cols, "nearestNeighbors: dimensions differ")
    let nq = queries.rows, ng = gallery.rows
    let kk = max(0, k)
    var indices = [Int32](repeating: -1, count: nq * kk)
    var scores = [Float](repeating: -.infinity, count: nq * kk)
    if nq == 0 || kk == 0 || ng == 0 { return NearestNeighbors(k: kk, indices: indices, scores: scores) }
    let qb = min(queryBlock, nq), gb = min(galleryBlock, ng)
    let scratch = Matrix(rows: qb, cols: gb)
    indices.withUnsafeMutableBufferPointer { idxBuf in
        scores.withUnsafeMutableBufferPointer { scBuf in
            let idx = idxBuf.baseAddress!, sc = scBuf.baseAddress!
            var qs = 0
            while qs < nq {
                let qe = min(nq, qs + qb)
                var gs = 0
                while gs < ng {
                    let ge = min(ng, gs + gb)
                    let block = Matrix(rows: qe - qs, cols: ge - gs, storage: scratch.storage)
                    gemm(queries.rows(qs..<qe), gallery.rows(gs..<ge), transposeB: true, into: block)
                    let width = ge - gs
                    let bp = block.pointer
                    parallelChunks(qe - qs, minimumChunk: 64) { range in
                        for r in range {
                            let q = qs + r
                            let rowIdx = idx + q * kk, rowSc = sc + q * kk
                            let vals = bp + r * width
                            for j in 0..<width {
                                let v = vals[j]
                                // Full list: only strictly better values enter, so ties keep the
                                // earlier gallery index (blocks are visited in index order).
                                if rowIdx[kk - 1] != -1 && !(v > rowSc[kk - 1]) { continue }
                                if v.isNaN { continue }
                                let g = gs + j
                                if excludeSelf && g == q { continue }
                                // Insertion into the sorted top-k list.
                                var pos = kk - 1
                                while pos > 0 && (rowIdx[pos - 1] == -1 || rowSc[pos - 1] < v) {
                                    rowSc[pos] = rowSc[pos - 1]; rowIdx[pos] = rowIdx[pos - 1]; pos -= 1
                                }
                                rowSc[pos] = v; rowIdx[pos] = Int32(g)
                            }
                        }
                    }
                    gs = ge
                }
                qs = qe
            }
        }
    }
    return NearestNeighbors(k: kk, indices: indices, scores: scores)
}
