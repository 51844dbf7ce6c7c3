/// The shape every hypothesis-test result in embdiag shares, after SciPy's result objects: the
/// test statistic, its p-value, the alternative it was computed for, and — where the test
/// enumerated or sampled it — the null distribution of the statistic. Reports and callers can
/// treat the rank-sum, Mann–Whitney, WEAT permutation and shift tests alike through it.
public protocol HypothesisTestResult: Sendable {
    /// The test statistic (z, U, S(X, Y, A, B), MMD², …); each result documents which.
    var statistic: Double { get }
    /// The p-value under `alternative`.
    var pValue: Double { get }
    var alternative: Alternative { get }
    /// The statistic's null distribution when the test computed one (exact enumeration or
    /// permutations), else nil (asymptotic tests).
    var nullDistribution: [Double]? { get }
}

extension HypothesisTestResult {
    public var nullDistribution: [Double]? { nil }
}

extension RankSumTestResult: HypothesisTestResult {}

extension MannWhitneyResult: HypothesisTestResult {}

extension WEATResult: HypothesisTestResult {
    /// WEAT's permutation p-value is one-sided: X is more associated with A than Y is (S large).
    public var alternative: Alternative { .greater }
}
