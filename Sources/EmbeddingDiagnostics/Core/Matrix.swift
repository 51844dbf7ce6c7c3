import Foundation

/// Owner of a block of Float32 memory: either heap-allocated or a read-only file mapping.
/// Class so that a `Matrix` can be copied cheaply and the memory is released exactly once.
public final class MatrixStorage: @unchecked Sendable {
    public let base: UnsafeMutablePointer<Float>
    public let count: Int
    private let release: (() -> Void)?
    /// True when the memory is a read-only mapping of a file (writes would fault).
    public let isMapped: Bool

    /// Zero-initialised heap storage.
    public init(count: Int) {
        let n = max(count, 1)
        base = UnsafeMutablePointer<Float>.allocate(capacity: n)
        base.initialize(repeating: 0, count: n)
        self.count = count
        release = nil
        isMapped = false
    }

    /// Storage over memory owned elsewhere (e.g. an mmap); `release` is called on deinit.
    public init(borrowing base: UnsafeMutablePointer<Float>, count: Int, isMapped: Bool, release: @escaping () -> Void) {
        self.base = base
        self.count = count
        self.release = release
        self.isMapped = isMapped
    }

    deinit {
        if let release { release() } else { base.deallocate() }
    }
}

/// A dense row-major n × d matrix of Float32: the one matrix type of embdiag.
///
/// **Reference semantics**, like `UnsafeMutableBufferPointer`: a `Matrix` is a view (shape and
/// offset) of a shared `MatrixStorage`, so copies of the value and `rows(_:)` views share memory,
/// and writing through one (`m[i, j] = x`, `mutablePointer`) is seen by all — which is why the
/// subscript's setter is `nonmutating`. `copy()` and `gather(rows:)` make independent matrices.
/// Rows are embeddings. The memory may be a read-only file mapping (see `isMapped`); mutate only
/// matrices you built yourself with `init(rows:cols:)` or `copy()`.
public struct Matrix: Sendable {
    public let rows: Int
    public let cols: Int
    public let storage: MatrixStorage
    /// Offset (in elements) of element (0,0) inside `storage`.
    public let offset: Int

    public init(rows: Int, cols: Int) {
        precondition(rows >= 0 && cols >= 0)
        self.rows = rows
        self.cols = cols
        self.storage = MatrixStorage(count: rows * cols)
        self.offset = 0
    }

    public init(rows: Int, cols: Int, storage: MatrixStorage, offset: Int = 0) {
        precondition(offset + rows * cols <= storage.count || rows * cols == 0)
        self.rows = rows
        self.cols = cols
        self.storage = storage
        self.offset = offset
    }

    /// Builds a matrix from row-major values (tests, small inputs).
    public init(rows: Int, cols: Int, values: [Float]) {
        precondition(values.count == rows * cols, "values.count must equal rows * cols")
        self.init(rows: rows, cols: cols)
        values.withUnsafeBufferPointer { src in
            if let s = src.baseAddress { storage.base.update(from: s, count: values.count) }
        }
    }

    /// Builds a matrix from an array of equally long rows (tests, small inputs).
    public init(_ rowArrays: [[Float]]) {
        let d = rowArrays.first?.count ?? 0
        precondition(rowArrays.allSatisfy { $0.count == d }, "ragged rows")
        self.init(rows: rowArrays.count, cols: d, values: rowArrays.flatMap { $0 })
    }

    public var count: Int { rows * cols }
    public var isMapped: Bool { storage.isMapped }

    /// Pointer to element (0,0); rows are contiguous with stride `cols`.
    @inlinable public var pointer: UnsafePointer<Float> { UnsafePointer(storage.base + offset) }

    /// Mutable pointer; only for matrices whose memory is not a read-only mapping.
    public var mutablePointer: UnsafeMutablePointer<Float> {
        precondition(!storage.isMapped, "a mapped matrix is read-only: copy() it first")
        return storage.base + offset
    }

    @inlinable public subscript(row: Int, col: Int) -> Float {
        get { pointer[row * cols + col] }
        nonmutating set {
            precondition(!storage.isMapped, "a mapped matrix is read-only: copy() it first")
            (storage.base + offset)[row * cols + col] = newValue
        }
    }

    /// Row i as a buffer (no copy).
    @inlinable public func row(_ i: Int) -> UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(start: pointer + i * cols, count: cols)
    }

    public func rowArray(_ i: Int) -> [Float] { Array(row(i)) }

    /// A view of rows `range` sharing the same memory.
    public func rows(_ range: Range<Int>) -> Matrix {
        precondition(range.lowerBound >= 0 && range.upperBound <= rows)
        return Matrix(rows: range.count, cols: cols, storage: storage, offset: offset + range.lowerBound * cols)
    }

    /// A writable heap copy.
    public func copy() -> Matrix {
        let m = Matrix(rows: rows, cols: cols)
        if count > 0 { m.storage.base.update(from: pointer, count: count) }
        return m
    }

    /// Gathers the given rows into a new matrix.
    public func gather(rows indices: [Int]) -> Matrix {
        let m = Matrix(rows: indices.count, cols: cols)
        for (k, i) in indices.enumerated() {
            precondition(i >= 0 && i < rows, "row index out of range")
            (m.storage.base + k * cols).update(from: pointer + i * cols, count: cols)
        }
        return m
    }

    /// All values, row-major (tests, small inputs).
    public var values: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
}
