import Foundation

/// A labels file: one label per line (UTF-8; CRLF tolerated; a final newline optional).
public enum LabelsFile {
    public static func read(_ path: String, expectedCount: Int, matrixPath: String) throws -> [String] {
        let file = try MappedFile(path)
        var text = String(decoding: file.buffer, as: UTF8.self)
        if text.hasSuffix("\n") { text.removeLast() }
        var labels = text.isEmpty && expectedCount == 0 ? [] : text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            line.hasSuffix("\r") ? String(line.dropLast()) : String(line)
        }
        if labels == [""] && expectedCount != 1 { labels = [] }
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
