import Foundation

/// safetensors: an 8-byte little-endian header length N, N bytes of JSON
/// {"name": {"dtype": "F32", "shape": [rows, dim], "data_offsets": [begin, end]}, "__metadata__": {...}},
/// then the data. F16, BF16, F32 and F64 are read; aligned little-endian F32 is memory-mapped.
public enum SafetensorsReader {
    public static let maximumHeaderBytes = 100 << 20

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
                  let shape = (t["shape"] as? [NSNumber])?.map(\.intValue), let offsets = (t["data_offsets"] as? [NSNumber])?.map(\.intValue), offsets.count == 2 else {
                throw EmbdiagError.malformed(path, "tensor '\(name)' lacks dtype, shape or data_offsets")
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
            guard let t = tensors.first(where: { $0.shape.count == 2 }) else {
                throw EmbdiagError.malformed(path, "no 2-D tensor; tensors: \(tensors.map { "\($0.name) \($0.shape)" }.joined(separator: ", ")); pick one with --key")
            }
            chosen = t
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
        guard chosen.begin >= 0, chosen.end >= chosen.begin, chosen.end - chosen.begin == bytes else {
            throw EmbdiagError.malformed(path, "tensor '\(chosen.name)': data_offsets [\(chosen.begin), \(chosen.end)] hold \(chosen.end - chosen.begin) bytes, shape \(chosen.shape) × \(chosen.dtype) needs \(bytes)")
        }
        guard dataStart + chosen.end <= file.size else {
            throw EmbdiagError.malformed(path, "truncated: tensor '\(chosen.name)' ends at byte \(dataStart + chosen.end), file has \(file.size)")
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
            default: out[i] = Float(Double(bitPattern: UInt64(littleEndian: (src + 8 * i).loadUnaligned(as: UInt64.self))))
            }
        }
        return Embeddings(matrix: m, source: source)
    }
}
