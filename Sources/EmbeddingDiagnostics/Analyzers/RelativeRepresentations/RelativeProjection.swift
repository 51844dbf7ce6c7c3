import COpenBLAS
import Foundation

/// The relative projection of Moschella et al. (ICLR 2023): r(x) = [cos(x − μ, a_j − μ)]_{j=1..N},
/// where a_j are anchor rows of the same space and μ is the anchor mean when centring is on
/// (latentis `RelativeProjection(cosine, abs_transform=Centering())`: Centering fitted on the
/// anchors) and 0 otherwise. Invariant to rotations and positive rescaling of the space; with
/// centring also to translations.
public struct RelativeProjection: Sendable {
    public internal(set) var anchorRows: [Int]
    public internal(set) var centering: Bool
    /// Anchor mean subtracted before the cosine (zeros without centring), length d.
    public internal(set) var shift: [Float]
    /// Centred (if enabled) and L2-normalised anchors, N × d.
    public internal(set) var unitAnchors: Matrix

    public var anchorCount: Int { anchorRows.count }

    /// Fits the projection on `anchorRows` of `space`.
    public init(space: Matrix, anchorRows: [Int], centering: Bool) {
        self.anchorRows = anchorRows
        self.centering = centering
        let anchors = space.gather(rows: anchorRows)
        if centering {
            shift = Matrix.columnMeans(anchors).map { Float($0) }
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
        return BLAS.matmul(unit, unitAnchors, transposeB: true)
    }

    /// The n × N relative matrix of the rows of `m` (same space the projection was fitted on, or a
    /// space of the same dimension whose rows correspond). Row blocks: centre + normalise, then GEMM.
    public func project(_ m: Matrix) -> Matrix {
        precondition(m.cols == unitAnchors.cols, "project: dimension differs from the anchors'")
        let out = Matrix(rows: m.rows, cols: anchorCount)
        let block = max(1, Matrix.blockRowsFor(cols: m.cols))
        var start = 0
        while start < m.rows {
            let end = min(m.rows, start + block)
            let unit = Self.centredUnitRows(m.rows(start..<end), shift: shift)
            BLAS.gemm(unit, unitAnchors, transposeB: true, into: out.rows(start..<end))
            start = end
        }
        return out
    }
}
