import COpenBLAS
import Foundation

// Reusable comparisons of two embedding spaces whose rows are paired (row i of X and row i of Y
// describe the same item). Dimensions may differ unless stated. Used by the relative-representations
// analyzer (Guides/RelativeRepresentations.md) and available to others (e.g. compat):
//
//   pairedCenteredMoments(x, y)        one streamed pass: XᵀX, YᵀY, XᵀY of the centred spaces (Float64)
//   linearCKA(x, y) / (moments)        biased linear CKA (Kornblith et al. 2019), feature space O(n·d²)
//   debiasedLinearCKA(x, y) / (moments) CKA from the unbiased HSIC of Song et al. (2012), O(n·d²)
//   orthogonalProcrustes(x, y) / (moments) rotation + scale + disparity (OrthogonalProcrustes.swift)
//   knnJaccard(a, b) / knnOverlap(a, b) per-row Jaccard / mutual-k-NN overlap (NeighborhoodOverlap.swift)
//   trueMatchRanks(queries:gallery:trueIndices:) rank of each query's partner (TrueMatchRanks.swift)

/// Second moments of two paired spaces after centring each by its column mean, accumulated in
/// Float64 (one streamed pass over row blocks; DSYRK on the concatenated block [X_c | Y_c]).
/// Memory O(block·(dx+dy) + (dx+dy)²); the n × n Gram matrices are never formed.
public struct PairedMoments: Sendable {
    public internal(set) var count: Int
    public internal(set) var xDimension: Int
    public internal(set) var yDimension: Int
    /// X_cᵀX_c, dx × dx, row-major.
    public internal(set) var xx: [Double]
    /// Y_cᵀY_c, dy × dy.
    public internal(set) var yy: [Double]
    /// X_cᵀY_c, dx × dy.
    public internal(set) var xy: [Double]
    /// Σ_i ‖x_i‖², Σ_i ‖y_i‖² (centred rows).
    public internal(set) var sumSquaredNormX: Double
    public internal(set) var sumSquaredNormY: Double
    /// Σ_i ‖x_i‖⁴, Σ_i ‖y_i‖⁴, Σ_i ‖x_i‖²‖y_i‖² (centred rows): the diagonal terms the unbiased
    /// HSIC removes.
    public internal(set) var sumFourthNormX: Double
    public internal(set) var sumFourthNormY: Double
    public internal(set) var sumSquaredNormProduct: Double

    /// ‖X_cᵀX_c‖_F², ‖Y_cᵀY_c‖_F², ‖X_cᵀY_c‖_F².
    public var frobeniusXX: Double { xx.reduce(0) { $0 + $1 * $1 } }
    public var frobeniusYY: Double { yy.reduce(0) { $0 + $1 * $1 } }
    public var frobeniusXY: Double { xy.reduce(0) { $0 + $1 * $1 } }
}

