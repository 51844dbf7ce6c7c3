import COpenBLAS
import Foundation

/// Eigen-decomposition of a symmetric matrix: eigenvalues in descending order and the matching
/// unit eigenvectors as the *rows* of `vectors` (row k ↔ values[k]).
public struct SymmetricEigen: Sendable {
    public internal(set) var values: [Double]
    /// Row-major n × n; row k is the eigenvector of values[k].
    public internal(set) var vectors: [Double]
    public internal(set) var dimension: Int

    public func vector(_ k: Int) -> [Double] { Array(vectors[(k * dimension)..<((k + 1) * dimension)]) }
}

/// Thin singular value decomposition A = U · diag(S) · Vᵀ.
public struct SingularValueDecomposition: Sendable {
    /// m × r, row-major (r = min(m, n)).
    public internal(set) var u: [Double]
    public internal(set) var singularValues: [Double]
    /// r × n, row-major.
    public internal(set) var vt: [Double]
    public internal(set) var rows: Int
    public internal(set) var cols: Int
    public var rank: Int { singularValues.count }
}

extension LAPACK {
    /// Symmetric eigendecomposition by LAPACK's dsyevd (divide and conquer), Float64.
    ///
    /// Reproducible to the last bit by construction (Guides/Architecture.md, "Determinism"): the
    /// call runs single-threaded (`BLAS.singleThreaded`: OpenBLAS' threaded SYMV/GEMM inside
    /// dsytrd and the back-transformation add partial results in an order that depends on the
    /// thread split, and OpenBLAS' thread count is a process-wide setting that other threads'
    /// scopes change), and the matrix and every workspace live in buffers this function allocates
    /// with a fixed 64-byte alignment, so kernels that peel to an alignment boundary see the same
    /// layout whatever the caller's array or the allocator hands out.
    ///
    /// - Complexity: O(n³) flops on one core, O(n²) extra memory.
    public static func symmetricEigen(_ a: [Double], dimension n: Int) throws -> SymmetricEigen {
        precondition(a.count == n * n)
        if n == 0 { return SymmetricEigen(values: [], vectors: [], dimension: 0) }
        return try a.withUnsafeBufferPointer { try symmetricEigen(rowMajor: $0, dimension: n) }
    }

    /// `symmetricEigen` of n × n row-major values at any address (the tests hand it misaligned
    /// copies to check that the result does not depend on where the caller's buffer lies).
    static func symmetricEigen(rowMajor a: UnsafeBufferPointer<Double>, dimension n: Int) throws -> SymmetricEigen {
        precondition(a.count == n * n && n > 0)
        // Inf/NaN here means float32 products overflowed (values near 1e19 and above): say so
        // instead of LAPACK's "info 7". O(n²), nothing next to the O(n³) decomposition.
        if a.contains(where: { !$0.isFinite }) {
            throw EmbdiagError.invalid(nil, "values too large for float32 covariance (products overflow 3.4e38); rescale the matrix (e.g. divide by its largest value)")
        }
        let alignment = 64
        let matrix = UnsafeMutablePointer<Double>(OpaquePointer(UnsafeMutableRawPointer.allocate(byteCount: n * n * 8, alignment: alignment)))
        let w = UnsafeMutablePointer<Double>(OpaquePointer(UnsafeMutableRawPointer.allocate(byteCount: n * 8, alignment: alignment)))
        defer { UnsafeMutableRawPointer(matrix).deallocate(); UnsafeMutableRawPointer(w).deallocate() }
        // Column-major copy with the upper triangle as LAPACKE's row-major 'U' path passes it
        // (A(i, j), i ≤ j, from a[i·n + j]): the same call, so the same values as before.
        for i in 0..<n { for j in 0..<n { matrix[i + j * n] = a[i * n + j] } }
        let jobz = CChar(UInt8(ascii: "V")), uplo = CChar(UInt8(ascii: "U"))
        let info: Int32 = BLAS.singleThreaded {
            var workSize = 0.0, iworkSize: Int32 = 0
            let query = LAPACKE_dsyevd_work(LAPACK_COL_MAJOR, jobz, uplo, Int32(n), matrix, Int32(n), w, &workSize, -1, &iworkSize, -1)
            guard query == 0 else { return query }
            let lwork = max(1, Int(workSize)), liwork = max(1, Int(iworkSize))
            let work = UnsafeMutablePointer<Double>(OpaquePointer(UnsafeMutableRawPointer.allocate(byteCount: lwork * 8, alignment: alignment)))
            let iwork = UnsafeMutablePointer<Int32>(OpaquePointer(UnsafeMutableRawPointer.allocate(byteCount: liwork * 4, alignment: alignment)))
            defer { UnsafeMutableRawPointer(work).deallocate(); UnsafeMutableRawPointer(iwork).deallocate() }
            return LAPACKE_dsyevd_work(LAPACK_COL_MAJOR, jobz, uplo, Int32(n), matrix, Int32(n), w, work, Int32(lwork), iwork, Int32(liwork))
        }
        guard info == 0 else { throw EmbdiagError.invalid(nil, "eigendecomposition did not converge (dsyevd info \(info))") }
        // dsyevd returns ascending values with eigenvectors in columns; reorder to descending rows.
        var values = [Double](repeating: 0, count: n)
        var vectors = [Double](repeating: 0, count: n * n)
        for k in 0..<n {
            let src = n - 1 - k
            values[k] = w[src]
            for i in 0..<n { vectors[k * n + i] = matrix[i + src * n] }
        }
        return SymmetricEigen(values: values, vectors: vectors, dimension: n)
    }

