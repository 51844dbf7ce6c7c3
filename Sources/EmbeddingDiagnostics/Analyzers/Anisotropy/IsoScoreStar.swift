import Foundation

/// IsoScore* (Rudman & Eickhoff 2023, IsoScore 2.x `IsoScore_star(points, C0, zeta)`): IsoScore of
/// the shrinkage covariance C* = (1 − ζ)·C + ζ·C0, defined (and stable) when n < d, where the sample
/// covariance C has at most n − 1 non-zero eigenvalues. Guide: Guides/Anisotropy.md.
public struct IsoScoreStar: Sendable, Equatable {
    /// The shrinkage target C0.
    public enum Prior: String, Sendable, CaseIterable {
        /// C0 = I, as the package README recommends. Not scale-invariant: multiplying the data by
        /// c changes the balance between C and I.
        case identity
        /// C0 = (tr C / d)·I, the identity at the data's own average variance: scale-invariant.
        case trace
    }

    /// ζ ∈ [0, 1]: 0 = IsoScore, 1 = the prior alone (1 for an identity prior).
    public internal(set) var zeta: Double
    public internal(set) var prior: Prior
    public internal(set) var value: Double

    /// From the covariance eigenvalues (ddof 1, all d of them): C0 is a multiple of I, so C* has
    /// the eigenvalues (1 − ζ)λ_k + ζ·c0 and IsoScore* = (PR* − 1)/(d − 1), PR* = (Σλ*)²/Σλ*² — the
    /// closed form of the package's δ formula (equal to 1e−12, see IsoScore in AnisotropyMetrics).
    /// - Complexity: O(d).
    public init(spectrum: [Double], zeta: Double, prior: Prior = .identity) {
        self.zeta = zeta
        self.prior = prior
        let d = spectrum.count
        let c0 = prior == .identity ? 1.0 : spectrum.reduce(0, +) / Double(max(d, 1))
        let shrunk = spectrum.map { (1 - zeta) * $0 + zeta * c0 }
        let total = shrunk.reduce(0, +), squares = shrunk.reduce(0) { $0 + $1 * $1 }
        value = d > 1 && squares > 0 ? (total * total / squares - 1) / Double(d - 1) : .nan
    }

    /// Checks a user-given ζ.
    public static func validate(zeta: Double) throws {
        guard zeta.isFinite, zeta >= 0, zeta <= 1 else { throw EmbdiagError.usage("\(Setting.isoscoreZeta) must be in [0, 1] (got \(zeta))") }
    }
}
