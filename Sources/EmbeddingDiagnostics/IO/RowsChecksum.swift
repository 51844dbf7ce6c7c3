import CLibCrypto
import Foundation

/// SHA-256 of rows read from a source that is not a file (a database query), in a canonical form
/// that does not depend on how the server formatted the values:
///
/// for every row, in the order read: if the source has labels, the label's UTF-8 byte count as a
/// little-endian UInt32 followed by the bytes; then the vector's length d as a little-endian UInt32
/// followed by d little-endian float32 values (as stored in the matrix), or 0xFFFFFFFF alone for a
/// NULL vector. Nothing else (no header, no row count).
///
/// Recomputed from the written `.npy` + labels it gives the same hex digest (Guides/Formats.md).
final class RowsChecksum {
    private let context: OpaquePointer?

    init() {
        context = EVP_MD_CTX_new()
        EVP_DigestInit_ex(context, EVP_sha256(), nil)
    }

    deinit { EVP_MD_CTX_free(context) }

    /// - Complexity: O(bytes of the label).
    func addLabel(_ utf8: UnsafeBufferPointer<UInt8>) {
        addLength(UInt32(truncatingIfNeeded: utf8.count))
        EVP_DigestUpdate(context, utf8.baseAddress, utf8.count)
    }

    /// - Complexity: O(bytes of the label).
    func addLabel(_ label: String) {
        var label = label
        label.withUTF8 { addLabel($0) }
    }

    /// - Complexity: O(d).
    func addVector(_ values: UnsafePointer<Float>, count d: Int) {
        addLength(UInt32(truncatingIfNeeded: d))
        #if _endian(little)
        EVP_DigestUpdate(context, values, 4 * d)
        #else
        for j in 0..<d { withUnsafeBytes(of: values[j].bitPattern.littleEndian) { _ = EVP_DigestUpdate(context, $0.baseAddress, 4) } }
        #endif
    }

    func addNullVector() { addLength(0xFFFF_FFFF) }

    private func addLength(_ n: UInt32) {
        withUnsafeBytes(of: n.littleEndian) { _ = EVP_DigestUpdate(context, $0.baseAddress, 4) }
    }

    /// The hex digest (call once).
    func finish() -> String {
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        EVP_DigestFinal_ex(context, &digest, &length)
        return digest.prefix(Int(length)).map { String(format: "%02x", $0) }.joined()
    }
}
