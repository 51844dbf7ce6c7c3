import COpenBLAS
import Foundation

/// Streams the score matrix Q·Gᵀ (queries × gallery) in cache-sized tiles, each computed by a
/// single-threaded SGEMM on the worker that consumes it while it is still in cache: one pass over
/// query × gallery, both cores busy in the GEMM and in the scan (no OpenBLAS threads spinning while
/// our threads scan, no q × n block written to memory and read back).
///
/// Queries are split into blocks of `queryBlock` rows; each block belongs to one worker, which calls
/// `body(rows, tiles)` once and asks `tiles` for the gallery tiles it wants (usually all of them,
/// in order). Per-query state can therefore live in `body` without locks. Results must not depend
/// on the tiling: callers decide every comparison by `ExactScores`' rule (screened by the GEMM,
/// re-decided in Float64 within its error bound), which holds for any tiling and kernel.
///
/// - Complexity: O(q·n·d) GEMM; O(queryBlock·galleryBlock) scratch per worker.
func forEachScoreBlock(queries: Matrix, gallery: Matrix, queryBlock: Int? = nil, galleryBlock: Int = 2048,
                       body: (_ rows: Range<Int>, _ tiles: ScoreTiles) -> Void) {
    precondition(queries.cols == gallery.cols, "score tiles: dimensions differ")
    let nq = queries.rows
    guard nq > 0 else { return }
    let qb = queryBlock ?? defaultScoreQueryBlock(nq)
    let gb = max(1, min(galleryBlock, gallery.rows))
    let blocks = (nq + qb - 1) / qb
    let progress = ProgressReporter.current.task("query × gallery scores", total: nq,
                                                 minimum: isLongPass(nq, gallery.rows, queries.cols) ? 1 : .max)
    let progressLock = NSLock()
    var rowsDone = 0
    BLAS.singleThreaded {
        parallelIterations(blocks) { b in
            let rows = (b * qb)..<min(nq, (b + 1) * qb)
            let scratch = UnsafeMutablePointer<Float>.allocate(capacity: rows.count * gb)
            defer { scratch.deallocate() }
            body(rows, ScoreTiles(queries: queries, gallery: gallery, rows: rows, galleryBlock: gb, scratch: scratch))
            if let progress { progressLock.withLock { rowsDone += rows.count; progress.update(rowsDone) } }
        }
    }
    progress?.finish()
}

/// Query rows per block: large (up to 1024) because SGEMM packs the gallery tile once per call and
/// that packing streams the gallery from memory (with 256-row blocks it took 13 % of compat's time),
/// small enough that every worker gets two blocks.
func defaultScoreQueryBlock(_ queryCount: Int) -> Int {
    let workers = max(1, ProcessInfo.processInfo.activeProcessorCount)
    return max(16, min(1024, (queryCount + 2 * workers - 1) / (2 * workers)))
}

/// The gallery tiles of one query block (see `forEachScoreBlock`). Each call overwrites the
/// previous tile.
struct ScoreTiles {
    let queries: Matrix
    let gallery: Matrix
    let rows: Range<Int>
    let galleryBlock: Int
    let scratch: UnsafeMutablePointer<Float>

    /// Calls `body(columns, tile)` for consecutive gallery ranges covering the gallery, in order;
    /// `tile` is rows.count × columns.count, row-major: tile[r * columns.count + j] is the raw
    /// Float32 dot product of query `rows.lowerBound + r` and gallery row `columns.lowerBound + j`.
    func forEach(_ body: (_ columns: Range<Int>, _ tile: UnsafePointer<Float>) -> Void) {
        let n = gallery.rows, d = queries.cols
        var start = 0
        while start < n {
            let end = min(n, start + galleryBlock)
            if d == 0 {
                scratch.update(repeating: 0, count: rows.count * (end - start))
            } else {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows.count), Int32(end - start), Int32(d), 1,
                            queries.pointer + rows.lowerBound * d, Int32(d), gallery.pointer + start * d, Int32(d),
                            0, scratch, Int32(end - start))
            }
            body(start..<end, UnsafePointer(scratch))
            start = end
        }
    }
}

/// Where a query's one relevant gallery row (`target`) ranks: gallery rows other than the target
/// and the excluded row whose Float64 score is higher (`better`), equal (`equal`), and equal with
/// a smaller index (`equalBefore`, for the ties-by-index rule).
struct TargetRankCount {
    var better = 0
    var equal = 0
    var equalBefore = 0
}

extension ExactScores {
    /// Float32 cut-offs (lo, up) of the screening rule for a Float64 target when no scales apply:
    /// a raw GEMM value above `up` is certainly better than the target (its screened score exceeds
    /// target + tolerance), below `lo` certainly worse; anything else (NaN included) is re-decided
    /// in Float64. Rounded outwards, so they never decide a pair that `compare` would not.
    func screeningCuts(around target: Double) -> (lo: Float, up: Float)? {
        guard queryScale == nil, galleryScale == nil else { return nil }
        let hi = target + tolerance, low = target - tolerance
        var up = Float(hi), lo = Float(low)
        if Double(up) < hi { up = up.nextUp }
        if Double(lo) > low { lo = lo.nextDown }
        return (lo, up)
    }

    /// Adds one tile row's contribution to query q's `TargetRankCount`: `values` holds the raw GEMM
    /// values of gallery rows `columns`; rows `target` and `excluded` (−1: none) are left out.
    /// Without scales the scan compares raw Float32 values with the cut-offs sixteen at a time and
    /// computes Float64 scores only for the few values between them.
    func countAgainstTarget(_ values: UnsafePointer<Float>, columns: Range<Int>, query q: Int, target t: Int,
                            targetScore: Double, cuts: (lo: Float, up: Float)?, excluded ex: Int, into count: inout TargetRankCount) {
        let width = columns.count, g0 = columns.lowerBound
        @inline(__always) func decide(_ j: Int) {
            let g = g0 + j
            if g == t || g == ex { return }
            let e = exact(q, g)
            if e > targetScore { count.better += 1 } else if e == targetScore { count.equal += 1; if g < t { count.equalBefore += 1 } }
        }
        guard let (lo, up) = cuts else {
            for j in 0..<width {
                let g = g0 + j
                if g == t || g == ex { continue }
                switch compare(values[j], q, g, to: targetScore) {
                case 1: count.better += 1
                case 0: count.equal += 1; if g < t { count.equalBefore += 1 }
                default: break
                }
            }
            return
        }
        let raw = UnsafeRawPointer(values)
        let upV = SIMD16<Float>(repeating: up), loV = SIMD16<Float>(repeating: lo)
        var above = SIMD16<Int32>()
        var j = 0
        while j + 16 <= width {
            let x = raw.loadUnaligned(fromByteOffset: j * 4, as: SIMD16<Float>.self)
            let better = x .> upV
            above &+= SIMD16<Int32>().replacing(with: 1, where: better)
            let unsure = .!(better .| (x .< loV))
            if any(unsure) { for lane in 0..<16 where unsure[lane] { decide(j + lane) } }
            j += 16
        }
        var certain = Int(above.wrappedSum())
        while j < width {
            let x = values[j]
            if x > up { certain += 1 } else if !(x < lo) { decide(j) }
            j += 1
        }
        // The target and the excluded row were counted above if their raw value beat `up`.
        if columns.contains(t) && values[t - g0] > up { certain -= 1 }
        if ex != t && columns.contains(ex) && values[ex - g0] > up { certain -= 1 }
        count.better += certain
    }
}
