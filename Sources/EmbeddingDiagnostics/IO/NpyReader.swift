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
    static let dtypeAliases = ["e": "f2", "f": "f4", "d": "f8", "float16": "f2", "float32": "f4", "float64": "f8", "half": "f2", "single": "f4",
                               "double": "f8", "float": "f8"]
    /// The one-character type codes, which np.dtype also reads after a byte-order character
    /// ('<f', '>d', '|e'); the names ('<float32') it refuses.
    static let typeCodes = ["e": "f2", "f": "f4", "d": "f8"]

    static func dtype(_ descr: String, path: String) throws -> (String, Int, Bool) {
        // np.dtype reads 'f4' (no byte-order character) and the aliases in native order ('='),
        // and a type code after a byte-order character.
        var spelled = descr
        if let first = spelled.first, !"<>|=".contains(first) {
            spelled = "=" + (dtypeAliases[spelled] ?? spelled)
        } else if let first = spelled.first, let code = typeCodes[String(spelled.dropFirst())] {
            spelled = String(first) + code
        }
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
        let dict = try parseDictLiteral(text, path: path)
        guard let descrValue = dict["descr"], let fortranValue = dict["fortran_order"], let shapeValue = dict["shape"] else {
            throw EmbdiagError.malformed(path, ".npy header lacks descr, fortran_order or shape")
        }
        // numpy refuses a header with other keys ("Header does not contain the correct keys").
        if let other = dict.keys.sorted().first(where: { !["descr", "fortran_order", "shape"].contains($0) }) {
            throw EmbdiagError.malformed(path, ".npy header has a key '\(other)' besides descr, fortran_order and shape (numpy refuses such a file)")
        }
        // A structured dtype (a list) or anything but a string goes to `dtype`, which refuses it.
        let descr: String
        if case .string(let d) = descrValue.value { descr = d } else { descr = descrValue.raw }
        var shape: [Int] = []
        let shapeText = shapeValue.raw
        guard case .tuple(let entries) = shapeValue.value else {
            throw EmbdiagError.malformed(path, ".npy shape '\(shapeText)' is not a tuple of non-negative integers")
        }
        for entry in entries {
            guard case .integer(let v) = entry else {
                throw EmbdiagError.malformed(path, ".npy shape '\(shapeText)' is not a tuple of non-negative integers")
            }
            guard let v, v >= 0 else {
                throw EmbdiagError.malformed(path, ".npy shape '\(shapeText)' \(v == nil ? "has an entry too large for a 64-bit integer" : "is not a tuple of non-negative integers")")
            }
            shape.append(v)
        }
        // numpy: "fortran_order is not a valid bool" for anything but the literal True or False
        // (the string 'True' included).
        let fortran: Bool
        switch fortranValue.value {
        case .name("True"): fortran = true
        case .name("False"): fortran = false
        case .string(let f): throw EmbdiagError.malformed(path, ".npy fortran_order is the string '\(f)', not True or False (numpy refuses such a file)")
        default: throw EmbdiagError.malformed(path, ".npy fortran_order is '\(fortranValue.raw)', not True or False (numpy refuses such a file)")
        }
        return Header(descr: descr, fortranOrder: fortran, shape: shape, dataOffset: headerStart + headerLength)
    }

    /// A value of the header's dict literal, as Python's `ast.literal_eval` (numpy's reader)
    /// reads it, for what a header holds: strings, names (True, False), integers and tuples.
    /// `raw` is the value's text as written.
    indirect enum Literal {
        case string(String)
        case name(String)
        /// nil: an integer literal too large for Int.
        case integer(Int?)
        case tuple([Literal])
        case list([Literal])
    }

    /// Parses the header's Python dict literal `{'key': value, ...}` as `ast.literal_eval` does
    /// for the values a header holds: any Python whitespace (spaces, tabs, CR, LF, form feed,
    /// backslash line continuations) and comments between tokens; keys and values in single or
    /// double quotes (with a `u` or `r` prefix, adjacent strings concatenated); True, False and
    /// other names; integers in decimal, hexadecimal (`0x`), octal (`0o`) or binary (`0b`) with
    /// `_` separators and a sign, and a trailing `L` (Python 2 headers, which numpy reads too);
    /// tuples and lists, a parenthesised single value being the value itself (`((3), 4)`).
    /// A repeated key keeps its last value, as in Python. Refused, saying so: escape sequences
    /// and triple quotes in strings, floats, and any other expression.
    /// - Returns: each key's value and its text as written.
    static func parseDictLiteral(_ text: String, path: String) throws -> [String: (value: Literal, raw: String)] {
        let s = Array(text.unicodeScalars)
        var i = 0
        func fail(_ what: String) -> EmbdiagError {
            .malformed(path, ".npy header: \(what) at character \(i + 1) of the header \(EmbdiagError.escapingControlCharacters(String(String.UnicodeScalarView(s)).trimmingCharacters(in: .whitespacesAndNewlines)).prefix(160))")
        }
        func skipSpace() {
            while i < s.count {
                switch s[i] {
                case " ", "\t", "\n", "\r", "\u{0C}": i += 1
                case "\\" where i + 1 < s.count && (s[i + 1] == "\n" || s[i + 1] == "\r"): i += 2
                case "#": while i < s.count && s[i] != "\n" && s[i] != "\r" { i += 1 }
                default: return
                }
            }
        }
        func isNameStart(_ c: Unicode.Scalar) -> Bool { c == "_" || (c.properties.isAlphabetic && c.value < 0x80) }
        func isNameChar(_ c: Unicode.Scalar) -> Bool { isNameStart(c) || ("0"..."9").contains(c) }
        func string() throws -> String {
            var out = ""
            var first = true
            // Adjacent string literals concatenate ('<' 'f4').
            while true {
                skipSpace()
                var raw = false
                var j = i
                while j < s.count && j - i < 2 && "uUrRbBfF".unicodeScalars.contains(s[j]) { j += 1 }
                guard j < s.count, s[j] == "'" || s[j] == "\"" else {
                    if first { throw fail("expected a quoted string") }
                    return out
                }
                let prefix = String(String.UnicodeScalarView(s[i..<j])).lowercased()
                guard prefix.isEmpty || prefix == "u" || prefix == "r" else {
                    throw fail("a string with prefix '\(prefix)' (only plain, u'…' and r'…' strings are accepted)")
                }
                raw = prefix == "r"
                i = j
                let q = s[i]
                if i + 2 < s.count && s[i + 1] == q && s[i + 2] == q { throw fail("a triple-quoted string (not accepted)") }
                i += 1
                while true {
                    guard i < s.count, s[i] != "\n", s[i] != "\r" else { throw fail("an unterminated string") }
                    if s[i] == q { i += 1; break }
                    if s[i] == "\\" {
                        guard raw else { throw fail("an escape sequence in a string (not accepted)") }
                        throw fail("a backslash in a raw string (not accepted)")
                    }
                    out.unicodeScalars.append(s[i])
                    i += 1
                }
                first = false
            }
        }
        /// A Python integer literal (after an optional sign), or nil when the token is no integer.
        func integer() throws -> Int? {
            let start = i
            var negative = false
            if s[i] == "-" || s[i] == "+" {
                negative = s[i] == "-"
                i += 1
                skipSpace()
            }
            let tokenStart = i
            while i < s.count && (isNameChar(s[i]) || s[i] == ".") { i += 1 }
            var token = String(String.UnicodeScalarView(s[tokenStart..<i]))
            if token.hasSuffix("L") || token.hasSuffix("l") { token.removeLast() }
            let lower = token.lowercased()
            var radix = 10, digits = Substring(lower)
            if lower.hasPrefix("0x") { radix = 16; digits = lower.dropFirst(2) }
            else if lower.hasPrefix("0o") { radix = 8; digits = lower.dropFirst(2) }
            else if lower.hasPrefix("0b") { radix = 2; digits = lower.dropFirst(2) }
            // '_' only between digits (and, after a base prefix, before the first digit).
            if radix != 10 && digits.hasPrefix("_") { digits = digits.dropFirst() }
            let valid = !digits.isEmpty && !digits.hasPrefix("_") && !digits.hasSuffix("_") && !digits.contains("__")
                && digits.allSatisfy { $0 == "_" || $0.hexDigitValue.map { $0 < radix } == true }
                // Python refuses leading zeros in a decimal literal other than zero ('03').
                && (radix != 10 || !digits.hasPrefix("0") || digits.allSatisfy { $0 == "0" || $0 == "_" })
            guard valid else {
                i = start
                throw fail("'\(token)' is not an integer literal (decimal, 0x, 0o or 0b)")
            }
            let magnitude = Int(digits.replacingOccurrences(of: "_", with: ""), radix: radix)
            return magnitude.map { negative ? -$0 : $0 }
        }
        func value() throws -> Literal {
            skipSpace()
            guard i < s.count else { throw fail("a missing value") }
            let c = s[i]
            if c == "(" || c == "[" {
                let close: Unicode.Scalar = c == "(" ? ")" : "]"
                i += 1
                var items: [Literal] = []
                var sawComma = false
                while true {
                    skipSpace()
                    guard i < s.count else { throw fail("an unterminated \(c == "(" ? "tuple" : "list")") }
                    if s[i] == close { i += 1; break }
                    items.append(try value())
                    skipSpace()
                    guard i < s.count else { throw fail("an unterminated \(c == "(" ? "tuple" : "list")") }
                    if s[i] == "," { sawComma = true; i += 1; continue }
                    guard s[i] == close else { throw fail("expected ',' or '\(close)'") }
                }
                if c == "(" && items.count == 1 && !sawComma { return items[0] }
                return c == "(" ? .tuple(items) : .list(items)
            }
            if c == "'" || c == "\"" || ((i + 1 < s.count) && "uUrRbBfF".unicodeScalars.contains(c) && (s[i + 1] == "'" || s[i + 1] == "\"" || (i + 2 < s.count && "uUrRbBfF".unicodeScalars.contains(s[i + 1]) && (s[i + 2] == "'" || s[i + 2] == "\"")))) {
                return .string(try string())
            }
            if c == "-" || c == "+" || ("0"..."9").contains(c) || c == "." { return .integer(try integer()) }
            if isNameStart(c) {
                let start = i
                while i < s.count && isNameChar(s[i]) { i += 1 }
                return .name(String(String.UnicodeScalarView(s[start..<i])))
            }
            throw fail("'\(c)' cannot start a value (accepted: quoted strings, True, False, integers, tuples)")
        }
        skipSpace()
        guard i < s.count, s[i] == "{" else { throw fail("the header is not a dict literal (it must start with '{')") }
        i += 1
        var result: [String: (value: Literal, raw: String)] = [:]
        while true {
            skipSpace()
            guard i < s.count else { throw fail("an unterminated dict (no closing '}')") }
            if s[i] == "}" { i += 1; break }
            guard s[i] == "'" || s[i] == "\"" || (i + 1 < s.count && "uUrR".unicodeScalars.contains(s[i]) && (s[i + 1] == "'" || s[i + 1] == "\"")) else {
                throw fail("a key that is not a quoted string")
            }
            let key = try string()
            skipSpace()
            guard i < s.count, s[i] == ":" else { throw fail("no ':' after key '\(key)'") }
            i += 1
            skipSpace()
            let start = i
            let v = try value()
            result[key] = (v, String(String.UnicodeScalarView(s[start..<i])))
            skipSpace()
            guard i < s.count else { throw fail("an unterminated dict (no closing '}')") }
            if s[i] == "," { i += 1; continue }
            guard s[i] == "}" else { throw fail("expected ',' or '}' after the value of '\(key)'") }
        }
        skipSpace()
        guard i == s.count else { throw fail("text after the dict's closing '}'") }
        return result
    }
}
