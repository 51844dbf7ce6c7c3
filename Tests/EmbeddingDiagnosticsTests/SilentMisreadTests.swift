import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// Inputs that used to be misread with exit 0 (wrong numbers, lost reports, gates that
/// pass by accident). Each test fails on the code before the fix. Malformed files live in the
/// corpus (Tests/Fixtures/malformed, FormatTests and CLITests read every one of them).
@Suite(.serialized) struct SilentMisreadTests {
    static func rows(_ n: Int, _ d: Int, seed: UInt64) -> [[Float]] {
        var rng = SeededGenerator(seed: seed)
        return (0..<n).map { _ in (0..<d).map { _ in Float(rng.nextGaussian()) } }
    }
    static func json(_ path: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
    }
    static func metrics(_ path: String) throws -> [String: Any] { try json(path)["metrics"] as! [String: Any] }

    // 1. info with several inputs and one --json/--html file: refused (it kept only the last).
    @Test func infoRefusesSeveralInputsIntoOneJSONFile() throws {
        let dir = try CLI.temporaryDirectory()
        try CLI.writeNpy([[.nan, 1], [1, 2]], to: dir + "/nan.npy")
        try CLI.writeNpy([[3, 1], [1, 2]], to: dir + "/good.npy")
        for option in ["--json", "--html"] {
            let r = try CLI.run(["info", dir + "/nan.npy", dir + "/good.npy", option, dir + "/x.out"])
            #expect(r.status == 2, "\(option): \(r.stderr)")
            #expect(r.stderr.contains("--output") && r.stderr.split(separator: "\n").count == 1)
            #expect(!FileManager.default.fileExists(atPath: dir + "/x.out"))
        }
        // One input with --json still works.
        #expect(try CLI.run(["info", dir + "/nan.npy", "--json", dir + "/one.json", "--quiet"]).status == 0)
        #expect(try Self.metrics(dir + "/one.json")["nan_rows"] as? Int == 1)
    }

