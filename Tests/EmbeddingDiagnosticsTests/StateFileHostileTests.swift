import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// Hostile state files (Guides/Scale.md, "State files"): edited headers, dropped or duplicated
/// shards, the same input twice, truncation, swapped payloads, other versions and analyzers. Every
/// case is refused with an `EmbdiagError` naming the file — a merge that trusted the header gave
/// wrong row totals with exit 0. Each edit is tried twice: as is (the checksum catches it) and
/// resealed with a recomputed checksum (the payload and tiling checks behind it catch it).
@Suite struct StateFileHostileTests {
    /// Two info shards of the bundled sentences: rows 0..<70 and 70..<120.
    static func infoStates() throws -> (first: Data, second: Data, embeddings: Embeddings) {
        let e = try EmbeddingReader.read(MergeTests.sentencesPath).selecting(rows: Array(0..<120))
        let (a, ra) = MergeTests.shard(e, 0..<70, name: "a.npy")
        let (b, rb) = MergeTests.shard(e, 70..<120, name: "b.npy")
        return (try PartialStateFile.encode(InfoPartial.state(a, shard: ra)), try PartialStateFile.encode(InfoPartial.state(b, shard: rb)), e)
    }

    /// The file's safetensors header, its tensor table and payload, and the state JSON.
    static func split(_ file: Data) throws -> (outer: [String: Any], state: [String: Any], payload: Data) {
        let size = Int(file.prefix(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) })
        let outer = try #require(try JSONSerialization.jsonObject(with: file.subdata(in: 8..<(8 + size))) as? [String: Any])
        let meta = try #require(outer["__metadata__"] as? [String: String])
        let stateJSON = try #require(meta["embdiag_state"])
        let state = try #require(try JSONSerialization.jsonObject(with: Data(stateJSON.utf8)) as? [String: Any])
        return (outer, state, file.subdata(in: (8 + size)..<file.count))
    }

    /// The file rebuilt from an outer header and a payload (the old checksum kept, so stale).
    static func join(_ outer: [String: Any], _ payload: Data) throws -> Data {
        var header = try JSONSerialization.data(withJSONObject: outer, options: [.sortedKeys])
        while header.count % 8 != 0 { header.append(0x20) }
        var out = Data()
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(header)
        out.append(payload)
        return out
    }

    /// `file` with its state JSON edited by `edit` (checksum left as it was).
    static func editState(_ file: Data, _ edit: (inout [String: Any]) -> Void) throws -> Data {
        var (outer, state, payload) = try split(file)
        edit(&state)
        var meta = try #require(outer["__metadata__"] as? [String: String])
        meta["embdiag_state"] = String(decoding: try JSONSerialization.data(withJSONObject: state, options: [.sortedKeys]), as: UTF8.self)
        outer["__metadata__"] = meta
        return try join(outer, payload)
    }

    static func shards(_ state: [String: Any]) -> [[String: Any]] { state["shards"] as? [[String: Any]] ?? [] }

    /// The decode fails with an `EmbdiagError` whose message names `path` and contains `words`.
    static func expectRefused(_ data: Data, path: String = "edited.state", _ words: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            let s = try PartialStateFile.decode(data, path: path)
            Issue.record("accepted: \(s.rowCount) rows over \(s.shards.count) shard(s)", sourceLocation: sourceLocation)
        } catch let error as EmbdiagError {
            #expect(error.description.contains(path), "\(error.description)", sourceLocation: sourceLocation)
            #expect(error.description.contains(words), "\(error.description)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("not an EmbdiagError: \(error)", sourceLocation: sourceLocation)
        }
    }

    /// The merge of `states` fails with an `EmbdiagError` containing `words`.
    static func expectMergeRefused(_ states: [LoadedState], _ words: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            let outcome = try StateMerge.merge(states, wantState: false)
            Issue.record("merge accepted: \(String(describing: outcome.report?.metric("rows")))", sourceLocation: sourceLocation)
        } catch let error as EmbdiagError {
            #expect(error.description.contains(words), "\(error.description)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("not an EmbdiagError: \(error)", sourceLocation: sourceLocation)
        }
    }

    static let checksum = "checksum mismatch: the state was edited or damaged"

    @Test func untouchedStatesMergeToTheTrueRowCount() throws {
        let (a, b, e) = try Self.infoStates()
        let states = [LoadedState(path: "a.state", state: try PartialStateFile.decode(a, path: "a.state")),
                      LoadedState(path: "b.state", state: try PartialStateFile.decode(b, path: "b.state"))]
        let report = try #require(try StateMerge.merge(states, wantState: false).report)
        #expect(report.metric("rows") == .int(e.count))
        // A resealed file that was not edited is the file itself.
        #expect(PartialStateFile.seal(a) == a)
    }

    /// row_count 70 → 60, 80, 2⁶², 0 and −1; row_offset −5.
    @Test(arguments: [60, 80, 1 << 62, 0, -1])
    func editedRowCount(_ rows: Int) throws {
        let (a, b, _) = try Self.infoStates()
        let edited = try Self.editState(a) { s in
            var list = Self.shards(s)
            list[0]["row_count"] = rows
            s["shards"] = list
        }
        Self.expectRefused(edited, Self.checksum)
        Self.expectRefused(PartialStateFile.seal(edited), rows >= 1 ? "payload covers 70 rows, its shard list \(rows)" : "row_count \(rows)")
        // The second shard edited to start where the edited first one ends: still refused.
        let shifted = try Self.editState(b) { s in
            var list = Self.shards(s)
            list[0]["row_offset"] = max(0, rows)
            s["shards"] = list
        }
        Self.expectRefused(shifted, path: "b.state", Self.checksum)
    }

    @Test func negativeOffset() throws {
        let (a, _, _) = try Self.infoStates()
        let edited = try Self.editState(a) { s in
            var list = Self.shards(s)
            list[0]["row_offset"] = -5
            s["shards"] = list
        }
        Self.expectRefused(edited, Self.checksum)
        Self.expectRefused(PartialStateFile.seal(edited), "row_offset -5")
    }

    @Test func noShards() throws {
        let (a, _, _) = try Self.infoStates()
        let edited = try Self.editState(a) { $0["shards"] = [[String: Any]]() }
        Self.expectRefused(edited, Self.checksum)
        Self.expectRefused(PartialStateFile.seal(edited), "lists no shard")
    }

    @Test func duplicatedShardEntry() throws {
        let (a, _, _) = try Self.infoStates()
        let edited = try Self.editState(a) { s in s["shards"] = Self.shards(s) + Self.shards(s) }
        Self.expectRefused(edited, Self.checksum)
        Self.expectRefused(PartialStateFile.seal(edited), "not contiguous")
        // The duplicate moved to follow the first: the same input (SHA-256) twice.
        let moved = try Self.editState(a) { s in
            var second = Self.shards(s)[0]
            second["row_offset"] = 70
            s["shards"] = Self.shards(s) + [second]
        }
        Self.expectRefused(PartialStateFile.seal(moved), "same input")
    }

    /// Identical files (same SHA-256) given at row offsets 0 and 50: they tile 0..<100, but the
    /// second is the first again.
    @Test func sameInputAtTwoOffsets() throws {
        let e = try EmbeddingReader.read(MergeTests.sentencesPath).selecting(rows: Array(0..<50))
        let (s, r0) = MergeTests.shard(e, 0..<50, name: "same.npy")
        var r50 = r0
        r50.rowOffset = 50
        let first = try PartialStateFile.decode(try PartialStateFile.encode(InfoPartial.state(s, shard: r0)), path: "s0.state")
        let second = try PartialStateFile.decode(try PartialStateFile.encode(InfoPartial.state(s, shard: r50)), path: "s50.state")
        Self.expectMergeRefused([LoadedState(path: "s0.state", state: first), LoadedState(path: "s50.state", state: second)], "same input")
        Self.expectMergeRefused([LoadedState(path: "s50.state", state: second), LoadedState(path: "s0.state", state: first)], "same input")
    }

    @Test func truncatedAnywhere() throws {
        let (a, _, _) = try Self.infoStates()
        let size = Int(a.prefix(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) })
        for cut in Set([0, 4, 8, 9, 8 + size / 2, 8 + size, 8 + size + 1, a.count - 8, a.count - 1]) {
            #expect(throws: EmbdiagError.self, "cut at \(cut)") { try PartialStateFile.decode(a.prefix(cut), path: "cut.state") }
        }
        // Appended bytes are damage too.
        Self.expectRefused(a + Data([0]), Self.checksum)
    }

    @Test func flippedBytes() throws {
        let (a, _, _) = try Self.infoStates()
        let size = Int(a.prefix(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) })
        // A payload byte (the values), the last byte, and a tensor-table digit in the header.
        for at in [8 + size + 3, a.count - 1] {
            var flipped = a
            flipped[at] ^= 0x01
            Self.expectRefused(flipped, Self.checksum)
        }
        // A digit of the tensor table ("shape":[1] → [2]): the sizes no longer add up, or the checksum fails.
        let table = try #require(a.range(of: Data("\"shape\":[1]".utf8), in: 8..<(8 + size)))
        var edited = a
        edited[table.upperBound - 2] = UInt8(ascii: "2")
        #expect(throws: EmbdiagError.self) { try PartialStateFile.decode(edited, path: "table.state") }
    }

    /// The header of one state with the payload of another (same tensor table: two anisotropy
    /// pass-1 shards of 60 rows each).
    @Test func swappedPayloads() throws {
        let e = try EmbeddingReader.read(MergeTests.sentencesPath).selecting(rows: Array(0..<120))
        let c = MergeTests.anisotropyConfiguration()
        let (a, ra) = MergeTests.shard(e, 0..<60, name: "a.npy")
        let (b, rb) = MergeTests.shard(e, 60..<120, name: "b.npy")
        let fa = try PartialStateFile.encode(AnisotropyPartial.pass1(a, shard: ra, configuration: c))
        let fb = try PartialStateFile.encode(AnisotropyPartial.pass1(b, shard: rb, configuration: c))
        let (outerA, _, _) = try Self.split(fa)
        let (_, _, payloadB) = try Self.split(fb)
        let (outerB, _, _) = try Self.split(fb)
        // Same tensor table, so only the checksum tells the files apart.
        #expect((outerA.filter { $0.key != "__metadata__" } as NSDictionary) == (outerB.filter { $0.key != "__metadata__" } as NSDictionary))
        Self.expectRefused(try Self.join(outerA, payloadB), Self.checksum)
    }

    @Test func otherVersions() throws {
        let (a, _, _) = try Self.infoStates()
        // As a version-2 embdiag wrote it: no checksum entry, format_version 2.
        var (outer, _, payload) = try Self.split(try Self.editState(a) { $0["format_version"] = 2 })
        var meta = try #require(outer["__metadata__"] as? [String: String])
        meta["embdiag_sha256"] = nil
        outer["__metadata__"] = meta
        let old = try Self.join(outer, payload)
        Self.expectRefused(old, "partial state format version 2; this embdiag reads version \(PartialState.formatVersion) only")
        // A future version, and a missing one.
        Self.expectRefused(PartialStateFile.seal(try Self.editState(a) { $0["format_version"] = PartialState.formatVersion + 1 }), "format version \(PartialState.formatVersion + 1)")
        Self.expectRefused(PartialStateFile.seal(try Self.editState(a) { $0["format_version"] = nil }), "format version missing")
        // The current version without its checksum.
        var (current, _, currentPayload) = try Self.split(a)
        var currentMeta = try #require(current["__metadata__"] as? [String: String])
        currentMeta["embdiag_sha256"] = nil
        current["__metadata__"] = currentMeta
        Self.expectRefused(try Self.join(current, currentPayload), "no checksum")
    }

    /// A mix of versions in one merge: a state decoded from a current file and one claiming
    /// another version in memory (a library caller building states by hand).
    @Test func mixedVersionsAndAnalyzers() throws {
        let (a, b, e) = try Self.infoStates()
        let sa = try PartialStateFile.decode(a, path: "a.state")
        var sb = try PartialStateFile.decode(b, path: "b.state")
        sb.stateVersion = 2
        Self.expectMergeRefused([LoadedState(path: "a.state", state: sa), LoadedState(path: "b.state", state: sb)], "state format version")
        // An anisotropy state beside an info state.
        let (s, r) = MergeTests.shard(e.selecting(rows: Array(70..<120)), 0..<50, name: "b.npy")
        var record = r
        record.rowOffset = 70
        let an = AnisotropyPartial.pass1(s, shard: record, configuration: MergeTests.anisotropyConfiguration())
        Self.expectMergeRefused([LoadedState(path: "a.state", state: sa), LoadedState(path: "an.state", state: an)], "analyzer")
        // The analyzer field edited from info to anisotropy.
        Self.expectRefused(try Self.editState(a) { $0["analyzer"] = "anisotropy" }, Self.checksum)
    }

    /// Dimension and pass outside their domain (resealed: these reach the checks behind the
    /// checksum); an extra metadata entry.
    @Test func fieldsOutOfDomain() throws {
        let (a, _, _) = try Self.infoStates()
        Self.expectRefused(PartialStateFile.seal(try Self.editState(a) { $0["dim"] = 0 }), "dimension 0")
        Self.expectRefused(PartialStateFile.seal(try Self.editState(a) { $0["dim"] = 1 << 40 }), "dimension \(1 << 40)")
        Self.expectRefused(PartialStateFile.seal(try Self.editState(a) { $0["pass"] = 3 }), "pass 3")
        var (outer, _, payload) = try Self.split(a)
        var meta = try #require(outer["__metadata__"] as? [String: String])
        meta["extra"] = "x"
        outer["__metadata__"] = meta
        Self.expectRefused(PartialStateFile.seal(try Self.join(outer, payload)), "entries other than")
    }

    /// A merged anisotropy pass-1 state whose payload row count was edited with its shard list:
    /// the shard's source no longer has its rows; edited too, with the basis recomputed, the sums
    /// no longer add up to the rows (each unit row's squares add up to 1); and the pass-2 states
    /// of the real shards do not match a forgery that reaches the merge.
    @Test func forgedMergedStateDoesNotMatchItsShards() throws {
        let e = try EmbeddingReader.read(MergeTests.sentencesPath).selecting(rows: Array(0..<120))
        let c = MergeTests.anisotropyConfiguration()
        let parts = [MergeTests.shard(e, 0..<70, name: "a.npy"), MergeTests.shard(e, 70..<120, name: "b.npy")]
        let p1 = try parts.enumerated().map { LoadedState(path: "p\($0.offset).state", state: try PartialStateFile.decode(try PartialStateFile.encode(AnisotropyPartial.pass1($0.element.0, shard: $0.element.1, configuration: c)), path: "p\($0.offset).state")) }
        let m = try #require(try StateMerge.merge(p1, wantState: true).state)
        let merged = LoadedState(path: "merged.state", state: m)
        let p2 = try parts.enumerated().map { LoadedState(path: "q\($0.offset).state", state: try AnisotropyPartial.pass2($0.element.0, shard: $0.element.1, configuration: c, merged: merged)) }
        var forged = m
        forged.shards[0].rowCount = 60
        forged.shards[1].rowOffset = 60
        forged.arrays["rows"] = .int64([110])
        Self.expectRefused(PartialStateFile.seal(try PartialStateFile.encode(forged)), path: "forged.state", "source.rows 70 but row_count 60")
        forged.shards[0].source.rows = 60
        forged.basis = AnisotropyPartial.basis(of: forged)
        Self.expectRefused(PartialStateFile.seal(try PartialStateFile.encode(forged)), path: "forged.state", "'unit_square_sum' adds up to")
        // Handed to the merge in memory (a library caller): the merge checks every state itself.
        Self.expectMergeRefused([LoadedState(path: "forged.state", state: forged)] + p2, "'unit_square_sum' adds up to")
    }

    /// The CLI: an edited state is exit 2, one line naming the file and the checksum.
    @Test func cliRefusesAnEditedState() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (a, b, _) = try Self.infoStates()
        let edited = try Self.editState(a) { s in
            var list = Self.shards(s)
            list[0]["row_count"] = 60
            s["shards"] = list
        }
        try edited.write(to: URL(fileURLWithPath: "\(dir)/a.state"))
        try b.write(to: URL(fileURLWithPath: "\(dir)/b.state"))
        let r = try CLI.run(["merge", "\(dir)/a.state", "\(dir)/b.state", "--json", "\(dir)/out.json"])
        #expect(r.status == 2)
        #expect(r.stderr.split(separator: "\n").count == 1 && r.stderr.contains("a.state") && r.stderr.contains(Self.checksum), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/out.json"))
    }

    /// The fuzz seed corpus (fuzz/run state): small valid states of every kind a merge reads,
    /// 12 rows × 8 dimensions of the bundled sentences. `EMBDIAG_WRITE_STATE_SEEDS=1` rewrites
    /// them (after a format change); every committed seed must decode with this embdiag.
    @Test func fuzzSeedCorpusDecodes() throws {
        let folder = CLI.repositoryRoot.appendingPathComponent("Tests/Fixtures/states").path
        if ProcessInfo.processInfo.environment["EMBDIAG_WRITE_STATE_SEEDS"] == "1" {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            for (name, data) in try Self.seedStates() { try data.write(to: URL(fileURLWithPath: "\(folder)/\(name).state")) }
        }
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".state") }.sorted()
        #expect(files.count >= 6)
        for f in files {
            let data = try Data(contentsOf: URL(fileURLWithPath: "\(folder)/\(f)"))
            #expect(data.count <= 65536, "\(f) is larger than fuzz/run's -max_len")
            _ = try PartialStateFile.decode(data, path: f)
        }
    }

    static func seedStates() throws -> [(String, Data)] {
        let read = try EmbeddingReader.read(MergeTests.sentencesPath)
        let d = 8, n = 12
        let m = Matrix(rows: n, cols: d, values: (0..<n).flatMap { r in (0..<d).map { read.matrix[r, $0] } })
        let e = Embeddings(matrix: m, labels: (0..<n).map { "row \($0 % 9)" }, name: "seed.npy")
        var c = MergeTests.anisotropyConfiguration()
        c.pairSample = 20
        c.partitionSample = 8
        let parts = [MergeTests.shard(e, 0..<5, name: "s0.npy"), MergeTests.shard(e, 5..<n, name: "s1.npy")]
        var out: [(String, Data)] = []
        out.append(("info-0", try PartialStateFile.encode(InfoPartial.state(parts[0].0, shard: parts[0].1))))
        let p1 = parts.enumerated().map { LoadedState(path: "p\($0.offset)", state: AnisotropyPartial.pass1($0.element.0, shard: $0.element.1, configuration: c)) }
        out.append(("anisotropy-p1-0", try PartialStateFile.encode(p1[0].state)))
        let merged = try #require(try StateMerge.merge(p1, wantState: true).state)
        out.append(("anisotropy-merged", try PartialStateFile.encode(merged)))
        let m1 = LoadedState(path: "merged", state: merged)
        out.append(("anisotropy-p2-1", try PartialStateFile.encode(AnisotropyPartial.pass2(parts[1].0, shard: parts[1].1, configuration: c, merged: m1))))
        let queries = Embeddings(matrix: Matrix(rows: 3, cols: d, values: Array(m.rowArray(0) + m.rowArray(4) + m.rowArray(9))), labels: ["q0", "q1", "q2"], name: "q.npy")
        out.append(("neighbors-1", try PartialStateFile.encode(NeighborsPartial.state(gallery: parts[1].0, queries: queries, k: 2, shard: parts[1].1))))
        out.append(("info-1", try PartialStateFile.encode(InfoPartial.state(parts[1].0, shard: parts[1].1))))
        return out
    }

    /// The layout the safetensors package enforces on every file it opens (`load_file` refused
    /// states holding labels or cluster names: the writer padded each U8 tensor to 8 bytes,
    /// leaving gaps): tensors contiguous from offset 0 in offset order, no gap, no byte after the
    /// last, each starting at a multiple of its element width; the file still decodes.
    static func expectSafetensorsLayout(_ file: Data, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let (outer, _, payload) = try split(file)
        let widths = ["F64": 8, "I64": 8, "F32": 4, "U8": 1]
        var spans: [(begin: Int, end: Int, name: String, width: Int)] = []
        for (key, value) in outer where key != "__metadata__" {
            let t = try #require(value as? [String: Any])
            let offsets = try #require(t["data_offsets"] as? [Int])
            spans.append((offsets[0], offsets[1], key, widths[t["dtype"] as? String ?? ""] ?? 0))
        }
        spans.sort { $0.begin < $1.begin || ($0.begin == $1.begin && $0.end < $1.end) }
        var at = 0
        for s in spans {
            #expect(s.begin == at, "\(name): tensor '\(s.name)' starts at \(s.begin), the previous one ends at \(at)", sourceLocation: sourceLocation)
            #expect(s.width > 0 && s.begin % s.width == 0, "\(name): tensor '\(s.name)' at \(s.begin) is not aligned to its width", sourceLocation: sourceLocation)
            at = s.end
        }
        #expect(at == payload.count, "\(name): the payload has \(payload.count - at) bytes after the last tensor", sourceLocation: sourceLocation)
    }

    /// Every kind of state, with labels and names of odd lengths, follows that layout; the states
    /// of the previous layout (the fuzz seeds, padded) are still read.
    @Test func statesFollowTheSafetensorsLayout() throws {
        var files: [(String, Data)] = try Self.seedStates()
        let (_, reference) = try ShiftWindowsTests.savedReference()
        files.append(("shift-reference", reference))
        let (a, _) = try Self.gaussianInfoStates()
        files.append(("info-labels", try PartialStateFile.encode(a)))
        var sawOddBytes = false
        for (name, data) in files {
            try Self.expectSafetensorsLayout(data, name)
            let state = try PartialStateFile.decode(data, path: name)
            if state.arrays.values.contains(where: { if case .bytes(let b) = $0 { return b.count % 8 != 0 } else { return false } }) { sawOddBytes = true }
        }
        #expect(sawOddBytes, "no state with a U8 tensor whose length is not a multiple of 8: the test proves nothing")
    }

    /// A saved shift reference read from PostgreSQL names its rows by the redacted URL, as the
    /// rest of the report does — not by the URL's last component, the database's name, as if it
    /// were a file ("A sample of 100 of postgres's 200 rows").
    @Test func savedReferenceNamesAPostgresSourceByItsURL() throws {
        var e = ShiftWindowsTests.sentences.selecting(rows: Array(0..<120))
        let url = "postgresql://writer@127.0.0.1:55432/postgres?table=items&column=embedding"
        e.source = Source(path: url, format: .postgresql, dtype: "float32", rows: 120, dim: e.dimension)
        let reference = try ShiftReference(reference: e, configuration: ShiftWindowsTests.configuration(permutations: 99), bandChunks: 19, sampleSize: 100)
        let answer = try #require(reference.report().verdict?.answer)
        #expect(answer.hasPrefix("A sample of 100 of the 120 rows of \(url),"), "\(answer)")
        #expect(!answer.contains("postgres's") && !answer.contains("'s 120 rows"), "\(answer)")
        var file = e
        file.source = Source(path: "/data/corpus.npy", format: .npy, dtype: "float32", rows: 120, dim: e.dimension)
        let fromFile = try ShiftReference(reference: file, configuration: ShiftWindowsTests.configuration(permutations: 99), bandChunks: 19, sampleSize: 100)
        #expect(fromFile.report().verdict?.answer.hasPrefix("A sample of 100 of the 120 rows of corpus.npy,") == true)
    }
}
