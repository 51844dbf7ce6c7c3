import Foundation

/// word2vec binary and text, and GloVe text (no header). Rows keep their words as labels.
public enum Word2VecReader {
    /// word2vec binary: "rows dim\n", then per row the word, a space, dim little-endian float32,
    /// and an optional newline (gensim tolerates both).
    public static func readBinary(_ path: String, showProgress: Bool) throws -> Embeddings {
        let file = try MappedFile(path)
        let bytes = file.buffer
        guard let newline = bytes.firstIndex(of: 0x0A), newline < 256 else {
            throw EmbdiagError.malformed(path, "word2vec binary: no \"rows dim\" header line")
        }
        // gensim splits the header line on whitespace: a CRLF ending (Windows) is read like LF.
        let headerEnd = newline > 0 && bytes[newline - 1] == 0x0D ? newline - 1 : newline
        let header = String(decoding: bytes[0..<headerEnd], as: UTF8.self).split(separator: " ")
        guard header.count == 2, let rows = Int(header[0]), let dim = Int(header[1].trimmingCharacters(in: .whitespaces)), rows >= 0, dim > 0 else {
            let shown = String(decoding: bytes[0..<newline], as: UTF8.self).replacingOccurrences(of: "\r", with: "\\r")
            throw EmbdiagError.malformed(path, "word2vec binary: header '\(shown)' is not \"rows dim\"")
        }
        // A header of 0 rows: "no rows", as every reader says (before the size checks, which would
        // blame the dimension).
        guard rows > 0 else {
            throw EmbdiagError.malformed(path, "word2vec binary: the header declares 0 rows: no rows")
        }
        // Each row needs at least 2 bytes of word and separator plus 4·dim bytes: bound before
        // allocating, dim first so that 4·dim cannot overflow.
        guard dim <= bytes.count / 4 else {
            throw EmbdiagError.malformed(path, "truncated or wrong header: dimension \(dim) needs \(dim) × 4 bytes per row, file has \(bytes.count)")
        }
        let (perRow, o1) = (4 * dim).addingReportingOverflow(2)
        let (minimum, o2) = rows.multipliedReportingOverflow(by: perRow)
        guard !o1, !o2, minimum <= bytes.count - newline - 1 else {
            throw EmbdiagError.malformed(path, "truncated or wrong header: \(rows) rows × \(dim) need at least \(o1 || o2 ? "more than Int.max" : String(minimum)) bytes after the header, file has \(bytes.count - newline - 1)")
        }
        let m = Matrix(rows: rows, cols: dim)
        let out = m.mutablePointer
        var labels: [String] = []
        labels.reserveCapacity(rows)
        var pos = newline + 1
        for r in 0..<rows {
            while pos < bytes.count && (bytes[pos] == 0x0A || bytes[pos] == 0x0D) { pos += 1 }
            var end = pos
            while end < bytes.count && bytes[end] != 0x20 { end += 1 }
            guard end < bytes.count, end - pos <= 4096 else {
                throw EmbdiagError.malformed(path, "truncated: row \(r) of \(rows) has no word followed by a space")
            }
            // A word with control bytes or invalid UTF-8 usually means the reader is no longer at
            // the start of a record: the header's dimension does not match the data (or the file
            // is text). When the records are aligned all the same, the word itself is at fault.
            let wordBytes = bytes[pos..<end]
            let word = String(validating: wordBytes, as: UTF8.self)
            if let bad = wordBytes.first(where: { $0 < 0x20 || $0 == 0x7F }) ?? (word == nil ? 0xFF : nil) {
                // Text read as binary can line up by chance: then the text hint below is the answer.
                if !dataLooksLikeText(bytes, from: newline + 1), recordsAligned(bytes, from: end + 1, rowsLeft: rows - r, dim: dim) {
                    let what: String
                    if bad == 0xFF {
                        let at = firstInvalidUTF8(wordBytes)
                        what = "is not valid UTF-8 (byte 0x\(String(format: "%02X", wordBytes[pos + at])) at byte \(at) of the word)"
                    } else {
                        let at = wordBytes.firstIndex(where: { $0 < 0x20 || $0 == 0x7F })! - pos
                        what = "holds control byte 0x\(String(format: "%02X", bad)) (at byte \(at) of the word)"
                    }
                    throw EmbdiagError.malformed(path, "row \(r) of \(rows) (the record at byte offset \(pos)): word '\(escapedWord(wordBytes))' \(what); the records are otherwise aligned with the header's \(rows) × \(dim): fix or remove that word")
                }
                throw EmbdiagError.malformed(path, "misaligned records: row \(r) of \(rows) starts with a word holding \(bad == 0xFF ? "invalid UTF-8" : String(format: "control byte 0x%02X", bad)) ('\(String(decoding: wordBytes.prefix(24), as: UTF8.self))'); the header's dimension \(dim) does not match the data\(dataLooksLikeText(bytes, from: newline + 1) ? " (the data is text: use \(Setting.format) word2vec-text)" : "")")
            }
            labels.append(word!)
            pos = end + 1
            guard pos + 4 * dim <= bytes.count else {
                throw EmbdiagError.malformed(path, "truncated: row \(r) ('\(labels.last!)') needs \(4 * dim) bytes of vector, file has \(bytes.count - pos) left")
            }
            let dst = out + r * dim
            #if _endian(little)
            // The file's float32 are little-endian like the host: one copy per row (rows are not
            // 4-byte aligned in the file, so they cannot be mapped in place).
            UnsafeMutableRawPointer(dst).copyMemory(from: file.bytes + pos, byteCount: 4 * dim)
            #else
            for j in 0..<dim {
                dst[j] = Float(bitPattern: UInt32(littleEndian: (file.bytes + pos + 4 * j).loadUnaligned(as: UInt32.self)))
            }
            #endif
            pos += 4 * dim
        }
        // Only line ends may follow the last record: more data means the header's row count or
        // dimension is wrong (gensim would silently drop the rest).
        while pos < bytes.count && (bytes[pos] == 0x0A || bytes[pos] == 0x0D) { pos += 1 }
        if pos < bytes.count {
            throw EmbdiagError.malformed(path, "trailing data: \(bytes.count - pos) bytes after the \(rows) rows × \(dim) the header declares; the header does not match the data\(dataLooksLikeText(bytes, from: newline + 1) ? " (the data is text: use \(Setting.format) word2vec-text)" : "")")
        }
        return Embeddings(matrix: m, labels: labels, source: Source(path: path, format: .word2vecBinary, dtype: "float32", rows: rows, dim: dim))
    }

