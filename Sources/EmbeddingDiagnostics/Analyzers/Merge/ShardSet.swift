import Foundation

/// A partial state read from a file (the path names it in errors).
public struct LoadedState: Sendable {
    public internal(set) var path: String
    public internal(set) var state: PartialState
    public init(path: String, state: PartialState) {
        self.path = path
        self.state = state
    }
}

/// The rules every merge starts with (Guides/Scale.md, "Merge"): all states come from the same
/// analyzer, pass, state format, tool version, parameters, seed and dimension; they are ordered by
/// row offset (so the order of the arguments never matters) and must tile rows 0..<n exactly — a
/// duplicated shard, an overlap, a gap or the same input (SHA-256) at two places is an error
/// naming both files. Each state must first pass `PartialState.validate`.
public enum ShardSet {
    /// The states sorted by row offset, after every check. `fromZero: false` accepts a contiguous
    /// range that starts elsewhere (a group of a tree of pass-1 merges).
    ///
    /// - Complexity: O(s log s) for s states.
    public static func ordered(_ states: [LoadedState], fromZero: Bool = true) throws -> [LoadedState] {
        guard !states.isEmpty else { throw EmbdiagError.usage("merge needs at least one partial state") }
        // Each state on its own first (a state built in memory has not been through the file's checks).
        for s in states { try s.state.validate(path: s.path) }
        // Compared in path order, so the message is the same whatever the order of the arguments.
        let byPath = states.sorted { $0.path < $1.path }
        for s in byPath.dropFirst() { try requireCompatible(s, with: byPath[0]) }
        let sorted = states.sorted { a, b in
            (a.state.rowOffset, a.state.rowCount, a.path) < (b.state.rowOffset, b.state.rowCount, b.path)
        }
        var next = fromZero ? 0 : sorted[0].state.rowOffset
        var previous: LoadedState?
        for s in sorted {
            let begin = s.state.rowOffset, end = begin + s.state.rowCount
            if let p = previous, begin < next {
                let pb = p.state.rowOffset, pe = pb + p.state.rowCount
                let sameRows = begin == pb && end == pe
                let sameData = sameRows && zip(s.state.shards, p.state.shards).allSatisfy { $0.source.sha256 != nil && $0.source.sha256 == $1.source.sha256 }
                if sameData || s.path == p.path {
                    throw EmbdiagError.mismatch(s.path, "duplicates \(p.path) (same rows \(pb)..<\(pe)\(sameData ? ", same SHA-256" : "")): give every shard once")
                }
                throw EmbdiagError.mismatch(s.path, "rows \(begin)..<\(end) overlap \(p.path)'s rows \(pb)..<\(pe): shards must not share rows (check \(Setting.rowOffset))")
            }
            if begin > next {
                let after = previous.map { " after \($0.path)" } ?? ""
                throw EmbdiagError.mismatch(s.path, "rows \(next)..<\(begin) are missing\(after): no state covers them (check \(Setting.rowOffset), or add the missing shard)")
            }
            next = end
            previous = s
        }
        // The same input twice tiles as well as two different ones: refuse it by its SHA-256.
        var seen: [String: (path: String, shard: ShardRecord)] = [:]
        for s in sorted {
            for shard in s.state.shards {
                guard let sha = shard.source.sha256 else { continue }
                if let other = seen[sha] {
                    throw EmbdiagError.mismatch(s.path, "rows \(shard.rowOffset)..<\(shard.rowOffset + shard.rowCount) are the same input (SHA-256 \(sha.prefix(12))…) as \(other.path)'s rows \(other.shard.rowOffset)..<\(other.shard.rowOffset + other.shard.rowCount): give every shard once (\(identicalShards))")
                }
                seen[sha] = (s.path, shard)
            }
        }
        try refuseSameRowsTwice(sorted)
        return sorted
    }

    /// The same rows at two offsets tile as well as two shards, also without checksums
    /// (`--no-checksum`, or a copied file under another name): two states over as many rows whose
    /// floating-point payload (sums, moments, Gram matrices, depths, scores) is equal bit for bit
    /// are the same input twice. Integer and byte arrays are left out: they hold global row ids,
    /// which differ between offsets.
    /// - Complexity: O(s²) comparisons of states with equal row counts, each stopping at the first
    ///   differing value (O(payload) at worst).
    static func refuseSameRowsTwice(_ sorted: [LoadedState]) throws {
        func floatArrays(_ s: PartialState) -> [(String, StateArray)] {
            s.arrays.filter { _, a in
                switch a { case .float64(let v): return !v.isEmpty; case .float32(let v): return !v.isEmpty; default: return false }
            }.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        }
        let byCount = Dictionary(grouping: sorted.indices, by: { sorted[$0].state.rowCount })
        for (_, group) in byCount where group.count > 1 {
            let payloads = group.map { floatArrays(sorted[$0].state) }
            for x in group.indices {
                guard !payloads[x].isEmpty else { continue }
                for y in group.indices where y > x && payloads[y].count == payloads[x].count {
                    guard zip(payloads[x], payloads[y]).allSatisfy({ $0.0 == $1.0 && $0.1 == $1.1 }) else { continue }
                    let a = sorted[group[x]], b = sorted[group[y]]
                    throw EmbdiagError.mismatch(b.path, "rows \(b.state.rowOffset)..<\(b.state.rowOffset + b.state.rowCount) have the same statistics, bit for bit, as \(a.path)'s rows \(a.state.rowOffset)..<\(a.state.rowOffset + a.state.rowCount): the same input twice (no checksum tells them apart); give every shard once (\(identicalShards))")
                }
            }
        }
    }

    /// Why two identical shards are refused even when the data holds those rows twice, and the way out.
    static let identicalShards = "merge tells shards apart by their content, so two shards with identical bytes are refused even when the data really holds those rows twice: run the analysis on the whole file, or cut the shards at other rows so that no two are identical"

    static func requireCompatible(_ s: LoadedState, with f: LoadedState) throws {
        let a = s.state, b = f.state
        func differ(_ what: String, _ x: String, _ y: String) -> EmbdiagError {
            .mismatch(s.path, "\(what) \(x) differs from \(f.path)'s \(y): merge states of one run only")
        }
        if a.stateVersion != b.stateVersion { throw differ("state format version", "\(a.stateVersion)", "\(b.stateVersion)") }
        if a.toolVersion != b.toolVersion { throw differ("embdiag version", a.toolVersion, b.toolVersion) }
        if a.analyzer != b.analyzer { throw differ("analyzer", a.analyzer, b.analyzer) }
        if a.pass != b.pass { throw differ("pass", "\(a.pass)", "\(b.pass)") }
        if a.dimension != b.dimension { throw differ("dimension", "\(a.dimension)", "\(b.dimension)") }
        if a.seed != b.seed { throw differ("seed", "\(Int64(bitPattern: a.seed))", "\(Int64(bitPattern: b.seed))") }
        for key in Set(a.parameters.keys).union(b.parameters.keys).sorted() where a.parameters[key] != b.parameters[key] {
            throw differ("parameter \(key) =", a.parameters[key] ?? "(unset)", b.parameters[key] ?? "(unset)")
        }
        // Pass-2 states must share the pass-1 merge they were computed against; pass-1 states may
        // be shards' or already merged ones (a tree of merges for thousands of shards).
        if a.pass == 2 && a.basis != b.basis { throw differ("pass-1 basis", a.basis ?? "(none)", b.basis ?? "(none)") }
    }
}