    // 2. info dir1/emb.npy dir2/emb.npy --output rep: one folder per input, none overwritten.
    @Test func infoOutputFoldersAreUniquePerInput() throws {
        let dir = try CLI.temporaryDirectory()
        for (sub, n) in [("dir1", 3), ("dir2", 5)] {
            try FileManager.default.createDirectory(atPath: dir + "/" + sub, withIntermediateDirectories: true)
            try CLI.writeNpy(Self.rows(n, 2, seed: UInt64(n)), to: dir + "/\(sub)/emb.npy")
        }
        let r = try CLI.run(["info", dir + "/dir1/emb.npy", dir + "/dir2/emb.npy", dir + "/dir1/emb.npy", "--output", dir + "/rep", "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir + "/rep").sorted()
        #expect(names == ["dir1_emb.npy", "dir1_emb.npy-2", "dir2_emb.npy"], "\(names)")
        #expect(try Self.metrics(dir + "/rep/dir1_emb.npy/report.json")["rows"] as? Int == 3)
        #expect(try Self.metrics(dir + "/rep/dir2_emb.npy/report.json")["rows"] as? Int == 5)
    }

    // 3. CSV with an integer id column: ids are not a dimension (by header name, by content, by option).
    @Test func csvIdColumnIsNotADimension() throws {
        let dir = try CLI.temporaryDirectory()
        let data = Self.rows(40, 4, seed: 3)
        let body = data.enumerated().map { i, r in "\(i + 100)," + r.map { String($0) }.joined(separator: ",") }.joined(separator: "\n") + "\n"
        try ("doc_id,a,b,c,d\n" + body).write(toFile: dir + "/named.csv", atomically: true, encoding: .utf8)
        try body.write(toFile: dir + "/plain.csv", atomically: true, encoding: .utf8)
        try ("ref,a,b,c,d\n" + body).write(toFile: dir + "/other.csv", atomically: true, encoding: .utf8)
        for file in ["named.csv", "plain.csv"] {
            let e = try EmbeddingReader.read(dir + "/" + file, options: ReadOptions(computeChecksum: false))
            #expect(e.count == 40 && e.dimension == 4, "\(file): \(e.count) × \(e.dimension)")
            #expect(e.labels?.first == "100" && e.source.idColumn != nil)
            #expect(e.matrix.rowArray(7) == data[7])
        }
        #expect(try EmbeddingReader.read(dir + "/named.csv").source.idColumn?.contains("header name") == true)
        #expect(try EmbeddingReader.read(dir + "/plain.csv").source.idColumn?.contains("increasing") == true)
        // --id-column by name and by number; 0 keeps the column as data.
        #expect(try EmbeddingReader.read(dir + "/other.csv", options: ReadOptions(idColumn: "ref")).dimension == 4)
        #expect(try EmbeddingReader.read(dir + "/other.csv", options: ReadOptions(idColumn: "1")).dimension == 4)
        #expect(try EmbeddingReader.read(dir + "/plain.csv", options: ReadOptions(idColumn: "0")).dimension == 5)
        #expect(throws: EmbdiagError.self) { try EmbeddingReader.read(dir + "/other.csv", options: ReadOptions(idColumn: "nope")) }
        // The CLI says so on stderr and records it in the report's inputs.
        let r = try CLI.run(["info", dir + "/plain.csv", "--quiet", "--json", dir + "/i.json"])
        #expect(r.status == 0 && r.stderr.contains("row ids"), "\(r.stderr)")
        #expect(try Self.metrics(dir + "/i.json")["dim"] as? Int == 4)
        let inputs = try Self.json(dir + "/i.json")["inputs"] as! [[String: Any]]
        #expect((inputs[0]["id_column"] as? String)?.contains("column 1") == true)
        // A real dimension that is not strictly increasing integers stays data.
        let fixture = try EmbeddingReader.read(CLI.fixtures.appendingPathComponent("formats/m-plain.csv").path)
        #expect(fixture.dimension == 3 && fixture.source.idColumn == nil)
    }

    // 5. Audit YAML: unknown keys are exit 2 naming the key, its line and a did-you-mean.
    @Test func auditUnknownKeysAreErrors() throws {
        let dir = try CLI.temporaryDirectory()
        try CLI.writeNpy([[.nan, 1], [1, 2]], to: dir + "/nan.npy")
        let yaml = """
        title: t
        checks:
          - name: valid
            command: info
            inputs: [\(dir)/nan.npy]
            requires: ["nan_rows == 0"]
        """
        try yaml.write(toFile: dir + "/a.yaml", atomically: true, encoding: .utf8)
        let r = try CLI.run(["audit", dir + "/a.yaml", "--output", dir + "/out", "--quiet"])
        #expect(r.status == 2, "\(r.stderr)")
        #expect(r.stderr.contains("'requires'") && r.stderr.contains("line 6") && r.stderr.contains("did you mean 'require'"), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1)
        // The spelled-right gate fails (exit 1): the misspelling must not have passed.
        try yaml.replacingOccurrences(of: "requires:", with: "require:").write(toFile: dir + "/b.yaml", atomically: true, encoding: .utf8)
        #expect(try CLI.run(["audit", dir + "/b.yaml", "--output", dir + "/out2", "--quiet"]).status == 1)
        // Top-level typo, and a YAML syntax error with line and column.
        try "titel: x\nchecks: []\n".write(toFile: dir + "/c.yaml", atomically: true, encoding: .utf8)
        let c = try CLI.run(["audit", dir + "/c.yaml", "--output", dir + "/out3"])
        #expect(c.status == 2 && c.stderr.contains("'titel'") && c.stderr.contains("did you mean 'title'"), "\(c.stderr)")
        try "checks:\n  - name: [x\n".write(toFile: dir + "/d.yaml", atomically: true, encoding: .utf8)
        let d = try CLI.run(["audit", dir + "/d.yaml", "--output", dir + "/out4"])
        #expect(d.status == 2 && d.stderr.contains("line ") && d.stderr.contains("column "), "\(d.stderr)")
        // An empty audit file is one clean line too.
        try "".write(toFile: dir + "/empty.yaml", atomically: true, encoding: .utf8)
        let empty = try CLI.run(["audit", dir + "/empty.yaml", "--output", dir + "/out5"])
        #expect(empty.status == 2 && empty.stderr.contains("empty audit file"), "\(empty.stderr)")
        // --output onto an existing file: one clean line.
        try "x".write(toFile: dir + "/file", atomically: true, encoding: .utf8)
        let e = try CLI.run(["audit", dir + "/b.yaml", "--output", dir + "/file"])
        #expect(e.status == 2 && e.stderr.contains("not a folder") && !e.stderr.contains("NSCocoaErrorDomain"), "\(e.stderr)")
    }

    // 8. convert and map honour --on-invalid (error by default, drop on request).
    @Test func convertAndMapHonourOnInvalid() throws {
        let dir = try CLI.temporaryDirectory()
        try CLI.writeNpy([[1, 2], [.nan, 1], [0, 0], [3, 4]], to: dir + "/bad.npy")
        let convert = try CLI.run(["convert", dir + "/bad.npy", dir + "/out.npy", "--quiet"])
        #expect(convert.status == 2 && convert.stderr.contains("NaN") && convert.stderr.contains("bad.npy"), "\(convert.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/out.npy"))
        let dropped = try CLI.run(["convert", dir + "/bad.npy", dir + "/out.npy", "--quiet", "--on-invalid", "drop"])
        #expect(dropped.status == 0 && dropped.stderr.contains("dropped 2 row(s)"), "\(dropped.stderr)")
        #expect(try EmbeddingReader.read(dir + "/out.npy").matrix.values == [1, 2, 3, 4])
        // map: an identity mapping written by hand (weights + metadata).
        try CLI.writeNpy([[1, 0], [0, 1]], to: dir + "/id.npy")
        try #"{"kind": "linear_map", "fit": "linear", "input_dim": 2, "output_dim": 2, "bias": [0, 0]}"#.write(toFile: dir + "/id.json", atomically: true, encoding: .utf8)
        let map = try CLI.run(["map", "--mapping", dir + "/id.npy", dir + "/bad.npy", dir + "/m.npy", "--quiet"])
        #expect(map.status == 2 && map.stderr.contains("NaN"), "\(map.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/m.npy"))
        #expect(try CLI.run(["map", "--mapping", dir + "/id.npy", dir + "/bad.npy", dir + "/m.npy", "--quiet", "--on-invalid", "drop"]).status == 0)
        #expect(try EmbeddingReader.read(dir + "/m.npy").count == 2)
    }

    // 9. map validates the mapping: NaN weights, non-finite bias, weights changed after the fit.
    @Test func mapValidatesTheMapping() throws {
        let dir = try CLI.temporaryDirectory()
        let n = 60, d = 4
        let old = Self.rows(n, d, seed: 9)
        try CLI.writeNpy(old, to: dir + "/old.npy")
        try CLI.writeNpy(old.map { $0.reversed() }, to: dir + "/new.npy")
        let fit = try CLI.run(["compat", "--old", dir + "/old.npy", "--new", dir + "/new.npy", "--fit", "linear", "--save-mapping", dir + "/m.npy", "--quiet"])
        #expect(fit.status == 0, "\(fit.stderr)")
        #expect((try Self.json(dir + "/m.json")["weights_sha256"] as? String)?.count == 64)
        #expect(try CLI.run(["map", "--mapping", dir + "/m.npy", dir + "/new.npy", dir + "/ok.npy", "--quiet"]).status == 0)
        // Weights replaced by a NaN matrix (checksum entry removed, as a hand-made mapping has none).
        try CLI.writeNpy((0..<d).map { i in (0..<d).map { j in i == 1 && j == 2 ? Float.nan : (i == j ? 1 : 0) } }, to: dir + "/m.npy")
        let tampered = try CLI.run(["map", "--mapping", dir + "/m.npy", dir + "/new.npy", dir + "/x.npy", "--quiet"])
        #expect(tampered.status == 2 && tampered.stderr.contains("SHA-256"), "\(tampered.stderr)")
        var meta = try Self.json(dir + "/m.json")
        meta["weights_sha256"] = nil
        try JSONSerialization.data(withJSONObject: meta).write(to: URL(fileURLWithPath: dir + "/m.json"))
        let nan = try CLI.run(["map", "--mapping", dir + "/m.npy", dir + "/new.npy", dir + "/x.npy", "--quiet"])
        #expect(nan.status == 2 && nan.stderr.contains("NaN") && nan.stderr.contains("m.npy"), "\(nan.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/x.npy"))
    }

    // A mapping's descriptive fields (fit, scale, formula, rank…) are under metadata_sha256: an
    // edit is refused, not passed on as what the fit was.
    @Test func mapRefusesEditedMetadata() throws {
        let dir = try CLI.temporaryDirectory()
        let old = Self.rows(80, 4, seed: 19)
        try CLI.writeNpy(old, to: dir + "/old.npy")
        try CLI.writeNpy(old.map { [$0[1], -$0[0], $0[3], $0[2]] }, to: dir + "/new.npy")
        let fit = try CLI.run(["compat", "--old", dir + "/old.npy", "--new", dir + "/new.npy", "--fit", "procrustes-scaled", "--save-mapping", dir + "/m.npy", "--quiet"])
        #expect(fit.status == 0, "\(fit.stderr)")
        let original = try Self.json(dir + "/m.json")
        #expect((original["metadata_sha256"] as? String)?.count == 64)
        // Re-serialised with other spacing and key order: the same fields, still accepted.
        try JSONSerialization.data(withJSONObject: original).write(to: URL(fileURLWithPath: dir + "/m.json"))
        let same = try CLI.run(["map", "--mapping", dir + "/m.npy", dir + "/new.npy", dir + "/ok.npy", "--quiet"])
        #expect(same.status == 0, "\(same.stderr)")
        let edits: [(String, Any?)] = [("fit", "procrustes"), ("scale", 1.0), ("formula", "y = x"), ("seed", 7), ("metadata_sha256", "0"), ("metadata_sha256", nil)]
        for (key, value) in edits {
            var meta = original
            meta[key] = value
            try JSONSerialization.data(withJSONObject: meta).write(to: URL(fileURLWithPath: dir + "/m.json"))
            let r = try CLI.run(["map", "--mapping", dir + "/m.npy", dir + "/new.npy", dir + "/x.npy", "--quiet"])
            #expect(r.status == 2 && r.stderr.contains("metadata_sha256") && r.stderr.contains("m.json"), "\(key): \(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dir + "/x.npy"))
        }
    }

    /// A saved isotropy transform verifies its JSON (`transform_sha256`): an edited mean, a
    /// dropped, doubled or renamed step is refused before anything is written.
    @Test func applyTransformRefusesAnEditedTransform() throws {
        let dir = try CLI.temporaryDirectory()
        var rng = SeededGenerator(seed: 31)
        try CLI.writeNpy((0..<200).map { _ in (0..<8).map { _ in Float(rng.nextGaussian()) } }, to: dir + "/a.npy")
        let fit = try CLI.run(["anisotropy", dir + "/a.npy", "--transform", "center,abtt:2", "--save-transform", dir + "/t.json", "--quiet"])
        #expect(fit.status == 0, "\(fit.stderr)")
        let original = try Self.json(dir + "/t.json")
        #expect((original["transform_sha256"] as? String)?.count == 64)
        let apply = ["anisotropy", dir + "/a.npy", "--apply-transform", dir + "/t.json", "--write", dir + "/o.npy", "--quiet"]
        #expect(try CLI.run(apply).status == 0)
        try FileManager.default.removeItem(atPath: dir + "/o.npy")
        var steps = original["steps"] as! [[String: Any]]
        var meanEdited = steps
        var mean = meanEdited[0]["mean"] as! [Double]
        mean[0] += 1000
        meanEdited[0]["mean"] = mean
        var renamed = steps
        renamed[1]["step"] = "whiten"
        renamed[1]["components"] = 7
        steps.append(steps[1])
        let edits: [(String, Any)] = [("steps", meanEdited), ("steps", Array(steps.prefix(1))), ("steps", steps), ("steps", renamed),
                                      ("input_dimension", 9), ("transform_sha256", String(repeating: "0", count: 64)), ("transform_sha256", NSNull())]
        for (key, value) in edits {
            var edited = original
            edited[key] = value
            try JSONSerialization.data(withJSONObject: edited).write(to: URL(fileURLWithPath: dir + "/t.json"))
            let r = try CLI.run(apply)
            #expect(r.status == 2 && r.stderr.contains("t.json") && r.stderr.split(separator: "\n").count == 1, "\(key): \(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dir + "/o.npy"))
        }
        // The same fields re-serialised (other spacing and key order) still verify.
        try JSONSerialization.data(withJSONObject: original).write(to: URL(fileURLWithPath: dir + "/t.json"))
        #expect(try CLI.run(apply).status == 0)
    }

    // 10. compat --pair-by label with duplicate ids: error, or --duplicates first with counts in the report.
    @Test func compatDuplicateIdsAreAnErrorOrCounted() throws {
        let dir = try CLI.temporaryDirectory()
        let n = 20
        let m = Self.rows(n, 4, seed: 10)
        try CLI.writeNpy(m, to: dir + "/old.npy")
        try CLI.writeNpy(m, to: dir + "/new.npy")
        let ids = (0..<n).map { "item\($0 / 2)" }.joined(separator: "\n")
        try ids.write(toFile: dir + "/old.txt", atomically: true, encoding: .utf8)
        try ids.write(toFile: dir + "/new.txt", atomically: true, encoding: .utf8)
        let base = ["compat", "--old", dir + "/old.npy", "--new", dir + "/new.npy", "--pair-by", "label",
                    "--old-ids", dir + "/old.txt", "--new-ids", dir + "/new.txt", "--quiet"]
        let r = try CLI.run(base)
        #expect(r.status == 2 && r.stderr.contains("old.txt") && r.stderr.contains("several rows") && r.stderr.contains("--duplicates"), "\(r.stderr)")
        let first = try CLI.run(base + ["--duplicates", "first", "--json", dir + "/c.json"])
        #expect(first.status == 0, "\(first.stderr)")
        let report = try Self.json(dir + "/c.json")
        #expect((report["metrics"] as! [String: Any])["paired_rows"] as? Int == 10)
        let notes = (report["notes"] as? [String] ?? []).joined(separator: " ")
        #expect(notes.contains("→ 10 pairs") && notes.contains("10 OLD row(s) repeating an id"), "\(notes)")
    }

    // 7 (CLI side). A 5 × 0 matrix is an input error everywhere, not "compatible: yes".
    @Test func zeroDimensionIsAnInputError() throws {
        let dir = try CLI.temporaryDirectory()
        try CLI.writeNpy([[], [], [], [], []], to: dir + "/empty.npy")
        for args in [["anisotropy", dir + "/empty.npy"], ["compat", "--old", dir + "/empty.npy", "--new", dir + "/empty.npy"], ["info", dir + "/empty.npy"]] {
            let r = try CLI.run(args + ["--quiet"])
            #expect(r.status == 2 && r.stderr.contains("dimension 0"), "\(args): \(r.stderr)")
        }
    }

    // Gates: yes/no accepted for boolean metrics; a type mismatch is a usage error (exit 2), not exit 1.
    @Test func gatesOnYesNoMetricsAndTypeMismatch() throws {
        let report = Report(analyzer: "compat", title: "t", metrics: [ReportMetric("compatible", "c", true), ReportMetric("mean_cosine", "m", 0.3)])
        #expect(try report.evaluate([Requirement(parsing: "compatible == yes")]).first?.passed == true)
        #expect(try report.evaluate([Requirement(parsing: "compatible == no")]).first?.passed == false)
        #expect(try report.evaluate([Requirement(parsing: "compatible != no")]).first?.passed == true)
        #expect(throws: EmbdiagError.self) { try report.evaluate([Requirement(parsing: "mean_cosine == true")]) }
        #expect(throws: EmbdiagError.self) { try report.evaluate([Requirement(parsing: "compatible >= 0.5")]) }
        #expect(throws: EmbdiagError.self) { try Requirement(parsing: "compatible >= yes") }
        let dir = try CLI.temporaryDirectory()
        try CLI.writeNpy(Self.rows(30, 4, seed: 5), to: dir + "/m.npy")
        // NEW = OLD: no worse, but not compatible by Shen et al.'s strict criterion.
        let yes = try CLI.run(["compat", "--old", dir + "/m.npy", "--new", dir + "/m.npy", "--quiet", "--require", "no_worse == yes", "--require", "compatible == no"])
        #expect(yes.status == 0, "\(yes.stderr)")
        let mismatch = try CLI.run(["anisotropy", dir + "/m.npy", "--quiet", "--require", "mean_cosine == true"])
        #expect(mismatch.status == 2 && mismatch.stderr.contains("not yes/no"), "\(mismatch.stderr)")
    }

    // Unix conventions: - for stdin and stdout, pipes and FIFOs, negative option values, symlinks, /dev/stdout.
    @Test func unixConventions() throws {
        let dir = try CLI.temporaryDirectory()
        try CLI.writeNpy(Self.rows(12, 3, seed: 12), to: dir + "/m.npy")
        func shell(_ command: String) throws -> CLI.Result { try CLI.run(["-c", command], shell: true) }
        // stdin in, JSON to stdout.
        let piped = try shell("cat \(dir)/m.npy | \(CLI.binary) info - --json -")
        #expect(piped.status == 0, "\(piped.stderr)")
        let doc = try JSONSerialization.jsonObject(with: Data(piped.stdout.utf8)) as? [String: Any]
        #expect((doc?["metrics"] as? [String: Any])?["rows"] as? Int == 12, "\(piped.stdout.prefix(200))")
        #expect(((doc?["inputs"] as? [[String: Any]])?.first?["path"] as? String) == "<stdin>")
        // A FIFO is read as a stream.
        let fifo = try shell("mkfifo \(dir)/f.npy && (cat \(dir)/m.npy > \(dir)/f.npy &) && \(CLI.binary) info \(dir)/f.npy --quiet --json \(dir)/fifo.json")
        #expect(fifo.status == 0, "\(fifo.stderr)")
        #expect(try Self.metrics(dir + "/fifo.json")["rows"] as? Int == 12)
        // A negative number is an option's value (and a negative seed is refused by name, not "missing value").
        let seed = try CLI.run(["anisotropy", dir + "/m.npy", "--seed", "-1", "--quiet", "--json", dir + "/s.json"])
        #expect(seed.status == 2 && seed.stderr.contains("--seed -1") && seed.stderr.contains("negative seeds are refused"), "\(seed.stderr)")
        // Symlinked output: written through, the link stays a link.
        try "old".write(toFile: dir + "/target.json", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: dir + "/link.json", withDestinationPath: "target.json")
        #expect(try CLI.run(["info", dir + "/m.npy", "--quiet", "--json", dir + "/link.json"]).status == 0)
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: dir + "/link.json") == "target.json")
        #expect(try Self.metrics(dir + "/target.json")["rows"] as? Int == 12)
        // /dev/stdout works.
        let devStdout = try CLI.run(["info", dir + "/m.npy", "--json", "/dev/stdout"])
        #expect(devStdout.status == 0 && devStdout.stdout.contains("\"metrics\""), "\(devStdout.stderr)")
        // An invalid --format lists the valid ones on the same line.
        let format = try CLI.run(["info", dir + "/m.npy", "--format", "feather"])
        #expect(format.status == 2 && format.stderr.contains("npy, npz") && format.stderr.split(separator: "\n").count == 1, "\(format.stderr)")
        // Values near 1e30 or 1e-30: the Float32 products would overflow or underflow; the rows are
        // scaled by a power of two first, so the scale-free spectrum metrics equal those at scale 1.
        try CLI.writeNpy(Self.rows(20, 4, seed: 13), to: dir + "/plain.npy")
        try CLI.writeNpy(Self.rows(20, 4, seed: 13).map { $0.map { $0 * 1e30 } }, to: dir + "/huge.npy")
        try CLI.writeNpy(Self.rows(20, 4, seed: 13).map { $0.map { $0 * 1e-30 } }, to: dir + "/tiny.npy")
        _ = try CLI.run(["anisotropy", dir + "/plain.npy", "--quiet", "--json", dir + "/plain.json"])
        let plain = try Self.metrics(dir + "/plain.json")
        for name in ["huge", "tiny"] {
            let r = try CLI.run(["anisotropy", dir + "/\(name).npy", "--quiet", "--json", dir + "/\(name).json"])
            #expect(r.status == 0, "\(name): \(r.stderr)")
            let scaled = try Self.metrics(dir + "/\(name).json")
            for key in ["isoscore", "effective_rank", "participation_ratio", "mean_cosine"] {
                let a = try #require(plain[key] as? Double), b = try #require(scaled[key] as? Double, "\(name) \(key)")
                #expect(abs(a - b) <= 1e-5 * max(1, abs(a)), "\(name) \(key): \(b) vs \(a)")
            }
        }
        // Control bytes of a header are escaped in the one-line message.
        try Data("\u{1B}[31mred 3\n".utf8).write(to: URL(fileURLWithPath: dir + "/esc.bin"))
        let esc = try CLI.run(["info", dir + "/esc.bin"])
        #expect(esc.status == 2 && esc.stderr.contains("\\x1B[31m") && !esc.stderr.contains("\u{1B}"), "\(esc.stderr)")
        // A directory given to --labels says so.
        let labels = try CLI.run(["info", dir + "/m.npy", "--labels", dir])
        #expect(labels.status == 2 && labels.stderr.contains("is a directory"), "\(labels.stderr)")
    }

