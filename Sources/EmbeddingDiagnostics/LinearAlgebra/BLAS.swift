import COpenBLAS
import Foundation

/// The BLAS behind embdiag, and its thread count.
public enum BLAS {
    /// OpenBLAS' build string, e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH ... Cooperlake MAX_THREADS=64".
    /// A test asserts it starts with "OpenBLAS" so a silent fallback to a slow BLAS fails CI.
    public static var configuration: String { String(cString: openblas_get_config()) }

    /// The CPU kernel OpenBLAS selected at run time.
    public static var coreName: String { String(cString: openblas_get_corename()) }

    public static var threadCount: Int { Int(openblas_get_num_threads()) }

    /// Sets OpenBLAS' thread count. Inside a `singleThreaded` scope (on any thread) the new count
    /// is remembered and applied when the last scope ends.
    public static func setThreadCount(_ n: Int) { ThreadCountControl.shared.set(max(1, n)) }

    /// Runs `body` with OpenBLAS single-threaded: inside our own parallel blocks (so the two cores
    /// are not oversubscribed) and around the LAPACK steps whose rounding depends on how OpenBLAS
    /// splits the work between threads (`LAPACK.symmetricEigen`). OpenBLAS' thread count is one
    /// process-wide setting, so overlapping scopes on different threads are counted: the count
    /// goes to 1 when the first scope starts and back to the configured count when the last ends
    /// (a save-and-restore per scope would let two overlapping scopes leave it at 1, or restore
    /// 2 while another thread's scope still relies on 1).
    public static func singleThreaded<T>(_ body: () throws -> T) rethrows -> T {
        ThreadCountControl.shared.enter()
        defer { ThreadCountControl.shared.leave() }
        return try body()
    }
}

/// The process-wide bookkeeping behind `BLAS.singleThreaded` and `BLAS.setThreadCount`.
final class ThreadCountControl: @unchecked Sendable {
    static let shared = ThreadCountControl()
    private let lock = NSLock()
    /// Open `singleThreaded` scopes, on all threads.
    private var scopes = 0
    /// The count to restore when the last scope ends: the one set by `setThreadCount`, or the
    /// one OpenBLAS had when the first scope started.
    private var configured: Int32 = 0

    func set(_ n: Int) {
        lock.lock(); defer { lock.unlock() }
        configured = Int32(n)
        if scopes == 0 { openblas_set_num_threads(configured) }
    }

    func enter() {
        lock.lock(); defer { lock.unlock() }
        if scopes == 0 {
            configured = openblas_get_num_threads()
            if configured != 1 { openblas_set_num_threads(1) }
        }
        scopes += 1
    }

    func leave() {
        lock.lock(); defer { lock.unlock() }
        scopes -= 1
        if scopes == 0 && configured != 1 { openblas_set_num_threads(configured) }
    }
}

extension BLAS {
    /// Makes OpenBLAS's idle worker threads sleep almost at once instead of spinning: after each
    /// call they yield the CPU in a loop for about 2²⁸ cycles (OPENBLAS_THREAD_TIMEOUT, default 28)
    /// before they sleep, and between GEMMs embdiag's own threads scan the results on the same
    /// cores — spinning workers took 2 s of 44 in `shift` at 2 × 20,000 rows on 2 cores. Sets the
    /// shortest timeout OpenBLAS accepts (2⁴ cycles) unless the user chose one, re-reads the
    /// environment and restarts the thread pool. Results do not change (the threads only wait).
    /// Call it once at start-up, before any analysis, for work dominated by large GEMMs between
    /// scans: work made of many mid-sized calls (adapter training) pays for waking the threads
    /// every time instead (about 10 % slower measured for `compat --fit auto`).
    public static func shortenIdleThreadSpin(environment: [String: String] = ProcessInfo.processInfo.environment) {
        guard environment["OPENBLAS_THREAD_TIMEOUT"] == nil else { return }
        setenv("OPENBLAS_THREAD_TIMEOUT", "4", 1)
        openblas_read_env()
        _ = blas_thread_shutdown_()
    }

