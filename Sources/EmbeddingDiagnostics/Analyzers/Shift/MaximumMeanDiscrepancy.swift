import Foundation

/// The kernel of an MMD test.
public enum MMDKernel: String, Sendable, CaseIterable, Codable {
    /// exp(−‖x̂ − ŷ‖²/(2σ²)) on unit rows, σ by the median heuristic.
    case gaussian
    /// The linear kernel on unit rows, x̂·ŷ (cosine): MMD² = ‖mean x̂ − mean ŷ‖².
    case cosine
}

/// The MMD two-sample test (Gretton, Borgwardt, Rasch, Schölkopf & Smola, JMLR 2012): unbiased
/// MMD²_u as the statistic, permutation p-value. Guide: Guides/Shift.md.
public struct MMDTest: Sendable, Equatable {
    public internal(set) var kernel: MMDKernel
    /// σ of the Gaussian kernel (nil for the cosine kernel).
    public internal(set) var bandwidth: Double?
    /// Statistic MMD²_u with its permutation p-value (with several bandwidths: the statistic at
    /// the first, the p-value min-p over all of them).
    public internal(set) var result: PermutationTestResult
    /// The bandwidths aggregated over (MMDAgg), empty for a single bandwidth.
    public internal(set) var aggregatedBandwidths: [Double] = []
    /// The block test (`--mmd block`), nil for the exact permutation test. `result` then holds its
    /// statistic and p-value with `permutations` 0 and the standard error as the null SD.
    public internal(set) var block: BlockMMDTest? = nil
}

/// The median heuristic: σ = the median Euclidean distance between distinct pooled unit rows
/// (numpy's median: the mean of the two middle values for an even count). With more than
/// `sampleSize` pooled rows, the pairs of a seeded uniform sample of `sampleSize` pooled rows —
/// drawn without regard to which sample a row came from, so σ is the same under every
/// relabelling and the permutation test stays exact.
/// - Complexity: O(s²·d + s² log s), s = min(N, sampleSize).
public func medianHeuristicBandwidth(unitRows z: Matrix, sampleSize: Int = 2000, seed: UInt64 = 42) -> Double {
    let rows: Matrix
    if z.rows > sampleSize {
        var rng = SeededGenerator(seed: seed ^ 0x6D65_6469_616E)
        rows = z.gather(rows: rng.sampleIndices(z.rows, count: sampleSize))
    } else {
        rows = z
    }
    let s = rows.rows
    guard s >= 2 else { return 1 }
    var distances: [Double] = []
    distances.reserveCapacity(s * (s - 1) / 2)
    Matrix.pairwiseDotBlocks(rows, rows) { start, block in
        resolveCosineTies(block, dimension: rows.cols)
        for r in 0..<block.rows {
            let i = start + r
            for j in (i + 1)..<s { distances.append(Swift.max(0, 2 - 2 * Double(block[r, j])).squareRoot()) }
        }
    }
    distances.sort()
    // Equal rows are at distance 0 (`resolveCosineTies`). When they are more than half of the
    // pairs, the median of the pairs at a positive distance sets the scale of the others; when
    // every row is equal, any bandwidth gives the same (zero) statistic.
    let positive = distances.drop { $0 == 0 }
    let median = distances[distances.count / 2] > 0 || positive.isEmpty
        ? medianOfSorted(distances[...]) : medianOfSorted(positive)
    return median > 0 ? median : 1
}

/// The median of sorted values (the mean of the two middle ones for an even count).
/// - Complexity: O(1).
func medianOfSorted(_ v: ArraySlice<Double>) -> Double {
    let c = v.count, b = v.startIndex
    return c % 2 == 1 ? v[b + c / 2] : (v[b + c / 2 - 1] + v[b + c / 2]) / 2
}

/// Refuses a given σ with which the Gaussian kernel of a typical pair is 0 or 1 in Float32: at
/// the median distance M between the rows (the median heuristic's σ), k = exp(−M²/(2σ²))
/// underflows to 0 below σ = M/13 (M²/(2σ²) > 84) and rounds to 1 above σ = 4096·M
/// (M²/(2σ²) < 2⁻²⁵); outside that range the MMD statistic and its effect size are round-off.
/// - Complexity: O(s²·d) for the median over s ≤ `sampleSize` rows.
public func checkGivenBandwidth(_ sigma: Double, scales: [Double] = [1], unitRows z: Matrix, sampleSize: Int, seed: UInt64) throws {
    let median = medianHeuristicBandwidth(unitRows: z, sampleSize: sampleSize, seed: seed)
    let low = median / bandwidthRangeBelowMedian, high = median * bandwidthRangeAboveMedian
    for scale in scales {
        let used = sigma * scale
        guard used >= low && used <= high else {
            let given = scale == 1 ? "\(Setting.bandwidth) \(sigma)" : "\(Setting.bandwidth) \(sigma) × \(Setting.bandwidthScales) \(scale) = \(ReportFormatting.number(used))"
            throw EmbdiagError.usage("\(given): the Gaussian kernel of a typical pair of rows (median distance \(ReportFormatting.number(median))) is \(used < low ? "0" : "1") in Float32, so the MMD test would measure round-off; give σ between \(ReportFormatting.number(low)) and \(ReportFormatting.number(high)), or leave σ to the median heuristic")
        }
    }
}

