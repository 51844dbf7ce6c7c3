import COpenBLAS
import Foundation

/// XᵀX of a Float32 matrix in Float64: each row block is widened to Float64 (products of two
/// Float32 values are exact in Float64) and accumulated by DSYRK into one Float64 d × d matrix,
/// blocks in row order. The sum a partial state carries for anisotropy (Guides/Scale.md): shards'
/// Gram matrices add up to the whole input's to Float64 rounding (≈1e-15 relative), which a
/// Float32 SSYRK could not promise.
///
/// - Complexity: O(n·d²) flops in DSYRK, O(blockRows·d) extra memory plus the d × d result.
public func float64Gram(_ m: Matrix) -> [Double] {
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
        for t in 0..<count { wide[t] = Double(src[t]) }
        cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, Int32(d), Int32(end - start), 1, wide, Int32(d), 1, &acc, Int32(d))
        start = end
    }
    for i in 0..<d { for j in (i + 1)..<max(i + 1, d) { acc[j * d + i] = acc[i * d + j] } }
    return acc
}
