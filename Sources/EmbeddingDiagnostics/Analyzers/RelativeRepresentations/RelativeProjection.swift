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

/// Chooses `count` distinct anchor rows of `space` (row indices, in the order chosen; sorted for
/// `random`). Deterministic for a given seed. Distances are cosine (rows normalised internally).
public func selectAnchors(_ space: Matrix, count: Int, strategy: AnchorStrategy, seed: UInt64) throws -> [Int] {
    let n = space.rows
    guard count >= 1, count <= n else {
        throw EmbdiagError.usage("\(Setting.anchors) must be between 1 and the number of rows (\(n)); got \(count)")
    }
    var rng = SeededGenerator(seed: seed)
    switch strategy {
    case .random:
        return rng.sampleIndices(n, count: count)
    case .farthest, .kmeansPlusPlus:
        let unit = normalizedRows(space)
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

/// The relative projection of Moschella et al. (ICLR 2023): r(x) = [cos(x − μ, a_j − μ)]_{j=1..N},
/// where a_j are anchor rows of the same space and μ is the anchor mean when centring is on
/// (latentis `RelativeProjection(cosine, abs_transform=Centering())`: Centering fitted on the
/// anchors) and 0 otherwise. Invariant to rotations and positive rescaling of the space; with
/// centring also to translations.
public struct RelativeProjection: Sendable {
    public var anchorRows: [Int]
    public var centering: Bool
    /// Anchor mean subtracted before the cosine (zeros without centring), length d.
    public var shift: [Float]
    /// Centred (if enabled) and L2-normalised anchors, N × d.
    public var unitAnchors: Matrix

    public var anchorCount: Int { anchorRows.count }

    /// Fits the projection on `anchorRows` of `space`.
    public init(space: Matrix, anchorRows: [Int], centering: Bool) {
        self.anchorRows = anchorRows
        self.centering = centering
        let anchors = space.gather(rows: anchorRows)
        if centering {
            shift = columnMeans(anchors).map { Float($0) }
        } else {
            shift = [Float](repeating: 0, count: space.cols)
        }
        unitAnchors = Self.centredUnitRows(anchors, shift: shift)
    }

    /// x − shift, then L2-normalised (zero rows stay zero, like torch's F.normalize).
    static func centredUnitRows(_ m: Matrix, shift: [Float]) -> Matrix {
        let out = Matrix(rows: m.rows, cols: m.cols)
        let d = m.cols
        let src = m.pointer, dst = out.mutablePointer
        let anyShift = shift.contains { $0 != 0 }
        parallelChunks(m.rows, minimumChunk: 2048) { range in
            for i in range {
                let s = src + i * d, t = dst + i * d
                var ss = 0.0
                for j in 0..<d {
                    let v = anyShift ? s[j] - shift[j] : s[j]
                    t[j] = v
                    ss += Double(v) * Double(v)
                }
                let inv = ss > 0 ? Float(1 / ss.squareRoot()) : 0
                for j in 0..<d { t[j] *= inv }
            }
        }
        return out
    }

    /// The relative matrix of rows that are already L2-normalised (no centring: one GEMM, no copy).
    public func projectUnitRows(_ unit: Matrix) -> Matrix {
        precondition(!centering, "projectUnitRows: centring needs the raw rows")
        return matmul(unit, unitAnchors, transposeB: true)
    }

    /// The n × N relative matrix of the rows of `m` (same space the projection was fitted on, or a
    /// space of the same dimension whose rows correspond). Row blocks: centre + normalise, then GEMM.
    public func project(_ m: Matrix) -> Matrix {
        precondition(m.cols == unitAnchors.cols, "project: dimension differs from the anchors'")
        let out = Matrix(rows: m.rows, cols: anchorCount)
        let block = max(1, blockRowsFor(cols: m.cols))
        var start = 0
        while start < m.rows {
            let end = min(m.rows, start + block)
            let unit = Self.centredUnitRows(m.rows(start..<end), shift: shift)
            gemm(unit, unitAnchors, transposeB: true, into: out.rows(start..<end))
            start = end
        }
        return out
    }
}
