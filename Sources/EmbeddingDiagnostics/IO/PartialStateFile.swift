import Foundation

/// The on-disk form of a `PartialState` (Guides/Scale.md, "State files"): a safetensors file
/// whose `__metadata__` holds one entry, `embdiag_state`, a JSON header (format, format_version,
/// tool, tool_version, analyzer, pass, parameters, seed, dim, shards with shard_id, row_offset,
/// row_count and the shard's source with its SHA-256, basis), and whose tensors are the payload
/// (F64 sums, F32 rows, I64 ids, U8 strings), little-endian, in name order. Any safetensors
/// reader (Python's `safetensors.numpy.load_file`) opens it.
///
/// The file verifies itself: `__metadata__.embdiag_sha256` is the SHA-256 of the whole file with
/// those 64 hex digits written as "0"s (header, tensor table, padding and payload), checked before
/// anything else is read, and the decoded state must pass `PartialState.validate` (its shards and
/// its payload row count agree). It guards against edits and damage, not against someone who
/// recomputes the checksum on purpose — that is what the payload checks are for.
public enum PartialStateFile {
    public static let formatName = "embdiag-partial-state"
    static let checksumKey = "embdiag_sha256"
    static let checksumPlaceholder = String(repeating: "0", count: 64)
    /// Headers above this are refused before anything is allocated (a state's header is a few KB
    /// plus one source per shard).
    static let maximumHeaderBytes = 64 << 20

    struct Header: Codable {
        var format: String
        var formatVersion: Int
        var tool: String
        var toolVersion: String
        var analyzer: String
        var pass: Int
        var parameters: [String: String]
        var seed: UInt64
        var dim: Int
        var shards: [ShardRecord]
        var basis: String?

        enum CodingKeys: String, CodingKey {
            case format, formatVersion = "format_version", tool, toolVersion = "tool_version", analyzer, pass, parameters, seed, dim, shards, basis
        }
    }

