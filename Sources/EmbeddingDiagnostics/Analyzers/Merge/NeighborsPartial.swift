import Foundation

/// `embdiag neighbors GALLERY-SHARD --queries Q --partial`: a fixed query set against one gallery
/// shard. Each shard keeps its own top-k per query with global row ids (row offset + local row)
/// and the Float64 scores (`ExactScores`: fixed-order dot products of the unit rows); the merge
/// keeps the global top-k ordered by (Float64 score descending, global row ascending) — the
/// single run's tie rule (Guides/Architecture.md, "Determinism") — so lists, scores and hubness
/// equal a single run over the concatenated gallery. The global top-k is contained in the union
/// of the shards' top-k, so nothing else is needed.
///
/// Without --queries (every row against all others) a shard would need every row as a query:
/// that mode does not shard (run it on one machine, or give the full set as --queries).
public enum NeighborsPartial {
    /// - Complexity: O(q·n·d) (blocked GEMM of the shard's n rows against q queries) + O(q·k·d).
    public static func state(gallery: Embeddings, queries: Embeddings, k: Int, shard: ShardRecord) throws -> PartialState {
        guard k >= 1 else { throw EmbdiagError.usage("\(Setting.k) must be at least 1 (got \(k))") }
        guard queries.dimension == gallery.dimension else {
            throw EmbdiagError.mismatch(queries.source.path, "dimension \(queries.dimension) differs from \(gallery.source.path)'s \(gallery.dimension)")
        }
        let unitGallery = Matrix.normalizedRows(gallery.matrix), unitQueries = Matrix.normalizedRows(queries.matrix)
        // One neighbour more than k: the merge needs the global (k + 1)-th score to see ties at the
        // k-th place, and it is among some shard's k + 1 best.
        let kk = min(k + 1, gallery.count)
        let nn = nearestNeighbors(queries: unitQueries, gallery: unitGallery, k: kk)
        let exact = ExactScores(queries: unitQueries, gallery: unitGallery)
        var ids: [Int64] = [], scores: [Double] = []
        ids.reserveCapacity(nn.indices.count)
        scores.reserveCapacity(nn.indices.count)
        var listed = Set<Int>()
        for q in 0..<queries.count {
            for t in 0..<kk {
                let g = Int(nn.indices[q * kk + t])
                ids.append(g < 0 ? -1 : Int64(g + shard.rowOffset))
                scores.append(g < 0 ? -.infinity : exact.exact(q, g))
                if g >= 0 { listed.insert(g) }
            }
        }
        var arrays: [String: StateArray] = [
            "rows": .int64([Int64(gallery.count)]),
            "k_shard": .int64([Int64(kk)]),
            "neighbor_rows": .int64(ids),
            "neighbor_scores": .float64(scores),
            "has_labels": .int64([gallery.labels == nil ? 0 : 1]),
        ]
        if gallery.labels != nil {
            // Listed rows, and the first rows: the hubs table shows the 20 most frequent rows, which
            // can include rows nobody lists (the smallest such global rows lie in these prefixes).
            let rows = listed.union(0..<min(gallery.count, 20 + queries.count * kk)).sorted()
            arrays["label_rows"] = .int64(rows.map { Int64($0 + shard.rowOffset) })
            let (b, l) = StateArray.strings(rows.map(gallery.label))
            arrays["labels_bytes"] = b
            arrays["labels_lengths"] = l
        }
        let (qb, ql) = StateArray.strings((0..<queries.count).map(queries.label))
        arrays["query_labels_bytes"] = qb
        arrays["query_labels_lengths"] = ql
        arrays["query_source_json"] = .bytes(Array((try? JSONEncoder().encode(queries.source)) ?? Data()))
        var queryDigest = Data()
        unitQueries.values.withUnsafeBytes { queryDigest.append(contentsOf: $0) }
        if case .bytes(let b) = qb { queryDigest.append(contentsOf: b) }
        let settings = NeighborsPartialSettings(k: k, queries: queries.count, queriesDigest: Checksum.sha256(queryDigest))
        return PartialState(analyzer: "neighbors", parameters: settings.parameters, seed: 0, dimension: gallery.dimension,
                            shards: [shard], arrays: arrays)
    }

