import Foundation

/// Writes files so that a failure (or SIGKILL) never leaves a half-written file under the final
/// name: data goes to `.<name>.embdiag-tmp-<pid>` in the same folder, is flushed, then renamed.
public enum AtomicFile {
    /// Prefix of temporary files, so leftovers of a killed run are recognisable and cleaned.
    public static let temporaryMarker = ".embdiag-tmp-"

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
    public static func write(to path: String, body: (FileHandle) throws -> Void) throws {
        let tmp = temporaryPath(for: path)
        removeStaleTemporaries(besides: path)
        guard FileManager.default.createFile(atPath: tmp, contents: nil) else {
            throw EmbdiagError.io(path, "cannot create file (is the folder writable and present?)")
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
            guard rename(tmp, path) == 0 else {
                throw EmbdiagError.io(path, "cannot rename temporary file into place: \(String(cString: strerror(errno)))")
            }
        } catch let e as EmbdiagError {
            unlink(tmp)
            throw e
        } catch {
            unlink(tmp)
            throw EmbdiagError.io(path, "write failed: \(error.localizedDescription)")
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
