import Foundation

/// `embdiag compat --partial`: the retrieval metrics of a compat run with separate query files,
/// the gallery (OLD and NEW rows of the same items, paired by row) split into shards, in two
/// passes (Guides/Scale.md, "Compat"). Every shard gets the same queries.
///
/// MRR and mAP rank each query's relevant rows over the whole gallery, tie-aware
/// (`Retrieval.retrievalRanks`): a relevant row's place is the number of rows scoring above it
/// plus its tied block. Pass 1 (per shard) records the Float64 scores (`ExactScores.exact`) of the
/// shard's relevant rows per direction (old → old, new → new, new → old) and query; merging them
/// gives every query's relevant scores grouped by value (`RelevantScoreGroups`). Pass 2 (per
/// shard, against those groups) counts the shard's non-relevant rows strictly between groups and
/// tied with each — with the single run's own scans (`ExactScores.countAgainstTarget` for identity
/// relevance, `ExactScores.countAroundGroups` for labels), which decide every comparison in
/// Float64. The counts add up across shards, and the final merge rebuilds the tied ranks and
/// average precisions with the single run's `RetrievalRanks.rankedTarget`/`rankedGroups`: the
/// result equals a single `compat --retrieval-only` run over the concatenated gallery exactly.
public enum CompatPartial {
    static let analyzer = "compat"

    /// The merged retrieval of the concatenated gallery: what `CompatibilityAnalysis(merged:)`
    /// turns into the analysis (and report) of a single `compat --retrieval-only` run.
    public struct Merged: Sendable {
        public internal(set) var old: RetrievalRanks
        public internal(set) var new: RetrievalRanks
        /// nil when the dimensions differ.
        public internal(set) var cross: RetrievalRanks?
        public internal(set) var galleryRows: Int
        public internal(set) var dimensions: (old: Int, new: Int)
        /// "identity" or "labels".
        public internal(set) var relevance: String
        /// OLD (all shards), NEW (all shards), the OLD and NEW query files.
        public internal(set) var inputs: [Source]
        public internal(set) var configuration: CompatibilityConfiguration
    }

    /// One shard's inputs as a single run scores them: unit rows, shard-local class ids.
    struct Prepared {
        var unitOld, unitNew, unitOldQueries, unitNewQueries: Matrix
        /// The same rows as given, whose `exactCosine`s decide (as in a single run).
        var cosOld, cosNew, cosOldQueries, cosNewQueries: CosineRows
        /// Labels relevance: class ids of the shard's rows and of the queries (−1: the query's
        /// label is not in this shard), from `Retrieval.classIds`.
        var classes: (gallery: [Int32], queries: [Int32])?
        var settings: CompatPartialSettings
        var newSource: Source
        var querySources: [Source]

        /// old → old, new → new, and new → old when the dimensions agree (a single run's order).
        var directions: [(name: String, queries: Matrix, gallery: Matrix, cosines: (queries: CosineRows, gallery: CosineRows))] {
            var d = [("old", unitOldQueries, unitOld, (cosOldQueries, cosOld)), ("new", unitNewQueries, unitNew, (cosNewQueries, cosNew))]
            if unitOld.cols == unitNew.cols { d.append(("cross", unitNewQueries, unitOld, (cosNewQueries, cosOld))) }
            return d
        }
    }

    static func directionNames(_ settings: CompatPartialSettings, dimension: Int) -> [String] {
        settings.newDimension == dimension ? ["old", "new", "cross"] : ["old", "new"]
    }

    /// Refuses (usage error) what `--partial` cannot shard: no separate query files, a compression
    /// mode, a fitted mapping, carried thresholds.
    static func requireShardable(_ inputs: CompatibilityInputs, _ c: CompatibilityConfiguration) throws {
        if inputs.oldQueries == nil || inputs.newQueries == nil {
            throw EmbdiagError.usage("compat \(Setting.partial) needs separate query files (\(Setting.oldQueries), \(Setting.newQueries)): every shard ranks the same queries against its part of the gallery")
        }
        if let comp = inputs.compression { throw EmbdiagError.usage("compat \(Setting.partial) does not shard \(Setting.new) \(comp): give the NEW gallery shard as a file") }
        if c.fit != .none { throw EmbdiagError.usage("compat \(Setting.partial) computes retrieval only: a fitted mapping (\(Setting.fit)) needs every paired row on one machine") }
        if !c.thresholds.isEmpty { throw EmbdiagError.usage("compat \(Setting.partial) computes retrieval only: carrying thresholds needs the pair similarities of the whole gallery") }
    }

