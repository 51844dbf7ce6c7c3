import Foundation

/// The relations every fingerprint of a real sample satisfies (Guides/Fingerprint.md, "The file"):
/// checked when a file is read, and on a new fingerprint before it is written, so that neither an
/// edited file whose checksum was recomputed nor a degenerate sample can give a check values it
/// cannot use (an overflow, a score outside its range, every row called another model's).
extension ModelFingerprint {
    /// What is wrong with a fingerprint's values.
    public enum Problem: Sendable, Equatable {
        /// A value outside its own domain (a negative scale, an unsorted spectrum, …).
        case domain(String)
        /// Values each in their domain that no real sample gives together.
        case relation(String)

        public var text: String {
            switch self {
            case .domain(let t), .relation(let t): return t
            }
        }
    }

    /// The second-moment structure the fingerprint records, as a check rebuilds it.
    struct RecordedStructure {
        /// ‖T(M_F)‖²_F of M_F = a·(Σ_{i≤k} λ_i v_i v_iᵀ + r·(I − VVᵀ)) + μμᵀ, a = (n − 1)/n, r the mean
        /// of the eigenvalues left out: the matrix `FingerprintCheck` compares with.
        var traceless: Double
        /// An upper bound on ‖T(M̂)‖²_F of the sample itself: the eigenvalues left out bound μᵀCμ on
        /// their subspace by λ_{k+1}·‖(I − VVᵀ)μ‖² (exact when k = d).
        var tracelessUpperBound: Double
        /// The bound on ‖M̂‖²_F behind it (the scale of the rounding allowance).
        var squaredNormUpperBound: Double
    }

    /// - Complexity: O(k·d).
    var recordedStructure: RecordedStructure {
        let d = dimension, k = directionCount, n = Double(rows), a = (n - 1) / n
        let total = spectrum.reduce(0, +)
        let keptSum = spectrum.prefix(k).reduce(0, +)
        let rest = d > k ? Swift.max(0, total - keptSum) / Double(d - k) : 0
        let meanSquared = mean.reduce(0) { $0 + $1 * $1 }
        var keptMean = 0.0, projected = 0.0, keptSquares = 0.0
        for i in 0..<k {
            var c = 0.0
            for j in 0..<d { c += directions[i * d + j] * mean[j] }
            keptMean += spectrum[i] * c * c
            projected += c * c
            keptSquares += spectrum[i] * spectrum[i]
        }
        let tailMean = Swift.max(0, meanSquared - projected)
        let rebuiltSquares = a * a * (keptSquares + Double(d - k) * rest * rest) + 2 * a * (keptMean + rest * tailMean) + meanSquared * meanSquared
        let rebuiltTrace = a * (keptSum + Double(d - k) * rest) + meanSquared
        let allSquares = spectrum.reduce(0) { $0 + $1 * $1 }
        let tailTop = d > k ? Swift.max(0, spectrum[k]) : 0
        let highSquares = a * a * allSquares + 2 * a * (keptMean + tailTop * tailMean) + meanSquared * meanSquared
        return RecordedStructure(traceless: rebuiltSquares - rebuiltTrace * rebuiltTrace / Double(d),
                                 tracelessUpperBound: highSquares - secondMomentTrace * secondMomentTrace / Double(d),
                                 squaredNormUpperBound: highSquares)
    }

    /// Rows of a sample of `rows` whose value is at least the `p` quantile (linear interpolation
    /// between order statistics): those from position ⌈p·(n − 1)⌉ on.
    static func rowsAtOrAbove(quantile p: Double, rows n: Int) -> Int {
        Swift.max(1, n - Int((p * Double(n - 1)).rounded(.up)))
    }

