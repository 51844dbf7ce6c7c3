import Foundation

/// Where a path really leads, and whether that is inside a folder: `embdiag audit` keeps every
/// file a check writes inside its report folder, whatever `../`, absolute paths or symbolic links
/// (also dangling ones, whose target a write would create) the path goes through.
public enum PathContainment {
    /// The absolute path `path` designates once every symbolic link on the way is followed
    /// (relative paths from the current directory; `..` after a link applies to its target, as
    /// the kernel does; components that do not exist yet are taken as written).
    /// - Complexity: O(components + links followed), at most 40 links.
    public static func resolve(_ path: String) -> String {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        var pending = absolute.split(separator: "/").map(String.init)
        var resolved: [String] = []
        var links = 0
        while !pending.isEmpty {
            let component = pending.removeFirst()
            if component == "." { continue }
            if component == ".." { if !resolved.isEmpty { resolved.removeLast() }; continue }
            let candidate = "/" + (resolved + [component]).joined(separator: "/")
            if links < 40, let target = try? FileManager.default.destinationOfSymbolicLink(atPath: candidate) {
                links += 1
                if target.hasPrefix("/") { resolved = [] }
                pending = target.split(separator: "/").map(String.init) + pending
                continue
            }
            resolved.append(component)
        }
        return "/" + resolved.joined(separator: "/")
    }

    /// Whether `path` resolves to `folder` or to something inside it (both resolved).
    /// - Complexity: that of `resolve`, twice.
    public static func isInside(_ path: String, folder: String) -> Bool {
        let root = resolve(folder), target = resolve(path)
        return target == root || target.hasPrefix(root == "/" ? "/" : root + "/")
    }

    /// Throws unless `path` stays inside the folder `AtomicFile.confinement` names (if any).
    static func requireConfined(_ path: String) throws {
        guard let root = AtomicFile.confinement, !isInside(path, folder: root) else { return }
        throw EmbdiagError.io(path, "leads outside the audit's output folder \(root) (to \(resolve(path))); an audit writes only inside --output")
    }
}