    static func prepare(_ inputs: CompatibilityInputs, configuration c: CompatibilityConfiguration) throws -> Prepared {
        try requireShardable(inputs, c)
        let old = inputs.old, new = inputs.new, oq = inputs.oldQueries!, nq = inputs.newQueries!
        guard old.count == new.count else {
            throw EmbdiagError.mismatch(new.source.path, "has \(new.count) rows but \(old.source.path) has \(old.count); OLD and NEW shards must hold the same items in the same order")
        }
        try inputs.checkQueryFiles(oq, nq)
        guard oq.count >= 1 else { throw EmbdiagError.invalid(oq.source.path, "has no queries") }
        let unitOldQueries = Matrix.normalizedRows(oq.matrix), unitNewQueries = Matrix.normalizedRows(nq.matrix)
        var classes: (gallery: [Int32], queries: [Int32])?
        var digest = Data()
        unitOldQueries.values.withUnsafeBytes { digest.append(contentsOf: $0) }
        unitNewQueries.values.withUnsafeBytes { digest.append(contentsOf: $0) }
        if let labels = inputs.labels {
            guard labels.count == old.count else { throw EmbdiagError.mismatch(nil, "\(labels.count) labels for \(old.count) rows of \(old.source.path)") }
            let ql = inputs.queryLabels!  // checked by checkQueryFiles
            classes = Retrieval.classIds(gallery: labels, queries: ql)
            for l in ql { digest.append(Data("\(l.utf8.count):\(l);".utf8)) }
        }
        var asked: [Int] = []
        for k in c.ks where k >= 1 && !asked.contains(k) { asked.append(k) }
        guard !asked.isEmpty else { throw EmbdiagError.usage("\(Setting.k) needs at least one positive cut-off") }
        let settings = CompatPartialSettings(ks: c.ks, relevance: inputs.labels == nil ? .identity : .labels, queries: oq.count,
                                             queriesDigest: Checksum.sha256(digest), newDimension: new.dimension,
                                             maxQueries: c.maxQueries, noWorseTolerance: c.noWorseTolerance)
        return Prepared(unitOld: Matrix.normalizedRows(old.matrix), unitNew: Matrix.normalizedRows(new.matrix),
                        unitOldQueries: unitOldQueries, unitNewQueries: unitNewQueries,
                        cosOld: CosineRows(old.matrix), cosNew: CosineRows(new.matrix),
                        cosOldQueries: CosineRows(oq.matrix), cosNewQueries: CosineRows(nq.matrix), classes: classes,
                        settings: settings, newSource: new.source, querySources: [oq.source, nq.source])
    }

    /// The configuration a merged state was computed with (the report's parameters; the options
    /// of the skipped similarity agreement do not change a retrieval number and are not kept).
    static func configuration(from state: PartialState, path: String) throws -> CompatibilityConfiguration {
        var c = CompatibilityConfiguration()
        let settings = try state.settings(CompatPartialSettings.self, path: path)
        c.ks = settings.ks
        c.maxQueries = settings.maxQueries
        c.noWorseTolerance = settings.noWorseTolerance
        c.seed = state.seed
        c.retrievalOnly = true
        return c
    }

    static func json<T: Encodable>(_ value: T) -> StateArray { .bytes(Array((try? JSONEncoder().encode(value)) ?? Data())) }

    static func decode<T: Decodable>(_ type: T.Type, _ name: String, in s: LoadedState) throws -> T {
        guard case .bytes(let b) = try s.state.array(name, path: s.path), let v = try? JSONDecoder().decode(type, from: Data(b)) else {
            throw EmbdiagError.malformed(s.path, "partial state array '\(name)' is not the expected JSON")
        }
        return v
    }

