import CSnappy
import CGzip
import CZstd
import Foundation

/// One Parquet column chunk, page by page: page headers (Thrift), decompression (Snappy, GZIP,
/// ZSTD through the system libraries), repetition/definition levels (RLE/bit-packed hybrid), and
/// the values section handed to the caller with its encoding. Sizes come from the file and are
/// checked before use; decompressed sizes must match the page header exactly.
struct ParquetColumnChunkReader {
    static let maximumPageBytes = 1 << 30

    enum Dictionary {
        case floats([Float])
        case bytes(pool: [UInt8], offsets: [Int])
        case ints([Int64])

        var count: Int {
            switch self {
            case .floats(let f): return f.count
            case .bytes(_, let o): return o.count - 1
            case .ints(let i): return i.count
            }
        }
    }

    /// A data page ready for value decoding (valid only during the callback).
    struct Page {
        var count: Int
        var rep: UnsafeBufferPointer<UInt8>
        var def: UnsafeBufferPointer<UInt8>
        var values: UnsafeRawBufferPointer
        var encoding: Int64
        /// Entries whose definition level is the maximum (values present in the values section).
        var present: Int
    }

    let file: MappedFile
    let leaf: ParquetMetadata.Leaf
    let chunk: ParquetMetadata.Chunk
    var dictionary: Dictionary?
    private var pageBuffer: [UInt8] = []  // reused across pages and chunks
    private var levelBuffer: [UInt8] = []
    private var repBuffer: [UInt8] = []

    init(file: MappedFile, leaf: ParquetMetadata.Leaf, chunk: ParquetMetadata.Chunk) {
        self.file = file
        self.leaf = leaf
        self.chunk = chunk
    }

    var path: String { file.path }
    func bad(_ m: String) -> EmbdiagError { EmbdiagError.malformed(path, "column '\(leaf.dottedPath)': \(m)") }

    static func codecName(_ c: Int64) -> String {
        switch c {
        case 0: return "UNCOMPRESSED"
        case 1: return "SNAPPY"
        case 2: return "GZIP"
        case 3: return "LZO"
        case 4: return "BROTLI"
        case 5: return "LZ4"
        case 6: return "ZSTD"
        case 7: return "LZ4_RAW"
        default: return "codec \(c)"
        }
    }

