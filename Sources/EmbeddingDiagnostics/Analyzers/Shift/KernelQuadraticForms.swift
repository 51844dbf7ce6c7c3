import Foundation

/// A kernel on unit rows computed from their cosine g = x·y (‖x − y‖² = 2 − 2g).
public enum PooledKernel: Sendable, Equatable {
    /// k(x, y) = exp(−‖x − y‖² / (2σ²)) = exp((g − 1)/σ²); k(x, x) = 1.
    case gaussian(bandwidth: Double)
    /// The Euclidean distance ‖x − y‖ = √(2 − 2g) (energy distance); 0 on the diagonal.
    case distance

    /// k(z, z).
    public var diagonal: Double {
        switch self {
        case .gaussian: return 1
        case .distance: return 0
        }
    }
}

/// For one kernel K on the pooled sample and every labelling c of `TwoSamplePermutations`
/// (weights w_c, first-sample indicator a_c), the quantities every two-sample statistic of
/// Guides/Shift.md is built from.
public struct KernelQuadraticForms: Sendable {
    public let kernel: PooledKernel
    public let firstCount: Int
    public let secondCount: Int
    /// w_cᵀ K w_c (the biased, V-statistic MMD² of labelling c).
    public var quadratic: [Double]
    /// a_cᵀ K w_c.
    public var firstTimesWeighted: [Double]
    /// a_cᵀ r, r = K·1.
    public var firstRowSum: [Double]
    /// r_i = Σ_j K_ij for every pooled row.
    public var rowSums: [Double]
    /// (K w_0)_i for every pooled row (w_0: the observed labelling) — the witness before scaling.
    public var observedProducts: [Double]
    /// 1ᵀK1.
    public var total: Double

    /// Σ_{i,j ∈ first} K_ij (diagonal included) under labelling c.
    public func firstBlockSum(_ c: Int) -> Double {
        let m = Double(firstCount), n = Double(secondCount)
        return (firstTimesWeighted[c] + firstRowSum[c] / n) / (1 / m + 1 / n)
    }

    /// Σ_{i,j ∈ second} K_ij under labelling c.
    public func secondBlockSum(_ c: Int) -> Double { total - 2 * firstRowSum[c] + firstBlockSum(c) }

    /// Σ_{i ∈ first, j ∈ second} K_ij under labelling c.
    public func crossBlockSum(_ c: Int) -> Double { firstRowSum[c] - firstBlockSum(c) }

    /// Unbiased MMD²_u of labelling c (Gretton et al. 2012, eq. 3), written as the V-statistic
    /// plus O(1/m) corrections so that no two large sums are subtracted:
    /// MMD²_u = wᵀKw + S_XX/(m²(m−1)) + S_YY/(n²(n−1)) − k(z,z)(1/(m−1) + 1/(n−1)).
    public func unbiasedMMD(_ c: Int) -> Double {
        let m = Double(firstCount), n = Double(secondCount)
        let kd = kernel.diagonal
        return quadratic[c] + firstBlockSum(c) / (m * m * (m - 1)) + secondBlockSum(c) / (n * n * (n - 1))
            - kd / (m - 1) - kd / (n - 1)
    }
}

