import Foundation

/// What identifies an embedding model's space, measured on a sample of its vectors (Guides/Fingerprint.md):
/// the mean vector, the per-dimension scale, the covariance spectrum and its leading principal
/// directions — all in the fixed coordinate basis, so a rotated copy of the space has another
/// fingerprint — plus the row-norm distribution, the mean cosine (anisotropy), the sample's own
/// second-moment strength (for the disattenuated similarity of `FingerprintCheck`) and the spread of
/// the per-row typicality score (for `--mixed`). About (k + 3)·d Float64 values: 100 KB for d = 384.
public struct ModelFingerprint: Sendable, Equatable {
    /// Rows a fingerprint is computed from, at least.
    public static let minimumRows = 100
    /// Principal directions kept when none are asked for (or d, if smaller).
    public static let defaultDirections = 32
    /// Per-dimension scales below this fraction of the reference scale (`scaleReference`) are
    /// floored to it in the per-row score (a dimension that is constant for this model is a strong
    /// mark, but a zero scale would make every other model's row infinitely atypical).
    public static let scaleFloorFraction = 0.05
    /// The reference scale of the floor is the median scale, but at least this fraction of the RMS
    /// scale √(Σσ_j²/d): when more than half the coordinates are constant (vectors zero-padded to a
    /// larger dimension) the median is 0, while the RMS scale, made of the varying coordinates
    /// only, stays positive. For real models the median is ~10 times this (all-MiniLM-L6-v2,
    /// multilingual-e5-small), so only a space whose coordinates are mostly constant (or dominated by
    /// a few) uses it.
    public static let rmsReferenceFraction = 0.1
    /// Quantiles of the row norms that are recorded.
    public static let normQuantileLevels: [Double] = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99]

    public internal(set) var dimension: Int
    public internal(set) var rows: Int
    /// Optional model name given when the fingerprint was written.
    public internal(set) var modelName: String?
    /// The sample it was computed from (path as given, SHA-256).
    public internal(set) var source: Source
    public internal(set) var mean: [Double]
    /// Per-dimension standard deviation (n − 1).
    public internal(set) var scale: [Double]
    /// All d eigenvalues of the covariance (n − 1), descending.
    public internal(set) var spectrum: [Double]
    /// The leading k eigenvectors of the covariance, k × d row-major (row i ↔ spectrum[i]).
    public internal(set) var directions: [Double]
    public internal(set) var directionCount: Int
    /// tr(M), M = XᵀX/n (mean squared row norm).
    public internal(set) var secondMomentTrace: Double
    /// Unbiased estimate of ‖M − tr(M)/d·I‖²_F (U-statistic over distinct row pairs): the strength
    /// of the space's anisotropic structure with the sampling noise of M̂ removed.
    public internal(set) var tracelessStrength: Double
    /// Unbiased estimate of Σ_{j≠l} M_jl² (U-statistic over distinct row pairs): the part of
    /// `tracelessStrength` off the diagonal, the only part a sign flip of coordinates changes
    /// (`orientation`). Nil for a fingerprint read from a format-1 file, which did not record it.
    public internal(set) var offDiagonalStrength: Double?
    /// Row norms at `normQuantileLevels`.
    public internal(set) var normQuantiles: [Double]
    /// Mean cosine between distinct rows.
    public internal(set) var meanCosine: Double
    /// The per-row score (log mean squared z-score) on the sample itself: median, 99.9 % quantile and
    /// the flagging threshold q99.9 + (q99.9 − median).
    public internal(set) var rowScoreMedian: Double
    public internal(set) var rowScoreQ999: Double
    public internal(set) var rowScoreThreshold: Double

    /// Row norms `--mixed` accepts: from the 1 % quantile / `normMargin` to the 99 % quantile × `normMargin`.
    public var normRange: (low: Double, high: Double) {
        (normQuantiles[0] / Self.normMargin, normQuantiles[normQuantiles.count - 1] * Self.normMargin)
    }
    public static let normMargin = 1.5

    /// The reference scale of the per-row score's floor: max(median σ, `rmsReferenceFraction` · RMS σ).
    ///
    /// - Complexity: O(d log d).
    public static func scaleReference(_ scale: [Double]) -> (value: Double, fromRMS: Bool) {
        let median = Statistics.quantile(scale.sorted(), 0.5)
        let rms = (scale.reduce(0) { $0 + $1 * $1 } / Double(Swift.max(1, scale.count))).squareRoot()
        return rms * rmsReferenceFraction > median ? (rms * rmsReferenceFraction, true) : (median, false)
    }

    /// The smallest per-dimension scale the row score divides by: `scaleFloorFraction` × `scaleReference`.
    public static func scaleFloor(_ scale: [Double]) -> Double { scaleFloorFraction * scaleReference(scale).value }

    /// The per-dimension scale used by the row score (floored, see `scaleFloor`).
    public var flooredScale: [Double] {
        let floor = Self.scaleFloor(scale)
        return scale.map { Swift.max($0, floor) }
    }

    /// The principal directions recorded when `requested` (nil: the default) are asked for in d dimensions.
    public static func directionCount(requested: Int?, dimension d: Int) -> Int { requested ?? Swift.min(defaultDirections, d) }

    /// Computes the fingerprint of a sample. `directions` nil records min(`defaultDirections`, d);
    /// an explicit count must be in 1…d.
    ///
    /// The values are checked like a file's (`firstInconsistency`) before they are returned, so
    /// what `FingerprintFile` writes always reads back.
    ///
    /// - Complexity: O(n·d²) for the covariance (SSYRK), O(d³) for its eigendecomposition, O(n·d)
    ///   for the per-row quantities, O(k²·d) for the self-check.
    public init(_ e: Embeddings, directions requested: Int? = nil, modelName: String? = nil) throws {
        let n = e.count, d = e.dimension
        guard d >= 2 else { throw EmbdiagError.invalid(e.source.path, "a fingerprint needs at least 2 dimensions (got \(d))") }
        // The number of directions fixes the shape of what is written: outside 1…d is a usage error.
        let k = Self.directionCount(requested: requested, dimension: d)
        guard k >= 1, k <= d else {
            throw EmbdiagError.usage("--directions (principal directions recorded) must be in 1…\(d), the dimension of \(e.source.path) (got \(k))")
        }
        try FingerprintStatistics.requireSample(e, minimum: Self.minimumRows, purpose: "a fingerprint")
        let moments = try FingerprintStatistics.Moments(e.matrix, path: e.source.path)
        try FingerprintStatistics.requireStructure(moments, path: e.source.path, purpose: "a fingerprint")
        let kept = k
        dimension = d
        rows = n
        self.modelName = modelName
        source = e.source
        mean = moments.mean
        scale = (0..<d).map { Swift.max(0, moments.covariance[$0 * d + $0]).squareRoot() }
        let eig = try LAPACK.symmetricEigen(moments.covariance, dimension: d)
        // The recorded directions must not split a cluster of (nearly) equal eigenvalues: which of
        // its directions were written would be LAPACK's arbitrary choice, and the check's scores
        // weight them by λᵢ − r (r the mean eigenvalue left out). Except a cluster of zero variance
        // (constant directions, eigenvalues within the round-off 1e-6 λ₁ of 0): its weights are 0
        // in every score (the overlap is then null, `FingerprintCheck`).
        if let cluster = EigenClusters.split(eig.values, keeping: kept),
           eig.values[cluster.lowerBound] > EigenClusters.absoluteGapTolerance * abs(eig.values[0]) {
            throw EmbdiagError.usage(EigenClusters.splitMessage("--directions \(kept)\(requested == nil ? " (the default)" : "")", values: eig.values, cluster: cluster, allowed: 1...d))
        }
        spectrum = eig.values
        directions = Array(eig.vectors.prefix(kept * d))
        directionCount = kept
        secondMomentTrace = moments.secondMomentTrace
        tracelessStrength = moments.tracelessStrength
        offDiagonalStrength = moments.offDiagonalStrength
        normQuantiles = Self.normQuantileLevels.map { Statistics.quantile(moments.sortedNorms, $0) }
        meanCosine = moments.meanCosine
        let floor = Self.scaleFloor(scale)
        guard floor > 0 else {
            throw EmbdiagError.invalid(e.source.path, "every coordinate is constant in the sample's covariance (all per-dimension scales are 0), so no row score can be measured for a fingerprint")
        }
        let scores = FingerprintStatistics.rowScores(e.matrix, mean: mean, scale: scale.map { Swift.max($0, floor) }).sorted()
        rowScoreMedian = Statistics.quantile(scores, 0.5)
        rowScoreQ999 = Statistics.quantile(scores, 0.999)
        rowScoreThreshold = rowScoreQ999 + (rowScoreQ999 - rowScoreMedian)
        // The check's similarity is bounded by Cauchy–Schwarz only if the recorded strength is at
        // least the refusal share of the structure the k recorded directions rebuild.
        let rebuilt = recordedStructure
        guard tracelessStrength >= FingerprintStatistics.minimumSignalShare * rebuilt.traceless else {
            throw EmbdiagError.invalid(e.source.path, "the sample's anisotropic structure is \(ReportFormatting.number(100 * tracelessStrength / rebuilt.traceless, significant: 2)) % of the structure its \(k) recorded principal directions rebuild (\(ReportFormatting.number(100 * FingerprintStatistics.minimumSignalShare, significant: 2)) % needed): record more directions (--directions, up to \(d)) or use more rows")
        }
        if let problem = firstInconsistency() {
            throw EmbdiagError.invalid(e.source.path, "the fingerprint of this sample does not verify (\(problem.text)); nothing written")
        }
    }

    /// Memberwise (the file reader).
    init(dimension: Int, rows: Int, modelName: String?, source: Source, mean: [Double], scale: [Double], spectrum: [Double],
         directions: [Double], directionCount: Int, secondMomentTrace: Double, tracelessStrength: Double, offDiagonalStrength: Double?, normQuantiles: [Double],
         meanCosine: Double, rowScoreMedian: Double, rowScoreQ999: Double, rowScoreThreshold: Double) {
        self.dimension = dimension; self.rows = rows; self.modelName = modelName; self.source = source
        self.mean = mean; self.scale = scale; self.spectrum = spectrum; self.directions = directions
        self.directionCount = directionCount; self.secondMomentTrace = secondMomentTrace
        self.tracelessStrength = tracelessStrength; self.offDiagonalStrength = offDiagonalStrength; self.normQuantiles = normQuantiles; self.meanCosine = meanCosine
        self.rowScoreMedian = rowScoreMedian; self.rowScoreQ999 = rowScoreQ999; self.rowScoreThreshold = rowScoreThreshold
    }
}
