import Foundation

/// One window's rows as handed to `ShiftWindows`: its name, its rows (an `Embeddings` whose
/// `sourceRows` are the file rows), the indices of those rows in the corpus they were cut from
/// (nil when the window is a file of its own) and its place on the time axis.
public struct ShiftWindowInput: Sendable {
    public var name: String
    public var rows: Embeddings
    public var inputRows: [Int]?
    /// Seconds since the epoch for time windows.
    public var start: Double?

    public init(name: String, rows: Embeddings, inputRows: [Int]? = nil, start: Double? = nil) {
        self.name = name
        self.rows = rows
        self.inputRows = inputRows
        self.start = start
    }

    /// The windows of `corpus` that `groups` cut (`WindowGroups`).
    ///
    /// - Complexity: O(n·d).
    public static func cut(_ corpus: Embeddings, into groups: [WindowGroup]) -> [ShiftWindowInput] {
        groups.map { g in ShiftWindowInput(name: g.name, rows: corpus.selecting(rows: g.rows), inputRows: g.rows, start: g.start) }
    }
}

/// One window tested against the reference.
public struct ShiftWindowResult: Sendable {
    public internal(set) var name: String
    /// Rows left out of the window's tests because they repeat an earlier row of the window (`RepeatedRows`).
    public internal(set) var repeatedRowsDropped = 0
    public internal(set) var start: Double?
    /// The window's rows as given, before any `maxRows` sampling.
    public internal(set) var inputCount: Int
    /// Indices of the window's rows in the corpus it was cut from (nil for a file of its own).
    public internal(set) var inputRows: [Int]?
    /// The rows tested (after `maxRows` sampling and without rows that duplicate reference rows):
    /// their count, labels, file rows and source — not their values (a matrix of 0 columns), so a
    /// run over many windows does not hold every window in memory until the report.
    public internal(set) var rows: Embeddings
    /// REF's sample against this window (nil: the window has fewer rows than the tests need).
    public internal(set) var comparison: ShiftComparison?
    /// MMD²_u of the window against the reference sample with the reference's σ: the effect on
    /// which windows and the band are compared (mean witness of the window's rows minus mean
    /// witness of the reference's rows, which equals MMD²_u).
    public internal(set) var effect: Double?
    /// The band the window is compared with (nil when the sample is too small for its size).
    public internal(set) var band: ReferenceVariationBand?
    /// effect − band.upper: > 0 means beyond the reference's normal variation.
    public var effectExcess: Double? {
        guard let effect, let band else { return nil }
        return effect - band.upper
    }
    /// Holm- and Benjamini–Hochberg-adjusted overall p-values across the windows tested.
    public internal(set) var pHolm: Double?
    public internal(set) var pBenjaminiHochberg: Double?
    /// Whether the window was too small to test (fewer rows than `ShiftConfiguration.minimumRows`).
    public var tooSmall: Bool { comparison == nil }
    /// The overall p-value (nil when not tested, or when no test ran on a copy of reference rows).
    public var pValue: Double? { comparison?.verdict?.pValue }
}

/// `embdiag shift REF OTHER --by/--chunk/--window`, a directory of windows, or a saved reference:
/// each window of OTHER against one reference, with the same tests, the same σ and the same
/// seed-derived relabellings, Holm and Benjamini–Hochberg across the windows, and each window's
/// effect against the reference's own variation at its size. Guide: Guides/Shift.md ("Windows").
public struct ShiftWindows: Sendable {
    public let configuration: ShiftConfiguration
    public internal(set) var reference: ShiftReference
    /// The corpus the windows were cut from (nil when the windows are files of their own).
    public internal(set) var other: Source?
    /// Every window in time (or given) order, tested or too small.
    public internal(set) var windows: [ShiftWindowResult]
    /// Whether `reference` came from a saved state.
    public internal(set) var referenceFromState: String?

