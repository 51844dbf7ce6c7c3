import Foundation

/// Single-step Westfall–Young min-p adjustment of k permutation tests that share the same B
/// relabellings (Westfall & Young, *Resampling-Based Multiple Testing*, 1993, Algorithm 2.8;
/// the "minP" procedure). For each labelling c (column 0 observed), p_t(c) is test t's
/// permutation p-value of T_t(c) among all B + 1 columns (`permutationCounts`) and
/// minP(c) = min_t p_t(c). Test t's adjusted p-value is #{c : minP(c) ≤ p_t(0)}/(B + 1) and the
/// family's p-value is the smallest adjusted one, #{c : minP(c) ≤ minP(0)}/(B + 1).
///
/// Why it is exact: under H₀ (both samples from one distribution) the B + 1 labellings are
/// exchangeable, and minP(c) is computed from the whole set of B + 1 statistics the same way for
/// every column, so minP(0) is uniformly ranked among the minP(c) — the family's p-value has level
/// α exactly up to the discreteness of (B + 1), whatever the dependence between the tests. It
/// loses nothing when the tests agree (strongly dependent tests: the adjusted p is close to the
/// smallest single p), unlike Bonferroni's factor k. Guide: Guides/Shift.md.
///
/// Weights (Westfall & Young's weighted variant): with weights v_t > 0, test t enters the minimum
/// as p_t(c)/v_t, so a test with a small weight decides only when its evidence is much stronger;
/// the calibration over the B + 1 columns keeps the level exact for any fixed weights.
public struct MinPCombination: Sendable, Equatable {
    /// Adjusted p-value of each test, in input order.
    public internal(set) var adjustedPValues: [Double]
    /// The family's p-value (the smallest adjusted p).
    public internal(set) var pValue: Double
    /// B + 1.
    public internal(set) var columns: Int
    /// The weights v_t used.
    public internal(set) var weights: [Double]

    /// - Parameter statistics: one array per test, each with the B + 1 statistics (column 0
    ///   observed; larger = more evidence against H₀), all on the same labellings.
    ///   - weights: v_t > 0 for every test (default: all 1).
    /// - Complexity: O(k·B log B).
    public init(statistics: [[Double]], weights: [Double]? = nil) {
        precondition(!statistics.isEmpty, "MinPCombination needs at least one test")
        let total = statistics[0].count
        precondition(statistics.allSatisfy { $0.count == total }, "MinPCombination: every test needs the same labellings")
        let v = weights ?? [Double](repeating: 1, count: statistics.count)
        precondition(v.count == statistics.count && v.allSatisfy { $0 > 0 && $0.isFinite }, "MinPCombination: one positive weight per test")
        // Integer counts divided by fixed weights: the same inputs give bit-identical ratios, so the
        // comparisons below are exact and reproducible.
        let counts = statistics.map(permutationCounts)
        var minRatio = [Double](repeating: .infinity, count: total)
        for (t, c) in counts.enumerated() { for j in 0..<total { minRatio[j] = Swift.min(minRatio[j], Double(c[j]) / v[t]) } }
        let sortedMin = minRatio.sorted()
        func atMost(_ x: Double) -> Int {  // #{c : minRatio[c] ≤ x}
            var lo = 0, hi = total
            while lo < hi { let mid = (lo + hi) / 2; if sortedMin[mid] <= x { lo = mid + 1 } else { hi = mid } }
            return lo
        }
        adjustedPValues = counts.enumerated().map { t, c in Double(atMost(Double(c[0]) / v[t])) / Double(total) }
        pValue = Double(atMost(minRatio[0])) / Double(total)
        columns = total
        self.weights = v
    }
}
