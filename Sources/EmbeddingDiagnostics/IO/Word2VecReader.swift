import Foundation

/// word2vec binary and text, and GloVe text (no header). Rows keep their words as labels.
/// (Minimal version by the lead so the bundled sample loads; the io-text work extends it.)
public enum Word2VecReader {
    /// word2vec binary: "rows dim\n", then per row the word, a space, dim little-endian float32,
    /// and an optional newline (gensim tolerates both).
    public static func readBinary(_ path: String, showProgress: Bool) throws -> Embeddings {
        let file = try MappedFile(path)
        let bytes = file.buffer
        guard let newline = bytes.firstIndex(of: 0x0A), newline < 256 else {
            throw EmbdiagError.malformed(path, "word2vec binary: no \"rows dim\" header line")
        }
        let header = String(decoding: bytes[0..<newline], as: UTF8.self).split(separator: " ")
        guard header.count == 2, let rows = Int(header[0]), let dim = Int(header[1].trimmingCharacters(in: .whitespaces)), rows >= 0, dim > 0 else {
            throw EmbdiagError.malformed(path, "word2vec binary: header '\(String(decoding: bytes[0..<newline], as: UTF8.self))' is not \"rows dim\"")
        }
        // Each row needs at least 2 bytes of word and separator plus 4·dim bytes: bound before allocating.
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
            labels.append(String(decoding: bytes[pos..<end], as: UTF8.self))
            pos = end + 1
            guard pos + 4 * dim <= bytes.count else {
                throw EmbdiagError.malformed(path, "truncated: row \(r) ('\(labels.last!)') needs \(4 * dim) bytes of vector, file has \(bytes.count - pos) left")
            }
            let dst = out + r * dim
            for j in 0..<dim {
                dst[j] = Float(bitPattern: UInt32(littleEndian: (file.bytes + pos + 4 * j).loadUnaligned(as: UInt32.self)))
            }
            pos += 4 * dim
        }
        return Embeddings(matrix: m, labels: labels, source: Source(path: path, format: .word2vecBinary, dtype: "float32", rows: rows, dim: dim))
    }

    public static func readText(_ path: String, hasHeader: Bool, showProgress: Bool) throws -> Embeddings {
        throw EmbdiagError.malformed(path, "word2vec text reading is not implemented yet")
    }
}
