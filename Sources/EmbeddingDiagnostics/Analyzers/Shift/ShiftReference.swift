import Foundation

/// Everything a windowed shift test needs from the reference, and nothing that grows with it: the
/// seeded sample of reference rows the tests run on, the Gaussian kernel's σ (fixed from the
/// reference so that every window's effect is on one scale), and the bands of normal variation
/// already drawn. Built from the reference rows (`init(reference:…)`) or from a saved reference
/// (`ShiftReferenceState`), so that a monitoring job tests a new batch in time proportional to the
/// batch and the sample. Guide: Guides/Shift.md ("Saved reference").
public struct ShiftReference: Sendable {
    /// The rows the tests use (raw rows as read; `sourceRows` are the reference's file rows).
    public internal(set) var sample: Embeddings
    /// Sample rows left out because they repeat an earlier sample row (`RepeatedRows`; 0 for a
    /// reference restored from a state, whose sample was saved without them).
    public internal(set) var repeatedRowsDropped = 0
    /// `sample`'s rows scaled to unit length.
    public internal(set) var sampleUnit: Matrix
    /// The full reference as read (path, format, SHA-256, rows, dim).
    public internal(set) var source: Source
    /// Rows of the full reference (the sample is drawn from them).
    public internal(set) var totalRows: Int
    /// σ of the Gaussian kernel.
    public internal(set) var bandwidth: Double
    /// Whether σ was given (`bandwidth` setting) rather than the median heuristic of the sample.
    public internal(set) var bandwidthGiven: Bool
    /// The seed the sample, σ and the bands were drawn with.
    public internal(set) var seed: UInt64
    /// R, chunks per band.
    public internal(set) var bandChunks: Int
    /// Bands drawn so far, by chunk size.
    public internal(set) var bands: [Int: ReferenceVariationBand]
    /// Rows of the sample the tests and bands need at least (k + 1, the folds, 3).
    public internal(set) var minimumRows: Int
    /// The sample's regions (k-means clusters and its own new-row rate), compared with every window;
    /// nil only for a reference saved without them.
    public internal(set) var regions: ReferenceRegions?
    /// The sample's k-NN graph (k of the regions) when this reference was built from its rows in
    /// this process: the windows' precision/recall read it instead of computing it again. Not
    /// saved (a restored reference computes it once per run).
    public internal(set) var sampleGraph: NearestNeighbors?

    /// The default sample of a saved reference when no `maxRows` is set: the tests cost
    /// O((S + n)²) per window, so a saved reference keeps a sample, and the report says so.
    public static let defaultSavedSample = 10_000
    /// R, chunks per band, when none is given (a 1 % false-alarm rate, `ReferenceVariationBand`).
    public static let defaultBandChunks = 99

    /// Draws the sample (`maxRows` rows, seed + 7919, as `ShiftAnalysis` samples REF), σ and the
    /// sample's regions (`ReferenceRegions`, k = `clusters` or the documented rule).
    ///
    /// - Complexity: O(n·d) for the sample, O(s²·d) for σ (s = the bandwidth sample), O(S²·d) for
    ///   the regions' k-NN graph and O(restarts·iterations·S·k·d) for their k-means (S = the sample).
    public init(reference: Embeddings, configuration c: ShiftConfiguration, bandChunks: Int, sampleSize: Int? = nil) throws {
        try SettingRange.integer(bandChunks, .bandChunks, atLeast: 1)
        guard reference.count >= c.minimumRows else {
            throw EmbdiagError.invalid(reference.source.path, "shift needs at least \(c.minimumRows) reference rows (has \(reference.count); at least \(Setting.k) + 1 and \(Setting.folds))")
        }
        let cap = sampleSize ?? c.maxRows
        if let cap, cap < c.minimumRows { throw EmbdiagError.usage("\(Setting.maxRows) must be at least \(c.minimumRows) (got \(cap))") }
        let sampled = ShiftAnalysis.sampled(reference, maxRows: cap, seed: c.seed &+ 7919)
        // Rows the reference repeats itself are kept once (`RepeatedRows`), as in `ShiftAnalysis`.
        (sample, repeatedRowsDropped, _) = RepeatedRows.withoutRepeats(sampled.rows, keep: c.keepCrossDuplicates, minimum: c.minimumRows)
        sampleUnit = Matrix.normalizedRows(sample.matrix)
        source = reference.source
        totalRows = reference.count
        bandwidthGiven = c.bandwidth != nil
        if let sigma = c.bandwidth { try checkGivenBandwidth(sigma, scales: c.bandwidthScales, unitRows: sampleUnit, sampleSize: c.bandwidthSample, seed: c.seed) }
        bandwidth = c.bandwidth ?? medianHeuristicBandwidth(unitRows: sampleUnit, sampleSize: c.bandwidthSample, seed: c.seed)
        seed = c.seed
        self.bandChunks = bandChunks
        bands = [:]
        minimumRows = c.minimumRows
        let graph = c.neighbors >= 1 && c.neighbors < sample.count ? nearestNeighborsWithinRows(sampleUnit, k: c.neighbors) : nil
        sampleGraph = graph
        regions = try ReferenceRegions(referenceUnit: sampleUnit, labels: sample.labels, sourceRows: sample.sourceRows,
                                       clusters: c.clusters, neighbors: c.neighbors, seed: c.seed, graph: graph)
    }

    /// A reference restored from its parts (`ShiftReferenceState`).
    init(sample: Embeddings, source: Source, totalRows: Int, bandwidth: Double, bandwidthGiven: Bool, seed: UInt64, bandChunks: Int,
         bands: [Int: ReferenceVariationBand], minimumRows: Int, regions: ReferenceRegions?) {
        self.sample = sample
        sampleUnit = Matrix.normalizedRows(sample.matrix)
        self.source = source
        self.totalRows = totalRows
        self.bandwidth = bandwidth
        self.bandwidthGiven = bandwidthGiven
        self.seed = seed
        self.bandChunks = bandChunks
        self.bands = bands
        self.minimumRows = minimumRows
        self.regions = regions
    }

    /// Whether the sample was drawn (the reference has more rows than the tests use).
    public var isSampled: Bool { sample.count < totalRows }

    /// The band at chunk size `w`, drawn now if it is not there yet; nil when the sample is too
    /// small for chunks of w rows (each chunk and its rest need `minimumRows`).
    ///
    /// - Complexity: O(S²·(d + R)) the first time for each size, O(1) after.
    public mutating func band(chunkSize w: Int) -> ReferenceVariationBand? {
        if let b = bands[w] { return b }
        guard ReferenceVariationBand.fits(chunkSize: w, sampleRows: sample.count, minimumRows: max(2, minimumRows)) else { return nil }
        let b = ReferenceVariationBand.compute(referenceUnit: sampleUnit, bandwidth: bandwidth, chunkSize: w, chunks: bandChunks, seed: seed)
        bands[w] = b
        return b
    }

    /// The chunk size whose band a window of `rows` rows is compared with: `rows` itself when the
    /// windows have at most `maximumSizes` distinct sizes; otherwise the largest size of the
    /// geometric grid ⌊2^(j/4)⌋ not above `rows` — a smaller chunk varies more, so its band is
    /// wider and the comparison errs towards "within normal variation".
    public static func bandSize(forRows rows: Int, distinctSizes: Int, maximumSizes: Int = 16) -> Int {
        guard distinctSizes > maximumSizes, rows >= 2 else { return rows }
        var best = 1
        var j = 0
        while true {
            let v = Int(pow(2, Double(j) / 4))
            if v > rows { break }
            best = v
            j += 1
        }
        return best
    }
}
