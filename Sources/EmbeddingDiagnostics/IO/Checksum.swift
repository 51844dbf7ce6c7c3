import CLibCrypto
import Foundation

/// SHA-256 of files and buffers (OpenSSL EVP), recorded for every input of a report.
public enum Checksum {
    /// Hex SHA-256 of a file, read in 8 MiB chunks (memory stays bounded).
    public static func sha256(ofFile path: String) throws -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw EmbdiagError.io(path, "cannot open file for reading")
        }
        defer { try? handle.close() }
        let ctx = EVP_MD_CTX_new()
        defer { EVP_MD_CTX_free(ctx) }
        EVP_DigestInit_ex(ctx, EVP_sha256(), nil)
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        let progress = ProgressReporter.current.task("sha256 \(URL(fileURLWithPath: path).lastPathComponent)", total: size, minimum: 256 << 20)
        defer { progress?.finish() }
        var done = 0
        while true {
            let chunk: Data
            do { chunk = try handle.read(upToCount: 8 << 20) ?? Data() } catch {
                throw EmbdiagError.io(path, "read failed: \(error.localizedDescription)")
            }
            if chunk.isEmpty { break }
            chunk.withUnsafeBytes { _ = EVP_DigestUpdate(ctx, $0.baseAddress, $0.count) }
            done += chunk.count
            progress?.update(done)
        }
        return finish(ctx)
    }

    /// Hex SHA-256 of bytes in memory.
    public static func sha256(_ bytes: UnsafeRawBufferPointer) -> String {
        let ctx = EVP_MD_CTX_new()
        defer { EVP_MD_CTX_free(ctx) }
        EVP_DigestInit_ex(ctx, EVP_sha256(), nil)
        EVP_DigestUpdate(ctx, bytes.baseAddress, bytes.count)
        return finish(ctx)
    }

    public static func sha256(_ data: Data) -> String { data.withUnsafeBytes { sha256($0) } }

    private static func finish(_ ctx: OpaquePointer?) -> String {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        EVP_DigestFinal_ex(ctx, &digest, &length)
        return digest.prefix(Int(length)).map { String(format: "%02x", $0) }.joined()
    }
}
