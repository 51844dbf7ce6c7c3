import Foundation

/// A read-only memory mapping of a whole file. Big matrices are used in place from the page
/// cache instead of being copied into new memory (which runs at only 0.5–2 GB/s in this VM).
public final class MappedFile: @unchecked Sendable {
    public let path: String
    public let size: Int
    public let bytes: UnsafeRawPointer
    private let mapping: UnsafeMutableRawPointer?

    public init(_ path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw EmbdiagError.io(path, "cannot open file: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw EmbdiagError.io(path, "cannot stat file") }
        size = Int(st.st_size)
        if size == 0 {
            mapping = nil
            bytes = UnsafeRawPointer(UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 16))
            return
        }
        let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let p, p != MAP_FAILED else { throw EmbdiagError.io(path, "cannot map file: \(String(cString: strerror(errno)))") }
        madvise(p, size, MADV_SEQUENTIAL)
        mapping = p
        bytes = UnsafeRawPointer(p)
    }

    deinit {
        if let mapping { munmap(mapping, size) } else { UnsafeMutableRawPointer(mutating: bytes).deallocate() }
    }

    public var buffer: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: bytes, count: size) }

    /// A matrix viewing `rows × cols` Float32 values at byte `offset` (must be 4-byte aligned).
    /// The mapping stays alive as long as the matrix does.
    public func float32Matrix(rows: Int, cols: Int, offset: Int) -> Matrix {
        precondition(offset % 4 == 0 && offset + rows * cols * 4 <= size)
        let base = UnsafeMutablePointer(mutating: (bytes + offset).assumingMemoryBound(to: Float.self))
        let storage = MatrixStorage(borrowing: base, count: rows * cols, isMapped: true) { [self] in _ = self }
        return Matrix(rows: rows, cols: cols, storage: storage)
    }
}
