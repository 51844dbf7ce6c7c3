import Foundation

/// A labels file: one label per line (UTF-8, strictly: invalid bytes are refused naming the line;
/// CRLF tolerated; a final newline optional).
public enum LabelsFile {
    public static func read(_ path: String, expectedCount: Int, matrixPath: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) || path == "-" else {
            throw EmbdiagError.io(path, "no such file")
        }
        guard !isDirectory.boolValue else { throw EmbdiagError.io(path, "is a directory, not a labels file (one label per line)") }
        return try StreamInput.withRegularFile(path) { try readFile($0, expectedCount: expectedCount, matrixPath: matrixPath, shownAs: StreamInput.displayName(path)) }
    }

    static func readFile(_ path: String, expectedCount: Int, matrixPath: String, shownAs: String) throws -> [String] {
        let file = try MappedFile(path)
        // Split the bytes (not Characters: Swift treats "\r\n" as one grapheme).
        var labels: [String] = []
        let b = file.buffer
        // A UTF-8 byte-order mark is not part of the first label (it would never match an id).
        var start = b.count >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF ? 3 : 0
        for i in start..<b.count where b[i] == 0x0A {
            let end = i > start && b[i - 1] == 0x0D ? i - 1 : i
            labels.append(try StrictUTF8.text(UnsafeRawBufferPointer(rebasing: b[start..<end]), path: shownAs, what: "line \(labels.count + 1)"))
            start = i + 1
        }
        if start < b.count { labels.append(try StrictUTF8.text(UnsafeRawBufferPointer(rebasing: b[start...]), path: shownAs, what: "line \(labels.count + 1)")) }
        guard labels.count == expectedCount else {
            throw EmbdiagError.mismatch(shownAs, "has \(labels.count) labels but \(matrixPath) has \(expectedCount) rows")
        }
        return labels
    }

    /// Writes one label per line, atomically. A label that `read` could not give back as it is —
    /// one holding a line feed or carriage return (it would become two labels, or lose the CR), or
    /// a first label starting with a byte-order mark (read as the file's own) — is refused before
    /// anything is written (`refuseUnwritable`): distinct labels must never read back as equal.
    public static func write(_ labels: [String], to path: String) throws {
        try refuseUnwritable(labels, path: path)
        try AtomicFile.write(labels.joined(separator: "\n") + "\n", to: path)
    }

    /// Throws a usage error naming the first label (0-based row) that a labels file cannot hold.
    /// - Complexity: O(total label length).
    public static func refuseUnwritable(_ labels: [String], path: String) throws {
        for (row, label) in labels.enumerated() {
            let breaks = label.utf8.contains(0x0A) || label.utf8.contains(0x0D)
            let mark = row == 0 && label.unicodeScalars.first == "\u{FEFF}"
            guard breaks || mark else { continue }
            let shown = EmbdiagError.escapingControlCharacters(String(label.prefix(60)))
            throw EmbdiagError.usage("\(path): the label of row \(row) (0-based) ('\(shown)') holds \(breaks ? "a line break (LF or CR)" : "a leading byte-order mark"), which a labels file (one label per line) cannot hold: it would not read back as the same label; remove the line breaks from the labels (or the mark) and convert again")
        }
    }
}
