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

    /// Prefix of the temporary copies in the temporary folder: `embdiag-stream-<pid>-<uuid>`.
    public static let temporaryPrefix = "embdiag-stream-"

    /// The most a stream may put in its temporary copy: the memory budget (`MemoryBudget.installed`,
    /// `--memory-budget` / `EMBDIAG_MEMORY_BUDGET`, else half of the physical memory) — a matrix
    /// larger than that could not be analysed in memory anyway. A stream beyond it is refused as
    /// the copy proceeds, never copied whole first (an endless pipe would fill the disk).
    public static var copyLimit: MemoryBudget { MemoryBudget.installed.value }

    /// Copies the stream into a temporary file and returns its path (delete it with `unlink`).
    /// The copy is bounded: by `copyLimit`, and for a .npy stream by the size its header declares
    /// (bytes after the declared data are not read, as the .npy reader ignores them in a file).
    /// A character device other than a terminal (`/dev/zero`, `/dev/urandom`) is refused before
    /// anything is copied: it is no file embdiag reads and may never end. The copy is removed
    /// when the process is stopped by SIGTERM, SIGINT or SIGHUP (`removeCopiesOnSignals`), and
    /// copies left by killed runs (their process gone) are removed by the next one.
    /// - Complexity: O(bytes), one sequential pass.
    public static func materialize(_ path: String) throws -> String {
        if path == "-" {
            guard stdinConsumed.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged else {
                throw EmbdiagError.usage("\(stdinName): standard input can be read once; give '-' for one input only (save the others to files)")
            }
        }
        let ext = path == "-" ? "" : URL(fileURLWithPath: path).pathExtension
        let folder = FileManager.default.temporaryDirectory.path
        removeStaleCopies(in: folder)
        let tmp = folder + "/" + temporaryPrefix + "\(getpid())-\(UUID().uuidString)" + (ext.isEmpty ? "" : "." + ext)
        let source: Int32 = path == "-" ? 0 : open(path, O_RDONLY)
        guard source >= 0 else { throw EmbdiagError.io(displayName(path), "cannot open: \(String(cString: strerror(errno)))") }
        defer { if path != "-" { close(source) } }
        var st = stat()
        if fstat(source, &st) == 0, (st.st_mode & S_IFMT) == S_IFCHR, isatty(source) == 0 {
            throw EmbdiagError.usage("\(displayName(path)): a character device (such as /dev/zero), not a file, pipe or terminal: embdiag reads files, pipes and standard input")
        }
        let limit = copyLimit
        let target = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard target >= 0 else { throw EmbdiagError.io(displayName(path), "cannot create a temporary copy of the stream: \(String(cString: strerror(errno)))") }
        let slot = register(tmp)
        var keep = false
        defer {
            close(target)
            if !keep { unlink(tmp) }
            unregister(slot)
        }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var copied: UInt64 = 0
        // The first bytes, kept until a .npy header can be judged (nil once judged).
        var head: [UInt8]? = []
        var declared: UInt64?
        while true {
            var want = buffer.count
            if let declared { want = Int(min(UInt64(want), declared - copied)) }
            if want == 0 { break }
            let n = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, want) }
            if n < 0 {
                if errno == EINTR { continue }
                throw EmbdiagError.io(displayName(path), "read failed: \(String(cString: strerror(errno)))")
            }
            if n == 0 { break }
            if copied + UInt64(n) > limit.bytes {
                throw EmbdiagError.usage("\(displayName(path)): the stream is larger than \(limit) — the most a stream is copied to a temporary file before it is read; save it to a file, or raise the limit with --memory-budget or EMBDIAG_MEMORY_BUDGET")
            }
            var written = 0
            while written < n {
                let w = buffer.withUnsafeBytes { write(target, $0.baseAddress! + written, n - written) }
                if w < 0 {
                    if errno == EINTR { continue }
                    throw EmbdiagError.io(displayName(path), "cannot copy the stream to a temporary file: \(String(cString: strerror(errno)))")
                }
                written += w
            }
            copied += UInt64(n)
            if head != nil {
                head! += buffer[0..<min(n, Self.npyHeadLimit - head!.count)]
                switch npyDeclaredSize(head!) {
                case .needMore where head!.count < Self.npyHeadLimit: break
                case .size(let size):
                    head = nil
                    if size > limit.bytes {
                        throw EmbdiagError.usage("\(displayName(path)): its .npy header declares \(size) bytes, more than \(limit) — the most a stream is copied to a temporary file before it is read; save it to a file, or raise the limit with --memory-budget or EMBDIAG_MEMORY_BUDGET")
                    }
                    declared = max(size, copied)
                default: head = nil  // not a .npy (or a header the reader will refuse): the limit alone
                }
            }
        }
        keep = true
        return tmp
    }

    /// Bytes of a stream kept to read a .npy header (its length field allows up to 1 MiB).
    static let npyHeadLimit = (1 << 20) + 12

    enum DeclaredSize: Equatable { case needMore, size(UInt64), notNpy }

    /// The size a .npy file whose first bytes are `head` declares (header plus data), from the
    /// header the reader itself parses.
    static func npyDeclaredSize(_ head: [UInt8]) -> DeclaredSize {
        let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
        guard head.count >= 6 else { return Array(head) == Array(magic.prefix(head.count)) ? .needMore : .notNpy }
        guard Array(head[0..<6]) == magic else { return .notNpy }
        guard head.count >= 12 else { return .needMore }
        let length = head[6] == 1 ? Int(head[8]) | Int(head[9]) << 8 : Int(head[8]) | Int(head[9]) << 8 | Int(head[10]) << 16 | Int(head[11]) << 24
        guard head.count >= (head[6] == 1 ? 10 : 12) + length || length > 1 << 20 else { return .needMore }
        let header: NpyReader.Header, rows: Int, cols: Int, size: Int
        do {
            header = try head.withUnsafeBytes { try NpyReader.parseHeader($0, path: "") }
            (rows, cols) = try NpyReader.shape2D(header.shape, path: "")
            size = try NpyReader.dtype(header.descr, path: "").1
        } catch { return .notNpy }
        let (count, o1) = rows.multipliedReportingOverflow(by: cols)
        let (bytes, o2) = count.multipliedReportingOverflow(by: size)
        guard !o1, !o2, bytes >= 0 else { return .size(UInt64.max) }
        let (total, o3) = bytes.addingReportingOverflow(header.dataOffset)
        return o3 ? .size(UInt64.max) : .size(UInt64(total))
    }

    /// Removes the copies of earlier runs whose process no longer runs (killed by SIGKILL, say).
    static func removeStaleCopies(in folder: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
        for name in names where name.hasPrefix(temporaryPrefix) {
            let rest = name.dropFirst(temporaryPrefix.count)
            guard let pid = Int32(rest.prefix { $0 != "-" }), pid != getpid(), kill(pid, 0) != 0, errno == ESRCH else { continue }
            var st = stat()
            guard lstat(folder + "/" + name, &st) == 0, st.st_uid == getuid(), (st.st_mode & S_IFMT) == S_IFREG else { continue }
            unlink(folder + "/" + name)
        }
    }

    // The copies in use, as C strings the signal handler can unlink without allocating.
    nonisolated(unsafe) static let slots: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?> = {
        let p = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: slotCount)
        p.initialize(repeating: nil, count: slotCount)
        return p
    }()
    static let slotCount = 16
    private static let slotLock = NSLock()

    static func register(_ path: String) -> Int? {
        slotLock.lock()
        defer { slotLock.unlock() }
        for i in 0..<slotCount where slots[i] == nil {
            slots[i] = strdup(path)
            return i
        }
        return nil
    }

    static func unregister(_ slot: Int?) {
        guard let slot else { return }
        slotLock.lock()
        defer { slotLock.unlock() }
        let p = slots[slot]
        slots[slot] = nil
        free(p)
    }

    /// Installs handlers for SIGTERM, SIGINT and SIGHUP that remove the stream copies in use and
    /// then end the process as the signal would have (a signal the process ignores stays ignored).
    /// A front end calls this once, before reading anything.
    public static func removeCopiesOnSignals() {
        _ = slots
        for sig in [SIGTERM, SIGINT, SIGHUP] {
            var old = sigaction()
            guard sigaction(sig, nil, &old) == 0, unsafeBitCast(old.__sigaction_handler.sa_handler, to: Int.self) != 1 /* SIG_IGN */ else { continue }
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { received in
                for i in 0..<StreamInput.slotCount {
                    if let p = StreamInput.slots[i] { unlink(p) }
                }
                signal(received, SIG_DFL)
                raise(received)
            }
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            sigaction(sig, &action, nil)
        }
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
