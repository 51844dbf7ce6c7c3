import Foundation

/// The result of a one-sided permutation test (large statistic = evidence against H₀), in the
/// shape of scipy.stats.permutation_test's result plus what a reader needs to trust it.
public struct PermutationTestResult: Sendable, Equatable {
    /// The observed statistic.
    public var statistic: Double
    /// (1 + #{b : T_b ≥ T}) / (B + 1): never 0, exact level under H₀ (Phipson & Smyth 2010).
    public var pValue: Double
    /// Always `.greater` here (large statistics are evidence of a shift).
    public var alternative: Alternative
    /// B, random relabellings drawn.
    public var permutations: Int
    public var seed: UInt64
    /// #{b : T_b ≥ T} (within the tolerance below).
    public var atLeastAsExtreme: Int
    /// Mean and standard deviation of the B permuted statistics.
    public var nullMean: Double
    public var nullStandardDeviation: Double

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

/// The permutation p-value from the observed statistic and the B permuted ones.
/// - Complexity: O(B).
public func permutationTestResult(observed: Double, permuted: [Double], seed: UInt64) -> PermutationTestResult {
    let b = permuted.count
    let mean = b > 0 ? permuted.reduce(0, +) / Double(b) : .nan
    let sd = b > 1 ? (permuted.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(b - 1)).squareRoot() : .nan
    let tolerance = permutationTieTolerance * (sd.isFinite && sd > 0 ? sd : max(abs(observed), 1e-300))
    let count = permuted.filter { $0 >= observed - tolerance }.count
    return PermutationTestResult(statistic: observed, pValue: Double(1 + count) / Double(b + 1), alternative: .greater,
                                 permutations: b, seed: seed, atLeastAsExtreme: count, nullMean: mean, nullStandardDeviation: sd)
}
