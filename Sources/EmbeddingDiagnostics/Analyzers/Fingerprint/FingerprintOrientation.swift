import Foundation

/// Whether a fingerprint can confirm the orientation of the coordinates (Guides/Fingerprint.md,
/// "Orientation"). A sign flip of coordinates, x_j → −x_j (an orthogonal map D = diag(±1)), maps the
/// second moment M to DMD: every diagonal entry stays, the off-diagonal entries M_jl with exactly
/// one of j, l flipped change sign. Only the off-diagonal structure can therefore tell a re-signed
/// copy of a space (incompatible with its index) from the space itself.
extension ModelFingerprint {
    /// The fingerprint's off-diagonal structure fails the orientation check's `minimumSignalShare`
    /// or its threshold reaches 1: why orientation cannot be confirmed from it.
    public enum OrientationBlindness: Sendable, Equatable {
        /// Written by an older embdiag (format version 1), which did not record the off-diagonal strength.
        case olderFormat
        /// The off-diagonal structure is below `minimumSignalShare` of what the recorded directions
        /// rebuild (mostly sampling noise): the structure is per-coordinate, as in a PCA-rotated store.
        case diagonal(share: Double)
        /// The off-diagonal structure sits on so few coordinate pairs that a random sign flip of half
        /// the coordinates keeps most of it with high probability: 4 standard deviations of a
        /// flipped copy's orientation score reach 1.
        case concentrated(flipSpread: Double)
        /// The dimension is too small for any threshold (`FingerprintCheck.canDecide`).
        case dimension
    }

    /// The orientation check a fingerprint allows.
    public struct OrientationStructure: Sendable, Equatable {
        /// Σ_{j≠l} (M_F)_jl² of the second moment the check rebuilds from the fingerprint.
        public internal(set) var rebuiltOffDiagonal: Double
        /// The recorded unbiased Σ_{j≠l} M_jl² (nil: a format-1 file).
        public internal(set) var offDiagonalStrength: Double?
        /// `offDiagonalStrength` / `rebuiltOffDiagonal`: ≈ 1 when the coordinates are correlated, ≤ 0
        /// when the rebuilt off-diagonal entries are only noise (a diagonal covariance).
        public internal(set) var share: Double?
        /// Standard deviation of the orientation score of a copy with a random half of its coordinates
        /// sign-flipped: √(2 Σ_{j≠l} A_jl⁴) / S_off, A the rebuilt off-diagonal entries (the variance of
        /// Σ_{j≠l} A_jl² d_j d_l over independent random signs d). Nil where `share` is not positive.
        public internal(set) var flipSpread: Double?
        /// `same_model` needs `orientation_score` ≥ this: the dimension's threshold, raised to four
        /// `flipSpread`s where that is larger. Nil when orientation cannot be checked.
        public internal(set) var threshold: Double?
        /// Nil when orientation can be checked.
        public internal(set) var blindness: OrientationBlindness?
        public var checkable: Bool { blindness == nil }
    }

    /// The per-coordinate diagonal of the rebuilt second moment,
    /// (M_F)_jj = a·(Σ_{i≤k} (λ_i − r)·v_ij² + r) + μ_j², a = (n − 1)/n, r the mean of the eigenvalues left out.
    ///
    /// - Complexity: O(k·d).
    func rebuiltDiagonal() -> [Double] {
        let d = dimension, k = directionCount, a = Double(rows - 1) / Double(rows)
        let r = restEigenvalue
        var diagonal = [Double](repeating: r, count: d)
        for i in 0..<k {
            let w = spectrum[i] - r
            for j in 0..<d { let v = directions[i * d + j]; diagonal[j] += w * v * v }
        }
        for j in 0..<d { diagonal[j] = a * diagonal[j] + mean[j] * mean[j] }
        return diagonal
    }

    /// The mean of the eigenvalues left out (0 when every direction is recorded).
    var restEigenvalue: Double {
        let d = dimension, k = directionCount
        guard d > k else { return 0 }
        return Swift.max(0, spectrum.reduce(0, +) - spectrum.prefix(k).reduce(0, +)) / Double(d - k)
    }

    /// The orientation check this fingerprint allows (see `OrientationStructure`).
    ///
    /// - Complexity: O(k·d²) (the rebuilt second moment's off-diagonal entries).
    public var orientation: OrientationStructure {
        let d = dimension, k = directionCount, a = Double(rows - 1) / Double(rows)
        let r = restEigenvalue
        // M_F − diag = a·Σ_i (λ_i − r) v_i v_iᵀ + μμᵀ off the diagonal (r·I has none).
        var scaled = directions
        for i in 0..<k {
            let w = a * (spectrum[i] - r)
            for j in 0..<d { scaled[i * d + j] *= w }
        }
        let product = BLAS.matmul(scaled, rows: d, inner: k, directions, cols: d, transposeA: true)  // d × d: Σ_i w_i v_i v_iᵀ
        var squares = 0.0, fourth = 0.0
        for j in 0..<d {
            for l in 0..<d where l != j {
                let v = product[j * d + l] + mean[j] * mean[l]
                let v2 = v * v
                squares += v2
                fourth += v2 * v2
            }
        }
        var s = OrientationStructure(rebuiltOffDiagonal: squares, offDiagonalStrength: offDiagonalStrength, share: nil, flipSpread: nil, threshold: nil, blindness: nil)
        guard FingerprintCheck.canDecide(dimension: d) else { s.blindness = .dimension; return s }
        guard let strength = offDiagonalStrength else { s.blindness = .olderFormat; return s }
        let share = squares > 0 ? strength / squares : 0
        s.share = share
        guard share >= FingerprintStatistics.minimumSignalShare else { s.blindness = .diagonal(share: share); return s }
        let spread = (2 * fourth).squareRoot() / strength
        s.flipSpread = spread
        let threshold = Swift.max(FingerprintCheck.threshold(dimension: d), FingerprintCheck.orientationSpreads * spread)
        guard threshold < 1 else { s.blindness = .concentrated(flipSpread: spread); return s }
        s.threshold = threshold
        return s
    }
}
