import Foundation

/// The result of a one-sided permutation test over equal-size splits (the WEAT test of Caliskan
/// et al. 2017).
public struct PartitionTestResult: Sendable, Equatable {
    /// P(statistic of a random split ≥ observed statistic).
    public internal(set) var pValue: Double
    /// True: every split was enumerated (the p-value is exact). False: seeded Monte Carlo.
    public internal(set) var exact: Bool
    /// Splits enumerated (exact) or sampled (Monte Carlo).
    public internal(set) var permutations: Int
    /// Splits whose statistic was ≥ the observed one (the observed split included when exact).
    public internal(set) var atLeastAsExtreme: Int
    /// The seed of the Monte Carlo draws (nil when exact).
    public internal(set) var seed: UInt64?
}

extension Statistics {
    /// Number of k-subsets of n, saturating at Int.max.
    public static func binomialCoefficient(_ n: Int, _ k: Int) -> Int {
        guard k >= 0, k <= n else { return 0 }
        let k = min(k, n - k)
        var c = 1
        for i in 0..<k {
            let (m, overflow) = c.multipliedReportingOverflow(by: n - i)
            if overflow { return Int.max }
            c = m / (i + 1)
        }
        return c
    }

    /// One-sided permutation test of "the first `firstCount` values have a large sum": the pooled
    /// `values` are split into every (or randomly drawn) group of `firstCount` and the rest; the
    /// statistic Σ_first − Σ_rest = 2·Σ_first − Σ_all is monotone in Σ_first, so the test counts splits
    /// with Σ_first ≥ the observed Σ_first (ties count; a relative tolerance of 1e-12 absorbs summation
    /// order).
    ///
    /// - Exact when C(n, firstCount) ≤ `exactLimit`: every split enumerated, p = count / C(n, k).
    /// - Otherwise `permutations` seeded random splits (partial Fisher–Yates, xoshiro256**), and
    ///   p = (count + 1) / (permutations + 1) (the observed split counted once; never 0).
    public static func partitionSumTest(_ values: [Double], firstCount k: Int, exactLimit: Int = 1_000_000,
                                 permutations: Int = 100_000, seed: UInt64 = 42) -> PartitionTestResult {
        let n = values.count
        precondition(k >= 0 && k <= n, "partitionSumTest: firstCount out of range")
        let observed = values[0..<k].reduce(0, +)
        let scale = values.reduce(0) { $0 + abs($1) }
        let threshold = observed - 1e-12 * max(scale, 1e-300)
        let total = Statistics.binomialCoefficient(n, k)
        if total <= exactLimit {
            // Depth-first enumeration of k-subsets with running sums.
            var count = 0
            var visited = 0
            values.withUnsafeBufferPointer { v in
                func walk(_ start: Int, _ left: Int, _ sum: Double) {
                    if left == 0 {
                        visited += 1
                        if sum >= threshold { count += 1 }
                        return
                    }
                    var i = start
                    while i <= n - left {
                        walk(i + 1, left - 1, sum + v[i])
                        i += 1
                    }
                }
                walk(0, k, 0)
            }
            return PartitionTestResult(pValue: Double(count) / Double(visited), exact: true, permutations: visited,
                                       atLeastAsExtreme: count, seed: nil)
        }
        var rng = SeededGenerator(seed: seed)
        var index = Array(0..<n)
        var count = 0
        let draws = max(1, permutations)
        index.withUnsafeMutableBufferPointer { idx in
            values.withUnsafeBufferPointer { v in
                for _ in 0..<draws {
                    var sum = 0.0
                    for i in 0..<k {
                        let j = i + rng.nextIndex(n - i)
                        idx.swapAt(i, j)
                        sum += v[idx[i]]
                    }
                    if sum >= threshold { count += 1 }
                }
            }
        }
        return PartitionTestResult(pValue: Double(count + 1) / Double(draws + 1), exact: false, permutations: draws,
                                   atLeastAsExtreme: count, seed: seed)
    }
}
