import Foundation

/// float64 (or decimal text) → float32 on load. A finite value beyond ±3.4e38 would become ±Inf
/// and be reported as an "Inf row", and a row of tiny values (1e-300) would become all-zero and be
/// reported as a zero row: both are refused, naming the row, as "not representable in float32".
/// Every reader uses these rules and messages: npy, npz, safetensors, JSONL, Parquet, CSV/TSV,
/// word2vec text, GloVe and PostgreSQL.
enum Float32Narrowing {
    /// What follows the value in an overflow message.
    static let overflowReason = "is not representable in float32 (overflow: the largest float32 is 3.4e38)"

    /// An underflow message: `example` is one of the row's values, `place` where it is ("column 3").
    static func underflowReason(example: String, at place: String) -> String {
        "its values (e.g. \(example) in \(place)) are not representable in float32 (underflow: the row would become all-zero)"
    }

    /// Converts one value; throws when a finite float64 overflows float32.
    @inline(__always)
    static func narrow(_ d: Double, row: Int, column: Int, path: String, line: Int? = nil) throws -> Float {
        let f = Float(d)
        if f.isInfinite && d.isFinite {
            throw EmbdiagError.invalid(path, "\(line.map { "line \($0), " } ?? "")row \(row), column \(column): \(d) \(overflowReason)")
        }
        return f
    }

    /// After conversion: a row that is all zero in float32 but not in float64 underflowed.
    /// `value(row, column)` reads the original float64.
    /// - Complexity: O(n·d) over the converted matrix, plus O(d) per all-zero row.
    static func checkUnderflow(_ m: Matrix, path: String, value: (Int, Int) -> Double) throws {
        let d = m.cols
        let p = m.pointer
        for i in 0..<m.rows {
            let row = p + i * d
            var allZero = true
            for j in 0..<d where row[j] != 0 { allZero = false; break }
            guard allZero else { continue }
            if let j = (0..<d).first(where: { value(i, $0) != 0 && !value(i, $0).isNaN }) {
                throw EmbdiagError.invalid(path, "row \(i): \(underflowReason(example: "\(value(i, j))", at: "column \(j)"))")
            }
        }
    }

    /// A decimal token's float64 value (strtod on a NUL-terminated copy), for telling an
    /// underflowed token (`1e-50`, 0 in float32) from a zero; nil if it does not read completely.
    static func decimalValue(_ token: UnsafeRawBufferPointer) -> Double? {
        let n = token.count
        guard n > 0, n < 512 else { return nil }
        return withUnsafeTemporaryAllocation(of: CChar.self, capacity: n + 1) { buf -> Double? in
            let base = buf.baseAddress!
            memcpy(base, token.baseAddress!, n)
            base[n] = 0
            var end: UnsafeMutablePointer<CChar>?
            let v = strtod(base, &end)
            guard let end, end == base + n else { return nil }
            return v
        }
    }

    /// `decimalValue` of a string token (surrounding spaces ignored).
    static func decimalValue(_ token: String) -> Double? {
        var t = token.trimmingCharacters(in: .whitespaces)
        return t.withUTF8 { decimalValue(UnsafeRawBufferPointer($0)) }
    }

    /// Whether a decimal token that reads as 0 in float32 is a non-zero number (it underflowed).
    static func underflowed(_ token: String) -> Bool {
        guard let d = decimalValue(token) else { return false }
        return d != 0 && !d.isNaN
    }
}