    /// - Parameters:
    ///   - reference: the reference's sample, σ and bands (`ShiftReference`); bands missing for a
    ///     window size are drawn here and kept in the returned `reference`.
    ///   - windows: the windows in order.
    /// - Complexity: per window, what `ShiftAnalysis` costs for the sample against the window
    ///   (O((S + n)²·(d + B)) through blocked GEMMs); per distinct window size, one band
    ///   (O(S²·(d + R))).
    public init(reference: ShiftReference, windows: [ShiftWindowInput], other: Source? = nil, configuration: ShiftConfiguration,
                referenceFromState: String? = nil) throws {
        var c = configuration
        guard !windows.isEmpty else { throw EmbdiagError.usage("no window to test (the other corpus has no rows)") }
        try c.validate()
        guard c.permutations >= 1 else { throw EmbdiagError.usage("\(Setting.permutations) must be at least 1 (got \(c.permutations))") }
        guard c.folds >= 2 else { throw EmbdiagError.usage("\(Setting.folds) must be at least 2 (got \(c.folds))") }
        guard !c.tests.isEmpty else { throw EmbdiagError.usage("\(Setting.tests) selects no test") }
        for w in windows where w.rows.dimension != reference.sample.dimension {
            throw EmbdiagError.mismatch(w.rows.source.path, "dimension \(w.rows.dimension) differs from the reference \(reference.source.path)'s \(reference.sample.dimension)")
        }
        if let cap = c.maxRows, cap < c.minimumRows { throw EmbdiagError.usage("\(Setting.maxRows) must be at least \(c.minimumRows) (got \(cap))") }
        let largest = windows.map(\.rows.count).max() ?? 0
        try MemoryBudget.installed.value.check(c.memoryEstimates(rows: [reference.sample.count, largest], dimension: reference.sample.dimension))
        // One σ for every window and every band: the effects compare across windows only on one kernel.
        c.bandwidth = reference.bandwidth
        var reference = reference
        let sizes = windows.map { min($0.rows.count, c.maxRows ?? Int.max) }
        let distinct = Set(sizes).count
        var results: [ShiftWindowResult] = []
        // The reference sample's k-NN graph, once for every window's precision/recall/coverage.
        let referenceGraph = c.neighbors >= 1 && c.neighbors < reference.sample.count
            ? (reference.sampleGraph.flatMap { $0.k == c.neighbors ? $0 : nil } ?? nearestNeighborsWithinRows(reference.sampleUnit, k: c.neighbors)) : nil
        let progress = ProgressReporter.current.task("windows", total: windows.count, minimum: 2)
        defer { progress?.finish() }
        for (index, window) in windows.enumerated() {
            progress?.update(index)
            // Every window draws from the same seed-derived stream (seed + 7919 + 1), whatever its position.
            let rows = ShiftAnalysis.sampled(window.rows, maxRows: c.maxRows, seed: c.seed &+ 7919 &+ 1).rows
            var result = ShiftWindowResult(name: window.name, start: window.start, inputCount: window.rows.count, inputRows: window.inputRows,
                                           rows: rows.withoutValues(), comparison: nil, effect: nil, band: nil)
            if rows.count >= c.minimumRows {
                let duplicates = CrossCorpusDuplicates.find(reference: reference.sampleUnit, other: Matrix.normalizedRows(rows.matrix))
                let drop = !c.keepCrossDuplicates && duplicates.count > 0
                // Values shared with the reference by chance (few distinct rows) make repeats values too.
                let chanceCollisions = duplicates.count > 0 && !duplicates.areCopies
                let (tested, repeats, _) = RepeatedRows.withoutRepeats(drop ? rows.selecting(rows: duplicates.independentOtherRows) : rows,
                                                                        keep: c.keepCrossDuplicates || chanceCollisions,
                                                                        comparedWithAnotherCorpus: true, minimum: c.minimumRows)
                result.repeatedRowsDropped = repeats
                var comparison: ShiftComparison
                if tested.count >= c.minimumRows {
                    comparison = try ShiftAnalysis.compare(reference.sample, reference.sampleUnit, tested, c, referenceNeighbors: referenceGraph)
                    if let location = comparison.location {
                        result.effect = Self.mean(location.otherWitness) - Self.mean(location.referenceWitness)
                    }
                } else {
                    comparison = ShiftComparison(reference: reference.source, other: rows.source, referenceCount: reference.sample.count, otherCount: tested.count,
                                                 otherInputCount: rows.count, crossDuplicates: duplicates, crossDuplicatesDropped: drop)
                }
                // The window's rows in the reference's regions (no map per window: the report draws none).
                if let regions = reference.regions, let quality = comparison.quality {
                    comparison.regions = regions.compare(Matrix.normalizedRows(tested.matrix), labels: tested.labels, sourceRows: tested.sourceRows,
                                                         insideReference: quality.otherWithinReferenceBall, alpha: c.alpha)
                }
                comparison.otherInputCount = rows.count
                comparison.crossDuplicates = duplicates
                comparison.crossDuplicatesDropped = drop
                result.rows = tested.withoutValues()
                result.comparison = comparison
                if result.effect != nil {
                    result.band = reference.band(chunkSize: ShiftReference.bandSize(forRows: tested.count, distinctSizes: distinct))
                }
            }
            results.append(result)
        }
        // Holm and BH over the windows that have a p-value (a window too small, or a copy, takes no share of α).
        let testedIndices = results.indices.filter { results[$0].pValue != nil }
        let p = testedIndices.map { results[$0].pValue! }
        let holm = MultipleTesting.holmAdjusted(p), bh = MultipleTesting.benjaminiHochbergAdjusted(p)
        for (k, i) in testedIndices.enumerated() {
            results[i].pHolm = holm[k]
            results[i].pBenjaminiHochberg = bh[k]
        }
        self.configuration = c
        self.reference = reference
        self.other = other
        self.windows = results
        self.referenceFromState = referenceFromState
    }

