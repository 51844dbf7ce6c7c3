import COpenBLAS
import Foundation

extension Matrix {
    /// (X − 1μᵀ)ᵀ(X − 1μᵀ) of a Float32 matrix in Float64 for a centre μ (XᵀX when μ is nil): each
    /// row block is widened to Float64 and centred there, and accumulated by DSYRK into one Float64
    /// d × d matrix, blocks in row order. With μ the shard's own mean it is the centred sum a
    /// partial anisotropy state carries (Guides/Scale.md): shards' centred sums combine into the
    /// whole input's exactly in exact arithmetic (Chan et al.'s pairwise update), and in Float64
    /// without the cancellation of XᵀX − nμμᵀ when the rows share a large offset.
    ///
    /// - Complexity: O(n·d²) flops in DSYRK, O(blockRows·d) extra memory plus the d × d result.
    public static func float64Gram(_ m: Matrix, centre: [Double]? = nil) -> [Double] {
        let n = m.rows, d = m.cols
        var acc = [Double](repeating: 0, count: d * d)
        guard n > 0, d > 0 else { return acc }
        let blockRows = max(64, min(8192, (8 << 20) / max(1, d * 8)))
        var wide = [Double](repeating: 0, count: min(blockRows, n) * d)
        var start = 0
        while start < n {
            let end = min(n, start + blockRows)
            let count = (end - start) * d
            let src = m.pointer + start * d
            if let centre {
                for r in 0..<(end - start) { for j in 0..<d { wide[r * d + j] = Double(src[r * d + j]) - centre[j] } }
            } else {
                for t in 0..<count { wide[t] = Double(src[t]) }
            }
            cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, Int32(d), Int32(end - start), 1, wide, Int32(d), 1, &acc, Int32(d))
            start = end
        }
        for i in 0..<d { for j in (i + 1)..<max(i + 1, d) { acc[j * d + i] = acc[i * d + j] } }
        return acc
    }
}
