import Foundation
import Synchronization

/// Inputs that are streams rather than files: `-` (stdin), a pipe or FIFO, a character device.
/// They cannot be memory-mapped or read twice, so they are copied once into a temporary regular
/// file (keeping the original extension for format detection), which the readers then map.
/// Error messages name the path the user gave (`-` is shown as `<stdin>`), never the temporary.
public enum StreamInput {
    /// How `-` is named in messages and reports.
    public static let stdinName = "<stdin>"

    /// The name to show for `path`.
    public static func displayName(_ path: String) -> String { path == "-" ? stdinName : path }

    /// True for `-` and for paths that exist but are not regular files or directories (FIFOs,
    /// /dev/stdin, process substitutions).
    public static func isStream(_ path: String) -> Bool {
        if path == "-" { return true }
        var st = stat()
        guard stat(path, &st) == 0 else { return false }
        let type = st.st_mode & S_IFMT
        return type == S_IFIFO || type == S_IFCHR || type == S_IFSOCK
    }

    /// Whether this process has read stdin: a second `-` would find it empty.
    private static let stdinConsumed = Atomic<Bool>(false)

    /// Copies the stream into a temporary file and returns its path (delete it with `remove`).
    /// - Complexity: O(bytes), one sequential pass.
    public static func materialize(_ path: String) throws -> String {
        if path == "-" {
            guard stdinConsumed.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged else {
                throw EmbdiagError.usage("\(stdinName): standard input can be read once; give '-' for one input only (save the others to files)")
            }
        }
        let ext = path == "-" ? "" : URL(fileURLWithPath: path).pathExtension
        let tmp = FileManager.default.temporaryDirectory
            .appendingPathComponent("embdiag-stream-\(getpid())-\(UUID().uuidString)" + (ext.isEmpty ? "" : "." + ext)).path
        let source: Int32 = path == "-" ? 0 : open(path, O_RDONLY)
        guard source >= 0 else { throw EmbdiagError.io(displayName(path), "cannot open: \(String(cString: strerror(errno)))") }
        defer { if path != "-" { close(source) } }
        let target = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard target >= 0 else { throw EmbdiagError.io(displayName(path), "cannot create a temporary copy of the stream: \(String(cString: strerror(errno)))") }
        defer { close(target) }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                unlink(tmp)
                throw EmbdiagError.io(displayName(path), "read failed: \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            var written = 0
            while written < n {
                let w = buffer.withUnsafeBytes { write(target, $0.baseAddress! + written, n - written) }
                if w < 0 {
                    if errno == EINTR { continue }
                    unlink(tmp)
                    throw EmbdiagError.io(displayName(path), "cannot copy the stream to a temporary file: \(String(cString: strerror(errno)))")
                }
                written += w
            }
        }
        return tmp
    }

    /// Runs `body` on a readable regular-file path for `path`: the path itself, or a temporary
    /// copy of a stream. Errors mentioning the temporary are rewritten to name `path`.
    public static func withRegularFile<T>(_ path: String, _ body: (String) throws -> T) throws -> T {
        guard isStream(path) else { return try body(path) }
        let tmp = try materialize(path)
        defer { unlink(tmp) }
        let shown = displayName(path)
        do {
            return try body(tmp)
        } catch let e as EmbdiagError {
            throw EmbdiagError(e.kind, path: e.path.map { $0.replacingOccurrences(of: tmp, with: shown) },
                               e.message.replacingOccurrences(of: tmp, with: shown))
        }
    }
}