    /// Pass 1 of one gallery shard: per query its relevant rows in the shard (identity: global row
    /// = query index; labels: same label) with global row numbers, and their Float64 scores in
    /// every direction.
    ///
    /// - Complexity: O((n + q)·d) to normalise, plus O(d) per (query, relevant row, direction).
    public static func pass1(_ inputs: CompatibilityInputs, shard: ShardRecord, configuration: CompatibilityConfiguration) throws -> PartialState {
        let p = try prepare(inputs, configuration: configuration)
        let nq = p.unitOldQueries.rows, n = p.unitOld.rows, o = shard.rowOffset
        // Relevant local rows of each query in this shard.
        var relevant = [[Int]](repeating: [], count: nq)
        if let classes = p.classes {
            var members: [Int32: [Int]] = [:]
            for (j, c) in classes.gallery.enumerated() { members[c, default: []].append(j) }
            for q in 0..<nq where classes.queries[q] >= 0 { relevant[q] = members[classes.queries[q]] ?? [] }
        } else {
            for q in 0..<nq where q >= o && q < o + n { relevant[q] = [q - o] }
        }
        let offsets = relevant.reduce(into: [0]) { $0.append($0.last! + $1.count) }
        var arrays: [String: StateArray] = [
            "rows": .int64([Int64(n)]),
            "relevant_counts": .int64(relevant.map { Int64($0.count) }),
            "relevant_rows": .int64(relevant.flatMap { $0.map { Int64($0 + o) } }),
            "new_source_json": json(p.newSource),
            "query_sources_json": json(p.querySources),
        ]
        for d in p.directions {
            let exact = ExactScores(queries: d.queries, gallery: d.gallery, cosines: d.cosines)
            var scores = [Double](repeating: 0, count: offsets[nq])
            scores.withUnsafeMutableBufferPointer { buf in
                let out = buf.baseAddress!
                parallelChunks(nq, minimumChunk: 64) { range in
                    for q in range { for (t, j) in relevant[q].enumerated() { out[offsets[q] + t] = exact.exact(q, j) } }
                }
            }
            arrays["scores_\(d.name)"] = .float64(scores)
        }
        return PartialState(analyzer: analyzer, pass: 1, parameters: p.settings.parameters, seed: configuration.seed,
                            dimension: p.unitOld.cols, shards: [shard], arrays: arrays)
    }

    static func isMergedPass1(_ s: PartialState) -> Bool { s.analyzer == analyzer && s.pass == 1 && s.basis != nil }

