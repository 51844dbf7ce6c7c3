import Foundation

/// PostgreSQL's binary form of `real[]` and `double precision[]` (`array_send`), fetched instead of
/// text when the vector column has one of these types: the server skips decimal formatting and
/// the values arrive bit-exact. Layout, all big-endian: Int32 number of dimensions (0 for an empty
/// array), Int32 flags (1 = has NULLs), UInt32 element type OID (700 float4, 701 float8), per
/// dimension Int32 size and Int32 lower bound, then per element an Int32 byte length (-1 = NULL)
/// and the value. Every length is checked against the bytes received.
enum PostgresBinaryArray {
    static let float4 = UInt32(700), float8 = UInt32(701)

    /// Parses `bytes`, storing the first `capacity` values in `out` (float8 rounded to float32);
    /// returns how many values the array holds.
    /// - Complexity: O(bytes).
    static func parse(_ bytes: UnsafeRawBufferPointer, into out: UnsafeMutablePointer<Float>, capacity: Int) throws -> Int {
        var offset = 0
        func int32() throws -> Int32 {
            guard bytes.count - offset >= 4 else { throw PostgresVectorText.ParseError(message: "binary array truncated at byte \(offset) of \(bytes.count)") }
            defer { offset += 4 }
            return Int32(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: Int32.self))
        }
        let dimensions = try int32()
        _ = try int32()
        let elementType = UInt32(bitPattern: try int32())
        if dimensions == 0 { return 0 }
        guard dimensions == 1 else {
            throw PostgresVectorText.ParseError(message: dimensions > 1 ? "multidimensional array; expected one vector per row" : "binary array declares \(dimensions) dimensions")
        }
        guard elementType == float4 || elementType == float8 else {
            throw PostgresVectorText.ParseError(message: "binary array of element type \(elementType); expected real or double precision")
        }
        let count = Int(try int32())
        _ = try int32()
        let width = elementType == float4 ? 4 : 8
        guard count >= 0, count <= (bytes.count - offset) / (4 + width) + 1 else {
            throw PostgresVectorText.ParseError(message: "binary array declares \(count) elements in \(bytes.count) bytes")
        }
        var allZero = true
        var underflowed: (element: Int, value: Double)?
        for i in 0..<count {
            let length = try int32()
            if length == -1 { throw PostgresVectorText.ParseError(message: "NULL element at position \(i)") }
            guard Int(length) == width, bytes.count - offset >= width else {
                throw PostgresVectorText.ParseError(message: "binary array element \(i) has \(length) bytes (\(bytes.count - offset) left); expected \(width)")
            }
            let value: Float
            if width == 4 {
                value = Float(bitPattern: UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
            } else {
                // float8 → float32 as in every reader (Float32Narrowing): no Inf from a finite
                // value, no all-zero row from values that underflow.
                let d = Double(bitPattern: UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)))
                value = Float(d)
                if value.isInfinite && d.isFinite {
                    throw PostgresVectorText.ParseError(message: "element \(i): \(d) \(Float32Narrowing.overflowReason)")
                }
                if value == 0, d != 0, underflowed == nil { underflowed = (i, d) }
            }
            if value != 0 { allZero = false }
            if i < capacity { out[i] = value }
            offset += width
        }
        guard offset == bytes.count else {
            throw PostgresVectorText.ParseError(message: "binary array has \(bytes.count - offset) bytes after its last element")
        }
        if allZero, let u = underflowed {
            throw PostgresVectorText.ParseError(message: Float32Narrowing.underflowReason(example: "\(u.value)", at: "element \(u.element)"))
        }
        return count
    }
}
