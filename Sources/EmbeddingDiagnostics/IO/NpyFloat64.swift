import Foundation

/// Float64 .npy files for values that must round-trip exactly (fitted mappings): embeddings are
/// Float32 everywhere else, but a map fitted in Float64 and saved as Float32 would lose half its
/// digits between `compat --save-mapping` and `map`.
public enum NpyFloat64 {
    /// Writes a rows × cols row-major matrix as little-endian `<f8`, atomically.
    /// - Complexity: O(rows·cols).
    public static func write(_ values: [Double], rows: Int, cols: Int, to path: String) throws {
        precondition(values.count == rows * cols, "NpyFloat64.write: \(values.count) values for \(rows) × \(cols)")
        var data = EmbeddingWriter.npyHeader(descr: "<f8", rows: rows, cols: cols)
        data.reserveCapacity(data.count + values.count * 8)
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        try AtomicFile.write(data, to: path)
    }

    /// Reads a 2-D .npy as Float64 (float64 exactly; float16/float32 widened, for mapping files
    /// written before mappings were saved in float64).
    /// - Complexity: O(rows·cols).
    public static func read(_ path: String) throws -> (rows: Int, cols: Int, values: [Double]) {
        let file = try MappedFile(path)
        let header = try NpyReader.parseHeader(file.buffer, path: path)
        let (rows, cols) = try NpyReader.shape2D(header.shape, path: path)
        let (_, size, bigEndian) = try NpyReader.dtype(header.descr, path: path)
        guard size == 8 else {
            let e = try NpyReader.matrix(from: file, header: header, path: path, format: .npy)
            return (rows, cols, e.matrix.values.map(Double.init))
        }
        let (count, overflow) = rows.multipliedReportingOverflow(by: cols)
        guard !overflow, count <= (file.size - header.dataOffset) / 8 else {
            throw EmbdiagError.malformed(path, "truncated: header declares \(rows) × \(cols) float64 values")
        }
        let src = file.bytes + header.dataOffset
        var values = [Double](repeating: 0, count: count)
        for idx in 0..<count {
            var bits = (src + idx * 8).loadUnaligned(as: UInt64.self)
            if bigEndian { bits = bits.byteSwapped }
            let target = header.fortranOrder ? (idx % rows) * cols + idx / rows : idx
            values[target] = Double(bitPattern: bits)
        }
        return (rows, cols, values)
    }
}
