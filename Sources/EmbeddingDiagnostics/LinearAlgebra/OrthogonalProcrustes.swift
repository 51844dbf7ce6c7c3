import COpenBLAS
import Foundation

/// Orthogonal Procrustes between paired spaces of equal dimension, as scipy.spatial.procrustes
/// defines it: centre both, scale each to unit Frobenius norm, find the rotation R (RᵀR = I) and
/// scale s minimising ‖s·X̂R − Ŷ‖_F²; that minimum is the `disparity` = 1 − (Σσ_k)², σ = singular
/// values of X̂ᵀŶ. In [0, 1]: 0 iff Y is a rotated, scaled, shifted copy of X.
public struct OrthogonalProcrustes: Sendable {
    public internal(set) var dimension: Int
    /// R = UVᵀ (X̂ᵀŶ = UΣVᵀ), d × d row-major Float64: maps centred X rows onto Y's axes (x·R).
    public internal(set) var rotation: [Double]
    /// Least-squares scale in the original units: Y_c ≈ scale · X_c R.
    public internal(set) var scale: Double
    /// scipy's disparity (see above).
    public internal(set) var disparity: Double
    public internal(set) var columnMeansX: [Double]
    public internal(set) var columnMeansY: [Double]
}

extension SpaceComparison {
    public static func orthogonalProcrustes(_ m: PairedMoments, meanX: [Double] = [], meanY: [Double] = []) throws -> OrthogonalProcrustes {
        guard m.xDimension == m.yDimension else {
            throw EmbdiagError.usage("Procrustes needs equal dimensions (got \(m.xDimension) and \(m.yDimension))")
        }
        let d = m.xDimension
        let normX = m.sumSquaredNormX.squareRoot(), normY = m.sumSquaredNormY.squareRoot()
        guard normX > 0, normY > 0 else { throw EmbdiagError.invalid("<procrustes>", "a space has zero variance") }
        let scaled = m.xy.map { $0 / (normX * normY) }
        // R = U Vᵀ, completed to an orthogonal matrix the same way on every CPU when the
        // cross-covariance is rank-deficient (`semiOrthogonalFactor`).
        let factor = try semiOrthogonalFactor(scaled, rows: d, cols: d)
        let rotation = factor.rotation
        let nuclear = factor.nuclearNorm
        return OrthogonalProcrustes(dimension: d, rotation: rotation, scale: nuclear * normY / normX,
                                    disparity: max(0, 1 - nuclear * nuclear), columnMeansX: meanX, columnMeansY: meanY)
    }

    public static func orthogonalProcrustes(_ x: Matrix, _ y: Matrix) throws -> OrthogonalProcrustes {
        try SpaceComparison.orthogonalProcrustes(SpaceComparison.pairedCenteredMoments(x, y), meanX: Matrix.columnMeans(x), meanY: Matrix.columnMeans(y))
    }
}

/// The semi-orthogonal R (dx × dy) maximising tr(RᵀM) for a cross-product M = XᵀY: the polar
/// factor U·Vᵀ of M's SVD — orthonormal rows when dx ≤ dy, orthonormal columns otherwise, so an
/// orthogonal map whenever dx = dy, whatever M's rank.
public struct SemiOrthogonalFactor: Sendable {
    /// R, dx × dy row-major Float64.
    public internal(set) var rotation: [Double]
    /// Σσ over all singular values of M (= max tr(RᵀM)).
    public internal(set) var nuclearNorm: Double
    /// Singular pairs above the cut-off ε_Float32·‖M‖_F: the directions the data determine.
    public internal(set) var determinedRank: Int
    /// min(dx, dy) − `determinedRank`: directions the data leave free (any pairing of them fits
    /// equally well), completed by the rule of `SpaceComparison.semiOrthogonalFactor`.
    public internal(set) var completedDirections: Int
    /// False when the completion fell back to LAPACK's own singular vectors (the free directions of
    /// the two spaces are orthogonal to each other under the identity rule, see there).
    public internal(set) var canonicalCompletion: Bool
}

