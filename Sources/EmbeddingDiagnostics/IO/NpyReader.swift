import Foundation

/// NumPy .npy reader: format versions 1, 2 and 3; float16/float32/float64, little and big endian,
/// C and Fortran order. Little-endian float32 C-order files are memory-mapped, not copied.
/// The header is parsed (never evaluated) and bounded before anything is allocated.
public enum NpyReader {
    public struct Header: Equatable, Sendable {
        public var descr: String
        public var fortranOrder: Bool
        public var shape: [Int]
        public var dataOffset: Int
    }

    public static func read(_ path: String) throws -> Embeddings {
        let file = try MappedFile(path)
        let header = try parseHeader(file.buffer, path: path)
        return try matrix(from: file, header: header, path: path, format: .npy)
    }

    /// Builds the matrix described by `header` from the mapped bytes of `file`.
    static func matrix(from file: MappedFile, header: Header, path: String, format: EmbeddingFormat) throws -> Embeddings {
        let (rows, cols) = try shape2D(header.shape, path: path)
        let (kind, size, bigEndian) = try dtype(header.descr, path: path)
        let (count, overflow) = rows.multipliedReportingOverflow(by: cols)
        let (byteCount, overflow2) = count.multipliedReportingOverflow(by: size)
        guard !overflow, !overflow2 else { throw EmbdiagError.malformed(path, "header shape \(header.shape) is too large") }
        let available = file.size - header.dataOffset
        guard available >= byteCount else {
            throw EmbdiagError.malformed(path, "truncated: header declares \(rows) × \(cols) \(header.descr) = \(byteCount) data bytes, file has \(max(0, available))")
        }
        let dtypeName = kind == "f" ? ["2": "float16", "4": "float32", "8": "float64"][String(size)]! : "?"
        let source = Source(path: path, format: format, dtype: dtypeName, rows: rows, dim: cols)
        if size == 4 && !bigEndian && !header.fortranOrder && header.dataOffset % 4 == 0 {
            return Embeddings(matrix: file.float32Matrix(rows: rows, cols: cols, offset: header.dataOffset), source: source)
        }
        let m = Matrix(rows: rows, cols: cols)
        let out = m.mutablePointer
        let src = file.bytes + header.dataOffset
        for idx in 0..<count {
            let p = src + idx * size
            let v: Float
            switch size {
            case 2:
                var bits = p.loadUnaligned(as: UInt16.self)
                if bigEndian { bits = bits.byteSwapped }
                v = Float(Float16(bitPattern: bits))
            case 4:
                var bits = p.loadUnaligned(as: UInt32.self)
                if bigEndian { bits = bits.byteSwapped }
                v = Float(bitPattern: bits)
            default:
                var bits = p.loadUnaligned(as: UInt64.self)
                if bigEndian { bits = bits.byteSwapped }
                v = try Float32Narrowing.narrow(Double(bitPattern: bits), row: header.fortranOrder ? idx % rows : idx / cols,
                                                column: header.fortranOrder ? idx / rows : idx % cols, path: path)
            }
            // Fortran order stores column by column.
            let target = header.fortranOrder ? (idx % rows) * cols + idx / rows : idx
            out[target] = v
        }
        if size == 8 {
            try Float32Narrowing.checkUnderflow(m, path: path) { i, j in
                var bits = (src + (header.fortranOrder ? j * rows + i : i * cols + j) * 8).loadUnaligned(as: UInt64.self)
                if bigEndian { bits = bits.byteSwapped }
                return Double(bitPattern: bits)
            }
        }
        return Embeddings(matrix: m, source: source)
    }

    static func shape2D(_ shape: [Int], path: String) throws -> (Int, Int) {
        switch shape.count {
        case 2: return (shape[0], shape[1])
        case 1: throw EmbdiagError.malformed(path, "array is 1-D (shape \(shape)); an embedding matrix must be 2-D (rows × dim)")
        default: throw EmbdiagError.malformed(path, "array has \(shape.count) dimensions (shape \(shape)); an embedding matrix must be 2-D")
        }
    }

    /// numpy spellings of the float dtypes without an explicit size (np.dtype accepts them in a
    /// header): the type codes and names, all in the machine's (little-endian) byte order.
    static let dtypeAliases = ["e": "f2", "f": "f4", "d": "f8", "float16": "f2", "float32": "f4", "float64": "f8", "half": "f2", "single": "f4", "double": "f8"]

    static func dtype(_ descr: String, path: String) throws -> (String, Int, Bool) {
        // np.dtype reads 'f4' (no byte-order character) and the aliases in native order ('=').
        var spelled = descr
        if let first = spelled.first, !"<>|=".contains(first) { spelled = "=" + (dtypeAliases[spelled] ?? spelled) }
        let chars = Array(spelled)
        guard chars.count >= 3, let size = Int(String(chars[2...])) else {
            throw EmbdiagError.malformed(path, "unsupported dtype '\(descr)'; expected float16, float32 or float64")
        }
        let order = chars[0], kind = String(chars[1])
        guard kind == "f", [2, 4, 8].contains(size), "<>|=".contains(order) else {
            throw EmbdiagError.malformed(path, "unsupported dtype '\(descr)'; expected float16, float32 or float64")
        }
        return (kind, size, order == ">")
    }

