import Foundation

extension CompatibilityConfiguration {
    /// Range checks (`SettingRange`), before any work.
    ///
    /// - Complexity: O(ks + thresholds + ridge grid).
    public func validate() throws {
        try SettingRange.integers(ks, .k, atLeast: 1)
        try SettingRange.integer(maxQueries, .queries, atLeast: 0, meaning: "0 = all rows")
        try SettingRange.integer(neighborK, .neighborK, atLeast: 1)
        try SettingRange.integer(thresholdBootstrap, .thresholdBootstrap, atLeast: 0, meaning: "0 = no interval")
        try SettingRange.number(noWorseTolerance, .noWorseTolerance, atLeast: 0, below: 1)
        try SettingRange.number(trainFraction, .trainFraction, above: 0, below: 1)
        for t in thresholds { try SettingRange.number(t, .threshold, atLeast: -1, atMost: 1) }
        if let r = rcond { guard r.isFinite, r >= 0, r < 1 else { throw EmbdiagError.usage("the least-squares rcond must be in [0, 1) (got \(r))") } }
        guard !ridgeGrid.isEmpty, ridgeGrid.allSatisfy({ $0.isFinite && $0 > 0 }) else {
            throw EmbdiagError.usage("the ridge:auto grid needs positive finite λ values (got \(ridgeGrid))")
        }
        guard maxPairs >= 1, sampledPairs >= 1, changedRowsShown >= 0 else {
            throw EmbdiagError.usage("pair limits must be positive (maxPairs \(maxPairs), sampledPairs \(sampledPairs)) and changedRowsShown ≥ 0 (\(changedRowsShown))")
        }
    }

    /// Memory the options size, before any work (`MemoryBudget.check`): the k-NN lists of the
    /// neighbourhood-stability rows in OLD and NEW (an index and a score per neighbour, k capped
    /// at n − 1), and the bootstrap replicates of every carried threshold. Queries and recall
    /// cut-offs are capped at the gallery size and stream through tiled passes, so they size no
    /// more than the inputs do.
    ///
    /// - Complexity: O(1).
    public func memoryEstimates(galleryRows n: Int) -> [MemoryEstimate] {
        let rows = Double(maxQueries <= 0 ? n : min(n, maxQueries))
        let k = Double(min(neighborK, max(1, n - 1)))
        var out = [MemoryEstimate(.neighborK, neighborK, bytes: 2 * rows * k * 12, purpose: "the OLD and NEW neighbour lists of \(Int(rows)) rows")]
        if !thresholds.isEmpty {
            out.append(MemoryEstimate(.thresholdBootstrap, thresholdBootstrap, bytes: Double(thresholdBootstrap) * 8 * Double(thresholds.count) * 4,
                                      purpose: "the bootstrap replicates of \(thresholds.count) threshold(s)"))
        }
        return out
    }
}
