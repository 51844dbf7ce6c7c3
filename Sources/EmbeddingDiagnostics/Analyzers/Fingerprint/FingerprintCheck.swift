import Foundation

/// Does a sample come from the model a fingerprint was taken from (Guides/Fingerprint.md)?
///
/// The score is the disattenuated similarity of the two spaces' anisotropic second-moment
/// structure in the fixed coordinate basis,
///
///     ρ = ⟨T(M_F), T(M̂_N)⟩_F / √(‖T(M_F)‖² · ‖T(M_N)‖²),   T(M) = M − tr(M)/d·I,  M = E[xxᵀ],
///
/// where both squared norms are unbiased (U-statistic) estimates, so ρ does not shrink with the
/// sample size the way a plain cosine of two noisy matrices does. M_F is rebuilt from the
/// fingerprint: M_F = (n−1)/n·(Σ_{i≤k} λ_i v_i v_iᵀ + r·(I − V Vᵀ)) + μμᵀ, r the mean of the
/// eigenvalues left out. A rotation Q of the same space gives T(QᵀMQ), whose inner product with T(M)
/// averages 0 over rotations; another model's outputs share no basis with it (ρ ≈ 0.0–0.06 in the
/// calibration study); the same model on other texts keeps its rogue and near-constant dimensions
/// and its common direction (ρ ≥ 0.14).
public struct FingerprintCheck: Sendable {
    /// `same_model` is yes when `same_model_score` ≥ this (calibrated: Guides/Fingerprint.md).
    public static let sameModelThreshold = 0.10
    /// Rows a checked sample needs, at least.
    public static let minimumRows = 50
    /// `--mixed` calls a file mixed when more than this share of its rows is flagged (single
    /// outliers of the fingerprint's own model are listed but do not make a file mixed).
    public static let mixedShareThreshold = 0.01
    /// |same_model_score| is at most this: by Cauchy–Schwarz the score's magnitude is at most
    /// √(‖T(M_F)‖²/S_F · ‖T(M̂_N)‖²/S_N), and both ratios are at most 1/`minimumSignalShare` (a
    /// sample refused below it; a fingerprint file checked for it). A score beyond it exits 2.
    public static let scoreBound = 1 / FingerprintStatistics.minimumSignalShare

    /// Standard deviation of the score of a randomly rotated copy, √(2 / ((d − 1)(d + 2))): the
    /// inner product of a traceless symmetric matrix with a Haar-random rotation of another, over
    /// their norms (0.086 at d = 16, 0.022 at d = 64, 0.0037 at d = 384).
    public static func rotationSpread(dimension d: Int) -> Double {
        d < 2 ? .infinity : (2 / (Double(d - 1) * Double(d + 2))).squareRoot()
    }

    /// The threshold at dimension d: the calibrated 0.10, raised to four standard deviations of a
    /// rotated copy's score where that is larger (d < 57: 0.34 at d = 16, 0.68 at d = 8), so a
    /// rotation or another model cannot reach it by chance (rotated copies of a 16-dimensional
    /// model scored ≥ 0.10 in 4 of 20 checks).
    /// The global-sign check of a yes (`sign`).
    public enum GlobalSign: String, Sendable {
        /// Not needed: the answer was decided before it (no, or Cannot tell).
        case notChecked = "not checked"
        /// Both means stand out of their noise and point the same way.
        case confirmed
        /// The means point opposite ways: every coordinate negated.
        case negated
        /// The fingerprint's mean is within 4 standard errors of 0 along its own direction (a
        /// centred space): its negated copy has the same second moments.
        case fingerprintMeanIsNoise = "fingerprint mean is noise"
        /// The checked sample's mean along the fingerprint's mean direction is within 4 standard
        /// errors of 0.
        case sampleMeanIsNoise = "sample mean is noise"
    }

    public static func threshold(dimension d: Int) -> Double { Swift.max(sameModelThreshold, 4 * rotationSpread(dimension: d)) }

    /// Whether the same model can reach the threshold at all: the score of a sample of the
    /// fingerprint's own model is at most about 1, so below d = 6 (threshold ≥ 1) the check cannot tell.
    public static func canDecide(dimension d: Int) -> Bool { threshold(dimension: d) < 1 }

    /// The orientation threshold lies at least this many standard deviations of a half-sign-flipped
    /// copy's orientation score above 0 (`ModelFingerprint.OrientationStructure.flipSpread`).
    public static let orientationSpreads = 4.0

