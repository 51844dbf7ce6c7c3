import COpenBLAS
import Foundation

extension Matrix {
    /// Euclidean norm of every row, accumulated in Float64.
    public static func rowNorms(_ m: Matrix) -> [Double] {
        var norms = [Double](repeating: 0, count: m.rows)
        let d = m.cols
        let base = m.pointer
        norms.withUnsafeMutableBufferPointer { out in
            let outBase = out.baseAddress!
            parallelChunks(m.rows, minimumChunk: 4096) { range in
                for i in range {
                    outBase[i] = squaredNorm(UnsafeRawPointer(base + i * d), count: d).squareRoot()
                }
            }
        }
        return norms
    }

    /// A copy with every row scaled to unit length. Zero rows stay zero (callers validate first).
    public static func normalizedRows(_ m: Matrix) -> Matrix {
        let out = m.copy()
        Matrix.normalizeRowsInPlace(out)
        return out
    }

    /// Scales every row of a writable matrix to unit length; zero rows stay zero.
    public static func normalizeRowsInPlace(_ m: Matrix) {
        let norms = Matrix.rowNorms(m)
        let d = m.cols
        let base = m.mutablePointer
        parallelChunks(m.rows, minimumChunk: 4096) { range in
            for i in range where norms[i] > 0 {
                cblas_sscal(Int32(d), Float(1 / norms[i]), base + i * d, 1)
            }
        }
    }
}
