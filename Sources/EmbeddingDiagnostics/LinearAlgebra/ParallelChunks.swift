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
    parallelIterations(chunks) { c in
        let lo = c * size
        let hi = min(count, lo + size)
        if lo < hi { body(lo..<hi) }
    }
}

/// Runs `body(0)`, …, `body(iterations − 1)` in parallel (`DispatchQueue.concurrentPerform`) and
/// returns when all have returned. The one place where the library's parallel loops cross into
/// concurrently executing code: `body` is not `@Sendable` because its callers share memory on
/// purpose — each iteration writes through pointers to its own disjoint range (its rows, its
/// chunk's slot) and shared counters are updated under a lock — which the compiler cannot check.
/// Callers keep that rule: no iteration writes what another iteration reads or writes, except
/// under a lock.
func parallelIterations(_ iterations: Int, _ body: (Int) -> Void) {
    withoutActuallyEscaping(body) { body in
        // Safe by the rule above: iterations touch disjoint memory (or lock), and concurrentPerform
        // returns only after every iteration has returned, so `body` and what it captures outlive
        // all concurrent uses.
        nonisolated(unsafe) let body = body
        DispatchQueue.concurrentPerform(iterations: iterations) { body($0) }
    }
}
