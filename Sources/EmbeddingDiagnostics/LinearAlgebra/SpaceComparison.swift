import COpenBLAS
import Foundation

// Reusable comparisons of two embedding spaces whose rows are paired (row i of X and row i of Y
// describe the same item). Dimensions may differ unless stated. Used by the relative-representations
// analyzer (Guides/RelativeRepresentations.md) and available to others (e.g. compat):
//
//   pairedCenteredMoments(x, y)        one streamed pass: XᵀX, YᵀY, XᵀY of the centred spaces (Float64)
//   linearCKA(x, y) / (moments)        biased linear CKA (Kornblith et al. 2019), feature space O(n·d²)
//   debiasedLinearCKA(x, y) / (moments) CKA from the unbiased HSIC of Song et al. (2012), O(n·d²)
//   orthogonalProcrustes(x, y) / (moments) rotation + scale + SciPy-style disparity (equal dims)
//   knnJaccard(a, b) / knnOverlap(a, b) per-row Jaccard / mutual-k-NN overlap of neighbour lists
//   trueMatchRanks(queries:gallery:trueIndices:) rank of each query's paired gallery row (retrieval)

/// Second moments of two paired spaces after centring each by its column mean, accumulated in
/// Float64 (one streamed pass over row blocks; DSYRK on the concatenated block [X_c | Y_c]).
/// Memory O(block·(dx+dy) + (dx+dy)²); the n × n Gram matrices are never formed.
public struct PairedMoments: Sendable {
    public var count: Int
    public var xDimension: Int
    public var yDimension: Int
    /// X_cᵀX_c, dx × dx, row-major.
    public var xx: [Double]
    /// Y_cᵀY_c, dy × dy.
    public var yy: [Double]
    /// X_cᵀY_c, dx × dy.
    public var xy: [Double]
    /// Σ_i ‖x_i‖², Σ_i ‖y_i‖² (centred rows).
    public var sumSquaredNormX: Double
    public var sumSquaredNormY: Double
    /// Σ_i ‖x_i‖⁴, Σ_i ‖y_i‖⁴, Σ_i ‖x_i‖²‖y_i‖² (centred rows): the diagonal terms the unbiased
    /// HSIC removes.
    public var sumFourthNormX: Double
    public var sumFourthNormY: Double
    public var sumSquaredNormProduct: Double

    /// ‖X_cᵀX_c‖_F², ‖Y_cᵀY_c‖_F², ‖X_cᵀY_c‖_F².
    public var frobeniusXX: Double { xx.reduce(0) { $0 + $1 * $1 } }
    public var frobeniusYY: Double { yy.reduce(0) { $0 + $1 * $1 } }
    public var frobeniusXY: Double { xy.reduce(0) { $0 + $1 * $1 } }
}

