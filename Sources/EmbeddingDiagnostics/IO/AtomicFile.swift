import Foundation

/// Writes files so that a failure (or SIGKILL) never leaves a half-written file under the final
/// name: data goes to `.<name>.embdiag-tmp-<pid>` in the same folder, is flushed, then renamed.
public enum AtomicFile {
    /// Prefix of temporary files, so leftovers of a killed run are recognisable and cleaned.
    public static let temporaryMarker = ".embdiag-tmp-"

    /// When set (by `embdiag audit` around its checks), every file written must resolve, after
    /// following symbolic links, to a place inside this folder; anything else is refused before a
    /// byte is written. Scoped to the task (or thread) that binds it.
    @TaskLocal public static var confinement: String?

    /// The files of one all-or-nothing group (`allOrNothing`): written to their temporaries,
    /// renamed into place together when the group succeeds, removed when it fails.
    public final class Group: @unchecked Sendable {
        /// (temporary, final path, name shown in messages), in write order.
        var pending: [(temporary: String, path: String, shownAs: String)] = []
        /// Files removed when the group commits (stale outputs of an earlier run).
        var removals: [String] = []
        let lock = NSLock()
    }

    /// Set by `allOrNothing`: regular files written meanwhile wait under their temporary names.
    @TaskLocal public static var group: Group?

    /// Runs `body` so that its regular-file writes are all-or-nothing: every file goes to its
    /// temporary name, and only when `body` returns (or throws an error `commitsOn` accepts, e.g. a
    /// failed gate whose report must stay) are they all renamed into place; otherwise every
    /// temporary is removed and no file of the group carries its final name. Devices, pipes and
    /// stdout are written directly (they cannot be renamed). Groups nest: an inner one commits
    /// (or discards) its own files.
    /// - Complexity: O(files) renames after `body`.
    public static func allOrNothing<T>(commitsOn: (Error) -> Bool = { _ in false }, _ body: () throws -> T) throws -> T {
        let g = Group()
        let result: T
        do {
            result = try $group.withValue(g) { try body() }
        } catch {
            if commitsOn(error) { try commit(g) } else { discard(g) }
            throw error
        }
        try commit(g)
        return result
    }

    /// Renames every pending temporary into place; on a failure removes the temporaries not yet
    /// renamed (targets were checked when written, so a rename fails only on a concurrent change).
    static func commit(_ g: Group) throws {
        g.lock.lock()
        let pending = g.pending, removals = g.removals
        g.pending = []
        g.removals = []
        g.lock.unlock()
        for (k, entry) in pending.enumerated() where rename(entry.temporary, entry.path) != 0 {
            let reason = String(cString: strerror(errno))
            for later in pending[k...] { unlink(later.temporary) }
            throw EmbdiagError.io(entry.shownAs, "cannot rename temporary file into place: \(reason)")
        }
        for path in removals { unlink(path) }
    }

    /// Where the bytes just written to `path` are now: its temporary while an `allOrNothing`
    /// group holds it back, else `path` itself (a writer that checksums its own file reads here).
    /// - Complexity: O(files pending).
    public static func currentPath(of path: String) -> String {
        guard let g = group else { return path }
        g.lock.lock()
        defer { g.lock.unlock() }
        return g.pending.last { $0.shownAs == path || $0.path == path }?.temporary ?? path
    }

    /// Removes a file written by an earlier run: when the enclosing `allOrNothing` group commits
    /// (so a failed run leaves the earlier files as they were), at once outside a group.
    public static func removeStale(_ path: String) throws {
        try PathContainment.requireConfined(path)
        if let g = group {
            g.lock.lock()
            g.removals.append(path)
            g.lock.unlock()
        } else {
            unlink(path)
        }
    }

    static func discard(_ g: Group) {
        g.lock.lock()
        defer { g.lock.unlock() }
        for entry in g.pending { unlink(entry.temporary) }
        g.pending = []
        g.removals = []
    }

    public static func temporaryPath(for path: String) -> String {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        return dir + "/" + "." + url.lastPathComponent + temporaryMarker + String(getpid())
    }

    /// Writes `data` atomically.
    public static func write(_ data: Data, to path: String) throws {
        try write(to: path) { handle in try handle.write(contentsOf: data) }
    }

    public static func write(_ string: String, to path: String) throws {
        try write(Data(string.utf8), to: path)
    }

