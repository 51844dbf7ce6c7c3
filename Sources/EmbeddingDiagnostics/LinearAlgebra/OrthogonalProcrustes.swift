import COpenBLAS
import Foundation

/// Orthogonal Procrustes between paired spaces of equal dimension, as scipy.spatial.procrustes
/// defines it: centre both, scale each to unit Frobenius norm, find the rotation R (RᵀR = I) and
/// scale s minimising ‖s·X̂R − Ŷ‖_F²; that minimum is the `disparity` = 1 − (Σσ_k)², σ = singular
/// values of X̂ᵀŶ. In [0, 1]: 0 iff Y is a rotated, scaled, shifted copy of X.
public struct OrthogonalProcrustes: Sendable {
    public var dimension: Int
    /// R = UVᵀ (X̂ᵀŶ = UΣVᵀ), d × d row-major Float64: maps centred X rows onto Y's axes (x·R).
    public var rotation: [Double]
    /// Least-squares scale in the original units: Y_c ≈ scale · X_c R.
    public var scale: Double
    /// scipy's disparity (see above).
    public var disparity: Double
    public var columnMeansX: [Double]
    public var columnMeansY: [Double]
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
        let svd = try LAPACK.singularValueDecomposition(scaled, rows: d, cols: d)
        let r = svd.rank
        // R = U Vᵀ (u: d × r, vt: r × d).
        let rotation = BLAS.matmul(svd.u, rows: d, inner: r, svd.vt, cols: d)
        let nuclear = svd.singularValues.reduce(0, +)
        return OrthogonalProcrustes(dimension: d, rotation: rotation, scale: nuclear * normY / normX,
                                    disparity: max(0, 1 - nuclear * nuclear), columnMeansX: meanX, columnMeansY: meanY)
    }

    public static func orthogonalProcrustes(_ x: Matrix, _ y: Matrix) throws -> OrthogonalProcrustes {
        try SpaceComparison.orthogonalProcrustes(SpaceComparison.pairedCenteredMoments(x, y), meanX: Matrix.columnMeans(x), meanY: Matrix.columnMeans(y))
    }
}
