import COpenBLAS
import Foundation

extension Matrix {
    /// Rows per block so that one block is about 16 MB of Float32.
    public static func blockRowsFor(cols: Int, targetBytes: Int = 16 << 20) -> Int {
        max(64, min(65_536, targetBytes / max(1, cols * 4)))
    }

    /// Covariance (or, with `center: false`, the second-moment matrix XᵀX/(n − ddof)) as a d × d
    /// Float64 row-major array. Streams over row blocks: each block is centred in Float32 and its
    /// Gram matrix computed by SSYRK, then accumulated in Float64 — memory O(block · d + d²).
    /// The rows are split into a fixed number of contiguous chunks (from n and d only, not the core
    /// count); each chunk runs on one worker with single-threaded SSYRK and its own Float64 sum, and
    /// the chunk sums are added in chunk order: both cores busy in every step (centring, SSYRK,
    /// accumulation), no OpenBLAS threads spinning between calls.
    public static func covariance(_ m: Matrix, ddof: Int = 1, center: Bool = true, mean: [Double]? = nil) -> [Double] {
        let d = m.cols
        let n = m.rows
        var acc = [Double](repeating: 0, count: d * d)
        guard n > ddof, d > 0 else { return acc }
        let mu = center ? (mean ?? Matrix.columnMeans(m)) : [Double](repeating: 0, count: d)
        let muF = mu.map { Float($0) }
        let blockRows = min(Matrix.blockRowsFor(cols: d, targetBytes: 8 << 20), n)
        let blocks = (n + blockRows - 1) / blockRows
        // Chunks: at most 8, each with a d × d Float64 sum; one chunk (OpenBLAS' own threads) when d is
        // so large that the per-chunk sums would not fit in 64 MB.
        let chunks = max(1, min(8, blocks, (64 << 20) / (d * d * 8)))
        let progress = ProgressReporter.current.task("covariance", total: n, minimum: 500_000)
        defer { progress?.finish() }
        let progressLock = NSLock()
        var rowsDone = 0
        var partial = [[Double]](repeating: [], count: chunks)
        let partialLock = NSLock()
        let work = { (c: Int) in
            var sum = [Double](repeating: 0, count: d * d)
            let scratch = Matrix(rows: blockRows, cols: d)
            var gram = [Float](repeating: 0, count: d * d)
            let firstBlock = c * blocks / chunks, endBlock = (c + 1) * blocks / chunks
            for b in firstBlock..<endBlock {
                let start = b * blockRows, end = min(n, start + blockRows)
                let rowsInBlock = end - start
                let dst = scratch.mutablePointer
                let src = m.pointer + start * d
                muF.withUnsafeBufferPointer { meanBuf in
                    let mp = meanBuf.baseAddress!
                    for i in 0..<rowsInBlock {
                        let s = src + i * d, t = dst + i * d
                        for j in 0..<d { t[j] = s[j] - mp[j] }
                    }
                }
                cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, Int32(d), Int32(rowsInBlock), 1,
                            dst, Int32(d), 0, &gram, Int32(d))
                sum.withUnsafeMutableBufferPointer { out in
                    gram.withUnsafeBufferPointer { g in
                        for i in 0..<d { for j in i..<d { out[i * d + j] += Double(g[i * d + j]) } }
                    }
                }
                if let progress {
                    progressLock.lock(); rowsDone += rowsInBlock; progress.update(rowsDone); progressLock.unlock()
                }
            }
            partialLock.lock(); partial[c] = sum; partialLock.unlock()
        }
        if chunks == 1 {
            work(0)
        } else {
            BLAS.singleThreaded { DispatchQueue.concurrentPerform(iterations: chunks) { work($0) } }
        }
        for c in 0..<chunks {
            partial[c].withUnsafeBufferPointer { p in
                for i in 0..<d { for j in i..<d { acc[i * d + j] += p[i * d + j] } }
            }
        }
        // Correct for the Float32 rounding of the mean: Σ(x−μ̃)(x−μ̃)ᵀ = C + n·δδᵀ, δ = μ − μ̃.
        let denom = Double(n - ddof)
        for i in 0..<d {
            for j in i..<d {
                var v = acc[i * d + j]
                if center {
                    let di = mu[i] - Double(muF[i]), dj = mu[j] - Double(muF[j])
                    v -= Double(n) * di * dj
                }
                v /= denom
                acc[i * d + j] = v
                acc[j * d + i] = v
            }
        }
        return acc
    }
}
