import Foundation

/// One input shard's mergeable state (`--partial OUT`), or the merge of several (the pass-1
/// state that a second pass reads). Sums are Float64, row ids are global (`rowOffset` + local
/// row). The on-disk format (safetensors payload + JSON header) is `PartialStateFile`; the
/// format is documented in Guides/Scale.md.
public struct PartialState: Sendable, Equatable {
    /// Bumped whenever the meaning of a field or array changes; merge refuses other versions.
    /// 3: a SHA-256 over the whole file, and every state carries its row count in `rows`.
    /// 4: a neighbors state lists k + 1 neighbours per query (the next one shows ties at the k-th).
    /// 5: an anisotropy pass-1 state carries the Gram centred on its own mean (`centred_gram`), not XᵀX.
    /// 6: a compat state's `scores_<direction>` are `exactCosine`s of the rows as given, not dot
    ///    products of rows normalised in Float32.
    /// 7: an anisotropy pass-2 state's log Z arrays also hold the probes of degenerate eigenspaces.
    public static let formatVersion = 7

    /// The analyzer that wrote the state ("info", "anisotropy").
    public internal(set) var analyzer: String
    /// 1 for one pass over the data, 2 for the second pass of anisotropy (partition function and
    /// sampled pairs over the merged principal directions).
    public internal(set) var pass: Int
    /// Every parameter that changes a number, as canonical text: merge refuses states whose
    /// parameters differ.
    public internal(set) var parameters: [String: String]
    public internal(set) var seed: UInt64
    public internal(set) var toolVersion: String
    public internal(set) var stateVersion: Int
    public internal(set) var dimension: Int
    /// The shards this state covers, by row offset (one for a shard's own state).
    public internal(set) var shards: [ShardRecord]
    /// Digest of the pass-1 merge a pass-2 state was computed against (nil otherwise).
    public internal(set) var basis: String?
    /// Payload arrays (Float64 sums, Float32 rows, Int64 ids, UTF-8 bytes), by name.
    public internal(set) var arrays: [String: StateArray]

    public init(analyzer: String, pass: Int = 1, parameters: [String: String], seed: UInt64, dimension: Int,
                shards: [ShardRecord], basis: String? = nil, arrays: [String: StateArray] = [:]) {
        self.analyzer = analyzer
        self.pass = pass
        self.parameters = parameters
        self.seed = seed
        self.toolVersion = embdiagVersion
        self.stateVersion = Self.formatVersion
        self.dimension = dimension
        self.shards = shards
        self.basis = basis
        self.arrays = arrays
    }

    /// First global row covered.
    public var rowOffset: Int { shards.map(\.rowOffset).min() ?? 0 }
    /// Rows covered (shards are contiguous once validated).
    public var rowCount: Int { shards.reduce(0) { $0 + $1.rowCount } }

    /// The largest dimension a state may declare (the d × d sums of anisotropy must fit in memory
    /// long before this; the bound keeps d · d and d · rows far from overflow).
    static let maximumDimension = 1 << 20

    /// The rules a state must satisfy on its own, before any merge looks at its numbers: a known
    /// pass, a dimension in 1…2²⁰, at least one shard, shards with non-negative offsets and at
    /// least one row each, contiguous in row order without overflow, no input (SHA-256) twice, and
    /// a payload row count (`rows`) equal to the rows the shards declare — the header may not
    /// claim other rows than the numbers cover. Each shard's id and source are checked
    /// (`StateSource`: a printable path, a SHA-256 of 64 lowercase hex digits, the state's
    /// dimension, as many rows as the shard), then every field of the payload
    /// (`StatePayloadCheck`).
    ///
    /// - Complexity: O(s log s) for s shards, plus O(payload) for its fields.
    public func validate(path: String?) throws {
        guard pass == 1 || pass == 2 else { throw EmbdiagError.malformed(path, "partial state pass \(pass) (expected 1 or 2)") }
        guard dimension >= 1 && dimension <= Self.maximumDimension else {
            throw EmbdiagError.malformed(path, "partial state dimension \(dimension) (expected 1…\(Self.maximumDimension))")
        }
        guard !shards.isEmpty else { throw EmbdiagError.malformed(path, "partial state lists no shard") }
        var next: Int?
        var total = 0
        var seen: [String: ShardRecord] = [:]
        for s in shards {
            guard !s.id.isEmpty, s.id.utf8.count <= StateSource.maximumPathBytes, !StateSource.hasControl(s.id) else {
                throw EmbdiagError.malformed(path, "partial state shard_id is \(s.id.isEmpty ? "empty" : "not one printable line of at most \(StateSource.maximumPathBytes) bytes")")
            }
            try StateSource.check(s.source, field: "shard '\(s.id)'", path: path)
            guard s.source.dim == dimension else {
                throw EmbdiagError.malformed(path, "partial state shard '\(s.id)' has source.dim \(s.source.dim), the state's dimension is \(dimension)")
            }
            guard s.rowOffset >= 0, s.rowCount >= 1 else {
                throw EmbdiagError.malformed(path, "partial state shard '\(s.id)' has row_offset \(s.rowOffset) and row_count \(s.rowCount) (expected ≥ 0 and ≥ 1)")
            }
            let (end, overflow) = s.rowOffset.addingReportingOverflow(s.rowCount)
            let (sum, overflowTotal) = total.addingReportingOverflow(s.rowCount)
            guard !overflow, !overflowTotal else { throw EmbdiagError.malformed(path, "partial state shard '\(s.id)' row range overflows") }
            if let next, s.rowOffset != next {
                throw EmbdiagError.malformed(path, "partial state shards are not contiguous: shard '\(s.id)' starts at row \(s.rowOffset), the previous one ends at \(next)")
            }
            if let sha = s.source.sha256, let other = seen[sha] {
                throw EmbdiagError.malformed(path, "partial state lists the same input (SHA-256 \(sha.prefix(12))…) twice, at rows \(other.rowOffset) and \(s.rowOffset)")
            }
            if let sha = s.source.sha256 { seen[sha] = s }
            next = end
            total = sum
        }
        let counted = try array("rows", path: path).ints("rows", count: 1, path: path)[0]
        guard counted == total else {
            throw EmbdiagError.malformed(path, "partial state payload covers \(counted) rows, its shard list \(total): the header does not describe the payload")
        }
        // A saved shift reference keeps the file's row count beside the rows it read.
        if analyzer != ShiftReferenceState.analyzer, let s = shards.first(where: { $0.source.rows != $0.rowCount }) {
            throw EmbdiagError.malformed(path, "partial state shard '\(s.id)' has source.rows \(s.source.rows) but row_count \(s.rowCount)")
        }
        try StatePayloadCheck.validate(self, path: path)
    }