    /// Parses the magic string, version, header length and the header dict literal.
    public static func parseHeader(_ bytes: UnsafeRawBufferPointer, path: String) throws -> Header {
        let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
            throw EmbdiagError.malformed(path, "not a .npy file (missing \\x93NUMPY magic)")
        }
        let major = bytes[6]
        let headerLength: Int
        let headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw EmbdiagError.malformed(path, "truncated .npy header") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        default:
            throw EmbdiagError.malformed(path, "unsupported .npy format version \(major)")
        }
        guard headerLength <= 1 << 20 else { throw EmbdiagError.malformed(path, ".npy header length \(headerLength) is implausibly large") }
        guard headerStart + headerLength <= bytes.count else {
            throw EmbdiagError.malformed(path, "truncated: .npy header needs \(headerStart + headerLength) bytes, file has \(bytes.count)")
        }
        let raw = Array(bytes[headerStart..<(headerStart + headerLength)])
        guard let text = String(bytes: raw, encoding: major == 3 ? .utf8 : .isoLatin1) else {
            throw EmbdiagError.malformed(path, ".npy header is not text")
        }
        var quoted = Set<String>()
        let dict = try parseDictLiteral(text, path: path, quotedKeys: &quoted)
        guard let descr = dict["descr"], let fortran = dict["fortran_order"], let shapeText = dict["shape"] else {
            throw EmbdiagError.malformed(path, ".npy header lacks descr, fortran_order or shape")
        }
        // numpy refuses a header with other keys ("Header does not contain the correct keys").
        if let other = dict.keys.sorted().first(where: { !["descr", "fortran_order", "shape"].contains($0) }) {
            throw EmbdiagError.malformed(path, ".npy header has a key '\(other)' besides descr, fortran_order and shape (numpy refuses such a file)")
        }
        let inner = shapeText.trimmingCharacters(in: CharacterSet(charactersIn: "() "))
        var shape: [Int] = []
        for part in inner.split(separator: ",") {
            let t = part.trimmingCharacters(in: .whitespaces).replacingOccurrences(of: "L", with: "")
            if t.isEmpty { continue }
            guard let v = Int(t), v >= 0 else { throw EmbdiagError.malformed(path, ".npy shape '\(shapeText)' is not a tuple of non-negative integers") }
            shape.append(v)
        }
        // numpy: "fortran_order is not a valid bool" for anything but the literal True or False
        // (the string 'True' included).
        guard !quoted.contains("fortran_order"), fortran == "True" || fortran == "False" else {
            let shown = quoted.contains("fortran_order") ? "the string '\(fortran)'" : "'\(fortran)'"
            throw EmbdiagError.malformed(path, ".npy fortran_order is \(shown), not True or False (numpy refuses such a file)")
        }
        return Header(descr: descr, fortranOrder: fortran == "True", shape: shape, dataOffset: headerStart + headerLength)
    }

    /// A tiny parser for the header's Python dict literal: {'key': value, ...} where values are
    /// quoted strings, True/False, or tuples of integers.
    /// `quotedKeys` receives the keys whose value was a quoted string.
    static func parseDictLiteral(_ text: String, path: String, quotedKeys: inout Set<String>) throws -> [String: String] {
        var s = Substring(text.trimmingCharacters(in: .whitespacesAndNewlines))
        guard s.first == "{", let close = s.lastIndex(of: "}") else { throw EmbdiagError.malformed(path, ".npy header is not a dict literal") }
        s = s[s.index(after: s.startIndex)..<close]
        var result: [String: String] = [:]
        while true {
            s = s.drop { $0 == " " || $0 == "," || $0 == "\n" }
            if s.isEmpty { break }
            guard let q = s.first, q == "'" || q == "\"" else { throw EmbdiagError.malformed(path, ".npy header key is not quoted") }
            s = s.dropFirst()
            guard let keyEnd = s.firstIndex(of: q) else { throw EmbdiagError.malformed(path, ".npy header has an unterminated key") }
            let key = String(s[..<keyEnd])
            s = s[s.index(after: keyEnd)...].drop { $0 == " " }
            guard s.first == ":" else { throw EmbdiagError.malformed(path, ".npy header lacks ':' after '\(key)'") }
            s = s.dropFirst().drop { $0 == " " }
            var value: String
            if let vq = s.first, vq == "'" || vq == "\"" {
                quotedKeys.insert(key)
                s = s.dropFirst()
                guard let end = s.firstIndex(of: vq) else { throw EmbdiagError.malformed(path, ".npy header has an unterminated value") }
                value = String(s[..<end])
                s = s[s.index(after: end)...]
            } else if s.first == "(" {
                guard let end = s.firstIndex(of: ")") else { throw EmbdiagError.malformed(path, ".npy header has an unterminated tuple") }
                value = String(s[...end])
                s = s[s.index(after: end)...]
            } else {
                let end = s.firstIndex { $0 == "," || $0 == " " } ?? s.endIndex
                value = String(s[..<end])
                s = s[end...]
            }
            result[key] = value
        }
        return result
    }
}
