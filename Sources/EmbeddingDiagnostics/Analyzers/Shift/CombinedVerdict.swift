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

    /// Permutation tests share the relabellings and are combined by min-p; the others are not.
    public var isPermutationTest: Bool { self != .classifier }

    /// The test's weight v in the verdict's weighted min-p (`MinPCombination`): 1 for the kernel
    /// tests; 0.1 for the two-sided depth test, which sees only the projection on the reference's
    /// mean direction and detected no shift that MMD and energy missed in the power study, while
    /// at weight 1 it cost the verdict power at 10 % contamination (Guides/Shift.md).
    public var verdictWeight: Double { self == .depth ? 0.1 : 1 }
}

/// One test's contribution to the verdict.
public struct ShiftTestOutcome: Sendable, Equatable {
    public internal(set) var kind: ShiftTestKind
    public internal(set) var statistic: Double
    public internal(set) var pValue: Double
    /// The test's p-value adjusted for all the tests run (`CombinedVerdict`): the verdict's p-value
    /// is the smallest of them.
    public internal(set) var adjustedPValue: Double
    public internal(set) var effectSize: Double
    /// What the effect size is (e.g. "AUC").
    public internal(set) var effectName: String
    /// Permutations (permutation tests) or nil.
    public internal(set) var permutations: Int?
}

/// The overall verdict across the tests run. The permutation tests (MMD, energy, depth, cosine
/// MMD) use the same B relabellings, so they are combined without a Bonferroni loss by the
/// single-step weighted Westfall–Young min-p adjustment (`MinPCombination`, weights
/// `ShiftTestKind.verdictWeight`), exact under H₀ whatever their dependence. The classifier's p-value does not come from those relabellings (refitting it B
/// times would cost B fits), so the two families are joined by a weighted Bonferroni bound: with
/// weight w for the classifier and 1 − w for the permutation family,
///   adjusted p_t = min(1, p̃_t/(1 − w)) for a permutation test (p̃_t its min-p adjusted p-value),
///   adjusted p   = min(1, p_classifier/w) for the classifier,
/// and `pValue` = the smallest adjusted p. P(pValue ≤ α) ≤ (1 − w)α + wα = α under H₀ whatever
/// the dependence between the families. With only one family, w plays no role (no factor).
/// `p ≤ α` exactly when the weighted single-step procedure rejects at least one test.
public struct CombinedVerdict: Sendable, Equatable {
    public internal(set) var pValue: Double
    public internal(set) var tests: [ShiftTestOutcome]
    /// The test with the smallest adjusted p-value (ties: the first in `ShiftTestKind` order).
    public internal(set) var decidingTest: ShiftTestKind?
    /// The permutation family's min-p p-value (before the weight), nil without permutation tests.
    public internal(set) var permutationFamilyPValue: Double?
    /// w, the classifier's share of α when both families are present (0 or 1 otherwise).
    public internal(set) var classifierWeight: Double

    /// The rule in one line, for reports.
    public var correction: String {
        let perm = tests.filter { $0.kind.isPermutationTest }.map(\.kind.rawValue)
        let other = tests.filter { !$0.kind.isPermutationTest }.map(\.kind.rawValue)
        let weighted = tests.filter { $0.kind.isPermutationTest }.map { t in
            t.kind.verdictWeight == 1 ? t.kind.rawValue : "\(t.kind.rawValue) (weight \(ReportFormatting.number(t.kind.verdictWeight, significant: 3)))"
        }
        let family = perm.count > 1 ? "Westfall–Young min-p over \(weighted.joined(separator: ", "))" : perm.first.map { "\($0) alone" } ?? ""
        if perm.isEmpty { return other.count == 1 ? "\(other[0]) alone" : "Bonferroni over \(other.joined(separator: ", "))" }
        if other.isEmpty { return family }
        let w = ReportFormatting.number(classifierWeight, significant: 3), rest = ReportFormatting.number(1 - classifierWeight, significant: 3)
        return "\(family), weighted Bonferroni with \(other.joined(separator: ", ")): α·\(rest) / α·\(w)"
    }