    /// Decompresses `src` into `dst` (resized to exactly `size` bytes).
    func decompress(_ src: UnsafeRawBufferPointer, size: Int, into dst: inout [UInt8]) throws {
        if dst.count < size { dst = [UInt8](repeating: 0, count: size) }
        let ok: Bool = dst.withUnsafeMutableBytes { out -> Bool in
            let o = out.baseAddress!
            switch chunk.codec {
            case 0:
                guard src.count == size else { return false }
                if size > 0 { memcpy(o, src.baseAddress!, size) }
                return true
            case 1:
                var length = 0
                guard snappy_uncompressed_length(src.baseAddress?.assumingMemoryBound(to: CChar.self), src.count, &length) == SNAPPY_OK,
                      length == size else { return false }
                var outLength = size
                return snappy_uncompress(src.baseAddress?.assumingMemoryBound(to: CChar.self), src.count,
                                         o.assumingMemoryBound(to: CChar.self), &outLength) == SNAPPY_OK && outLength == size
            case 2:
                var stream = z_stream()
                guard inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return false }
                defer { inflateEnd(&stream) }
                stream.next_in = UnsafeMutablePointer(mutating: src.baseAddress?.assumingMemoryBound(to: Bytef.self))
                stream.avail_in = uInt(src.count)
                stream.next_out = o.assumingMemoryBound(to: Bytef.self)
                stream.avail_out = uInt(size)
                let r = inflate(&stream, Z_FINISH)
                return r == Z_STREAM_END && Int(stream.total_out) == size
            case 6:
                let r = ZSTD_decompress(o, size, src.baseAddress, src.count)
                return ZSTD_isError(r) == 0 && r == size
            default:
                return false
            }
        }
        guard ok else {
            if ![0, 1, 2, 6].contains(chunk.codec) {
                throw bad("compression \(Self.codecName(chunk.codec)) is not supported (UNCOMPRESSED, SNAPPY, GZIP, ZSTD are)")
            }
            throw bad("a \(Self.codecName(chunk.codec)) page does not decompress to its declared \(size) bytes (corrupt page)")
        }
    }

    /// Decodes `count` RLE/bit-packed hybrid values of `bitWidth` bits from `data` into `out`, each
    /// checked to be ≤ `limit`; returns the bytes consumed.
    static func decodeHybrid<T: FixedWidthInteger>(_ data: UnsafeRawBufferPointer, bitWidth: Int, count: Int, limit: UInt32 = .max,
                                                    into out: UnsafeMutablePointer<T>) throws -> Int {
        guard bitWidth >= 0, bitWidth <= 32 else { throw ThriftFailure(message: "bit width \(bitWidth)") }
        var pos = 0, produced = 0
        let valueBytes = (bitWidth + 7) / 8
        let mask: UInt64 = bitWidth == 32 ? 0xFFFF_FFFF : (1 << UInt64(bitWidth)) - 1
        while produced < count {
            var header: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard pos < data.count, shift < 35 else { throw ThriftFailure(message: "truncated run header") }
                let b = data[pos]; pos += 1
                header |= UInt64(b & 0x7F) << shift
                if b & 0x80 == 0 { break }
                shift += 7
            }
            if header & 1 == 0 {
                let run = Int(header >> 1)
                guard valueBytes <= data.count - pos else { throw ThriftFailure(message: "truncated run") }
                var v: UInt32 = 0
                for k in 0..<valueBytes { v |= UInt32(data[pos + k]) << (8 * UInt32(k)) }
                pos += valueBytes
                let n = min(run, count - produced)
                guard v <= limit else { throw ThriftFailure(message: "value \(v) exceeds \(limit)") }
                (out + produced).initialize(repeating: T(truncatingIfNeeded: v), count: n)
                produced += n
            } else {
                let groups = Int(header >> 1)
                let needed = groups * bitWidth
                guard groups <= data.count, needed <= data.count - pos else { throw ThriftFailure(message: "truncated bit-packed run") }
                let n = min(groups * 8, count - produced)
                let base = data.baseAddress! + pos
                var bitPos = 0
                for k in 0..<n {
                    let byte = bitPos >> 3
                    var word: UInt64 = 0
                    let avail = min(8, needed - byte)
                    for t in 0..<avail { word |= UInt64(base.load(fromByteOffset: byte + t, as: UInt8.self)) << (8 * UInt64(t)) }
                    let v = UInt32(truncatingIfNeeded: (word >> UInt64(bitPos & 7)) & mask)
                    guard v <= limit else { throw ThriftFailure(message: "value \(v) exceeds \(limit)") }
                    out[produced + k] = T(truncatingIfNeeded: v)
                    bitPos += bitWidth
                }
                produced += n
                pos += needed
            }
        }
        return pos
    }

    static func bitWidth(_ maxLevel: Int) -> Int { maxLevel == 0 ? 0 : Int.bitWidth - maxLevel.leadingZeroBitCount }

    private func decodeLevels(_ data: UnsafeRawBufferPointer, maxLevel: Int, count: Int, into buffer: inout [UInt8], what: String) throws {
        if buffer.count < count { buffer = [UInt8](repeating: 0, count: count) }
        if maxLevel == 0 { return }
        do {
            _ = try buffer.withUnsafeMutableBufferPointer {
                try Self.decodeHybrid(data, bitWidth: Self.bitWidth(maxLevel), count: count, limit: UInt32(maxLevel), into: $0.baseAddress!)
            }
        } catch let f as ThriftFailure { throw bad("\(what) levels (maximum \(maxLevel)): \(f.message)") }
    }

    /// Calls `body` for every data page of the chunk, after reading any dictionary page.
    mutating func forEachPage(_ body: (Page, ParquetValues) throws -> Void) throws {
        // The buffers move into locals for the loop (no overlapping access to self), and back after.
        var pageBuffer: [UInt8] = [], levelBuffer: [UInt8] = [], repBuffer: [UInt8] = []
        swap(&pageBuffer, &self.pageBuffer); swap(&levelBuffer, &self.levelBuffer); swap(&repBuffer, &self.repBuffer)
        defer { swap(&pageBuffer, &self.pageBuffer); swap(&levelBuffer, &self.levelBuffer); swap(&repBuffer, &self.repBuffer) }
        var pos = chunk.start
        let end = chunk.start + chunk.size
        var entries = 0, pageIndex = -1
        while pos < end && entries < chunk.numValues {
            pageIndex += 1
            var reader = ThriftCompactReader(UnsafeRawBufferPointer(start: file.bytes + pos, count: end - pos))
            let header: [Int16: ThriftValue]
            do { header = try reader.readStruct() } catch let f as ThriftFailure { throw bad("page header at byte \(pos) is not valid Thrift: \(f.message)") }
            pos += reader.position
            guard let type = header[1]?.int, let uncompressed = header[2]?.int, let compressed = header[3]?.int,
                  uncompressed >= 0, uncompressed <= Int64(Self.maximumPageBytes), compressed >= 0, compressed <= Int64(end - pos) else {
                throw bad("page at byte \(pos): header sizes are missing or outside the column chunk")
            }
            let src = UnsafeRawBufferPointer(start: file.bytes + pos, count: Int(compressed))
            // The optional CRC-32 (zlib's polynomial) covers the page as stored, after its header:
            // a flipped bit in the values would otherwise be read as another number.
            if let stored = header[4]?.int, [0, 2, 3].contains(type) {
                let computed = UInt32(truncatingIfNeeded: crc32(0, src.baseAddress?.assumingMemoryBound(to: Bytef.self), uInt(src.count)))
                guard UInt32(truncatingIfNeeded: stored) == computed else {
                    throw bad("page \(pageIndex) (at byte \(pos)) fails its CRC-32 check (stored \(String(UInt32(truncatingIfNeeded: stored), radix: 16)), computed \(String(computed, radix: 16))): the page is corrupt")
                }
            }
            pos += Int(compressed)
            switch type {
            case 2:  // dictionary page
                guard let dh = header[7]?.fields, let n = dh[1]?.int, n >= 0, n <= uncompressed else { throw bad("dictionary page header is invalid") }
                try decompress(src, size: Int(uncompressed), into: &pageBuffer)
                dictionary = try pageBuffer.withUnsafeBytes { try decodeDictionary(UnsafeRawBufferPointer(rebasing: $0[0..<Int(uncompressed)]), count: Int(n)) }
            case 0:  // data page v1: [rep levels][def levels] values, all compressed together
                guard let dh = header[5]?.fields, let n = dh[1]?.int, let enc = dh[2]?.int, n >= 0, n <= Int64(chunk.numValues - entries) else {
                    throw bad("data page header is invalid or holds more values than the chunk")
                }
                try decompress(src, size: Int(uncompressed), into: &pageBuffer)
                let count = Int(n)
                try pageBuffer.withUnsafeBytes { raw in
                    let page = UnsafeRawBufferPointer(rebasing: raw[0..<Int(uncompressed)])
                    var offset = 0
                    func levelSection(_ maxLevel: Int, _ buffer: inout [UInt8], _ what: String) throws {
                        if maxLevel == 0 { if buffer.count < count { buffer = [UInt8](repeating: 0, count: count) }; return }
                        guard page.count - offset >= 4 else { throw bad("data page too short for its \(what) levels") }
                        let length = Int(UInt32(littleEndian: (page.baseAddress! + offset).loadUnaligned(as: UInt32.self)))
                        offset += 4
                        guard length <= page.count - offset else { throw bad("\(what) levels length \(length) exceeds the page") }
                        try decodeLevels(UnsafeRawBufferPointer(rebasing: page[offset..<(offset + length)]), maxLevel: maxLevel, count: count, into: &buffer, what: what)
                        offset += length
                    }
                    if let e = dh[3]?.int, e != 3, leaf.maxDefinition > 0 { throw bad("definition level encoding \(e) is not supported (RLE is)") }
                    try levelSection(leaf.maxRepetition, &repBuffer, "repetition")
                    try levelSection(leaf.maxDefinition, &levelBuffer, "definition")
                    try emit(count: count, values: UnsafeRawBufferPointer(rebasing: page[offset...]), encoding: enc, rep: repBuffer, def: levelBuffer, body)
                }
                entries += count
            case 3:  // data page v2: levels uncompressed, then the (maybe compressed) values
                guard let dh = header[8]?.fields, let n = dh[1]?.int, let enc = dh[4]?.int, let defLength = dh[5]?.int, let repLength = dh[6]?.int,
                      n >= 0, n <= Int64(chunk.numValues - entries), defLength >= 0, repLength >= 0,
                      defLength + repLength <= compressed, defLength + repLength <= uncompressed else {
                    throw bad("data page v2 header is invalid or holds more values than the chunk")
                }
                let count = Int(n)
                let repBytes = UnsafeRawBufferPointer(rebasing: src[0..<Int(repLength)])
                let defBytes = UnsafeRawBufferPointer(rebasing: src[Int(repLength)..<Int(repLength + defLength)])
                if leaf.maxRepetition > 0 { try decodeLevels(repBytes, maxLevel: leaf.maxRepetition, count: count, into: &repBuffer, what: "repetition") }
                else if repBuffer.count < count { repBuffer = [UInt8](repeating: 0, count: count) }
                if leaf.maxDefinition > 0 { try decodeLevels(defBytes, maxLevel: leaf.maxDefinition, count: count, into: &levelBuffer, what: "definition") }
                else if levelBuffer.count < count { levelBuffer = [UInt8](repeating: 0, count: count) }
                let valuesSource = UnsafeRawBufferPointer(rebasing: src[Int(repLength + defLength)...])
                let valuesSize = Int(uncompressed - repLength - defLength)
                if dh[7]?.bool ?? true {
                    try decompress(valuesSource, size: valuesSize, into: &pageBuffer)
                } else {
                    guard valuesSource.count == valuesSize else { throw bad("uncompressed v2 page holds \(valuesSource.count) bytes, header says \(valuesSize)") }
                    if pageBuffer.count < valuesSize { pageBuffer = [UInt8](repeating: 0, count: valuesSize) }
                    if valuesSize > 0 { pageBuffer.withUnsafeMutableBytes { _ = memcpy($0.baseAddress!, valuesSource.baseAddress!, valuesSize) } }
                }
                try pageBuffer.withUnsafeBytes { raw in
                    try emit(count: count, values: UnsafeRawBufferPointer(rebasing: raw[0..<valuesSize]), encoding: enc, rep: repBuffer, def: levelBuffer, body)
                }
                entries += count
            default:
                continue  // index pages and unknown page types are skipped
            }
        }
        guard entries == chunk.numValues else {
            throw bad("column chunk holds \(entries) values in its pages, its metadata says \(chunk.numValues) (truncated or corrupt page)")
        }
    }

    private func emit(count: Int, values: UnsafeRawBufferPointer, encoding: Int64, rep repBuffer: [UInt8], def levelBuffer: [UInt8],
                      _ body: (Page, ParquetValues) throws -> Void) throws {
        try repBuffer.withUnsafeBufferPointer { rep in
            try levelBuffer.withUnsafeBufferPointer { def in
                var present = count
                if leaf.maxDefinition > 0 {
                    present = 0
                    let m = UInt8(leaf.maxDefinition)
                    for k in 0..<count where def[k] == m { present += 1 }
                }
                try body(Page(count: count, rep: UnsafeBufferPointer(rebasing: rep[0..<count]), def: UnsafeBufferPointer(rebasing: def[0..<count]),
                              values: values, encoding: encoding, present: present),
                         ParquetValues(leaf: leaf, path: path, dictionary: dictionary))
            }
        }
    }

    /// A dictionary page: `count` PLAIN values of the column's type.
    func decodeDictionary(_ data: UnsafeRawBufferPointer, count: Int) throws -> Dictionary {
        let v = ParquetValues(leaf: leaf, path: path, dictionary: nil)
        switch leaf.physical {
        case let physical where physical == .float || physical == .double || (physical == .fixedLenByteArray && leaf.isFloat16):
            var f = [Float](repeating: 0, count: count)
            try f.withUnsafeMutableBufferPointer { try v.decodePlainFloats(data, count: count, into: $0.baseAddress!) }
            return .floats(f)
        case .byteArray, .fixedLenByteArray:
            var pool: [UInt8] = [], offsets = [0]
            try v.forEachPlainBytes(data, count: count) { pool.append(contentsOf: $0); offsets.append(pool.count) }
            return .bytes(pool: pool, offsets: offsets)
        case .int32, .int64:
            var ints = [Int64](); ints.reserveCapacity(count)
            try v.forEachPlainInt(data, count: count) { ints.append($0) }
            return .ints(ints)
        default:
            throw bad("dictionary of \(leaf.physical.name) values is not supported")
        }
    }

    static func encodingName(_ e: Int64) -> String {
        ["PLAIN", "GROUP_VAR_INT", "PLAIN_DICTIONARY", "RLE", "BIT_PACKED", "DELTA_BINARY_PACKED", "DELTA_LENGTH_BYTE_ARRAY",
         "DELTA_BYTE_ARRAY", "RLE_DICTIONARY", "BYTE_STREAM_SPLIT"].indices.contains(Int(e))
            ? ["PLAIN", "GROUP_VAR_INT", "PLAIN_DICTIONARY", "RLE", "BIT_PACKED", "DELTA_BINARY_PACKED", "DELTA_LENGTH_BYTE_ARRAY",
               "DELTA_BYTE_ARRAY", "RLE_DICTIONARY", "BYTE_STREAM_SPLIT"][Int(e)] : "encoding \(e)"
    }

}

