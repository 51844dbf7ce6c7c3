import Foundation

/// safetensors: an 8-byte little-endian header length N, N bytes of JSON
/// {"name": {"dtype": "F32", "shape": [rows, dim], "data_offsets": [begin, end]}, "__metadata__": {...}},
/// then the data. F16, BF16, F32 and F64 are read; aligned little-endian F32 is memory-mapped.
public enum SafetensorsReader {
    /// The `safetensors` package's own header limit (100 MB, decimal).
    public static let maximumHeaderBytes = 100_000_000

    /// Bits per element of every dtype the `safetensors` package knows: a header naming another
    /// dtype is refused, as the package refuses it.
    static let dtypeBits: [String: Int] = [
        "BOOL": 8, "U8": 8, "I8": 8, "F8_E5M2": 8, "F8_E4M3": 8, "F8_E8M0": 8, "I16": 16, "U16": 16, "F16": 16, "BF16": 16,
        "I32": 32, "U32": 32, "F32": 32, "I64": 64, "U64": 64, "F64": 64, "C64": 64, "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6,
    ]

    /// JSON integers (written without a point or exponent, as the package's `usize` fields demand)
    /// within 0…2^53; nil for `8.0`, `1e2`, negatives, non-numbers and larger magnitudes
    /// (NSNumber.intValue would trap or wrap on them: the header is untrusted).
    static func integers(_ value: Any?) -> [Int]? {
        guard let numbers = value as? [Any] else { return nil }
        var out: [Int] = []
        for case let n as NSNumber in numbers {
            // JSONSerialization keeps a literal with '.', 'e' or 'E' as a double ("d"), a boolean as "c".
            guard !["d", "f", "c", "B"].contains(String(cString: n.objCType)) else { return nil }
            let d = n.doubleValue
            guard d.isFinite, d.rounded() == d, d >= 0, d <= 9_007_199_254_740_992 else { return nil }
            out.append(Int(d))
        }
        return out.count == numbers.count ? out : nil
    }

    struct Tensor {
        var name: String
        var dtype: String
        var shape: [Int]
        var begin: Int
        var end: Int
    }

