/// Descriptive statistics, ranks, correlations, quantiles and permutation helpers
/// (`Statistics.quantile`, `Statistics.spearmanCorrelation`, …).
public enum Statistics {}

/// Two-sample rank tests as scipy.stats defines them (`RankTests.rankSumTest`, `RankTests.mannWhitneyU`).
public enum RankTests {}

/// p-value adjustments for several tests (`MultipleTesting.holmAdjusted`, …).
public enum MultipleTesting {}
