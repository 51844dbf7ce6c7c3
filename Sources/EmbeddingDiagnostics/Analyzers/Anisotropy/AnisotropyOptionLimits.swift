import Foundation

extension AnisotropyConfiguration {
    /// Range checks (`SettingRange`), before any work.
    ///
    /// - Complexity: O(1).
    public func validate() throws {
        try SettingRange.integer(top, .top, atLeast: 1)
        try SettingRange.integer(pairSample, .pairs, atLeast: 0, meaning: "0 skips the cosine spread")
        guard partitionSample >= 1 else { throw EmbdiagError.usage("the partition-function sample must be at least 1 row (got \(partitionSample))") }
    }

    /// Memory the options size, before any work (`MemoryBudget.check`): the sampled pairs (two
    /// row indices and a Float64 cosine each, capped at the n(n−1)/2 distinct pairs).
    ///
    /// - Complexity: O(1).
    public func memoryEstimates(rows n: Int, dimension d: Int) -> [MemoryEstimate] {
        let distinct = Double(n) * Double(max(0, n - 1)) / 2
        return [MemoryEstimate(.pairs, pairSample, bytes: min(Double(pairSample), distinct) * 24, purpose: "the sampled pairs and their cosines")]
    }
}