extension SpaceComparison {
    /// XᵀX, YᵀY and XᵀY of the column-centred spaces, plus the row-norm sums the unbiased HSIC needs.
    /// X and Y must have the same number of rows (paired).
    public static func pairedCenteredMoments(_ x: Matrix, _ y: Matrix) -> PairedMoments {
        precondition(x.rows == y.rows, "pairedCenteredMoments: row counts differ")
        let n = x.rows, dx = x.cols, dy = y.cols, d = dx + dy
        let muX = Matrix.columnMeans(x), muY = Matrix.columnMeans(y)
        var acc = [Double](repeating: 0, count: d * d)
        let blockRows = max(1, min(n, Matrix.blockRowsFor(cols: 2 * d)))
        var scratch = [Double](repeating: 0, count: blockRows * d)
        var sx = 0.0, sy = 0.0, sx4 = 0.0, sy4 = 0.0, sxy = 0.0
        var start = 0
        while start < n {
            let end = min(n, start + blockRows)
            let m = end - start
            scratch.withUnsafeMutableBufferPointer { buf in
                let t = buf.baseAddress!
                for i in 0..<m {
                    let xr = x.pointer + (start + i) * dx, yr = y.pointer + (start + i) * dy
                    let row = t + i * d
                    var a = 0.0, b = 0.0
                    for j in 0..<dx { let v = Double(xr[j]) - muX[j]; row[j] = v; a += v * v }
                    for j in 0..<dy { let v = Double(yr[j]) - muY[j]; row[dx + j] = v; b += v * v }
                    sx += a; sy += b; sx4 += a * a; sy4 += b * b; sxy += a * b
                }
                acc.withUnsafeMutableBufferPointer { c in
                    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, Int32(d), Int32(m), 1,
                                t, Int32(d), 1, c.baseAddress!, Int32(d))
                }
            }
            start = end
        }
        var xx = [Double](repeating: 0, count: dx * dx)
        var yy = [Double](repeating: 0, count: dy * dy)
        var xy = [Double](repeating: 0, count: dx * dy)
        for i in 0..<d {
            for j in i..<d {
                let v = acc[i * d + j]
                if j < dx { xx[i * dx + j] = v; xx[j * dx + i] = v }
                else if i >= dx { yy[(i - dx) * dy + (j - dx)] = v; yy[(j - dx) * dy + (i - dx)] = v }
                else { xy[i * dy + (j - dx)] = v }
            }
        }
        return PairedMoments(count: n, xDimension: dx, yDimension: dy, xx: xx, yy: yy, xy: xy,
                             sumSquaredNormX: sx, sumSquaredNormY: sy, sumFourthNormX: sx4,
                             sumFourthNormY: sy4, sumSquaredNormProduct: sxy)
    }

    /// Linear CKA (Kornblith et al. 2019) with the biased HSIC: ‖YᵀX‖_F² / (‖XᵀX‖_F ‖YᵀY‖_F) on
    /// centred X, Y — equal to the n × n formula tr(K̃HLH)/… with K = XXᵀ, but O(n·d²). In [0, 1].
    public static func linearCKA(_ m: PairedMoments) -> Double {
        let den = (m.frobeniusXX * m.frobeniusYY).squareRoot()
        return den > 0 ? m.frobeniusXY / den : .nan
    }

    public static func linearCKA(_ x: Matrix, _ y: Matrix) -> Double { SpaceComparison.linearCKA(SpaceComparison.pairedCenteredMoments(x, y)) }

    /// Unbiased HSIC (Song et al. 2012, eq. 5) for linear kernels K = XXᵀ, L = YYᵀ from feature-space
    /// sums (X, Y centred, so Σx_i = 0):
    ///   tr(K̃L̃) = ‖XᵀY‖_F² − Σ‖x_i‖²‖y_i‖²,  1ᵀK̃1 = −Σ‖x_i‖²,  1ᵀK̃L̃1 = Σ‖x_i‖²‖y_i‖²,
    ///   HSIC₁ = [tr(K̃L̃) + 1ᵀK̃1·1ᵀL̃1/((n−1)(n−2)) − 2/(n−2)·1ᵀK̃L̃1] / (n(n−3)).
    /// (The estimator is invariant to shifting X or Y, so centring first only helps the rounding.)
    public static func unbiasedLinearHSIC(frobeniusCross: Double, sumSquaredNormX: Double, sumSquaredNormY: Double,
                                   sumSquaredNormProduct: Double, count n: Int) -> Double {
        guard n >= 4 else { return .nan }
        let nn = Double(n)
        let trace = frobeniusCross - sumSquaredNormProduct
        let sums = sumSquaredNormX * sumSquaredNormY / ((nn - 1) * (nn - 2))
        let cross = 2 / (nn - 2) * sumSquaredNormProduct
        return (trace + sums - cross) / (nn * (nn - 3))
    }

    /// Debiased linear CKA: HSIC₁(K, L) / √(HSIC₁(K, K)·HSIC₁(L, L)) (Song et al. 2012; Kornblith et
    /// al. 2019 §C). ≈ 0 for independent spaces at any n (the biased CKA is not: 0.18 at n = 1000,
    /// d = 300 — see Guides/RelativeRepresentations.md). Can be slightly negative; NaN if n < 4 or a
    /// self-HSIC is not positive.
    public static func debiasedLinearCKA(_ m: PairedMoments) -> Double {
        let n = m.count
        let kl = SpaceComparison.unbiasedLinearHSIC(frobeniusCross: m.frobeniusXY, sumSquaredNormX: m.sumSquaredNormX,
                                    sumSquaredNormY: m.sumSquaredNormY, sumSquaredNormProduct: m.sumSquaredNormProduct, count: n)
        let kk = SpaceComparison.unbiasedLinearHSIC(frobeniusCross: m.frobeniusXX, sumSquaredNormX: m.sumSquaredNormX,
                                    sumSquaredNormY: m.sumSquaredNormX, sumSquaredNormProduct: m.sumFourthNormX, count: n)
        let ll = SpaceComparison.unbiasedLinearHSIC(frobeniusCross: m.frobeniusYY, sumSquaredNormX: m.sumSquaredNormY,
                                    sumSquaredNormY: m.sumSquaredNormY, sumSquaredNormProduct: m.sumFourthNormY, count: n)
        guard kk > 0, ll > 0 else { return .nan }
        return kl / (kk * ll).squareRoot()
    }

    public static func debiasedLinearCKA(_ x: Matrix, _ y: Matrix) -> Double { SpaceComparison.debiasedLinearCKA(SpaceComparison.pairedCenteredMoments(x, y)) }
}
