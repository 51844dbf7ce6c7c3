import Foundation

/// FAISS flat indexes as written by `faiss.write_index`: `IndexFlatIP` ("IxFI"), `IndexFlatL2`
/// ("IxF2"), `IndexFlat` with another metric ("IxFl"), and `IndexIDMap`/`IndexIDMap2` ("IxMp"/"IxM2")
/// around one of them (the ids become the labels). Layout (little endian, faiss/impl/index_write.cpp):
/// fourcc, then the index header — d:int32, ntotal:int64, two int64 dummies (2^20), is_trained:uint8,
/// metric_type:int32 (+ metric_arg:float32 when metric_type > 1) — then for a flat index a uint64
/// count of float32 followed by the vectors (ntotal × d), for an IDMap the inner index followed by a
/// uint64 count of int64 ids. Any other index type is refused ("not a flat index").
public enum FaissReader {
    static let headerDummy: Int64 = 1 << 20
    static let flatCodes: Set<String> = ["IxFI", "IxF2", "IxFl"]
    static let idMapCodes: Set<String> = ["IxMp", "IxM2"]

    /// Whether `head` (the first bytes of a file) starts like a FAISS index: a fourcc 'I' + three
    /// letters or digits followed by the header with its two 2^20 dummies.
    static func looksLikeIndex(_ head: [UInt8]) -> Bool {
        guard head.count >= 32, head[0] == UInt8(ascii: "I"),
              head[1..<4].allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) }) else { return false }
        func i64(_ o: Int) -> Int64 { (0..<8).reduce(Int64(0)) { $0 | Int64(head[o + $1]) << (8 * $1) } }
        return i64(16) == headerDummy && i64(24) == headerDummy
    }

    public static func read(_ path: String) throws -> Embeddings {
        let file = try MappedFile(path)
        var cursor = Cursor(file: file, path: path)
        let (matrix, ids, metric, code) = try readIndex(&cursor, depth: 0)
        guard cursor.offset == file.size else {
            throw EmbdiagError.malformed(path, "\(file.size - cursor.offset) unexpected byte(s) after the index (ends at byte \(cursor.offset))")
        }
        let labels = ids.map { $0.map(String.init) }
        return Embeddings(matrix: matrix, labels: labels,
                          source: Source(path: path, format: .faiss, dtype: "float32", rows: matrix.rows, dim: matrix.cols, key: "\(code) \(metric)"))
    }

    struct Cursor {
        let file: MappedFile
        let path: String
        var offset = 0

        mutating func bytes(_ n: Int, _ what: String) throws -> UnsafeRawPointer {
            guard n >= 0, n <= file.size - offset else {
                throw EmbdiagError.malformed(path, "truncated: \(what) needs \(n) bytes at byte \(offset), file has \(file.size - offset) left")
            }
            defer { offset += n }
            return file.bytes + offset
        }
        mutating func u8(_ what: String) throws -> UInt8 { try bytes(1, what).load(as: UInt8.self) }
        mutating func i32(_ what: String) throws -> Int32 { Int32(littleEndian: try bytes(4, what).loadUnaligned(as: Int32.self)) }
        mutating func i64(_ what: String) throws -> Int64 { Int64(littleEndian: try bytes(8, what).loadUnaligned(as: Int64.self)) }
    }

    static func metricName(_ m: Int32) -> String {
        switch m {
        case 0: return "inner_product"
        case 1: return "L2"
        case 2: return "L1"
        case 3: return "Linf"
        case 4: return "Lp"
        case 20: return "Canberra"
        case 21: return "BrayCurtis"
        case 22: return "JensenShannon"
        case 23: return "Jaccard"
        case 24: return "NaNEuclidean"
        case 25: return "Gower"
        default: return "metric \(m)"
        }
    }

    static func readIndex(_ c: inout Cursor, depth: Int) throws -> (Matrix, [Int64]?, String, String) {
        let raw = try c.bytes(4, "the index type (fourcc)")
        let fourcc = (0..<4).map { raw.load(fromByteOffset: $0, as: UInt8.self) }
        let code = String(decoding: fourcc.map { $0 >= 0x20 && $0 < 0x7F ? $0 : UInt8(ascii: "?") }, as: UTF8.self)
        guard flatCodes.contains(code) || (idMapCodes.contains(code) && depth == 0) else {
            let what = idMapCodes.contains(code) ? "an IndexIDMap inside an IndexIDMap" : "found \(code)"
            throw EmbdiagError.malformed(c.path, "not a flat index (\(what)); embdiag reads IndexFlatIP, IndexFlatL2 and IndexIDMap around them (reconstruct other indexes with faiss and save the vectors as .npy)")
        }
        let d = Int(try c.i32("the dimension"))
        let ntotal = try c.i64("the vector count")
        let dummy1 = try c.i64("the header"), dummy2 = try c.i64("the header")
        guard dummy1 == headerDummy, dummy2 == headerDummy else { throw EmbdiagError.malformed(c.path, "\(code) header is not a faiss index header (dummy fields \(dummy1), \(dummy2))") }
        _ = try c.u8("is_trained")
        let metric = try c.i32("the metric type")
        // faiss' metric_type_from_int: 0…4 and 20…25; anything else is not a faiss header (and
        // reading on would blame the vector count for it).
        guard (0...4).contains(metric) || (20...25).contains(metric) else {
            throw EmbdiagError.malformed(c.path, "\(code) header: invalid metric type \(metric) (faiss defines 0…4 and 20…25)")
        }
        if metric > 1 { _ = try c.bytes(4, "the metric argument") }
        guard d > 0, d <= 1 << 20 else { throw EmbdiagError.malformed(c.path, "\(code) declares dimension \(d); expected 1…\(1 << 20)") }
        guard ntotal >= 0, ntotal <= Int64(c.file.size) else { throw EmbdiagError.malformed(c.path, "\(code) declares \(ntotal) vectors, more than the file can hold") }
        let n = Int(ntotal)
        if idMapCodes.contains(code) {
            let (m, _, innerMetric, innerCode) = try readIndex(&c, depth: depth + 1)
            guard m.rows == n, m.cols == d else {
                throw EmbdiagError.malformed(c.path, "\(code) declares \(n) × \(d) but its \(innerCode) holds \(m.rows) × \(m.cols)")
            }
            let count = try c.i64("the id count")
            guard count == ntotal else { throw EmbdiagError.malformed(c.path, "\(code) holds \(count) ids for \(n) vectors") }
            let p = try c.bytes(8 * n, "\(n) ids")
            let ids = (0..<n).map { Int64(littleEndian: p.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self)) }
            return (m, ids, innerMetric, "\(code)(\(innerCode))")
        }
        let count = try c.i64("the vector data size")
        let (expected, overflow) = n.multipliedReportingOverflow(by: d)
        guard !overflow, count == Int64(expected) else {
            throw EmbdiagError.malformed(c.path, "\(code) declares \(n) × \(d) vectors but stores \(count) floats")
        }
        let start = c.offset
        _ = try c.bytes(4 * expected, "\(n) × \(d) float32 vectors")
        guard n > 0 else { throw EmbdiagError.malformed(c.path, "\(code) holds no vectors: no rows") }
        let m: Matrix
        if start % 4 == 0 {
            m = c.file.float32Matrix(rows: n, cols: d, offset: start)
        } else {
            m = Matrix(rows: n, cols: d)
            memcpy(m.mutablePointer, c.file.bytes + start, 4 * expected)
        }
        return (m, nil, metricName(metric), code)
    }
}
