import Foundation

/// The tests `embdiag shift` can run (`--tests`).
public enum ShiftTestKind: String, Sendable, CaseIterable, Codable {
    /// MMD²_u, Gaussian kernel on unit rows, median-heuristic bandwidth.
    case mmd
    /// MMD²_u, linear (cosine) kernel on unit rows — not in the default set (see Guides/Shift.md).
    case mmdCosine = "mmd-cosine"
    /// Energy distance on unit rows.
    case energy
    /// Cross-fitted logistic-regression classifier, AUC with its Mann–Whitney p-value.
    case classifier
    /// TTE depth rank-sum test (the `depth` command's test), two-sided.
    case depth

    /// The default set: the four tests of the combined verdict.
    public static let defaults: [ShiftTestKind] = [.mmd, .energy, .classifier, .depth]

    /// The metric key suffix: p_value_<key>.
    public var key: String { rawValue.replacingOccurrences(of: "-", with: "_") }
}

/// One test's contribution to the verdict.
public struct ShiftTestOutcome: Sendable, Equatable {
    public var kind: ShiftTestKind
    public var statistic: Double
    public var pValue: Double
    /// Holm-adjusted p-value within the tests run.
    public var holmPValue: Double
    public var effectSize: Double
    /// What the effect size is (e.g. "AUC").
    public var effectName: String
    /// Permutations (permutation tests) or nil.
    public var permutations: Int?
}

/// The overall verdict across k tests: p = min(1, k · min_i p_i) — the Bonferroni bound on the
/// smallest p-value, which is also the smallest Holm-adjusted p-value. It is a valid p-value for
/// "all k null hypotheses hold" under any dependence between the tests (they share the data and are
/// strongly dependent), and `p ≤ α` exactly when Holm's procedure rejects at least one test.
public struct CombinedVerdict: Sendable, Equatable {
    public var pValue: Double
    public var tests: [ShiftTestOutcome]
    /// The test with the smallest p-value (ties: the first in `ShiftTestKind` order).
    public var decidingTest: ShiftTestKind?
    public var correction: String { "Bonferroni-min (= smallest Holm-adjusted p) over \(tests.count) test\(tests.count == 1 ? "" : "s")" }

    /// - Complexity: O(k log k).
    public init(_ tests: [ShiftTestOutcome]) {
        let p = tests.map(\.pValue)
        let holm = MultipleTesting.holmAdjusted(p)
        self.tests = tests.enumerated().map { i, t in var t = t; t.holmPValue = holm[i]; return t }
        pValue = tests.isEmpty ? 1 : min(1, Double(tests.count) * (p.min() ?? 1))
        decidingTest = tests.indices.min { p[$0] < p[$1] }.map { tests[$0].kind }
    }
}