    /// Every query's relevant scores over the whole gallery, grouped by value, per direction: the
    /// state pass 2 reads (`merge --state-out`). Pass-1 states merge in one step (all shards).
    ///
    /// - Complexity: O(Σ R log R) over the queries' relevant rows R.
    public static func mergePass1(_ states: [LoadedState]) throws -> PartialState {
        if let m = states.first(where: { isMergedPass1($0.state) }) {
            throw EmbdiagError.usage("\(m.path) is a merged compat pass-1 state: merge the shards' pass-1 states in one step (compat does not merge as a tree)")
        }
        let ordered = try ShardSet.ordered(states)
        let first = ordered[0]
        let settings = try first.state.settings(CompatPartialSettings.self, path: first.path)
        let nq = settings.queries
        let identity = settings.relevance == .identity
        let names = directionNames(settings, dimension: first.state.dimension)
        var scores = [[[Double]]](repeating: [[Double]](repeating: [], count: nq), count: names.count)
        var relevantRows = [Int](repeating: 0, count: nq)
        var n = 0
        var newSources: [Source] = []
        for s in ordered {
            let p = s.path
            n += try s.state.array("rows", path: p).ints("rows", count: 1, path: p)[0]
            let counts = try s.state.array("relevant_counts", path: p).ints("relevant_counts", count: nq, path: p)
            let total = counts.reduce(0, +)
            let rows = try s.state.array("relevant_rows", path: p).ints("relevant_rows", count: total, path: p)
            let range = s.state.rowOffset..<(s.state.rowOffset + s.state.rowCount)
            guard rows.allSatisfy(range.contains) else { throw EmbdiagError.malformed(p, "lists relevant rows outside its rows \(range)") }
            for (k, name) in names.enumerated() {
                let v = try s.state.array("scores_\(name)", path: p).doubles("scores_\(name)", count: total, path: p)
                var at = 0
                for q in 0..<nq { scores[k][q] += v[at..<(at + counts[q])]; at += counts[q] }
            }
            for q in 0..<nq { relevantRows[q] += counts[q] }
            newSources.append(try decode(Source.self, "new_source_json", in: s))
        }
        guard n >= 2 else { throw EmbdiagError.invalid(first.path, "compat needs at least 2 gallery rows (the shards have \(n))") }
        if identity {
            guard nq <= n else {
                throw EmbdiagError.usage("without labels, query i's relevant item is gallery row i: \(nq) queries for \(n) gallery rows; give \(Setting.labels) and \(Setting.queryLabels)")
            }
            if let q = relevantRows.firstIndex(where: { $0 != 1 }) { throw EmbdiagError.malformed(first.path, "query \(q) has \(relevantRows[q]) relevant rows over the shards, expected 1 (identity relevance)") }
        }
        var arrays: [String: StateArray] = [
            "rows": .int64([Int64(n)]),
            "new_sources_json": json(newSources),
            "query_sources_json": try first.state.array("query_sources_json", path: first.path),
        ]
        var digest = Data()
        for (k, name) in names.enumerated() {
            let groups = scores[k].map(RelevantScoreGroups.init(scores:))
            let values = groups.flatMap(\.values)
            arrays["group_counts_\(name)"] = .int64(groups.map { Int64($0.values.count) })
            arrays["group_values_\(name)"] = .float64(values)
            arrays["group_sizes_\(name)"] = .int64(groups.flatMap { $0.sizes.map(Int64.init) })
            values.withUnsafeBytes { digest.append(contentsOf: $0) }
        }
        var merged = PartialState(analyzer: analyzer, pass: 1, parameters: first.state.parameters, seed: first.state.seed,
                                  dimension: first.state.dimension, shards: ordered.flatMap(\.state.shards), arrays: arrays)
        merged.basis = basis(payload: digest, rows: n, shards: merged.shards)
        return merged
    }

    /// The basis of a merged pass-1 state: SHA-256 of its group values (every direction, in
    /// order), its row count and its shard list (`StatePayloadCheck` recomputes it).
    static func basis(payload: Data, rows n: Int, shards: [ShardRecord]) -> String {
        var digest = payload
        digest.append(Data("n=\(n);".utf8))
        for s in shards { digest.append(Data("\(s.rowOffset):\(s.rowCount):\(s.source.sha256 ?? "-");".utf8)) }
        return Checksum.sha256(digest)
    }

    /// The relevant groups of every query in one direction of a merged pass-1 state.
    static func groups(_ name: String, queries nq: Int, in m: LoadedState) throws -> [RelevantScoreGroups] {
        let p = m.path
        let counts = try m.state.array("group_counts_\(name)", path: p).ints("group_counts_\(name)", count: nq, path: p)
        let total = counts.reduce(0, +)
        let values = try m.state.array("group_values_\(name)", path: p).doubles("group_values_\(name)", count: total, path: p)
        let sizes = try m.state.array("group_sizes_\(name)", path: p).ints("group_sizes_\(name)", count: total, path: p)
        var out: [RelevantScoreGroups] = []
        out.reserveCapacity(nq)
        var at = 0
        for c in counts {
            out.append(RelevantScoreGroups(values: Array(values[at..<(at + c)]), sizes: Array(sizes[at..<(at + c)])))
            at += c
        }
        return out
    }

