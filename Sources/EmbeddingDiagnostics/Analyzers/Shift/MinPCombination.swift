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
public struct MinPCombination: Sendable, Equatable {
    /// Adjusted p-value of each test, in input order.
    public var adjustedPValues: [Double]
    /// The family's p-value (the smallest adjusted p).
    public var pValue: Double
    /// B + 1.
    public var columns: Int

    /// - Parameter statistics: one array per test, each with the B + 1 statistics (column 0
    ///   observed; larger = more evidence against H₀), all on the same labellings.
    /// - Complexity: O(k·B log B).
    public init(statistics: [[Double]]) {
        precondition(!statistics.isEmpty, "MinPCombination needs at least one test")
        let total = statistics[0].count
        precondition(statistics.allSatisfy { $0.count == total }, "MinPCombination: every test needs the same labellings")
        let counts = statistics.map(permutationCounts)
        var minCount = [Int](repeating: Int.max, count: total)
        for c in counts { for j in 0..<total { minCount[j] = Swift.min(minCount[j], c[j]) } }
        let sortedMin = minCount.sorted()
        func atMost(_ x: Int) -> Int {  // #{c : minCount[c] ≤ x}
            var lo = 0, hi = total
            while lo < hi { let mid = (lo + hi) / 2; if sortedMin[mid] <= x { lo = mid + 1 } else { hi = mid } }
            return lo
        }
        adjustedPValues = counts.map { Double(atMost($0[0])) / Double(total) }
        pValue = Double(atMost(minCount[0])) / Double(total)
        columns = total
    }
}
