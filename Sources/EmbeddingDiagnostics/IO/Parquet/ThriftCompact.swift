import Foundation

/// A Thrift compact-protocol value, decoded generically from untrusted bytes (the Parquet footer
/// and page headers). Every count is bounded by the bytes left (each element takes at least one
/// byte), nesting by `maximumDepth`, varints by 10 bytes: a hostile footer cannot make the decoder
/// allocate more than a small multiple of its own size, recurse deeply or loop.
indirect enum ThriftValue {
    case int(Int64)
    case double(Double)
    case bool(Bool)
    /// Bytes of a binary/string field: the range inside the decoded buffer.
    case binary(Range<Int>)
    case list([ThriftValue])
    case structure([Int16: ThriftValue])
    case map

    var int: Int64? { if case .int(let v) = self { return v }; return nil }
    var bool: Bool? { if case .bool(let v) = self { return v }; return nil }
    var list: [ThriftValue]? { if case .list(let v) = self { return v }; return nil }
    var fields: [Int16: ThriftValue]? { if case .structure(let v) = self { return v }; return nil }
}

struct ThriftFailure: Error {
    var message: String
}

struct ThriftCompactReader {
    static let maximumDepth = 24
    let bytes: UnsafeRawBufferPointer
    var position = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    func fail(_ m: String) -> ThriftFailure { ThriftFailure(message: "\(m) at byte \(position) of \(bytes.count)") }

    mutating func byte() throws -> UInt8 {
        guard position < bytes.count else { throw fail("truncated") }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0
        for shift in stride(from: 0, to: 70, by: 7) {
            let b = try byte()
            guard shift < 64 else { throw fail("varint longer than 10 bytes") }
            result |= UInt64(b & 0x7F) << UInt64(shift)
            if b & 0x80 == 0 { return result }
        }
        throw fail("varint longer than 10 bytes")
    }

    mutating func zigzag() throws -> Int64 {
        let v = try varint()
        return Int64(bitPattern: (v >> 1) ^ (0 &- (v & 1)))
    }

    /// A count that cannot exceed the bytes left (every element takes at least `minimumBytes`).
    mutating func count(minimumBytes: Int = 1) throws -> Int {
        let n = try varint()
        guard n <= UInt64(max(0, bytes.count - position) / max(1, minimumBytes)) else { throw fail("count \(n) exceeds the bytes left") }
        return Int(n)
    }

    /// Reads one struct (the top-level value of a footer or page header).
    mutating func readStruct(depth: Int = 0) throws -> [Int16: ThriftValue] {
        guard depth < Self.maximumDepth else { throw fail("nested deeper than \(Self.maximumDepth) levels") }
        var fields: [Int16: ThriftValue] = [:]
        var lastID: Int16 = 0
        while true {
            let header = try byte()
            if header == 0 { return fields }
            let type = header & 0x0F
            let delta = header >> 4
            let id: Int16
            if delta == 0 {
                let z = try zigzag()
                guard z >= Int64(Int16.min), z <= Int64(Int16.max) else { throw fail("field id \(z) out of range") }
                id = Int16(z)
            } else {
                let (sum, overflow) = lastID.addingReportingOverflow(Int16(delta))
                guard !overflow else { throw fail("field id overflow") }
                id = sum
            }
            lastID = id
            fields[id] = try value(type: type, depth: depth + 1)
        }
    }

    mutating func value(type: UInt8, depth: Int) throws -> ThriftValue {
        guard depth < Self.maximumDepth else { throw fail("nested deeper than \(Self.maximumDepth) levels") }
        switch type {
        case 1: return .bool(true)
        case 2: return .bool(false)
        case 3:
            return .int(Int64(Int8(bitPattern: try byte())))
        case 4, 5, 6:
            return .int(try zigzag())
        case 7:
            guard bytes.count - position >= 8 else { throw fail("truncated double") }
            let bits = (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[position + $1]) << (8 * UInt64($1)) }
            position += 8
            return .double(Double(bitPattern: bits))
        case 8:
            let n = try count()
            defer { position += n }
            return .binary(position..<(position + n))
        case 9, 10:
            let h = try byte()
            var n = Int(h >> 4)
            let elementType = h & 0x0F
            if n == 15 { n = try count() } else { guard n <= bytes.count - position else { throw fail("list size \(n) exceeds the bytes left") } }
            var out: [ThriftValue] = []
            out.reserveCapacity(n)
            for _ in 0..<n {
                if elementType == 1 || elementType == 2 {
                    // Booleans inside lists take one byte each.
                    out.append(.bool(try byte() == 1))
                } else {
                    out.append(try value(type: elementType, depth: depth + 1))
                }
            }
            return .list(out)
        case 11:
            let n = try count(minimumBytes: 2)
            if n == 0 { return .map }
            let kv = try byte()
            for _ in 0..<n {
                for t in [kv >> 4, kv & 0x0F] {
                    if t == 1 || t == 2 { _ = try byte() } else { _ = try value(type: t, depth: depth + 1) }
                }
            }
            return .map
        case 12:
            return .structure(try readStruct(depth: depth + 1))
        default:
            throw fail("unknown field type \(type)")
        }
    }

    func string(_ v: ThriftValue?) -> String? {
        guard case .binary(let r)? = v else { return nil }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[r]), as: UTF8.self)
    }
}
