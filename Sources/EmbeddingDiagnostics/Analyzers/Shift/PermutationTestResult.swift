import Foundation

/// The result of a one-sided permutation test (large statistic = evidence against H₀), in the
/// shape of scipy.stats.permutation_test's result plus what a reader needs to trust it.
public struct PermutationTestResult: Sendable, Equatable {
    /// The observed statistic.
    public internal(set) var statistic: Double
    /// (1 + #{b : T_b ≥ T}) / (B + 1): never 0, exact level under H₀ (Phipson & Smyth 2010).
    public internal(set) var pValue: Double
    /// `.greater` for the kernel tests (large statistics are evidence of a shift); the depth
    /// rank-sum test's alternative for `depthPermutationTest` (its statistic oriented by it).
    public internal(set) var alternative: Alternative
    /// B, random relabellings drawn.
    public internal(set) var permutations: Int
    public internal(set) var seed: UInt64
    /// #{b : T_b ≥ T} (within the tolerance below).
    public internal(set) var atLeastAsExtreme: Int
    /// Mean and standard deviation of the B permuted statistics.
    public internal(set) var nullMean: Double
    public internal(set) var nullStandardDeviation: Double
    /// The B permuted statistics in draw order (SciPy's `null_distribution`); the p-value,
    /// `nullMean` and `nullStandardDeviation` are computed from them.
    public internal(set) var nullDistribution: [Double]? = nil

    /// (T − mean T_b) / sd T_b: how many null standard deviations the observed statistic lies out.
    public var standardizedEffect: Double {
        nullStandardDeviation > 0 ? (statistic - nullMean) / nullStandardDeviation : .nan
    }
}

/// Relative tolerance of the comparison T_b ≥ T, in units of the null standard deviation: the
/// statistics come from Float32 GEMMs, so a relabelling whose statistic equals the observed one in
/// exact arithmetic (e.g. a swap of duplicated rows) must count as "at least as extreme" on every
/// BLAS kernel. Measured Float32-vs-Float64 differences are below 1e-5 null SDs (Guides/Shift.md).
public let permutationTieTolerance = 1e-4

/// The smallest tolerance of T_b ≥ T, whatever the null's spread: the shift statistics are
/// averages of kernel values bounded by 2 on unit rows (MMD², energy) or z-scores (depth), so
/// differences below 10⁻¹² are Float64 summation noise. Without it, data whose relabellings are
/// all the same in exact arithmetic (one row repeated in both corpora) have a null spread of pure
/// round-off, and round-off decided the test (p = 0.001 on two copies of one row).
public let permutationTieFloor = 1e-12

/// Mean and standard deviation (B − 1) of the permuted statistics, in order; NaN when too few.
/// - Complexity: O(B).
func nullMeanAndDeviation<C: Collection<Double>>(_ permuted: C) -> (mean: Double, sd: Double) {
    let b = permuted.count
    let mean = b > 0 ? permuted.reduce(0, +) / Double(b) : .nan
    let sd = b > 1 ? (permuted.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(b - 1)).squareRoot() : .nan
    return (mean, sd)
}

/// The tolerance of T_b ≥ T: `permutationTieTolerance` null SDs (or of |T| when the null has
/// no spread), at least `permutationTieFloor`.
func permutationTolerance(nullDeviation sd: Double, observed: Double) -> Double {
    max(permutationTieFloor, permutationTieTolerance * (sd.isFinite && sd > 0 ? sd : abs(observed)))
}

/// The permutation p-value from the observed statistic and the B permuted ones.
/// - Complexity: O(B).
public func permutationTestResult(observed: Double, permuted: [Double], seed: UInt64) -> PermutationTestResult {
    let b = permuted.count
    let (mean, sd) = nullMeanAndDeviation(permuted)
    let tolerance = permutationTolerance(nullDeviation: sd, observed: observed)
    let count = permuted.filter { $0 >= observed - tolerance }.count
    return PermutationTestResult(statistic: observed, pValue: Double(1 + count) / Double(b + 1), alternative: .greater,
                                 permutations: b, seed: seed, atLeastAsExtreme: count, nullMean: mean, nullStandardDeviation: sd,
                                 nullDistribution: permuted)
}

/// The permutation p-value of every labelling, the observed one included: for column c of
/// `statistics` (column 0 observed, 1…B relabellings), #{c′ : T_c′ ≥ T_c − tol} over all B + 1
/// columns (c itself counts), with the tolerance of `permutationTestResult` (at least
/// `permutationTieFloor`). Column 0's count is
/// 1 + `atLeastAsExtreme`, so count/(B + 1) is the test's own p-value. Returned as integer counts
/// so that comparisons between them are exact.
/// - Complexity: O(B log B).
public func permutationCounts(_ statistics: [Double]) -> [Int] {
    let total = statistics.count
    guard total > 1 else { return [Int](repeating: 1, count: total) }
    let permuted = statistics.dropFirst()
    let tolerance = permutationTolerance(nullDeviation: nullMeanAndDeviation(permuted).sd, observed: statistics[0])
    let sorted = statistics.sorted()
    return statistics.enumerated().map { c, t in
        // Column 0 exactly as permutationTestResult counts it (itself + permuted within tolerance).
        if c == 0 { return 1 + permuted.filter { $0 >= t - tolerance }.count }
        // #{c′ : T_c′ ≥ t − tol}: first index in the sorted values with value ≥ t − tol.
        var lo = 0, hi = total
        let threshold = t - tolerance
        while lo < hi { let mid = (lo + hi) / 2; if sorted[mid] < threshold { lo = mid + 1 } else { hi = mid } }
        return total - lo
    }
}