    static func mean(_ v: [Double]) -> Double { v.isEmpty ? .nan : v.reduce(0, +) / Double(v.count) }

    /// The window with the largest effect (first such in order), nil when none was tested.
    public var largestShift: Int? {
        windows.indices.filter { windows[$0].effect?.isFinite == true }.max { a, b in
            let ea = windows[a].effect!, eb = windows[b].effect!
            return ea < eb || (ea == eb && a > b)
        }
    }

    /// The smallest p-value any tested window's verdict can give (its permutation floor,
    /// `CombinedVerdict.smallestPossiblePValue`); nil when no window was tested.
    public var smallestPossibleWindowPValue: Double? { windows.compactMap { $0.comparison?.verdict?.smallestPossiblePValue }.min() }
    /// Whether some window can reach a Holm-adjusted p below α at all: the smallest Holm-adjusted p
    /// is W·p₍₁₎ ≥ W × the floor over W tested windows. False: too few relabellings for this many
    /// windows, and `shiftedCount` = 0 says nothing.
    public var holmCanReject: Bool {
        let tested = windows.filter { $0.pValue != nil }.count
        guard let floor = smallestPossibleWindowPValue, tested > 0 else { return false }
        return Double(tested) * floor < configuration.alpha
    }
    /// The same for Benjamini–Hochberg, whose smallest adjusted p is the floor itself.
    public var benjaminiHochbergCanReject: Bool { (smallestPossibleWindowPValue ?? 1) < configuration.alpha }

    /// Windows whose Holm-adjusted p-value is below α (family-wise error rate α over the windows).
    public var shiftedCount: Int { windows.filter { ($0.pHolm ?? 1) < configuration.alpha }.count }
    /// Windows whose BH-adjusted p-value is below α (false discovery rate α).
    public var shiftedCountBenjaminiHochberg: Int { windows.filter { ($0.pBenjaminiHochberg ?? 1) < configuration.alpha }.count }
    /// Windows whose effect lies above the band's upper limit.
    public var beyondBandCount: Int { windows.filter { ($0.effectExcess ?? -1) > 0 }.count }
    /// Windows in which at least one reference cluster changed its share (BH within the window).
    public var windowsWithChangedClusters: Int { windows.filter { ($0.comparison?.regions?.changedCount ?? 0) > 0 }.count }
    /// Windows with more new rows than the reference's own rate (at level α).
    public var windowsWithNewRegion: Int { windows.filter { $0.comparison?.regions?.newRegionFound == true }.count }
}
