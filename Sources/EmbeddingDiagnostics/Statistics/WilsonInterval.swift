import Foundation

extension Statistics {
    /// Lower end of the Wilson score interval for a proportion (Wilson 1927): successes out of
    /// `trials`, `z` the normal quantile of the two-sided level (2.576 for 99 %). Unlike the Wald
    /// interval it stays inside [0, 1] and is not degenerate at 0 or `trials` successes. Fractional
    /// successes (expected counts over tied rankings) are accepted. NaN for no trials.
    ///
    /// - Complexity: O(1).
    public static func wilsonLowerBound(successes: Double, trials: Int, z: Double) -> Double {
        guard trials > 0 else { return .nan }
        let n = Double(trials), p = min(1, max(0, successes / n)), z2 = z * z
        let centre = p + z2 / (2 * n)
        let spread = z * (p * (1 - p) / n + z2 / (4 * n * n)).squareRoot()
        return max(0, (centre - spread) / (1 + z2 / n))
    }
}
