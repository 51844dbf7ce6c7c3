import COpenBLAS
import Foundation

/// Whether stored sums of outer products could come from real rows (`StatePayloadCheck`): a
/// Float64 Gram matrix of rows must be positive semidefinite, which no entry-by-entry range
/// check sees (|g_ij| ≤ √(g_ii g_jj) for every pair still allows matrices no rows give).
enum StateMomentCheck {
    /// u = 2⁻⁵³, the unit roundoff of Float64.
    static let u64 = 0x1p-53

    /// Whether the symmetric m × m row-major matrix `a` — a Float64 sum of `terms` outer products
    /// [1, x][1, x]ᵀ of Float32 rows (or x xᵀ) — is positive semidefinite up to its rounding.
    /// A row/column whose diagonal is exactly 0 must be 0 throughout (a zero sum of squares is
    /// all-zero values, so their products are exact zeros); the rest is scaled to unit diagonal,
    /// C = D^(−1/2) A D^(−1/2), and Cholesky-factored after adding δ·I.
    ///
    /// Why δ: a product of two Float32 values is exact in Float64, so the stored sums differ from
    /// the exact ones only by the summation rounding, |ΔA_ij| ≤ γ_N·Σ|x_i x_j| ≤ γ_N·√(A_ii A_jj)
    /// with γ_N = N·u/(1 − N·u) for N terms in any summation order (Higham, *Accuracy and
    /// Stability*, §3.1; a merge of shards adds partial sums, still N − 1 additions per entry).
    /// After scaling, every entry is off by at most γ_N (plus 2u for the scaling), so the
    /// rounding moves the eigenvalues of C by at most m·(γ_N + 2u) (Frobenius bound). Cholesky
    /// then completes on any matrix whose smallest eigenvalue exceeds 20·m^(3/2)·u·λ_max
    /// (Higham, Theorem 10.7), with λ_max ≤ trace = m. δ is twice the sum of those two bounds: an
    /// exact Gram matrix (smallest eigenvalue ≥ 0, e.g. fewer rows than dimensions) always
    /// passes, and anything refused has an eigenvalue below −δ/2, which no rounding explains.
    /// For m = 1025 and N = 10⁶ δ ≈ 4·10⁻⁷ of the unit diagonal.
    ///
    /// Returns nil when the matrix passes, else the index pair whose 2 × 2 minor fails, or
    /// (−1, −1) when only a larger minor does (the caller names the matrix as a whole).
    ///
    /// - Complexity: O(m³/3) (LAPACK dpotrf) and O(m²) memory.
    static func semidefiniteFailure(_ a: [Double], dimension m: Int, terms: Int) -> (Int, Int)? {
        let n = Double(max(terms, 1))
        let gamma = n * u64 / max(1e-300, 1 - n * u64)
        let md = Double(m)
        let delta = 2 * (md * (gamma + 2 * u64) + 20 * md * md.squareRoot() * u64 * (md + 1))
        // Exactly zero diagonals: the whole row must be zero.
        var live: [Int] = []
        for i in 0..<m {
            if a[i * m + i] == 0 {
                if let j = (0..<m).first(where: { a[i * m + $0] != 0 }) { return (i, j) }
            } else {
                live.append(i)
            }
        }
        let k = live.count
        guard k > 0 else { return nil }
        let scale = live.map { 1 / a[$0 * m + $0].squareRoot() }
        // Every 2 × 2 minor first (Cauchy–Schwarz |c_ij| ≤ 1 + δ): names the pair that fails.
        for (p, i) in live.enumerated() {
            for q in (p + 1)..<max(p + 1, k) where abs(a[i * m + live[q]] * scale[p] * scale[q]) > 1 + delta {
                return (i, live[q])
            }
        }
        let c = UnsafeMutablePointer<Double>.allocate(capacity: k * k)
        defer { c.deallocate() }
        for p in 0..<k {
            for q in 0..<k { c[p + q * k] = a[live[p] * m + live[q]] * scale[p] * scale[q] }
            c[p + p * k] = 1 + delta
        }
        let info = LAPACKE_dpotrf_work(LAPACK_COL_MAJOR, CChar(UInt8(ascii: "L")), Int32(k), c, Int32(k))
        return info == 0 ? nil : (-1, -1)
    }
}