    public internal(set) var fingerprint: ModelFingerprint
    public internal(set) var source: Source
    public internal(set) var rows: Int
    public internal(set) var sameModelScore: Double
    /// Whether `sameModelScore` reaches the threshold of this dimension (`threshold(dimension:)`),
    /// whatever the coordinates' orientation.
    public internal(set) var scoreReachesThreshold: Bool
    /// The sign-carrying part of the score: the disattenuated cosine of the off-diagonal entries,
    /// Σ_{j≠l} (M_F)_jl (M̂_N)_jl / √(S_off,F · S_off,N), which a sign flip of coordinates changes
    /// and the diagonal part of `sameModelScore` cannot see. Nil when either side's off-diagonal
    /// structure is below `FingerprintStatistics.minimumSignalShare` of its noise (or a format-1
    /// fingerprint): then it would divide noise by noise.
    public internal(set) var orientationScore: Double?
    /// `sameModelScore` = `diagonalScore` + the off-diagonal part: ⟨diag T(M_F), diag T(M̂_N)⟩ / √(S_F·S_N),
    /// the sign-blind part.
    public internal(set) var diagonalScore: Double
    /// The fingerprint's orientation check (threshold, or why it cannot be checked).
    public internal(set) var orientation: ModelFingerprint.OrientationStructure
    /// The sample's off-diagonal structure over its noise (`FingerprintStatistics.Moments.offDiagonalSignalShare`).
    public internal(set) var sampleOffDiagonalShare: Double
    /// Yes only when `sameModelScore` reaches its threshold and the orientation is confirmed
    /// (`orientationScore` ≥ `orientation.threshold`); no when the score misses its threshold or
    /// the orientation score misses its own; nil when it cannot be told: the dimension is too small
    /// (`canDecide(dimension:)`), the fingerprint's structure does not show the coordinates'
    /// orientation (`orientation.blindness`: a sign-flipped copy would score the same), or the
    /// sample's off-diagonal structure is noise.
    public internal(set) var sameModel: Bool?
    /// What the means said about the global sign (x → −x keeps every second moment, so a yes
    /// also needs the two means to point the same way: `meanDirectionCosine` > 0).
    public internal(set) var sign: GlobalSign
    public internal(set) var meanDirectionCosine: Double
    /// ‖V_Fᵀ V_N‖²_F / k over the leading k principal directions; chance level k/d.
    public internal(set) var principalSubspaceOverlap: Double
    /// Pearson correlation of the log leading eigenvalues (rotation-invariant: it cannot see a
    /// rotation, only a change of spectrum).
    public internal(set) var spectrumCorrelation: Double
    /// Median row norm of the sample / the fingerprint's.
    public internal(set) var normRatio: Double
    public internal(set) var meanCosine: Double
    /// `--mixed`: rows whose per-row score exceeds the fingerprint's threshold (0-based row numbers of the file).
    public internal(set) var flaggedRows: [Int]?
    /// The per-row scores of `flaggedRows`, same order.
    public internal(set) var flaggedScores: [Double]?
    /// Median per-row score of the whole sample (the fingerprint's own sample: `rowScoreMedian`).
    public internal(set) var rowScoreMedian: Double?
    public var mixedShare: Double? { flaggedRows.map { rows > 0 ? Double($0.count) / Double(rows) : 0 } }
    public var isMixed: Bool? { mixedShare.map { $0 > Self.mixedShareThreshold } }