    public func array(_ name: String, path: String?) throws -> StateArray {
        guard let a = arrays[name] else { throw EmbdiagError.malformed(path, "partial state has no array '\(name)'") }
        return a
    }
}

/// One input shard: where its rows sit in the concatenated input and which file it was.
public struct ShardRecord: Codable, Sendable, Equatable {
    public internal(set) var id: String
    public internal(set) var rowOffset: Int
    public internal(set) var rowCount: Int
    public internal(set) var source: Source

    public init(id: String, rowOffset: Int, rowCount: Int, source: Source) {
        self.id = id
        self.rowOffset = rowOffset
        self.rowCount = rowCount
        self.source = source
    }

    enum CodingKeys: String, CodingKey {
        case id = "shard_id", rowOffset = "row_offset", rowCount = "row_count", source
    }
}

/// A payload array with its element type (kept exactly: Float64 sums are never narrowed).
public enum StateArray: Sendable, Equatable {
    case float64([Double])
    case float32([Float])
    case int64([Int64])
    case bytes([UInt8])

    public var count: Int {
        switch self {
        case .float64(let v): return v.count
        case .float32(let v): return v.count
        case .int64(let v): return v.count
        case .bytes(let v): return v.count
        }
    }

    public func doubles(_ name: String, count expected: Int? = nil, path: String?) throws -> [Double] {
        guard case .float64(let v) = self else { throw EmbdiagError.malformed(path, "partial state array '\(name)' is not F64") }
        if let expected, v.count != expected { throw EmbdiagError.malformed(path, "partial state array '\(name)' has \(v.count) values, expected \(expected)") }
        return v
    }

    public func floats(_ name: String, count expected: Int? = nil, path: String?) throws -> [Float] {
        guard case .float32(let v) = self else { throw EmbdiagError.malformed(path, "partial state array '\(name)' is not F32") }
        if let expected, v.count != expected { throw EmbdiagError.malformed(path, "partial state array '\(name)' has \(v.count) values, expected \(expected)") }
        return v
    }

    public func ints(_ name: String, count expected: Int? = nil, path: String?) throws -> [Int] {
        guard case .int64(let v) = self else { throw EmbdiagError.malformed(path, "partial state array '\(name)' is not I64") }
        if let expected, v.count != expected { throw EmbdiagError.malformed(path, "partial state array '\(name)' has \(v.count) values, expected \(expected)") }
        return v.map { Int($0) }
    }

    /// Strings stored as concatenated UTF-8 bytes plus one length per string.
    public static func strings(_ values: [String]) -> (bytes: StateArray, lengths: StateArray) {
        var bytes: [UInt8] = []
        var lengths: [Int64] = []
        for v in values {
            let u = Array(v.utf8)
            bytes += u
            lengths.append(Int64(u.count))
        }
        return (.bytes(bytes), .int64(lengths))
    }

    public static func decodeStrings(bytes: StateArray, lengths: StateArray, name: String, path: String?) throws -> [String] {
        guard case .bytes(let b) = bytes else { throw EmbdiagError.malformed(path, "partial state array '\(name)_bytes' is not U8") }
        let lens = try lengths.ints(name + "_lengths", path: path)
        var out: [String] = []
        out.reserveCapacity(lens.count)
        var at = 0
        for l in lens {
            guard l >= 0, at + l <= b.count else { throw EmbdiagError.malformed(path, "partial state strings '\(name)' overrun their bytes") }
            out.append(String(decoding: b[at..<(at + l)], as: UTF8.self))
            at += l
        }
        guard at == b.count else { throw EmbdiagError.malformed(path, "partial state strings '\(name)' leave \(b.count - at) bytes unused") }
        return out
    }
}
