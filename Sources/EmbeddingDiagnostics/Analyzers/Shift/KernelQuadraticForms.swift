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
    public internal(set) var quadratic: [Double]
    /// a_cᵀ K w_c.
    public internal(set) var firstTimesWeighted: [Double]
    /// a_cᵀ r, r = K·1.
    public internal(set) var firstRowSum: [Double]
    /// r_i = Σ_j K_ij for every pooled row.
    public internal(set) var rowSums: [Double]
    /// (K w_0)_i for every pooled row (w_0: the observed labelling) — the witness before scaling.
    public internal(set) var observedProducts: [Double]
    /// 1ᵀK1.
    public internal(set) var total: Double

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

/// Cosines of unit rows that Float32 cannot tell from 1 — 1 − g ≤ d·2⁻²⁴, the tolerance of a
/// near-exact duplicate (`CrossCorpusDuplicates.tolerance`), within which a Float32 dot product
/// of a unit row with an equal row may land — are set to exactly 1, so that equal rows are at
/// distance 0 and Gaussian kernel 1 in every block and on every BLAS kernel. Otherwise the
/// distance of two equal rows is √(2·round-off) ≈ 10⁻³, and a sample of one repeated row had an
/// energy distance of round-off that decided its test.
/// - Complexity: O(rows·cols).
func resolveCosineTies(_ g: Matrix, dimension d: Int) {
    let floor = Float(1 - CrossCorpusDuplicates.tolerance(dimension: d))
    let gp = g.mutablePointer, count = g.rows * g.cols
    for i in 0..<count where gp[i] >= floor { gp[i] = 1 }
}

