import COpenBLAS
import Foundation

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
