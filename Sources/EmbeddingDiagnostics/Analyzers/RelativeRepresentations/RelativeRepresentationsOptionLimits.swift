import Foundation

extension RelativeRepresentationsConfiguration {
    /// Range checks (`SettingRange`), before any work.
    ///
    /// - Complexity: O(ks + sweep).
    public func validate() throws {
        try SettingRange.integers(ks, .k, atLeast: 1)
        try SettingRange.integer(anchorCount, .anchors, atLeast: 0, meaning: "0 compares the spaces without a relative projection")
        try SettingRange.integer(maxQueries, .queries, atLeast: 0, meaning: "0 = all rows")
        if !sweepCounts.isEmpty { try SettingRange.integers(sweepCounts, .anchors, atLeast: 1) }
    }

    /// Memory the options size, before any work (`MemoryBudget.check`): the n × anchors Float32
    /// relative matrices of both spaces and their centred copies (anchors capped at n), and the
    /// neighbour lists of the query rows for the largest k.
    ///
    /// - Complexity: O(1).
    public func memoryEstimates(rows n: Int, largestK: Int) -> [MemoryEstimate] {
        let anchors = Double(min(anchorCount, n)), rows = Double(n)
        let queries = Double(maxQueries <= 0 ? n : min(n, maxQueries))
        return [
            MemoryEstimate(.anchors, anchorCount, bytes: rows * anchors * 4 * 4, purpose: "the relative matrices of \(n) rows"),
            MemoryEstimate(.k, largestK, bytes: queries * Double(min(largestK, n)) * 12 * 4, purpose: "the neighbour lists of \(Int(queries)) query rows"),
        ]
    }
}