    // compat: keys keep the asked k, the effective k is a separate value, and caps are warnings.
    @Test func compatMetricKeysKeepTheAskedK() throws {
        let dir = try CLI.temporaryDirectory()
        let m = Self.rows(30, 5, seed: 21)
        try CLI.writeNpy(m, to: dir + "/old.npy")
        try CLI.writeNpy(m.map { $0.map { $0 * 2 } }, to: dir + "/new.npy")
        try (0..<30).map { "c\($0 % 3)" }.joined(separator: "\n").write(toFile: dir + "/classes.txt", atomically: true, encoding: .utf8)
        let r = try CLI.run(["compat", "--old", dir + "/old.npy", "--new", dir + "/new.npy", "--labels", dir + "/classes.txt",
                             "--k", "1,10,100", "--neighbor-k", "50", "--quiet", "--json", dir + "/c.json", "--require", "recall_at_100_cross>=0.5"])
        #expect(r.status == 0, "\(r.stderr)")
        let metrics = try Self.metrics(dir + "/c.json")
        #expect(metrics["recall_at_100_cross"] != nil && metrics["recall_at_29_cross"] == nil, "\(metrics.keys.sorted())")
        #expect(metrics["candidates_per_query"] as? Int == 29)
        #expect(metrics["knn_overlap_at_50"] != nil && metrics["knn_overlap_k_effective"] as? Int == 29)
        #expect(r.stderr.contains("warning: --k 100 capped to 29") && r.stderr.contains("warning: --neighbor-k 50 capped to 29"), "\(r.stderr)")
    }

