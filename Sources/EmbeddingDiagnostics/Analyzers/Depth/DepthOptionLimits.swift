import Foundation

extension DepthConfiguration {
    /// Range checks (`SettingRange`), before any work.
    ///
    /// - Complexity: O(1).
    public func validate() throws {
        try SettingRange.integer(top, .top, atLeast: 0)
        try SettingRange.integer(mahalanobisComponents, .components, atLeast: 1)
        if let s = referenceSample { try SettingRange.integer(s, .referenceSample, atLeast: 2) }
        try SettingRange.integer(permutations, .permutations, atLeast: 0, atMost: Self.maximumPermutations,
                                 meaning: "relabellings of the permutation p-value; 0 = the normal approximation")
    }

    /// The most relabellings `permutations` may ask for: p-values down to 10⁻⁶, and at the
    /// pooled-row limit a labelling table of about 20 GB, which the memory budget refuses first.
    public static let maximumPermutations = 1_000_000

    /// Memory the options size, before any work (`MemoryBudget.check`): the reference sample's
    /// Float32 copy (capped at the reference rows), the Mahalanobis components (Float64
    /// d × components) and the permutation test's labellings (a membership byte and a Float32
    /// weight per pooled row and labelling, a Float64 statistic per labelling; only when it runs:
    /// cosine TTE depth, no sample, at most `permutationRowLimit` pooled rows of the reference and
    /// the largest other corpus).
    ///
    /// - Complexity: O(1).
    public func memoryEstimates(referenceRows n: Int, dimension d: Int, otherRows: Int = 0) -> [MemoryEstimate] {
        var out: [MemoryEstimate] = []
        let pooled = n + otherRows
        if otherRows > 0, DepthAnalysis.permutationSkipReason(self, sampled: referenceSample.map { $0 < n } ?? false, pooledRows: pooled) == nil {
            let columns = Double(permutations) + 1
            out.append(MemoryEstimate(.permutations, permutations, bytes: columns * (Double(pooled) * 5 + 8 * 2) + Double(pooled + d) * 8 * 2,
                                      purpose: "the labellings of the depth permutation test of \(pooled) pooled rows (\(Setting.permutations) 0 uses the normal approximation)"))
        }
        if let s = referenceSample {
            out.append(MemoryEstimate(.referenceSample, s, bytes: Double(min(s, n)) * Double(d) * 4, purpose: "the reference sample"))
        }
        if kind == .mahalanobis {
            out.append(MemoryEstimate(.components, mahalanobisComponents, bytes: Double(min(mahalanobisComponents, d)) * Double(d) * 8 * 2,
                                      purpose: "the principal components"))
        }
        return out
    }
}