    /// Pass 2 of one gallery shard against the merged pass-1 state: per direction, query and
    /// relevant group, the shard's non-relevant rows scoring strictly between the previous group
    /// and this one (`above`) and tied with it (`tied`).
    ///
    /// - Complexity: O(q·n·d) (one tiled GEMM pass per direction, as a single run) plus O(d) per
    ///   row within the GEMM's error bound of a group value.
    public static func pass2(_ inputs: CompatibilityInputs, shard: ShardRecord, configuration: CompatibilityConfiguration, merged: LoadedState) throws -> PartialState {
        let p = try prepare(inputs, configuration: configuration)
        let m = merged.state, path = merged.path
        guard isMergedPass1(m) else { throw EmbdiagError.mismatch(path, "is not a merged compat pass-1 state (write one with embdiag merge PASS1-STATES… \(Setting.stateOut) FILE)") }
        guard m.rowOffset == 0 else { throw EmbdiagError.mismatch(path, "covers rows \(m.rowOffset)..<\(m.rowOffset + m.rowCount), not from row 0: merge every pass-1 state") }
        if try p.settings != m.settings(CompatPartialSettings.self, path: path) || configuration.seed != m.seed || p.unitOld.cols != m.dimension {
            let mine = p.settings.parameters
            let differing = Set(mine.keys).union(m.parameters.keys).sorted().first { mine[$0] != m.parameters[$0] }
            throw EmbdiagError.mismatch(path, "was computed with other \(differing.map { "options (\($0))" } ?? "options, seed or dimension") than this pass: give pass 2 the pass-1 options and query files")
        }
        let newSources = try decode([Source].self, "new_sources_json", in: merged)
        guard newSources.count == m.shards.count,
              let index = m.shards.firstIndex(where: { $0.rowOffset == shard.rowOffset && $0.rowCount == shard.rowCount }),
              m.shards[index].source.sha256 == nil || shard.source.sha256 == nil || m.shards[index].source.sha256 == shard.source.sha256,
              newSources[index].sha256 == nil || p.newSource.sha256 == nil || newSources[index].sha256 == p.newSource.sha256 else {
            throw EmbdiagError.mismatch(shard.source.path, "rows \(shard.rowOffset)..<\(shard.rowOffset + shard.rowCount) (with \(p.newSource.path)) are not a shard of the pass-1 merge \(path)")
        }
        let nq = p.unitOldQueries.rows, n = p.unitOld.rows, o = shard.rowOffset
        var arrays: [String: StateArray] = ["rows": .int64([Int64(n)]), "new_source_json": json(p.newSource)]
        for d in p.directions {
            let groups = try Self.groups(d.name, queries: nq, in: merged)
            let offsets = groups.reduce(into: [0]) { $0.append($0.last! + $1.values.count) }
            if p.classes == nil, let q = groups.firstIndex(where: { $0.sizes != [1] }) {
                throw EmbdiagError.malformed(path, "query \(q) does not have one relevant row (identity relevance)")
            }
            var above = [Int](repeating: 0, count: offsets[nq]), tied = [Int](repeating: 0, count: offsets[nq])
            let scores = ExactScores(queries: d.queries, gallery: d.gallery, cosines: d.cosines)
            above.withUnsafeMutableBufferPointer { aboveBuf in
            tied.withUnsafeMutableBufferPointer { tiedBuf in
                let aboveOut = aboveBuf.baseAddress!, tiedOut = tiedBuf.baseAddress!
                forEachScoreBlock(queries: d.queries, gallery: d.gallery) { rows, tiles in
                    let block = rows.count
                    if let classes = p.classes {
                        // Labels: the single run's group scan, with the groups of the whole gallery.
                        var up = [[Int]](repeating: [], count: block), same = [[Int]](repeating: [], count: block)
                        var floorRaw = [Float](repeating: .infinity, count: block)
                        for r in 0..<block where !groups[rows.lowerBound + r].values.isEmpty {
                            let g = groups[rows.lowerBound + r].values
                            up[r] = [Int](repeating: 0, count: g.count + 1)
                            same[r] = [Int](repeating: 0, count: g.count)
                            floorRaw[r] = scores.rawFloor(below: g[g.count - 1])
                        }
                        tiles.forEach { columns, tile in
                            for r in 0..<block where !groups[rows.lowerBound + r].values.isEmpty {
                                let q = rows.lowerBound + r
                                groups[q].values.withUnsafeBufferPointer { values in
                                up[r].withUnsafeMutableBufferPointer { u in
                                same[r].withUnsafeMutableBufferPointer { s in
                                classes.gallery.withUnsafeBufferPointer { galleryClass in
                                    scores.countAroundGroups(tile + r * columns.count, columns: columns, query: q, queryClass: classes.queries[q],
                                                             galleryClass: galleryClass.baseAddress!, excluded: -1, values: values, floorRaw: floorRaw[r],
                                                             above: u.baseAddress!, tied: s.baseAddress!)
                                }}}}
                            }
                        }
                        for r in 0..<block {
                            let q = rows.lowerBound + r
                            for g in 0..<groups[q].values.count {
                                aboveOut[offsets[q] + g] = up[r][g]
                                tiedOut[offsets[q] + g] = same[r][g]
                            }
                        }
                    } else {
                        // Identity: the single run's target scan; the target row is in this shard or not.
                        var count = [TargetRankCount](repeating: TargetRankCount(), count: block)
                        let cuts = rows.map { scores.screeningCuts(around: groups[$0].values[0]) }
                        tiles.forEach { columns, tile in
                            for r in 0..<block {
                                let q = rows.lowerBound + r
                                scores.countAgainstTarget(tile + r * columns.count, columns: columns, query: q, target: q >= o && q < o + n ? q - o : -1,
                                                          targetScore: groups[q].values[0], cuts: cuts[r], excluded: -1, into: &count[r])
                            }
                        }
                        for r in 0..<block {
                            aboveOut[offsets[rows.lowerBound + r]] = count[r].better
                            tiedOut[offsets[rows.lowerBound + r]] = count[r].equal
                        }
                    }
                }
            }}
            arrays["above_\(d.name)"] = .int64(above.map(Int64.init))
            arrays["tied_\(d.name)"] = .int64(tied.map(Int64.init))
        }
        return PartialState(analyzer: analyzer, pass: 2, parameters: p.settings.parameters, seed: configuration.seed, dimension: m.dimension,
                            shards: [shard], basis: m.basis, arrays: arrays)
    }