/// Value decoding of one page (PLAIN or dictionary) for a leaf column.
struct ParquetValues {
    let leaf: ParquetMetadata.Leaf
    let path: String
    let dictionary: ParquetColumnChunkReader.Dictionary?

    func bad(_ m: String) -> EmbdiagError { EmbdiagError.malformed(path, "column '\(leaf.dottedPath)': \(m)") }
    typealias Page = ParquetColumnChunkReader.Page
    typealias Dictionary = ParquetColumnChunkReader.Dictionary
    static func encodingName(_ e: Int64) -> String { ParquetColumnChunkReader.encodingName(e) }

    /// PLAIN float/double/half values → Float32.
    func decodePlainFloats(_ data: UnsafeRawBufferPointer, count: Int, into out: UnsafeMutablePointer<Float>) throws {
        let size = leaf.physical == .double ? 8 : leaf.physical == .float ? 4 : 2
        guard count <= data.count / size else { throw bad("page holds \(data.count) bytes of values, \(count) \(leaf.typeDescription) values need \(count * size)") }
        guard let src = data.baseAddress else { return }
        switch size {
        case 4: memcpy(out, src, 4 * count)
        case 8:
            for k in 0..<count {
                let d = Double(bitPattern: UInt64(littleEndian: src.loadUnaligned(fromByteOffset: 8 * k, as: UInt64.self)))
                out[k] = Float(d)
                // A finite double beyond float32's range would become an "Inf row".
                if out[k].isInfinite && d.isFinite {
                    throw bad("the value \(d) is not representable in float32 (overflow: the largest float32 is 3.4e38)")
                }
            }
        default: for k in 0..<count { out[k] = Float(Float16(bitPattern: UInt16(littleEndian: src.loadUnaligned(fromByteOffset: 2 * k, as: UInt16.self)))) }
        }
    }

