import COpenBLAS
import Foundation

/// How anchors are chosen among the rows of the reference space. Guide: Guides/RelativeRepresentations.md.
public enum AnchorStrategy: String, CaseIterable, Sendable {
    /// Uniform without replacement (latentis `Uniform`, relreps "uniform").
    case random
    /// Farthest-point sampling by cosine distance: a seeded first anchor, then repeatedly the row
    /// whose highest cosine to the chosen anchors is lowest (ties → smaller row).
    case farthest
    /// k-means++ seeding (Arthur & Vassilvitskii 2007) on unit rows: the next anchor is drawn with
    /// probability ∝ squared distance to the nearest chosen anchor, ‖u − a‖² = 2 − 2·cos.
    case kmeansPlusPlus = "kmeans++"
}

extension AnchorStrategy {
    /// Chooses `count` distinct anchor rows of `space` (row indices, in the order chosen; sorted for
    /// `random`). Deterministic for a given seed. Distances are cosine (rows normalised internally).
    public static func selectAnchors(_ space: Matrix, count: Int, strategy: AnchorStrategy, seed: UInt64) throws -> [Int] {
        let n = space.rows
        guard count >= 1, count <= n else {
            throw EmbdiagError.usage("\(Setting.anchors) must be between 1 and the number of rows (\(n)); got \(count)")
        }
        var rng = SeededGenerator(seed: seed)
        switch strategy {
        case .random:
            return rng.sampleIndices(n, count: count)
        case .farthest, .kmeansPlusPlus:
            let unit = Matrix.normalizedRows(space)
            // Highest cosine of every row to the anchors chosen so far.
            var nearest = [Float](repeating: -.infinity, count: n)
            var similarity = [Float](repeating: 0, count: n)
            var chosen: [Int] = [rng.nextIndex(n)]
            var isChosen = [Bool](repeating: false, count: n)
            isChosen[chosen[0]] = true
            while chosen.count < count {
                let a = chosen[chosen.count - 1]
                similarity.withUnsafeMutableBufferPointer { s in
                    cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(n), Int32(unit.cols), 1, unit.pointer, Int32(unit.cols),
                                unit.pointer + a * unit.cols, 1, 0, s.baseAddress!, 1)
                }
                for i in 0..<n where similarity[i] > nearest[i] { nearest[i] = similarity[i] }
                var next = -1
                if strategy == .farthest {
                    var best = Float.infinity
                    for i in 0..<n where !isChosen[i] && nearest[i] < best { best = nearest[i]; next = i }
                } else {
                    var total = 0.0
                    for i in 0..<n where !isChosen[i] { total += max(0, 2 - 2 * Double(nearest[i])) }
                    if total > 0 {
                        var target = rng.nextUniform() * total
                        for i in 0..<n where !isChosen[i] {
                            let w = max(0, 2 - 2 * Double(nearest[i]))
                            if w > 0 { next = i; target -= w; if target < 0 { break } }
                        }
                    }
                }
                if next < 0 {
                    // Every remaining row duplicates an anchor: take the first unchosen one.
                    next = isChosen.firstIndex(of: false)!
                }
                chosen.append(next)
                isChosen[next] = true
            }
            return chosen
        }
    }
}
