import Foundation

/// fvecs (the ANN-benchmark format): per row a little-endian int32 dimension d, then d float32.
/// Every row must declare the same d; the file size must be a whole number of rows.
public enum FvecsReader {
    public static func read(_ path: String) throws -> Embeddings {
        let file = try MappedFile(path)
        guard file.size >= 4 else {
            throw EmbdiagError.malformed(path, file.size == 0 ? "empty file: no rows" : "truncated: \(file.size) bytes, a row needs at least 4")
        }
        let d = Int(Int32(littleEndian: file.bytes.loadUnaligned(as: Int32.self)))
        guard d > 0, d <= 1 << 20 else { throw EmbdiagError.malformed(path, "first row declares dimension \(d); expected 1…\(1 << 20)") }
        let rowBytes = 4 * (d + 1)
        guard file.size % rowBytes == 0 else {
            throw EmbdiagError.malformed(path, "truncated: \(file.size) bytes is not a whole number of \(rowBytes)-byte rows (dimension \(d)); last row has \(file.size % rowBytes) bytes")
        }
        let n = file.size / rowBytes
        let m = Matrix(rows: n, cols: d)
        let out = m.mutablePointer
        for r in 0..<n {
            let row = file.bytes + r * rowBytes
            let declared = Int(Int32(littleEndian: row.loadUnaligned(as: Int32.self)))
            guard declared == d else { throw EmbdiagError.malformed(path, "row \(r) declares dimension \(declared), the first row \(d)") }
            for j in 0..<d {
                out[r * d + j] = Float(bitPattern: UInt32(littleEndian: (row + 4 + 4 * j).loadUnaligned(as: UInt32.self)))
            }
        }
        return Embeddings(matrix: m, source: Source(path: path, format: .fvecs, dtype: "float32", rows: n, dim: d))
    }
}