    func forEachPlainBytes(_ data: UnsafeRawBufferPointer, count: Int, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        var pos = 0
        for _ in 0..<count {
            let n: Int
            if leaf.physical == .fixedLenByteArray {
                n = leaf.typeLength
            } else {
                guard data.count - pos >= 4 else { throw bad("truncated byte array in a page") }
                n = Int(UInt32(littleEndian: (data.baseAddress! + pos).loadUnaligned(as: UInt32.self)))
                pos += 4
            }
            guard n <= data.count - pos else { throw bad("a byte array of \(n) bytes runs past its page") }
            try body(UnsafeRawBufferPointer(rebasing: data[pos..<(pos + n)]))
            pos += n
        }
    }

    func forEachPlainInt(_ data: UnsafeRawBufferPointer, count: Int, _ body: (Int64) -> Void) throws {
        let size = leaf.physical == .int64 ? 8 : 4
        guard count <= data.count / size else { throw bad("page too short for \(count) \(leaf.physical.name) values") }
        for k in 0..<count {
            body(size == 8 ? Int64(littleEndian: data.loadUnaligned(fromByteOffset: 8 * k, as: Int64.self))
                           : Int64(Int32(littleEndian: data.loadUnaligned(fromByteOffset: 4 * k, as: Int32.self))))
        }
    }

