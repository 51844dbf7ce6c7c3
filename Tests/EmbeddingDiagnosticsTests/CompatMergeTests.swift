import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// `compat --partial` over gallery shards with fixed query files, merged in two passes,
/// equals a single `compat --retrieval-only` run over the concatenated gallery exactly
/// (Guides/Scale.md, "Compat").
@Suite struct CompatMergeTests {
    /// Seeded OLD/NEW galleries and queries with deliberate exact ties: gallery row 5 is copied to
    /// rows 150 and 299 (other shards) and row 7 to row 8 (same shard), queries 3 and 10 are exact
    /// copies of gallery row 5 (so their scores tie across shards), query 11 is a copy of row 7.
    /// (Rows 150 and 299 are n/2 and n − 1.)
    struct Data {
        var old: Embeddings, new: Embeddings, oldQueries: Embeddings, newQueries: Embeddings
        var labels: [String], queryLabels: [String]
    }

    static func data(seed: UInt64, n: Int = 300, dOld: Int = 16, dNew: Int = 16, queries: Int = 40) -> Data {
        precondition(queries > 17 && n > 10, "data: the tie rows and queries need n > 10 and more than 17 queries")
        var rng = SeededGenerator(seed: seed)
        let old = rng.gaussianMatrix(rows: n, cols: dOld)
        let noise = rng.gaussianMatrix(rows: n, cols: dNew)
        let new = Matrix(rows: n, cols: dNew)
        for i in 0..<n { for j in 0..<dNew { new[i, j] = (j < dOld && dOld == dNew ? old[i, j] : 0) + (dOld == dNew ? 0.6 : 1) * noise[i, j] } }
        for m in [old, new] {
            for j in 0..<m.cols { m[n / 2, j] = m[5, j]; m[n - 1, j] = m[5, j]; m[8, j] = m[7, j] }
        }
        let oq = Matrix(rows: queries, cols: dOld), nq = Matrix(rows: queries, cols: dNew)
        for q in 0..<queries {
            for j in 0..<dOld { oq[q, j] = old[q, j] + 0.3 * Float(rng.nextGaussian()) }
            for j in 0..<dNew { nq[q, j] = new[q, j] + 0.3 * Float(rng.nextGaussian()) }
        }
        for (q, row) in [(3, 5), (10, 5), (11, 7)] {
            for j in 0..<dOld { oq[q, j] = old[row, j] }
            for j in 0..<dNew { nq[q, j] = new[row, j] }
        }
        let classes = ["a", "b", "c", "d", "e", "f", "g"]
        var labels = (0..<n).map { _ in classes[rng.nextIndex(classes.count)] }
        labels[n / 2] = labels[5]
        labels[n - 1] = labels[5] == "a" ? "b" : "a"  // a tied copy that is not relevant to row 5's class
        var queryLabels = (0..<queries).map { _ in classes[rng.nextIndex(classes.count)] }
        queryLabels[10] = labels[5]
        queryLabels[17] = "absent"  // no relevant row anywhere: not evaluated
        return Data(old: Embeddings(matrix: old, name: "old.npy"), new: Embeddings(matrix: new, name: "new.npy"),
                    oldQueries: Embeddings(matrix: oq, name: "old-queries.npy"), newQueries: Embeddings(matrix: nq, name: "new-queries.npy"),
                    labels: labels, queryLabels: queryLabels)
    }

    /// Uneven shards, one of a single row; rows 5, 150 and 299 fall in different shards.
    static let cuts = [0..<1, 1..<97, 97..<250, 250..<300]

    static func inputs(_ d: Data, labelled: Bool) -> CompatibilityInputs {
        CompatibilityInputs(old: d.old, new: d.new, oldQueries: d.oldQueries, newQueries: d.newQueries,
                            labels: labelled ? d.labels : nil, queryLabels: labelled ? d.queryLabels : nil)
    }

