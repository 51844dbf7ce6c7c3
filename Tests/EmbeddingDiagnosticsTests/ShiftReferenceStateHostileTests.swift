import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// Hostile saved references (`shift --save-reference` / `--reference`): edited, truncated, of
/// another version or kind, payloads that disagree with each other. Every case is refused with an
/// `EmbdiagError` naming the file (exit 2); edits are tried as is (the checksum catches them) and
/// resealed with a recomputed checksum (the checks behind it catch them).
@Suite struct ShiftReferenceStateHostileTests {
    static func refused(_ data: Data, _ words: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let path = NSTemporaryDirectory() + "embdiag-ref-\(UUID().uuidString).state"
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            try data.write(to: URL(fileURLWithPath: path))
            let r = try ShiftReferenceState.read(path)
            Issue.record("accepted: \(r.sample.count) rows", sourceLocation: sourceLocation)
        } catch let e as EmbdiagError {
            #expect(e.exitCode == 2)
            #expect(e.description.contains(path), "\(e.description)", sourceLocation: sourceLocation)
            #expect(e.description.contains(words), "\(e.description)", sourceLocation: sourceLocation)
        } catch { Issue.record("\(error)", sourceLocation: sourceLocation) }
    }

    /// The state with its payload arrays changed by `edit`, re-encoded and sealed.
    static func editedArrays(_ edit: (inout PartialState) -> Void) throws -> Data {
        let (_, data) = try ShiftWindowsTests.savedReference()
        var state = try PartialStateFile.decode(data, path: nil)
        edit(&state)
        return try PartialStateFile.encode(state)
    }

    @Test func tamperedAndTruncatedStatesAreRefused() throws {
        let (_, data) = try ShiftWindowsTests.savedReference()
        var flipped = data
        flipped[flipped.count - 5] ^= 0x40
        Self.refused(flipped, "checksum mismatch")
        Self.refused(data.prefix(data.count / 2), "not a valid saved shift reference")
        Self.refused(data.prefix(4), "too short")
        Self.refused(Data(), "empty file")
    }

    @Test func otherVersionsAndKindsAreRefused() throws {
        let (_, data) = try ShiftWindowsTests.savedReference()
        let v2 = try StateFileHostileTests.editState(data) { s in
            var p = s["parameters"] as! [String: String]
            p["shift_reference_version"] = "2"
            s["parameters"] = p
        }
        Self.refused(v2, "checksum mismatch")
        Self.refused(PartialStateFile.seal(v2), "version 2; this embdiag reads version 1")
        let container = try StateFileHostileTests.editState(data) { $0["format_version"] = 2 }
        Self.refused(PartialStateFile.seal(container), "format version 2")
        // An info partial state is a valid state file of another kind.
        let (info, _, _) = try StateFileHostileTests.infoStates()
        Self.refused(info, "not a saved shift reference")
        // Renamed to info: not a valid info state either (seed, parameters and arrays of a reference).
        let renamed = try StateFileHostileTests.editState(data) { $0["analyzer"] = "info" }
        Self.refused(PartialStateFile.seal(renamed), "not a valid saved shift reference")
        // Not a state at all: an .npy file.
        let npy = try Data(contentsOf: CLI.repositoryRoot.appendingPathComponent("data/sentences/by-section/fonts.npy"))
        Self.refused(npy, "not a valid saved shift reference")
    }

    @Test func payloadsThatDisagreeAreRefused() throws {
        Self.refused(try Self.editedArrays { $0.arrays["sample_rows"] = .int64(Array(0..<249).map { Int64($0) }) }, "'sample' holds")
        Self.refused(try Self.editedArrays { s in
            var rows = Array(0..<250).map { Int64($0) }
            rows[3] = rows[2]
            s.arrays["sample_rows"] = .int64(rows)
        }, "increase strictly (entry 3 is 2)")
        Self.refused(try Self.editedArrays { $0.arrays["sample_rows"] = .int64(Array(-1..<249).map { Int64($0) }) }, "non-negative")
        Self.refused(try Self.editedArrays { $0.arrays["rows"] = .int64([200]) }, "covers 200 rows")
        Self.refused(try Self.editedArrays { s in
            guard case .float32(var v) = s.arrays["sample"]! else { return }
            v[7] = .nan
            s.arrays["sample"] = .float32(v)
        }, "NaN")
        Self.refused(try Self.editedArrays { $0.arrays["bandwidth"] = .float64([0]) }, "bandwidth 0")
        Self.refused(try Self.editedArrays { $0.arrays["bandwidth"] = .float64([.infinity]) }, "bandwidth")
        Self.refused(try Self.editedArrays { $0.arrays["band_counts"] = .int64([18]) }, "do not add up")
        Self.refused(try Self.editedArrays { $0.arrays["band_sizes"] = .int64([249]) }, "does not fit")
        Self.refused(try Self.editedArrays { $0.arrays["band_scores"] = .float64([Double](repeating: .nan, count: 19)) }, "not finite")
        Self.refused(try Self.editedArrays { $0.arrays["extra"] = .int64([1]) }, "unknown array 'extra'")
        Self.refused(try Self.editedArrays { $0.arrays["sample_labels_lengths"] = nil }, "need both")
        Self.refused(try Self.editedArrays { $0.parameters["band_chunks"] = "0" }, "band_chunks")
        Self.refused(try Self.editedArrays { $0.parameters["minimum_rows"] = "100000" }, "minimum_rows")
        // A payload whose row count disagrees with the shard (the container's own check).
        Self.refused(try Self.editedArrays { $0.arrays["rows"] = .int64([301]) }, "covers 301 rows")
        // The clusters: all or none, every count and index checked against the sample.
        Self.refused(try Self.editedArrays { $0.arrays["clusters_counts"] = nil }, "missing clusters_counts")
        Self.refused(try Self.editedArrays { $0.arrays["clusters_centroids"] = .float32([1, 2]) }, "clusters_centroids")
        Self.refused(try Self.editedArrays { s in
            guard case .float32(var v) = s.arrays["clusters_centroids"]! else { return }
            v[0] = .infinity
            s.arrays["clusters_centroids"] = .float32(v)
        }, "NaN or infinite")
        Self.refused(try Self.editedArrays { s in
            guard case .int64(var v) = s.arrays["clusters_assignment"]!, case .int64(let counts) = s.arrays["clusters_counts"]! else { return }
            v[5] = Int64(counts.count)
            s.arrays["clusters_assignment"] = .int64(v)
        }, "outside 1…")
        Self.refused(try Self.editedArrays { s in
            guard case .int64(var counts) = s.arrays["clusters_counts"]! else { return }
            counts[0] += 1
            counts[1] -= 1
            s.arrays["clusters_counts"] = .int64(counts)
        }, "differ from the assignment")
        Self.refused(try Self.editedArrays { s in
            guard case .int64(var v) = s.arrays["clusters_exemplars"]! else { return }
            v[0] = 250
            s.arrays["clusters_exemplars"] = .int64(v)
        }, "outside the sample")
        Self.refused(try Self.editedArrays { s in
            guard case .int64(var v) = s.arrays["clusters_exemplars"]!, case .int64(let a) = s.arrays["clusters_assignment"]! else { return }
            v[0] = Int64(a.firstIndex { $0 != 0 }!)
            s.arrays["clusters_exemplars"] = .int64(v)
        }, "not in its cluster")
        Self.refused(try Self.editedArrays { $0.arrays["clusters_parameters"] = .int64([0, 1, 250, 5, 0]) }, "parameters")
        Self.refused(try Self.editedArrays { $0.arrays["clusters_names_lengths"] = .int64([1]) }, "clusters")
    }

    /// A batch of another dimension than the saved reference is refused before any test.
    @Test func dimensionMismatchIsRefused() throws {
        let (reference, _) = try ShiftWindowsTests.savedReference()
        let other = Embeddings(matrix: Matrix(rows: 20, cols: 8, values: (0..<160).map { Float($0 % 7) + 1 }), name: "batch.npy")
        do {
            _ = try ShiftWindows(reference: reference, windows: [ShiftWindowInput(name: "b", rows: other)], configuration: ShiftWindowsTests.configuration())
            Issue.record("a batch of dimension 8 was tested against a 384-dimensional reference")
        } catch let e as EmbdiagError {
            #expect(e.description.contains("dimension 8 differs"), "\(e.description)")
        }
    }

    /// A header field of the wrong type or range is named, not called "not valid JSON".
    @Test func headerFieldsOutOfRangeAreNamed() throws {
        let (_, data) = try ShiftWindowsTests.savedReference()
        let negativeSeed = try StateFileHostileTests.editState(data) { $0["seed"] = -1 }
        Self.refused(PartialStateFile.seal(negativeSeed), "field 'seed'")
        let textDim = try StateFileHostileTests.editState(data) { $0["dim"] = "384" }
        Self.refused(PartialStateFile.seal(textDim), "field 'dim'")
    }

    /// The saved reference keeps k (its regions' new-row rate) and R (its bands): a run with another
    /// --k or --band-chunks would compare numbers of two definitions (with --k 2, a window of the
    /// reference's own distribution was reported as a new region), so it is refused; without them
    /// the saved values are used.
    @Test func savedKAndBandChunksCannotBeChanged() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let sentences = ShiftWindowsTests.sentences
        let ref = dir + "/ref.npy", batch = dir + "/batch.npy", state = dir + "/ref.state"
        try EmbeddingWriter.writeNpy(sentences.selecting(rows: Array(0..<300).map { $0 * 6 }).matrix, to: ref)
        try EmbeddingWriter.writeNpy(sentences.selecting(rows: Array(0..<60).map { $0 * 6 + 1 }).matrix, to: batch)
        #expect(try CLI.run(["shift", ref, "--save-reference", state, "--chunk", "30", "--k", "4", "--band-chunks", "19", "--quiet"]).status == 0)
        for (option, value, words) in [("--k", "2", "keeps its k-NN balls (k = 4)"), ("--band-chunks", "5", "draws its bands with 19 chunks")] {
            let r = try CLI.run(["shift", "--reference", state, batch, "--permutations", "19", option, value, "--quiet"])
            #expect(r.status == 2 && r.stderr.contains(words), "\(option): exit \(r.status) \(r.stderr)")
        }
        let json = dir + "/o.json"
        let r = try CLI.run(["shift", "--reference", state, batch, "--permutations", "19", "--k", "4", "--band-chunks", "19", "--json", json, "--quiet",
                             "--require", "windows_new_region<=0"])
        #expect(r.status == 0, "\(r.stderr)")
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: json))) as! [String: Any]
        let parameters = report["parameters"] as! [String: Any]
        #expect(parameters["k"] as? Int == 4, "\(parameters)")
        #expect(try CLI.run(["shift", "--reference", state, batch, "--permutations", "19", "--quiet", "--require", "windows_new_region<=0"]).status == 0)
    }
}
