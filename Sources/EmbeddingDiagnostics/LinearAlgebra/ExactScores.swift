import Foundation

/// Inner-product scores that every CPU, OpenBLAS kernel and thread count agrees on.
///
/// Rankings are computed from a Float32 GEMM (fast, but its last bits depend on the kernel's
/// summation order) and *decided* in Float64: whenever two screened scores are closer than the
/// GEMM's worst-case error, both are recomputed as Float64 dot products with a fixed summation
/// order, and the comparison uses those. The result of every comparison is therefore the result
/// for the Float64 scores, whatever the kernel. Guide: Guides/Architecture.md, "Determinism".
///
/// The score of query row q and gallery row j is `(qᵀg_j) · queryScale[q] · galleryScale[j]`
/// (scales default to 1): unit rows give cosines; integer codes (int8 / ±1) with scales
/// 1/‖code‖ give cosines whose dot products are exact integers, so equal codes tie exactly.
///
/// Error bound: any summation order of a d-term Float32 dot product is within d·u·Σ|x_t y_t| ≤
/// d·u·‖x‖‖y‖ of the exact value (u = 2⁻²⁴; Higham, *Accuracy and Stability*, §3.1). `tolerance`
/// is that bound (×1.01, plus Float64 slack) in score units, from the largest scaled row norms.
///
/// `cosines`: the rows as given (before normalisation) of the queries and the gallery. The Float64
/// score is then `exactCosine` of those rows, not the dot product of the screened rows, so exact
/// cosines of integer-valued rows and of d = 1 rows tie exactly; `tolerance` adds
/// `CosineRows.normalisationError`, the distance between a dot product of Float32 unit rows and
/// that cosine.
public struct ExactScores: @unchecked Sendable {
    public let queries: Matrix
    public let gallery: Matrix
    public let queryScale: [Double]?
    public let galleryScale: [Double]?
    public let cosines: (queries: CosineRows, gallery: CosineRows)?
    /// Upper bound on |screened − exact| for every pair.
    public let tolerance: Double

    /// - Complexity: O((q + n)·d) for the row norms that bound the error.
    public init(queries: Matrix, gallery: Matrix, queryScale: [Double]? = nil, galleryScale: [Double]? = nil,
                cosines: (queries: CosineRows, gallery: CosineRows)? = nil) {
        precondition(queries.cols == gallery.cols, "ExactScores: dimensions differ")
        precondition(cosines == nil || (cosines!.queries.rows.rows == queries.rows && cosines!.gallery.rows.rows == gallery.rows
                                         && cosines!.queries.rows.cols == queries.cols && cosines!.gallery.rows.cols == gallery.cols),
                     "ExactScores: the cosine rows are the screened rows as given")
        self.cosines = cosines
        precondition(queryScale == nil || queryScale!.count == queries.rows)
        precondition(galleryScale == nil || galleryScale!.count == gallery.rows)
        self.queries = queries
        self.gallery = gallery
        self.queryScale = queryScale
        self.galleryScale = galleryScale
        func largestScaledNorm(_ m: Matrix, _ scale: [Double]?) -> Double {
            let norms = Matrix.rowNorms(m)
            var top = 0.0
            for i in 0..<norms.count { top = max(top, norms[i] * abs(scale?[i] ?? 1)) }
            return top
        }
        let d = Double(queries.cols)
        tolerance = (1.01 * d * 0x1p-24 + 0x1p-40) * largestScaledNorm(queries, queryScale) * largestScaledNorm(gallery, galleryScale)
            + (cosines == nil ? 0 : CosineRows.normalisationError)
    }

    /// The Float64 score of (q, j): a fixed-order dot product (eight Float64 lanes, then their
    /// sum), the same on every machine; exact for integer-valued rows. With `cosines`, the
    /// `exactCosine` of the rows as given.
    @inline(__always)
    public func exact(_ q: Int, _ j: Int) -> Double {
        if let c = cosines { return c.queries.cosine(q, c.gallery, j) }
        let d = queries.cols
        return scaled(fixedOrderDot(UnsafeRawPointer(queries.pointer + q * d), UnsafeRawPointer(gallery.pointer + j * d), count: d), q, j)
    }

    /// A GEMM value (raw dot product of row q and row j) in score units.
    @inline(__always)
    public func screened(_ raw: Float, _ q: Int, _ j: Int) -> Double { scaled(Double(raw), q, j) }

    /// Sign of score(q, j) − `target` (a Float64 score): from the GEMM value `raw` when it is
    /// farther than `tolerance` from the target, else from the Float64 score. The one screening rule
    /// of every ranking comparison.
    @inline(__always)
    public func compare(_ raw: Float, _ q: Int, _ j: Int, to target: Double) -> Int {
        let v = screened(raw, q, j)
        if v < target - tolerance { return -1 }
        if v > target + tolerance { return 1 }
        let e = exact(q, j)
        return e > target ? 1 : (e == target ? 0 : -1)
    }

    @inline(__always)
    func scaled(_ dot: Double, _ q: Int, _ j: Int) -> Double {
        var s = dot
        if let a = queryScale { s *= a[q] }
        if let b = galleryScale { s *= b[j] }
        return s
    }

    /// 1/‖row‖ per row (0 for zero rows): the scales that turn integer codes into cosines.
    ///
    /// - Complexity: O(n·d).
    public static func inverseNorms(_ m: Matrix) -> [Double] {
        Matrix.rowNorms(m).map { $0 > 0 ? 1 / $0 : 0 }
    }
}
