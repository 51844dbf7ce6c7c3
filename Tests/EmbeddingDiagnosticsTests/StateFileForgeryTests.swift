import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// Forged states whose checksum was recomputed (hostile pass 3, F4): Guides/Scale.md promises
/// that the payload checks and merge rules hold for them, and that a key the analyzer never
/// writes is exit 2 naming the file. Each forgery below was accepted before (NaN moments in the
/// merged report, a row listed three times as all-zero, a negative M2, min above max, an unknown
/// parameter blamed on the honest file, has_labels 7, an extra tensor or header key, a SHA-256
/// 'zz', source rows that are not the shard's); every kind of state is covered, field by field.
extension StateFileHostileTests {
    /// `state` after `edit`, encoded with a valid checksum (what a forger who recomputes it writes).
    static func forged(_ state: PartialState, _ edit: (inout PartialState) -> Void) throws -> Data {
        var s = state
        edit(&s)
        return PartialStateFile.seal(try PartialStateFile.encode(s))
    }

    static func forgedHeader(_ state: PartialState, _ edit: (inout [String: Any]) -> Void) throws -> Data {
        PartialStateFile.seal(try editState(try PartialStateFile.encode(state), edit))
    }

    /// 40 × 6 Gaussian rows with an all-zero row (3), a NaN row (5), an infinite row (6) and
    /// repeated labels, cut at row 20: two info states, both decoded from their files.
    static func gaussianInfoStates() throws -> (first: PartialState, second: PartialState) {
        var rng = SeededGenerator(seed: 31)
        let m = rng.gaussianMatrix(rows: 40, cols: 6)
        for j in 0..<6 { m[3, j] = 0; m[5, j] = j == 2 ? .nan : 1; m[6, j] = j == 4 ? .infinity : 1 }
        let e = Embeddings(matrix: m, labels: (0..<40).map { "w\($0 % 7)" }, name: "g.npy")
        let (a, ra) = MergeTests.shard(e, 0..<20, name: "g0.npy")
        let (b, rb) = MergeTests.shard(e, 20..<40, name: "g1.npy")
        return (try PartialStateFile.decode(try PartialStateFile.encode(InfoPartial.state(a, shard: ra)), path: "g0.state"),
                try PartialStateFile.decode(try PartialStateFile.encode(InfoPartial.state(b, shard: rb)), path: "g1.state"))
    }

    /// The honest states merge (the forgeries below start from states that are valid).
    @Test func honestGaussianInfoStatesMerge() throws {
        let (a, b) = try Self.gaussianInfoStates()
        let report = try #require(try StateMerge.merge([LoadedState(path: "g0.state", state: a), LoadedState(path: "g1.state", state: b)], wantState: false).report)
        #expect(report.metric("zero_rows") == .int(1) && report.metric("nan_rows") == .int(1) && report.metric("inf_rows") == .int(1))
    }

    /// norm_moments = [count, min, max, mean, M2, unit count]: NaN/Inf anywhere, a negative or
    /// impossible M2, min above max, a mean outside them, counts that are not the finite rows.
    @Test(arguments: [
        (3, Double.nan, "NaN or infinite"), (3, Double.infinity, "NaN or infinite"), (1, Double.nan, "NaN or infinite"),
        (2, -Double.infinity, "NaN or infinite"), (4, Double.nan, "NaN or infinite"),
        (4, -5.0, "M2 -5.0"), (4, 1e9, "M2 1000000000.0"), (1, 100.0, "min 100.0"), (1, -1.0, "min -1.0"),
        (3, 1000.0, "mean 1000.0"), (0, 17.0, "counts 17.0 norms, but 18 of its 20 rows are finite"), (0, -1.0, "counts -1.0 norms"),
        (5, 19.0, "unit-norm rows"), (5, 0.5, "unit-norm rows"),
    ])
    func forgedNormMoments(entry: Int, value: Double, words: String) throws {
        let (a, _) = try Self.gaussianInfoStates()
        let data = try Self.forged(a) { s in
            guard case .float64(var m) = s.arrays["norm_moments"]! else { return }
            m[entry] = value
            s.arrays["norm_moments"] = .float64(m)
        }
        Self.expectRefused(data, path: "f.state", "'norm_moments'")
        Self.expectRefused(data, path: "f.state", words)
    }

    /// Every row list of an info state: ids listed twice, out of order, outside the shard, and a
    /// row in two lists that exclude each other.
    @Test(arguments: ["null_rows", "nan_rows", "inf_rows", "zero_rows"])
    func forgedInfoRowLists(name: String) throws {
        let (a, _) = try Self.gaussianInfoStates()
        for (ids, words) in [([5, 5, 5], "lists row 5 twice"), ([9, 8], "lists row 8 after row 9"), ([25], "lists row 25, outside its rows 0..<20")] {
            let data = try Self.forged(a) { $0.arrays[name] = .int64(ids.map(Int64.init)) }
            Self.expectRefused(data, path: "f.state", "'\(name)' \(words)")
        }
        // The NaN row also listed as all-zero; a NaN row also listed as null.
        Self.expectRefused(try Self.forged(a) { $0.arrays["zero_rows"] = .int64([3, 5]) }, path: "f.state", "'zero_rows' lists row 5, which is also listed as null, NaN or infinite")
        Self.expectRefused(try Self.forged(a) { $0.arrays["null_rows"] = .int64([5]) }, path: "f.state", "both list row 5")
    }

