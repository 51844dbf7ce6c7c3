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
    ///
    /// - Complexity: O(n·d²) (SSYRK) plus one read of the rows (two without `mean`).
    public static func covariance(_ m: Matrix, ddof: Int = 1, center: Bool = true, mean: [Double]? = nil) -> [Double] {
        let d = m.cols, n = m.rows
        guard n > ddof, d > 0 else { return [Double](repeating: 0, count: d * d) }
        let mu = center ? (mean ?? Matrix.columnMeans(m)) : [Double](repeating: 0, count: d)
        let shift = mu.map { Float($0) }
        let gram = shiftedGram(m, shift: shift).gram
        return covariance(shiftedGram: gram, shift: shift, mean: mu, rows: n, ddof: ddof)
    }

    /// Per-row statistics gathered during `shiftedGram`'s read of the rows: `visit(row, index,
    /// sums)` adds row `index` into `count` Float64 sums of its chunk (chunks are contiguous row
    /// ranges fixed by n and d, summed in chunk order, so the totals do not depend on the threads).
    struct RowStatistics {
        let count: Int
        let visit: (_ row: UnsafePointer<Float>, _ index: Int, _ sums: UnsafeMutablePointer<Double>) -> Void
    }

    /// Σ (x − s)(x − s)ᵀ over the rows (upper triangle filled, Float64) for a Float32 shift s, and
    /// the totals of `statistics`, in ONE read of the rows: each row is visited and centred while it
    /// is in cache, each block's Gram is a single-threaded SSYRK on one of the chunk workers.
    /// Values far from 1 (`gramScale`) are multiplied by a power of two before the Float32
    /// products, which would otherwise underflow (|x| ≲ 1e-19: a rank-one or zero covariance)
    /// or overflow, and the Float64 sums are divided by its square: exact, and the same bits as
    /// without scaling for values of ordinary size (scale 1).
    ///
    /// - Complexity: O(n·d²).
    static func shiftedGram(_ m: Matrix, shift: [Float], statistics: RowStatistics? = nil) -> (gram: [Double], statistics: [Double]) {
        let d = m.cols, n = m.rows
        let extra = statistics?.count ?? 0
        let visit = statistics?.visit  // hoisted: no retain of the optional's payload per row
        guard n > 0, d > 0 else { return ([Double](repeating: 0, count: d * d), [Double](repeating: 0, count: extra)) }
        let scale = gramScale(m)
        // s·2ᵏ is exact, and so is (x·2ᵏ − s·2ᵏ) = (x − s)·2ᵏ rounded once: scaling commutes with
        // the centring as long as the results are normal numbers, which the scale ensures.
        let scaledShift = scale == 1 ? shift : shift.map { $0 * scale }
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
        var partialStatistics = [[Double]](repeating: [], count: chunks)
        let partialLock = NSLock()
        let work = { (c: Int) in
            var sum = [Double](repeating: 0, count: d * d)
            var rowSums = [Double](repeating: 0, count: extra)
            let scratch = Matrix(rows: blockRows, cols: d)
            var gram = [Float](repeating: 0, count: d * d)
            let firstBlock = c * blocks / chunks, endBlock = (c + 1) * blocks / chunks
            for b in firstBlock..<endBlock {
                let start = b * blockRows, end = min(n, start + blockRows)
                let rowsInBlock = end - start
                let dst = scratch.mutablePointer
                let src = m.pointer + start * d
                scaledShift.withUnsafeBufferPointer { shiftBuf in
                    rowSums.withUnsafeMutableBufferPointer { statBuf in
                        let sp = shiftBuf.baseAddress!
                        for i in 0..<rowsInBlock {
                            let s = src + i * d, t = dst + i * d
                            if let visit { visit(s, start + i, statBuf.baseAddress!) }
                            if scale == 1 {
                                for j in 0..<d { t[j] = s[j] - sp[j] }
                            } else {
                                for j in 0..<d { t[j] = s[j] * scale - sp[j] }
                            }
                        }
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
            partialLock.lock(); partial[c] = sum; partialStatistics[c] = rowSums; partialLock.unlock()
        }
        if chunks == 1 {
            work(0)
        } else {
            BLAS.singleThreaded { parallelIterations(chunks, work) }
        }
        var acc = [Double](repeating: 0, count: d * d)
        var totals = [Double](repeating: 0, count: extra)
        for c in 0..<chunks {
            partial[c].withUnsafeBufferPointer { p in
                for i in 0..<d { for j in i..<d { acc[i * d + j] += p[i * d + j] } }
            }
            for t in 0..<extra { totals[t] += partialStatistics[c][t] }
        }
        if scale != 1 {
            let unscale = 1 / (Double(scale) * Double(scale))
            for i in 0..<(d * d) { acc[i] *= unscale }
        }
        return (acc, totals)
    }

    /// The power of two the rows are multiplied by before `shiftedGram`'s Float32 products: 1 when
    /// the largest |value| of up to 4,096 evenly spaced rows lies in [2⁻²⁰, 2²⁰] (squares and sums
    /// of squares stay far from Float32's limits), else 2⁻ᵉ with 2ᵉ near that largest value, so
    /// the scaled values are near 1 whatever the data's scale. A row far larger than every sampled
    /// one can still overflow; the eigendecomposition then refuses the non-finite covariance.
    ///
    /// - Complexity: O(min(n, 4096)·d).
    static func gramScale(_ m: Matrix) -> Float {
        let n = m.rows, d = m.cols
        guard n > 0, d > 0 else { return 1 }
        let count = min(n, 4096)
        var largest: Float = 0
        for t in 0..<count {
            let row = m.pointer + (t * n / count) * d
            for j in 0..<d where row[j].isFinite { largest = max(largest, abs(row[j])) }
        }
        guard largest > 0, largest < 0x1p-20 || largest > 0x1p20 else { return 1 }
        // exponent: largest = significand · 2^exponent with significand in [1, 2).
        return Float(sign: .plus, exponent: -Int(largest.exponent), significand: 1)
    }

    /// The covariance from a shifted Gram: Σ(x − s)(x − s)ᵀ = Σ(x − μ)(x − μ)ᵀ + n·(μ − s)(μ − s)ᵀ, so
    /// C = (G − n·δδᵀ)/(n − ddof) with δ = μ − s, in Float64. With s = Float32(μ) this only corrects
    /// the rounding of the mean; with a provisional s it makes a one-pass covariance exact up to the
    /// Float32 rounding of x − s. `mean` all zeros and s = 0 give XᵀX/(n − ddof). Returns the full
    /// symmetric matrix.
    ///
    /// - Complexity: O(d²).
    static func covariance(shiftedGram gram: [Double], shift: [Float], mean: [Double], rows n: Int, ddof: Int) -> [Double] {
        let d = shift.count
        var cov = [Double](repeating: 0, count: d * d)
        guard n > ddof else { return cov }
        let delta = (0..<d).map { mean[$0] - Double(shift[$0]) }
        let denom = Double(n - ddof)
        for i in 0..<d {
            for j in i..<d {
                let v = (gram[i * d + j] - Double(n) * delta[i] * delta[j]) / denom
                cov[i * d + j] = v
                cov[j * d + i] = v
            }
        }
        return cov
    }

    /// A provisional centre for a one-pass covariance: the mean of up to 4,096 evenly spaced rows
    /// (Float64 sums in row order, rounded to Float32). Close to the mean on any row order, so the
    /// shifted values stay small and the correction of `covariance(shiftedGram:…)` loses nothing.
    ///
    /// - Complexity: O(min(n, 4096)·d).
    static func provisionalShift(_ m: Matrix) -> [Float] {
        let n = m.rows, d = m.cols
        guard n > 0 else { return [Float](repeating: 0, count: d) }
        let count = min(n, 4096)
        var sum = [Double](repeating: 0, count: d)
        for t in 0..<count {
            let row = m.pointer + (t * n / count) * d
            for j in 0..<d { sum[j] += Double(row[j]) }
        }
        return sum.map { Float($0 / Double(count)) }
    }
}
