import COpenBLAS
import Foundation

/// What `removeSubspaceInPlace` measured on the rows it neutralized.
public struct SubspaceRemovalSummary: Sendable {
    /// Rows whose projection was removed.
    public internal(set) var removedRows: Int
    /// Σ ‖P_B x̂‖ over those rows before and after (x̂ = unit row).
    public internal(set) var projectionNormSumBefore: Double
    public internal(set) var projectionNormSumAfter: Double
}

extension Matrix {
    /// Hard-debias neutralization in one pass over memory, the same on every CPU: for every row, in
    /// parallel chunks, x ← x/‖x‖; c = B x (K fixed-order Float64 dot products with the orthonormal
    /// K × d `basis`); where `remove[i]`, x ← x − Bᵀc (in Float64, rounded once) and x ← x/‖x‖ again.
    /// Rows not removed end up unit-normalised only. Zero rows stay zero. No BLAS: a kernel-dependent
    /// summation order would move debiased vectors, and with them neighbour lists, between machines.
    ///
    /// - Complexity: O(n·d·K).
    public static func removeSubspaceInPlace(_ m: Matrix, basis: Matrix, remove: [Bool], blockRows: Int = 2048) -> SubspaceRemovalSummary {
        precondition(basis.cols == m.cols && remove.count == m.rows, "removeSubspaceInPlace: shapes differ")
        let n = m.rows, d = m.cols, k = basis.rows
        guard n > 0, d > 0, k > 0 else { return SubspaceRemovalSummary(removedRows: 0, projectionNormSumBefore: 0, projectionNormSumAfter: 0) }
        let blocks = (n + blockRows - 1) / blockRows
        var before = [Double](repeating: 0, count: blocks), after = [Double](repeating: 0, count: blocks)
        var counts = [Int](repeating: 0, count: blocks)
        let base = m.mutablePointer
        let b = basis.pointer
        before.withUnsafeMutableBufferPointer { beforeBuf in
            after.withUnsafeMutableBufferPointer { afterBuf in
                counts.withUnsafeMutableBufferPointer { countBuf in
                    let bp = beforeBuf.baseAddress!, ap = afterBuf.baseAddress!, cp = countBuf.baseAddress!
                    parallelChunks(blocks, minimumChunk: 1) { range in
                        var c = [Double](repeating: 0, count: k)
                        var work = [Double](repeating: 0, count: d)
                        for blk in range {
                            let lo = blk * blockRows, hi = min(n, lo + blockRows)
                            var sumBefore = 0.0, sumAfter = 0.0, removed = 0
                            for i in lo..<hi {
                                let x = base + i * d
                                let raw = UnsafeRawPointer(x)
                                let norm = squaredNorm(raw, count: d).squareRoot()
                                guard norm > 0 else { continue }
                                let inv = 1 / norm
                                for t in 0..<d { x[t] = Float(Double(x[t]) * inv) }
                                guard remove[i] else { continue }
                                removed += 1
                                var q = 0.0
                                for j in 0..<k { c[j] = fixedOrderDot(raw, UnsafeRawPointer(b + j * d), count: d); q += c[j] * c[j] }
                                sumBefore += q.squareRoot()
                                for t in 0..<d { work[t] = Double(x[t]) }
                                for j in 0..<k {
                                    let cj = c[j], row = b + j * d
                                    for t in 0..<d { work[t] -= cj * Double(row[t]) }
                                }
                                var s = 0.0
                                for t in 0..<d { s += work[t] * work[t] }
                                let inv2 = s > 0 ? 1 / s.squareRoot() : 0
                                for t in 0..<d { x[t] = Float(work[t] * inv2) }
                                var q2 = 0.0
                                for j in 0..<k { let v = fixedOrderDot(raw, UnsafeRawPointer(b + j * d), count: d); q2 += v * v }
                                sumAfter += q2.squareRoot()
                            }
                            bp[blk] = sumBefore; ap[blk] = sumAfter; cp[blk] = removed
                        }
                    }
                }
            }
        }
        return SubspaceRemovalSummary(removedRows: counts.reduce(0, +), projectionNormSumBefore: before.reduce(0, +),
                                      projectionNormSumAfter: after.reduce(0, +))
    }
}