/// σ below median/13 makes exp(−d²/2σ²) of a typical pair 0 in Float32; above 4096·median, 1.
public let bandwidthRangeBelowMedian = 13.0
public let bandwidthRangeAboveMedian = 4096.0

/// The Gaussian-kernel MMD test from the kernel pass (`kernelQuadraticForms`).
/// - Complexity: O(B).
public func gaussianMMDTest(_ forms: KernelQuadraticForms, seed: UInt64) -> MMDTest {
    guard case .gaussian(let sigma) = forms.kernel else { preconditionFailure("gaussianMMDTest needs the Gaussian kernel's forms") }
    let statistics = unbiasedMMDStatistics(forms)
    return MMDTest(kernel: .gaussian, bandwidth: sigma,
                   result: permutationTestResult(observed: statistics[0], permuted: Array(statistics.dropFirst()), seed: seed))
}

/// MMD²_u of every labelling (column 0 observed) from the kernel pass.
/// - Complexity: O(B).
public func unbiasedMMDStatistics(_ forms: KernelQuadraticForms) -> [Double] {
    forms.quadratic.indices.map { forms.unbiasedMMD($0) }
}

/// The linear-kernel (cosine) MMD test on pooled unit rows (`cosineMMDStatistics`).
/// - Complexity: O(N·d·B) time, O(N·B + d·B) memory.
public func cosineMMDTest(unitRows z: Matrix, permutations: TwoSamplePermutations) -> MMDTest {
    let statistics = cosineMMDStatistics(unitRows: z, permutations: permutations)
    return MMDTest(kernel: .cosine, bandwidth: nil,
                   result: permutationTestResult(observed: statistics[0], permuted: Array(statistics.dropFirst()), seed: permutations.seed))
}

/// MMD²_u with the linear (cosine) kernel for every labelling (column 0 observed). Never forms the N × N kernel: with
/// Z the pooled rows centred by their mean (MMD²_u does not change under a common translation),
/// Zᵀw_c for all labellings is one d × (B + 1) GEMM, w_cᵀKw_c = ‖Zᵀw_c‖² and the within-sample
/// sums follow from Zᵀa_c = (Zᵀw_c + Zᵀ1/n)/(1/m + 1/n).
/// - Complexity: O(N·d·B) time, O(N·B + d·B) memory.
public func cosineMMDStatistics(unitRows z: Matrix, permutations: TwoSamplePermutations) -> [Double] {
    let total = z.rows, d = z.cols, cols = permutations.columns
    let m = Double(permutations.firstCount), n = Double(permutations.secondCount)
    let mean = Matrix.columnMeans(z)
    let centred = z.copy()
    let cp = centred.mutablePointer
    let meanF = mean.map { Float($0) }
    var sumAll = [Double](repeating: 0, count: d)
    var diagonal = [Double](repeating: 0, count: total)
    for i in 0..<total {
        var norm2 = 0.0
        for t in 0..<d {
            let v = cp[i * d + t] - meanF[t]
            cp[i * d + t] = v
            sumAll[t] += Double(v)
            norm2 += Double(v) * Double(v)
        }
        diagonal[i] = norm2
    }
    let projections = BLAS.matmul(centred, transposeA: true, permutations.weights)  // d × (B + 1)
    let diagonalTotal = diagonal.reduce(0, +)
    var firstDiagonal = [Double](repeating: 0, count: cols)
    for i in 0..<total {
        for c in 0..<cols where permutations.inFirst[i * cols + c] == 1 { firstDiagonal[c] += diagonal[i] }
    }
    return (0..<cols).map { c in
        var v = 0.0, sxx = 0.0, syy = 0.0
        for t in 0..<d {
            let p = Double(projections[t, c])
            v += p * p
            let first = (p + sumAll[t] / n) / (1 / m + 1 / n)
            sxx += first * first
            let second = sumAll[t] - first
            syy += second * second
        }
        let dx = firstDiagonal[c], dy = diagonalTotal - dx
        return v + sxx / (m * m * (m - 1)) - dx / (m * (m - 1)) + syy / (n * n * (n - 1)) - dy / (n * (n - 1))
    }
}
