import Foundation

/// The text forms of a vector in PostgreSQL: arrays `{1,2,3}` (`real[]`, `double precision[]`,
/// `numeric[]`, optionally with bounds `[0:2]={1,2,3}`) and pgvector's `[1,2,3]` (`vector`,
/// `halfvec`, and what `embedding::text` or a JSON array column holds). Spaces around values are
/// allowed; `NaN`, `Infinity` and `-Infinity` are read (and later flagged like in any file).
enum PostgresVectorText {
    /// How to convert the decimal text: `strtof` (correctly rounded to float32) for float32 and
    /// float16 sources, `strtod` then rounding to float32 for float64/numeric sources.
    enum Precision { case float32, float64 }

    struct ParseError: Error { let message: String }

    /// Parses `text`, storing the first `capacity` values in `out`; returns how many values the
    /// text holds (more than `capacity` means a longer row; the extra values are not stored).
    /// - Complexity: O(length of the text).
    static func parse(_ text: UnsafePointer<CChar>, into out: UnsafeMutablePointer<Float>, capacity: Int, precision: Precision) throws -> Int {
        var p = skipSpaces(text)
        if p.pointee == CChar(UInt8(ascii: "[")) {
            // Array bounds decoration "[lo:hi]=" (any number of dimensions) before the braces.
            var q = p
            while q.pointee == CChar(UInt8(ascii: "[")) {
                while q.pointee != 0 && q.pointee != CChar(UInt8(ascii: "]")) { q += 1 }
                guard q.pointee != 0 else { break }
                q += 1
            }
            if q.pointee == CChar(UInt8(ascii: "=")) && q != p { p = skipSpaces(q + 1) }
        }
        let open = p.pointee
        let close: CChar
        switch UInt8(bitPattern: open) {
        case UInt8(ascii: "{"): close = CChar(UInt8(ascii: "}"))
        case UInt8(ascii: "["): close = CChar(UInt8(ascii: "]"))
        default:
            throw ParseError(message: "'\(excerpt(p))' is not an array '{…}' or a vector '[…]'")
        }
        p = skipSpaces(p + 1)
        var count = 0
        var allZero = true
        var underflowed: (element: Int, value: Double)?
        if p.pointee == close {
            p += 1
        } else {
            while true {
                p = skipSpaces(p)
                let c = UInt8(bitPattern: p.pointee)
                if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") {
                    throw ParseError(message: "multidimensional array; expected one vector per row")
                }
                if strncasecmp(p, "NULL", 4) == 0 {
                    throw ParseError(message: "NULL element at position \(count)")
                }
                var end: UnsafeMutablePointer<CChar>? = nil
                let value: Float
                var wide: Double?
                switch precision {
                case .float32: value = strtof(p, &end)
                case .float64: wide = strtod(p, &end); value = Float(wide!)
                }
                guard let stop = end, UnsafePointer(stop) != p else {
                    throw ParseError(message: "element \(count): '\(excerpt(p))' is not a number")
                }
                // As in every reader (Float32Narrowing): C99 hex floats are not numbers (strtod
                // reads "0x10" as 16), a finite value beyond float32 is not an Inf, and a row that
                // becomes all zero only in float32 underflowed.
                let token = UnsafeRawBufferPointer(start: p, count: p.distance(to: UnsafePointer(stop)))
                if token.contains(where: { $0 == UInt8(ascii: "x") || $0 == UInt8(ascii: "X") }) {
                    throw ParseError(message: "element \(count): '\(excerpt(p))' is not a number")
                }
                if value.isInfinite, !token.contains(where: { $0 == UInt8(ascii: "i") || $0 == UInt8(ascii: "I") }) {
                    throw ParseError(message: "element \(count): \(String(decoding: token.prefix(40), as: UTF8.self)) \(Float32Narrowing.overflowReason)")
                }
                if value != 0 {
                    allZero = false
                } else if underflowed == nil, let d = wide ?? Float32Narrowing.decimalValue(token), d != 0, !d.isNaN {
                    underflowed = (count, d)
                }
                if count < capacity { out[count] = value }
                count += 1
                p = skipSpaces(UnsafePointer(stop))
                if p.pointee == CChar(UInt8(ascii: ",")) { p += 1; continue }
                if p.pointee == close { p += 1; break }
                throw ParseError(message: "element \(count - 1): unexpected '\(excerpt(p))' after a value (sparse vectors are not supported)")
            }
        }
        p = skipSpaces(p)
        guard p.pointee == 0 else { throw ParseError(message: "unexpected '\(excerpt(p))' after the closing bracket (sparse vectors are not supported)") }
        if allZero, let u = underflowed {
            throw ParseError(message: Float32Narrowing.underflowReason(example: "\(u.value)", at: "element \(u.element)"))
        }
        return count
    }

    private static func skipSpaces(_ p: UnsafePointer<CChar>) -> UnsafePointer<CChar> {
        var p = p
        while p.pointee == 0x20 || (p.pointee >= 0x09 && p.pointee <= 0x0D) { p += 1 }
        return p
    }

    /// Up to 20 characters of the text at `p`, for error messages.
    private static func excerpt(_ p: UnsafePointer<CChar>) -> String {
        var bytes: [UInt8] = []
        var q = p
        while q.pointee != 0 && bytes.count < 20 { bytes.append(UInt8(bitPattern: q.pointee)); q += 1 }
        return String(decoding: bytes, as: UTF8.self) + (q.pointee != 0 ? "…" : "")
    }
}