    /// The retrieval of the concatenated gallery from the merged pass-1 state and the pass-2
    /// states (ordered by `ShardSet`): counts summed over the shards, ranks rebuilt per query.
    ///
    /// - Complexity: O(s·G) for G groups over all queries and directions, plus the tied blocks.
    public static func mergePass2(merged: LoadedState, ordered: [LoadedState]) throws -> Merged {
        let m = merged.state, path = merged.path
        for s in ordered where s.state.basis != m.basis {
            throw EmbdiagError.mismatch(s.path, "pass 2 was computed against another pass-1 merge than \(path)")
        }
        let covered = ordered.flatMap { $0.state.shards.map { [$0.rowOffset, $0.rowCount] } }
        let expected = m.shards.map { [$0.rowOffset, $0.rowCount] }
        guard covered == expected else {
            throw EmbdiagError.mismatch(ordered[0].path, "the pass-2 states cover shards \(covered.map { "\($0[0])..<\($0[0] + $0[1])" }.joined(separator: ", ")), the pass-1 merge \(path) has \(expected.map { "\($0[0])..<\($0[0] + $0[1])" }.joined(separator: ", "))")
        }
        let settings = try m.settings(CompatPartialSettings.self, path: path)
        let nq = settings.queries, dimNew = settings.newDimension
        let identity = settings.relevance == .identity
        var ranks: [String: RetrievalRanks] = [:]
        for name in directionNames(settings, dimension: m.dimension) {
            let groups = try Self.groups(name, queries: nq, in: merged)
            let total = groups.reduce(0) { $0 + $1.values.count }
            var above = [Int](repeating: 0, count: total), tied = [Int](repeating: 0, count: total)
            for s in ordered {
                let a = try s.state.array("above_\(name)", path: s.path).ints("above_\(name)", count: total, path: s.path)
                let t = try s.state.array("tied_\(name)", path: s.path).ints("tied_\(name)", count: total, path: s.path)
                for i in 0..<total { above[i] += a[i]; tied[i] += t[i] }
            }
            var result = RetrievalRanks(first: [TiedFirstRank?](repeating: nil, count: nq), averagePrecision: [Double](repeating: .nan, count: nq),
                                        relevantCount: [Int](repeating: 0, count: nq))
            var at = 0
            for q in 0..<nq {
                let g = groups[q], c = g.values.count
                defer { at += c }
                guard c > 0 else { continue }
                let entry = identity ? RetrievalRanks.rankedTarget(better: above[at], equal: tied[at])
                                     : RetrievalRanks.rankedGroups(g, above: Array(above[at..<(at + c)]), tied: Array(tied[at..<(at + c)]))
                result.first[q] = entry.first
                result.averagePrecision[q] = entry.averagePrecision
                result.relevantCount[q] = g.relevantCount
            }
            ranks[name] = result
        }
        let newList = try ordered.map { try decode(Source.self, "new_source_json", in: $0) }
        let querySources = try decode([Source].self, "query_sources_json", in: merged)
        let n = m.rowCount
        var oldSource = MergedSource.combined(m.shards.map(\.source), rows: n, dimension: m.dimension)
        oldSource.format = m.shards[0].source.format
        var newSource = MergedSource.combined(newList, rows: n, dimension: dimNew)
        newSource.format = newList[0].format
        return Merged(old: ranks["old"]!, new: ranks["new"]!, cross: ranks["cross"], galleryRows: n, dimensions: (m.dimension, dimNew),
                      relevance: identity ? "identity" : "labels", inputs: [oldSource, newSource] + querySources,
                      configuration: try configuration(from: m, path: path))
    }
}