    /// Flags, labels, extra arrays, parameters, seed, pass and basis of an info state.
    @Test func forgedInfoFields() throws {
        let (a, _) = try Self.gaussianInfoStates()
        let cases: [(String, (inout PartialState) -> Void)] = [
            ("'has_labels' is 7 (expected 0 or 1)", { $0.arrays["has_labels"] = .int64([7]) }),
            ("'has_labels' is -1", { $0.arrays["has_labels"] = .int64([-1]) }),
            ("an array 'extra' that info pass-1 states never have", { $0.arrays["extra"] = .int64([7]) }),
            ("an array 'first_labels_bytes' that info pass-1 states never have", { $0.arrays["has_labels"] = .int64([0]) }),
            ("unknown parameter k", { $0.parameters["k"] = "10" }),
            ("seed 5", { $0.seed = 5 }),
            ("pass 2: info states have one pass", { $0.pass = 2 }),
            ("has a basis", { $0.basis = String(repeating: "a", count: 64) }),
            ("'labels_counts' does not add up", { $0.arrays["labels_counts"] = .int64([20, 0, 0, 0, 0, 0, 0]) }),
            ("lists 'w1' twice", { s in
                let (b, l) = StateArray.strings(["w0", "w1", "w1", "w3", "w4", "w5", "w6"])
                s.arrays["labels_bytes"] = b
                s.arrays["labels_lengths"] = l
            }),
            ("'first_labels' lists 'zz'", { s in
                let (b, l) = StateArray.strings((0..<20).map { $0 == 4 ? "zz" : "w\($0 % 7)" })
                s.arrays["first_labels_bytes"] = b
                s.arrays["first_labels_lengths"] = l
            }),
        ]
        for (words, edit) in cases { Self.expectRefused(try Self.forged(a, edit), path: "f.state", words) }
    }

    /// Header fields: an extra top-level, shard or source key, a malformed SHA-256, source rows or
    /// dimension that are not the shard's, a source path that is not one printable line, another
    /// tool, a malformed basis.
    @Test func forgedHeaderFields() throws {
        let (a, _) = try Self.gaussianInfoStates()
        func source(_ edit: @escaping (inout [String: Any]) -> Void) -> (inout [String: Any]) -> Void {
            { s in
                var list = Self.shards(s)
                var src = list[0]["source"] as! [String: Any]
                edit(&src)
                list[0]["source"] = src
                s["shards"] = list
            }
        }
        let cases: [(String, (inout [String: Any]) -> Void)] = [
            ("state header has an unknown key 'extra'", { $0["extra"] = 1 }),
            ("shard 1 has an unknown key 'note'", { s in var l = Self.shards(s); l[0]["note"] = "x"; s["shards"] = l }),
            ("shard 1's source has an unknown key 'owner'", source { $0["owner"] = "x" }),
            ("source.sha256 'zz' is not a SHA-256", source { $0["sha256"] = "zz" }),
            ("is not a SHA-256", source { $0["sha256"] = String(repeating: "A", count: 64) }),
            ("has source.rows 1000000000 but row_count 20", source { $0["rows"] = 1_000_000_000 }),
            ("has source.dim 7, the state's dimension is 6", source { $0["dim"] = 7 }),
            ("source.path is not one printable line", source { $0["path"] = "a\nb.npy" }),
            ("source.path is not one printable line", source { $0["path"] = "a\u{1B}[2Jb.npy" }),
            ("source.path is empty", source { $0["path"] = "" }),
            ("shard_id is not one printable line", { s in var l = Self.shards(s); l[0]["shard_id"] = "x\ry"; s["shards"] = l }),
            ("names tool 'other'", { $0["tool"] = "other" }),
            ("basis 'zz' is not a SHA-256", { $0["basis"] = "zz" }),
        ]
        for (words, edit) in cases { Self.expectRefused(try Self.forgedHeader(a, edit), path: "f.state", words) }
    }

    /// A source path is shown as recorded: merge never opens it, so any printable path is
    /// accepted, and the report says the inputs are as recorded in the states.
    @Test func sourcePathIsShownAsRecorded() throws {
        let (a, b) = try Self.gaussianInfoStates()
        let data = try Self.forgedHeader(a) { s in
            var list = Self.shards(s)
            var src = list[0]["source"] as! [String: Any]
            src["path"] = "/etc/shadow"
            list[0]["source"] = src
            s["shards"] = list
        }
        let read = try PartialStateFile.decode(data, path: "f.state")
        let report = try #require(try StateMerge.merge([LoadedState(path: "f.state", state: read), LoadedState(path: "g1.state", state: b)], wantState: false).report)
        #expect(report.inputs.first?.path == "/etc/shadow")
        #expect(report.notes.contains { $0.contains("paths and SHA-256s recorded in the states: merge does not open the input files") })
    }

