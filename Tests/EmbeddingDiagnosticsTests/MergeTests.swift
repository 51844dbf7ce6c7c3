import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// `--partial` states and `embdiag merge` give the report of a single run over the
/// concatenated shards (Guides/Scale.md).
@Suite struct MergeTests {
    static let sentencesPath = CLI.repositoryRoot.appendingPathComponent("data/sentences/debian-minilm-l6-layer3.npy").path

    /// Uneven shard sizes (one of 1 row) that tile 0..<n.
    static func cuts(_ n: Int) -> [Range<Int>] {
        let bounds = [0, 1, 200, 433, 700, 1001, 1200, 1555, n]
        return zip(bounds, bounds.dropFirst()).map { $0..<$1 }
    }

    static func shard(_ e: Embeddings, _ r: Range<Int>, name: String) -> (Embeddings, ShardRecord) {
        var s = e.selecting(rows: Array(r))
        s.source.path = name
        s.source.sha256 = Checksum.sha256(Data(name.utf8))  // a distinct checksum per shard
        return (s, ShardRecord(id: name, rowOffset: r.lowerBound, rowCount: r.count, source: s.source))
    }

    /// Every state goes through the file format (encode, decode) as it would between machines.
    static func roundTrip(_ s: PartialState, _ path: String) throws -> LoadedState {
        let decoded = try PartialStateFile.decode(try PartialStateFile.encode(s), path: path)
        #expect(decoded == s)
        return LoadedState(path: path, state: decoded)
    }

    static func relative(_ a: Double, _ b: Double) -> Double { abs(a - b) / max(abs(a), abs(b), 1e-300) }

    /// Same metric keys; every number within `tolerance(key)` relative; text metrics equal except sha256.
    static func expectSameMetrics(_ merged: Report, _ single: Report, tolerance: (String) -> Double) {
        #expect(merged.metrics.map(\.key) == single.metrics.map(\.key))
        #expect(merged.parameters.map(\.key) == single.parameters.map(\.key))
        for (a, b) in zip(merged.metrics, single.metrics) where a.key != "sha256" {
            switch (a.value, b.value) {
            case (.double(let x), .double(let y)):
                #expect(relative(x, y) <= tolerance(a.key), "\(a.key): merged \(x) single \(y)")
            default:
                #expect(a.value == b.value, "\(a.key): merged \(a.value) single \(b.value)")
            }
        }
    }

    @Test func infoMergeEqualsSingleRun() throws {
        let read = try EmbeddingReader.read(Self.sentencesPath)
        // Problems in different shards: a NaN row, an Inf row, a zero row; labels duplicated across shards.
        let m = read.matrix.copy()
        m[5, 3] = .nan
        m[900, 0] = .infinity
        for j in 0..<m.cols { m[1300, j] = 0 }
        let labels = (0..<m.rows).map { $0 % 700 == 3 ? "dup" : ($0 == 1700 ? "row 2" : "row \($0)") }
        let e = Embeddings(matrix: m, labels: labels, source: read.source)
        let single = EmbeddingSummary(e).report()
        var states: [LoadedState] = []
        for (k, r) in Self.cuts(e.count).enumerated() {
            let (s, record) = Self.shard(e, r, name: "shard-\(k).npy")
            states.append(try Self.roundTrip(InfoPartial.state(s, shard: record), "s\(k).state"))
        }
        let merged = try #require(try StateMerge.merge(states.reversed(), wantState: false).report)
        Self.expectSameMetrics(merged, single) { _ in 1e-9 }
        #expect(merged.metric("sha256") == .null)
        #expect(merged.metric("nan_rows") == .int(1) && merged.metric("inf_rows") == .int(1) && merged.metric("zero_rows") == .int(1))
        #expect(merged.tables == single.tables)
        #expect(merged.inputs.map(\.path) == (0..<8).map { "shard-\($0).npy" })
        #expect(merged.inputs.map(\.rows) == Self.cuts(e.count).map(\.count))
        // Merge order does not change the report.
        var rng = SeededGenerator(seed: 11)
        let again = try #require(try StateMerge.merge(states.shuffled(using: &rng), wantState: false).report)
        #expect(again.metrics == merged.metrics && again.tables == merged.tables && again.inputs == merged.inputs)
    }

