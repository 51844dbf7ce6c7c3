import Foundation

/// JSON Lines (.jsonl, .ndjson): one JSON object per line, the embedding at a JSON path
/// (`embedding`, `data[0].embedding`, `response.body.data[0].embedding` in batch outputs),
/// either an array of numbers or a base64 string of little-endian float32 (`encoding_format=base64`).
/// Default path: the only numeric array of the first line (else a string under a key `embedding`).
/// Blank lines are skipped. Every row must have the first row's length.
public enum JSONLReader {
    /// - Complexity: O(bytes of the file); memory O(rows × dim) Float32 plus one line.
    public static func read(_ path: String, jsonPath: String?, labelPath: String?, dropNulls: Bool) throws -> Embeddings {
        let file = try MappedFile(path)
        var chosenPath: JSONPath? = nil
        if let jsonPath {
            guard let p = JSONPath(jsonPath) else { throw EmbdiagError.usage("\(Setting.jsonPath) '\(jsonPath)' is not a path like embedding or data[0].embedding") }
            chosenPath = p
        }
        var idPath: JSONPath? = nil
        if let labelPath {
            guard let p = JSONPath(labelPath) else { throw EmbdiagError.usage("\(Setting.labelPath) '\(labelPath)' is not a path like custom_id or id") }
            idPath = p
        }
        var values: [Float] = []
        var labels: [String] = []
        var nullRows: [Int] = []
        var dim = -1, firstLine = 0, rows = 0
        var sawBase64 = false, sawArray = false
        try TextLines(file: file, path: path).forEach { line, bytes in
            // A UTF-8 byte-order mark (Windows editors) opens the file, not the JSON: accepted on
            // line 1, as Python reads the file with encoding='utf-8-sig'.
            var bytes = bytes
            if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF {
                guard line == 1 else {
                    throw EmbdiagError.malformed(path, "line \(line) starts with a UTF-8 byte-order mark (only the start of the file may hold one: were files concatenated?)")
                }
                bytes = UnsafeRawBufferPointer(rebasing: bytes[3...])
            }
            // Skip blank lines.
            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { return }
            let root: JSONLineValue
            do { root = try JSONLineValue.parse(bytes) } catch let f as JSONParser.Failure {
                throw EmbdiagError.malformed(path, "line \(line): not valid JSON (\(f.message) at column \(f.offset + 1))")
            }
            if chosenPath == nil { chosenPath = try defaultPath(root, path: path, line: line) }
            let at = chosenPath!
            var row: [Float]? = nil
            switch at.lookup(root) {
            case .missing(let why):
                throw EmbdiagError.malformed(path, "line \(line): \(why) (embedding path '\(at)')")
            case .duplicate(let why):
                throw EmbdiagError.malformed(path, "line \(line): \(why) on the embedding path '\(at)'; which one is meant is ambiguous")
            case .null:
                guard dropNulls else {
                    throw EmbdiagError.invalid(path, "line \(line): the embedding at '\(at)' is null (row \(rows), 0-based; use \(Setting.onInvalid) drop to skip such rows)")
                }
                nullRows.append(rows)
            case .found(let v):
                switch v {
                case .array(let elements):
                    var r = [Float](); r.reserveCapacity(elements.count)
                    for (k, e) in elements.enumerated() {
                        guard case .number(let x, _) = e else {
                            if case .null = e { throw EmbdiagError.invalid(path, "line \(line): element \(k) of '\(at)' is null") }
                            throw EmbdiagError.malformed(path, "line \(line): element \(k) of '\(at)' is \(e.typeName), not a number")
                        }
                        // JSON has no infinity: 1e400 (Inf after strtod) is a finite number too large.
                        guard x.isFinite else {
                            throw EmbdiagError.invalid(path, "line \(line), row \(rows), column \(k): \(x < 0 ? "-" : "")a number beyond float64's range is not representable in float32 (overflow)")
                        }
                        r.append(try Float32Narrowing.narrow(x, row: rows, column: k, path: path, line: line))
                    }
                    // Values below float32's range become 0: a row that is all zero only in float32
                    // would be reported as a zero row.
                    if r.allSatisfy({ $0 == 0 }), let k = elements.firstIndex(where: { if case .number(let x, _) = $0 { return x != 0 } else { return false } }),
                       case .number(let x, _) = elements[k] {
                        throw EmbdiagError.invalid(path, "line \(line), row \(rows): its values (e.g. \(x) in column \(k)) are not representable in float32 (underflow: the row would become all-zero)")
                    }
                    sawArray = true
                    row = r
                case .string(let s):
                    guard let data = Data(base64Encoded: s) else {
                        throw EmbdiagError.malformed(path, "line \(line): '\(at)' is a string but not base64 (expected a numeric array or base64 float32)")
                    }
                    guard data.count % 4 == 0 else {
                        throw EmbdiagError.malformed(path, "line \(line): base64 embedding at '\(at)' decodes to \(data.count) bytes, not a whole number of float32")
                    }
                    row = data.withUnsafeBytes { b in (0..<(b.count / 4)).map { Float(bitPattern: UInt32(littleEndian: b.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) } }
                    sawBase64 = true
                default:
                    throw EmbdiagError.malformed(path, "line \(line): '\(at)' is \(v.typeName), expected an array of numbers or a base64 string")
                }
            }
            if let r = row {
                guard !r.isEmpty else { throw EmbdiagError.malformed(path, "line \(line): the embedding at '\(at)' is empty") }
                if dim < 0 { dim = r.count; firstLine = line; values.reserveCapacity(dim * 1024) }
                guard r.count == dim else {
                    throw EmbdiagError.malformed(path, "line \(line): the embedding at '\(at)' has \(r.count) values, line \(firstLine) has \(dim) (ragged rows)")
                }
                values.append(contentsOf: r)
            }
            if let idPath {
                switch idPath.lookup(root) {
                case .found(.string(let s)): labels.append(s)
                // The number as written: a float64 would round ids beyond 2^53 (distinct ids
                // would become one label) and print 1 as 1.0.
                case .found(.number(_, let token)): labels.append(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[token]), as: UTF8.self))
                case .found(let v): throw EmbdiagError.malformed(path, "line \(line): the label at '\(idPath)' is \(v.typeName), expected a string or number")
                case .null: throw EmbdiagError.malformed(path, "line \(line): the label at '\(idPath)' is null")
                case .missing(let why): throw EmbdiagError.malformed(path, "line \(line): \(why) (label path '\(idPath)')")
                case .duplicate(let why): throw EmbdiagError.malformed(path, "line \(line): \(why) on the label path '\(idPath)'; which one is meant is ambiguous")
                }
            }
            rows += 1
        }
        guard rows > 0 else { throw EmbdiagError.malformed(path, "no JSON lines: no rows") }
        guard dim > 0 else { throw EmbdiagError.invalid(path, "every embedding is null: no rows") }
        // Null rows (kept only with dropNulls) become NaN rows, listed in `nullRows`: the analyzers'
        // --on-invalid drop removes them, keeping row numbers those of the file.
        var matrixValues = values
        if !nullRows.isEmpty {
            matrixValues = []; matrixValues.reserveCapacity(rows * dim)
            var next = 0, taken = 0
            let nan = [Float](repeating: .nan, count: dim)
            for r in 0..<rows {
                if next < nullRows.count && nullRows[next] == r { matrixValues.append(contentsOf: nan); next += 1 } else {
                    matrixValues.append(contentsOf: values[(taken * dim)..<((taken + 1) * dim)]); taken += 1
                }
            }
        }
        values = []
        let dtype = sawBase64 && !sawArray ? "float32" : sawBase64 ? "mixed" : "text"
        var e = Embeddings(matrix: Matrix(rows: rows, cols: dim, values: matrixValues), labels: idPath == nil ? nil : labels,
                           source: Source(path: path, format: .jsonl, dtype: dtype, rows: rows, dim: dim, key: chosenPath?.description))
        e.nullRows = nullRows
        return e
    }

    static func defaultPath(_ root: JSONLineValue, path: String, line: Int) throws -> JSONPath {
        var arrays: [JSONPath] = []
        JSONPath.numericArrays(in: root, into: &arrays)
        if arrays.count == 1 { return arrays[0] }
        // The same path twice: a key repeated in one object, not two vectors.
        var seen = Set<String>()
        if let twice = arrays.first(where: { !seen.insert($0.description).inserted }) {
            throw EmbdiagError.malformed(path, "line \(line): the key on the path '\(twice)' appears more than once in one object; which embedding is meant is ambiguous")
        }
        if arrays.count > 1 {
            throw EmbdiagError.malformed(path, "line \(line) has \(arrays.count) numeric arrays (\(arrays.prefix(5).map(\.description).joined(separator: ", "))); pick one with \(Setting.jsonPath)")
        }
        var strings: [JSONPath] = []
        JSONPath.strings(named: "embedding", in: root, into: &strings)
        if strings.count == 1 { return strings[0] }
        throw EmbdiagError.malformed(path, "line \(line): no numeric array (and no single base64 'embedding' string); give the path with \(Setting.jsonPath)")
    }
}