    /// The unknown parameter is refused in the forged file itself, in either order of the
    /// arguments (it was blamed on the honest file: "i1.state: parameter k = (unset) differs").
    @Test func unknownParameterNamesTheForgedFile() throws {
        let (a, b) = try Self.gaussianInfoStates()
        let data = try Self.forged(a) { $0.parameters["k"] = "10" }
        Self.expectRefused(data, path: "f.state", "unknown parameter k")
        // In memory (a library caller): the merge checks each state before comparing them.
        var forgedState = a
        forgedState.parameters["k"] = "10"
        for order in [[LoadedState(path: "f.state", state: forgedState), LoadedState(path: "g1.state", state: b)],
                      [LoadedState(path: "g1.state", state: b), LoadedState(path: "f.state", state: forgedState)]] {
            Self.expectMergeRefused(order, "f.state: partial state has an unknown parameter k")
        }
    }

    /// neighbors: an id twice or outside the shard in a query's list, a score outside [-1, 1],
    /// k_shard that is not min(k, rows), a label row listed twice, an unknown key in the queries' source.
    @Test func forgedNeighborsState() throws {
        let (name, data) = try #require(try Self.seedStates().first { $0.0 == "neighbors-1" })
        let s = try PartialStateFile.decode(data, path: name)
        guard case .int64(let ids) = s.arrays["neighbor_rows"]!, case .float64(let scores) = s.arrays["neighbor_scores"]! else { Issue.record("arrays"); return }
        var twice = ids
        twice[1] = twice[0]
        var outside = ids
        outside[0] = 3
        var far = scores
        far[0] = 1.5
        var nan = scores
        nan[2] = .nan
        let cases: [(String, (inout PartialState) -> Void)] = [
            ("'neighbor_rows' lists row \(ids[0]) twice for query 0", { $0.arrays["neighbor_rows"] = .int64(twice) }),
            ("'neighbor_rows' lists row 3 for query 0, outside its rows 5..<12", { $0.arrays["neighbor_rows"] = .int64(outside) }),
            ("'neighbor_scores' has 1.5", { $0.arrays["neighbor_scores"] = .float64(far) }),
            ("'neighbor_scores' has nan", { $0.arrays["neighbor_scores"] = .float64(nan) }),
            ("'k_shard' is 1", { $0.arrays["k_shard"] = .int64([1]) }),
            ("'label_rows' lists row 5 twice", { s in
                guard case .int64(let rows) = s.arrays["label_rows"]! else { return }
                s.arrays["label_rows"] = .int64([rows[0]] + rows.dropLast())
            }),
            ("'query_source_json' has an unknown key 'extra'", { s in
                guard case .bytes(let b) = s.arrays["query_source_json"]!,
                      var object = try? JSONSerialization.jsonObject(with: Data(b)) as? [String: Any] else { return }
                object["extra"] = 1
                s.arrays["query_source_json"] = .bytes(Array(try! JSONSerialization.data(withJSONObject: object)))
            }),
            ("'has_labels' is 2", { $0.arrays["has_labels"] = .int64([2]) }),
            ("seed 9", { $0.seed = 9 }),
        ]
        for (words, edit) in cases { Self.expectRefused(try Self.forged(s, edit), path: "f.state", words) }
    }

