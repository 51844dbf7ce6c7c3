import Foundation

/// MAUVE (Pillutla, Swayamdipta, Zellers, Thickstun, Welleck, Choi & Harchaoui, NeurIPS 2021) of an
/// OTHER corpus against the reference, computed from the embeddings as the reference package
/// `mauve-text` 0.4.0 computes it from features (`compute_mauve(p_features=REF, q_features=OTHER)`
/// with its defaults): rows L2-normalised; PCA of the pooled rows [OTHER; REF] keeping the leading
/// components that explain 90 % of the variance; k-means with k = max(2, round(min(m, n)/10))
/// clusters (5 restarts, the lowest objective kept); the two cluster histograms P (REF) and Q
/// (OTHER); the divergence curve over 25 mixtures R_λ = λP + (1 − λ)Q, λ ∈ linspace(10⁻⁶, 1 − 10⁻⁶),
/// points (exp(−c·KL(Q‖R_λ)), exp(−c·KL(P‖R_λ))) plus the two end points, c = 5; MAUVE = the area
/// under it (the mean of the trapezoid areas along each axis, as the package computes it).
/// 1 = indistinguishable, near 0 = very different. `mauveStar` is the same on Krichevsky–Trofimov
/// smoothed histograms (counts + ½; Pillutla et al., JMLR 2023) and `frontierIntegral` the
/// package's frontier integral (0 = identical). Guide: Guides/Shift.md.
///
/// The k-means is embdiag's own (seeded Lloyd, `kMeansClusters`), not faiss's, so the clusters and
/// hence MAUVE differ from the package's by the k-means randomness (the package itself moves with
/// its seed; measured spread in Guides/Shift.md); from identical histograms the numbers agree to
/// rounding (`mauve(referenceHistogram:otherHistogram:)`).
public struct MauveResult: Sendable, Equatable {
    public internal(set) var mauve: Double
    public internal(set) var mauveStar: Double
    public internal(set) var frontierIntegral: Double
    public internal(set) var frontierIntegralStar: Double
    /// k, the number of clusters (histogram bins).
    public internal(set) var buckets: Int
    /// PCA components kept (90 % of the variance); 0 when the histograms were given.
    public internal(set) var components: Int
    /// Cluster shares of REF (P) and OTHER (Q).
    public internal(set) var referenceHistogram: [Double]
    public internal(set) var otherHistogram: [Double]
    /// The divergence curve's points (x: exp(−c·KL(Q‖R)), y: exp(−c·KL(P‖R))), end points included.
    public internal(set) var curveX: [Double]
    public internal(set) var curveY: [Double]
    /// The k-means objective (sum of squared distances to the centroids) of the kept restart.
    public internal(set) var kMeansObjective: Double
}

/// The package's defaults.
public enum MauveDefaults {
    public static let explainedVariance = 0.9
    public static let restarts = 5
    public static let iterations = 500
    public static let curvePoints = 25
    public static let scalingFactor = 5.0
    /// k = max(2, round(min(m, n)/10)), Python's round (half to even).
    public static func buckets(_ m: Int, _ n: Int) -> Int {
        max(2, Int((Double(min(m, n)) / 10).rounded(.toNearestOrEven)))
    }
}

/// MAUVE from the rows of both corpora (see `MauveResult`).
/// - Complexity: O(N·d² + d³) for the PCA, O(restarts·iterations·N·k·d′) for k-means (GEMM), N = m + n.
public func mauve(reference: Matrix, other: Matrix, buckets: Int? = nil, seed: UInt64 = 25) throws -> MauveResult {
    precondition(reference.cols == other.cols && reference.rows > 0 && other.rows > 0)
    let m = reference.rows, n = other.rows, d = reference.cols
    // [OTHER; REF], as the package stacks [q; p], rows L2-normalised.
    let pooled = Matrix(rows: m + n, cols: d)
    let o = Matrix.normalizedRows(other), r = Matrix.normalizedRows(reference)
    pooled.mutablePointer.update(from: o.pointer, count: n * d)
    (pooled.mutablePointer + n * d).update(from: r.pointer, count: m * d)
    // PCA: eigenvectors of the covariance, descending; keep the first j with cumulative ratio ≥ 0.9.
    let mean = Matrix.columnMeans(pooled)
    let eigen = try LAPACK.symmetricEigen(Matrix.covariance(pooled, ddof: 1, mean: mean), dimension: d)
    let positive = eigen.values.map { max(0, $0) }
    let total = positive.reduce(0, +)
    var kept = d, cumulative = 0.0
    if total > 0 {
        for (i, v) in positive.enumerated() {
            cumulative += v / total
            if cumulative >= MauveDefaults.explainedVariance { kept = i + 1; break }
        }
    } else {
        kept = 1
    }
    // A cut inside a cluster of (nearly) equal eigenvalues would keep LAPACK's arbitrary part of
    // their span (k-means, and so MAUVE, would change with the BLAS kernel): keep the cluster
    // whole. k-means on the projection depends only on distances, which any basis of the kept
    // span preserves.
    if let cluster = EigenClusters.split(eigen.values, keeping: kept) { kept = cluster.upperBound }
    let projection = Matrix(rows: d, cols: kept)
    for t in 0..<d { for j in 0..<kept { projection.mutablePointer[t * kept + j] = Float(eigen.vectors[j * d + t]) } }
    let centred = pooled.copy()
    let cp = centred.mutablePointer
    for i in 0..<(m + n) { for t in 0..<d { cp[i * d + t] = Float(Double(cp[i * d + t]) - mean[t]) } }
    let reduced = BLAS.matmul(centred, projection)
    let k = buckets ?? MauveDefaults.buckets(m, n)
    let clusters = kMeansClusters(reduced, k: k, restarts: MauveDefaults.restarts, iterations: MauveDefaults.iterations, seed: seed)
    var p = [Double](repeating: 0, count: k), q = [Double](repeating: 0, count: k)
    for i in 0..<n { q[clusters.labels[i]] += 1 }
    for i in 0..<m { p[clusters.labels[n + i]] += 1 }
    var result = mauve(referenceCounts: p, otherCounts: q)
    result.components = kept
    result.kMeansObjective = clusters.objective
    return result
}

