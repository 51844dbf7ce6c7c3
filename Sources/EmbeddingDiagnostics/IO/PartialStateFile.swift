import Foundation

/// The on-disk form of a `PartialState` (Guides/Scale.md, "State files"): a safetensors file
/// whose `__metadata__` holds one entry, `embdiag_state`, a JSON header (format, format_version,
/// tool, tool_version, analyzer, pass, parameters, seed, dim, shards with shard_id, row_offset,
/// row_count and the shard's source with its SHA-256, basis), and whose tensors are the payload
/// (F64 sums, F32 rows, I64 ids, U8 strings), little-endian, contiguous (by element width, then
/// name: `SealedContainer.encode`). Any safetensors
/// reader (Python's `safetensors.numpy.load_file`) opens it.
///
/// The file verifies itself: `__metadata__.embdiag_sha256` is the SHA-256 of the whole file with
/// those 64 hex digits written as "0"s (header, tensor table, padding and payload), checked before
/// anything else is read, and the decoded state must pass `PartialState.validate` (its shards and
/// its payload row count agree). It guards against edits and damage, not against someone who
/// recomputes the checksum on purpose — that is what the payload checks are for.
public enum PartialStateFile {
    public static let formatName = "embdiag-partial-state"
    static let documentKey = "embdiag_state"
    static let checksumKey = SealedContainer.checksumKey
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