/// One blocked pass over the pooled kernel matrices. For each block of pooled rows: the cosines
/// with all N rows (one SGEMM), each kernel's block of K (row-centred: K̃_ij = K_ij − r_i/N, which
/// leaves K̃w = Kw because Σ_j w_j = 0 and keeps the Float32 sums small), then one SGEMM of that
/// block with the N × (B + 1) weight matrix: all B permuted statistics at once. Reductions run in
/// Float64, per column in row order, so results do not depend on the thread count.
///
/// - Parameters:
///   - unitRows: the pooled sample (first sample first), rows of unit length.
///   - blockRows: rows per block (default: about 16 MB of Float32 per N-wide block).
/// - Complexity: O(N²·d + N²·(B + 1)·kernels) time (BLAS), O(block·N·kernels + N·B) memory.
public func kernelQuadraticForms(unitRows z: Matrix, kernels: [PooledKernel], permutations: TwoSamplePermutations,
                                 blockRows: Int? = nil) -> [KernelQuadraticForms] {
    let total = z.rows
    precondition(total == permutations.pooledCount, "kernelQuadraticForms: pooled rows differ from the permutation design")
    let cols = permutations.columns
    let rowsPerBlock = max(1, min(total, blockRows ?? max(16, (16 << 20) / max(1, total * 4))))
    var quadratic = [[Double]](repeating: [Double](repeating: 0, count: cols), count: kernels.count)
    var firstWeighted = quadratic, firstRows = quadratic
    var rowSums = [[Double]](repeating: [Double](repeating: 0, count: total), count: kernels.count)
    var observed = rowSums
    let gram = Matrix(rows: rowsPerBlock, cols: total)
    let kernelBlocks = kernels.map { _ in Matrix(rows: rowsPerBlock, cols: total) }
    let products = Matrix(rows: rowsPerBlock, cols: cols)
    let w = permutations.weights
    let member = permutations.inFirst
    let columnSums = permutations.columnSums
    let progress = ProgressReporter.current.task("kernel permutations", total: total, minimum: 8192)
    defer { progress?.finish() }
    var start = 0
    while start < total {
        progress?.update(start)
        let end = min(total, start + rowsPerBlock)
        let rows = end - start
        let g = Matrix(rows: rows, cols: total, storage: gram.storage)
        gemm(z.rows(start..<end), z, transposeB: true, into: g)
        for (k, kernel) in kernels.enumerated() {
            let kb = Matrix(rows: rows, cols: total, storage: kernelBlocks[k].storage)
            var means = [Double](repeating: 0, count: rows)
            let gp = g.pointer, kp = kb.mutablePointer
            means.withUnsafeMutableBufferPointer { meanBuf in
                let meanP = meanBuf.baseAddress!
                rowSums[k].withUnsafeMutableBufferPointer { sumBuf in
                    let sumP = sumBuf.baseAddress!
                    parallelChunks(rows, minimumChunk: 8) { range in
                        for r in range {
                            let src = gp + r * total, dst = kp + r * total
                            switch kernel {
                            case .gaussian(let sigma):
                                let scale = Float(1 / (sigma * sigma))
                                for j in 0..<total { dst[j] = exponential((Swift.min(src[j], 1) - 1) * scale) }
                            case .distance:
                                for j in 0..<total { dst[j] = (Swift.max(0, 2 - 2 * src[j])).squareRoot() }
                            }
                            dst[start + r] = Float(kernel.diagonal)
                            var s = 0.0
                            for j in 0..<total { s += Double(dst[j]) }
                            sumP[start + r] = s
                            let meanF = Float(s / Double(total))
                            for j in 0..<total { dst[j] -= meanF }
                            // Put back exactly below: (K w)_i = (K̃ w)_i + meanF · Σ_j w_j.
                            meanP[r] = Double(meanF)
                        }
                    }
                }
            }
            let p = Matrix(rows: rows, cols: cols, storage: products.storage)
            gemm(kb, w, into: p)
            // Reductions per column (columns split between the cores, rows in order).
            let pp = p.pointer, wp = w.pointer
            quadratic[k].withUnsafeMutableBufferPointer { qBuf in
                firstWeighted[k].withUnsafeMutableBufferPointer { fBuf in
                    firstRows[k].withUnsafeMutableBufferPointer { rBuf in
                        observed[k].withUnsafeMutableBufferPointer { oBuf in
                            let qP = qBuf.baseAddress!, fP = fBuf.baseAddress!, rP = rBuf.baseAddress!, oP = oBuf.baseAddress!
                            let sums = rowSums[k]
                            member.withUnsafeBufferPointer { mBuf in
                                let mP = mBuf.baseAddress!
                                parallelChunks(cols, minimumChunk: 64) { range in
                                    for r in 0..<rows {
                                        let i = start + r
                                        let mean = means[r], ri = sums[i]
                                        for c in range {
                                            // (K w_c)_i = (K̃ w_c)_i + mean_i · Σ_j w_c(j).
                                            let value = Double(pp[r * cols + c]) + mean * columnSums[c]
                                            qP[c] += Double(wp[i * cols + c]) * value
                                            if mP[i * cols + c] == 1 {
                                                fP[c] += value
                                                rP[c] += ri
                                            }
                                            if c == 0 { oP[i] = value }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        start = end
    }
    return kernels.indices.map { k in
        KernelQuadraticForms(kernel: kernels[k], firstCount: permutations.firstCount, secondCount: permutations.secondCount,
                             quadratic: quadratic[k], firstTimesWeighted: firstWeighted[k], firstRowSum: firstRows[k],
                             rowSums: rowSums[k], observedProducts: observed[k], total: rowSums[k].reduce(0, +))
    }
}