/// The settings of a compat partial state (`PartialSettings`): the retrieval options, the query
/// set (count and digest, so every shard ranked the same queries) and NEW's dimension.
public struct CompatPartialSettings: PartialSettings {
    public enum Relevance: String, Sendable, CaseIterable { case identity, labels }

    public internal(set) var ks: [Int]
    public internal(set) var relevance: Relevance
    public internal(set) var queries: Int
    public internal(set) var queriesDigest: String
    public internal(set) var newDimension: Int
    public internal(set) var maxQueries: Int
    public internal(set) var noWorseTolerance: Double

    public init(ks: [Int], relevance: Relevance, queries: Int, queriesDigest: String, newDimension: Int, maxQueries: Int, noWorseTolerance: Double) {
        self.ks = ks
        self.relevance = relevance
        self.queries = queries
        self.queriesDigest = queriesDigest
        self.newDimension = newDimension
        self.maxQueries = maxQueries
        self.noWorseTolerance = noWorseTolerance
    }

    public init(parameters: [String: String], path: String?) throws {
        var r = StateParameterReader(parameters, path: path)
        ks = try r.text("k").split(separator: ",", omittingEmptySubsequences: false).map {
            guard let k = Int($0) else { throw EmbdiagError.malformed(path, "compat state parameter k is not a list of integers") }
            return k
        }
        relevance = try r.choice("relevance", as: Relevance.self)
        queries = try r.int("queries")
        guard queries >= 1 else { throw EmbdiagError.malformed(path, "compat state parameter queries = \(queries) (expected at least 1)") }
        queriesDigest = try r.text("queries_digest")
        newDimension = try r.int("dim_new")
        maxQueries = try r.int("max_queries")
        noWorseTolerance = try r.double("no_worse_tolerance")
        try r.finish()
    }

    public var parameters: [String: String] {
        [
            "k": ks.map(String.init).joined(separator: ","),
            "relevance": relevance.rawValue,
            "queries": String(queries),
            "queries_digest": queriesDigest,
            "dim_new": String(newDimension),
            "max_queries": String(maxQueries),
            "no_worse_tolerance": "\(noWorseTolerance)",
        ]
    }

    public static func == (a: Self, b: Self) -> Bool { a.parameters == b.parameters }
}