    /// The neighbours of the queries in the concatenated gallery (states ordered by `ShardSet`).
    /// The hubness statistics need a count per gallery row: O(n) memory in the merge.
    ///
    /// - Complexity: O(s·q·k·log(s·k)) + O(n).
    public static func merge(_ ordered: [LoadedState]) throws -> CosineNeighbors {
        let first = ordered[0]
        let settings = try first.state.settings(NeighborsPartialSettings.self, path: first.path)
        let kAsked = settings.k, nq = settings.queries
        let n = ordered.reduce(0) { $0 + $1.state.rowCount }
        let k = min(kAsked, n)
        var lists = [[(Int, Double)]](repeating: [], count: nq)
        var labels: [Int: String] = [:]
        var labelled: Bool?
        for s in ordered {
            let p = s.path
            let ks = try s.state.array("k_shard", path: p).ints("k_shard", count: 1, path: p)[0]
            let ids = try s.state.array("neighbor_rows", path: p).ints("neighbor_rows", count: nq * ks, path: p)
            let scores = try s.state.array("neighbor_scores", path: p).doubles("neighbor_scores", count: nq * ks, path: p)
            for q in 0..<nq { for t in 0..<ks where ids[q * ks + t] >= 0 { lists[q].append((ids[q * ks + t], scores[q * ks + t])) } }
            let has = try s.state.array("has_labels", path: p).ints("has_labels", count: 1, path: p)[0] == 1
            if let labelled, labelled != has { throw EmbdiagError.mismatch(p, "label every gallery shard or none") }
            labelled = has
            if has {
                let rows = try s.state.array("label_rows", path: p).ints("label_rows", path: p)
                let names = try StateArray.decodeStrings(bytes: s.state.array("labels_bytes", path: p), lengths: s.state.array("labels_lengths", path: p), name: "labels", path: p)
                guard rows.count == names.count else { throw EmbdiagError.malformed(p, "label rows and labels differ in number") }
                for (r, l) in zip(rows, names) { labels[r] = l }
            }
        }
        var indices = [Int32](repeating: -1, count: nq * k), scores = [Float](repeating: -.infinity, count: nq * k)
        var bestScores: [[Double]] = []
        bestScores.reserveCapacity(nq)
        for q in 0..<nq {
            let ranked = lists[q].sorted { $0.1 > $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }.prefix(k + 1)
            for (t, item) in ranked.prefix(k).enumerated() {
                indices[q * k + t] = Int32(item.0)
                scores[q * k + t] = Float(item.1)
            }
            bestScores.append(ranked.map(\.1))
        }
        let queryLabels = try StateArray.decodeStrings(bytes: first.state.array("query_labels_bytes", path: first.path),
                                                       lengths: first.state.array("query_labels_lengths", path: first.path), name: "query_labels", path: first.path)
        var queriesSource: Source?
        if case .bytes(let json)? = first.state.arrays["query_source_json"] { queriesSource = try? JSONDecoder().decode(Source.self, from: Data(json)) }
        let corpusLabels = (0..<n).map { labels[$0] ?? String($0) }
        let shards = ordered.flatMap(\.state.shards)
        var merged = CosineNeighbors(k: k, selfExcluded: false, neighbors: NearestNeighbors(k: k, indices: indices, scores: scores),
                                     queryLabels: queryLabels, corpusLabels: corpusLabels,
                                     inputs: [MergedSource.combined(shards.map(\.source), rows: n, dimension: first.state.dimension)] + (queriesSource.map { [$0] } ?? []))
        (merged.undeterminedShare, merged.tiedPlaceShare) = CosineNeighbors.ties(bestScores, k: k)
        return merged
    }
}

extension CosineNeighbors {
    init(k: Int, selfExcluded: Bool, neighbors: NearestNeighbors, queryLabels: [String], corpusLabels: [String], inputs: [Source]) {
        self.k = k
        self.selfExcluded = selfExcluded
        self.neighbors = neighbors
        self.queryLabels = queryLabels
        self.corpusLabels = corpusLabels
        self.inputs = inputs
    }
}

/// The settings of a neighbors partial state (`PartialSettings`): k and the query set (count and
/// digest, so every shard ranked the same queries).
public struct NeighborsPartialSettings: PartialSettings {
    public internal(set) var k: Int
    public internal(set) var queries: Int
    public internal(set) var queriesDigest: String

    public init(k: Int, queries: Int, queriesDigest: String) {
        self.k = k
        self.queries = queries
        self.queriesDigest = queriesDigest
    }

    public init(parameters: [String: String], path: String?) throws {
        var r = StateParameterReader(parameters, path: path)
        k = try r.int("k")
        queries = try r.int("queries")
        queriesDigest = try r.text("queries_digest")
        try r.finish()
        guard k >= 1, queries >= 0 else {
            throw EmbdiagError.malformed(path, "neighbors state has k = \(k) and queries = \(queries) (expected k ≥ 1, queries ≥ 0)")
        }
    }

    public var parameters: [String: String] { ["k": String(k), "queries": String(queries), "queries_digest": queriesDigest] }
}
