import Foundation

extension CosineNeighbors {
    /// Memory `k` sizes, before any work (`MemoryBudget.check`): an Int32 index and a Float32
    /// score per query and neighbour, twice (the lists and the report table), k capped at the
    /// corpus rows.
    ///
    /// - Complexity: O(1).
    public static func memoryEstimates(queries q: Int, corpusRows n: Int, k: Int) -> [MemoryEstimate] {
        [MemoryEstimate(.k, k, bytes: Double(q) * Double(min(k, n)) * 16, purpose: "the neighbour lists of \(q) rows")]
    }
}
