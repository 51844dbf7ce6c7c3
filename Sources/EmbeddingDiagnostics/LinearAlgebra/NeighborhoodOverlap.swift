import COpenBLAS
import Foundation

/// k nearest neighbours (inner product) of the gallery rows listed in `rows`, among all gallery
/// rows except the query row itself. Use unit rows for cosine.
public func nearestNeighbors(ofRows rows: [Int], in gallery: Matrix, k: Int, scale: [Double]? = nil,
                             cosines: CosineRows? = nil) -> NearestNeighbors {
    let kk = min(k, gallery.rows - 1)
    let raw = nearestNeighbors(queries: gallery.gather(rows: rows), gallery: gallery, k: kk + 1,
                               queryScale: scale.map { s in rows.map { s[$0] } }, galleryScale: scale,
                               cosines: cosines.map { ($0.gather(rows: rows), $0) })
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

extension SpaceComparison {
    /// Per-query Jaccard |A ∩ B| / |A ∪ B| of two neighbour lists of the same queries (k may differ;
    /// -1 entries are ignored). Row indices must refer to the same items in both lists.
    public static func knnJaccard(_ a: NearestNeighbors, _ b: NearestNeighbors) -> [Double] {
        precondition(a.queryCount == b.queryCount, "knnJaccard: query counts differ")
        return (0..<a.queryCount).map { q in
            let sa = Set(a.neighbors(of: q).filter { $0 >= 0 }), sb = Set(b.neighbors(of: q).filter { $0 >= 0 })
            let union = sa.union(sb).count
            return union == 0 ? 0 : Double(sa.intersection(sb).count) / Double(union)
        }
    }

    /// Per-query mutual k-NN overlap |A ∩ B| / k (Huh et al. 2024, "The Platonic Representation
    /// Hypothesis", mutual nearest-neighbour alignment metric). Same k on both sides.
    public static func knnOverlap(_ a: NearestNeighbors, _ b: NearestNeighbors) -> [Double] {
        precondition(a.queryCount == b.queryCount && a.k == b.k, "knnOverlap: shapes differ")
        return (0..<a.queryCount).map { q in
            let sa = Set(a.neighbors(of: q).filter { $0 >= 0 })
            return Double(b.neighbors(of: q).filter { $0 >= 0 && sa.contains($0) }.count) / Double(a.k)
        }
    }
}
