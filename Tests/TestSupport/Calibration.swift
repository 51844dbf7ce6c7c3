import EmbeddingDiagnostics

/// Calibration checks of statistical tests under H₀ (one helper instead of a copy per suite).
public enum Calibration {
    /// Fraction of p-values at or below `alpha` (strictly below when `strict`).
    public static func rejectionRate(_ pValues: [Double], alpha: Double = 0.05, strict: Bool = true) -> Double {
        guard !pValues.isEmpty else { return .nan }
        return Double(pValues.filter { strict ? $0 < alpha : $0 <= alpha }.count) / Double(pValues.count)
    }

    /// Pearson's χ² goodness-of-fit test of `pValues` against Uniform(0, 1) in `bins` equal bins:
    /// the test's p-value and the bin counts (for messages). Under H₀ it is below 0.001 in one
    /// run in a thousand.
    /// - Complexity: O(n).
    public static func uniformity(_ pValues: [Double], bins: Int = 10) -> (pValue: Double, counts: [Int]) {
        var counts = [Int](repeating: 0, count: bins)
        for p in pValues { counts[min(bins - 1, max(0, Int(p * Double(bins))))] += 1 }
        let expected = Double(pValues.count) / Double(bins)
        let chi2 = counts.reduce(0.0) { $0 + (Double($1) - expected) * (Double($1) - expected) / expected }
        return (Distributions.chiSquaredSurvival(chi2, degreesOfFreedom: Double(bins - 1)), counts)
    }
}