    /// The first relation that does not hold, or nil when the values could come from a real sample.
    ///
    /// Domain: finite values, scales ≥ 0 (not all 0), a descending spectrum ≥ −1e-9·E‖x‖²,
    /// E‖x‖² > 0, traceless strength > 0, mean cosine in [−1/(n − 1), 1], sorted norm quantiles
    /// ≥ 0, row-score median ≥ log 1e-300 and ≤ its 99.9 % quantile. Relations (a = (n − 1)/n):
    /// - E‖x‖² = a·Σσ_j² + ‖μ‖² (to `float32Slack` of a·Σσ_j² — the covariance's Float32 products —
    ///   plus 1e-4 of ‖μ‖² for files whose mean was summed in Float32);
    /// - Σσ_j² = Σλ_i (both the covariance's trace; 1e-6);
    /// - the directions are orthonormal (VVᵀ = I to 1e-6);
    /// - each σ_j² lies between what the directions give with the smallest eigenvalue and with
    ///   λ_{k+1} on the rest, Σ_{i≤k} λ_i v_ij² + λ_{d|k+1}·(1 − Σ_{i≤k} v_ij²) (Rayleigh; equal when k = d);
    /// - the traceless strength S is at least `minimumSignalShare` of ‖T(M_F)‖²_F (the refusal of
    ///   samples whose structure is noise) and at most n/(n − 1)·‖T(M̂)‖²_F's upper bound;
    /// - the off-diagonal strength (format 2) is at most n/(n − 1)·(the bound on ‖M̂‖²_F − Σ_j (a·σ_j² + μ_j²)²),
    ///   the plain off-diagonal strength's bound;
    /// - a norm quantile q_p is at most √(n·E‖x‖² / #rows at or above it);
    /// - the row scores: threshold = q99.9 + (q99.9 − median); Σ_i exp(score_i) ≤
    ///   (n − 1)/d · Σ_j σ_j²/σ̃_j² (each row's score is the log of its mean squared z-score), so the
    ///   median and q99.9 are at most log of that sum over the rows at or above them.
    ///
    /// - Complexity: O(k²·d + d log d).
    public func firstInconsistency() -> Problem? {
        let d = dimension, k = directionCount, nInt = rows, n = Double(rows), a = (n - 1) / n
        let levels = Self.normQuantileLevels
        guard d >= 2, mean.count == d, scale.count == d, spectrum.count == d, (1...d).contains(k), directions.count == k * d,
              normQuantiles.count == levels.count, rows >= Self.minimumRows else {
            return .domain("sizes disagree: \(d) dimensions, \(k) directions, \(rows) rows")
        }
        let scalars = [secondMomentTrace, tracelessStrength, meanCosine, rowScoreMedian, rowScoreQ999, rowScoreThreshold] + (offDiagonalStrength.map { [$0] } ?? [])
        guard (mean + scale + spectrum + directions + normQuantiles + scalars).allSatisfy(\.isFinite) else {
            return .domain("a value is NaN or infinite")
        }
        let s0 = secondMomentTrace
        guard s0 > 0 else { return .domain("second moment E‖x‖² \(s0) ≤ 0") }
        // Float32 vectors (what embdiag reads) have ‖x‖² ≤ d·Float.greatestFiniteMagnitude²; with
        // the relations below every sum of squares here then stays finite in Float64.
        let largest = Double(Float.greatestFiniteMagnitude)
        guard s0 <= Double(d) * largest * largest else { return .domain("second moment E‖x‖² \(s0) beyond what Float32 vectors can have") }
        guard tracelessStrength > 0 else { return .domain("traceless strength \(tracelessStrength) ≤ 0") }
        guard scale.allSatisfy({ $0 >= 0 }) else { return .domain("a negative scale") }
        guard zip(spectrum, spectrum.dropFirst()).allSatisfy({ $0 >= $1 }) else { return .domain("the spectrum is not in descending order") }
        guard spectrum[d - 1] >= -1e-9 * s0 else { return .domain("a negative eigenvalue \(spectrum[d - 1])") }
        let floor = Self.scaleFloor(scale)
        guard floor > 0 else { return .relation("every scale is 0, so the per-row score has no floor") }
        guard (-1 / (n - 1) - 1e-9...1 + 1e-9).contains(meanCosine) else {
            return .relation("mean cosine \(meanCosine) outside [−1/(n − 1), 1]")
        }
        guard normQuantiles.allSatisfy({ $0 >= 0 }), zip(normQuantiles, normQuantiles.dropFirst()).allSatisfy({ $0 <= $1 }) else {
            return .relation("norm quantiles negative or not in ascending order")
        }
        for (p, q) in zip(levels, normQuantiles) where q * q * Double(Self.rowsAtOrAbove(quantile: p, rows: nInt)) > n * s0 * (1 + 1e-9) {
            return .relation("norm quantile \(p) = \(q) beyond what E‖x‖² = \(s0) allows")
        }

        // The second moment, the scales and the spectrum: one covariance.
        let scaleSquares = scale.reduce(0) { $0 + $1 * $1 }
        let meanSquared = mean.reduce(0) { $0 + $1 * $1 }
        let identity = a * scaleSquares + meanSquared
        guard identity.isFinite, abs(identity - s0) <= FingerprintStatistics.float32Slack * a * scaleSquares + 1e-4 * meanSquared + 1e-12 * s0 else {
            return .relation("E‖x‖² = \(s0), but (n − 1)/n·Σ scale² + ‖mean‖² = \(identity)")
        }
        let total = spectrum.reduce(0, +)
        guard total.isFinite, abs(scaleSquares - total) <= 1e-6 * Swift.max(abs(total), scaleSquares) + 1e-12 * s0 else {
            return .relation("Σ scale² = \(scaleSquares) but Σ spectrum = \(total); both are the covariance's trace")
        }

        // Orthonormal directions.
        let gram = BLAS.matmul(directions, rows: k, inner: d, directions, cols: k, transposeB: true)
        for i in 0..<k {
            for j in 0..<k where abs(gram[i * k + j] - (i == j ? 1 : 0)) > 1e-6 {
                return .relation(i == j ? "principal direction \(i) has squared length \(gram[i * k + j]), not 1"
                                        : "principal directions \(i) and \(j) are not orthogonal (dot product \(gram[i * k + j]))")
            }
        }
        // Each coordinate's variance from the eigen-decomposition (Rayleigh).
        let lowest = spectrum[d - 1], nextKept = k < d ? spectrum[k] : 0
        let tolerance = 1e-6 * Swift.max(spectrum[0], 0) + 1e-12 * s0
        for j in 0..<d {
            var weight = 0.0, part = 0.0
            for i in 0..<k {
                let v = directions[i * d + j]
                weight += v * v
                part += spectrum[i] * v * v
            }
            let restWeight = k < d ? Swift.max(0, 1 - weight) : 0
            let low = part + lowest * restWeight, high = part + nextKept * restWeight
            let v = scale[j] * scale[j]
            guard v >= low - tolerance, v <= high + tolerance else {
                return .relation("scale of dimension \(j) (variance \(v)) outside what the spectrum and directions give, [\(low), \(high)]")
            }
        }

        // The traceless strength between the refusal share of what is recorded and the sample's own bound.
        let structure = recordedStructure
        guard structure.traceless.isFinite, structure.tracelessUpperBound.isFinite, structure.squaredNormUpperBound.isFinite else {
            return .relation("the recorded second moment overflows Float64 (E‖x‖² = \(s0), ‖mean‖² = \(meanSquared))")
        }
        guard tracelessStrength >= FingerprintStatistics.minimumSignalShare * structure.traceless else {
            return .relation("traceless strength \(tracelessStrength) below \(FingerprintStatistics.minimumSignalShare) × the recorded structure \(structure.traceless)")
        }
        guard tracelessStrength <= n / (n - 1) * (structure.tracelessUpperBound + 1e-9 * structure.squaredNormUpperBound) else {
            return .relation("traceless strength \(tracelessStrength) beyond what the spectrum and the mean allow (\(n / (n - 1) * structure.tracelessUpperBound))")
        }

        // The off-diagonal strength: an unbiased Σ_{j≠l} M_jl² is at most n/(n − 1) times the plain one,
        // ‖M̂‖²_F − Σ_j M̂_jj², with M̂_jj = a·σ_j² + μ_j² and ‖M̂‖²_F at most its bound above.
        if let off = offDiagonalStrength {
            var diagonalSquares = 0.0
            for j in 0..<d { let v = a * scale[j] * scale[j] + mean[j] * mean[j]; diagonalSquares += v * v }
            let bound = n / (n - 1) * (structure.squaredNormUpperBound - diagonalSquares)
            guard off <= bound + 1e-6 * structure.squaredNormUpperBound else {
                return .relation("off-diagonal strength \(off) beyond what the spectrum, the scales and the mean allow (\(bound))")
            }
        }

        // The row scores of the sample itself.
        let lowestScore = Foundation.log(1e-300)
        guard rowScoreMedian >= lowestScore - 1e-9, rowScoreMedian <= rowScoreQ999 else {
            return .domain("row-score median \(rowScoreMedian) and 99.9 % quantile \(rowScoreQ999) out of order or below log 1e-300")
        }
        guard abs(rowScoreThreshold - (rowScoreQ999 + (rowScoreQ999 - rowScoreMedian))) <= 1e-9 * (1 + abs(rowScoreQ999) + abs(rowScoreMedian)) else {
            return .relation("row-score threshold \(rowScoreThreshold) is not q99.9 + (q99.9 − median) = \(rowScoreQ999 + (rowScoreQ999 - rowScoreMedian))")
        }
        var share = 0.0
        for s in scale { let t = Swift.max(s, floor); share += s * s / (t * t) }
        let scoreSum = (n - 1) * share / Double(d) * (1 + FingerprintStatistics.float32Slack) + n * 1e-300
        for (p, value, name) in [(0.5, rowScoreMedian, "median"), (0.999, rowScoreQ999, "99.9 % quantile")] {
            let bound = Foundation.log(scoreSum / Double(Self.rowsAtOrAbove(quantile: p, rows: nInt)))
            guard value <= bound else {
                return .relation("row-score \(name) \(value) beyond what the scales allow (\(bound))")
            }
        }
        return nil
    }
}
