import Foundation

/// Line-by-line access to a mapped text file with bounded line length, and strict number parsing.
struct TextLines {
    /// Longest accepted line: a file without newlines (or a corrupt one) is refused in bounded memory.
    static let maximumLineBytes = 16 << 20
    let file: MappedFile
    let path: String

    /// Calls `body(lineNumber (1-based), bytes of the line without \n or \r\n)`.
    func forEach(startingAt offset: Int = 0, firstLineNumber: Int = 1, _ body: (Int, UnsafeRawBufferPointer) throws -> Void) throws {
        let bytes = file.buffer
        var start = offset, line = firstLineNumber
        while start < bytes.count {
            let limit = min(bytes.count, start + TextLines.maximumLineBytes + 2)
            var end = start
            // memchr finds the newline at memory speed.
            if let p = memchr(file.bytes + start, 0x0A, limit - start) {
                end = file.bytes.distance(to: UnsafeRawPointer(p))
            } else if limit == bytes.count {
                end = bytes.count
            } else {
                throw EmbdiagError.malformed(path, "line \(line) is longer than \(TextLines.maximumLineBytes >> 20) MB (no newline): not a text embedding file")
            }
            var lineEnd = end
            if lineEnd > start && bytes[lineEnd - 1] == 0x0D { lineEnd -= 1 }
            try body(line, UnsafeRawBufferPointer(rebasing: bytes[start..<lineEnd]))
            start = end + 1
            line += 1
        }
    }
}

/// Parses a whole field as a Float (strtof on a NUL-terminated copy); nil if it is not a number.
@inline(__always)
func parseFloat(_ field: UnsafeRawBufferPointer, scratch: inout [CChar]) -> Float? {
    let n = field.count
    guard n > 0, n < 256 else { return nil }
    // strtof also reads C99 hex floats ("0x1p3"); numpy, pandas and Python's float() do not.
    if field.contains(where: { $0 == UInt8(ascii: "x") || $0 == UInt8(ascii: "X") }) { return nil }
    if scratch.count < n + 1 { scratch = [CChar](repeating: 0, count: n + 1) }
    return scratch.withUnsafeMutableBufferPointer { buf -> Float? in
        let base = buf.baseAddress!
        memcpy(base, field.baseAddress!, n)
        base[n] = 0
        var end: UnsafeMutablePointer<CChar>?
        let v = strtof(base, &end)
        guard let end, end == base + n else { return nil }
        return v
    }
}

/// Splits a line on runs of spaces/tabs.
@inline(__always)
func whitespaceFields(_ line: UnsafeRawBufferPointer) -> [Range<Int>] {
    var fields: [Range<Int>] = []
    var i = 0
    let n = line.count
    while i < n {
        while i < n && (line[i] == 0x20 || line[i] == 0x09) { i += 1 }
        let s = i
        while i < n && line[i] != 0x20 && line[i] != 0x09 { i += 1 }
        if i > s { fields.append(s..<i) }
    }
    return fields
}

/// Labels, words and ids are matched as exact text: bytes that are not UTF-8 are refused (as
/// Python's strict decoding and gensim refuse them), never replaced by U+FFFD, which would make
/// distinct labels equal.
enum StrictUTF8 {
    /// The text of `bytes`, or nil with the offset and value of the first byte that is not UTF-8.
    static func decode<C: Collection>(_ bytes: C) -> String? where C.Element == UInt8 {
        String(validating: bytes, as: UTF8.self)
    }

    /// "byte 0xFF at byte 3": where `bytes` stop being valid UTF-8.
    static func firstProblem<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        let a = Array(bytes)
        var i = 0
        while i < a.count {
            var length = 0
            for n in 1...4 where i + n <= a.count && String(validating: a[i..<(i + n)], as: UTF8.self) != nil { length = n; break }
            if length == 0 { return "byte 0x" + String(format: "%02X", a[i]) + " at byte \(i)" }
            i += length
        }
        return "at byte \(a.count)"
    }

    /// The text of `bytes`; otherwise an error on `path` saying `what` (e.g. "line 3: the label")
    /// is not valid UTF-8 and where.
    static func text<C: Collection>(_ bytes: C, path: String, what: String) throws -> String where C.Element == UInt8 {
        if let s = decode(bytes) { return s }
        throw EmbdiagError.malformed(path, "\(what) is not valid UTF-8 (\(firstProblem(bytes))); labels are compared as exact text, so such bytes are refused rather than replaced")
    }
}
