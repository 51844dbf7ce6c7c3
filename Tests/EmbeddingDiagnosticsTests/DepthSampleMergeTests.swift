import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// `depth --partial … --reference-sample S --reference-rows N` (chord TTE, spatial,
/// Mahalanobis and cosine depth against the single run's seeded reference sample) merges into the
/// single `--reference-sample` run's report (Guides/Scale.md, "Depth against a reference sample").
@Suite struct DepthSampleMergeTests {
    /// Uneven shards (one of a single row) of the reference and of the compared corpus; the
    /// reference spans two of `DepthReference`'s aligned 512-row blocks, one shard both.
    static let referenceCuts = [0..<1, 1..<300, 300..<611, 611..<700]
    static let otherCuts = [0..<88, 88..<231]
    static let dimension = 24

    /// Seeded synthetic corpora: a cone (Gaussian rows plus a common offset) as the reference, the
    /// compared corpus with a shifted offset.
    static func corpora() -> (reference: Embeddings, other: Embeddings) {
        var rng = SeededGenerator(seed: 2020)
        func corpus(_ n: Int, shift: Float, name: String) -> Embeddings {
            let m = rng.gaussianMatrix(rows: n, cols: dimension)
            for i in 0..<n { m[i, 0] += 3; m[i, 1] += shift }
            return Embeddings(matrix: m, labels: (0..<n).map { "\(name)-\($0)" }, name: name + ".npy")
        }
        return (corpus(referenceCuts.last!.upperBound, shift: 0, name: "ref"), corpus(otherCuts.last!.upperBound, shift: 0.5, name: "new"))
    }

    static func configuration(_ kind: DepthKind, _ distance: DepthDistance = .cosine, sample: Int = 150) -> DepthConfiguration {
        var c = DepthConfiguration()
        c.kind = kind
        c.distance = distance
        c.referenceSample = sample
        c.mahalanobisComponents = 6
        c.top = 5
        c.seed = 7
        return c
    }

    /// Pass 1 on every reference shard, the pass-1 merge (shuffled), pass 2 on every shard of
    /// both corpora, the final merge (shuffled); every state through the file format.
    static func mergedReport(_ c: DepthConfiguration, referenceRows: Int? = nil) throws -> Report {
        let (ref, other) = corpora()
        let n = referenceRows ?? ref.count
        let refShards = referenceCuts.enumerated().map { MergeTests.shard(ref, $0.element, name: "ref-\($0.offset).npy") }
        let otherShards = otherCuts.enumerated().map { MergeTests.shard(other, $0.element, name: "new-\($0.offset).npy") }
        let p1 = try refShards.enumerated().map {
            try MergeTests.roundTrip(DepthPartial.pass1($0.element.0, shard: $0.element.1, configuration: c, referenceRows: n), "s1-\($0.offset).state")
        }
        guard case .state(let m) = try StateMerge.merge(p1.shuffled(), wantState: true) else { throw EmbdiagError.usage("no merged state") }
        let merged = try MergeTests.roundTrip(m, "sample-merged.state")
        let p2 = try refShards.enumerated().map {
            try MergeTests.roundTrip(DepthPartial.pass2($0.element.0, shard: $0.element.1, other: false, configuration: c, merged: merged, referenceRows: n), "r\($0.offset).state")
        } + otherShards.enumerated().map {
            try MergeTests.roundTrip(DepthPartial.pass2($0.element.0, shard: $0.element.1, other: true, configuration: c, merged: merged, referenceRows: n), "o\($0.offset).state")
        }
        guard case .report(let report) = try StateMerge.merge(([merged] + p2).shuffled(), wantState: false) else { throw EmbdiagError.usage("no report") }
        return report
    }

    /// The merged report equals the single run's: parameters, notes, every metric and every
    /// table except the input column (shard paths) — exactly. Chord, spatial and Mahalanobis
    /// depths come from Float32 GEMMs, but `DepthReference.depths` puts every row at the same
    /// place of a block of the same shape in a single run and in a shard, so they agree to the
    /// last bit on one machine (kernel and thread count). Returns the largest depth difference.
    static func expectEqual(_ merged: Report, _ single: Report, _ what: String) -> Double {
        #expect(merged.parameters == single.parameters, "\(what)")
        #expect(single.notes.allSatisfy { merged.notes.contains($0) }, "\(what): \(single.notes) vs \(merged.notes)")
        #expect(merged.metrics == single.metrics, "\(what): \(zip(merged.metrics, single.metrics).filter { $0.0 != $0.1 })")
        for name in ["central_reference", "outlying_reference", "central_other", "outlying_other"] {
            #expect(merged.table(name)?.rows == single.table(name)?.rows, "\(what) \(name)")
        }
        let a = merged.table("depths")?.rows ?? [], b = single.table("depths")?.rows ?? []
        #expect(a.count == b.count && !a.isEmpty, "\(what)")
        #expect(a.map { Array($0.dropFirst()) } == b.map { Array($0.dropFirst()) }, "\(what): depths table")
        var worst = 0.0
        for (x, y) in zip(a, b) {
            if case .double(let u) = x[3], case .double(let v) = y[3] { worst = max(worst, abs(u - v)) }
        }
        return worst
    }

