import COpenBLAS
import Foundation

extension Matrix {
    /// a_{rows[p]} · b_{cols[p]} for every p: Float64 accumulation (SIMD), both cores. Used for
    /// sampled pairs (compat) and row-wise cosines of paired spaces (relrep).
    public static func pairedDotProducts(_ a: Matrix, _ rows: [Int], _ b: Matrix, _ cols: [Int]) -> [Double] {
        var out = [Double](repeating: 0, count: rows.count)
        let d = a.cols
        out.withUnsafeMutableBufferPointer { o in
            let base = o.baseAddress!
            parallelChunks(rows.count, minimumChunk: 4096) { range in
                for p in range {
                    base[p] = fixedOrderDot(UnsafeRawPointer(a.pointer + rows[p] * d), UnsafeRawPointer(b.pointer + cols[p] * d), count: d)
                }
            }
        }
        return out
    }
}