    /// Every value reported lies in its documented range (Guides/Fingerprint.md): a value outside
    /// it (to rounding) is refused, naming `fingerprintPath` (or the fingerprint's sample) and `e`.
    ///
    /// - Complexity: O(m·d²) for the sample's moments, O(d³) for its eigendecomposition, O(k·d²)
    ///   for the comparison, O(m·d) for the row scores.
    public init(_ fingerprint: ModelFingerprint, against e: Embeddings, mixed: Bool = false, fingerprintPath: String? = nil) throws {
        let d = fingerprint.dimension
        guard e.dimension == d else {
            throw EmbdiagError.mismatch(e.source.path, "has \(e.dimension) dimensions; the fingerprint was taken from \(d)-dimensional vectors (a model of another dimension is another model)")
        }
        try FingerprintStatistics.requireSample(e, minimum: Self.minimumRows, purpose: "a fingerprint check")
        self.fingerprint = fingerprint
        source = e.source
        rows = e.count
        let moments = try FingerprintStatistics.Moments(e.matrix, path: e.source.path)
        try FingerprintStatistics.requireStructure(moments, path: e.source.path, purpose: "a fingerprint check")
        let k = fingerprint.directionCount
        let m = moments.secondMoment
        let mv = BLAS.matmul(fingerprint.directions, rows: k, inner: d, m, cols: d)  // k × d: v_iᵀ M̂
        var quadratic = [Double](repeating: 0, count: k)
        for i in 0..<k {
            var s = 0.0
            for j in 0..<d { s += mv[i * d + j] * fingerprint.directions[i * d + j] }
            quadratic[i] = s
        }
        let totalVariance = fingerprint.spectrum.reduce(0, +)
        let kept = fingerprint.spectrum.prefix(k).reduce(0, +)
        let rest = d > k ? Swift.max(0, totalVariance - kept) / Double(d - k) : 0
        let traceN = moments.secondMomentTrace
        var covariancePart = 0.0
        for i in 0..<k { covariancePart += fingerprint.spectrum[i] * quadratic[i] }
        covariancePart += rest * (traceN - quadratic.reduce(0, +))
        let mu = fingerprint.mean
        let mmu = BLAS.matmul(m, rows: d, inner: d, mu, cols: 1)
        var meanPart = 0.0
        for j in 0..<d { meanPart += mu[j] * mmu[j] }
        let nF = Double(fingerprint.rows)
        let inner = (nF - 1) / nF * covariancePart + meanPart
        let numerator = inner - fingerprint.secondMomentTrace * traceN / Double(d)
        let denominator = (fingerprint.tracelessStrength * moments.tracelessStrength).squareRoot()
        sameModelScore = numerator / denominator
        guard sameModelScore.isFinite else { throw Self.overflow(e) }
        // The split: Σ_j (M_F)_jj (M̂_N)_jj is the diagonal of ⟨M_F, M̂_N⟩, the rest is off the diagonal.
        let rebuiltDiagonal = fingerprint.rebuiltDiagonal()
        var diagonalInner = 0.0
        for j in 0..<d { diagonalInner += rebuiltDiagonal[j] * m[j * d + j] }
        let offInner = inner - diagonalInner
        diagonalScore = (numerator - offInner) / denominator
        orientation = fingerprint.orientation
        sampleOffDiagonalShare = moments.offDiagonalSignalShare
        if let share = orientation.share, let strength = fingerprint.offDiagonalStrength, share >= FingerprintStatistics.minimumSignalShare,
           moments.offDiagonalStrength > 0, moments.offDiagonalSignalShare >= FingerprintStatistics.minimumSignalShare {
            orientationScore = offInner / (strength * moments.offDiagonalStrength).squareRoot()
        } else {
            orientationScore = nil
        }
        let fingerprintName = fingerprintPath ?? fingerprint.source.path
        func outOfRange(_ name: String, _ value: Double, _ range: String) -> EmbdiagError {
            .invalid(fingerprintName, "\(name) \(value) of \(e.source.path) outside its range \(range): the fingerprint's values do not belong together (an edited file); write it again")
        }
        guard abs(sameModelScore) <= Self.scoreBound else { throw outOfRange("same_model_score", sameModelScore, "[−\(Self.scoreBound), \(Self.scoreBound)]") }
        // Both off-diagonal shares ≥ minimumSignalShare bound it alike (Cauchy–Schwarz).
        if let o = orientationScore {
            guard o.isFinite else { throw Self.overflow(e) }
            guard abs(o) <= Self.scoreBound else { throw outOfRange("orientation_score", o, "[−\(Self.scoreBound), \(Self.scoreBound)]") }
        }
        scoreReachesThreshold = sameModelScore >= Self.threshold(dimension: d)
        meanDirectionCosine = Self.cosine(fingerprint.mean, moments.mean)
        // The global sign: x → −x keeps every second moment (diagonal and off-diagonal), so only
        // the means can tell a negated copy. Along the fingerprint's mean direction u: the
        // fingerprint's mean must stand 4 standard errors from 0 (variance uᵀC_F u from its
        // recorded spectrum and directions), and the sample's mean along u, t = u·μ_N /
        // √(uᵀC_N u / m), decides the sign at |t| ≥ 4.
        let muNorm = fingerprint.mean.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let u = muNorm > 0 ? fingerprint.mean.map { $0 / muNorm } : fingerprint.mean
        var alongF = 0.0, captured = 0.0
        for i in 0..<k {
            var dot = 0.0
            for j in 0..<d { dot += fingerprint.directions[i * d + j] * u[j] }
            alongF += fingerprint.spectrum[i] * dot * dot
            captured += dot * dot
        }
        alongF += rest * Swift.max(0, 1 - captured)
        let cu = BLAS.matmul(moments.covariance, rows: d, inner: d, u, cols: 1)
        var alongN = 0.0, projected = 0.0
        for j in 0..<d { alongN += u[j] * cu[j]; projected += u[j] * moments.mean[j] }
        let fingerprintMeanDetermined = muNorm > 0 && muNorm * muNorm >= 16 * alongF / Double(fingerprint.rows)
        let signT = alongN > 0 ? projected / (alongN / Double(e.count)).squareRoot() : (projected == 0 ? 0 : projected.sign == .minus ? -Double.infinity : .infinity)
        if !Self.canDecide(dimension: d) {
            sameModel = nil
            sign = .notChecked
        } else if !scoreReachesThreshold {
            sameModel = false
            sign = .notChecked
        } else if let threshold = orientation.threshold, let o = orientationScore {
            if o < threshold {
                sameModel = false
                sign = .notChecked
            } else if !fingerprintMeanDetermined {
                sameModel = nil
                sign = .fingerprintMeanIsNoise
            } else if signT >= 4 {
                sameModel = true
                sign = .confirmed
            } else if signT <= -4 {
                sameModel = false
                sign = .negated
            } else {
                sameModel = nil
                sign = .sampleMeanIsNoise
            }
        } else {
            sameModel = nil
            sign = .notChecked
        }

        let eig = try LAPACK.symmetricEigen(moments.covariance, dimension: d)
        let cross = BLAS.matmul(fingerprint.directions, rows: k, inner: d, Array(eig.vectors.prefix(k * d)), cols: k, transposeB: true)
        // Both sides' top k directions are defined only when k does not split a cluster of
        // (nearly) equal eigenvalues (the fingerprint's may split a zero-variance one); otherwise
        // the overlap is LAPACK's choice: null.
        let defined = EigenClusters.split(eig.values, keeping: k) == nil && EigenClusters.split(fingerprint.spectrum, keeping: k) == nil
        principalSubspaceOverlap = defined ? cross.reduce(0) { $0 + $1 * $1 } / Double(k) : .nan
        let logF = fingerprint.spectrum.prefix(k).map { Foundation.log(Swift.max($0, 1e-300)) }
        let logN = eig.values.prefix(k).map { Foundation.log(Swift.max($0, 1e-300)) }
        spectrumCorrelation = Self.pearson(logF, logN)
        let medianF = fingerprint.normQuantiles[ModelFingerprint.normQuantileLevels.firstIndex(of: 0.5)!]
        normRatio = medianF > 0 ? Statistics.quantile(moments.sortedNorms, 0.5) / medianF : .nan
        meanCosine = moments.meanCosine
        // Cosines and an overlap of orthonormal bases: in range to rounding, or undefined (NaN: a zero mean, a flat spectrum).
        let rounding = 1e-9
        for (name, value, low, high) in [("mean_direction_cosine", meanDirectionCosine, -1.0, 1.0), ("principal_subspace_overlap", principalSubspaceOverlap, 0, 1),
                                         ("spectrum_correlation", spectrumCorrelation, -1, 1)] where !value.isNaN && !(low - rounding...high + rounding).contains(value) {
            throw outOfRange(name, value, "[\(low), \(high)]")
        }
        if mixed {
            let scores = FingerprintStatistics.rowScores(e.matrix, mean: fingerprint.mean, scale: fingerprint.flooredScale)
            // A row whose norm lies far outside the fingerprint's norm range is another model's (or
            // another pipeline's: unnormalised rows in a normalised index) whatever its direction.
            let (low, high) = fingerprint.normRange
            let flagged = scores.indices.filter { i in
                let norm = squaredNorm(e.matrix.pointer + i * d, count: d).squareRoot()
                return scores[i] > fingerprint.rowScoreThreshold || norm < low || norm > high
            }
            // Row numbers of the file (rows dropped by --on-invalid drop keep their numbering).
            guard scores.allSatisfy(\.isFinite) else { throw Self.overflow(e) }
            flaggedRows = flagged.map { e.sourceRow($0) }
            flaggedScores = flagged.map { scores[$0] }
            rowScoreMedian = Statistics.quantile(scores.sorted(), 0.5)
        }
    }