    /// Whether the records from `start` (just after a word's space, with `rowsLeft` records from
    /// that one on) are aligned: each vector, then a word up to a space, ending exactly at the end
    /// of the file (line ends aside) after the header's rows.
    /// - Complexity: O(rows left + bytes of their words), on an error path only.
    static func recordsAligned(_ bytes: UnsafeRawBufferPointer, from start: Int, rowsLeft: Int, dim: Int) -> Bool {
        var pos = start
        for k in 0..<rowsLeft {
            if k > 0 {
                while pos < bytes.count && (bytes[pos] == 0x0A || bytes[pos] == 0x0D) { pos += 1 }
                var end = pos
                while end < bytes.count && bytes[end] != 0x20 && end - pos <= 4096 { end += 1 }
                guard end < bytes.count, bytes[end] == 0x20, end > pos else { return false }
                pos = end + 1
            }
            guard 4 * dim <= bytes.count - pos else { return false }
            pos += 4 * dim
        }
        while pos < bytes.count && (bytes[pos] == 0x0A || bytes[pos] == 0x0D) { pos += 1 }
        return pos == bytes.count
    }

    /// Offset of the first byte at which `bytes` stops being valid UTF-8.
    static func firstInvalidUTF8(_ bytes: Slice<UnsafeRawBufferPointer>) -> Int {
        var i = bytes.startIndex
        while i < bytes.endIndex {
            var length = 0
            for n in 1...4 where i + n <= bytes.endIndex && String(validating: bytes[i..<(i + n)], as: UTF8.self) != nil { length = n; break }
            if length == 0 { return i - bytes.startIndex }
            i += length
        }
        return bytes.count
    }

    /// The word's bytes as text, invalid UTF-8 and control bytes written as \xNN.
    static func escapedWord(_ bytes: Slice<UnsafeRawBufferPointer>) -> String {
        var out = "", i = bytes.startIndex
        while i < bytes.endIndex && out.unicodeScalars.count < 64 {
            var decoded: String?
            for n in 1...4 where i + n <= bytes.endIndex {
                if let s = String(validating: bytes[i..<(i + n)], as: UTF8.self) { decoded = s; i += n; break }
            }
            if let d = decoded, let c = d.unicodeScalars.first, c.value >= 0x20, c.value != 0x7F {
                out += d
            } else {
                if decoded == nil { out += String(format: "\\x%02X", bytes[i]); i += 1 } else { out += String(format: "\\x%02X", decoded!.unicodeScalars.first!.value) }
            }
        }
        return out + (i < bytes.endIndex ? "…" : "")
    }

    /// True when the first KB after the header holds no bytes outside printable text.
    static func dataLooksLikeText(_ bytes: UnsafeRawBufferPointer, from start: Int) -> Bool {
        guard start < bytes.count else { return false }
        return !bytes[start..<min(bytes.count, start + 1024)].contains { $0 < 0x09 || ($0 > 0x0D && $0 < 0x20) || $0 == 0x7F }
    }