    /// Dictionary indices of a RLE_DICTIONARY/PLAIN_DICTIONARY page, each checked against the dictionary.
    func dictionaryIndices(_ data: UnsafeRawBufferPointer, count: Int, dictionary: Dictionary?) throws -> [UInt32] {
        guard let dictionary else { throw bad("dictionary-encoded page without a dictionary page") }
        guard data.count >= 1 || count == 0 else { throw bad("dictionary-encoded page has no bit width") }
        var indices = [UInt32](repeating: 0, count: count)
        if count == 0 { return indices }
        let width = Int(data[0])
        guard dictionary.count > 0 else { throw bad("dictionary-encoded page with an empty dictionary") }
        do {
            _ = try indices.withUnsafeMutableBufferPointer {
                try ParquetColumnChunkReader.decodeHybrid(UnsafeRawBufferPointer(rebasing: data[1...]), bitWidth: width, count: count,
                                                          limit: UInt32(dictionary.count - 1), into: $0.baseAddress!)
            }
        } catch let f as ThriftFailure { throw bad("dictionary indices (\(dictionary.count) entries): \(f.message)") }
        return indices
    }

    /// The page's present values as Float32 (PLAIN or dictionary).
    func floats(_ page: Page, into out: UnsafeMutablePointer<Float>) throws {
        switch page.encoding {
        case 0: try decodePlainFloats(page.values, count: page.present, into: out)
        case 2, 8:
            let idx = try dictionaryIndices(page.values, count: page.present, dictionary: dictionary)
            guard case .floats(let dict)? = dictionary else { throw bad("dictionary type does not match the column") }
            dict.withUnsafeBufferPointer { d in for (k, i) in idx.enumerated() { out[k] = d[Int(i)] } }
        case 9:
            // BYTE_STREAM_SPLIT: byte b of value k is at b·n + k; regroup, then decode as PLAIN.
            let size = leaf.physical == .double ? 8 : leaf.physical == .float ? 4 : 2
            let n = page.present
            guard n <= page.values.count / size else { throw bad("BYTE_STREAM_SPLIT page holds \(page.values.count) bytes, \(n) values need \(n * size)") }
            var plain = [UInt8](repeating: 0, count: n * size)
            let src = page.values
            for b in 0..<size { for k in 0..<n { plain[k * size + b] = src[b * n + k] } }
            try plain.withUnsafeBytes { try decodePlainFloats($0, count: n, into: out) }
        default:
            throw bad("encoding \(ParquetColumnChunkReader.encodingName(page.encoding)) is not supported (PLAIN, dictionary and BYTE_STREAM_SPLIT are)")
        }
    }