/// XᵀX, YᵀY and XᵀY of the column-centred spaces, plus the row-norm sums the unbiased HSIC needs.
/// X and Y must have the same number of rows (paired).
public func pairedCenteredMoments(_ x: Matrix, _ y: Matrix) -> PairedMoments {
    precondition(x.rows == y.rows, "pairedCenteredMoments: row counts differ")
    let n = x.rows, dx = x.cols, dy = y.cols, d = dx + dy
    let muX = columnMeans(x), muY = columnMeans(y)
    var acc = [Double](repeating: 0, count: d * d)
    let blockRows = max(1, min(n, blockRowsFor(cols: 2 * d)))
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
public func linearCKA(_ m: PairedMoments) -> Double {
    let den = (m.frobeniusXX * m.frobeniusYY).squareRoot()
    return den > 0 ? m.frobeniusXY / den : .nan
}

public func linearCKA(_ x: Matrix, _ y: Matrix) -> Double { linearCKA(pairedCenteredMoments(x, y)) }

/// Unbiased HSIC (Song et al. 2012, eq. 5) for linear kernels K = XXᵀ, L = YYᵀ from feature-space
/// sums (X, Y centred, so Σx_i = 0):
///   tr(K̃L̃) = ‖XᵀY‖_F² − Σ‖x_i‖²‖y_i‖²,  1ᵀK̃1 = −Σ‖x_i‖²,  1ᵀK̃L̃1 = Σ‖x_i‖²‖y_i‖²,
///   HSIC₁ = [tr(K̃L̃) + 1ᵀK̃1·1ᵀL̃1/((n−1)(n−2)) − 2/(n−2)·1ᵀK̃L̃1] / (n(n−3)).
/// (The estimator is invariant to shifting X or Y, so centring first only helps the rounding.)
public func unbiasedLinearHSIC(frobeniusCross: Double, sumSquaredNormX: Double, sumSquaredNormY: Double,
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
public func debiasedLinearCKA(_ m: PairedMoments) -> Double {
    let n = m.count
    let kl = unbiasedLinearHSIC(frobeniusCross: m.frobeniusXY, sumSquaredNormX: m.sumSquaredNormX,
                                sumSquaredNormY: m.sumSquaredNormY, sumSquaredNormProduct: m.sumSquaredNormProduct, count: n)
    let kk = unbiasedLinearHSIC(frobeniusCross: m.frobeniusXX, sumSquaredNormX: m.sumSquaredNormX,
                                sumSquaredNormY: m.sumSquaredNormX, sumSquaredNormProduct: m.sumFourthNormX, count: n)
    let ll = unbiasedLinearHSIC(frobeniusCross: m.frobeniusYY, sumSquaredNormX: m.sumSquaredNormY,
                                sumSquaredNormY: m.sumSquaredNormY, sumSquaredNormProduct: m.sumFourthNormY, count: n)
    guard kk > 0, ll > 0 else { return .nan }
    return kl / (kk * ll).squareRoot()
}

public func debiasedLinearCKA(_ x: Matrix, _ y: Matrix) -> Double { debiasedLinearCKA(pairedCenteredMoments(x, y)) }

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

public func orthogonalProcrustes(_ m: PairedMoments, meanX: [Double] = [], meanY: [Double] = []) throws -> OrthogonalProcrustes {
    guard m.xDimension == m.yDimension else {
        throw EmbdiagError.usage("Procrustes needs equal dimensions (got \(m.xDimension) and \(m.yDimension))")
    }
    let d = m.xDimension
    let normX = m.sumSquaredNormX.squareRoot(), normY = m.sumSquaredNormY.squareRoot()
    guard normX > 0, normY > 0 else { throw EmbdiagError.invalid("<procrustes>", "a space has zero variance") }
    let scaled = m.xy.map { $0 / (normX * normY) }
    let svd = try singularValueDecomposition(scaled, rows: d, cols: d)
    let r = svd.rank
    // R = U Vᵀ (u: d × r, vt: r × d).
    let rotation = matmul(svd.u, rows: d, inner: r, svd.vt, cols: d)
    let nuclear = svd.singularValues.reduce(0, +)
    return OrthogonalProcrustes(dimension: d, rotation: rotation, scale: nuclear * normY / normX,
                                disparity: max(0, 1 - nuclear * nuclear), columnMeansX: meanX, columnMeansY: meanY)
}

public func orthogonalProcrustes(_ x: Matrix, _ y: Matrix) throws -> OrthogonalProcrustes {
    try orthogonalProcrustes(pairedCenteredMoments(x, y), meanX: columnMeans(x), meanY: columnMeans(y))
}

/// Per-query Jaccard |A ∩ B| / |A ∪ B| of two neighbour lists of the same queries (k may differ;
/// -1 entries are ignored). Row indices must refer to the same items in both lists.
public func knnJaccard(_ a: NearestNeighbors, _ b: NearestNeighbors) -> [Double] {
    precondition(a.queryCount == b.queryCount, "knnJaccard: query counts differ")
    return (0..<a.queryCount).map { q in
        let sa = Set(a.neighbors(of: q).filter { $0 >= 0 }), sb = Set(b.neighbors(of: q).filter { $0 >= 0 })
        let union = sa.union(sb).count
        return union == 0 ? 0 : Double(sa.intersection(sb).count) / Double(union)
    }
}

/// Per-query mutual k-NN overlap |A ∩ B| / k (Huh et al. 2024, "The Platonic Representation
/// Hypothesis", mutual nearest-neighbour alignment metric). Same k on both sides.
public func knnOverlap(_ a: NearestNeighbors, _ b: NearestNeighbors) -> [Double] {
    precondition(a.queryCount == b.queryCount && a.k == b.k, "knnOverlap: shapes differ")
    return (0..<a.queryCount).map { q in
        let sa = Set(a.neighbors(of: q).filter { $0 >= 0 })
        return Double(b.neighbors(of: q).filter { $0 >= 0 && sa.contains($0) }.count) / Double(a.k)
    }
}

/// k nearest neighbours (inner product) of the gallery rows listed in `rows`, among all gallery
/// rows except the query row itself. Use unit rows for cosine.
public func nearestNeighbors(ofRows rows: [Int], in gallery: Matrix, k: Int, scale: [Double]? = nil) -> NearestNeighbors {
    let kk = min(k, gallery.rows - 1)
    let raw = nearestNeighbors(queries: gallery.gather(rows: rows), gallery: gallery, k: kk + 1,
                               queryScale: scale.map { s in rows.map { s[$0] } }, galleryScale: scale)
    var indices = [Int32](), scores = [Float]()
    indices.reserveCapacity(rows.count * kk); scores.reserveCapacity(rows.count * kk)
    for (q, row) in rows.enumerated() {
        var taken = 0
        for (i, s) in zip(raw.neighbors(of: q), raw.scores(of: q)) where taken < kk && i != Int32(row) {
            indices.append(i); scores.append(s); taken += 1
        }
        while taken < kk { indices.append(-1); scores.append(-.infinity); taken += 1 }
    }
    return NearestNeighbors(k: kk, indices: indices, scores: scores)
}

/// For each query q, the 1-based rank of gallery row `trueIndices[q]` among all gallery rows by
/// inner product with query q (use unit rows for cosine): 1 + #{j : s_qj > s_q,t} + #{j < t : s_qj
/// = s_q,t} — exact ties go to the smaller index, as in `nearestNeighbors`, and comparisons closer
/// than the GEMM's error bound are decided in Float64 (`ExactScores`), so the ranks are the same on
/// every CPU. Blocked GEMM; the q × n score matrix is never stored whole. Cross-space retrieval.
///
/// - Complexity: O(q·n·d).
public func trueMatchRanks(queries: Matrix, gallery: Matrix, trueIndices: [Int]) -> [Int] {
    precondition(queries.rows == trueIndices.count && queries.cols == gallery.cols)
    // The `.index` case of `retrievalRanks` with ties broken by index instead of averaged.
    var ranks = [Int](repeating: 0, count: queries.rows)
    let scores = ExactScores(queries: queries, gallery: gallery)
    ranks.withUnsafeMutableBufferPointer { out in
        let outBase = out.baseAddress!
        forEachScoreBlock(queries: queries, gallery: gallery) { rows, tiles in
            var count = [TargetRankCount](repeating: TargetRankCount(), count: rows.count)
            let target = rows.map { scores.exact($0, trueIndices[$0]) }
            let cuts = target.map { scores.screeningCuts(around: $0) }
            tiles.forEach { columns, tile in
                for r in 0..<rows.count {
                    let q = rows.lowerBound + r
                    scores.countAgainstTarget(tile + r * columns.count, columns: columns, query: q, target: trueIndices[q],
                                              targetScore: target[r], cuts: cuts[r], excluded: -1, into: &count[r])
                }
            }
            for r in 0..<rows.count { outBase[rows.lowerBound + r] = count[r].better + count[r].equalBefore + 1 }
        }
    }
    return ranks
}