    @Test func sampleDepthMergeEqualsSingleRun() throws {
        let (ref, other) = Self.corpora()
        var cases: [(String, DepthConfiguration)] = [
            ("chord", Self.configuration(.tte, .chord)),
            ("spatial", Self.configuration(.spatial)),
            ("mahalanobis", Self.configuration(.mahalanobis)),
            ("cosine", Self.configuration(.tte)),
        ]
        // A sample at least as large as the reference: no sample, every reference row (leave-one-out by row).
        cases.append(("chord, no sample", Self.configuration(.tte, .chord, sample: 1000)))
        for (what, c) in cases {
            let single = try DepthAnalysis(reference: ref, others: [other], configuration: c).report()
            let merged = try Self.mergedReport(c)
            let worst = Self.expectEqual(merged, single, what)
            print("depth --partial --reference-sample \(what): max |merged − single| depth = \(worst)")
            #expect(merged.inputs.map(\.path) == ["ref-0.npy", "ref-1.npy", "ref-2.npy", "ref-3.npy", "new-0.npy", "new-1.npy"])
            #expect(single.parameters.contains { $0.key == "reference_sample" } == (c.referenceSample! < ref.count), "\(what)")
        }
    }

    @Test func sampleDepthRefusals() throws {
        let (ref, other) = Self.corpora()
        let c = Self.configuration(.tte, .chord)
        let refShards = Self.referenceCuts.enumerated().map { MergeTests.shard(ref, $0.element, name: "ref-\($0.offset).npy") }
        func pass1(_ k: Int, _ c: DepthConfiguration, rows: Int? = ref.count) throws -> LoadedState {
            LoadedState(path: "s\(k).state", state: try DepthPartial.pass1(refShards[k].0, shard: refShards[k].1, configuration: c, referenceRows: rows))
        }
        // --reference-rows is required with --reference-sample, and refused without it.
        #expect(throws: EmbdiagError.self) { try pass1(0, c, rows: nil) }
        var cosine = DepthConfiguration()
        cosine.seed = c.seed
        #expect(throws: EmbdiagError.self) { try pass1(0, cosine, rows: ref.count) }
        // A shard beyond the stated total.
        #expect(throws: EmbdiagError.self) { try pass1(3, c, rows: 300) }
        let states = try (0..<4).map { try pass1($0, c) }
        // Rows that do not add up to N: a missing last shard, or a wrong N on every shard.
        MergeTests.expectRefusal(Array(states.prefix(3)), wantState: true, "cover rows 0..<611")
        let wrongN = try (0..<4).map { try pass1($0, c, rows: 800) }
        MergeTests.expectRefusal(wrongN, wantState: true, "is 800")
        // Mixed parameters: another sample size, another N, no sample at all.
        var other151 = c
        other151.referenceSample = 151
        MergeTests.expectRefusal([states[0], states[1], try pass1(2, other151), states[3]], wantState: true, "parameter reference_sample")
        MergeTests.expectRefusal([states[0], states[1], try pass1(2, c, rows: 800), states[3]], wantState: true, "parameter reference_rows")
        var cosinePass1 = try pass1(2, cosine, rows: nil)
        cosinePass1.path = "cosine.state"
        MergeTests.expectRefusal([states[0], states[1], cosinePass1, states[3]], wantState: true, "parameter")
        // A state that lacks its sampled rows (a missing sample position), and one claiming another's.
        var emptied = states[2]
        emptied.state.arrays["sample_rows"] = .int64([])
        emptied.state.arrays["sample_positions"] = .int64([])
        emptied.state.arrays["sample_values"] = .float32([])
        MergeTests.expectRefusal([states[0], states[1], emptied, states[3]], wantState: true, "lacks reference row")
        var stolen = states[2]
        stolen.state.arrays = states[1].state.arrays
        stolen.state.arrays["rows"] = states[2].state.arrays["rows"]
        // Its ids lie outside its own rows: refused by the state's own checks, before the merge's.
        MergeTests.expectRefusal([states[0], states[1], stolen, states[3]], wantState: true, "outside its rows")
        // A merged sample state is not merged again (no tree), and pass 2 checks N.
        guard case .state(let m) = try StateMerge.merge(states, wantState: true) else { Issue.record("no state"); return }
        let merged = LoadedState(path: "merged.state", state: m)
        MergeTests.expectRefusal([merged], wantState: true, "already a merged")
        #expect(throws: EmbdiagError.self) { try DepthPartial.pass2(refShards[1].0, shard: refShards[1].1, other: false, configuration: c, merged: merged, referenceRows: 800) }
        #expect(throws: EmbdiagError.self) { try DepthPartial.pass2(refShards[1].0, shard: refShards[1].1, other: false, configuration: other151, merged: merged, referenceRows: ref.count) }
        _ = other
    }