    // compat --labels with every label unique: an input error with a hint, not 0 queries and exit 0.
    @Test func compatAllUniqueLabelsIsAnInputError() throws {
        let dir = try CLI.temporaryDirectory()
        try CLI.writeNpy(Self.rows(20, 4, seed: 22), to: dir + "/m.npy")
        try (0..<20).map { "id\($0)" }.joined(separator: "\n").write(toFile: dir + "/ids.txt", atomically: true, encoding: .utf8)
        let r = try CLI.run(["compat", "--old", dir + "/m.npy", "--new", dir + "/m.npy", "--labels", dir + "/ids.txt", "--quiet"])
        #expect(r.status == 2 && r.stderr.contains("ids.txt") && r.stderr.contains("--pair-by label"), "\(r.stderr)")
    }

    // compat: rows in another order look misaligned (Spearman ≈ 0, Jaccard ≈ 0): a warning and a gateable metric.
    @Test func compatWarnsWhenRowsLookMisaligned() throws {
        let dir = try CLI.temporaryDirectory()
        let m = Self.rows(200, 16, seed: 23)
        var rng = SeededGenerator(seed: 24)
        var order = Array(0..<200)
        order.shuffle(using: &rng)
        try CLI.writeNpy(m, to: dir + "/old.npy")
        try CLI.writeNpy(order.map { m[$0] }, to: dir + "/shuffled.npy")
        let bad = try CLI.run(["compat", "--old", dir + "/old.npy", "--new", dir + "/shuffled.npy", "--quiet", "--json", dir + "/bad.json"])
        #expect(bad.status == 0 && bad.stderr.contains("misaligned"), "\(bad.stderr)")
        #expect(try Self.metrics(dir + "/bad.json")["rows_look_misaligned"] as? Bool == true)
        let gate = try CLI.run(["compat", "--old", dir + "/old.npy", "--new", dir + "/shuffled.npy", "--quiet", "--require", "rows_look_misaligned == no"])
        #expect(gate.status == 1)
        let good = try CLI.run(["compat", "--old", dir + "/old.npy", "--new", dir + "/old.npy", "--quiet", "--json", dir + "/good.json"])
        #expect(good.status == 0 && !good.stderr.contains("misaligned"))
        #expect(try Self.metrics(dir + "/good.json")["rows_look_misaligned"] as? Bool == false)
    }