/// One blocked pass over the upper triangle of the pooled kernel matrices (K is symmetric, so each
/// pair of rows is visited once — half the work of an N × N pass). For each block of pooled rows
/// [s, e): the cosines with rows s…N−1 (one SGEMM), each kernel's values there, centred by a
/// constant c (K̃ = K − c·11ᵀ, c the kernel's mean over the first block: it keeps the Float32 GEMM
/// sums small, and a constant keeps K̃ symmetric; wᵀKw = wᵀK̃w + c·(1ᵀw)² puts it back exactly),
/// the columns right of the diagonal block doubled (they stand for their mirror image below the
/// diagonal too), then one SGEMM of all kernels' blocks, stacked, with rows s…N−1 of the
/// N × (B + 1) weight matrix: every permuted quadratic form at once. Row sums and the witness'
/// K w₀ collect the block's rows (row part) and, for the rows right of the block, its columns
/// (mirror part). Every reduction runs in Float64 in a fixed order (rows in order per column,
/// columns in order per row, blocks in order), so results do not depend on the thread count;
/// they depend on the block size only through Float32 rounding.
///
/// The within-sample sums of each labelling follow from the quadratic forms after the pass:
/// with w_c = q + (p − q)·a_c (p, q the Float32 weights of the two samples),
/// a_cᵀKw_c = (w_cᵀKw_c − q·rᵀw_c)/(p − q).
///
/// - Parameters:
///   - unitRows: the pooled sample (first sample first), rows of unit length.
///   - blockRows: rows per block (default: about 32 MB of Float32 per N-wide block).
///   - cosineBlocks: called with each block of cosines, rows [s, e) of the pooled sample against
///     rows s…N−1 (in block order, on the calling thread), before they become kernel values: a
///     caller that needs some of the same cosines (the precision/recall scan of REF × OTHER)
///     reads them here instead of running its own GEMM.
/// - Complexity: O(N²·d/2 + N²·(B + 1)·kernels/2) time (BLAS), O(block·N·(kernels + 1) + N·B) memory.
public func kernelQuadraticForms(unitRows z: Matrix, kernels: [PooledKernel], permutations: TwoSamplePermutations,
                                 blockRows: Int? = nil,
                                 cosineBlocks: ((_ rowStart: Int, _ cosines: Matrix) -> Void)? = nil) -> [KernelQuadraticForms] {
    let total = z.rows
    precondition(total == permutations.pooledCount, "kernelQuadraticForms: pooled rows differ from the permutation design")
    let cols = permutations.columns
    let kernelCount = kernels.count
    let rowsPerBlock = max(1, min(total, blockRows ?? max(32, (32 << 20) / max(1, total * 4))))
    var quadratic = [[Double]](repeating: [Double](repeating: 0, count: cols), count: kernelCount)
    // Sums of the centred kernel K̃ (row sums and K̃w₀), corrected after the pass.
    var rowSums = [[Double]](repeating: [Double](repeating: 0, count: total), count: kernelCount)
    var observed = rowSums
    var centres = [Float](repeating: 0, count: kernelCount)
    let gram = Matrix(rows: rowsPerBlock, cols: total)
    let stacked = Matrix(rows: kernelCount * rowsPerBlock, cols: total)
    let products = Matrix(rows: kernelCount * rowsPerBlock, cols: cols)
    let w = permutations.weights
    let wp = w.pointer
    let observedWeights = (0..<total).map { wp[$0 * cols] }
    let progress = ProgressReporter.current.task("kernel permutations", total: total, minimum: 8192)
    defer { progress?.finish() }
    var start = 0
    while start < total {
        progress?.update(start)
        let end = min(total, start + rowsPerBlock)
        let rows = end - start, width = total - start
        let g = Matrix(rows: rows, cols: width, storage: gram.storage)
        BLAS.gemm(z.rows(start..<end), z.rows(start..<total), transposeB: true, into: g)
        resolveCosineTies(g, dimension: z.cols)
        cosineBlocks?(start, g)
        let block = Matrix(rows: kernelCount * rows, cols: width, storage: stacked.storage)
        let gp = g.pointer, bp = block.mutablePointer
        for (k, kernel) in kernels.enumerated() {
            let kp = bp + k * rows * width
            parallelChunks(rows, minimumChunk: 8) { range in
                for r in range {
                    let src = gp + r * width, dst = kp + r * width
                    switch kernel {
                    case .gaussian(let sigma):
                        let scale = Float(1 / (sigma * sigma))
                        for j in 0..<width { dst[j] = exponential((Swift.min(src[j], 1) - 1) * scale) }
                    case .distance:
                        for j in 0..<width { dst[j] = (Swift.max(0, 2 - 2 * src[j])).squareRoot() }
                    }
                    dst[r] = Float(kernel.diagonal)
                }
            }
            if start == 0 {
                // The centre: the kernel's mean over the first block (row sums in order, then rows in order).
                var sum = 0.0
                for r in 0..<rows {
                    let row = kp + r * width
                    var s = 0.0
                    for j in 0..<width { s += Double(row[j]) }
                    sum += s
                }
                centres[k] = Float(sum / Double(rows * width))
            }
            let centre = centres[k]
            rowSums[k].withUnsafeMutableBufferPointer { sumBuf in
                observed[k].withUnsafeMutableBufferPointer { obsBuf in
                    let sumP = sumBuf.baseAddress!, obsP = obsBuf.baseAddress!
                    observedWeights.withUnsafeBufferPointer { w0Buf in
                        let w0 = w0Buf.baseAddress! + start
                        // Row part: K̃ over columns s…N−1 of each row of the block; doubles the mirror columns.
                        parallelChunks(rows, minimumChunk: 8) { range in
                            for r in range {
                                let dst = kp + r * width
                                for j in 0..<width { dst[j] -= centre }
                                let (s, o) = sumAndDot(dst, w0, width)
                                // Doubled after the sums: the mirror columns stand for two entries each.
                                for j in rows..<width { dst[j] += dst[j] }
                                sumP[start + r] += s
                                obsP[start + r] += o
                            }
                        }
                        // Mirror part: the block's columns right of the diagonal block are rows e…N−1's
                        // entries left of their own diagonal (columns split between the cores, rows in order).
                        parallelChunks(width - rows, minimumChunk: 2048) { range in
                            for r in 0..<rows {
                                let src = kp + r * width + rows
                                let wi = Double(w0[r])
                                for j in range {
                                    let t = Double(src[j]) * 0.5
                                    sumP[end + j] += t
                                    obsP[end + j] += t * wi
                                }
                            }
                        }
                    }
                }
            }
        }
        let p = Matrix(rows: kernelCount * rows, cols: cols, storage: products.storage)
        BLAS.gemm(block, w.rows(start..<total), into: p)
        // wᵀ(block products) per column (columns split between the cores, rows in order).
        let pp = p.pointer
        for k in 0..<kernelCount {
            quadratic[k].withUnsafeMutableBufferPointer { qBuf in
                let qP = qBuf.baseAddress!
                parallelChunks(cols, minimumChunk: 64) { range in
                    for r in 0..<rows {
                        let weights = wp + (start + r) * cols, values = pp + (k * rows + r) * cols
                        for c in range { qP[c] += Double(weights[c]) * Double(values[c]) }
                    }
                }
            }
        }
        start = end
    }
    // Undo the centring: K = K̃ + c·11ᵀ.
    let columnSums = permutations.columnSums
    let plus = Double(Float(1 / Double(permutations.firstCount))), minus = Double(Float(-1 / Double(permutations.secondCount)))
    let member = permutations.inFirst
    return kernels.indices.map { k in
        let centre = Double(centres[k])
        let sums = rowSums[k].map { $0 + centre * Double(total) }
        let products = observed[k].map { $0 + centre * columnSums[0] }
        let quad = (0..<cols).map { quadratic[k][$0] + centre * columnSums[$0] * columnSums[$0] }
        // a_cᵀr and rᵀw_c for every labelling (columns split between the cores, rows in order).
        var firstRows = [Double](repeating: 0, count: cols), weightedRows = firstRows
        firstRows.withUnsafeMutableBufferPointer { fBuf in
            weightedRows.withUnsafeMutableBufferPointer { rwBuf in
                member.withUnsafeBufferPointer { mBuf in
                    let fP = fBuf.baseAddress!, rwP = rwBuf.baseAddress!, mP = mBuf.baseAddress!
                    parallelChunks(cols, minimumChunk: 64) { range in
                        for i in 0..<total {
                            let ri = sums[i]
                            for c in range {
                                rwP[c] += ri * Double(wp[i * cols + c])
                                if mP[i * cols + c] == 1 { fP[c] += ri }
                            }
                        }
                    }
                }
            }
        }
        let firstWeighted = (0..<cols).map { (quad[$0] - minus * weightedRows[$0]) / (plus - minus) }
        return KernelQuadraticForms(kernel: kernels[k], firstCount: permutations.firstCount, secondCount: permutations.secondCount,
                                    quadratic: quad, firstTimesWeighted: firstWeighted, firstRowSum: firstRows,
                                    rowSums: sums, observedProducts: products, total: sums.reduce(0, +))
    }
}

/// (Σ_j a_j, Σ_j a_j·b_j) in Float64 over `count` values, in four interleaved partial sums combined
/// in a fixed order: the same result on every machine and thread count, four times the throughput
/// of one serial sum.
@inline(__always) func sumAndDot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> (Double, Double) {
    var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
    var d0 = 0.0, d1 = 0.0, d2 = 0.0, d3 = 0.0
    var j = 0
    while j + 4 <= count {
        let a0 = Double(a[j]), a1 = Double(a[j + 1]), a2 = Double(a[j + 2]), a3 = Double(a[j + 3])
        s0 += a0; s1 += a1; s2 += a2; s3 += a3
        d0 += a0 * Double(b[j]); d1 += a1 * Double(b[j + 1]); d2 += a2 * Double(b[j + 2]); d3 += a3 * Double(b[j + 3])
        j += 4
    }
    while j < count {
        let v = Double(a[j])
        s0 += v
        d0 += v * Double(b[j])
        j += 1
    }
    return ((s0 + s1) + (s2 + s3), (d0 + d1) + (d2 + d3))
}