    static func anisotropyConfiguration() -> AnisotropyConfiguration {
        var c = AnisotropyConfiguration()
        c.pairSample = 3000
        c.partitionSample = 1000  // below n = 1800: the seeded partition sample spans the shards
        c.seed = 7
        c.isoScoreStarZeta = 0.5
        return c
    }

    /// Pass 1 per shard, the merged pass-1 state, pass 2 per shard, the final merge.
    static func anisotropyStates(_ e: Embeddings, _ c: AnisotropyConfiguration) throws -> (merged: LoadedState, pass2: [LoadedState]) {
        let shards = cuts(e.count).enumerated().map { shard(e, $0.element, name: "shard-\($0.offset).npy") }
        let pass1 = try shards.enumerated().map { try roundTrip(AnisotropyPartial.pass1($0.element.0, shard: $0.element.1, configuration: c), "p1-\($0.offset).state") }
        guard case .state(let m) = try StateMerge.merge(pass1.shuffled(), wantState: true) else { throw EmbdiagError.usage("no state") }
        let merged = try roundTrip(m, "merged.state")
        let pass2 = try shards.enumerated().map {
            try roundTrip(AnisotropyPartial.pass2($0.element.0, shard: $0.element.1, configuration: c, merged: merged), "p2-\($0.offset).state")
        }
        return (merged, pass2)
    }

    @Test func anisotropyMergeEqualsSingleRun() throws {
        let e = try EmbeddingReader.read(Self.sentencesPath)
        let c = Self.anisotropyConfiguration()
        let single = try AnisotropyAnalysis(e, configuration: c).report()
        let (merged, pass2) = try Self.anisotropyStates(e, c)
        let report = try #require(try StateMerge.merge([merged] + pass2.reversed(), wantState: false).report)
        // Sums, sampled cosines and the partition function (same sample, same directions up to the
        // covariance's float noise) to 1e-9; covariance-spectrum metrics to the single run's own
        // Float32 SSYRK noise (Guides/Architecture.md, Determinism rule 2).
        let spectral: Set<String> = ["isoscore", "isoscore_star", "effective_rank", "participation_ratio", "partition_isotropy"]
        Self.expectSameMetrics(report, single) { key in spectral.contains(key) || key.hasPrefix("explained_variance") ? 1e-6 : 1e-9 }
        #expect(report.metric("partition_isotropy")?.number != nil)
        #expect(report.parameters == single.parameters)
        #expect(report.table("rogue_dimensions")?.rows.map { $0[0] } == single.table("rogue_dimensions")?.rows.map { $0[0] })
        #expect(report.inputs.count == 8)
        // Argument order does not matter.
        var rng = SeededGenerator(seed: 11)
        let again = try #require(try StateMerge.merge(pass2.shuffled(using: &rng) + [merged], wantState: false).report)
        #expect(again.metrics == report.metrics)
    }

    /// Rows sharing an offset far larger than their spread (3,000 + noise of sd 2e-3 … 2e-4): the
    /// merged covariance comes from centred per-shard sums (Chan et al.), not XᵀX − nμμᵀ, which
    /// cancels most of Float64's digits here. The merged spectrum equals a Float64 two-pass
    /// covariance of the same Float32 rows (the definition) and the single run.
    @Test func anisotropyMergeKeepsTheSpectrumOfOffsetRows() throws {
        var rng = SeededGenerator(seed: 21)
        let n = 2_000, d = 8
        let sd = (0..<d).map { 2e-3 * pow(0.1, Double($0) / Double(d - 1)) }
        let rows = (0..<n).map { _ in (0..<d).map { Float(3_000 + sd[$0] * rng.nextGaussian()) } }
        let e = Embeddings(matrix: Matrix(rows: n, cols: d, values: rows.flatMap { $0 }), labels: nil, name: "offset.npy")
        var c = Self.anisotropyConfiguration()
        c.pairSample = 100
        let single = try AnisotropyAnalysis(e, configuration: c).report()
        let (merged, pass2) = try Self.anisotropyStates(e, c)
        let report = try #require(try StateMerge.merge([merged] + pass2, wantState: false).report)
        // The definition: a Float64 two-pass covariance of the Float32 rows, and its IsoScore.
        let mean = (0..<d).map { j in rows.reduce(0.0) { $0 + Double($1[j]) } / Double(n) }
        var cov = [Double](repeating: 0, count: d * d)
        for r in rows { for i in 0..<d { for j in 0..<d { cov[i * d + j] += (Double(r[i]) - mean[i]) * (Double(r[j]) - mean[j]) / Double(n - 1) } } }
        let values = try LAPACK.symmetricEigen(cov, dimension: d).values.map(abs)
        let pr = pow(values.reduce(0, +), 2) / values.reduce(0) { $0 + $1 * $1 }
        let isoscore = (pr - 1) / Double(d - 1)
        for r in [report, single] {
            let got = try #require(r.metric("isoscore")?.number)
            #expect(abs(got - isoscore) <= 1e-6 * isoscore, "\(got) vs \(isoscore)")
        }
    }

