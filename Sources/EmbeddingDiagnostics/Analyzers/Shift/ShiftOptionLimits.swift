import Foundation

extension ShiftConfiguration {
    /// Range checks (`SettingRange`) beyond the ones `ShiftAnalysis` makes itself, before any work.
    ///
    /// - Complexity: O(1).
    public func validate() throws {
        try SettingRange.integer(permutations, .permutations, atLeast: 1)
        try SettingRange.integer(top, .top, atLeast: 0)
        try SettingRange.number(alpha, .alpha, above: 0, below: 1)
        if let rows = mmdBlockRows { try SettingRange.integer(rows, .mmdBlockRows, atLeast: 2) }
        // A scale of the median-heuristic σ outside the range `checkGivenBandwidth` allows a
        // given σ makes the kernel 0 or 1 in Float32: the MMD test would measure round-off.
        if bandwidth == nil, let bad = bandwidthScales.first(where: { !($0 >= 1 / bandwidthRangeBelowMedian && $0 <= bandwidthRangeAboveMedian) }) {
            throw EmbdiagError.usage("\(Setting.bandwidthScales) \(bad): σ × \(bad) makes the Gaussian kernel of a typical pair of rows \(bad < 1 ? "0" : "1") in Float32, so the MMD test would measure round-off; give scales between \(ReportFormatting.number(1 / bandwidthRangeBelowMedian)) and \(ReportFormatting.number(bandwidthRangeAboveMedian))")
        }
        if mmdEstimator == .block {
            // The block test replaces the O(N²) pass every other test and the witness share.
            guard tests == [.mmd] else {
                throw EmbdiagError.usage("\(Setting.mmdEstimator) block runs the MMD test alone (the other tests cost O(N²)): give \(Setting.tests) mmd (got \(tests.map(\.rawValue).joined(separator: ",")))")
            }
            guard bandwidthScales == [1] else { throw EmbdiagError.usage("\(Setting.mmdEstimator) block tests at σ alone: drop \(Setting.bandwidthScales)") }
            guard !mauve else { throw EmbdiagError.usage("\(Setting.mmdEstimator) block runs the MMD test alone: drop MAUVE") }
        } else if mmdBlockRows != nil {
            throw EmbdiagError.usage("\(Setting.mmdBlockRows) applies to \(Setting.mmdEstimator) block only")
        }
    }

    /// Memory the options size, before any work (`MemoryBudget.check`): the permutation design
    /// (a Float32 weight and a membership byte per pooled row and relabelling, plus the depth
    /// test's Float32 copy) and the null statistics (Float64 per relabelling: MMD projections of
    /// d dimensions, a few per kernel). `rows`: the corpora's row counts (reference first),
    /// before `maxRows` caps them.
    ///
    /// - Complexity: O(rows.count).
    public func memoryEstimates(rows: [Int], dimension d: Int) -> [MemoryEstimate] {
        // The block test keeps one block, not a permutation design.
        if mmdEstimator == .block { return [] }
        let capped = rows.map { r -> Double in Double(maxRows.map { cap in min(cap, r) } ?? r) }
        guard let reference = capped.first, let largest = capped.dropFirst().max() else { return [] }
        let pooled = reference + largest
        let columns = Double(permutations) + 1
        let kernels = Double(2 + bandwidthScales.count)
        let bytes = columns * (pooled * 9 + 8 * (Double(d) + 4 * kernels + 8))
        var estimates = [MemoryEstimate(.permutations, permutations, bytes: bytes,
                               purpose: "the permutation design and null statistics of \(Int(pooled)) pooled rows (\(Setting.maxRows) tests a sample; \(Setting.mmdEstimator) block tests MMD on every row in bounded memory)")]
        if let k = clusters {
            // k-means: one Float32 distance per fitted row and centre, the centres, and the assignment's augmented copy.
            let fit = min(reference, Double(ReferenceRegions.fitRowLimit)), kk = Double(k)
            estimates.append(MemoryEstimate(.clusters, k, bytes: 4 * (fit * kk + 3 * kk * (Double(d) + 1)),
                                            purpose: "k-means distances of \(Int(fit)) reference rows to \(k) centres"))
        }
        return estimates
    }
}

extension ShiftConfiguration {
    /// The smallest value a p-value metric of the shift report can take with these settings: a
    /// permutation p-value is at least 1/(B + 1), and the overall p-value of permutation tests
    /// alone too (`CombinedVerdict.smallestPossiblePValue`; with the classifier, whose
    /// Mann–Whitney p-value has no such floor, or the block MMD test's Student t, there is none:
    /// nil). nil for other metrics.
    ///
    /// - Complexity: O(tests).
    public func pValueFloor(of metric: String) -> Double? {
        let floor = CombinedVerdict.smallestPossiblePValue(permutations: permutations,
                                                           includesTestWithoutFloor: false, classifierWeight: 0)
        switch metric {
        case "p_value":
            let withoutFloor = tests.contains(where: { !$0.isPermutationTest }) || mmdEstimator == .block
            let overall = CombinedVerdict.smallestPossiblePValue(permutations: permutations,
                                                                 includesTestWithoutFloor: withoutFloor, classifierWeight: 0)
            return overall > 0 ? overall : nil
        case "p_value_mmd", "p_value_mmd_cosine":
            return mmdEstimator == .block ? nil : floor
        case "p_value_energy", "p_value_depth":
            return floor
        default:
            return nil
        }
    }

    /// Refuses (exit 2), before any input is read, a requirement on a p-value that its
    /// permutation floor decides whatever the data (`Requirement.refuseIfDecided(byPValueFloor:)`).
    public func refuseIfBelowPValueFloor(_ r: Requirement) throws {
        guard let floor = pValueFloor(of: r.metric) else { return }
        try r.refuseIfDecided(byPValueFloor: floor, because: "with \(permutations) permutations (1/(B + 1))",
                              remedy: "raise \(Setting.permutations)")
    }
}
