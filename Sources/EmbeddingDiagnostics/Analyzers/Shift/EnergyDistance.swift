import Foundation

/// The energy-distance two-sample test (Székely & Rizzo, "Energy statistics", J. Stat. Plann.
/// Inference 2013; Baringhaus & Franz 2004) on unit rows, permutation p-value.
/// Guide: Guides/Shift.md.
public struct EnergyTest: Sendable, Equatable {
    /// E = 2·mean‖x − y‖ − mean‖x − x′‖ − mean‖y − y′‖ (V-statistics: all m², n² pairs of a
    /// sample, the zero diagonal included, as in the paper and `dcor.energy_distance`), with its
    /// permutation p-value. The paper's test statistic (mn/(m+n))·E orders relabellings the same way.
    public internal(set) var result: PermutationTestResult
    /// Mean distance between the samples, mean‖x − y‖.
    public internal(set) var meanCrossDistance: Double
    /// Székely & Rizzo's homogeneity coefficient H = E / (2·mean‖x − y‖) ∈ [0, 1]: 0 for equal
    /// distributions; an effect size that does not grow with the sample sizes.
    public var homogeneity: Double { meanCrossDistance > 0 ? result.statistic / (2 * meanCrossDistance) : 0 }
}

/// The energy test from the kernel pass with `.distance` (E_c = −w_cᵀ D w_c for every labelling).
/// - Complexity: O(B).
public func energyTest(_ forms: KernelQuadraticForms, seed: UInt64) -> EnergyTest {
    precondition(forms.kernel == .distance, "energyTest needs the distance forms")
    let statistics = energyStatistics(forms)
    let m = Double(forms.firstCount), n = Double(forms.secondCount)
    return EnergyTest(result: permutationTestResult(observed: statistics[0], permuted: Array(statistics.dropFirst()), seed: seed),
                      meanCrossDistance: forms.crossBlockSum(0) / (m * n))
}

/// E of every labelling (column 0 observed): E_c = −w_cᵀ D w_c.
/// - Complexity: O(B).
public func energyStatistics(_ forms: KernelQuadraticForms) -> [Double] {
    precondition(forms.kernel == .distance, "energyStatistics needs the distance forms")
    return forms.quadratic.map { -$0 }
}