    /// The CLI end to end (spatial depth): shards as .npy files, both passes, merge; the merged
    /// JSON against a single `--reference-sample` run; refusals exit 2 with one line.
    @Test func cliSampleDepthPartialAndMerge() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (ref, other) = Self.corpora()
        func write(_ e: Embeddings, _ r: Range<Int>, _ path: String) throws { try CLI.writeNpy(r.map { e.matrix.rowArray($0) }, to: path) }
        try write(ref, 0..<ref.count, "\(dir)/ref.npy")
        try write(other, 0..<other.count, "\(dir)/new.npy")
        for (k, r) in Self.referenceCuts.enumerated() { try write(ref, r, "\(dir)/ref-\(k).npy") }
        for (k, r) in Self.otherCuts.enumerated() { try write(other, r, "\(dir)/new-\(k).npy") }
        func run(_ a: [String]) throws {
            let r = try CLI.run(a)
            #expect(r.status == 0, "\(a.joined(separator: " ")): \(r.stderr)")
        }
        let options = ["--depth", "spatial", "--reference-sample", "150", "--seed", "7", "--top", "5"]
        let rows = ["--reference-rows", "\(ref.count)"]
        for (k, r) in Self.referenceCuts.enumerated() {
            try run(["depth", "\(dir)/ref-\(k).npy", "--partial", "\(dir)/r1-\(k).state", "--row-offset", "\(r.lowerBound)", "-q"] + options + rows)
        }
        try run(["merge"] + (0..<4).reversed().map { "\(dir)/r1-\($0).state" } + ["--state-out", "\(dir)/ref.state", "-q"])
        for (k, r) in Self.referenceCuts.enumerated() {
            try run(["depth", "\(dir)/ref-\(k).npy", "--partial", "\(dir)/r2-\(k).state", "--row-offset", "\(r.lowerBound)", "-q",
                     "--partial-pass", "2", "--directions", "\(dir)/ref.state"] + options + rows)
        }
        for (k, r) in Self.otherCuts.enumerated() {
            try run(["depth", "\(dir)/new-\(k).npy", "--partial", "\(dir)/o2-\(k).state", "--row-offset", "\(r.lowerBound)", "-q", "--other-corpus",
                     "--partial-pass", "2", "--directions", "\(dir)/ref.state"] + options + rows)
        }
        try run(["merge", "\(dir)/o2-1.state", "\(dir)/r2-2.state", "\(dir)/ref.state", "\(dir)/r2-0.state", "\(dir)/o2-0.state", "\(dir)/r2-3.state",
                 "\(dir)/r2-1.state", "--json", "\(dir)/merged.json", "-q"])
        try run(["depth", "\(dir)/ref.npy", "\(dir)/new.npy", "--json", "\(dir)/single.json", "-q"] + options)
        func json(_ path: String) throws -> [String: Any] {
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
        }
        let merged = try json("\(dir)/merged.json"), single = try json("\(dir)/single.json")
        let mm = merged["metrics"] as! [String: Any], sm = single["metrics"] as! [String: Any]
        #expect(Set(mm.keys) == Set(sm.keys))
        for (k, v) in sm { #expect("\(v)" == "\(mm[k] ?? "missing")", "\(k)") }  // exact (printed in full by JSON)
        #expect(NSDictionary(dictionary: merged["parameters"] as! [String: Any]) == NSDictionary(dictionary: single["parameters"] as! [String: Any]))
        // Refusals: exit 2, one line.
        let noRows = try CLI.run(["depth", "\(dir)/ref-1.npy", "--partial", "\(dir)/x.state", "--row-offset", "1"] + options)
        #expect(noRows.status == 2 && noRows.stderr.contains("--reference-rows") && noRows.stderr.split(separator: "\n").count == 1, "\(noRows.stderr)")
        let stray = try CLI.run(["depth", "\(dir)/ref.npy", "--reference-rows", "\(ref.count)", "--json", "\(dir)/x.json"] + options)
        #expect(stray.status == 2 && !FileManager.default.fileExists(atPath: "\(dir)/x.json"))
        let short = try CLI.run(["merge", "\(dir)/r1-0.state", "\(dir)/r1-1.state", "\(dir)/r1-2.state", "--state-out", "\(dir)/x.state"])
        #expect(short.status == 2 && short.stderr.contains("r1-2.state") && short.stderr.split(separator: "\n").count == 1, "\(short.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/x.state"))
    }
}
