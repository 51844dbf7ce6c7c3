import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// A merge gives the same bits whatever the order of its arguments, and the spectrum path (the
/// eigendecomposition after the sums) gives the same bits on every call in one process: with 1
/// and 2 OpenBLAS threads, while other threads open and close `BLAS.singleThreaded` scopes and
/// change the thread count, and whatever the alignment of the caller's buffer
/// (Guides/Architecture.md, "Determinism"). Bits are compared, not tolerances: these are the same
/// inputs through the same arithmetic.
@Suite struct MergeDeterminismTests {
    /// Four shards (one of a single row) of the bundled sentence embeddings (1800 × 384: large
    /// enough that OpenBLAS threads the SYMV/GEMM calls inside dsyevd).
    static let cuts = [0..<1, 1..<433, 433..<1200, 1200..<1800]

    /// Every order of `items` (Heap's algorithm).
    static func permutations<T>(_ items: [T]) -> [[T]] {
        var a = items, out: [[T]] = []
        func generate(_ k: Int) {
            if k <= 1 { out.append(a); return }
            for i in 0..<k {
                generate(k - 1)
                a.swapAt(k % 2 == 0 ? i : 0, k - 1)
            }
        }
        generate(a.count)
        return out
    }

    /// Each metric as text with its exact bits (NaN payloads included).
    static func bits(_ report: Report) -> [String] {
        report.metrics.map { m in
            if case .double(let x) = m.value { return "\(m.key)=\(String(x.bitPattern, radix: 16))" }
            return "\(m.key)=\(m.value)"
        }
    }

    static func spectrumBits(_ s: (variances: [Double], spectrum: [Double], participationRatio: Double, isoScore: Double,
                                   nullBaseline: Double, effectiveRank: Double)) -> [UInt64] {
        (s.variances + s.spectrum + [s.participationRatio, s.isoScore, s.nullBaseline, s.effectiveRank]).map(\.bitPattern)
    }

    static func states() throws -> (embeddings: Embeddings, configuration: AnisotropyConfiguration, pass1: [LoadedState], shards: [(Embeddings, ShardRecord)]) {
        let e = try EmbeddingReader.read(MergeTests.sentencesPath)
        let c = MergeTests.anisotropyConfiguration()
        let shards = cuts.enumerated().map { MergeTests.shard(e, $0.element, name: "shard-\($0.offset).npy") }
        let pass1 = try shards.enumerated().map {
            try MergeTests.roundTrip(AnisotropyPartial.pass1($0.element.0, shard: $0.element.1, configuration: c), "p1-\($0.offset).state")
        }
        return (e, c, pass1, shards)
    }

    @Test func everyOrderOfTheShardsMergesToTheSameBits() throws {
        let (_, c, pass1, shards) = try Self.states()
        // Pass 1: the merged state (sums, principal directions, basis) byte for byte.
        var mergedBytes: Data?
        var merged: LoadedState?
        for order in Self.permutations(pass1) {
            guard case .state(let m) = try StateMerge.merge(order, wantState: true) else {
                Issue.record("a pass-1 merge gave no state"); return
            }
            let bytes = try PartialStateFile.encode(m)
            if let mergedBytes {
                #expect(bytes == mergedBytes, "pass-1 merge of \(order.map(\.path)) differs")
            } else {
                mergedBytes = bytes
                merged = LoadedState(path: "merged.state", state: m)
            }
        }
        let m = try #require(merged)
        let pass2 = try shards.enumerated().map {
            try MergeTests.roundTrip(AnisotropyPartial.pass2($0.element.0, shard: $0.element.1, configuration: c, merged: m), "p2-\($0.offset).state")
        }
        // Pass 2: every order of the shards' states, the merged state at every position.
        var first: [String]?
        for (k, order) in Self.permutations(pass2).enumerated() {
            var arguments = order
            arguments.insert(m, at: k % (order.count + 1))
            guard case .report(let report) = try StateMerge.merge(arguments, wantState: false) else {
                Issue.record("the final merge gave no report"); return
            }
            let b = Self.bits(report)
            if let first {
                #expect(b == first, "final merge of \(arguments.map(\.path)) differs")
            } else {
                first = b
            }
        }
        #expect(first?.contains { $0.hasPrefix("isoscore=") } == true)
    }

    /// The covariance of the merged Gram of `states()`, as the final merge forms it.
    static func mergedCovariance() throws -> (cov: [Double], rows: Int, dimension: Int) {
        let (e, _, pass1, _) = try states()
        let d = e.dimension, n = e.count
        guard case .state(let m) = try StateMerge.merge(pass1, wantState: true) else { throw EmbdiagError.usage("no merged state") }
        let centred = try m.array("centred_gram", path: nil).doubles("centred_gram", count: d * d, path: nil)
        let cov = centred.map { $0 / Double(n - 1) }
        return (cov, n, d)
    }

