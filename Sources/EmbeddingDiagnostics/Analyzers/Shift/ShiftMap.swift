import Foundation

/// A 2-D picture of REF and a comparison set: both projected on the first two principal
/// components of their pooled unit rows, with REF's cluster centres projected the same way.
/// Guide: Guides/Shift.md ("The map").
///
/// Why PCA: it is deterministic (no random initialisation, no stochastic optimisation), costs one
/// d × d covariance, and a window's or a reference's coordinates mean the same axes. A
/// neighbour-embedding (t-SNE, UMAP) keeps local neighbourhoods better, but needs seeded
/// stochastic optimisation over k-NN graphs whose float noise across BLAS kernels moves every
/// point; embdiag does not draw one. The map is for orientation: the tests, the clusters and the
/// new-region rows are computed in the full space, never on the projection.
public struct ShiftMap: Sendable {
    /// Projected REF rows and comparison-set rows (x = component 1, y = component 2).
    public internal(set) var referenceX: [Double], referenceY: [Double]
    public internal(set) var otherX: [Double], otherY: [Double]
    /// Projected cluster centroids, in cluster order.
    public internal(set) var centreX: [Double], centreY: [Double]
    /// Share of the pooled variance along each axis.
    public internal(set) var explainedVariance: [Double]
    /// Smallest relative gap between the variances of components 1, 2 and 3 ((λ_i − λ_{i+1}) / λ_i): below
    /// 10⁻³ an axis is not well defined (a rotation within the near-degenerate pair is as principal),
    /// so the picture may differ between BLAS kernels; the caption says so.
    public internal(set) var smallestEigenGap: Double

    /// - Parameters: unit-normalised rows of REF and of the comparison set; the REF centroids (or an empty matrix).
    /// - Complexity: O((m + n)·d²) for the covariance (SSYRK), O(d³) for the eigendecomposition,
    ///   O((m + n + k)·d) for the projection (fixed-order Float64 dot products).
    public init(referenceUnit r: Matrix, otherUnit o: Matrix, centroids: Matrix?) throws {
        let m = r.rows, n = o.rows, d = r.cols
        precondition(o.cols == d && m + n >= 1)
        let pooled = Matrix(rows: m + n, cols: d)
        pooled.mutablePointer.update(from: r.pointer, count: m * d)
        (pooled.mutablePointer + m * d).update(from: o.pointer, count: n * d)
        let mean = Matrix.columnMeans(pooled)
        let eigen = try LAPACK.symmetricEigen(Matrix.covariance(pooled, ddof: 0, mean: mean), dimension: d)
        let total = eigen.values.reduce(0) { $0 + max(0, $1) }
        // Axes: components 1 and 2 (a 1-dimensional space has only one: y = 0). Sign rule: the
        // loading of largest magnitude is positive (ties: the first), so the picture does not
        // flip with LAPACK's arbitrary eigenvector sign.
        var axes: [[Double]] = []
        for k in 0..<min(2, d) {
            var v = eigen.vector(k)
            var big = 0
            for t in 1..<max(1, d) where abs(v[t]) > abs(v[big]) { big = t }
            if v[big] < 0 { v = v.map { -$0 } }
            axes.append(v)
        }
        var gap = Double.infinity
        for i in 0..<min(2, d - 1) where eigen.values[i] > 0 { gap = min(gap, (eigen.values[i] - eigen.values[i + 1]) / eigen.values[i]) }
        smallestEigenGap = gap
        explainedVariance = (0..<axes.count).map { total > 0 ? max(0, eigen.values[$0]) / total : 0 }
        func project(_ x: Matrix) -> ([Double], [Double]) {
            var xs = [Double](repeating: 0, count: x.rows), ys = [Double](repeating: 0, count: x.rows)
            for i in 0..<x.rows {
                let row = x.pointer + i * d
                var sx = 0.0, sy = 0.0
                // Fixed order, Float64: the same coordinates for the same axes on every machine.
                for t in 0..<d {
                    let c = Double(row[t]) - mean[t]
                    sx += c * axes[0][t]
                    if axes.count > 1 { sy += c * axes[1][t] }
                }
                xs[i] = sx
                ys[i] = sy
            }
            return (xs, ys)
        }
        (referenceX, referenceY) = project(r)
        (otherX, otherY) = project(o)
        if let c = centroids, c.rows > 0 { (centreX, centreY) = project(c) } else { centreX = []; centreY = [] }
    }
}