    static func shardInputs(_ d: Data, labelled: Bool, cuts: [Range<Int>] = cuts) -> [(CompatibilityInputs, ShardRecord)] {
        cuts.enumerated().map { k, r in
            let (o, record) = MergeTests.shard(d.old, r, name: "old-\(k).npy")
            let (n, _) = MergeTests.shard(d.new, r, name: "new-\(k).npy")
            return (CompatibilityInputs(old: o, new: n, oldQueries: d.oldQueries, newQueries: d.newQueries,
                                        labels: labelled ? Array(d.labels[r]) : nil, queryLabels: labelled ? d.queryLabels : nil), record)
        }
    }

    static func configuration() -> CompatibilityConfiguration {
        var c = CompatibilityConfiguration()
        c.ks = [1, 5, 10, 500]  // 500 > n: capped, as in a single run
        c.seed = 11
        return c
    }

    /// Pass 1 per shard, the merged pass-1 state, pass 2 per shard (every state through the file
    /// format), in shuffled orders.
    static func states(_ shards: [(CompatibilityInputs, ShardRecord)], _ c: CompatibilityConfiguration) throws -> (merged: LoadedState, pass2: [LoadedState]) {
        let pass1 = try shards.enumerated().map { try MergeTests.roundTrip(CompatPartial.pass1($0.element.0, shard: $0.element.1, configuration: c), "c1-\($0.offset).state") }
        guard case .state(let m) = try StateMerge.merge(pass1.shuffled(), wantState: true) else { throw EmbdiagError.usage("no merged state") }
        let merged = try MergeTests.roundTrip(m, "compat-merged.state")
        let pass2 = try shards.enumerated().map {
            try MergeTests.roundTrip(CompatPartial.pass2($0.element.0, shard: $0.element.1, configuration: c, merged: merged), "c2-\($0.offset).state")
        }
        return (merged, pass2.shuffled())
    }

    static func expectIdentical(_ a: RetrievalRanks, _ b: RetrievalRanks, _ what: String) {
        #expect(a.first == b.first, "\(what): first relevant blocks differ")
        #expect(a.relevantCount == b.relevantCount, "\(what): relevant counts differ")
        #expect(a.averagePrecision.map(\.bitPattern) == b.averagePrecision.map(\.bitPattern), "\(what): average precisions differ")
    }

