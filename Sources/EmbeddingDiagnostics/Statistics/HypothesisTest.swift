/// The shape every hypothesis-test result in embdiag shares, after SciPy's result objects: the
/// test statistic, its p-value, the alternative it was computed for, the method, and — where the
/// test enumerated or sampled it — the null distribution of the statistic (SciPy's
/// `permutation_test(...).null_distribution`). Reports and callers treat the rank-sum,
/// Mann–Whitney, WEAT permutation test and the shift tests (permutation, MMD, energy, classifier)
/// alike through it.
public protocol HypothesisTestResult: Sendable {
    /// What was computed, in words ("MMD² permutation test (gaussian kernel)").
    var method: String { get }
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

extension RankSumTestResult: HypothesisTestResult {
    public var method: String { "Wilcoxon rank-sum test (normal approximation)" }
}

extension MannWhitneyResult: HypothesisTestResult {
    public var method: String { pValueExact != nil ? "Mann–Whitney U test (exact)" : "Mann–Whitney U test (normal approximation)" }
}

extension WEATResult: HypothesisTestResult {
    public var method: String { "WEAT permutation test" }
    /// WEAT's permutation p-value is one-sided: X is more associated with A than Y is (S large).
    public var alternative: Alternative { .greater }
}

extension PermutationTestResult: HypothesisTestResult {
    public var method: String { "permutation test (\(permutations) seeded relabellings)" }
}

extension MMDTest: HypothesisTestResult {
    public var method: String { block?.method ?? "MMD² permutation test (\(kernel.rawValue) kernel)" }
    /// MMD²_u of the observed split.
    public var statistic: Double { result.statistic }
    public var pValue: Double { result.pValue }
    public var alternative: Alternative { result.alternative }
    public var nullDistribution: [Double]? { result.nullDistribution }
}

extension EnergyTest: HypothesisTestResult {
    public var method: String { "energy distance permutation test" }
    /// The energy distance of the observed split.
    public var statistic: Double { result.statistic }
    public var pValue: Double { result.pValue }
    public var alternative: Alternative { result.alternative }
    public var nullDistribution: [Double]? { result.nullDistribution }
}

extension ClassifierTest: HypothesisTestResult {
    public var method: String { "classifier two-sample test (\(folds)-fold logistic regression, Mann–Whitney on out-of-fold scores, Bonferroni over folds)" }
    /// The out-of-fold AUC.
    public var statistic: Double { auc }
    /// One-sided: the classifier tells the samples apart (AUC > 0.5).
    public var alternative: Alternative { .greater }
    /// Its p-value combines the folds' rank tests (exact or normal), not a resampled null.
    public var nullDistribution: [Double]? { nil }
}
