import Foundation

/// Which way the alternative hypothesis points, as in scipy.stats.
public enum Alternative: String, Sendable, CaseIterable, Codable {
    /// x tends to be larger than y.
    case greater
    /// x tends to be smaller than y.
    case less
    case twoSided = "two-sided"
}

/// The Wilcoxon rank-sum test as `scipy.stats.ranksums` defines it: the standardised rank sum of x,
/// normal approximation, no tie or continuity correction.
public struct RankSumTestResult: Sendable, Equatable {
    /// z = (R_x − n_x(N+1)/2) / √(n_x n_y (N+1)/12), R_x = sum of the average ranks of x.
    public internal(set) var statistic: Double
    public internal(set) var pValue: Double
    public internal(set) var alternative: Alternative
    public internal(set) var sizes: (x: Int, y: Int)

    public static func == (a: Self, b: Self) -> Bool {
        a.statistic == b.statistic && a.pValue == b.pValue && a.alternative == b.alternative && a.sizes == b.sizes
    }
}

/// The Mann–Whitney U test as `scipy.stats.mannwhitneyu` defines it (U of x; asymptotic p with tie
/// and continuity correction), plus the exact p-value where there are no ties and the sizes allow.
public struct MannWhitneyResult: Sendable, Equatable {
    /// U₁ = R_x − n_x(n_x+1)/2: the number of pairs (x_i, y_j) with x_i > y_j, ties counting ½
    /// (scipy's `statistic`).
    public internal(set) var statistic: Double
    /// Normal approximation with tie correction and continuity correction.
    public internal(set) var pValue: Double
    /// Exact p from the null distribution of U (nil with ties or when n_x·n_y > `exactLimit`).
    public internal(set) var pValueExact: Double?
    /// Rank-biserial correlation 2U₁/(n_x n_y) − 1 ∈ [−1, 1]: +1 when every x exceeds every y.
    public internal(set) var rankBiserial: Double
    public internal(set) var alternative: Alternative
    public internal(set) var hasTies: Bool
}

private func pValue(z: Double, alternative: Alternative) -> Double {
    switch alternative {
    case .greater: return Distributions.normalSurvival(z)
    case .less: return Distributions.normalCDF(z)
    case .twoSided: return min(1, 2 * min(Distributions.normalCDF(z), Distributions.normalSurvival(z)))
    }
}

extension RankTests {
    /// `scipy.stats.ranksums(x, y, alternative)`.
    public static func rankSumTest(_ x: [Double], _ y: [Double], alternative: Alternative = .twoSided) -> RankSumTestResult {
        let n1 = Double(x.count), n2 = Double(y.count)
        let ranks = Statistics.averageRanks(x + y).ranks
        let s = ranks[0..<x.count].reduce(0, +)
        let expected = n1 * (n1 + n2 + 1) / 2
        let z = (s - expected) / (n1 * n2 * (n1 + n2 + 1) / 12).squareRoot()
        return RankSumTestResult(statistic: z, pValue: pValue(z: z, alternative: alternative), alternative: alternative, sizes: (x.count, y.count))
    }

    /// `scipy.stats.mannwhitneyu(x, y, alternative, use_continuity=True, method="asymptotic")`, with
    /// the exact p-value (scipy's method="exact") added when there are no ties.
    public static func mannWhitneyU(_ x: [Double], _ y: [Double], alternative: Alternative = .twoSided) -> MannWhitneyResult {
        let n1 = x.count, n2 = y.count
        let n = Double(n1 + n2)
        let (ranks, ties) = Statistics.averageRanks(x + y)
        let r1 = ranks[0..<n1].reduce(0, +)
        let u1 = r1 - Double(n1 * (n1 + 1)) / 2
        let u2 = Double(n1 * n2) - u1
        let mu = Double(n1 * n2) / 2
        let tieTerm = ties.reduce(0.0) { $0 + pow(Double($1), 3) - Double($1) }
        let s = (Double(n1 * n2) / 12 * ((n + 1) - tieTerm / (n * (n - 1)))).squareRoot()
        let u: Double
        switch alternative {
        case .greater: u = u1
        case .less: u = u2
        case .twoSided: u = max(u1, u2)
        }
        var p: Double
        if s > 0 {
            let z = (u - mu - 0.5) / s
            p = Distributions.normalSurvival(z)
            if alternative == .twoSided { p *= 2 }
        } else {
            p = 1  // every value tied: no evidence either way
        }
        p = min(max(p, 0), 1)
        var exact: Double?
        if ties.isEmpty && n1 > 0 && n2 > 0 && n1 * n2 <= RankTests.exactMannWhitneyLimit {
            let pmf = RankTests.mannWhitneyNullDistribution(n1, n2)
            let survival = { (k: Int) -> Double in pmf[max(0, k)...].reduce(0, +) }  // P(U ≥ k)
            switch alternative {
            case .greater: exact = survival(Int(u1))
            case .less: exact = survival(Int(u2))
            case .twoSided: exact = min(1, 2 * survival(Int(max(u1, u2))))
            }
        }
        // (2U − n₁n₂)/(n₁n₂): 2U and n₁n₂ are integers, so the result is rounded once and an
        // effect size of exactly 0.1 is the Double 0.1 a gate writes (2U/(n₁n₂) − 1 was not).
        let biserial = n1 * n2 > 0 ? (2 * u1 - Double(n1 * n2)) / Double(n1 * n2) : .nan
        return MannWhitneyResult(statistic: u1, pValue: p, pValueExact: exact, rankBiserial: biserial, alternative: alternative, hasTies: !ties.isEmpty)
    }

    /// P(U = u), u = 0…n₁n₂, under H₀ (no ties): c(m, n, u) = c(m−1, n, u−n) + c(m, n−1, u), where
    /// the recursion splits on whether the largest of the m + n values is an x (it then beats all n
    /// y's) or a y; divided by C(m+n, m).
    public static func mannWhitneyNullDistribution(_ n1: Int, _ n2: Int) -> [Double] {
        // counts[m] holds c(m, n, ·) for the current n.
        var counts = [[Double]](repeating: [1], count: n1 + 1)  // n = 0: one arrangement, U = 0
        if n2 > 0 {
            for n in 1...n2 {
                var next = [[Double]](repeating: [], count: n1 + 1)
                next[0] = [1]
                if n1 > 0 {
                    for m in 1...n1 {
                        var c = [Double](repeating: 0, count: m * n + 1)
                        for (u, v) in counts[m].enumerated() { c[u] += v }            // largest is a y
                        for (u, v) in next[m - 1].enumerated() { c[u + n] += v }      // largest is an x
                        next[m] = c
                    }
                }
                counts = next
            }
        }
        let c = counts[n1]
        let total = c.reduce(0, +)
        return c.map { $0 / total }
    }

    /// Largest n_x·n_y for which the exact null distribution of U is computed (O((n_x n_y)²)/…
    /// time through the recursion on arrangements; 10,000 ↔ 100 × 100 in well under a second).
    public static let exactMannWhitneyLimit = 10_000
}