extension SpaceComparison {
    /// The semi-orthogonal factor of a dx × dy cross-product M (Procrustes: R = argmax tr(RᵀM)
    /// over RᵀR = I or RRᵀ = I). Singular pairs with σ ≤ ε_Float32·‖M‖_F are not determined by
    /// the data (the cross-covariance there is zero up to the inputs' rounding) and the solution
    /// is not unique; LAPACK's vectors for them differ between BLAS kernels. They are completed
    /// canonically instead: with R₀ = U_k V_kᵀ over the determined pairs and B an orthonormal basis
    /// of the complement of V_k (in the smaller space), the free part is Q = polar(P_U·E·B)·Bᵀ,
    /// where P_U projects onto the complement of U_k and E is the dx × dy identity — the pairing
    /// of the free directions closest to "keep the coordinate" (max tr(EᵀQ)). Q does not depend on
    /// the basis B, only on the subspaces, so the map is the same on every CPU. R = R₀ + Q is
    /// semi-orthogonal: every vector keeps its length (dx ≤ dy) and nothing is shrunk.
    ///
    /// - Complexity: O(dx·dy·min(dx, dy)) (two SVDs).
    public static func semiOrthogonalFactor(_ m: [Double], rows dx: Int, cols dy: Int) throws -> SemiOrthogonalFactor {
        precondition(m.count == dx * dy)
        if dx < dy {
            // Solve for Rᵀ on Mᵀ (the taller problem) and transpose back.
            var mt = [Double](repeating: 0, count: dx * dy)
            for i in 0..<dx { for j in 0..<dy { mt[j * dx + i] = m[i * dy + j] } }
            var f = try semiOrthogonalFactor(mt, rows: dy, cols: dx)
            var r = [Double](repeating: 0, count: dx * dy)
            for i in 0..<dy { for j in 0..<dx { r[j * dy + i] = f.rotation[i * dx + j] } }
            f.rotation = r
            return f
        }
        // dx ≥ dy: r = dy pairs, vt is dy × dy.
        let svd = try LAPACK.singularValueDecomposition(m, rows: dx, cols: dy)
        let r = svd.rank
        let frobenius = svd.singularValues.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let cutoff = Double(Float.ulpOfOne) * frobenius
        // Singular values are descending: the determined pairs are a prefix.
        let k = svd.singularValues.filter { $0 > cutoff }.count
        let nuclear = svd.singularValues.reduce(0, +)
        func columns(_ a: [Double], rows: Int, stride: Int, _ range: Range<Int>) -> [Double] {
            var out = [Double](repeating: 0, count: rows * range.count)
            for i in 0..<rows { for (c, t) in range.enumerated() { out[i * range.count + c] = a[i * stride + t] } }
            return out
        }
        let uk = columns(svd.u, rows: dx, stride: r, 0..<k)
        var rotation = BLAS.matmul(uk, rows: dx, inner: k, Array(svd.vt.prefix(k * dy)), cols: dy)
        let free = r - k
        if free == 0 {
            return SemiOrthogonalFactor(rotation: rotation, nuclearNorm: nuclear, determinedRank: k, completedDirections: 0, canonicalCompletion: true)
        }
        // B (dy × free): the complement of V_k, rows k..<r of Vᵀ transposed.
        let bt = Array(svd.vt[(k * dy)..<(r * dy)])  // free × dy
        // G = P_U·E·B = E·B − U_k (U_kᵀ E B); E·B is B padded with zero rows to dx rows.
        var g = [Double](repeating: 0, count: dx * free)
        for i in 0..<dy { for c in 0..<free { g[i * free + c] = bt[c * dy + i] } }
        if k > 0 {
            let ukg = BLAS.matmul(uk, rows: k, inner: dx, g, cols: free, transposeA: true)
            let proj = BLAS.matmul(uk, rows: dx, inner: k, ukg, cols: free)
            for t in 0..<g.count { g[t] -= proj[t] }
        }
        let gs = try LAPACK.singularValueDecomposition(g, rows: dx, cols: free)
        // polar(G) = S·Tᵀ is unique when G has full column rank; below 1e-6 the free directions
        // of one space are (nearly) orthogonal to the other's under E, and the rule decides nothing.
        let canonical = (gs.singularValues.last ?? 0) > 1e-6
        let a: [Double]  // dx × free, orthonormal columns in the complement of U_k
        if canonical {
            a = BLAS.matmul(gs.u, rows: dx, inner: free, gs.vt, cols: free)
        } else {
            a = columns(svd.u, rows: dx, stride: r, k..<r)
        }
        let q = BLAS.matmul(a, rows: dx, inner: free, bt, cols: dy)
        for t in 0..<rotation.count { rotation[t] += q[t] }
        return SemiOrthogonalFactor(rotation: rotation, nuclearNorm: nuclear, determinedRank: k, completedDirections: free, canonicalCompletion: canonical)
    }
}
