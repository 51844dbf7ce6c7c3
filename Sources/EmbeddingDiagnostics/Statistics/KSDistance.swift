import Foundation

extension Statistics {
    /// Two-sample Kolmogorov–Smirnov distance sup_x |F_a(x) − F_b(x)| of two ascending samples (the
    /// statistic of scipy.stats.ks_2samp); NaN when either is empty.
    ///
    /// - Complexity: O(m + n).
    public static func ksDistance(sorted a: [Double], _ b: [Double]) -> Double {
        guard !a.isEmpty, !b.isEmpty else { return .nan }
        var i = 0, j = 0, d = 0.0
        while i < a.count && j < b.count {
            let v = min(a[i], b[j])
            while i < a.count && a[i] <= v { i += 1 }
            while j < b.count && b[j] <= v { j += 1 }
            d = max(d, abs(Double(i) / Double(a.count) - Double(j) / Double(b.count)))
        }
        return d
    }
}
