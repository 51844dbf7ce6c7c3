import Foundation

extension DepthConfiguration {
    /// Range checks (`SettingRange`), before any work.
    ///
    /// - Complexity: O(1).
    public func validate() throws {
        try SettingRange.integer(top, .top, atLeast: 0)
        try SettingRange.integer(mahalanobisComponents, .components, atLeast: 1)
        if let s = referenceSample { try SettingRange.integer(s, .referenceSample, atLeast: 2) }
    }

    /// Memory the options size, before any work (`MemoryBudget.check`): the reference sample's
    /// Float32 copy (capped at the reference rows) and the Mahalanobis components (Float64
    /// d × components).
    ///
    /// - Complexity: O(1).
    public func memoryEstimates(referenceRows n: Int, dimension d: Int) -> [MemoryEstimate] {
        var out: [MemoryEstimate] = []
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