    /// A fingerprint whose values pass its file's checks can still be far from these vectors'
    /// scale (an edited file, or vectors of a very different magnitude): refuse rather than
    /// report an infinite score.
    static func overflow(_ e: Embeddings) -> EmbdiagError {
        .invalid(e.source.path, "the check against the fingerprint overflows (the fingerprint's values are out of range for these vectors)")
    }

    static func cosine(_ a: [Double], _ b: [Double]) -> Double {
        var ab = 0.0, aa = 0.0, bb = 0.0
        for i in a.indices { ab += a[i] * b[i]; aa += a[i] * a[i]; bb += b[i] * b[i] }
        return aa > 0 && bb > 0 ? ab / (aa * bb).squareRoot() : .nan
    }

    static func pearson(_ a: [Double], _ b: [Double]) -> Double {
        let n = Double(a.count)
        guard a.count >= 2 else { return .nan }
        let ma = a.reduce(0, +) / n, mb = b.reduce(0, +) / n
        var sab = 0.0, saa = 0.0, sbb = 0.0
        for i in a.indices { sab += (a[i] - ma) * (b[i] - mb); saa += (a[i] - ma) * (a[i] - ma); sbb += (b[i] - mb) * (b[i] - mb) }
        return saa > 0 && sbb > 0 ? sab / (saa * sbb).squareRoot() : .nan
    }
}