        init(format: String, formatVersion: Int, tool: String, toolVersion: String, analyzer: String, pass: Int,
             parameters: [String: String], seed: UInt64, dim: Int, shards: [ShardRecord], basis: String?) {
            (self.format, self.formatVersion, self.tool, self.toolVersion, self.analyzer, self.pass) = (format, formatVersion, tool, toolVersion, analyzer, pass)
            (self.parameters, self.seed, self.dim, self.shards, self.basis) = (parameters, seed, dim, shards, basis)
        }

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            format = try c.decode(String.self, forKey: .format)
            formatVersion = try c.decode(Int.self, forKey: .formatVersion)
            tool = try c.decode(String.self, forKey: .tool)
            toolVersion = try c.decode(String.self, forKey: .toolVersion)
            analyzer = try c.decode(String.self, forKey: .analyzer)
            pass = try c.decode(Int.self, forKey: .pass)
            parameters = try c.decode([String: String].self, forKey: .parameters)
            // Foundation reports a number that does not fit UInt64 (a negative seed) as "not valid JSON".
            do { seed = try c.decode(UInt64.self, forKey: .seed) } catch {
                throw DecodingError.dataCorruptedError(forKey: .seed, in: c, debugDescription: "not a seed (a whole number in 0…\(UInt64.max))")
            }
            dim = try c.decode(Int.self, forKey: .dim)
            shards = try c.decode([ShardRecord].self, forKey: .shards)
            basis = try c.decodeIfPresent(String.self, forKey: .basis)
        }
    }

    /// The file's bytes.
    ///
    /// - Complexity: O(size of the payload).
    public static func encode(_ state: PartialState) throws -> Data {
        // No password in a state file: every text of the header passes the filter reports pass
        // (a shard id or source path holding a connection URL, a parameter naming one).
        let redact = { (text: String) in PostgresLocation.printable(text) }
        let shards = state.shards.map { shard -> ShardRecord in
            var s = shard
            s.id = redact(shard.id)
            s.source.path = redact(shard.source.path)
            s.source.key = shard.source.key.map(redact)
            s.source.idColumn = shard.source.idColumn.map(redact)
            return s
        }
        let header = Header(format: formatName, formatVersion: state.stateVersion, tool: "embdiag", toolVersion: state.toolVersion,
                            analyzer: state.analyzer, pass: state.pass, parameters: state.parameters.mapValues(redact), seed: state.seed,
                            dim: state.dimension, shards: shards, basis: state.basis.map(redact))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let headerJSON = String(decoding: try encoder.encode(header), as: UTF8.self)
        let tensors = state.arrays.keys.sorted().map { name -> (name: String, dtype: String, shape: [Int], bytes: Data) in
            let a = state.arrays[name]!
            switch a {
            case .float64(let v): return (name, "F64", [a.count], v.withUnsafeBytes { Data($0) })
            case .float32(let v): return (name, "F32", [a.count], v.withUnsafeBytes { Data($0) })
            case .int64(let v): return (name, "I64", [a.count], v.withUnsafeBytes { Data($0) })
            case .bytes(let v): return (name, "U8", [a.count], Data(v))
            }
        }
        return SealedContainer.encode(documentKey: documentKey, document: headerJSON, tensors: tensors)
    }

    /// Writes the checksum of a file whose checksum digits are still the placeholder; also what a
    /// test or fuzzer uses to turn an edited file back into one that passes the checksum (so that
    /// the checks behind it are reached).
    ///
    /// - Complexity: O(file size).
    public static func seal(_ input: Data) -> Data { SealedContainer.seal(input) }

    /// Writes atomically (temporary file in the same folder, fsync, rename).
    public static func write(_ state: PartialState, to path: String) throws {
        try AtomicFile.write(try encode(state), to: path)
    }

    public static func read(_ path: String) throws -> PartialState {
        let data: Data
        do {
            data = try SealedContainer.readFile(path, documentKey: documentKey, format: formatName, versions: [PartialState.formatVersion],
                                                maximumHeaderBytes: maximumHeaderBytes, dtypes: ["F64", "F32", "I64", "U8"])
        } catch let failure as SealedContainer.Failure {
            if case .tooShort = failure, (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)?.intValue == 0 {
                throw EmbdiagError.malformed(path, "not an embdiag partial state (empty file)")
            }
            throw Self.error(failure, path: path)
        } catch let failure as SealedContainer.ReadFailure {
            throw EmbdiagError.io(path, "cannot read partial state: \(failure.message)")
        }
        return try decode(data, path: path)
    }

    /// A container failure in a partial state's words.
    static func error(_ failure: SealedContainer.Failure, path: String?) -> EmbdiagError {
        switch failure {
        case .tooShort: return .malformed(path, "not an embdiag partial state (too short)")
        case .headerBeyondFile(let size): return .malformed(path, "not an embdiag partial state (header size \(size) beyond the file)")
        case .noDocument: return .malformed(path, "not an embdiag partial state (safetensors header without __metadata__.\(documentKey))")
        case .wrongFormat(let format): return .malformed(path, "not an embdiag partial state (format '\(format ?? "missing")')")
        case .wrongVersion(let version):
            return .mismatch(path, "partial state format version \(version.map { String($0) } ?? "missing"); this embdiag reads version \(PartialState.formatVersion) only (re-run the --partial steps, and merge --state-out, with this embdiag)")
        case .noChecksum: return .malformed(path, "partial state has no checksum (\(checksumKey))")
        case .checksumMismatch: return .malformed(path, "checksum mismatch: the state was edited or damaged (re-run the --partial step that wrote it)")
        case .extraMetadata: return .malformed(path, "partial state metadata has entries other than \(documentKey) and \(checksumKey)")
        case .malformedTensor(let name): return .malformed(path, "partial state tensor '\(name)' has a malformed entry")
        case .tensorLargerThanFile(let name, let shape): return .malformed(path, "partial state tensor '\(name)' has shape \(shape), larger than the file")
        case .unknownDtype(let name, let dtype): return .malformed(path, "partial state tensor '\(name)' has dtype \(dtype) (expected F64, F32, I64 or U8)")
        case .tensorOutsideFile(let name): return .malformed(path, "partial state tensor '\(name)' lies outside the file or has the wrong size")
        }
    }

    /// The keys of the state header, of a shard and of a source: the decoder would skip any other,
    /// so a key the writer never writes is refused here, naming it.
    static let headerKeys: Set<String> = ["format", "format_version", "tool", "tool_version", "analyzer", "pass", "parameters", "seed", "dim", "shards", "basis"]
    static let shardKeys: Set<String> = ["shard_id", "row_offset", "row_count", "source"]

    static func refuseUnknownKeys(_ document: Data, path: String?) throws {
        guard let top = try? JSONSerialization.jsonObject(with: document) as? [String: Any] else { return }
        if let unknown = Set(top.keys).subtracting(headerKeys).sorted().first {
            throw EmbdiagError.malformed(path, "state header has an unknown key '\(unknown)'")
        }
        for (i, shard) in ((top["shards"] as? [[String: Any]]) ?? []).enumerated() {
            if let unknown = Set(shard.keys).subtracting(shardKeys).sorted().first {
                throw EmbdiagError.malformed(path, "state header: shard \(i + 1) has an unknown key '\(unknown)'")
            }
            if let source = shard["source"] as? [String: Any], let unknown = Set(source.keys).subtracting(StateSource.keys).sorted().first {
                throw EmbdiagError.malformed(path, "state header: shard \(i + 1)'s source has an unknown key '\(unknown)'")
            }
        }
    }

    /// Parses and checks a state file: bounded header, known dtypes, offsets inside the file.
    ///
    /// - Complexity: O(file size).
    public static func decode(_ input: Data, path: String?) throws -> PartialState {
        let container: SealedContainer
        do {
            container = try SealedContainer.decode(input, documentKey: documentKey, format: formatName, versions: [PartialState.formatVersion],
                                                   maximumHeaderBytes: maximumHeaderBytes, dtypes: ["F64", "F32", "I64", "U8"])
        } catch {
            throw Self.error(error, path: path)
        }
        let header: Header
        do { header = try JSONDecoder().decode(Header.self, from: container.document) } catch {
            throw EmbdiagError.malformed(path, "state header is malformed: \(HeaderDecodingError.describe(error))")
        }
        try refuseUnknownKeys(container.document, path: path)
        guard header.tool == "embdiag", !header.toolVersion.isEmpty, !StateSource.hasControl(header.toolVersion) else {
            throw EmbdiagError.malformed(path, "state header names tool '\(header.tool)' version '\(header.toolVersion)' (expected embdiag and its version)")
        }
        if let basis = header.basis, !StateSource.isDigest(basis) {
            throw EmbdiagError.malformed(path, "state header basis '\(basis)' is not a SHA-256 (64 lowercase hex digits)")
        }
        var arrays: [String: StateArray] = [:]
        for (name, t) in container.tensors {
            let count = t.count
            switch t.dtype {
            case "F64": arrays[name] = .float64(t.bytes.withUnsafeBytes { raw in (0..<count).map { Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self))) } })
            case "I64": arrays[name] = .int64(t.bytes.withUnsafeBytes { raw in (0..<count).map { Int64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) } })
            case "F32": arrays[name] = .float32(t.bytes.withUnsafeBytes { raw in (0..<count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self))) } })
            default: arrays[name] = .bytes([UInt8](t.bytes))
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
