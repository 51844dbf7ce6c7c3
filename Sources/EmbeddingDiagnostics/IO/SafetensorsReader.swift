import Foundation

/// safetensors: an 8-byte little-endian header length N, N bytes of JSON
/// {"name": {"dtype": "F32", "shape": [rows, dim], "data_offsets": [begin, end]}, "__metadata__": {...}},
/// then the data. F16, BF16, F32 and F64 are read; aligned little-endian F32 is memory-mapped.
public enum SafetensorsReader {
    public static let maximumHeaderBytes = 100 << 20

    /// JSON numbers as exact integers; nil for fractions, non-numbers and magnitudes beyond 2^53
    /// (NSNumber.intValue would trap or wrap on them: the header is untrusted).
    static func integers(_ value: Any?) -> [Int]? {
        guard let numbers = value as? [NSNumber] else { return nil }
        var out: [Int] = []
        for n in numbers {
            let d = n.doubleValue
            guard d.isFinite, d.rounded() == d, abs(d) <= 9_007_199_254_740_992 else { return nil }
            out.append(Int(d))
        }
        return out
    }

    public static func read(_ path: String, key: String?) throws -> Embeddings {
        let file = try MappedFile(path)
        guard file.size >= 8 else { throw EmbdiagError.malformed(path, "truncated: \(file.size) bytes, a safetensors file starts with an 8-byte header length") }
        let headerLength = UInt64(littleEndian: file.bytes.loadUnaligned(as: UInt64.self))
        guard headerLength <= UInt64(min(maximumHeaderBytes, file.size - 8)) else {
            throw EmbdiagError.malformed(path, "header length \(headerLength) exceeds the file (\(file.size) bytes) or the \(maximumHeaderBytes >> 20) MB limit")
        }
        let headerData = Data(bytes: file.bytes + 8, count: Int(headerLength))
        guard let header = (try? JSONSerialization.jsonObject(with: headerData)) as? [String: Any] else {
            throw EmbdiagError.malformed(path, "safetensors header is not a JSON object")
        }
        let dataStart = 8 + Int(headerLength)
        var tensors: [(name: String, dtype: String, shape: [Int], begin: Int, end: Int)] = []
        for (name, value) in header where name != "__metadata__" {
            guard let t = value as? [String: Any], let dtype = t["dtype"] as? String,
                  let shape = Self.integers(t["shape"]), let offsets = Self.integers(t["data_offsets"]), offsets.count == 2 else {
                throw EmbdiagError.malformed(path, "tensor '\(name)' lacks dtype, or integer shape and data_offsets")
            }
            tensors.append((name, dtype, shape, offsets[0], offsets[1]))
        }
        tensors.sort { $0.begin < $1.begin || ($0.begin == $1.begin && $0.name < $1.name) }
        let chosen: (name: String, dtype: String, shape: [Int], begin: Int, end: Int)
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