    /// The header as the `safetensors` package validates it (`Metadata::validate` and the buffer
    /// check of `read_metadata`): every tensor has a known dtype, integer shape and offsets; sorted
    /// by offsets, the tensors tile the data section exactly — the first starts at 0, each starts
    /// where the previous ended, each holds exactly shape × dtype bytes, and the last ends at the
    /// end of the file (no overlap, no gap, no trailing bytes). `__metadata__` maps strings to strings.
    /// - Complexity: O(t log t) for t tensors.
    static func tensors(_ header: [String: Any], dataBytes: Int, path: String) throws -> [Tensor] {
        var tensors: [Tensor] = []
        for (name, value) in header {
            if name == "__metadata__" {
                // The package reads it as an optional map: null is accepted.
                if value is NSNull { continue }
                guard let m = value as? [String: Any], m.values.allSatisfy({ $0 is String }) else {
                    throw EmbdiagError.malformed(path, "__metadata__ is not a map of strings to strings (the safetensors package refuses it)")
                }
                continue
            }
            guard let t = value as? [String: Any], let dtype = t["dtype"] as? String,
                  let shape = Self.integers(t["shape"]), let offsets = Self.integers(t["data_offsets"]), offsets.count == 2 else {
                throw EmbdiagError.malformed(path, "tensor '\(name)' lacks dtype, or a shape and data_offsets of non-negative JSON integers")
            }
            guard dtypeBits[dtype] != nil else {
                throw EmbdiagError.malformed(path, "tensor '\(name)' has dtype '\(dtype)', which the safetensors format does not define")
            }
            tensors.append(Tensor(name: name, dtype: dtype, shape: shape, begin: offsets[0], end: offsets[1]))
        }
        tensors.sort { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var start = 0
        for t in tensors {
            guard t.begin == start, t.end >= t.begin else {
                let what = t.begin < start ? "overlaps the tensor before it" : t.begin > start ? "leaves a gap of \(t.begin - start) bytes before it" : "ends before it starts"
                throw EmbdiagError.malformed(path, "tensor '\(t.name)': data_offsets [\(t.begin), \(t.end)] \(what) (the data section must be tiled exactly; the safetensors package refuses this file)")
            }
            var elements = 1, overflow = false
            for s in t.shape { let (p, o) = elements.multipliedReportingOverflow(by: s); elements = p; overflow = overflow || o }
            let (bits, o2) = elements.multipliedReportingOverflow(by: dtypeBits[t.dtype]!)
            guard !overflow, !o2 else { throw EmbdiagError.malformed(path, "tensor '\(t.name)' shape \(t.shape) is too large") }
            guard bits % 8 == 0 else {
                throw EmbdiagError.malformed(path, "tensor '\(t.name)': shape \(t.shape) × \(t.dtype) is \(bits) bits, not a whole number of bytes (the safetensors package refuses it)")
            }
            guard t.end - t.begin == bits / 8 else {
                throw EmbdiagError.malformed(path, "tensor '\(t.name)': data_offsets [\(t.begin), \(t.end)] hold \(t.end - t.begin) bytes, shape \(t.shape) × \(t.dtype) needs \(bits / 8)")
            }
            start = t.end
        }
        guard start == dataBytes else {
            throw EmbdiagError.malformed(path, start < dataBytes
                ? "\(dataBytes - start) bytes after the last tensor (the tensors end at byte \(start) of a \(dataBytes)-byte data section; the safetensors package refuses such a file)"
                : "truncated: the last tensor ends at byte \(start) of the data section, the file holds \(dataBytes)")
        }
        return tensors
    }

    public static func read(_ path: String, key: String?) throws -> Embeddings {
        let file = try MappedFile(path)
        guard file.size >= 8 else { throw EmbdiagError.malformed(path, "truncated: \(file.size) bytes, a safetensors file starts with an 8-byte header length") }
        let headerLength = UInt64(littleEndian: file.bytes.loadUnaligned(as: UInt64.self))
        guard headerLength <= UInt64(min(maximumHeaderBytes, file.size - 8)) else {
            throw EmbdiagError.malformed(path, "header length \(headerLength) exceeds the file (\(file.size) bytes) or the \(maximumHeaderBytes / 1_000_000) MB limit")
        }
        let headerData = Data(bytes: file.bytes + 8, count: Int(headerLength))
        // JSONSerialization skips a UTF-8 byte-order mark; serde_json (the package) refuses it.
        if headerData.starts(with: [0xEF, 0xBB, 0xBF]) {
            throw EmbdiagError.malformed(path, "safetensors header starts with a UTF-8 byte-order mark (the safetensors package refuses it: invalid JSON at line 1 column 1)")
        }
        guard let header = (try? JSONSerialization.jsonObject(with: headerData)) as? [String: Any] else {
            throw EmbdiagError.malformed(path, "safetensors header is not a JSON object")
        }
        // A name (or a field of a tensor) given twice: JSON objects do not say which one counts.
        let raw = UnsafeRawBufferPointer(start: file.bytes + 8, count: Int(headerLength))
        if case .object(let members)? = try? JSONLineValue.parse(raw) {
            var names = Set<String>()
            for m in members {
                guard names.insert(m.key).inserted else {
                    throw EmbdiagError.malformed(path, "the header names tensor '\(m.key)' more than once; which entry is meant is ambiguous")
                }
                if case .object(let fields) = m.value, Set(fields.map(\.key)).count < fields.count {
                    throw EmbdiagError.malformed(path, "tensor '\(m.key)' gives a field more than once in the header; which value is meant is ambiguous")
                }
                // `-0` reads as the integer 0 in JSONSerialization; serde_json reads it as the float
                // -0.0 and the package refuses it for a usize field.
                if m.key != "__metadata__", case .object(let fields) = m.value {
                    for f in fields where f.key == "shape" || f.key == "data_offsets" {
                        guard case .array(let elements) = f.value else { continue }
                        for case .number(_, let token) in elements where raw[token.lowerBound] == UInt8(ascii: "-") {
                            throw EmbdiagError.malformed(path, "tensor '\(m.key)': \(f.key) holds \(String(decoding: UnsafeRawBufferPointer(rebasing: raw[token]), as: UTF8.self)), not a non-negative JSON integer (the safetensors package reads it as a float and refuses it)")
                        }
                    }
                }
            }
        }
        let dataStart = 8 + Int(headerLength)
        let tensors = try Self.tensors(header, dataBytes: file.size - dataStart, path: path)
        let chosen: Tensor
        if let key {
            guard let t = tensors.first(where: { $0.name == key }) else {
                throw EmbdiagError.malformed(path, "no tensor '\(key)'; tensors: \(tensors.map { "\($0.name) \($0.shape)" }.joined(separator: ", "))")
            }
            chosen = t
        } else {
            let twoD = tensors.filter { $0.shape.count == 2 }
            guard !twoD.isEmpty else {
                throw EmbdiagError.malformed(path, "no 2-D tensor; tensors: \(tensors.map { "\($0.name) \($0.shape)" }.joined(separator: ", ")); pick one with \(Setting.key)")
            }
            // Several 2-D float tensors (a model file): never guess silently.
            let floats = twoD.filter { ["F16", "BF16", "F32", "F64"].contains($0.dtype) }
            if floats.count <= 1 {
                chosen = floats.first ?? twoD[0]
            } else if case let named = floats.filter({ EmbeddingReader.isEmbeddingName($0.name) }), named.count > 1 {
                // The header is a JSON object: neither its order nor the data offsets say which is meant.
                throw EmbdiagError.malformed(path, EmbeddingReader.severalEmbeddingNames(named.map { ($0.name, "\($0.shape[0])×\($0.shape[1])") }, what: "tensors"))
            } else if let preferred = floats.first(where: { EmbeddingReader.isEmbeddingName($0.name) }) {
                chosen = preferred
            } else {
                throw EmbdiagError.malformed(path, "\(floats.count) 2-D float tensors (\(floats.prefix(6).map { "\($0.name) \($0.shape[0])×\($0.shape[1])" }.joined(separator: ", "))\(floats.count > 6 ? ", …" : "")); pick one with \(Setting.key)")
            }
        }
        guard chosen.shape.count == 2 else {
            throw EmbdiagError.malformed(path, "tensor '\(chosen.name)' has shape \(chosen.shape); an embedding matrix must be 2-D")
        }
        let size: Int
        switch chosen.dtype {
        case "F16", "BF16": size = 2
        case "F32": size = 4
        case "F64": size = 8
        default: throw EmbdiagError.malformed(path, "tensor '\(chosen.name)' has dtype \(chosen.dtype); expected F16, BF16, F32 or F64")
        }
        let rows = chosen.shape[0], cols = chosen.shape[1]
        let (count, o1) = rows.multipliedReportingOverflow(by: cols)
        let (bytes, o2) = count.multipliedReportingOverflow(by: size)
        guard rows >= 0, cols >= 0, !o1, !o2 else { throw EmbdiagError.malformed(path, "tensor '\(chosen.name)' shape \(chosen.shape) is too large") }
        // Offsets come from the file: compare without arithmetic that could overflow (fuzz finding).
        guard chosen.begin >= 0, chosen.end >= chosen.begin else {
            throw EmbdiagError.malformed(path, "tensor '\(chosen.name)': data_offsets [\(chosen.begin), \(chosen.end)] are not an increasing pair of non-negative byte offsets")
        }
        guard chosen.end - chosen.begin == bytes else {
            throw EmbdiagError.malformed(path, "tensor '\(chosen.name)': data_offsets [\(chosen.begin), \(chosen.end)] hold \(chosen.end - chosen.begin) bytes, shape \(chosen.shape) × \(chosen.dtype) needs \(bytes)")
        }
        guard chosen.end <= file.size - dataStart else {
            throw EmbdiagError.malformed(path, "truncated: tensor '\(chosen.name)' ends at byte \(chosen.end) of the data section (which starts at byte \(dataStart)), file has \(file.size) bytes")
        }
        let dtypeName = ["F16": "float16", "BF16": "bfloat16", "F32": "float32", "F64": "float64"][chosen.dtype]!
        let source = Source(path: path, format: .safetensors, dtype: dtypeName, rows: rows, dim: cols, key: chosen.name)
        let start = dataStart + chosen.begin
        if size == 4 && start % 4 == 0 {
            return Embeddings(matrix: file.float32Matrix(rows: rows, cols: cols, offset: start), source: source)
        }
        let m = Matrix(rows: rows, cols: cols)
        let out = m.mutablePointer
        let src = file.bytes + start
        for i in 0..<count {
            switch chosen.dtype {
            case "F16": out[i] = Float(Float16(bitPattern: UInt16(littleEndian: (src + 2 * i).loadUnaligned(as: UInt16.self))))
            case "BF16": out[i] = Float(bitPattern: UInt32(UInt16(littleEndian: (src + 2 * i).loadUnaligned(as: UInt16.self))) << 16)
            case "F32": out[i] = Float(bitPattern: UInt32(littleEndian: (src + 4 * i).loadUnaligned(as: UInt32.self)))
            default: out[i] = try Float32Narrowing.narrow(Double(bitPattern: UInt64(littleEndian: (src + 8 * i).loadUnaligned(as: UInt64.self))),
                                                          row: i / cols, column: i % cols, path: path)
            }
        }
        if chosen.dtype == "F64" {
            try Float32Narrowing.checkUnderflow(m, path: path) { i, j in
                Double(bitPattern: UInt64(littleEndian: (src + 8 * (i * cols + j)).loadUnaligned(as: UInt64.self)))
            }
        }
        return Embeddings(matrix: m, source: source)
    }
}
