import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// Findings of an independent hostile test of the readers and of label matching: two arrays named
/// like embeddings in one container, labels compared by canonical equivalence, a word2vec word's
/// bad bytes blamed on the header, and .npy headers numpy reads that were refused.
@Suite(.serialized) struct ReaderFindingsTests {
    static let nfc = "caf\u{E9}", nfd = "cafe\u{301}"

    static func json(_ text: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
    }

    // MARK: R1 — several arrays named like embeddings

    /// `embeddings` and `embedding` in one .npz, in either member order: exit 2 naming both and
    /// --key, never the first one stored; --key picks either.
    @Test func npzWithTwoEmbeddingNamesIsRefused() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a: [[Float]] = [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]
        let b = a.map { $0.map { $0 * 100 } }
        for (name, members) in [("o1.npz", [("embeddings.npy", a), ("embedding.npy", b)]), ("o2.npz", [("embedding.npy", b), ("embeddings.npy", a)])] {
            let path = dir + "/" + name
            try HostileFollowUpTests.npz(members, compressed: false, to: path)
            let r = try CLI.run(["info", path, "--json", "-"])
            #expect(r.status == 2, "\(name): \(r.status) \(r.stderr)")
            #expect(r.stderr.contains("'embeddings' 3×4") && r.stderr.contains("'embedding' 3×4") && r.stderr.contains("--key"), "\(r.stderr)")
            let picked = try CLI.run(["info", path, "--key", "embeddings", "--json", "-"])
            #expect(picked.status == 0, "\(picked.stderr)")
            let m = try Self.json(picked.stdout)["metrics"] as! [String: Any]
            // Row norms of a: √14, √126, √366; mean 11.3659…
            #expect(abs((m["norm_mean"] as! Double) - ([14.0, 126, 366].map { $0.squareRoot() }.reduce(0, +) / 3)) < 1e-4)
        }
        // One embedding name among other matrices is still taken, as documented.
        let one = dir + "/one.npz"
        try HostileFollowUpTests.npz([("proj.npy", [[1, 2]]), ("vectors.npy", a)], compressed: false, to: one)
        let e = try EmbeddingReader.read(one, options: ReadOptions(computeChecksum: false))
        #expect(e.source.key == "vectors" && e.count == 3 && e.dimension == 4)
    }

    /// `emb` and `vectors` in one .safetensors, with either data offset first: exit 2.
    @Test func safetensorsWithTwoEmbeddingNamesIsRefused() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = (0..<12).map(Float.init), b = a.map { $0 * 100 }
        for (name, header, data) in [
            ("s1.safetensors", "{\"emb\":{\"dtype\":\"F32\",\"shape\":[3,4],\"data_offsets\":[0,48]},\"vectors\":{\"dtype\":\"F32\",\"shape\":[3,4],\"data_offsets\":[48,96]}}", a + b),
            ("s3.safetensors", "{\"emb\":{\"dtype\":\"F32\",\"shape\":[3,4],\"data_offsets\":[48,96]},\"vectors\":{\"dtype\":\"F32\",\"shape\":[3,4],\"data_offsets\":[0,48]}}", b + a),
        ] {
            let h = Array(header.utf8)
            let bytes = withUnsafeBytes(of: UInt64(h.count).littleEndian, Array.init) + h + ReaderHostileTests.f32(data)
            let path = try ReaderHostileTests.write(name, bytes, in: dir)
            let r = try CLI.run(["info", path, "--json", "-"])
            #expect(r.status == 2 && r.stderr.contains("'emb' 3×4") && r.stderr.contains("'vectors' 3×4") && r.stderr.contains("--key"), "\(name): \(r.stderr)")
            let e = try EmbeddingReader.read(path, options: ReadOptions(key: "emb", computeChecksum: false))
            #expect(e.matrix[2, 3] == 11)  // 'emb' holds the unscaled values in both files
        }
    }

    // MARK: U1 — labels and ids are exact code points

    @Test func labelKeyComparesCodePoints() {
        #expect(Self.nfc == Self.nfd)  // Swift's String ==, the trap
        #expect(LabelKey(Self.nfc) != LabelKey(Self.nfd))
        #expect(LabelKey("\u{212B}") != LabelKey("\u{C5}"))
        #expect(LabelKey("\u{212A}") != LabelKey("K"))
        #expect(Set([Self.nfc, Self.nfd, "\u{212B}", "\u{C5}", "x", "y"].map(LabelKey.init)).count == 6)
        #expect(LabelKey("abc") == LabelKey(String("xabc".dropFirst())))
        #expect(LabelKey.same("a long label of more than eight bytes", "a long label of more than eight bytes"))
        #expect(!LabelKey.same("a long label of more than eight bytes", "a long label of more than eight bytez"))
        #expect([Self.nfd, Self.nfc, "b"].sortedByCodePoint() == ["b", Self.nfd, Self.nfc].sortedByCodePoint())
    }

    /// info: six byte-distinct labels have no duplicates (Python: len(set(labels)) == 6).
    @Test func infoCountsCodePointDuplicates() throws {
        let labels = [Self.nfc, Self.nfd, "\u{212B}", "\u{C5}", "x", "y"]
        let e = Embeddings(matrix: Matrix(rows: 6, cols: 2, values: (0..<12).map(Float.init)), labels: labels)
        #expect(ValidationSummary(e).duplicateLabels.isEmpty)
        let twice = Embeddings(matrix: Matrix(rows: 3, cols: 2, values: (0..<6).map(Float.init)), labels: [Self.nfc, Self.nfd, Self.nfc])
        #expect(ValidationSummary(twice).duplicateLabels.map(\.label) == [Self.nfc])
        #expect(ValidationSummary(twice).duplicateLabels.first.map { LabelKey.same($0.label, Self.nfc) } == true)

        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try CLI.writeNpy((0..<6).map { i in (0..<4).map { Float(i * 4 + $0 + 1) } }, to: dir + "/old.npy")
        try (labels.joined(separator: "\n") + "\n").write(toFile: dir + "/labels.txt", atomically: true, encoding: .utf8)
        let r = try CLI.run(["info", dir + "/old.npy", "--labels", dir + "/labels.txt", "--json", "-"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect((try Self.json(r.stdout)["metrics"] as! [String: Any])["duplicate_labels"] as? Int == 0, "\(r.stdout)")
    }

    /// compat --pair-by label: 'café' (NFC) in OLD and 'café' (NFD) in NEW are different ids: 5
    /// pairs, as a pandas or SQL join gives; and a file holding both spellings has distinct ids.
    @Test func compatPairsIdsByCodePoints() throws {
        let p = try IdPairing(idsA: [Self.nfc, "b", "c", "d", "e", "f"], idsB: [Self.nfd, "b", "c", "d", "e", "f"],
                              nameA: "OLD", nameB: "NEW", duplicates: .error)
        #expect(p.rowsA == [1, 2, 3, 4, 5] && p.rowsB == [1, 2, 3, 4, 5] && p.unmatchedA == 1 && p.unmatchedB == 1)
        let both = try IdPairing(idsA: [Self.nfc, Self.nfd, "x"], idsB: [Self.nfd, "x", Self.nfc], nameA: "OLD", nameB: "NEW", duplicates: .error)
        #expect(both.rowsA == [0, 1, 2] && both.rowsB == [2, 0, 1] && both.duplicateRowsA == 0)
        #expect(Retrieval.classIds(gallery: [Self.nfc, Self.nfd, Self.nfc]).gallery == [0, 1, 0])

        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let old = (0..<6).map { i in (0..<4).map { j in Float(sin(1.7 * Double(4 * i + j) + 0.3)) } }
        var new = old
        new[0] = (0..<4).map { j in Float(cos(2.9 * Double(j) + 1.1)) }
        try CLI.writeNpy(old, to: dir + "/old.npy")
        try CLI.writeNpy(new, to: dir + "/new.npy")
        try "\(Self.nfc)\nb\nc\nd\ne\nf\n".write(toFile: dir + "/old-ids.txt", atomically: true, encoding: .utf8)
        try "\(Self.nfd)\nb\nc\nd\ne\nf\n".write(toFile: dir + "/new-ids.txt", atomically: true, encoding: .utf8)
        let r = try CLI.run(["compat", "--old", dir + "/old.npy", "--new", dir + "/new.npy", "--pair-by", "label",
                             "--old-ids", dir + "/old-ids.txt", "--new-ids", dir + "/new-ids.txt", "--json", "-"])
        let m = try Self.json(r.stdout)["metrics"] as! [String: Any]
        #expect(m["paired_rows"] as? Int == 5, "\(r.status) \(r.stderr)")
        // Both spellings in one ids file are two ids, not a duplicate (--duplicates error is the default).
        try "\(Self.nfc)\n\(Self.nfd)\nc\nd\ne\nf\n".write(toFile: dir + "/both-ids.txt", atomically: true, encoding: .utf8)
        let d = try CLI.run(["compat", "--old", dir + "/old.npy", "--new", dir + "/new.npy", "--pair-by", "label",
                             "--old-ids", dir + "/both-ids.txt", "--new-ids", dir + "/both-ids.txt", "--duplicates", "error", "--json", "-"])
        #expect(!d.stderr.contains("several rows"), "\(d.stderr)")
        #expect((try Self.json(d.stdout)["metrics"] as! [String: Any])["paired_rows"] as? Int == 6, "\(d.status) \(d.stderr)")
    }

    /// Word lookup (bias word lists, relrep anchors) matches code points, as gensim's vocabulary does.
    @Test func vocabularyLookupMatchesCodePoints() throws {
        let e = Embeddings(matrix: Matrix(rows: 2, cols: 2, values: [1, 0, 0, 1]), labels: [Self.nfc, "x"])
        let lookup = VocabularyLookup(e, caseInsensitive: false)
        #expect(lookup.row(Self.nfc) == 0 && lookup.row(Self.nfd) == nil)
        #expect(VocabularyLookup(e, caseInsensitive: true).row(Self.nfd.uppercased()) == nil)
        #expect(VocabularyLookup(e, caseInsensitive: true).row(Self.nfc.uppercased()) == 0)
        #expect(try anchorRows(labelled: [Self.nfc], in: e, source: "anchors") == [0])
        #expect(throws: EmbdiagError.self) { try anchorRows(labelled: [Self.nfd], in: e, source: "anchors") }
    }

    // MARK: M1 — a word2vec word with bad bytes in aligned records

    static func word2vec(_ words: [[UInt8]], dim: Int) -> [UInt8] {
        var out = Array("\(words.count) \(dim)\n".utf8)
        for (i, w) in words.enumerated() { out += w + [0x20] + ReaderHostileTests.f32((0..<dim).map { Float(i * dim + $0) }) + [0x0A] }
        return out
    }

    @Test func aBadWordInAlignedRecordsIsNamed() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let invalid = try ReaderHostileTests.write("w.bin", Self.word2vec([Array("ok".utf8), [0x63, 0x61, 0x66, 0xC3], Array("zz".utf8)], dim: 3), in: dir)
        let r = try CLI.run(["info", invalid, "-q"])
        #expect(r.status == 2, "\(r.stderr)")
        #expect(r.stderr.contains("row 1 of 3 (the record at byte offset 20): word 'caf\\xC3' is not valid UTF-8 (byte 0xC3 at byte 3 of the word)"), "\(r.stderr)")
        #expect(!r.stderr.contains("misaligned") && !r.stderr.contains("does not match"), "\(r.stderr)")
        let control = try ReaderHostileTests.write("c.bin", Self.word2vec([Array("ok".utf8), Array("zz".utf8), [0x61, 0x07, 0x62]], dim: 3), in: dir)
        let c = ReaderHostileTests.refusal(control)
        #expect(c.contains("row 2 of 3") && c.contains("word 'a\\x07b' holds control byte 0x07 (at byte 1 of the word)"), "\(c)")
        // A wrong dimension is still blamed on the header.
        var wrong = Self.word2vec([Array("ok".utf8), Array("zz".utf8), Array("yy".utf8)], dim: 3)
        wrong.replaceSubrange(0..<4, with: Array("3 2\n".utf8))
        let w = ReaderHostileTests.refusal(try ReaderHostileTests.write("wrong.bin", wrong, in: dir))
        #expect(w.contains("dimension 2 does not match") || w.contains("trailing data") || w.contains("misaligned"), "\(w)")
    }

    // MARK: N1 — .npy headers numpy reads

    static func npy(_ header: String) -> [UInt8] {
        var h = header
        let total = 10 + h.utf8.count + 1
        h += String(repeating: " ", count: (64 - total % 64) % 64) + "\n"
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(h.utf8.count & 0xFF), UInt8(h.utf8.count >> 8)] + Array(h.utf8)
            + ReaderHostileTests.f32((0..<12).map(Float.init))
    }

    @Test(arguments: [
        "{'descr':\t'<f4',\t'fortran_order':\tFalse,\t'shape':\t(3,\t4)}",
        "{'descr': '<f4',\r'fortran_order': False, 'shape': (3, 4), }",
        "{'descr': '<f4', 'fortran_order': False, 'shape': ((3), 4), }",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (0x3, 4), }",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (0o3, 0b100), }",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (3L, 4L), }",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (+3, 0x_4), }",
        "{\"descr\": u'<' 'f4', 'fortran_order': (False), 'shape': (3, 4) # numpy\n}",
        "{'descr': '<f8', 'descr': '<f4', 'fortran_order': False, 'shape': (3,4,),}",
    ])
    func npyHeadersNumpyReadsAreRead(header: String) throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = try ReaderHostileTests.write("h.npy", Self.npy(header), in: dir)
        let e = try EmbeddingReader.read(path, options: ReadOptions(computeChecksum: false))
        #expect(e.count == 3 && e.dimension == 4 && e.matrix[2, 3] == 11)
        #expect(try CLI.run(["info", path, "-q"]).status == 0)
    }

    /// Integer literals as Python writes them (the shape alone; `parseHeader` reads no data).
    @Test func npyShapeIntegersAsPythonWritesThem() throws {
        for (text, shape) in [("1_000, 0b1_0", [1000, 2]), ("0o17, 0XfF", [15, 255]), ("00, 0_0", [0, 0]), ("(((7))), 8l", [7, 8])] {
            let bytes = Self.npy("{'descr': '<f4', 'fortran_order': False, 'shape': (\(text)), }")
            let h = try bytes.withUnsafeBytes { try NpyReader.parseHeader($0, path: "h.npy") }
            #expect(h.shape == shape, "\(text): \(h.shape)")
        }
    }

    @Test(arguments: [
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (3.0, 4), }", "'3.0' is not an integer literal"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (03, 4), }", "'03' is not an integer literal"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 0_4), }", "'0_4' is not an integer literal"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4__0), }", "'4__0' is not an integer literal"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), } x", "text after the dict's closing '}'"),
        ("{descr: '<f4', 'fortran_order': False, 'shape': (3, 4), }", "a key that is not a quoted string"),
        ("{'descr': '<\\x66\\x34', 'fortran_order': False, 'shape': (3, 4), }", "an escape sequence in a string (not accepted)"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': ((3,), 4), }", "shape '((3,), 4)' is not a tuple of non-negative integers"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4)", "no closing '}'"),
    ])
    func npyHeadersNotAcceptedAreSaid(header: String, message: String) throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = try ReaderHostileTests.write("h.npy", Self.npy(header), in: dir)
        let r = try CLI.run(["info", path, "-q"])
        #expect(r.status == 2 && r.stderr.contains(message) && !r.stderr.contains("key is not quoted"), "\(r.stderr)")
    }
}