    /// The page's present values as byte arrays (PLAIN or dictionary).
    func byteArrays(_ page: Page, _ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        switch page.encoding {
        case 0: try forEachPlainBytes(page.values, count: page.present, body)
        case 2, 8:
            let idx = try dictionaryIndices(page.values, count: page.present, dictionary: dictionary)
            guard case .bytes(let pool, let offsets)? = dictionary else { throw bad("dictionary type does not match the column") }
            try pool.withUnsafeBytes { p in for i in idx { try body(UnsafeRawBufferPointer(rebasing: p[offsets[Int(i)]..<offsets[Int(i) + 1]])) } }
        default:
            throw bad("encoding \(ParquetColumnChunkReader.encodingName(page.encoding)) is not supported (PLAIN and dictionary are)")
        }
    }

    /// The page's present values as integers (PLAIN or dictionary).
    func integers(_ page: Page, _ body: (Int64) -> Void) throws {
        switch page.encoding {
        case 0: try forEachPlainInt(page.values, count: page.present, body)
        case 2, 8:
            let idx = try dictionaryIndices(page.values, count: page.present, dictionary: dictionary)
            guard case .ints(let dict)? = dictionary else { throw bad("dictionary type does not match the column") }
            for i in idx { body(dict[Int(i)]) }
        default:
            throw bad("encoding \(ParquetColumnChunkReader.encodingName(page.encoding)) is not supported (PLAIN and dictionary are)")
        }
    }
}