    /// The smallest overall p-value these tests can give: 0 when a test without a permutation
    /// floor (the classifier's exact Mann–Whitney p-value) is in the verdict; otherwise the
    /// permutation floor 1/(B + 1), divided by the permutation family's share 1 − w of α. When it
    /// is not below α the verdict cannot reject whatever the data: too few relabellings.
    public var smallestPossiblePValue: Double {
        Self.smallestPossiblePValue(permutations: tests.compactMap(\.permutations).max() ?? 0,
                                    includesTestWithoutFloor: tests.contains(where: { $0.permutations == nil }),
                                    classifierWeight: classifierWeight)
    }

    /// The rule behind `smallestPossiblePValue`, for callers that know the settings but have no
    /// verdict yet (gates checked before any input is read): 0 with a test that has no floor,
    /// else min(1, 1/(B + 1)/(1 − w)).
    public static func smallestPossiblePValue(permutations: Int, includesTestWithoutFloor: Bool, classifierWeight: Double) -> Double {
        if includesTestWithoutFloor { return 0 }
        return min(1, 1 / Double(permutations + 1) / (1 - classifierWeight))
    }

    /// Whether a p-value below `alpha` is possible at all (`smallestPossiblePValue` < α).
    public func canReject(at alpha: Double) -> Bool { smallestPossiblePValue < alpha }

    /// The default weight w of the classifier (Guides/Shift.md: chosen from the power study).
    public static let defaultClassifierWeight = 0.1

    /// - Parameters:
    ///   - tests: the outcomes, each with its own p-value.
    ///   - permutationStatistics: for every permutation test in `tests`, the B + 1 statistics of
    ///     the shared relabellings (column 0 observed); several arrays for one kind (e.g. MMD at
    ///     several bandwidths) make that test the min-p of its arrays.
    ///   - classifierWeight: w ∈ (0, 1).
    /// - Complexity: O(k·B log B).
    public init(_ tests: [ShiftTestOutcome], permutationStatistics: [(ShiftTestKind, [Double])] = [],
                classifierWeight: Double = CombinedVerdict.defaultClassifierWeight) {
        precondition(classifierWeight > 0 && classifierWeight < 1)
        let permutationKinds = Set(permutationStatistics.map(\.0))
        let others = tests.filter { !permutationKinds.contains($0.kind) }
        let hasPermutation = !permutationStatistics.isEmpty
        let weight = hasPermutation ? (others.isEmpty ? 0 : classifierWeight) : 1
        var adjusted = [Double](repeating: 1, count: tests.count)
        var familyP: Double?
        if hasPermutation {
            let combination = MinPCombination(statistics: permutationStatistics.map(\.1),
                                              weights: permutationStatistics.map { $0.0.verdictWeight })
            familyP = combination.pValue
            for (i, t) in tests.enumerated() where permutationKinds.contains(t.kind) {
                let own = zip(permutationStatistics, combination.adjustedPValues).filter { $0.0.0 == t.kind }.map(\.1).min() ?? 1
                adjusted[i] = min(1, own / (1 - weight))
            }
        }
        // Non-permutation tests share their weight equally (Bonferroni within them).
        for (i, t) in tests.enumerated() where !permutationKinds.contains(t.kind) {
            adjusted[i] = min(1, t.pValue * Double(others.count) / weight)
        }
        self.tests = tests.enumerated().map { i, t in var t = t; t.adjustedPValue = adjusted[i]; return t }
        pValue = adjusted.min() ?? 1
        decidingTest = tests.indices.min { adjusted[$0] < adjusted[$1] }.map { tests[$0].kind }
        permutationFamilyPValue = familyP
        self.classifierWeight = weight
    }
}