/// MAUVE from the cluster counts of REF (P) and OTHER (Q) — the part of the package after the
/// quantisation, in Float64 exactly as `get_divergence_curve_for_multinomials`, `sklearn.metrics.auc`
/// and `get_fronter_integral` compute it.
/// - Complexity: O(points · k).
public func mauve(referenceCounts: [Double], otherCounts: [Double]) -> MauveResult {
    precondition(referenceCounts.count == otherCounts.count && !referenceCounts.isEmpty)
    func normalise(_ a: [Double]) -> [Double] { let s = a.reduce(0, +); return a.map { $0 / s } }
    let p = normalise(referenceCounts), q = normalise(otherCounts)
    let ps = normalise(referenceCounts.map { $0 + 0.5 }), qs = normalise(otherCounts.map { $0 + 0.5 })
    let (score, x, y) = mauveScore(p, q)
    let (star, _, _) = mauveScore(ps, qs)
    return MauveResult(mauve: score, mauveStar: star, frontierIntegral: frontierIntegral(p, q), frontierIntegralStar: frontierIntegral(ps, qs),
                       buckets: p.count, components: 0, referenceHistogram: p, otherHistogram: q, curveX: x, curveY: y, kMeansObjective: .nan)
}

/// KL(a‖b) of two histograms: ∞ when a has mass where b has none; terms with a_i = 0 are 0.
func klMultinomial(_ a: [Double], _ b: [Double]) -> Double {
    var s = 0.0
    for i in a.indices {
        if a[i] != 0 && b[i] == 0 { return .infinity }
        if a[i] != 0 && b[i] != 0 { s += a[i] * Foundation.log(a[i] / b[i]) }
    }
    return s
}

/// The divergence curve and its area, as the package computes them.
func mauveScore(_ p: [Double], _ q: [Double]) -> (Double, [Double], [Double]) {
    let c = MauveDefaults.scalingFactor, count = MauveDefaults.curvePoints
    var xs = [0.0], ys = [Double.infinity]  // the end point (0, ∞) before exp(−c·)
    for i in 0..<count {
        // numpy.linspace(1e-6, 1 - 1e-6, 25): start + i·step, the last point exactly the stop.
        let start = 1e-6, stop = 1 - 1e-6
        let w = i == count - 1 ? stop : start + Double(i) * ((stop - start) / Double(count - 1))
        let r = p.indices.map { w * p[$0] + (1 - w) * q[$0] }
        xs.append(klMultinomial(q, r))
        ys.append(klMultinomial(p, r))
    }
    xs.append(.infinity)
    ys.append(0)
    let x = xs.map { Foundation.exp(-c * $0) }, y = ys.map { Foundation.exp(-c * $0) }
    return (0.5 * (trapezoidArea(x, y) + trapezoidArea(y, x)), x, y)
}

/// sklearn.metrics.auc after numpy's argsort of x: the trapezoid area of (x, y) with the points
/// ordered by x. Ties in x (numpy's quicksort leaves their order unspecified) are ordered by y
/// descending — the curve's own monotone order, which gives MAUVE = 1 for identical histograms
/// as the package does — then by position.
func trapezoidArea(_ x: [Double], _ y: [Double]) -> Double {
    let order = x.indices.sorted { x[$0] < x[$1] || (x[$0] == x[$1] && (y[$0] > y[$1] || (y[$0] == y[$1] && $0 < $1))) }
    var area = 0.0
    for j in 1..<order.count {
        let a = order[j - 1], b = order[j]
        area += (x[b] - x[a]) * (y[a] + y[b]) / 2
    }
    return area
}

/// The package's `get_fronter_integral` (scaling factor 2).
func frontierIntegral(_ p: [Double], _ q: [Double]) -> Double {
    var total = 0.0
    for (a, b) in zip(p, q) {
        if a == 0 && b == 0 { continue }
        if a == 0 { total += b / 4 } else if b == 0 { total += a / 4 } else if abs(a - b) > 1e-8 {
            total += 0.25 * (a + b) - 0.5 * (a * b * (Foundation.log(a) - Foundation.log(b)) / (a - b))
        }
    }
    return total * 2
}
