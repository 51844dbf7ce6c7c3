import Foundation

/// Format detection: magic bytes first, then the file extension.
public enum FormatDetection {
    public static func detect(_ path: String) throws -> EmbeddingFormat {
        let head = try readHead(path, count: 64)
        if head.starts(with: [0x93] + Array("NUMPY".utf8)) { return .npy }
        if head.starts(with: [0x50, 0x4B, 0x03, 0x04]) || head.starts(with: [0x50, 0x4B, 0x05, 0x06]) { return .npz }
        let ext = URL(fileURLWithPath: path).pathExtension.lowercased()
        if let format = detectSource(head: head, extension: ext) { return format }
        switch ext {
        case "npy": return .npy
        case "npz": return .npz
        case "safetensors", "st": return .safetensors
        case "fvecs": return .fvecs
        case "csv": return .csv
        case "tsv", "tab": return .tsv
        case "bin": return .word2vecBinary
        default: break
        }
        // safetensors: 8-byte little-endian header length followed by '{'.
        if head.count >= 9 && head[8] == UInt8(ascii: "{") { return .safetensors }
        // Text: a "rows dim" header line means word2vec text, else GloVe-style text.
        if let firstLine = String(bytes: head.prefix { $0 != 0x0A }, encoding: .utf8) {
            // Without an extension (stdin, a pipe, a bare name) CSV, TSV and JSONL are told from
            // word2vec text and GloVe by their first line, as a file's extension would tell them.
            if ext == "", let format = try delimitedOrJSONL(path, firstLine: firstLine) { return format }
            let parts = firstLine.split(separator: " ", omittingEmptySubsequences: true)
            if parts.count == 2, Int(parts[0]) != nil, Int(parts[1].trimmingCharacters(in: .whitespacesAndNewlines)) != nil {
                // A header followed by binary data is word2vec binary; decide on the second line's bytes.
                let more = try readHead(path, count: 4096)
                let afterHeader = more.drop { $0 != 0x0A }.dropFirst()
                let controlBytes = afterHeader.prefix(1024).filter { $0 < 0x09 || ($0 > 0x0D && $0 < 0x20) }.count
                // Float32 data holds control bytes in about one byte of ten; a text file named .txt
                // or .vec with a stray one (a NUL) is text, and the text reader names the bad value.
                if controlBytes == 0 || ((ext == "txt" || ext == "vec") && controlBytes < 8) { return .word2vecText }
                return .word2vecBinary
            }
            if ext == "txt" || ext == "vec" || ext == "" || ext == "glove" {
                return parts.count > 2 ? .glove : .word2vecText
            }
        }
        throw EmbdiagError.malformed(path, "unrecognised format (extension '.\(ext)'); use \(Setting.format) \(EmbeddingFormat.allCases.map(\.rawValue).joined(separator: "|"))")
    }

    /// CSV, TSV or JSONL by the first line of a file without extension: a JSON object (`{` … `}`
    /// that parses) is JSONL; a line with commas and no more spaces than commas (`0.1,0.2`,
    /// `id, a, b`) is CSV; a line with tabs and no space is TSV. A word2vec or GloVe line has a
    /// space after its word and between its values, so neither fits (a GloVe word "," has one
    /// comma beside d ≥ 2 spaces).
    static func delimitedOrJSONL(_ path: String, firstLine raw: String) throws -> EmbeddingFormat? {
        var line = raw.hasSuffix("\r") ? String(raw.dropLast()) : raw
        if line.hasPrefix("\u{FEFF}") { line.removeFirst() }
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix("{") {
            // The head holds 64 bytes: the whole first line is read for the JSON test.
            let text = try readHead(path, count: 1 << 20)
            let first = Data(text.prefix { $0 != 0x0A })
            if (try? JSONSerialization.jsonObject(with: first)) is [String: Any] { return .jsonl }
            return nil
        }
        let commas = line.filter { $0 == "," }.count, spaces = line.filter { $0 == " " }.count
        if commas > 0, spaces <= commas { return .csv }
        if line.contains("\t"), spaces == 0 { return .tsv }
        return nil
    }

    static func readHead(_ path: String, count: Int) throws -> [UInt8] {
        guard let h = FileHandle(forReadingAtPath: path) else { throw EmbdiagError.io(path, "cannot open file for reading") }
        defer { try? h.close() }
        let data = (try? h.read(upToCount: count)) ?? nil
        return [UInt8](data ?? Data())
    }
}