    /// word2vec text ("rows dim" header) and GloVe (no header): whitespace-separated, the last
    /// `dim` fields of a line are the vector and everything before them the word (GloVe 840B has
    /// words with spaces). Without a header the dimension comes from the first line.
    public static func readText(_ path: String, hasHeader: Bool, showProgress: Bool) throws -> Embeddings {
        let file = try MappedFile(path)
        guard file.size > 0 else { throw EmbdiagError.malformed(path, "empty file: no rows") }
        let lines = TextLines(file: file, path: path)
        var declaredRows: Int?
        var dim: Int?
        var offset = 0, firstLine = 1
        if hasHeader {
            guard let nl = memchr(file.bytes, 0x0A, min(file.size, 256)) else {
                throw EmbdiagError.malformed(path, "word2vec text: no \"rows dim\" header line (use \(Setting.format) glove for files without a header)")
            }
            let end = file.bytes.distance(to: UnsafeRawPointer(nl))
            let header = String(decoding: UnsafeRawBufferPointer(start: file.bytes, count: end), as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            guard header.count == 2, let r = Int(header[0]), let d = Int(header[1]), r >= 0, d > 0 else {
                throw EmbdiagError.malformed(path, "word2vec text: header '\(header.joined(separator: " "))' is not \"rows dim\" (use \(Setting.format) glove for files without a header)")
            }
            // Every row needs at least 2·dim bytes ("0 " per value): bound before allocating, and
            // bound dim first so that 2·dim cannot overflow (fuzz finding).
            guard d <= file.size else {
                throw EmbdiagError.malformed(path, "header declares dimension \(d) but the file has only \(file.size) bytes")
            }
            guard r <= (file.size - end) / (2 * d + 1) + 1 else {
                throw EmbdiagError.malformed(path, "header declares \(r) rows × \(d) but the file has only \(file.size) bytes")
            }
            declaredRows = r
            dim = d
            offset = end + 1
            firstLine = 2
        }
        var values: [Float] = []
        var labels: [String] = []
        if let r = declaredRows, let d = dim { values.reserveCapacity(r * d); labels.reserveCapacity(r) }
        var scratch = [CChar](repeating: 0, count: 64)
        let progress = showProgress ? ProgressReporter.current.task("reading \(URL(fileURLWithPath: path).lastPathComponent)", total: file.size) : nil
        var lastLine = 0
        var underflows: [(row: Int, message: String)] = []
        try lines.forEach(startingAt: offset, firstLineNumber: firstLine) { lineNumber, line in
            lastLine = lineNumber
            let fields = whitespaceFields(line)
            if fields.isEmpty { return }  // blank lines (e.g. a final one) are skipped
            if dim == nil {
                if fields.count == 2, Int(String(decoding: UnsafeRawBufferPointer(rebasing: line[fields[0]]), as: UTF8.self)) != nil,
                   Int(String(decoding: UnsafeRawBufferPointer(rebasing: line[fields[1]]), as: UTF8.self)) != nil {
                    throw EmbdiagError.malformed(path, "line \(lineNumber) is a \"rows dim\" header: this is word2vec text, not GloVe (use \(Setting.format) word2vec-text)")
                }
                guard fields.count >= 2 else { throw EmbdiagError.malformed(path, "line \(lineNumber) has no values after the word") }
                dim = fields.count - 1
            }
            let d = dim!
            guard fields.count >= d + 1 else {
                // `  1 2` under dimension 2: the values are all there and the word is empty.
                if fields.count == d, fields[0].lowerBound > 0 {
                    throw EmbdiagError.malformed(path, "line \(lineNumber) has an empty word (the line starts with whitespace before its \(d) values)")
                }
                throw EmbdiagError.malformed(path, "line \(lineNumber) has \(fields.count - 1) values, expected \(d)")
            }
            let vectorStart = fields.count - d
            // Words may contain spaces (GloVe 840B), but a number among the word's tokens means
            // the line has more values than the others: a ragged line, not a word.
            for f in fields[1..<vectorStart] where looksNumeric(UnsafeRawBufferPointer(rebasing: line[f]), scratch: &scratch) {
                _ = f
                throw EmbdiagError.malformed(path, "line \(lineNumber) has \(fields.count - 1) values, expected \(d)\(hasHeader ? "" : " (the dimension comes from the first line)")")
            }
            let rowStart = values.count
            for (k, f) in fields[vectorStart...].enumerated() {
                guard let v = parseFloat(UnsafeRawBufferPointer(rebasing: line[f]), scratch: &scratch) else {
                    let text = String(decoding: UnsafeRawBufferPointer(rebasing: line[f]), as: UTF8.self)
                    throw EmbdiagError.malformed(path, "line \(lineNumber), value \(k + 1): '\(text.prefix(40))' is not a number")
                }
                // strtof turns "1e39" into +Inf: a finite number out of float32's range, not an Inf token.
                if v.isInfinite, !line[f].contains(where: { $0 == UInt8(ascii: "i") || $0 == UInt8(ascii: "I") }) {
                    let text = String(decoding: UnsafeRawBufferPointer(rebasing: line[f]), as: UTF8.self)
                    throw EmbdiagError.invalid(path, "line \(lineNumber), value \(k + 1): \(text.prefix(40)) \(Float32Narrowing.overflowReason)")
                }
                values.append(v)
            }
            // strtof turns "1e-50" into 0: a row all zero only in float32 is refused, as in npy
            // (unless the line's first token turns out to be a value, checked below).
            if values[rowStart...].allSatisfy({ $0 == 0 }),
               let hit = fields[vectorStart...].enumerated().first(where: { Float32Narrowing.decimalValue(UnsafeRawBufferPointer(rebasing: line[$0.element])).map { $0 != 0 && !$0.isNaN } ?? false }) {
                let (k, f) = hit
                let text = String(decoding: UnsafeRawBufferPointer(rebasing: line[f]), as: UTF8.self)
                underflows.append((row: labels.count, message: "line \(lineNumber): \(Float32Narrowing.underflowReason(example: String(text.prefix(40)), at: "value \(k + 1)"))"))
            }
            let wordEnd = fields[vectorStart - 1].upperBound
            labels.append(try StrictUTF8.text(UnsafeRawBufferPointer(rebasing: line[fields[0].lowerBound..<wordEnd]), path: path, what: "line \(lineNumber): the word"))
            if let r = declaredRows, labels.count > r {
                throw EmbdiagError.malformed(path, "more rows than the header's \(r) (line \(lineNumber))")
            }
            progress?.update(line.baseAddress.map { file.bytes.distance(to: UnsafeRawPointer($0)) } ?? 0)
        }
        progress?.finish()
        guard let d = dim, !labels.isEmpty else { throw EmbdiagError.malformed(path, "no rows") }
        if let r = declaredRows, labels.count != r {
            throw EmbdiagError.malformed(path, "truncated: header declares \(r) rows, the file has \(labels.count) (up to line \(lastLine))")
        }
        // Plain numeric text (numpy.savetxt in any format: "1.0e+00 2.5e-01 …", "%d", "%g") has no
        // words: when every "word" of a header-less file is a number, it is the first value of its
        // row. A vocabulary of numbers only cannot be told from that; a header says it has words.
        if !hasHeader, labels.allSatisfy({ isNumberToken($0) }) {
            var widened: [Float] = []
            widened.reserveCapacity(labels.count * (d + 1))
            for (i, l) in labels.enumerated() {
                widened.append(Float(l)!)
                widened += values[(i * d)..<((i + 1) * d)]
            }
            // A row whose first value is not zero did not underflow after all.
            if let u = underflows.first(where: { widened[$0.row * (d + 1)] == 0 }) {
                throw EmbdiagError.invalid(path, u.message)
            }
            for (i, l) in labels.enumerated() where widened[(i * (d + 1))..<((i + 1) * (d + 1))].allSatisfy({ $0 == 0 }) && Float32Narrowing.underflowed(l) {
                throw EmbdiagError.invalid(path, "row \(i): \(Float32Narrowing.underflowReason(example: String(l.prefix(40)), at: "value 1"))")
            }
            return Embeddings(matrix: Matrix(rows: labels.count, cols: d + 1, values: widened), labels: nil,
                              source: Source(path: path, format: .glove, dtype: "text", rows: labels.count, dim: d + 1))
        }
        if let u = underflows.first { throw EmbdiagError.invalid(path, u.message) }
        let m = Matrix(rows: labels.count, cols: d, values: values)
        return Embeddings(matrix: m, labels: labels,
                          source: Source(path: path, format: hasHeader ? .word2vecText : .glove, dtype: "text", rows: labels.count, dim: d))
    }
}

/// A token that strtof reads completely and that starts like a number (digit, sign or point):
/// "inf"/"nan" words stay words.
@inline(__always)
func looksNumeric(_ field: UnsafeRawBufferPointer, scratch: inout [CChar]) -> Bool {
    guard let c = field.first, (c >= 0x30 && c <= 0x39) || c == 0x2D || c == 0x2B || c == 0x2E else { return false }
    return parseFloat(field, scratch: &scratch) != nil
}

/// "0.5", "-1.25e-03", "3e7", "42": a token that reads completely as a number and starts like one
/// (an ASCII digit, sign or point): "inf", "nan" and other words are not.
func isNumberToken(_ s: String) -> Bool {
    guard let first = s.unicodeScalars.first, first.isASCII,
          ("0"..."9").contains(first) || first == "-" || first == "+" || first == "." else { return false }
    return DelimitedReader.number(s) != nil
}
