import Foundation

/// float64 → float32 on load. A finite value beyond ±3.4e38 would become ±Inf and be reported as
/// an "Inf row", and a row of tiny values (1e-300) would become all-zero and be reported as a
/// zero row: both are refused here, naming the row, as "not representable in float32".
enum Float32Narrowing {
    /// Converts one value; throws when a finite float64 overflows float32.
    @inline(__always)
    static func narrow(_ d: Double, row: Int, column: Int, path: String, line: Int? = nil) throws -> Float {
        let f = Float(d)
        if f.isInfinite && d.isFinite {
            throw EmbdiagError.invalid(path, "\(line.map { "line \($0), " } ?? "")row \(row), column \(column): \(d) is not representable in float32 (overflow: the largest float32 is 3.4e38)")
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
                throw EmbdiagError.invalid(path, "row \(i): its values (e.g. \(value(i, j)) in column \(j)) are not representable in float32 (underflow: the row would become all-zero)")
            }
        }
    }
}