    @Test func neighborsMergeEqualsSingleRun() throws {
        let read = try EmbeddingReader.read(Self.sentencesPath)
        // Exact ties across shards: rows 10 and 20 copied into later shards.
        let m = read.matrix.copy()
        for j in 0..<m.cols { m[1500, j] = m[10, j]; m[700, j] = m[20, j]; m[701, j] = m[20, j] }
        let labels = (0..<m.rows).map { "item \($0)" }
        let gallery = Embeddings(matrix: m, labels: labels, source: read.source)
        let queries = Embeddings(matrix: read.matrix.rows(0..<40).copy(), labels: (0..<40).map { "q\($0)" }, name: "queries.npy")
        let single = try CosineNeighbors(corpus: gallery, queries: queries, k: 7).report()
        let states = try Self.cuts(gallery.count).enumerated().map { k, r -> LoadedState in
            let (s, record) = Self.shard(gallery, r, name: "g-\(k).npy")
            return try Self.roundTrip(NeighborsPartial.state(gallery: s, queries: queries, k: 7, shard: record), "n\(k).state")
        }
        let merged = try #require(try StateMerge.merge(states.shuffled(), wantState: false).report)
        #expect(merged.metrics == single.metrics)
        #expect(merged.parameters == single.parameters)
        #expect(merged.tables == single.tables)
        #expect(merged.charts == single.charts)
        #expect(merged.inputs.count == 9 && merged.inputs.last?.path == "queries.npy")
        // The tie rule: query 10's list holds row 10 and its copy 1500 (same Float64 score), smaller row first.
        let rows = single.table("neighbors")!.rows.filter { $0[0] == .int(10) }.map { $0[3] }
        #expect(Array(rows.prefix(2)) == [.int(10), .int(1500)])
        // Different queries or k: refused.
        let (s0, r0) = Self.shard(gallery, 0..<1, name: "g-0.npy")
        let otherK = LoadedState(path: "k.state", state: try NeighborsPartial.state(gallery: s0, queries: queries, k: 5, shard: r0))
        Self.expectRefusal([otherK] + states.dropFirst(), "parameter k")
        let otherQueries = Embeddings(matrix: read.matrix.rows(1..<41).copy(), labels: (0..<40).map { "q\($0)" }, name: "queries.npy")
        let otherQ = LoadedState(path: "q.state", state: try NeighborsPartial.state(gallery: s0, queries: otherQueries, k: 7, shard: r0))
        Self.expectRefusal([otherQ] + states.dropFirst(), "queries_digest")
    }

