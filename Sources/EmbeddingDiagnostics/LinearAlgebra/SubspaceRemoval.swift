import COpenBLAS
import Foundation

/// What `removeSubspaceInPlace` measured on the rows it neutralized.
public struct SubspaceRemovalSummary: Sendable {
    /// Rows whose projection was removed.
    public var removedRows: Int
    /// Σ ‖P_B x̂‖ over those rows before and after (x̂ = unit row).
    public var projectionNormSumBefore: Double
    public var projectionNormSumAfter: Double
}

/// Hard-debias neutralization in one pass over memory: for every row, in row blocks on both cores
/// (OpenBLAS single-threaded inside a block, so the block stays in cache):
/// x ← x/‖x‖; c = B x (SGEMM of the block with the K × d orthonormal `basis`); where `remove[i]`,
/// x ← x − Bᵀc (rank-K SGEMM update) and x ← x/‖x‖ again. Rows not removed end up unit-normalised
/// only. Zero rows stay zero. Each row is processed independently, so results do not depend on the
/// thread count.
public func removeSubspaceInPlace(_ m: Matrix, basis: Matrix, remove: [Bool], blockRows: Int = 2048) -> SubspaceRemovalSummary {
    precondition(basis.cols == m.cols && remove.count == m.rows, "removeSubspaceInPlace: shapes differ")
    let n = m.rows, d = m.cols, k = basis.rows
    guard n > 0, d > 0, k > 0 else { return SubspaceRemovalSummary(removedRows: 0, projectionNormSumBefore: 0, projectionNormSumAfter: 0) }
    let blocks = (n + blockRows - 1) / blockRows
    var before = [Double](repeating: 0, count: blocks), after = [Double](repeating: 0, count: blocks)
    var counts = [Int](repeating: 0, count: blocks)
    let base = m.mutablePointer
    let b = basis.pointer
    let threads = BLAS.threadCount
    BLAS.setThreadCount(1)
    defer { BLAS.setThreadCount(threads) }
    before.withUnsafeMutableBufferPointer { beforeBuf in
        after.withUnsafeMutableBufferPointer { afterBuf in
            counts.withUnsafeMutableBufferPointer { countBuf in
                let bp = beforeBuf.baseAddress!, ap = afterBuf.baseAddress!, cp = countBuf.baseAddress!
                parallelChunks(blocks, minimumChunk: 1) { range in
                    var coefficients = [Float](repeating: 0, count: blockRows * k)
                    coefficients.withUnsafeMutableBufferPointer { cb in
                        let c = cb.baseAddress!
                        for blk in range {
                            let lo = blk * blockRows, hi = min(n, lo + blockRows), rows = hi - lo
                            let x = base + lo * d
                            func normalize() {
                                for i in 0..<rows {
                                    let r = x + i * d
                                    let norm = Double(cblas_snrm2(Int32(d), r, 1))
                                    if norm > 0 { cblas_sscal(Int32(d), Float(1 / norm), r, 1) }
                                }
                            }
                            func project() {
                                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(k), Int32(d), 1, x, Int32(d),
                                            b, Int32(d), 0, c, Int32(k))
                            }
                            func normsOfRemoved() -> Double {
                                var s = 0.0
                                for i in 0..<rows where remove[lo + i] {
                                    var q = 0.0
                                    for j in 0..<k { let v = Double(c[i * k + j]); q += v * v }
                                    s += q.squareRoot()
                                }
                                return s
                            }
                            normalize()
                            project()
                            bp[blk] = normsOfRemoved()
                            var removed = 0
                            for i in 0..<rows {
                                if remove[lo + i] { removed += 1 } else { for j in 0..<k { c[i * k + j] = 0 } }
                            }
                            cp[blk] = removed
                            if removed > 0 {
                                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(d), Int32(k), -1, c, Int32(k),
                                            b, Int32(d), 1, x, Int32(d))
                                normalize()
                                project()
                                ap[blk] = normsOfRemoved()
                            }
                        }
                    }
                }
            }
        }
    }
    return SubspaceRemovalSummary(removedRows: counts.reduce(0, +), projectionNormSumBefore: before.reduce(0, +),
                                  projectionNormSumAfter: after.reduce(0, +))
}
