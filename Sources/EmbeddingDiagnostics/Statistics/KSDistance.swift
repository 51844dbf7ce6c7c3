import Foundation

extension Statistics {
    /// Two-sample Kolmogorov–Smirnov distance of two ascending samples at a resolution δ ≥ 0:
    ///
    ///     D_δ = max(0, sup_x [F_a(x) − F_b(x + δ)], sup_x [F_b(x) − F_a(x + δ)])
    ///
    /// With δ = 0 this is sup_x |F_a(x) − F_b(x)|, the statistic of scipy.stats.ks_2samp. With
    /// δ > 0, values that differ by at most δ count as equal: when every b is an a moved by at most
    /// δ (round-off of scores that are equal in exact arithmetic), D_δ = 0, whereas D can be as large
    /// as the share of tied values. 0 ≤ D − D_δ ≤ the largest mass either sample puts in a window
    /// of width δ, so on continuous scores the two agree up to that mass. NaN when either is empty.
    ///
    /// - Complexity: O(m + n).
    public static func ksDistance(sorted a: [Double], _ b: [Double], resolution delta: Double = 0) -> Double {
        guard !a.isEmpty, !b.isEmpty else { return .nan }
        guard delta > 0 else {
            var i = 0, j = 0, d = 0.0
            while i < a.count && j < b.count {
                let v = min(a[i], b[j])
                while i < a.count && a[i] <= v { i += 1 }
                while j < b.count && b[j] <= v { j += 1 }
                d = max(d, abs(Double(i) / Double(a.count) - Double(j) / Double(b.count)))
            }
            return d
        }
        // sup_x F_x(x) − F_y(x + δ) is reached at a value of x (F_x jumps there, F_y(· + δ) only
        // grows between two values of x): one pass over x with a pointer into y.
        func oneSided(_ x: [Double], _ y: [Double]) -> Double {
            var best = 0.0, j = 0, i = 0
            while i < x.count {
                let v = x[i]
                while i < x.count && x[i] <= v { i += 1 }
                while j < y.count && y[j] <= v + delta { j += 1 }
                best = max(best, Double(i) / Double(x.count) - Double(j) / Double(y.count))
            }
            return best
        }
        return max(oneSided(a, b), oneSided(b, a))
    }
}