    @Test func depthMergeEqualsSingleRun() throws {
        let dir = CLI.repositoryRoot.appendingPathComponent("data/sentences/by-section")
        var options = ReadOptions()
        options.labelsPath = dir.appendingPathComponent("games.txt").path
        let games = try EmbeddingReader.read(dir.appendingPathComponent("games.npy").path, options: options)
        options.labelsPath = dir.appendingPathComponent("fonts.txt").path
        let fonts = try EmbeddingReader.read(dir.appendingPathComponent("fonts.npy").path, options: options)
        var c = DepthConfiguration()
        c.top = 7
        // A merged run keeps the normal approximation: the single run without permutations is its match.
        c.permutations = 0
        let single = try DepthAnalysis(reference: games, others: [fonts], configuration: c).report()
        func cut(_ n: Int, _ parts: Int) -> [Range<Int>] {
            let b = (0...parts).map { $0 * n / parts }
            return zip(b, b.dropFirst()).map { $0..<$1 }
        }
        let refShards = cut(games.count, 3).enumerated().map { Self.shard(games, $0.element, name: "games-\($0.offset).npy") }
        let otherShards = cut(fonts.count, 2).enumerated().map { Self.shard(fonts, $0.element, name: "fonts-\($0.offset).npy") }
        let p1 = try refShards.enumerated().map { try Self.roundTrip(DepthPartial.pass1($0.element.0, shard: $0.element.1, configuration: c), "d1-\($0.offset).state") }
        let m = try #require(try StateMerge.merge(p1.reversed(), wantState: true).state)
        let merged = try Self.roundTrip(m, "depth-merged.state")
        let p2 = try refShards.enumerated().map { try Self.roundTrip(DepthPartial.pass2($0.element.0, shard: $0.element.1, other: false, configuration: c, merged: merged), "r\($0.offset).state") }
            + otherShards.enumerated().map { try Self.roundTrip(DepthPartial.pass2($0.element.0, shard: $0.element.1, other: true, configuration: c, merged: merged), "o\($0.offset).state") }
        let report = try #require(try StateMerge.merge([merged] + p2.shuffled(), wantState: false).report)
        Self.expectSameMetrics(report, single) { _ in 1e-9 }
        for name in ["central_reference", "outlying_reference", "central_other", "outlying_other"] {
            #expect(report.table(name)?.rows == single.table(name)?.rows, "\(name)")
        }
        #expect(report.table("depths")?.rows.map { Array($0.dropFirst()) } == single.table("depths")?.rows.map { Array($0.dropFirst()) })
        #expect(report.inputs.map(\.path) == ["games-0.npy", "games-1.npy", "games-2.npy", "fonts-0.npy", "fonts-1.npy"])
        // Each corpus's rows are counted against its own total: the note says which were checked,
        // a missing last shard of the compared corpus is refused by --other-rows.
        #expect(report.notes.contains { $0.contains("the reference's rows 0..<\(games.count) (shards cannot know") && $0.contains("the compared corpus's rows 0..<\(fonts.count)") })
        let counted = try #require(try StateMerge.merge([merged] + p2, wantState: false, expectedRows: games.count, expectedOtherRows: fonts.count).report)
        #expect(counted.notes.contains { $0.contains("all \(games.count) rows \(Setting.expectedRows) gives") && $0.contains("all \(fonts.count) rows \(Setting.expectedOtherRows) gives") })
        let withoutLastOther = Array(p2.dropLast())
        #expect(throws: EmbdiagError.self) { try StateMerge.merge([merged] + withoutLastOther, wantState: false, expectedRows: games.count, expectedOtherRows: fonts.count) }
        #expect(throws: EmbdiagError.self) { try StateMerge.merge([merged] + p2, wantState: false, expectedRows: games.count + fonts.count) }
        #expect(throws: EmbdiagError.self) { try StateMerge.merge([merged] + p2.prefix(3), wantState: false, expectedOtherRows: fonts.count) }
        // A compared-corpus shard passed off as a reference shard, and chord distance: refused.
        #expect(throws: EmbdiagError.self) { try DepthPartial.pass2(otherShards[0].0, shard: otherShards[0].1, other: false, configuration: c, merged: merged) }
        var chord = c
        chord.distance = .chord
        #expect(throws: EmbdiagError.self) { try DepthPartial.pass1(refShards[0].0, shard: refShards[0].1, configuration: chord) }
    }