    /// The merged ranks equal `Retrieval.retrievalRanks` over the whole gallery bit for bit, in
    /// every direction, for identity and label relevance, with ties inside blocks that span shards.
    @Test(arguments: [false, true]) func mergedRanksEqualTheWholeGallery(labelled: Bool) throws {
        let d = Self.data(seed: labelled ? 21 : 20)
        let c = Self.configuration()
        let (merged, pass2) = try Self.states(Self.shardInputs(d, labelled: labelled), c)
        let result = try CompatPartial.mergePass2(merged: merged, ordered: ShardSet.ordered(pass2))
        let unit = { (e: Embeddings) in Matrix.normalizedRows(e.matrix) }
        let rel: RetrievalRelevance
        if labelled {
            let ids = Retrieval.classIds(gallery: d.labels, queries: d.queryLabels)
            rel = .classes(query: ids.queries, gallery: ids.gallery)
        } else {
            rel = .index(Array(0..<d.oldQueries.count))
        }
        let old = Retrieval.retrievalRanks(queries: unit(d.oldQueries), gallery: unit(d.old), relevance: rel)
        let new = Retrieval.retrievalRanks(queries: unit(d.newQueries), gallery: unit(d.new), relevance: rel)
        let cross = Retrieval.retrievalRanks(queries: unit(d.newQueries), gallery: unit(d.old), relevance: rel)
        Self.expectIdentical(result.old, old, "old")
        Self.expectIdentical(result.new, new, "new")
        #expect(result.cross != nil)
        if let rc = result.cross { Self.expectIdentical(rc, cross, "cross") }
        // The data has the ties it is meant to test: a first relevant block of several rows.
        #expect(old.first.contains { ($0?.blockSize ?? 1) > 1 })
        #expect(result.galleryRows == 300 && result.dimensions == (16, 16))
        if labelled { #expect(old.first[17] == nil && result.old.first[17] == nil) }
        // The report: that of a single retrieval-only run, whatever the order of the states.
        var single = c
        single.retrievalOnly = true
        let whole = try CompatibilityAnalysis(Self.inputs(d, labelled: labelled), configuration: single).report()
        for states in [[merged] + pass2, pass2.reversed() + [merged]] {
            guard case .report(let report) = try StateMerge.merge(states, wantState: false) else { Issue.record("no report"); return }
            #expect(report.metrics == whole.metrics)
            #expect(report.parameters == whole.parameters)
            #expect(report.tables == whole.tables)
            #expect(report.charts == whole.charts)
            #expect(report.verdict == whole.verdict)
            #expect(report.inputs.map(\.path) == (0..<4).map { "old-\($0).npy" } + (0..<4).map { "new-\($0).npy" } + ["old-queries.npy", "new-queries.npy"])
        }
    }

    /// Other queries, options or shards than pass 1: refused with one line naming the file.
    @Test func refusesOtherQueriesOptionsAndShards() throws {
        let d = Self.data(seed: 23, n: 120)
        let c = Self.configuration()
        let shards = Self.shardInputs(d, labelled: true, cuts: [0..<50, 50..<120])
        let pass1 = try shards.enumerated().map { LoadedState(path: "p\($0.offset).state", state: try CompatPartial.pass1($0.element.0, shard: $0.element.1, configuration: c)) }
        // Another query set in one shard (same count): the digest differs.
        var other = shards[1].0
        other.newQueries = Embeddings(matrix: Matrix.normalizedRows(d.oldQueries.matrix), name: "new-queries.npy")
        let foreign = LoadedState(path: "foreign.state", state: try CompatPartial.pass1(other, shard: shards[1].1, configuration: c))
        MergeTests.expectRefusal([pass1[0], foreign], wantState: true, "parameter queries_digest")
        // Other query labels.
        var relabelled = shards[1].0
        relabelled.queryLabels = d.queryLabels.reversed()
        MergeTests.expectRefusal([pass1[0], LoadedState(path: "q.state", state: try CompatPartial.pass1(relabelled, shard: shards[1].1, configuration: c))],
                                 wantState: true, "queries_digest")
        // Labels in one shard, none in the other.
        var unlabelled = shards[1].0
        unlabelled.labels = nil
        MergeTests.expectRefusal([pass1[0], LoadedState(path: "u.state", state: try CompatPartial.pass1(unlabelled, shard: shards[1].1, configuration: c))],
                                 wantState: true, "u.state: parameter")  // relevance, and the digest (no query labels)
        guard case .state(let m) = try StateMerge.merge(pass1, wantState: true) else { Issue.record("no state"); return }
        let merged = LoadedState(path: "merged.state", state: m)
        // A merged state is not merged again; pass 2 refuses other queries and rows that are no shard.
        guard case .state(let first) = try StateMerge.merge([pass1[0]], wantState: true) else { Issue.record("no state"); return }
        MergeTests.expectRefusal([LoadedState(path: "first.state", state: first), pass1[1]], wantState: true, "one step")
        #expect(throws: EmbdiagError.self) { try CompatPartial.pass2(other, shard: shards[1].1, configuration: c, merged: merged) }
        var moved = shards[1].1
        moved.rowOffset = 40
        #expect(throws: EmbdiagError.self) { try CompatPartial.pass2(shards[1].0, shard: moved, configuration: c, merged: merged) }
        // Without separate queries, or with a fitted mapping: not shardable.
        var noQueries = shards[0].0
        noQueries.oldQueries = nil
        noQueries.newQueries = nil
        #expect(throws: EmbdiagError.self) { try CompatPartial.pass1(noQueries, shard: shards[0].1, configuration: c) }
        var fitted = c
        fitted.fit = .procrustes
        #expect(throws: EmbdiagError.self) { try CompatPartial.pass1(shards[0].0, shard: shards[0].1, configuration: fitted) }
        // Identity relevance with more queries than gallery rows: refused at the merge, as a single run refuses it.
        let small = Self.data(seed: 24, n: 12, queries: 20)
        let tiny = try Self.shardInputs(small, labelled: false, cuts: [0..<5, 5..<12]).enumerated().map {
            LoadedState(path: "t\($0.offset).state", state: try CompatPartial.pass1($0.element.0, shard: $0.element.1, configuration: c))
        }
        MergeTests.expectRefusal(tiny, wantState: true, "20 queries for 12 gallery rows")
    }

    /// Different dimensions: no cross direction, the two others still exact.
    @Test func differentDimensionsHaveNoCrossDirection() throws {
        let d = Self.data(seed: 22, dNew: 12)
        let (merged, pass2) = try Self.states(Self.shardInputs(d, labelled: true, cuts: [0..<120, 120..<121, 121..<300]), Self.configuration())
        let result = try CompatPartial.mergePass2(merged: merged, ordered: ShardSet.ordered(pass2))
        #expect(result.cross == nil)
        let ids = Retrieval.classIds(gallery: d.labels, queries: d.queryLabels)
        let new = Retrieval.retrievalRanks(queries: Matrix.normalizedRows(d.newQueries.matrix), gallery: Matrix.normalizedRows(d.new.matrix),
                                           relevance: .classes(query: ids.queries, gallery: ids.gallery))
        Self.expectIdentical(result.new, new, "new")
    }
}

/// The CLI end to end: OLD/NEW gallery shards as .npy files (with label files), the same query
/// files for every shard, both passes and merges in shuffled orders; the merged JSON equals a
/// single `compat --retrieval-only` run over the whole files (metrics, parameters and tables
/// identical, numbers to the last bit). Refusals exit 2 with one line and write nothing.
@Suite(.serialized) struct CompatMergeCLITests {
    static func rows(_ m: Matrix, _ r: Range<Int>) -> [[Float]] { r.map { m.rowArray($0) } }