    /// OpenBLAS kernels that are generic fallbacks: Debian's OpenBLAS 0.3.21 picks "Prescott" on
    /// CPUs it does not know (e.g. a VM's "Intel Xeon Processor" with AVX-512), which runs sgemm at
    /// 52 GFLOP/s instead of 327 (Cooperlake kernel) on the same 2 cores — measured on a 2-core Xeon VM with AVX512-BF16.
    static let fallbackCores: Set<String> = ["Prescott", "Core2", "Penryn", "Dunnington", "Nehalem", "Katmai", "Coppermine", "Northwood", "Banias", "Atom"]

    /// The OpenBLAS core type this CPU supports best, from /proc/cpuinfo flags, when OpenBLAS fell
    /// back to a generic kernel; nil when its own choice stands or the user set OPENBLAS_CORETYPE.
    public static func betterCoreType(cpuFlags: Set<String>? = nil, currentCore: String? = nil,
                                      environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        if environment["OPENBLAS_CORETYPE"] != nil { return nil }
        let core = currentCore ?? coreName
        guard fallbackCores.contains(core) else { return nil }
        let flags = cpuFlags ?? readCPUFlags()
        let avx512 = ["avx512f", "avx512vl", "avx512bw", "avx512dq", "avx512cd"].allSatisfy(flags.contains)
        if avx512 && flags.contains("avx512_bf16") { return "Cooperlake" }
        if avx512 { return "SkylakeX" }
        if flags.contains("avx2") && flags.contains("fma") { return "Haswell" }
        return nil
    }

    static func readCPUFlags() -> Set<String> {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return [] }
        for line in text.split(separator: "\n") where line.hasPrefix("flags") {
            if let colon = line.firstIndex(of: ":") {
                return Set(line[line.index(after: colon)...].split(separator: " ").map(String.init))
            }
        }
        return []
    }
}

extension BLAS {
    /// C = alpha · op(A) · op(B) + beta · C for row-major Float32 matrices (cblas_sgemm).
    /// `c` must be a writable matrix of the right shape.
    public static func gemm(_ a: Matrix, transposeA: Bool = false, _ b: Matrix, transposeB: Bool = false,
                     alpha: Float = 1, beta: Float = 0, into c: Matrix) {
        let m = transposeA ? a.cols : a.rows
        let k = transposeA ? a.rows : a.cols
        let kb = transposeB ? b.cols : b.rows
        let n = transposeB ? b.rows : b.cols
        precondition(k == kb, "gemm: inner dimensions differ (\(k) vs \(kb))")
        precondition(c.rows == m && c.cols == n, "gemm: output has the wrong shape")
        if m == 0 || n == 0 { return }
        if k == 0 {
            if beta == 0 { c.mutablePointer.update(repeating: 0, count: m * n) }
            return
        }
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a.pointer, Int32(max(a.cols, 1)),
                    b.pointer, Int32(max(b.cols, 1)), beta, c.mutablePointer, Int32(max(n, 1)))
    }

    /// op(A) · op(B) as a new matrix.
    public static func matmul(_ a: Matrix, transposeA: Bool = false, _ b: Matrix, transposeB: Bool = false) -> Matrix {
        let c = Matrix(rows: transposeA ? a.cols : a.rows, cols: transposeB ? b.rows : b.cols)
        BLAS.gemm(a, transposeA: transposeA, b, transposeB: transposeB, into: c)
        return c
    }

    /// Row-major Float64 matrix product C = op(A)·op(B) (cblas_dgemm), for small d × d work.
    public static func matmul(_ a: [Double], rows m: Int, inner k: Int, _ b: [Double], cols n: Int,
                       transposeA: Bool = false, transposeB: Bool = false) -> [Double] {
        var c = [Double](repeating: 0, count: m * n)
        if m == 0 || n == 0 || k == 0 { return c }
        let lda = transposeA ? m : k
        let ldb = transposeB ? k : n
        cblas_dgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), 1, a, Int32(lda), b, Int32(ldb), 0, &c, Int32(n))
        return c
    }
}
