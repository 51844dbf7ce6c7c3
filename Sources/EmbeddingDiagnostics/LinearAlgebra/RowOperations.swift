import COpenBLAS
import Foundation

/// Σ x_j² of `count` Float32 values, summed in Float64 eight lanes at a time (widened from
/// Float32). Shared by `rowNorms` and fused passes so that all norms agree to the last bit.
@inlinable @inline(__always)
public func squaredNorm(_ r: UnsafeRawPointer, count d: Int) -> Double {
    var acc0 = SIMD4<Double>(), acc1 = SIMD4<Double>()
    var j = 0
    while j + 8 <= d {
        let v = r.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self)
        let lo = SIMD4<Double>(v.lowHalf), hi = SIMD4<Double>(v.highHalf)
        acc0 += lo * lo
        acc1 += hi * hi
        j += 8
    }
    var acc = (acc0 + acc1).sum()
    while j < d {
        let x = Double(r.load(fromByteOffset: j * 4, as: Float.self))
        acc += x * x
        j += 1
    }
    return acc
}

/// Σ x_t·y_t of two Float32 rows in Float64, eight lanes then their sum: a fixed summation order,
/// so the value is the same on every CPU (unlike a BLAS dot product, whose order depends on the
/// kernel); exact for integer-valued rows. Shared by `pairedDotProducts`, `ExactScores` and the
/// deterministic subspace removal.
@inlinable @inline(__always)
public func fixedOrderDot(_ x: UnsafeRawPointer, _ y: UnsafeRawPointer, count d: Int) -> Double {
    var acc = SIMD8<Double>()
    var t = 0
    while t + 8 <= d {
        let u = x.loadUnaligned(fromByteOffset: t * 4, as: SIMD8<Float>.self)
        let v = y.loadUnaligned(fromByteOffset: t * 4, as: SIMD8<Float>.self)
        acc += SIMD8<Double>(u) * SIMD8<Double>(v)
        t += 8
    }
    var s = acc.sum()
    while t < d { s += Double(x.load(fromByteOffset: t * 4, as: Float.self)) * Double(y.load(fromByteOffset: t * 4, as: Float.self)); t += 1 }
    return s
}

/// Euclidean norm of every row, accumulated in Float64.
public func rowNorms(_ m: Matrix) -> [Double] {
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
public func normalizedRows(_ m: Matrix) -> Matrix {
    let out = m.copy()
    normalizeRowsInPlace(out)
    return out
}

/// Scales every row of a writable matrix to unit length; zero rows stay zero.
public func normalizeRowsInPlace(_ m: Matrix) {
    let norms = rowNorms(m)
    let d = m.cols
    let base = m.mutablePointer
    parallelChunks(m.rows, minimumChunk: 4096) { range in
        for i in range where norms[i] > 0 {
            cblas_sscal(Int32(d), Float(1 / norms[i]), base + i * d, 1)
        }
    }
}

/// Mean of every column, accumulated in Float64.
public func columnMeans(_ m: Matrix) -> [Double] {
    var sums = [Double](repeating: 0, count: m.cols)
    guard m.rows > 0 else { return sums }
    let ones = Matrix(rows: 1, cols: blockRowsFor(cols: m.cols))
    ones.mutablePointer.update(repeating: 1, count: ones.cols)
    // Column sums of each row block by GEMV in Float32, accumulated across blocks in Float64.
    var partial = [Float](repeating: 0, count: m.cols)
    var start = 0
    while start < m.rows {
        let end = min(m.rows, start + ones.cols)
        let block = m.rows(start..<end)
        cblas_sgemv(CblasRowMajor, CblasTrans, Int32(block.rows), Int32(m.cols), 1, block.pointer,
                    Int32(m.cols), ones.pointer, 1, 0, &partial, 1)
        for j in 0..<m.cols { sums[j] += Double(partial[j]) }
        start = end
    }
    let n = Double(m.rows)
    return sums.map { $0 / n }
}

/// Sum of all rows, accumulated in Float64.
public func columnSums(_ m: Matrix) -> [Double] {
    columnMeans(m).map { $0 * Double(m.rows) }
}

/// Rows per block so that one block is about 16 MB of Float32.
public func blockRowsFor(cols: Int, targetBytes: Int = 16 << 20) -> Int {
    max(64, min(65_536, targetBytes / max(1, cols * 4)))
}

/// Covariance (or, with `center: false`, the second-moment matrix XᵀX/(n − ddof)) as a d × d
/// Float64 row-major array. Streams over row blocks: each block is centred in Float32 and its
/// Gram matrix computed by SSYRK, then accumulated in Float64 — memory O(block · d + d²).
/// The rows are split into a fixed number of contiguous chunks (from n and d only, not the core
/// count); each chunk runs on one worker with single-threaded SSYRK and its own Float64 sum, and
/// the chunk sums are added in chunk order: both cores busy in every step (centring, SSYRK,
/// accumulation), no OpenBLAS threads spinning between calls.
public func covariance(_ m: Matrix, ddof: Int = 1, center: Bool = true, mean: [Double]? = nil) -> [Double] {
    let d = m.cols
    let n = m.rows
    var acc = [Double](repeating: 0, count: d * d)
    guard n > ddof, d > 0 else { return acc }
    let mu = center ? (mean ?? columnMeans(m)) : [Double](repeating: 0, count: d)
    let muF = mu.map { Float($0) }
    let blockRows = min(blockRowsFor(cols: d, targetBytes: 8 << 20), n)
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

/// Splits 0..<count into at most two (one per core) contiguous chunks and runs them in parallel.
/// Deterministic: each index is processed by exactly one chunk, in order within a chunk.
public func parallelChunks(_ count: Int, minimumChunk: Int = 1024, _ body: (Range<Int>) -> Void) {
    let workers = ProcessInfo.processInfo.activeProcessorCount
    if count <= minimumChunk || workers <= 1 {
        body(0..<count)
        return
    }
    let chunks = min(workers * 4, (count + minimumChunk - 1) / minimumChunk)
    let size = (count + chunks - 1) / chunks
    DispatchQueue.concurrentPerform(iterations: chunks) { c in
        let lo = c * size
        let hi = min(count, lo + size)
        if lo < hi { body(lo..<hi) }
    }
}

/// a_{rows[p]} · b_{cols[p]} for every p: Float64 accumulation (SIMD), both cores. Used for
/// sampled pairs (compat) and row-wise cosines of paired spaces (relrep).
public func pairedDotProducts(_ a: Matrix, _ rows: [Int], _ b: Matrix, _ cols: [Int]) -> [Double] {
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