    /// Streams into a temporary file through `body`, then fsyncs and renames it to `path`.
    /// `-` writes to stdout. A symlink is written through (its target is replaced atomically, the
    /// link stays); a target that is not a regular file (/dev/stdout, a pipe, a FIFO) is written
    /// directly, since it cannot be renamed over.
    public static func write(to givenPath: String, body: (FileHandle) throws -> Void) throws {
        if givenPath == "-" {
            do { try body(FileHandle.standardOutput) } catch {
                throw EmbdiagError.io("<stdout>", "write failed: \(error.localizedDescription)")
            }
            return
        }
        try PathContainment.requireConfined(givenPath)
        var st = stat()
        var path = givenPath
        if stat(givenPath, &st) == 0 {
            // Exists (after following every link): a directory is an error, a device, pipe or
            // FIFO is written directly, a regular file is replaced atomically at its real path.
            let type = st.st_mode & S_IFMT
            if type == S_IFDIR { throw EmbdiagError.io(givenPath, "is a directory; give a file name") }
            // /dev/stdout, /dev/fd/N, /proc/self/fd/N redirected to a file are still the open
            // descriptor: write through it (a rename would detach the file from the shell).
            let descriptor = givenPath.hasPrefix("/dev/") || givenPath.hasPrefix("/proc/")
            if type == S_IFREG && !descriptor {
                path = realpath(givenPath, nil).map { p in defer { free(p) }; return String(cString: p) } ?? givenPath
            } else {
                // Append to a descriptor shared with the shell (stdout redirected to a file).
                let fd = open(givenPath, O_WRONLY | (descriptor ? O_APPEND : 0))
                guard fd >= 0 else {
                    throw EmbdiagError.io(givenPath, "cannot open for writing: \(String(cString: strerror(errno)))")
                }
                let handle = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
                do { try body(handle); try? handle.close() } catch {
                    try? handle.close()
                    throw EmbdiagError.io(givenPath, "write failed: \(error.localizedDescription)")
                }
                return
            }
        } else {
            // A dangling symlink: create its target.
            path = resolvingSymlinks(givenPath)
        }
        try writeRegular(to: path, shownAs: givenPath, body: body)
    }

    /// Follows a chain of symbolic links (also dangling ones: the final target is created).
    static func resolvingSymlinks(_ path: String) -> String {
        var current = path
        for _ in 0..<40 {
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: current) else { return current }
            current = target.hasPrefix("/") ? target : URL(fileURLWithPath: current).deletingLastPathComponent().appendingPathComponent(target).path
        }
        return current
    }

    static func writeRegular(to path: String, shownAs: String, body: (FileHandle) throws -> Void) throws {
        let tmp = temporaryPath(for: path)
        removeStaleTemporaries(besides: path)
        guard FileManager.default.createFile(atPath: tmp, contents: nil) else {
            throw EmbdiagError.io(shownAs, "cannot create file (is the folder writable and present?)")
        }
        do {
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: tmp))
            do {
                try body(handle)
                try handle.synchronize()
                pauseForFaultInjection()
                try handle.close()
            } catch {
                try? handle.close()
                throw error
            }
            if let g = group {
                // Renamed with the rest of the group (a second write of the same file replaced the temporary).
                g.lock.lock()
                g.pending.removeAll { $0.temporary == tmp }
                g.pending.append((tmp, path, shownAs))
                g.lock.unlock()
                return
            }
            guard rename(tmp, path) == 0 else {
                throw EmbdiagError.io(shownAs, "cannot rename temporary file into place: \(String(cString: strerror(errno)))")
            }
        } catch let e as EmbdiagError {
            unlink(tmp)
            throw e
        } catch {
            unlink(tmp)
            throw EmbdiagError.io(shownAs, "write failed: \(error.localizedDescription)")
        }
    }

    /// Fault injection for the kill tests: with EMBDIAG_SLOW_WRITES_MS set, every write pauses
    /// between "data written to the temporary" and "renamed", so a test can kill the process there.
    static func pauseForFaultInjection() {
        if let ms = ProcessInfo.processInfo.environment["EMBDIAG_SLOW_WRITES_MS"].flatMap(Int.init), ms > 0 {
            usleep(UInt32(min(ms, 60_000)) * 1000)
        }
    }

    /// Removes temporaries left by killed runs for this target (other PIDs that no longer run).
    public static func removeStaleTemporaries(besides path: String) {
        let url = URL(fileURLWithPath: path)
        let dir = url.deletingLastPathComponent().path
        let prefix = "." + url.lastPathComponent + temporaryMarker
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return }
        for name in names where name.hasPrefix(prefix) {
            if let pid = Int32(name.dropFirst(prefix.count)), pid != getpid(), kill(pid, 0) != 0 {
                unlink(dir + "/" + name)
            }
        }
    }
}