    /// Pass-1 states merged in a tree (groups, then the groups) give the flat merge's sums up to
    /// Float64 rounding, and the same report.
    @Test func anisotropyPass1MergesAsATree() throws {
        let e = try EmbeddingReader.read(Self.sentencesPath)
        let c = Self.anisotropyConfiguration()
        let shards = Self.cuts(e.count).enumerated().map { Self.shard(e, $0.element, name: "shard-\($0.offset).npy") }
        let pass1 = shards.enumerated().map { LoadedState(path: "p1-\($0.offset).state", state: AnisotropyPartial.pass1($0.element.0, shard: $0.element.1, configuration: c)) }
        guard case .state(let flat) = try StateMerge.merge(pass1, wantState: true),
              case .state(let left) = try StateMerge.merge(Array(pass1[..<5]), wantState: true),
              case .state(let right) = try StateMerge.merge(Array(pass1[5...]), wantState: true),
              case .state(let tree) = try StateMerge.merge([LoadedState(path: "right.state", state: right), LoadedState(path: "left.state", state: left)], wantState: true)
        else { Issue.record("no state"); return }
        #expect(tree.shards == flat.shards)
        // A group that does not start at row 0 is not a basis for pass 2.
        #expect(throws: EmbdiagError.self) { try AnisotropyPartial.pass2(shards[6].0, shard: shards[6].1, configuration: c, merged: LoadedState(path: "right.state", state: right)) }
        let a = try flat.array("centred_gram", path: nil).doubles("centred_gram", path: nil), b = try tree.array("centred_gram", path: nil).doubles("centred_gram", path: nil)
        let scale = a.map(abs).max()!
        #expect(zip(a, b).allSatisfy { abs($0 - $1) <= 1e-12 * scale })
        // A pass-2 state of the tree merge cannot be mixed with one of the flat merge.
        let treeState = LoadedState(path: "tree.state", state: tree), flatState = LoadedState(path: "flat.state", state: flat)
        if tree.basis != flat.basis {
            let p2tree = try AnisotropyPartial.pass2(shards[0].0, shard: shards[0].1, configuration: c, merged: treeState)
            let p2flat = try AnisotropyPartial.pass2(shards[1].0, shard: shards[1].1, configuration: c, merged: flatState)
            Self.expectRefusal([treeState, LoadedState(path: "a.state", state: p2tree), LoadedState(path: "b.state", state: p2flat)], "basis")
        }
    }

