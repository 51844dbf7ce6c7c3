import Foundation

/// Writes embeddings as .npy (float32, C order) or word2vec binary/text, atomically (temporary
/// file in the same folder, then rename), streaming rows in chunks.
public enum EmbeddingWriter {
    /// The output format implied by a path's extension: .npy, .bin (word2vec binary),
    /// .txt/.vec/.w2v (word2vec text).
    public static func format(forOutputPath path: String) throws -> EmbeddingFormat {
        switch URL(fileURLWithPath: path).pathExtension.lowercased() {
        case "npy": return .npy
        case "bin": return .word2vecBinary
        case "txt", "vec", "w2v": return .word2vecText
        default:
            throw EmbdiagError.usage("\(path): cannot tell the output format from the extension; use .npy, .bin (word2vec binary) or .txt/.vec (word2vec text)")
        }
    }

    public static func write(_ e: Embeddings, to path: String, format: EmbeddingFormat? = nil) throws {
        let f = try format ?? Self.format(forOutputPath: path)
        switch f {
        case .npy: try writeNpy(e.matrix, to: path)
        case .word2vecBinary, .word2vecText:
            let labels = e.labels ?? (0..<e.count).map(String.init)
            try writeWord2Vec(e.matrix, labels: labels, to: path, binary: f == .word2vecBinary)
        default:
            throw EmbdiagError.usage("\(path): embdiag writes .npy and word2vec (binary or text), not \(f.rawValue)")
        }
    }

    /// NumPy format version 1.0, '<f4', C order; the header is padded so data starts at a
    /// multiple of 64 bytes (numpy's own alignment, and what makes memory-mapping aligned).
    /// The .npy v1.0 magic, version and header for a C-order `rows × cols` array of `descr`,
    /// padded so the data starts on a 64-byte boundary.
    static func npyHeader(descr: String, rows: Int, cols: Int) -> Data {
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': (\(rows), \(cols)), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var prefix = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let length = UInt16(header.utf8.count)
        prefix.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
        prefix.append(Data(header.utf8))
        return prefix
    }

    public static func writeNpy(_ m: Matrix, to path: String) throws {
        let prefix = npyHeader(descr: "<f4", rows: m.rows, cols: m.cols)
        try AtomicFile.write(to: path) { handle in
            try handle.write(contentsOf: prefix)
            try writeRows(m, handle: handle) { rows, data in
                // Float32 little-endian is the in-memory layout on every platform Swift runs here.
                rows.withMemoryRebound(to: UInt8.self) { data.append($0.baseAddress!, count: $0.count) }
            }
        }
    }

    /// word2vec: "rows dim" header, then per row the word and the vector (binary: little-endian
    /// float32 and a newline; text: space-separated shortest round-trip decimals). Whitespace in a
    /// label would break the format, so spaces, tabs and newlines become "_".
    public static func writeWord2Vec(_ m: Matrix, labels: [String], to path: String, binary: Bool) throws {
        guard labels.count == m.rows else {
            throw EmbdiagError.mismatch(path, "\(labels.count) labels for \(m.rows) rows")
        }
        let words = labels.map { l in String(l.map { $0.isWhitespace ? "_" : $0 }).isEmpty ? "_" : String(l.map { $0.isWhitespace ? "_" : $0 }) }
        try AtomicFile.write(to: path) { handle in
            try handle.write(contentsOf: Data("\(m.rows) \(m.cols)\n".utf8))
            var row = 0
            try writeRows(m, handle: handle) { rows, data in
                let n = rows.count / max(1, m.cols)
                for r in 0..<n {
                    data.append(contentsOf: Array(words[row].utf8))
                    data.append(0x20)
                    let v = UnsafeBufferPointer(rebasing: rows[(r * m.cols)..<((r + 1) * m.cols)])
                    if binary {
                        v.withMemoryRebound(to: UInt8.self) { data.append($0.baseAddress!, count: $0.count) }
                    } else {
                        data.append(contentsOf: Array(v.map { "\($0)" }.joined(separator: " ").utf8))
                    }
                    data.append(0x0A)
                    row += 1
                }
            }
        }
    }

    /// Calls `encode` with blocks of whole rows (~8 MB) and writes what it appends.
    static func writeRows(_ m: Matrix, handle: FileHandle, encode: (UnsafeBufferPointer<Float>, inout Data) -> Void) throws {
        let rowsPerChunk = max(1, (8 << 20) / max(1, m.cols * 4))
        var start = 0
        var data = Data()
        while start < m.rows {
            let end = min(m.rows, start + rowsPerChunk)
            data.removeAll(keepingCapacity: true)
            encode(UnsafeBufferPointer(start: m.pointer + start * m.cols, count: (end - start) * m.cols), &data)
            try handle.write(contentsOf: data)
            start = end
        }
    }
}
