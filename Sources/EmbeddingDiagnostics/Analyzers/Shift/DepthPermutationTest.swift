import Foundation

/// The depth rank-sum test of `embdiag depth` (TTE cosine depth in the reference, W =
/// `scipy.stats.ranksums` z of reference vs other depths), two-sided, with a permutation p-value:
/// (1 + #{b : |W_b| ≥ |W|})/(B + 1). The reference's depths are leave-one-out and the other
/// corpus's are not, so the two depth samples are not exchangeable and the normal p-value is
/// approximate (measured: 7.8 % of p < 0.05 on 40 + 40 splits of one corpus); relabelling
/// recomputes the depths of every row under every labelling, which makes the test exact.
///
/// Cosine TTE depth needs only S_c = Σ_{i ∈ REF_c} ẑ_i: Zᵀa_c for all labellings is one
/// d × (B + 1) GEMM, and z_i·S_c for all rows and labellings one N × (B + 1) GEMM; then
/// D_ic = 1 + (z_i·S_c − [i ∈ REF_c])/(m − [i ∈ REF_c]) and one ranking per labelling.
/// - Complexity: O(N·d·B + B·N log N) time, O(N·B) memory.
public func depthPermutationTest(unitRows z: Matrix, permutations: TwoSamplePermutations) -> PermutationTestResult {
    let statistics = depthPermutationStatistics(unitRows: z, permutations: permutations)
    return permutationTestResult(observed: statistics[0], permuted: Array(statistics.dropFirst()), seed: permutations.seed)
}

/// |W| of every labelling (column 0 observed), the depths recomputed under each (see
/// `depthPermutationTest`).
/// - Complexity: O(N·d·B + B·N log N) time, O(N·B) memory.
public func depthPermutationStatistics(unitRows z: Matrix, permutations: TwoSamplePermutations) -> [Double] {
    let total = z.rows, cols = permutations.columns
    let m = permutations.firstCount, n = permutations.secondCount
    let indicator = Matrix(rows: total, cols: cols)
    let ip = indicator.mutablePointer
    for i in 0..<(total * cols) { ip[i] = Float(permutations.inFirst[i]) }
    let sums = BLAS.matmul(z, transposeA: true, indicator)  // d × C
    let dots = BLAS.matmul(z, sums)                          // N × C
    let selfDots = Matrix.rowNorms(z).map { $0 * $0 }
    var statistics = [Double](repeating: 0, count: cols)
    let member = permutations.inFirst
    let dp = dots.pointer
    let md = Double(m), nd = Double(n), nt = Double(total)
    let scale = (md * nd * (nt + 1) / 12).squareRoot()
    statistics.withUnsafeMutableBufferPointer { out in
        let op = out.baseAddress!
        parallelChunks(cols, minimumChunk: 8) { range in
            for c in range {
                var depths = [Double](repeating: 0, count: total)
                for i in 0..<total {
                    let raw = Double(dp[i * cols + c])
                    depths[i] = member[i * cols + c] == 1 ? 1 + (raw - selfDots[i]) / (md - 1) : 1 + raw / md
                }
                let ranks = Statistics.averageRanks(depths).ranks
                var rx = 0.0
                for i in 0..<total where member[i * cols + c] == 1 { rx += ranks[i] }
                op[c] = abs((rx - md * (nt + 1) / 2) / scale)
            }
        }
    }
    return statistics
}