    /// The file's bytes.
    ///
    /// - Complexity: O(size of the payload).
    public static func encode(_ state: PartialState) throws -> Data {
        let header = Header(format: formatName, formatVersion: state.stateVersion, tool: "embdiag", toolVersion: state.toolVersion,
                            analyzer: state.analyzer, pass: state.pass, parameters: state.parameters, seed: state.seed,
                            dim: state.dimension, shards: state.shards, basis: state.basis)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let headerJSON = String(decoding: try encoder.encode(header), as: UTF8.self)
        var outer = "{\"__metadata__\":{\"embdiag_state\":\(JSONValue.quote(headerJSON)),\"\(checksumKey)\":\"\(checksumPlaceholder)\"}"
        var payload = Data()
        for name in state.arrays.keys.sorted() {
            let a = state.arrays[name]!
            let begin = payload.count
            let dtype: String
            switch a {
            case .float64(let v): dtype = "F64"; v.withUnsafeBytes { payload.append(contentsOf: $0) }
            case .float32(let v): dtype = "F32"; v.withUnsafeBytes { payload.append(contentsOf: $0) }
            case .int64(let v): dtype = "I64"; v.withUnsafeBytes { payload.append(contentsOf: $0) }
            case .bytes(let v): dtype = "U8"; payload.append(contentsOf: v)
            }
            outer += ",\(JSONValue.quote(name)):{\"dtype\":\"\(dtype)\",\"shape\":[\(a.count)],\"data_offsets\":[\(begin),\(payload.count)]}"
            // Keep every tensor 8-byte aligned.
            while payload.count % 8 != 0 { payload.append(0) }
        }
        outer += "}"
        var headerBytes = Data(outer.utf8)
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }
        var out = Data()
        withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(headerBytes)
        out.append(payload)
        return seal(out)
    }

    /// The checksum's literal form in the header: `"embdiag_sha256":"<64 hex digits>"`.
    static func checksumRange(in data: Data, headerEnd: Int) -> [Range<Int>] {
        let key = Data("\"\(checksumKey)\":\"".utf8)
        var found: [Range<Int>] = []
        var from = 8
        while from < headerEnd, let r = data.range(of: key, in: from..<headerEnd) {
            let value = r.upperBound..<(r.upperBound + 64)
            if value.upperBound < headerEnd, data[value.upperBound] == UInt8(ascii: "\"") { found.append(value) }
            from = r.upperBound
        }
        return found
    }

    /// SHA-256 of `data` with the checksum digits at `range` read as "0"s.
    static func digest(_ data: Data, blanking range: Range<Int>) -> String {
        var copy = data
        copy.replaceSubrange(range, with: Data(checksumPlaceholder.utf8))
        return Checksum.sha256(copy)
    }

    /// Writes the checksum of a file whose checksum digits are still the placeholder; also what a
    /// test or fuzzer uses to turn an edited file back into one that passes the checksum (so that
    /// the checks behind it are reached).
    ///
    /// - Complexity: O(file size).
    public static func seal(_ input: Data) -> Data {
        let file = input.startIndex == 0 ? input : Data(input)
        guard file.count >= 8 else { return file }
        let size = file.prefix(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard size <= UInt64(file.count - 8) else { return file }
        let ranges = checksumRange(in: file, headerEnd: 8 + Int(size))
        guard ranges.count == 1, let range = ranges.first else { return file }
        var out = file
        out.replaceSubrange(range, with: Data(digest(file, blanking: range).utf8))
        return out
    }

    /// Writes atomically (temporary file in the same folder, fsync, rename).
    public static func write(_ state: PartialState, to path: String) throws {
        try AtomicFile.write(try encode(state), to: path)
    }

    public static func read(_ path: String) throws -> PartialState {
        var data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            // A device or pipe (/dev/null, <(…)) is read as a stream; only a file that cannot be
            // opened at all is an I/O error.
            guard let handle = FileHandle(forReadingAtPath: path), let streamed = try? handle.readToEnd() ?? Data() else {
                throw EmbdiagError.io(path, "cannot read partial state: \(error.localizedDescription)")
            }
            data = streamed
        }
        guard !data.isEmpty else { throw EmbdiagError.malformed(path, "not an embdiag partial state (empty file)") }
        return try decode(data, path: path)
    }

    /// Parses and checks a state file: bounded header, known dtypes, offsets inside the file.
    ///
    /// - Complexity: O(file size).
    public static func decode(_ input: Data, path: String?) throws -> PartialState {
        // Offsets below are from the file's first byte: rebase a slice.
        let data = input.startIndex == 0 ? input : Data(input)
        guard data.count >= 8 else { throw EmbdiagError.malformed(path, "not an embdiag partial state (too short)") }
        let size = data.prefix(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard size <= UInt64(maximumHeaderBytes), Int(size) <= data.count - 8 else {
            throw EmbdiagError.malformed(path, "not an embdiag partial state (header size \(size) beyond the file)")
        }
        let headerData = data.subdata(in: 8..<(8 + Int(size)))
        guard let outer = try? JSONSerialization.jsonObject(with: headerData) as? [String: Any],
              let meta = outer["__metadata__"] as? [String: Any], let stateJSON = meta["embdiag_state"] as? String else {
            throw EmbdiagError.malformed(path, "not an embdiag partial state (safetensors header without __metadata__.embdiag_state)")
        }
        // Format and version first: an older embdiag's state has no checksum to verify.
        struct Identity: Decodable {
            var format: String?
            var formatVersion: Int?
            enum CodingKeys: String, CodingKey { case format, formatVersion = "format_version" }
        }
        let identity = try? JSONDecoder().decode(Identity.self, from: Data(stateJSON.utf8))
        guard let identity, identity.format == formatName else {
            throw EmbdiagError.malformed(path, "not an embdiag partial state (format '\(identity?.format ?? "missing")')")
        }
        guard identity.formatVersion == PartialState.formatVersion else {
            throw EmbdiagError.mismatch(path, "partial state format version \(identity.formatVersion.map { String($0) } ?? "missing"); this embdiag reads version \(PartialState.formatVersion) only (re-run the --partial steps, and merge --state-out, with this embdiag)")
        }
        guard let stored = meta[checksumKey] as? String else { throw EmbdiagError.malformed(path, "partial state has no checksum (\(checksumKey))") }
        let ranges = checksumRange(in: data, headerEnd: 8 + Int(size))
        guard ranges.count == 1, let range = ranges.first, String(decoding: data[range], as: UTF8.self) == stored,
              digest(data, blanking: range) == stored else {
            throw EmbdiagError.malformed(path, "checksum mismatch: the state was edited or damaged (re-run the --partial step that wrote it)")
        }
        let header: Header
        do { header = try JSONDecoder().decode(Header.self, from: Data(stateJSON.utf8)) } catch {
            throw EmbdiagError.malformed(path, "partial state header is malformed: \(error)")
        }
        let payloadStart = 8 + Int(size)
        var arrays: [String: StateArray] = [:]
        guard meta.count == 2 else { throw EmbdiagError.malformed(path, "partial state metadata has entries other than embdiag_state and \(checksumKey)") }
        for (name, value) in outer where name != "__metadata__" {
            guard let t = value as? [String: Any], let dtype = t["dtype"] as? String, let shape = t["shape"] as? [Int],
                  let offsets = t["data_offsets"] as? [Int], offsets.count == 2, shape.allSatisfy({ $0 >= 0 }) else {
                throw EmbdiagError.malformed(path, "partial state tensor '\(name)' has a malformed entry")
            }
            // Sizes from the file are checked for overflow before any arithmetic trusts them.
            var count = 1
            for extent in shape {
                let (product, overflow) = count.multipliedReportingOverflow(by: extent)
                guard !overflow, product <= data.count else { throw EmbdiagError.malformed(path, "partial state tensor '\(name)' has shape \(shape), larger than the file") }
                count = product
            }
            let width: Int
            switch dtype {
            case "F64", "I64": width = 8
            case "F32": width = 4
            case "U8": width = 1
            default: throw EmbdiagError.malformed(path, "partial state tensor '\(name)' has dtype \(dtype) (expected F64, F32, I64 or U8)")
            }
            let (b, e) = (offsets[0], offsets[1])
            guard b >= 0, e >= b, e <= data.count - payloadStart, e - b == count * width else {
                throw EmbdiagError.malformed(path, "partial state tensor '\(name)' lies outside the file or has the wrong size")
            }
            let bytes = data.subdata(in: (payloadStart + b)..<(payloadStart + e))
            switch dtype {
            case "F64": arrays[name] = .float64(bytes.withUnsafeBytes { raw in (0..<count).map { Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self))) } })
            case "I64": arrays[name] = .int64(bytes.withUnsafeBytes { raw in (0..<count).map { Int64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) } })
            case "F32": arrays[name] = .float32(bytes.withUnsafeBytes { raw in (0..<count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) } })
            default: arrays[name] = .bytes([UInt8](bytes))
            }
        }
        var state = PartialState(analyzer: header.analyzer, pass: header.pass, parameters: header.parameters, seed: header.seed,
                                 dimension: header.dim, shards: header.shards, basis: header.basis, arrays: arrays)
        state.toolVersion = header.toolVersion
        state.stateVersion = header.formatVersion
        try state.validate(path: path)
        return state
    }
}