    // Caps rule: out-of-domain values are errors; values the data cannot support are capped with a
    // warning — except a transform's component count, which fixes the written matrix's shape.
    @Test func capsAreWarningsAndOutOfDomainValuesErrors() throws {
        let dir = try CLI.temporaryDirectory()
        try CLI.writeNpy(Self.rows(50, 8, seed: 25), to: dir + "/m.npy")
        for (transform, range) in [("abtt:1000", "1…7"), ("whiten:100", "1…8")] {
            let r = try CLI.run(["anisotropy", dir + "/m.npy", "--transform", transform, "--quiet"])
            #expect(r.status == 2 && r.stderr.contains(transform) && r.stderr.contains(range), "\(transform): \(r.stderr)")
        }
        #expect(try CLI.run(["anisotropy", dir + "/m.npy", "--transform", "abtt:0", "--quiet"]).status == 2)
        let zero = try CLI.run(["depth", dir + "/m.npy", "--depth", "mahalanobis", "--components", "0", "--quiet"])
        #expect(zero.status == 2 && zero.stderr.contains("--components"), "\(zero.stderr)")
        let many = try CLI.run(["depth", dir + "/m.npy", "--depth", "mahalanobis", "--components", "20", "--quiet"])
        #expect(many.status == 0 && many.stderr.contains("--components 20 capped to 8"), "\(many.stderr)")
        let anchors = try CLI.run(["relrep", dir + "/m.npy", "--anchors", "300", "--quiet"])
        #expect(anchors.status == 0 && anchors.stderr.contains("--anchors 300 capped to 50"), "\(anchors.stderr)")
    }

