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

    /// Scales every row of a writable matrix to unit length; zero rows stay zero. A row whose
    /// norm is below 1/Float.greatestFiniteMagnitude (≈ 2.9e-39: subnormal values) has a
    /// reciprocal Float32 cannot hold, so it is divided element by element in Float64 instead.
    public static func normalizeRowsInPlace(_ m: Matrix) {
        let norms = Matrix.rowNorms(m)
        let d = m.cols
        let base = m.mutablePointer
        let largestScale = Double(Float.greatestFiniteMagnitude)
        parallelChunks(m.rows, minimumChunk: 4096) { range in
            for i in range where norms[i] > 0 {
                let scale = 1 / norms[i]
                if scale <= largestScale {
                    cblas_sscal(Int32(d), Float(scale), base + i * d, 1)
                } else {
                    let row = base + i * d
                    for j in 0..<d { row[j] = Float(Double(row[j]) / norms[i]) }
                }
            }
        }
    }
}