    /// anisotropy, all three kinds: pass-1 sums out of range or asymmetric, a merged state whose
    /// directions were edited (its basis no longer matches), pass-2 rows twice, norms that are
    /// not their vectors', NaN log Z.
    @Test func forgedAnisotropyStates() throws {
        let seeds = Dictionary(uniqueKeysWithValues: try Self.seedStates())
        let p1 = try PartialStateFile.decode(try #require(seeds["anisotropy-p1-0"]), path: "p1")
        let merged = try PartialStateFile.decode(try #require(seeds["anisotropy-merged"]), path: "m")
        let p2 = try PartialStateFile.decode(try #require(seeds["anisotropy-p2-1"]), path: "p2")
        func edited(_ name: String, _ s: PartialState, _ change: (inout [Double]) -> Void) -> (inout PartialState) -> Void {
            var v = (try? s.array(name, path: nil).doubles(name, path: nil)) ?? []
            change(&v)
            return { $0.arrays[name] = .float64(v) }
        }
        let d = p1.dimension
        let cases: [(PartialState, String, (inout PartialState) -> Void)] = [
            (p1, "'centred_gram' is not symmetric", edited("centred_gram", p1) { $0[1] += 1 }),
            (p1, "'centred_gram' has nan", edited("centred_gram", p1) { $0[d + 1] = .nan }),
            (p1, "'centred_gram' has -1.0 on its diagonal", edited("centred_gram", p1) { $0[0] = -1 }),
            (p1, "'unit_square_sum' has -0.5", edited("unit_square_sum", p1) { $0[0] = -0.5 }),
            (p1, "'unit_sum' has 99.0", edited("unit_sum", p1) { $0[0] = 99 }),
            (p1, "'norm_sum' is -1.0", edited("norm_sum", p1) { $0[0] = -1 }),
            (p1, "has a basis", { $0.basis = String(repeating: "0", count: 64) }),
            (merged, "is not the digest of its own directions", { s in
                guard case .float32(var v) = s.arrays["directions"]! else { return }
                v[0] += 0.5
                s.arrays["directions"] = .float32(v)
            }),
            (merged, "'direction_values' has nan", edited("direction_values", merged) { $0[0] = .nan }),
            (p2, "'pair_rows' lists row", { s in
                guard case .int64(let ids) = s.arrays["pair_rows"]! else { return }
                s.arrays["pair_rows"] = .int64([ids[0]] + ids.dropLast())
            }),
            (p2, "'pair_norms' has 2.0", edited("pair_norms", p2) { $0[0] = 2 }),
            (p2, "'logz_positive' has nan", edited("logz_positive", p2) { $0[0] = .nan }),
            (p2, "'partition_rows' is 99", { $0.arrays["partition_rows"] = .int64([99]) }),
            (p2, "basis '(none)' is not a SHA-256", { $0.basis = nil }),
            (p2, "unknown parameter extra", { $0.parameters["extra"] = "1" }),
        ]
        for (state, words, edit) in cases { Self.expectRefused(try Self.forged(state, edit), path: "f.state", words) }
    }

    /// depth (cosine and reference-sample modes): sums out of range, a merged state whose sum or
    /// sample was edited, rows twice in a sample, non-increasing sample places, NaN depths, a
    /// corpus flag that contradicts the corpus parameter.
    @Test func forgedDepthStates() throws {
        let (ref, other) = DepthSampleMergeTests.corpora()
        let shards = [MergeTests.shard(ref, 0..<300, name: "ref-0.npy"), MergeTests.shard(ref, 300..<ref.count, name: "ref-1.npy")]
        for sampled in [false, true] {
            var c = sampled ? DepthSampleMergeTests.configuration(.tte, .chord) : DepthConfiguration()
            c.seed = 7
            let rows = sampled ? ref.count : nil
            let p1 = try shards.enumerated().map { try MergeTests.roundTrip(DepthPartial.pass1($0.element.0, shard: $0.element.1, configuration: c, referenceRows: rows), "d\($0.offset).state") }
            let merged = try #require(try StateMerge.merge(p1, wantState: true).state)
            let m = LoadedState(path: "m.state", state: merged)
            let (o, record) = MergeTests.shard(other, 0..<50, name: "new.npy")
            let p2 = try DepthPartial.pass2(o, shard: record, other: true, configuration: c, merged: m, referenceRows: rows)
            var cases: [(PartialState, String, (inout PartialState) -> Void)] = [
                (p2, "'depths' has nan", { s in
                    guard case .float64(var v) = s.arrays["depths"]! else { return }
                    v[3] = .nan
                    s.arrays["depths"] = .float64(v)
                }),
                (p2, "'corpus' contradicts the parameter corpus = other", { $0.arrays["corpus"] = .int64([0]) }),
                (p2, "'has_labels' is 3", { $0.arrays["has_labels"] = .int64([3]) }),
                (p2, "does not say which corpus", { $0.parameters["corpus"] = nil }),
                (p1[0].state, "unknown parameter corpus", { $0.parameters["corpus"] = "other" }),
            ]
            if sampled {
                cases += [
                    (p1[1].state, "'sample_rows' lists row", { s in
                        guard case .int64(let v) = s.arrays["sample_rows"]! else { return }
                        s.arrays["sample_rows"] = .int64([v[0]] + v.dropLast())
                    }),
                    (p1[1].state, "'sample_positions' has", { s in
                        guard case .int64(let v) = s.arrays["sample_positions"]! else { return }
                        s.arrays["sample_positions"] = .int64(Array(v.reversed()))
                    }),
                    (merged, "is not the digest of its own payload", { s in
                        guard case .float32(var v) = s.arrays["sample_values"]! else { return }
                        v[0] += 1
                        s.arrays["sample_values"] = .float32(v)
                    }),
                    (merged, "'sampled' is 5", { $0.arrays["sampled"] = .int64([5]) }),
                ]
            } else {
                cases += [
                    (p1[0].state, "'unit_sum' has 1000.0", { s in
                        guard case .float64(var v) = s.arrays["unit_sum"]! else { return }
                        v[0] = 1000
                        s.arrays["unit_sum"] = .float64(v)
                    }),
                    (merged, "is not the digest of its own payload", { s in
                        guard case .float64(var v) = s.arrays["unit_sum"]! else { return }
                        v[0] += 1
                        s.arrays["unit_sum"] = .float64(v)
                    }),
                ]
            }
            for (state, words, edit) in cases { Self.expectRefused(try Self.forged(state, edit), path: "f.state", words) }
        }
    }

    /// compat, all three kinds: a relevant row twice or not the query's own (identity), a score
    /// outside [-1, 1], group values out of order, a merged state whose groups were edited, a
    /// negative count in pass 2.
    @Test(arguments: [false, true]) func forgedCompatStates(labelled: Bool) throws {
        let d = CompatMergeTests.data(seed: 20)
        let c = CompatMergeTests.configuration()
        let shards = CompatMergeTests.shardInputs(d, labelled: labelled)
        let (merged, pass2) = try CompatMergeTests.states(shards, c)
        let p1 = try CompatPartial.pass1(shards[1].0, shard: shards[1].1, configuration: c)
        guard case .int64(let counts) = p1.arrays["relevant_counts"]!, case .int64(let rows) = p1.arrays["relevant_rows"]! else { Issue.record("arrays"); return }
        let q = try #require(counts.firstIndex { $0 >= (labelled ? 2 : 1) })
        let at = Int(counts[..<q].reduce(0, +))
        var twice = rows
        if labelled { twice[at + 1] = twice[at] } else { twice[at] += 1 }
        var cases: [(PartialState, String, (inout PartialState) -> Void)] = [
            (p1, labelled ? "lists row \(rows[at]) for query \(q) twice" : "query \(q)'s only relevant row is row \(q)", { $0.arrays["relevant_rows"] = .int64(twice) }),
            (p1, "'scores_old' has 1.5", { s in
                guard case .float64(var v) = s.arrays["scores_old"]! else { return }
                v[0] = 1.5
                s.arrays["scores_old"] = .float64(v)
            }),
            (p1, "'relevant_counts' has -1", { s in
                var v = counts
                v[0] = -1
                s.arrays["relevant_counts"] = .int64(v)
            }),
            (merged.state, "'group_values_new'", { s in
                guard case .float64(var v) = s.arrays["group_values_new"]! else { return }
                v[0] = 2
                s.arrays["group_values_new"] = .float64(v)
            }),
            (merged.state, "is not the digest of its own payload", { s in
                guard case .float64(var v) = s.arrays["group_values_old"]! else { return }
                v[0] = v[0].nextUp  // still descending and a cosine: only the basis tells
                s.arrays["group_values_old"] = .float64(v)
            }),
            (pass2[0].state, "'above_old' has -1", { s in
                guard case .int64(var v) = s.arrays["above_old"]! else { return }
                v[0] = -1
                s.arrays["above_old"] = .int64(v)
            }),
            (pass2[0].state, "'tied_cross' has 0 values", { $0.arrays["tied_cross"] = .int64([]) }),
        ]
        if labelled {
            cases.append((merged.state, "'group_values_old' has", { s in
                // Two groups of one query swapped: values no longer descend.
                guard case .int64(let g) = s.arrays["group_counts_old"]!, case .float64(var v) = s.arrays["group_values_old"]!,
                      let k = g.firstIndex(where: { $0 >= 2 }) else { return }
                let start = Int(g[..<k].reduce(0, +))
                v.swapAt(start, start + 1)
                s.arrays["group_values_old"] = .float64(v)
            }))
        }
        for (state, words, edit) in cases { Self.expectRefused(try Self.forged(state, edit), path: "f.state", words) }
    }

    /// A saved shift reference: an unknown parameter, a bandwidth_given that is not a boolean.
    @Test func forgedShiftReferenceParameters() throws {
        let (_, data) = try ShiftWindowsTests.savedReference()
        let state = try PartialStateFile.decode(data, path: "ref.state")
        for (edit, words) in [({ (s: inout PartialState) in s.parameters["k"] = "3" }, "unknown parameter k"),
                              ({ (s: inout PartialState) in s.parameters["bandwidth_given"] = "maybe" }, "bandwidth_given 'maybe'"),
                              ({ (s: inout PartialState) in s.parameters["rows"] = "raw" }, "parameter rows 'raw'")] {
            ShiftReferenceStateHostileTests.refused(try Self.forged(state, edit), words)
        }
    }

    /// The CLI, as the finding reproduced it: `info --partial` on two shards, one state forged with
    /// its checksum recomputed; `merge` in either order is exit 2, one line naming the forged file
    /// and the field, and writes nothing.
    @Test func cliRefusesForgedStatesNamingTheFile() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var rng = SeededGenerator(seed: 1)
        let m = rng.gaussianMatrix(rows: 300, cols: 16)
        try CLI.writeNpy((0..<150).map { m.rowArray($0) }, to: "\(dir)/A0.npy")
        try CLI.writeNpy((150..<300).map { m.rowArray($0) }, to: "\(dir)/A1.npy")
        for (k, offset) in [(0, 0), (1, 150)] {
            let r = try CLI.run(["info", "\(dir)/A\(k).npy", "--partial", "\(dir)/i\(k).state", "--row-offset", String(offset)])
            #expect(r.status == 0, "\(r.stderr)")
        }
        let honest = try PartialStateFile.decode(try Data(contentsOf: URL(fileURLWithPath: "\(dir)/i0.state")), path: nil)
        let forgeries: [(String, (inout PartialState) -> Void)] = [
            ("'norm_moments' holds a NaN or infinite value", { s in
                guard case .float64(var v) = s.arrays["norm_moments"]! else { return }
                v[3] = .nan
                s.arrays["norm_moments"] = .float64(v)
            }),
            ("'zero_rows' lists row 5 twice", { $0.arrays["zero_rows"] = .int64([5, 5, 5]) }),
            ("unknown parameter k", { $0.parameters["k"] = "10" }),
        ]
        for (words, edit) in forgeries {
            try Self.forged(honest, edit).write(to: URL(fileURLWithPath: "\(dir)/f.state"))
            for order in [["\(dir)/f.state", "\(dir)/i1.state"], ["\(dir)/i1.state", "\(dir)/f.state"]] {
                let r = try CLI.run(["merge"] + order + ["--json", "\(dir)/out.json"])
                #expect(r.status == 2)
                #expect(r.stderr.hasPrefix("embdiag: error: \(dir)/f.state: partial state "), "\(r.stderr)")
                #expect(r.stderr.split(separator: "\n").count == 1 && r.stderr.contains(words), "\(r.stderr)")
                #expect(!FileManager.default.fileExists(atPath: "\(dir)/out.json"))
            }
        }
    }
}

/// Forged states whose every field lies inside its own range but whose fields together describe
/// rows that cannot exist (hostile pass 4): a Gram matrix that is not positive semidefinite,
/// sums inconsistent with each other, depths outside their kind's range, neighbour lists out of
/// order, impossible norm statistics. Each merged with exit 0 and a wrong report before.
extension StateFileHostileTests {
    static func anisotropySeeds() throws -> (p1: PartialState, merged: PartialState, p2: PartialState) {
        let seeds = Dictionary(uniqueKeysWithValues: try Self.seedStates())
        return (try PartialStateFile.decode(try #require(seeds["anisotropy-p1-0"]), path: "p1"),
                try PartialStateFile.decode(try #require(seeds["anisotropy-merged"]), path: "m"),
                try PartialStateFile.decode(try #require(seeds["anisotropy-p2-1"]), path: "p2"))
    }

    static func editedDoubles(_ name: String, _ change: @escaping (inout [Double]) -> Void) -> (inout PartialState) -> Void {
        { s in
            guard case .float64(var v) = s.arrays[name]! else { return }
            change(&v)
            s.arrays[name] = .float64(v)
        }
    }

    /// Anisotropy pass 1: |m_01| above √(m_00 m_11) (the reproducer's 1e4), a centred Gram matrix
    /// whose 2 × 2 minors all hold but which is still not positive semidefinite, a diagonal scaled
    /// down, a norm sum or column sum the centred Gram matrix contradicts, Σû beyond Cauchy–Schwarz.
    @Test func forgedAnisotropyMoments() throws {
        let (p1, _, _) = try Self.anisotropySeeds()
        let d = p1.dimension
        #expect(d >= 3)
        let gram = try p1.array("centred_gram", path: nil).doubles("centred_gram", path: nil)
        let cases: [(String, (inout PartialState) -> Void)] = [
            ("'centred_gram' has 10000.0 at entries 0,1", Self.editedDoubles("centred_gram") { g in g[1] = 1e4; g[d] = 1e4 }),
            ("not positive semidefinite", Self.editedDoubles("centred_gram") { g in
                // Correlations 0.9, 0.9 and −0.9 among dimensions 0, 1, 2: each pair possible,
                // the three together not (determinant 1 − 3·0.81 − 2·0.729 < 0).
                for i in 0..<d { for j in 0..<d where i != j { g[i * d + j] = 0 } }
                let s = (0..<3).map { gram[$0 * d + $0].squareRoot() }
                for (i, j, r) in [(0, 1, 0.9), (0, 2, 0.9), (1, 2, -0.9)] {
                    g[i * d + j] = r * s[i] * s[j]
                    g[j * d + i] = r * s[i] * s[j]
                }
            }),
            ("'norm_sum'", Self.editedDoubles("norm_sum") { $0[0] = 1e6 }),
            ("'column_sum' has length", Self.editedDoubles("column_sum") { $0[0] = 1e5 }),
            ("'unit_sum' has", Self.editedDoubles("unit_sum") { u in u[0] = 4.99 }),
        ]
        for (words, edit) in cases { Self.expectRefused(try Self.forged(p1, edit), path: "f.state", words) }
        // The diagonal scaled down: refused, by whichever rule it breaks first.
        Self.expectRefused(try Self.forged(p1, Self.editedDoubles("centred_gram") { g in g[0] *= 0.01; for j in 1..<d { g[j] = 0.5 * gram[j]; g[j * d] = 0.5 * gram[j] } }),
                           path: "f.state", "partial state array '")
        // Σ‖x‖² = trace M + ‖Σx‖²/n beyond (Σ‖x‖)²: the diagonal scaled up.
        Self.expectRefused(try Self.forged(p1, Self.editedDoubles("centred_gram") { g in for i in 0..<d { g[i * d + i] *= 1e6 } }), path: "f.state", "cannot give")
    }

    /// A merged pass-1 state: values that do not add up to the trace, out of order, or directions
    /// that are not eigenvectors (two rows rotated, basis recomputed so only the check tells).
    @Test func forgedAnisotropyDirections() throws {
        let (_, merged, _) = try Self.anisotropySeeds()
        let d = merged.dimension
        let cases: [(String, (inout PartialState) -> Void)] = [
            ("'direction_values' adds up to", Self.editedDoubles("direction_values") { $0[0] *= 2 }),
            ("descending", Self.editedDoubles("direction_values") { $0.swapAt(0, 1) }),
            ("'directions' row 0 is not an eigenvector", Self.editedDoubles("direction_values") { v in
                let t = (v[0] - v[1]) / 4
                v[0] -= t
                v[1] += t
            }),
            ("'directions' row 0 is not an eigenvector", { s in
                guard case .float32(var v) = s.arrays["directions"]! else { return }
                let (c, sn) = (Float(0.8), Float(0.6))
                for j in 0..<d {
                    let (a, b) = (v[j], v[d + j])
                    v[j] = c * a - sn * b
                    v[d + j] = sn * a + c * b
                }
                s.arrays["directions"] = .float32(v)
                s.basis = AnisotropyPartial.basis(of: s)
            }),
            ("'directions' are not orthonormal", { s in
                guard case .float32(var v) = s.arrays["directions"]! else { return }
                for j in 0..<d { v[d + j] = v[j] }
                s.arrays["directions"] = .float32(v)
                s.basis = AnisotropyPartial.basis(of: s)
            }),
        ]
        for (words, edit) in cases { Self.expectRefused(try Self.forged(merged, edit), path: "f.state", words) }
    }

    /// Anisotropy pass 2: log Z(c) + log Z(−c) below 2 log m, more pair rows than the pairs use.
    @Test func forgedAnisotropyPartition() throws {
        let (_, _, p2) = try Self.anisotropySeeds()
        Self.expectRefused(try Self.forged(p2, Self.editedDoubles("logz_negative") { $0[0] = -100 }), path: "f.state", "log Z(c) + log Z(−c) ≥ 2 log")
    }

    /// The reproducer end to end through the CLI: anisotropy --partial on two shards, shard 0's
    /// Gram given |g_01| = 10⁴ and resealed; the pass-1 merge is exit 2 naming the file and 'gram'
    /// (it went on to IsoScore 0.214 and effective rank 2.21 where the rows give 0.899 and 5.73).
    @Test func cliRefusesImpossibleGram() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var rng = SeededGenerator(seed: 5)
        let m = rng.gaussianMatrix(rows: 100, cols: 6)
        for i in 0..<100 { m[i, 0] += 2 }
        try CLI.writeNpy((0..<60).map { m.rowArray($0) }, to: "\(dir)/s0.npy")
        try CLI.writeNpy((60..<100).map { m.rowArray($0) }, to: "\(dir)/s1.npy")
        for (k, offset) in [(0, 0), (1, 60)] {
            let r = try CLI.run(["anisotropy", "\(dir)/s\(k).npy", "--partial", "\(dir)/a\(k).state", "--row-offset", String(offset)])
            #expect(r.status == 0, "\(r.stderr)")
        }
        let honest = try PartialStateFile.decode(try Data(contentsOf: URL(fileURLWithPath: "\(dir)/a0.state")), path: nil)
        try Self.forged(honest, Self.editedDoubles("centred_gram") { g in g[1] = 1e4; g[6] = 1e4 }).write(to: URL(fileURLWithPath: "\(dir)/f.state"))
        let r = try CLI.run(["merge", "\(dir)/f.state", "\(dir)/a1.state", "--state-out", "\(dir)/m.state"])
        #expect(r.status == 2)
        #expect(r.stderr.split(separator: "\n").count == 1 && r.stderr.contains("\(dir)/f.state") && r.stderr.contains("'centred_gram' has 10000.0"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/m.state"))
        let honestMerge = try CLI.run(["merge", "\(dir)/a0.state", "\(dir)/a1.state", "--state-out", "\(dir)/m.state"])
        #expect(honestMerge.status == 0, "\(honestMerge.stderr)")
    }

    /// Depth: a cosine TTE depth of 5 or −0.5 (D = 1 + mean cos ∈ [0, 2]), Σû longer than the row
    /// count, and every reference depth set to 2 (each in range; their sum is not what Σû gives).
    @Test func forgedDepthValues() throws {
        let (ref, _) = DepthSampleMergeTests.corpora()
        let shards = [MergeTests.shard(ref, 0..<300, name: "ref-0.npy"), MergeTests.shard(ref, 300..<ref.count, name: "ref-1.npy")]
        var c = DepthConfiguration()
        c.seed = 7
        let p1 = try shards.enumerated().map { try MergeTests.roundTrip(DepthPartial.pass1($0.element.0, shard: $0.element.1, configuration: c), "d\($0.offset).state") }
        let merged = try #require(try StateMerge.merge(p1, wantState: true).state)
        let m = LoadedState(path: "m.state", state: merged)
        let p2 = try shards.enumerated().map { try MergeTests.roundTrip(DepthPartial.pass2($0.element.0, shard: $0.element.1, other: false, configuration: c, merged: m), "r\($0.offset).state") }
        Self.expectRefused(try Self.forged(p2[0].state, Self.editedDoubles("depths") { $0[0] = 5 }), path: "f.state", "'depths' has 5.0 for row 0 (cosine TTE depth")
        Self.expectRefused(try Self.forged(p2[0].state, Self.editedDoubles("depths") { $0[1] = -0.5 }), path: "f.state", "'depths' has -0.5 for row 1")
        let n = Double(p1[0].state.rowCount)
        Self.expectRefused(try Self.forged(p1[0].state, Self.editedDoubles("unit_sum") { u in for j in u.indices { u[j] = 0.99 * n } }), path: "f.state", "'unit_sum' has length")
        // Every depth of the first reference shard 2.0: each state passes on its own, the merge not.
        let all2 = try PartialStateFile.decode(try Self.forged(p2[0].state, Self.editedDoubles("depths") { v in for i in v.indices { v[i] = 2 } }), path: "f.state")
        Self.expectMergeRefused([m, LoadedState(path: "f.state", state: all2), p2[1]], "f.state: partial state array 'depths' of the reference pass-2 states")
        // The honest states merge.
        _ = try StateMerge.merge([m] + p2, wantState: false)
    }

    /// Neighbours: a shard's list is ordered by the stored Float64 score descending, ties by row
    /// ascending, empty places last — the scores of a query reversed, a tie's rows swapped.
    @Test func forgedNeighborOrder() throws {
        let (name, data) = try #require(try Self.seedStates().first { $0.0 == "neighbors-1" })
        let s = try PartialStateFile.decode(data, path: name)
        let k = try s.array("k_shard", path: nil).ints("k_shard", path: nil)[0]
        #expect(k == 3, "k = 2 lists k + 1 = 3 neighbours per query")
        guard case .int64(let ids) = s.arrays["neighbor_rows"]!, case .float64(let scores) = s.arrays["neighbor_scores"]! else { Issue.record("arrays"); return }
        Self.expectRefused(try Self.forged(s) { f in
            var v = scores
            v.swapAt(0, 1)
            f.arrays["neighbor_scores"] = .float64(v)
        }, path: "f.state", "for query 0: a list is ordered by score descending, ties by row ascending")
        Self.expectRefused(try Self.forged(s) { f in
            // A tie whose rows are not in increasing order.
            var v = scores, r = ids
            v[1] = v[0]
            if r[0] < r[1] { r.swapAt(0, 1) }
            f.arrays["neighbor_scores"] = .float64(v)
            f.arrays["neighbor_rows"] = .int64(r)
        }, path: "f.state", "ties by row ascending")
        Self.expectRefused(try Self.forged(s) { f in
            var v = scores, r = ids
            (v[0], r[0]) = (-.infinity, -1)
            f.arrays["neighbor_scores"] = .float64(v)
            f.arrays["neighbor_rows"] = .int64(r)
        }, path: "f.state", "after an empty place")
    }

    /// info: M2 beyond Bhatia–Davis (the reproducer's mean 1.05 in [1.045, 4.5] with M2 39.5),
    /// unit-norm rows with every norm far from 1, a zero minimum without a zero row, a maximum no
    /// Float32 row reaches, every row unit-norm with norms far from 1.
    @Test func forgedInfoNormStatistics() throws {
        let (_, b) = try Self.gaussianInfoStates()
        let count = try b.array("norm_moments", path: nil).doubles("norm_moments", path: nil)[0]
        let cases: [(String, (inout PartialState) -> Void)] = [
            ("(Bhatia–Davis)", Self.editedDoubles("norm_moments") { $0 = [count, 1.045, 4.5, 1.05, 39.5 * count / 60, 0] }),
            ("counts 5.0 unit-norm rows", Self.editedDoubles("norm_moments") { $0[1] = 1.045; $0[2] = max($0[2], 1.1); $0[3] = max($0[3], 1.05); $0[4] = 0; $0[5] = 5 }),
            ("'zero_rows' is empty although 'norm_moments' has min 0", Self.editedDoubles("norm_moments") { $0[1] = 0 }),
            ("has max 1e+300", Self.editedDoubles("norm_moments") { $0[2] = 1e300 }),
            ("(|norm − 1| < 0.001), but its norms lie in", Self.editedDoubles("norm_moments") { $0[5] = count }),
        ]
        for (words, edit) in cases { Self.expectRefused(try Self.forged(b, edit), path: "f.state", words) }
    }

    /// compat pass 2: more rows above or tied with a value than the shard has.
    @Test func forgedCompatCounts() throws {
        let d = CompatMergeTests.data(seed: 20)
        let shards = CompatMergeTests.shardInputs(d, labelled: false)
        let (_, pass2) = try CompatMergeTests.states(shards, CompatMergeTests.configuration())
        let s = pass2[0].state
        let n = s.rowCount
        Self.expectRefused(try Self.forged(s) { f in
            guard case .int64(var a) = f.arrays["above_old"]!, case .int64(var t) = f.arrays["tied_old"]! else { return }
            (a[0], t[0]) = (Int64(n), 1)
            f.arrays["above_old"] = .int64(a)
            f.arrays["tied_old"] = .int64(t)
        }, path: "f.state", "more than the shard's \(n) rows")
    }
}
