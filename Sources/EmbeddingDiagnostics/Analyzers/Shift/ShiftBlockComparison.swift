import Foundation

/// How `embdiag shift` computes its MMD test (`--mmd`).
public enum MMDEstimator: String, Sendable, CaseIterable, Codable {
    /// MMD²_u on every pair of pooled rows, permutation p-value (O(N²·(d + B)) time).
    case exact
    /// The block test (`BlockMMDTest`) on every row: O(N·b·d) time, memory bounded by the block.
    case block
}

extension ShiftAnalysis {
    /// REF against one OTHER with the block MMD test alone: no permutation design, no N × N pass,
    /// so neither the k-NN quality numbers nor the witness (both O(N²)) — the report says so.
    /// - Complexity: O((m + n)·b·d) time, O(b² + b·d + m + n) memory beyond the unit rows.
    static func blockComparison(_ reference: Embeddings, _ referenceUnit: Matrix, _ other: Embeddings,
                                _ c: ShiftConfiguration) throws -> ShiftComparison {
        let m = reference.count, n = other.count
        let test = try blockMMDTest(first: referenceUnit, second: other.matrix, bandwidth: c.bandwidth,
                                    blockRows: c.mmdBlockRows, bandwidthSample: c.bandwidthSample, seed: c.seed)
        let result = PermutationTestResult(statistic: test.statistic, pValue: test.pValue, alternative: .greater, permutations: 0, seed: c.seed,
                                           atLeastAsExtreme: 0, nullMean: 0, nullStandardDeviation: test.standardError)
        let mmd = MMDTest(kernel: .gaussian, bandwidth: test.bandwidth, result: result, block: test)
        let outcome = ShiftTestOutcome(kind: .mmd, statistic: test.statistic, pValue: test.pValue, adjustedPValue: test.pValue,
                                       effectSize: test.t, effectName: "t", permutations: nil)
        return ShiftComparison(reference: reference.source, other: other.source, referenceCount: m, otherCount: n, otherInputCount: n,
                               crossDuplicates: CrossCorpusDuplicates(tolerance: nil, referenceCount: m, otherCount: n, matches: [],
                                                                      referenceRowsMatched: 0, referenceInternalDuplicates: 0),
                               crossDuplicatesDropped: false, mmd: mmd, mmdCosine: nil, energy: nil, classifier: nil, depth: nil,
                               depthPermutation: nil, verdict: CombinedVerdict([outcome]), quality: nil, mauve: nil, location: nil,
                               bandwidth: test.bandwidth)
    }
}
