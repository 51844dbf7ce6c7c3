import Foundation

/// A labels file: one label per line (UTF-8; CRLF tolerated; a final newline optional).
public enum LabelsFile {
    public static func read(_ path: String, expectedCount: Int, matrixPath: String) throws -> [String] {
        let file = try MappedFile(path)
        // Split the bytes (not Characters: Swift treats "\r\n" as one grapheme).
        var labels: [String] = []
        var start = 0
        let b = file.buffer
        for i in 0..<b.count where b[i] == 0x0A {
            let end = i > start && b[i - 1] == 0x0D ? i - 1 : i
            labels.append(String(decoding: UnsafeRawBufferPointer(rebasing: b[start..<end]), as: UTF8.self))
            start = i + 1
        }
        if start < b.count { labels.append(String(decoding: UnsafeRawBufferPointer(rebasing: b[start...]), as: UTF8.self)) }
        guard labels.count == expectedCount else {
            throw EmbdiagError.mismatch(path, "has \(labels.count) labels but \(matrixPath) has \(expectedCount) rows")
        }
        return labels
    }

    /// Writes one label per line (newlines inside labels become spaces), atomically.
    public static func write(_ labels: [String], to path: String) throws {
        let text = labels.map { $0.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ") }.joined(separator: "\n") + "\n"
        try AtomicFile.write(text, to: path)
    }
}