    static func json(_ path: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Foundation.Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
    }

    /// A JSON value as canonical text (sorted keys; numbers in the shortest form that reads back
    /// to the same Double, so equal text = equal bits).
    static func canonical(_ value: Any) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: [value], options: [.sortedKeys, .fragmentsAllowed]), as: UTF8.self)
    }

    static func run(_ a: [String], environment: [String: String]? = nil) throws -> CLI.Result {
        let r = try CLI.run(a, environment: environment)
        #expect(r.status == 0, "\(a.joined(separator: " ")): \(r.stderr)")
        return r
    }

    /// Writes the data and its shards; returns the query/label options and per shard its options.
    static func write(_ d: CompatMergeTests.Data, labelled: Bool, cuts: [Range<Int>], in dir: String) throws -> (common: [String], single: [String], shards: [[String]]) {
        try CLI.writeNpy(rows(d.old.matrix, 0..<d.old.count), to: "\(dir)/old.npy")
        try CLI.writeNpy(rows(d.new.matrix, 0..<d.new.count), to: "\(dir)/new.npy")
        try CLI.writeNpy(rows(d.oldQueries.matrix, 0..<d.oldQueries.count), to: "\(dir)/old-queries.npy")
        try CLI.writeNpy(rows(d.newQueries.matrix, 0..<d.newQueries.count), to: "\(dir)/new-queries.npy")
        var common = ["--old-queries", "\(dir)/old-queries.npy", "--new-queries", "\(dir)/new-queries.npy", "--k", "1,5,10,500", "--seed", "11", "-q"]
        var single = ["--old", "\(dir)/old.npy", "--new", "\(dir)/new.npy"]
        if labelled {
            try (d.queryLabels.joined(separator: "\n") + "\n").write(toFile: "\(dir)/query-labels.txt", atomically: true, encoding: .utf8)
            try (d.labels.joined(separator: "\n") + "\n").write(toFile: "\(dir)/labels.txt", atomically: true, encoding: .utf8)
            common += ["--query-labels", "\(dir)/query-labels.txt"]
            single += ["--labels", "\(dir)/labels.txt"]
        }
        var shards: [[String]] = []
        for (k, r) in cuts.enumerated() {
            try CLI.writeNpy(rows(d.old.matrix, r), to: "\(dir)/old-\(k).npy")
            try CLI.writeNpy(rows(d.new.matrix, r), to: "\(dir)/new-\(k).npy")
            var o = ["--old", "\(dir)/old-\(k).npy", "--new", "\(dir)/new-\(k).npy", "--row-offset", "\(r.lowerBound)"]
            if labelled {
                try (d.labels[r].joined(separator: "\n") + "\n").write(toFile: "\(dir)/labels-\(k).txt", atomically: true, encoding: .utf8)
                o += ["--labels", "\(dir)/labels-\(k).txt"]
            }
            shards.append(o)
        }
        return (common, single, shards)
    }

    @Test(arguments: [false, true]) func mergedReportEqualsSingleRetrievalOnlyRun(labelled: Bool) throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let d = CompatMergeTests.data(seed: labelled ? 31 : 30)
        let (common, single, shards) = try Self.write(d, labelled: labelled, cuts: CompatMergeTests.cuts, in: dir)
        for (k, o) in shards.enumerated() { _ = try Self.run(["compat"] + o + common + ["--partial", "\(dir)/p1-\(k).state"]) }
        _ = try Self.run(["merge"] + shards.indices.shuffled().map { "\(dir)/p1-\($0).state" } + ["--state-out", "\(dir)/merged.state", "-q"])
        // Shards on other OpenBLAS kernels and thread counts than the single run (x86-64 baseline
        // Prescott with 1 thread, 2 threads on the default kernel): the counts are decided in Float64.
        for (k, o) in shards.enumerated() {
            let environment = k % 2 == 0 ? ["OPENBLAS_CORETYPE": "Prescott", "OPENBLAS_NUM_THREADS": "1"] : ["OPENBLAS_NUM_THREADS": "2"]
            _ = try Self.run(["compat"] + o + common + ["--partial", "\(dir)/p2-\(k).state", "--partial-pass", "2", "--directions", "\(dir)/merged.state"],
                             environment: environment)
        }
        _ = try Self.run(["merge", "\(dir)/merged.state"] + shards.indices.shuffled().map { "\(dir)/p2-\($0).state" } + ["--json", "\(dir)/merged.json"])
        _ = try Self.run(["compat"] + single + common + ["--retrieval-only", "--json", "\(dir)/single.json"])
        let merged = try Self.json("\(dir)/merged.json"), whole = try Self.json("\(dir)/single.json")
        for part in ["metrics", "parameters", "tables"] {
            let a = merged[part] as? [String: Any] ?? [:], b = whole[part] as? [String: Any] ?? [:]
            #expect(Set(a.keys) == Set(b.keys), "\(part): \(Set(a.keys).symmetricDifference(b.keys).sorted())")
            for (key, value) in b {
                #expect(try a[key].map(Self.canonical) == Self.canonical(value), "\(part).\(key): merged \(a[key] ?? "missing") single \(value)")
            }
        }
        let metrics = whole["metrics"] as? [String: Any] ?? [:]
        #expect(metrics["mrr_cross"] is Double && metrics["map_old"] is Double && metrics["negative_flip_rate"] != nil)
        #expect((merged["inputs"] as? [Any])?.count == 2 * shards.count + 2)
    }

    @Test func refusals() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let d = CompatMergeTests.data(seed: 32, n: 60, queries: 20)
        let (common, _, shards) = try Self.write(d, labelled: false, cuts: [0..<25, 25..<60], in: dir)
        func refused(_ a: [String], _ fragment: String, output: String? = nil) throws {
            let r = try CLI.run(a)
            #expect(r.status == 2, "\(a.joined(separator: " ")): exit \(r.status) \(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1 && r.stderr.contains(fragment), "\(r.stderr)")
            if let output { #expect(!FileManager.default.fileExists(atPath: output)) }
        }
        let s0 = ["compat"] + shards[0] + common + ["--partial", "\(dir)/x.state"]
        try refused(s0 + ["--fit", "procrustes"], "--fit", output: "\(dir)/x.state")
        try refused(s0 + ["--threshold", "0.5"], "--threshold", output: "\(dir)/x.state")
        try refused(["compat", "--old", "\(dir)/old-0.npy", "--new", "int8", "--row-offset", "0", "--partial", "\(dir)/x.state"] + common, "int8")
        try refused(s0 + ["--pair-by", "label"], "--pair-by")
        try refused(s0 + ["--on-invalid", "drop"], "--on-invalid")
        try refused(["compat"] + shards[0] + ["--partial", "\(dir)/x.state", "-q"], "--old-queries", output: "\(dir)/x.state")
        try refused(s0 + ["--require", "recall_at_1_cross>=0.5"], "--require")
        // Pass-1 states alone make no report; a missing shard and a duplicate are refused.
        for (k, o) in shards.enumerated() { _ = try Self.run(["compat"] + o + common + ["--partial", "\(dir)/p1-\(k).state"]) }
        try refused(["merge", "\(dir)/p1-0.state", "\(dir)/p1-1.state", "--json", "\(dir)/r.json"], "--state-out", output: "\(dir)/r.json")
        try refused(["merge", "\(dir)/p1-1.state", "--state-out", "\(dir)/m.state"], "missing", output: "\(dir)/m.state")
        try refused(["merge", "\(dir)/p1-0.state", "\(dir)/p1-0.state", "\(dir)/p1-1.state", "--state-out", "\(dir)/m.state"], "p1-0.state", output: "\(dir)/m.state")
        // Other query options in a shard: refused at the merge (parameters differ).
        _ = try Self.run(["compat"] + shards[1] + common + ["--k", "1,3", "--partial", "\(dir)/k3.state"])
        try refused(["merge", "\(dir)/p1-0.state", "\(dir)/k3.state", "--state-out", "\(dir)/m.state"], "parameter k")
        _ = try Self.run(["merge", "\(dir)/p1-0.state", "\(dir)/p1-1.state", "--state-out", "\(dir)/merged.state", "-q"])
        for (k, o) in shards.enumerated() {
            _ = try Self.run(["compat"] + o + common + ["--partial", "\(dir)/p2-\(k).state", "--partial-pass", "2", "--directions", "\(dir)/merged.state"])
        }
        // Mixed passes, a missing pass-2 shard, pass 2 of a shard against the wrong rows.
        try refused(["merge", "\(dir)/merged.state", "\(dir)/p2-0.state", "\(dir)/p1-1.state", "--json", "\(dir)/r.json"], "pass", output: "\(dir)/r.json")
        try refused(["merge", "\(dir)/merged.state", "\(dir)/p2-0.state", "--json", "\(dir)/r.json"], "cover", output: "\(dir)/r.json")
        try refused(["compat", "--old", "\(dir)/old-0.npy", "--new", "\(dir)/new-0.npy", "--row-offset", "5"] + common
                    + ["--partial", "\(dir)/y.state", "--partial-pass", "2", "--directions", "\(dir)/merged.state"], "not a shard", output: "\(dir)/y.state")
        try refused(["compat"] + shards[0] + common + ["--k", "1,3", "--partial", "\(dir)/y.state", "--partial-pass", "2", "--directions", "\(dir)/merged.state"],
                    "other options", output: "\(dir)/y.state")
    }
}