    // Word lists: coverage below one half is a warning and a gateable metric; a header line is not a pair.
    @Test func wordListCoverageAndPairsHeader() throws {
        let dir = try CLI.temporaryDirectory()
        let words = ["she", "he", "woman", "man", "girl", "boy", "mother", "father", "nurse", "doctor", "engineer", "teacher"]
        var rng = SeededGenerator(seed: 26)
        let text = "\(words.count) 6\n" + words.map { w in w + " " + (0..<6).map { _ in String(Float(rng.nextGaussian())) }.joined(separator: " ") }.joined(separator: "\n") + "\n"
        try text.write(toFile: dir + "/v.txt", atomically: true, encoding: .utf8)
        try "word_a,word_b\nshe,he\nwoman,man\ngirl,boy\nmother,father\n".write(toFile: dir + "/pairs.csv", atomically: true, encoding: .utf8)
        try "nurse\ndoctor\nxq1\nxq2\nxq3\nxq4\nxq5\n".write(toFile: dir + "/neutral.txt", atomically: true, encoding: .utf8)
        let r = try CLI.run(["bias", dir + "/v.txt", "--definitional", dir + "/pairs.csv", "--neutral", dir + "/neutral.txt", "--quiet", "--json", dir + "/b.json"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("warning: only 2 of 7 words of the neutral list"), "\(r.stderr)")
        let metrics = try Self.metrics(dir + "/b.json")
        #expect(abs((metrics["word_list_coverage_min"] as? Double ?? 1) - 2.0 / 7) < 1e-9)
        #expect(metrics["n_definitional"] as? Int == 4 && metrics["n_missing"] as? Int == 5, "\(metrics)")
        #expect(try CLI.run(["bias", dir + "/v.txt", "--definitional", dir + "/pairs.csv", "--neutral", dir + "/neutral.txt", "--quiet",
                             "--require", "word_list_coverage_min>=0.5"]).status == 1)
    }

    // More of the same kind: pandas' numbered header, a byte-order mark in CSV and ids files.
    @Test func pandasHeaderAndByteOrderMarks() throws {
        let dir = try CLI.temporaryDirectory()
        let data = Self.rows(6, 3, seed: 27)
        let body = data.map { $0.map { String($0) }.joined(separator: ",") }.joined(separator: "\n") + "\n"
        // pandas' to_csv(index=False) header `0,1,2` cannot be told from a row of integers: it is
        // read as a row (as numpy.loadtxt reads it), with a note; `--header yes` makes it a header.
        try ("0,1,2\n" + body).write(toFile: dir + "/pandas.csv", atomically: true, encoding: .utf8)
        let asData = try EmbeddingReader.read(dir + "/pandas.csv", options: ReadOptions(computeChecksum: false))
        #expect(asData.count == 7 && asData.matrix.rowArray(0) == [0, 1, 2] && asData.notes.count == 1, "\(asData.count) rows")
        let p = try EmbeddingReader.read(dir + "/pandas.csv", options: ReadOptions(hasHeader: true, computeChecksum: false))
        #expect(p.count == 6 && p.matrix.rowArray(0) == data[0], "\(p.count) rows")
        try Data([0xEF, 0xBB, 0xBF] + Array(("id,a,b,c\n" + data.enumerated().map { "\($0.offset)," + $0.element.map { String($0) }.joined(separator: ",") }.joined(separator: "\n")).utf8))
            .write(to: URL(fileURLWithPath: dir + "/bom.csv"))
        let b = try EmbeddingReader.read(dir + "/bom.csv", options: ReadOptions(computeChecksum: false))
        #expect(b.dimension == 3 && b.source.idColumn?.contains("'id'") == true, "\(b.source.idColumn ?? "none")")
        try Data([0xEF, 0xBB, 0xBF] + Array("x\ny\n".utf8)).write(to: URL(fileURLWithPath: dir + "/ids.txt"))
        #expect(try LabelsFile.read(dir + "/ids.txt", expectedCount: 2, matrixPath: "m") == ["x", "y"])
        // Shuffled integer ids beside real-valued columns are ids, not a dimension.
        let shuffled = [17, 3, 99, 42, 5, 60]
        try zip(shuffled, data).map { "\($0)," + $1.map { String($0) }.joined(separator: ",") }.joined(separator: "\n")
            .write(toFile: dir + "/shuffled.csv", atomically: true, encoding: .utf8)
        let s = try EmbeddingReader.read(dir + "/shuffled.csv", options: ReadOptions(computeChecksum: false))
        #expect(s.dimension == 3 && s.labels == shuffled.map(String.init), "\(s.count) × \(s.dimension)")
        // numpy.savetxt text has no words: every token is a value.
        let savetxt = data.map { $0.map { String(format: "%.18e", Double($0)) }.joined(separator: " ") }.joined(separator: "\n") + "\n"
        try savetxt.write(toFile: dir + "/savetxt.txt", atomically: true, encoding: .utf8)
        let t = try EmbeddingReader.read(dir + "/savetxt.txt", options: ReadOptions(computeChecksum: false))
        #expect(t.count == 6 && t.dimension == 3 && t.labels == nil && t.matrix.rowArray(2) == data[2], "\(t.count) × \(t.dimension)")
        // Integer-valued savetxt ("%d") and "%g" text, where some first values have no point, too:
        // the first column was read as a word, one dimension lost (exit 0).
        try "3 1 4 1\n5 9 2 6\n5 3 5 8\n".write(toFile: dir + "/codes.txt", atomically: true, encoding: .utf8)
        let codes = try EmbeddingReader.read(dir + "/codes.txt", options: ReadOptions(computeChecksum: false))
        #expect(codes.count == 3 && codes.dimension == 4 && codes.labels == nil && codes.matrix.rowArray(1) == [5, 9, 2, 6])
        try "1 0.25 -2\n-0.5 3 1e-05\n".write(toFile: dir + "/g.txt", atomically: true, encoding: .utf8)
        let g = try EmbeddingReader.read(dir + "/g.txt", options: ReadOptions(computeChecksum: false))
        #expect(g.dimension == 3 && g.labels == nil && g.matrix.rowArray(0) == [1, 0.25, -2])
        // Words stay words when one of them is not a number.
        try "1990 0.5 1\nthe 1.5 2\n".write(toFile: dir + "/years.txt", atomically: true, encoding: .utf8)
        #expect(try EmbeddingReader.read(dir + "/years.txt", options: ReadOptions(computeChecksum: false)).labels == ["1990", "the"])
        // A word list of numbers with points is still words when a header says so (word2vec text).
        try "2 2\n0.5 1 2\n1.5 3 4\n".write(toFile: dir + "/numwords.txt", atomically: true, encoding: .utf8)
        #expect(try EmbeddingReader.read(dir + "/numwords.txt", options: ReadOptions(computeChecksum: false)).labels == ["0.5", "1.5"])
    }

    /// A first row with a missing value (empty, `NA`, `1_0`) was taken as a header and dropped
    /// (exit 0, one row fewer) while the same value on line 2 was an error: now the same error
    /// on line 1, in CSV and TSV; headers of names (and of column numbers) stay headers.
    @Test func aFirstRowWithAMissingValueIsNotAHeader() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let read = { (name: String, text: String) throws -> Embeddings in
            try text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8)
            return try EmbeddingReader.read(dir + "/" + name, options: ReadOptions(computeChecksum: false))
        }
        for (ext, sep) in [("csv", ","), ("tsv", "\t")] {
            let cases: [(String, String)] = [
                ("0.5,,0.25\n0.1,0.2,0.3\n0.4,0.5,0.6\n0.7,0.8,0.9\n", "line 1, column 2: '' is not a number"),
                ("1e-3,2,NA\n0.1,0.2,0.3\n0.4,0.5,0.6\n", "line 1, column 3: 'NA' is not a number"),
                ("1_0,2,3\n0.1,0.2,0.3\n0.4,0.5,0.6\n", "line 1, column 1: '1_0' is not a number"),
                ("0.1,0.2,0.3\n0.5,,0.25\n0.4,0.5,0.6\n", "line 2, column 2: '' is not a number"),
                // A missing value in the first column is a missing value, not a label column.
                ("NA,0.2,0.3\n0.1,0.2,0.3\n0.4,0.5,0.6\n", "line 1, column 1: 'NA' is not a number"),
                (",0.2,0.3\n0.1,0.2,0.3\n0.4,0.5,0.6\n", "line 1, column 1: '' is not a number"),
            ]
            for (text, message) in cases {
                let body = text.replacingOccurrences(of: ",", with: sep)
                #expect(throws: EmbdiagError.malformed(dir + "/m.\(ext)", message), "\(ext): \(text)") {
                    try read("m.\(ext)", body)
                }
            }
            // Headers stay headers: names, names above an id column, pandas' index header (an empty
            // name, then column numbers), and a label column of words. A word with the values 1, 2
            // on line 1 (`word,1,2`) is a row, as numpy reads a first line of numbers
            // (ReaderFindings8Tests.aFirstLineOfNumbersIsData).
            let headers: [(String, Int, Int)] = [
                ("a,b,c\n0.1,0.2,0.3\n0.4,0.5,0.6\n", 2, 3), ("id,x,y\n0,0.1,0.2\n1,0.3,0.4\n2,0.5,0.6\n", 3, 2),
                (",0,1\n0,0.1,0.2\n1,0.3,0.4\n2,0.5,0.6\n", 3, 2), ("word,1,2\nthe,0.1,0.2\nof,0.3,0.4\n", 3, 2),
                ("word,d1,d2\nthe,0.1,0.2\n1999,0.3,0.4\nof,0.5,0.6\n", 3, 2),
            ]
            for (text, rows, dim) in headers {
                let e = try read("h.\(ext)", text.replacingOccurrences(of: ",", with: sep))
                #expect(e.count == rows && e.dimension == dim, "\(ext): \(text) → \(e.count) × \(e.dimension)")
            }
        }
        // The CLI: exit 2, one line naming line 1.
        try "0.5,,0.25\n0.1,0.2,0.3\n0.4,0.5,0.6\n0.7,0.8,0.9\n".write(toFile: dir + "/ef.csv", atomically: true, encoding: .utf8)
        let r = try CLI.run(["info", dir + "/ef.csv", "--json", "-"])
        #expect(r.status == 2 && r.stdout.isEmpty && r.stderr.contains("line 1, column 2: '' is not a number"), "\(r.stderr)")
    }

    /// Rows dropped by `--on-invalid drop` must not renumber the others: every row number a report
    /// shows is the row's number in its file. The same data without the bad row (row numbers
    /// shifted back by one past it) gives the same tables.
    @Test func rowNumbersAfterDroppedRowsAreFileRows() throws {
        let dir = try CLI.temporaryDirectory()
        var rng = SeededGenerator(seed: 5)
        func rows(_ n: Int, _ shift: Float) -> [[Float]] { (0..<n).map { _ in (0..<8).map { _ in Float(rng.nextGaussian()) + shift } } }
        let reference = rows(30, 0), other = rows(30, 0.4)
        var withNaN = reference
        withNaN.insert([Float](repeating: .nan, count: 8), at: 2)
        try CLI.writeNpy(withNaN, to: dir + "/ref-nan.npy")
        try CLI.writeNpy(reference, to: dir + "/ref.npy")
        try CLI.writeNpy(other, to: dir + "/other.npy")
        func tables(_ args: [String], _ name: String) throws -> [String: Any] {
            let r = try CLI.run(args + ["--json", dir + "/\(name).json", "-q"])
            #expect(r.status == 0, "\(args): \(r.stderr)")
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/\(name).json"))) as! [String: Any]
            return json["tables"] as! [String: Any]
        }
        /// Columns holding row numbers (the label defaults to the row number) of a table.
        func rowColumns(_ tables: [String: Any], _ table: String, _ columns: [String]) -> [[Int]] {
            let t = tables[table] as! [String: Any]
            let names = t["columns"] as! [String]
            return (t["rows"] as! [[Any]]).map { row in columns.map { c -> Int in
                let v = row[names.firstIndex(of: c)!]
                return (v as? Int) ?? Int(v as! String)!
            } }
        }
        let fileRow = { (r: Int) in r >= 2 ? r + 1 : r }
        // depth
        let dropped = try tables(["depth", dir + "/ref-nan.npy", dir + "/other.npy", "--on-invalid", "drop"], "depth-drop")
        let clean = try tables(["depth", dir + "/ref.npy", dir + "/other.npy"], "depth-clean")
        for t in ["central_reference", "outlying_reference"] {
            #expect(rowColumns(dropped, t, ["row", "label"]) == rowColumns(clean, t, ["row", "label"]).map { $0.map(fileRow) }, "depth \(t)")
        }
        // neighbors (the per-row neighbour lists are CSV only; the hubs table is in the JSON)
        let nnDropped = try tables(["neighbors", dir + "/ref-nan.npy", "--k", "3", "--on-invalid", "drop"], "nn-drop")
        let nnClean = try tables(["neighbors", dir + "/ref.npy", "--k", "3"], "nn-clean")
        #expect(rowColumns(nnDropped, "hubs", ["row", "label"]) == rowColumns(nnClean, "hubs", ["row", "label"]).map { $0.map(fileRow) })
        // shift (the reference side of the uncovered table; the other corpus keeps its rows)
        let shiftArgs = ["--tests", "mmd", "--permutations", "19"]
        let shDropped = try tables(["shift", dir + "/ref-nan.npy", dir + "/other.npy", "--on-invalid", "drop"] + shiftArgs, "shift-drop")
        let shClean = try tables(["shift", dir + "/ref.npy", dir + "/other.npy"] + shiftArgs, "shift-clean")
        let uncovered = ["row", "label", "nearest_other_row"]
        #expect(rowColumns(shDropped, "uncovered", uncovered) == rowColumns(shClean, "uncovered", uncovered).map { [fileRow($0[0]), fileRow($0[1]), $0[2]] })
    }
}
