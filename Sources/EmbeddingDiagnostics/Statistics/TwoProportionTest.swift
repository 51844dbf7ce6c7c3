import Foundation

/// Two-sided test that a category has the same share in two independent samples: `a` of `m` rows
/// in the first, `b` of `n` in the second (the 2 × 2 table [[a, m − a], [b, n − b]]).
///
/// - Pearson's χ² without continuity correction (the pooled two-proportion z-test, z² = χ²) when
///   every expected count is at least 5 — `scipy.stats.chi2_contingency(table, correction=False)`;
/// - Fisher's exact test otherwise — `scipy.stats.fisher_exact(table)`: the sum of the
///   hypergeometric probabilities of the tables no more likely than the observed one (relative
///   slack 10⁻⁷ for ties in floating point, as R's `fisher.test`).
///
/// The normal approximation is what large monitoring windows need (Fisher's sum costs O(min(a + b,
/// m, n))); Fisher's test keeps the level where the approximation fails (small clusters, small
/// windows). Guide: Guides/Shift.md ("Regions").
public struct TwoProportionTest: HypothesisTestResult, Equatable {
    public enum Method: String, Sendable { case chiSquared = "chi2", fisherExact = "fisher" }
    /// Which of the two tests ran.
    public internal(set) var kind: Method
    public var method: String { kind == .chiSquared ? "Pearson χ² test of two proportions" : "Fisher's exact test" }
    /// z (signed: positive when the second share is larger) for χ²; the second sample's count for Fisher.
    public internal(set) var statistic: Double
    public internal(set) var pValue: Double
    public var alternative: Alternative { .twoSided }
    /// Shares a/m and b/n.
    public internal(set) var firstShare: Double
    public internal(set) var secondShare: Double
}

/// - Complexity: O(1) for χ², O(min(a + b, m + n − a − b, m, n)) for Fisher's test.
public func twoProportionTest(_ a: Int, of m: Int, _ b: Int, of n: Int) -> TwoProportionTest {
    precondition(m > 0 && n > 0 && a >= 0 && a <= m && b >= 0 && b <= n)
    let total = m + n, hits = a + b
    let p1 = Double(a) / Double(m), p2 = Double(b) / Double(n)
    if hits == 0 || hits == total {
        // One category only: the table has no information; both scipy tests return p = 1 (χ² refuses a zero expected count).
        return TwoProportionTest(kind: .fisherExact, statistic: Double(b), pValue: 1, firstShare: p1, secondShare: p2)
    }
    let expected = [Double(m) * Double(hits), Double(m) * Double(total - hits), Double(n) * Double(hits), Double(n) * Double(total - hits)]
        .map { $0 / Double(total) }
    if expected.allSatisfy({ $0 >= 5 }) {
        let pooled = Double(hits) / Double(total)
        let z = (p2 - p1) / (pooled * (1 - pooled) * (1 / Double(m) + 1 / Double(n))).squareRoot()
        return TwoProportionTest(kind: .chiSquared, statistic: z, pValue: min(1, 2 * Distributions.normalSurvival(abs(z))),
                                 firstShare: p1, secondShare: p2)
    }
    // Fisher: X = the second sample's count ~ Hypergeometric(total, hits, n).
    let lo = max(0, hits - m), hi = min(hits, n)
    let logNorm = Distributions.logBinomial(total, n)
    func logP(_ x: Int) -> Double { Distributions.logBinomial(hits, x) + Distributions.logBinomial(total - hits, n - x) - logNorm }
    let observed = logP(b)
    let cutoff = observed + log1p(1e-7)
    var p = 0.0
    for x in lo...hi {
        let l = logP(x)
        if l <= cutoff { p += exp(l) }
    }
    return TwoProportionTest(kind: .fisherExact, statistic: Double(b), pValue: min(1, p), firstShare: p1, secondShare: p2)
}