    static func expectRefusal(_ states: [LoadedState], wantState: Bool = false, expectedRows: Int? = nil, _ fragment: String) {
        do {
            _ = try StateMerge.merge(states, wantState: wantState, expectedRows: expectedRows)
            Issue.record("merge accepted states it must refuse (\(fragment))")
        } catch let error as EmbdiagError {
            #expect(error.description.contains(fragment), "\(error.description)")
            #expect(!error.description.contains("\n"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func mergeRefusesInconsistentStates() throws {
        let read = try EmbeddingReader.read(Self.sentencesPath)
        let e = read.selecting(rows: Array(0..<300))
        let parts = [0..<100, 100..<200, 200..<300].enumerated().map { Self.shard(e, $0.element, name: "part-\($0.offset).npy") }
        let states = parts.enumerated().map { LoadedState(path: "s\($0.offset).state", state: InfoPartial.state($0.element.0, shard: $0.element.1)) }
        Self.expectRefusal(states + [LoadedState(path: "copy.state", state: states[1].state)], "duplicates")
        Self.expectRefusal([states[0], states[2]], "rows 100..<200 are missing")
        Self.expectRefusal([states[1], states[2]], "rows 0..<100 are missing")
        // A missing last shard tiles: only the expected total tells.
        let firstTwo = try #require(try StateMerge.merge([states[0], states[1]], wantState: false).report)
        #expect(firstTwo.notes.contains { $0.contains("a missing last shard is only noticed with \(Setting.expectedRows)") })
        Self.expectRefusal([states[0], states[1]], expectedRows: 300, "rows 200..<300 are missing (a last shard?)")
        Self.expectRefusal(states, expectedRows: 250, "more than the 250")
        Self.expectRefusal(states, expectedRows: 0, "at least 1")
        let complete = try #require(try StateMerge.merge(states, wantState: false, expectedRows: 300).report)
        #expect(throws: EmbdiagError.self) { try StateMerge.merge(states, wantState: false, expectedOtherRows: 300) }
        #expect(complete.notes.contains { $0.contains("all 300 rows") })
        var shifted = states[1]
        shifted.state.shards[0].rowOffset = 50
        Self.expectRefusal([states[0], shifted, states[2]], "overlap")
        var otherVersion = states[1]
        otherVersion.state.toolVersion = "0.0.1"
        Self.expectRefusal([states[0], otherVersion, states[2]], "embdiag version")
        var c = AnisotropyConfiguration()
        let a0 = LoadedState(path: "a0.state", state: AnisotropyPartial.pass1(parts[0].0, shard: parts[0].1, configuration: c))
        c.pairSample = 10
        let a1 = LoadedState(path: "a1.state", state: AnisotropyPartial.pass1(parts[1].0, shard: parts[1].1, configuration: c))
        Self.expectRefusal([a0, a1], wantState: true, "parameter pair_sample")
        Self.expectRefusal([states[0], a1], "analyzer")
        c.pairSample = 100_000
        c.seed = 1
        let a1seed = LoadedState(path: "a1.state", state: AnisotropyPartial.pass1(parts[1].0, shard: parts[1].1, configuration: c))
        Self.expectRefusal([a0, a1seed], wantState: true, "seed")
        // Pass-1 states alone do not make a report: the partition function needs pass 2.
        let a1same = LoadedState(path: "a1.state", state: AnisotropyPartial.pass1(parts[1].0, shard: parts[1].1, configuration: AnisotropyConfiguration()))
        Self.expectRefusal([a0, a1same], "\(Setting.stateOut)")
    }

    @Test func pass2RefusesAnotherMergeOrShard() throws {
        let read = try EmbeddingReader.read(Self.sentencesPath)
        let e = read.selecting(rows: Array(0..<400))
        var c = AnisotropyConfiguration()
        c.pairSample = 500
        let parts = [0..<150, 150..<400].enumerated().map { Self.shard(e, $0.element, name: "part-\($0.offset).npy") }
        let p1 = parts.enumerated().map { LoadedState(path: "p\($0.offset).state", state: AnisotropyPartial.pass1($0.element.0, shard: $0.element.1, configuration: c)) }
        let m = try #require(try StateMerge.merge(p1, wantState: true).state)
        let merged = LoadedState(path: "merged.state", state: m)
        // A shard that was not in the pass-1 merge.
        let (stranger, record) = Self.shard(e, 150..<400, name: "other.npy")
        #expect(throws: EmbdiagError.self) { try AnisotropyPartial.pass2(stranger, shard: record, configuration: c, merged: merged) }
        // Other parameters than pass 1.
        var other = c
        other.pairSample = 501
        #expect(throws: EmbdiagError.self) { try AnisotropyPartial.pass2(parts[0].0, shard: parts[0].1, configuration: other, merged: merged) }
        // Pass-2 states of another pass-1 merge.
        let p2 = try parts.map { try AnisotropyPartial.pass2($0.0, shard: $0.1, configuration: c, merged: merged) }
        // (Another merge that is itself consistent: the first direction negated is still an
        // eigenvector, so only the basis tells the pass-2 states apart. Directions that are no
        // eigenvectors are refused in the merged state itself: StateFileForgeryTests.)
        var foreign = m
        guard case .float32(var flipped) = m.arrays["directions"]! else { Issue.record("directions"); return }
        for j in 0..<e.dimension { flipped[j] = -flipped[j] }
        foreign.arrays["directions"] = .float32(flipped)
        foreign.basis = AnisotropyPartial.basis(of: foreign)
        Self.expectRefusal([LoadedState(path: "foreign.state", state: foreign)] + p2.enumerated().map { LoadedState(path: "q\($0.offset).state", state: $0.element) }, "another pass-1 merge")
        // Missing pass-2 shard.
        Self.expectRefusal([merged, LoadedState(path: "q0.state", state: p2[0])], "cover shards")
    }

    @Test func stateFileRejectsDamage() throws {
        let e = try EmbeddingReader.read(Self.sentencesPath).selecting(rows: Array(0..<10))
        let (s, record) = Self.shard(e, 0..<10, name: "x.npy")
        let data = try PartialStateFile.encode(InfoPartial.state(s, shard: record))
        #expect(throws: EmbdiagError.self) { try PartialStateFile.decode(data.prefix(data.count - 9), path: "cut.state") }
        #expect(throws: EmbdiagError.self) { try PartialStateFile.decode(Data(repeating: 0xFF, count: 64), path: "junk.state") }
        // A safetensors file that is not an embdiag state.
        var plain = Data()
        let header = Data("{\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}".utf8)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { plain.append(contentsOf: $0) }
        plain.append(header)
        plain.append(Data(count: 4))
        #expect(throws: EmbdiagError.self) { try PartialStateFile.decode(plain, path: "plain.safetensors") }
    }

    /// The CLI end to end: shards as .npy files, --partial per shard, merge, JSON compared with a
    /// single run over the whole file; refusals exit 2 with one line.
    @Test func cliPartialAndMerge() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let e = try EmbeddingReader.read(Self.sentencesPath)
        let cuts = [0..<600, 600..<1250, 1250..<e.count]
        var shardPaths: [String] = []
        for (k, r) in cuts.enumerated() {
            let p = "\(dir)/shard-\(k).npy"
            try CLI.writeNpy(r.map { e.matrix.rowArray($0) }, to: p)
            shardPaths.append(p)
        }
        func run(_ a: [String]) throws -> CLI.Result {
            let r = try CLI.run(a)
            #expect(r.status == 0, "\(a.joined(separator: " ")): \(r.stderr)")
            return r
        }
        func metrics(_ path: String) throws -> [String: Any] {
            let o = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
            return o["metrics"] as! [String: Any]
        }
        func compare(_ merged: [String: Any], _ single: [String: Any], tolerance: (String) -> Double) {
            #expect(Set(merged.keys) == Set(single.keys))
            for (k, v) in single where k != "sha256" {
                if let x = v as? Double, let y = merged[k] as? Double { #expect(Self.relative(x, y) <= tolerance(k), "\(k): \(y) vs \(x)") }
                else { #expect("\(v)" == "\(merged[k] ?? "missing")", "\(k)") }
            }
        }
        // info
        for (k, p) in shardPaths.enumerated() { _ = try run(["info", p, "--partial", "\(dir)/i\(k).state", "--row-offset", "\(cuts[k].lowerBound)"]) }
        _ = try run(["merge", "\(dir)/i2.state", "\(dir)/i0.state", "\(dir)/i1.state", "--json", "\(dir)/info-merged.json", "-q"])
        _ = try run(["info", Self.sentencesPath, "--json", "\(dir)/info-single.json", "-q"])
        compare(try metrics("\(dir)/info-merged.json"), try metrics("\(dir)/info-single.json")) { _ in 1e-9 }
        // anisotropy, two passes
        for (k, p) in shardPaths.enumerated() { _ = try run(["anisotropy", p, "--partial", "\(dir)/a\(k).state", "--row-offset", "\(cuts[k].lowerBound)", "--pairs", "5000"]) }
        _ = try run(["merge", "\(dir)/a0.state", "\(dir)/a1.state", "\(dir)/a2.state", "--state-out", "\(dir)/merged.state", "-q"])
        for (k, p) in shardPaths.enumerated() {
            _ = try run(["anisotropy", p, "--partial", "\(dir)/b\(k).state", "--row-offset", "\(cuts[k].lowerBound)", "--pairs", "5000",
                         "--partial-pass", "2", "--directions", "\(dir)/merged.state"])
        }
        _ = try run(["merge", "\(dir)/merged.state", "\(dir)/b1.state", "\(dir)/b0.state", "\(dir)/b2.state", "--json", "\(dir)/an-merged.json", "-q"])
        _ = try run(["anisotropy", Self.sentencesPath, "--pairs", "5000", "--json", "\(dir)/an-single.json", "-q"])
        let spectral: Set<String> = ["isoscore", "effective_rank", "participation_ratio", "partition_isotropy"]
        compare(try metrics("\(dir)/an-merged.json"), try metrics("\(dir)/an-single.json")) { k in spectral.contains(k) || k.hasPrefix("explained_variance") ? 1e-6 : 1e-9 }
        // Refusals: exit 2, one line naming the file.
        let duplicate = try CLI.run(["merge", "\(dir)/i0.state", "\(dir)/i1.state", "\(dir)/i1.state", "\(dir)/i2.state", "-q"])
        #expect(duplicate.status == 2 && duplicate.stderr.split(separator: "\n").count == 1 && duplicate.stderr.contains("i1.state"))
        let gap = try CLI.run(["merge", "\(dir)/i0.state", "\(dir)/i2.state", "-q"])
        #expect(gap.status == 2 && gap.stderr.contains("missing"))
        let pass1Only = try CLI.run(["merge", "\(dir)/a0.state", "\(dir)/a1.state", "\(dir)/a2.state", "--json", "\(dir)/x.json"])
        #expect(pass1Only.status == 2 && !FileManager.default.fileExists(atPath: "\(dir)/x.json"))
        let noOffset = try CLI.run(["info", shardPaths[0], "--partial", "\(dir)/z.state"])
        #expect(noOffset.status == 2 && noOffset.stderr.contains("--row-offset"))
        let transform = try CLI.run(["anisotropy", shardPaths[0], "--partial", "\(dir)/z.state", "--row-offset", "0", "--transform", "center"])
        #expect(transform.status == 2)
    }
}

extension MergeOutcome {
    /// The report, or nil (for `#require`: a merge that gave the other outcome fails the test).
    var report: Report? { if case .report(let r) = self { return r } else { return nil } }
    var state: PartialState? { if case .state(let s) = self { return s } else { return nil } }
}