    /// The eigendecomposition of the merged covariance from copies of the matrix at every 8-byte
    /// offset of a 64-byte line: the same bits.
    @Test func spectrumDoesNotDependOnBufferAlignment() throws {
        let (cov, _, d) = try Self.mergedCovariance()
        let eigen = try LAPACK.symmetricEigen(cov, dimension: d)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: (d * d + 8) * 8, alignment: 64)
        defer { raw.deallocate() }
        for offset in 1..<8 {
            let p = (raw + offset * 8).bindMemory(to: Double.self, capacity: d * d)
            cov.withUnsafeBufferPointer { p.update(from: $0.baseAddress!, count: d * d) }
            let moved = try LAPACK.symmetricEigen(rowMajor: UnsafeBufferPointer(start: p, count: d * d), dimension: d)
            #expect(moved.values.map(\.bitPattern) == eigen.values.map(\.bitPattern), "values, offset \(offset * 8) bytes")
            #expect(moved.vectors.map(\.bitPattern) == eigen.vectors.map(\.bitPattern), "vectors, offset \(offset * 8) bytes")
        }
    }

    /// The spectrum computed again and again with 1 and 2 OpenBLAS threads, and on three threads
    /// at once while a fourth toggles the thread count and opens single-threaded scopes; and the
    /// single-run analysis on 1 and 2 threads. In a child process: OpenBLAS' thread count is one
    /// setting per process, and other suites compare runs made on one count.
    @Test func spectrumIsTheSameOnEveryThreadCount() async {
        await #expect(processExitsWith: .success) {
            let problems: [String]
            do { problems = try MergeDeterminismTests.threadSweepProblems() } catch { problems = ["threw \(error)"] }
            for p in problems { FileHandle.standardError.write(Data(("thread sweep: " + p + "\n").utf8)) }
            exit(problems.isEmpty ? 0 : 1)
        }
    }

    /// What `spectrumIsTheSameOnEveryThreadCount` checks, as a list of problems (empty = fine).
    static func threadSweepProblems() throws -> [String] {
        var problems: [String] = []
        let (cov, n, d) = try mergedCovariance()
        let reference = spectrumBits(try AnisotropyMetrics.covarianceSpectrum(cov, rows: n, dimension: d))
        for threads in [1, 2, 1, 2] {
            BLAS.setThreadCount(threads)
            if spectrumBits(try AnisotropyMetrics.covarianceSpectrum(cov, rows: n, dimension: d)) != reference { problems.append("spectrum on \(threads) thread(s)") }
        }
        BLAS.setThreadCount(2)
        let results = LockedResults()
        let busy = Matrix(rows: 256, cols: d)
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            if worker == 0 {
                for k in 0..<12 {
                    BLAS.singleThreaded { _ = BLAS.matmul(busy, transposeA: true, busy) }
                    BLAS.setThreadCount(k % 2 + 1)
                    _ = BLAS.matmul(busy, transposeA: true, busy)
                }
            } else {
                for _ in 0..<2 { results.append((try? AnisotropyMetrics.covarianceSpectrum(cov, rows: n, dimension: d)).map(spectrumBits)) }
            }
        }
        if results.values.count != 6 || results.values.contains(where: { $0 != reference }) { problems.append("a concurrent spectrum differs") }
        // A library user running the same single-run analysis again, on 1 and 2 threads: its
        // Float32 SSYRK (covariance) and SGEMM (partition function) round differently with
        // OpenBLAS' thread split on AVX2 kernels, so it agrees within the documented float noise
        // (Guides/Architecture.md, Determinism rule 2: ≤ 1e-6 relative; measured ~2e-10), not
        // bit for bit — the spectrum of a given covariance above is exact.
        let e = try EmbeddingReader.read(MergeTests.sentencesPath)
        let c = MergeTests.anisotropyConfiguration()
        var single: [Report] = []
        for threads in [1, 2, 2, 1] {
            BLAS.setThreadCount(threads)
            single.append(try AnisotropyAnalysis(e, configuration: c).report())
        }
        for (k, s) in single.enumerated().dropFirst() {
            if s.metrics.map(\.key) != single[0].metrics.map(\.key) { problems.append("single run \(k): other metrics") }
            for (a, b) in zip(s.metrics, single[0].metrics) where a.key != "sha256" {
                if case .double(let x) = a.value, case .double(let y) = b.value {
                    if MergeTests.relative(x, y) > 1e-6 { problems.append("single run \(k): \(a.key) \(x) vs \(y)") }
                } else if a.value != b.value {
                    problems.append("single run \(k): \(a.key) \(a.value) vs \(b.value)")
                }
            }
        }
        return problems
    }
}

/// Results gathered from concurrent workers.
private final class LockedResults: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [[UInt64]?] = []
    func append(_ v: [UInt64]?) { lock.lock(); stored.append(v); lock.unlock() }
    var values: [[UInt64]?] { lock.lock(); defer { lock.unlock() }; return stored }
}
