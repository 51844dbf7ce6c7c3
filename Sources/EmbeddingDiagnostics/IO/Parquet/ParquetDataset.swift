import CLibCrypto
import Foundation

/// Several Parquet files read as one source: a directory (its `*.parquet` files) or a glob
/// (`dir/*.parquet`, quoted so that embdiag expands it), in byte order of their paths.
enum ParquetDataset {
    /// The files of a dataset path, or nil when `path` is a plain file (or names nothing).
    static func files(_ path: String) throws -> [String]? {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { return nil }
            let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            // Files starting with '_' or '.' are not data (_SUCCESS, _common_metadata, temporary
            // attempt files of Spark/Hadoop commits, Dask): pyarrow.dataset, Spark and Hive skip them.
            let files = names.filter { $0.lowercased().hasSuffix(".parquet") && !$0.hasPrefix(".") && !$0.hasPrefix("_") }
                .sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
                .map { (path as NSString).appendingPathComponent($0) }
            guard !files.isEmpty else { throw EmbdiagError.io(path, "is a directory without .parquet files (names starting with _ or . are not data and are skipped)") }
            return files
        }
        guard path.contains(where: { "*?[".contains($0) }) else { return nil }
        var g = glob_t()
        defer { globfree(&g) }
        guard glob(path, 0, nil, &g) == 0, g.gl_pathc > 0 else { throw EmbdiagError.io(path, "no file matches this pattern") }
        var files: [String] = []
        for k in 0..<Int(g.gl_pathc) { if let p = g.gl_pathv[k] { files.append(String(cString: p)) } }
        files.sort { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        return files
    }

    /// `--label-column` is a name for Parquet; a number (a CSV column) would otherwise be ignored.
    static func requireNamedLabelColumn(_ options: ReadOptions) throws {
        if let n = options.labelColumn {
            throw EmbdiagError.usage("\(Setting.labelColumn) \(n): for Parquet it is a column name (a number means a CSV column)")
        }
    }

    /// SHA-256 of the files' bytes concatenated in reading order (one file: its own SHA-256).
    static func sha256(ofFiles files: [String]) throws -> String {
        if files.count == 1 { return try Checksum.sha256(ofFile: files[0]) }
        let ctx = EVP_MD_CTX_new()
        defer { EVP_MD_CTX_free(ctx) }
        EVP_DigestInit_ex(ctx, EVP_sha256(), nil)
        for f in files {
            guard let h = FileHandle(forReadingAtPath: f) else { throw EmbdiagError.io(f, "cannot open file for reading") }
            defer { try? h.close() }
            while let chunk = try? h.read(upToCount: 8 << 20), !chunk.isEmpty {
                chunk.withUnsafeBytes { _ = EVP_DigestUpdate(ctx, $0.baseAddress, $0.count) }
            }
        }
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        EVP_DigestFinal_ex(ctx, &digest, &length)
        return digest.prefix(Int(length)).map { String(format: "%02x", $0) }.joined()
    }
}
