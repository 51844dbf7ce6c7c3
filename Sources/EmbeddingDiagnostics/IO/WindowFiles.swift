import Foundation

/// A directory of windows (`shift REF daily/`): one .npy file per window, in byte order of the
/// file names (so `2024-01-05.npy` sorts by date), each optionally labelled by a text file of the
/// same name (`2024-01-05.txt`, one label per row). A directory holding .parquet files is a
/// Parquet dataset instead (one source), never a directory of windows.
public enum WindowFiles {
    /// The window files of `path`, or nil when `path` is not such a directory.
    ///
    /// - Complexity: O(entries of the directory).
    public static func list(_ path: String) throws -> [String]? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else { return nil }
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: path) } catch {
            throw EmbdiagError.io(path, "cannot list the directory: \(error.localizedDescription)")
        }
        if names.contains(where: { $0.lowercased().hasSuffix(".parquet") }) { return nil }
        let windows = names.filter { $0.lowercased().hasSuffix(".npy") && !$0.hasPrefix(".") }
            .sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        guard !windows.isEmpty else { throw EmbdiagError.io(path, "is a directory without .npy files (one per window) or .parquet files (a Parquet dataset)") }
        return windows.map { (path as NSString).appendingPathComponent($0) }
    }

    /// The labels file of a window file (`day.npy` → `day.txt`), nil when there is none.
    public static func labelsFile(of window: String) -> String? {
        let candidate = (window as NSString).deletingPathExtension + ".txt"
        return FileManager.default.fileExists(atPath: candidate) ? candidate : nil
    }

    /// The window's name: the file name without its extension.
    public static func name(of window: String) -> String {
        ((window as NSString).lastPathComponent as NSString).deletingPathExtension
    }
}