    /// Thin SVD of a row-major Float64 m × n matrix by LAPACKE_dgesdd.
    public static func singularValueDecomposition(_ a: [Double], rows m: Int, cols n: Int, computeVectors: Bool = true) throws -> SingularValueDecomposition {
        precondition(a.count == m * n)
        let r = min(m, n)
        if r == 0 { return SingularValueDecomposition(u: [], singularValues: [], vt: [], rows: m, cols: n) }
        var work = a
        var s = [Double](repeating: 0, count: r)
        var u = [Double](repeating: 0, count: computeVectors ? m * r : 1)
        // Row-major dgesdd checks ldvt ≥ n even with jobz 'N' (linking-notes).
        var vt = [Double](repeating: 0, count: computeVectors ? r * n : n)
        let job = CChar(UInt8(ascii: computeVectors ? "S" : "N"))
        let info = LAPACKE_dgesdd(LAPACK_ROW_MAJOR, job, Int32(m), Int32(n), &work, Int32(n), &s,
                                  &u, Int32(computeVectors ? r : 1), &vt, Int32(n))
        guard info == 0 else { throw EmbdiagError.invalid(nil, "SVD did not converge (dgesdd info \(info))") }
        return SingularValueDecomposition(u: computeVectors ? u : [], singularValues: s, vt: computeVectors ? vt : [], rows: m, cols: n)
    }

    /// Thin SVD of a Float32 matrix (converted to Float64 first: the matrices decomposed here are
    /// d × d or small samples).
    public static func singularValueDecomposition(_ m: Matrix, computeVectors: Bool = true) throws -> SingularValueDecomposition {
        let a = (0..<m.count).map { Double(m.pointer[$0]) }
        return try LAPACK.singularValueDecomposition(a, rows: m.rows, cols: m.cols, computeVectors: computeVectors)
    }

    /// Solves the symmetric positive definite system A X = B (A n×n, B n×k, row-major Float64) by
    /// Cholesky (LAPACKE_dposv). Throws when A is not positive definite.
    public static func solveSymmetricPositiveDefinite(_ a: [Double], _ b: [Double], n: Int, rhs k: Int) throws -> [Double] {
        var aw = a, bw = b
        let info = LAPACKE_dposv(LAPACK_ROW_MAJOR, CChar(UInt8(ascii: "U")), Int32(n), Int32(k), &aw, Int32(n), &bw, Int32(k))
        guard info == 0 else { throw EmbdiagError.invalid(nil, "matrix is not positive definite (dposv info \(info)); add regularisation") }
        return bw
    }
}
