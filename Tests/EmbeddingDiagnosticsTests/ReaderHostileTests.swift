import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// The readers against hostile files (scripts/fixtures/make_hostile_fixtures.py): valid variants
/// written by numpy, pyarrow, safetensors and json, files broken at structural boundaries, and
/// ambiguous ones (duplicate keys, byte-order marks, CRLF, NaN tokens, float32 overflow, nulls,
/// ragged rows, a forced --format that does not match). A file the reference library reads must
/// give its rows bit for bit; every refusal is one line naming the file, with exit 2 from the CLI.
@Suite struct ReaderHostileTests {
    static let dir = CLI.fixtures.appendingPathComponent("malformed/hostile")
    static func fixture(_ name: String) -> String { dir.appendingPathComponent(name).path }

    // nonisolated(unsafe): parsed JSON (immutable Foundation values), never written after it is loaded,
    // so the parallel tests only read it.
    nonisolated(unsafe) static let cases: [String: [String: Any]] = {
        let data = try! Data(contentsOf: dir.appendingPathComponent("cases.json"))
        let root = try! JSONSerialization.jsonObject(with: data) as! [String: Any]
        return (root["cases"] as! [String: Any]).compactMapValues { $0 as? [String: Any] }
    }()

    static func options(_ c: [String: Any]) -> ReadOptions {
        let o = c["options"] as? [String: String] ?? [:]
        var r = ReadOptions(format: (c["format"] as? String).flatMap(EmbeddingFormat.init(rawValue:)), computeChecksum: false)
        r.sources = SourceOptions(jsonPath: o["json_path"], labelPath: o["label_path"], column: o["column"], labelColumn: o["label_column"], dropNulls: false)
        return r
    }

    static func arguments(_ name: String, _ c: [String: Any]) -> [String] {
        var a = ["info", fixture(name)]
        if let f = c["format"] as? String { a += ["--format", f] }
        let flags = ["json_path": "--json-path", "label_path": "--label-path", "column": "--column", "label_column": "--label-column"]
        for (k, v) in (c["options"] as? [String: String] ?? [:]).sorted(by: { $0.key < $1.key }) { a += [flags[k]!, v] }
        return a
    }

    @Test func theCorpusCoversEveryKind() {
        #expect(Self.cases.count >= 60)
        let kinds = Set(Self.cases.values.compactMap { $0["kind"] as? String })
        for k in ["duplicate-key", "bom", "crlf", "nan-token", "float32-overflow", "null", "ragged", "forced-format", "parquet-corrupt",
                  "safetensors-offsets", "npy-descr", "parquet-empty", "parquet-type"] {
            #expect(kinds.contains(k), "no case of kind \(k)")
        }
    }

    @Test(arguments: cases.filter { $0.value["expect"] as? String == "ok" }.keys.sorted())
    func readsWhatTheReferenceReads(name: String) throws {
        let c = Self.cases[name]!
        let e = try EmbeddingReader.read(Self.fixture(name), options: Self.options(c))
        let expected = c["bits"] as! [[NSNumber]]
        try #require(e.matrix.rows == expected.count && e.matrix.cols == expected[0].count, "\(name): \(e.matrix.rows) × \(e.matrix.cols)")
        for i in 0..<e.matrix.rows {
            for j in 0..<e.matrix.cols {
                #expect(e.matrix[i, j].bitPattern == expected[i][j].uint32Value, "\(name) [\(i), \(j)]: \(e.matrix[i, j])")
            }
        }
        if let labels = c["labels"] as? [String] { #expect(e.labels == labels, "\(name): labels \(e.labels ?? [])") }
    }

    @Test(arguments: cases.filter { $0.value["expect"] as? String == "error" }.keys.sorted())
    func refusesWithOneLineNamingTheFile(name: String) throws {
        let c = Self.cases[name]!
        do {
            let e = try EmbeddingReader.read(Self.fixture(name), options: Self.options(c))
            Issue.record("\(name): read \(e.matrix.rows) × \(e.matrix.cols) (reference: \(c["reference"] ?? ""))")
        } catch let error as EmbdiagError {
            let message = error.description
            for w in c["words"] as! [String] { #expect(message.contains(w), "\(name): '\(message)' lacks '\(w)'") }
            #expect(!message.contains("\n"), "\(name): \(message)")
        }
        let r = try CLI.run(Self.arguments(name, c))
        #expect(r.status == 2, "\(name): exit \(r.status) \(r.stderr)")
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1 && r.stderr.contains(name), "\(name): \(r.stderr)")
    }

    /// A NUL byte inside a number: numpy's loadtxt and Python's float() refuse "1.5\\x00999"; C's
    /// strtof (behind Swift's Float(String)) stops at the NUL and read 1.5. A word2vec text file
    /// named .txt with one stray NUL is text (the text reader names the value), not "binary".
    @Test func aNulByteIsNotPartOfANumber() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let csv = dir + "/nul.csv", w2v = dir + "/nul_w2v.txt"
        try Data("a,b\n1.0,2.0\n1.5\u{0}999,3.0\n".utf8).write(to: URL(fileURLWithPath: csv))
        try Data("2 3\nw0 0.1 0.2 0.3\nw1 0.4 -1.8\u{0}777 0.6\n".utf8).write(to: URL(fileURLWithPath: w2v))
        for (path, words) in [(csv, ["line 3, column 1", "1.5\\x00999", "is not a number"]), (w2v, ["value 2", "-1.8\\x00777", "is not a number"])] {
            let r = try CLI.run(["convert", path, dir + "/out.npy"])
            #expect(r.status == 2, "\(path): exit \(r.status)")
            for w in words { #expect(r.stderr.contains(w), "\(r.stderr) lacks \(w)") }
            #expect(!FileManager.default.fileExists(atPath: dir + "/out.npy"))
        }
        #expect(try FormatDetection.detect(w2v) == .word2vecText)
    }

    /// Writes `bytes` to `dir/name` and returns the path.
    static func write(_ name: String, _ bytes: [UInt8], in dir: String) throws -> String {
        try Data(bytes).write(to: URL(fileURLWithPath: dir + "/" + name))
        return dir + "/" + name
    }

    /// The reader's error for `path` as text (or what it read, for a file it should refuse).
    static func refusal(_ path: String, _ format: EmbeddingFormat? = nil) -> String {
        do {
            let e = try EmbeddingReader.read(path, options: ReadOptions(format: format, computeChecksum: false))
            return "read \(e.count) × \(e.dimension)"
        } catch { return "\(error)" }
    }

    static func f32(_ values: [Float]) -> [UInt8] { values.flatMap { withUnsafeBytes(of: $0.bitPattern.littleEndian, Array.init) } }

    /// A safetensors file: header length, `header`, then four float32 values.
    static func safetensors(_ header: [UInt8]) -> [UInt8] {
        withUnsafeBytes(of: UInt64(header.count).littleEndian, Array.init) + header + f32([1, 2, 3, 4])
    }

    /// A one-column CSV of increasing integers said "no numeric columns": the column went to the
    /// ids, and the message now says so and how to read it as values.
    @Test func theOnlyColumnTakenAsIdsIsSaid() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ids = try Self.write("c21.csv", Array("1\n2\n3\n".utf8), in: dir)
        let idMessage = Self.refusal(ids)
        #expect(idMessage.contains("taken as the id column") && idMessage.contains("0 to read it as a dimension"), "\(idMessage)")
        let idCLI = try CLI.run(["convert", ids, dir + "/o.npy"])
        #expect(idCLI.status == 2 && idCLI.stderr.contains("give --id-column 0 to read it as a dimension"), "\(idCLI.stderr)")
        let asked = try CLI.run(["convert", ids, dir + "/o.npy", "--id-column", "0"])
        #expect(asked.status == 0, "\(asked.stderr)")
    }

    /// CSV, TSV and JSONL on stdin (no extension) were read as word2vec text or GloVe, and the
    /// error advised `--format glove`: the first line tells them apart, as an extension would.
    @Test func csvTsvAndJSONLOnStdinAreDetected() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let csv = try Self.write("c2.csv", Array("word,a,b,c\nx,0.1,0.2,0.3\ny,0.4,0.5,0.6\n".utf8), in: dir)
        let spaced = try Self.write("c3.csv", Array("0.1, 0.2, 0.3\n0.4, 0.5, 0.6\n".utf8), in: dir)
        let tsv = try Self.write("t2.tsv", Array("0.1\t0.2\t0.3\n0.4\t0.5\t0.6\n".utf8), in: dir)
        let jsonl = try Self.write("j.jsonl", Array("{\"id\": \"x\", \"embedding\": [0, 1, 2]}\n{\"id\": \"y\", \"embedding\": [3, 4, 5]}\n".utf8), in: dir)
        for path in [csv, spaced, tsv, jsonl] {
            let r = try CLI.run(["-c", "cat \(path) | \(CLI.binary) convert - \(dir)/o.npy"], shell: true)
            #expect(r.status == 0 && !r.stderr.contains("glove"), "\(path): \(r.stderr)")
            let out = try EmbeddingReader.read(dir + "/o.npy", options: ReadOptions(computeChecksum: false))
            #expect(out.count == 2 && out.dimension == 3, "\(path): \(out.count) × \(out.dimension)")
        }
        // GloVe and word2vec text without extension stay what they were (a GloVe word "," too).
        let glove = try Self.write("glove", Array(", 0.1 0.2 0.3\nthe 0.4 0.5 0.6\n".utf8), in: dir)
        #expect(try FormatDetection.detect(glove) == .glove)
        let w2v = try Self.write("w2v", Array("2 3\na 0.1 0.2 0.3\nb 0.4 0.5 0.6\n".utf8), in: dir)
        #expect(try FormatDetection.detect(w2v) == .word2vecText)
        let piped = try CLI.run(["-c", "cat \(glove) | \(CLI.binary) convert - \(dir)/o.npy"], shell: true)
        #expect(piped.status == 0, "\(piped.stderr)")
    }

    /// word2vec text with an empty word was "line 2 has 1 values, expected 2": it says the word
    /// is empty; a line really short of a value keeps its message.
    @Test func anEmptyWordIsSaid() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let emptyWord = try Self.write("emptyw.vec", Array("2 2\n  1 2\ny 3 4\n".utf8), in: dir)
        #expect(Self.refusal(emptyWord).contains("line 2 has an empty word"), "\(Self.refusal(emptyWord))")
        let short = try Self.write("short.vec", Array("2 2\nx 1\ny 3 4\n".utf8), in: dir)
        #expect(Self.refusal(short).contains("line 2 has 1 values, expected 2"), "\(Self.refusal(short))")
    }

    /// word2vec binary with a CRLF header line was refused (gensim reads it) and the message
    /// showed the CR as a space.
    @Test func aWord2VecBinaryHeaderMayEndInCRLF() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let crlf = try Self.write("b8.bin", Array("2 3\r\n".utf8) + Array("a ".utf8) + Self.f32([1, 2, 3]) + Array("\nb ".utf8) + Self.f32([4, 5, 6]) + [0x0A], in: dir)
        let e = try EmbeddingReader.read(crlf, options: ReadOptions(format: .word2vecBinary, computeChecksum: false))
        #expect(e.count == 2 && e.dimension == 3 && e.labels == ["a", "b"] && e.matrix.rowArray(1) == [4, 5, 6])
        let detected = try EmbeddingReader.read(crlf, options: ReadOptions(computeChecksum: false))
        #expect(detected.count == 2 && detected.source.format == .word2vecBinary)
        let badHeader = try Self.write("b9.bin", Array("2 3 x\r\n".utf8) + Array("a ".utf8) + Self.f32([1, 2, 3]), in: dir)
        #expect(Self.refusal(badHeader, .word2vecBinary).contains("header '2 3 x\\r'"), "\(Self.refusal(badHeader, .word2vecBinary))")
    }

    /// npy `fortran_order` written as a string was accepted; numpy refuses it ("not a valid bool").
    @Test func fortranOrderMustBeABool() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (value, ok) in [("'True'", false), ("'False'", false), ("\"True\"", false), ("False", true), ("True", true)] {
            var header = Array("{'descr': '<f4', 'fortran_order': \(value), 'shape': (2, 2), }".utf8)
            while (10 + header.count + 1) % 64 != 0 { header.append(0x20) }
            header.append(0x0A)
            let npy = try Self.write("fo.npy", [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.count & 0xFF), UInt8(header.count >> 8)] + header + Self.f32([1, 2, 3, 4]), in: dir)
            if ok {
                #expect(Self.refusal(npy) == "read 2 × 2", "\(value)")
            } else {
                #expect(Self.refusal(npy).contains("fortran_order is the string"), "\(value): \(Self.refusal(npy))")
            }
        }
    }

    /// A safetensors header starting with a UTF-8 byte-order mark was accepted; the package
    /// refuses it.
    @Test func aSafetensorsHeaderWithAByteOrderMarkIsRefused() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let json = Array("{\"m\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}".utf8)
        let plain = try Self.write("s_ok.safetensors", Self.safetensors(json + [0x20, 0x20, 0x20, 0x20]), in: dir)
        #expect(try EmbeddingReader.read(plain, options: ReadOptions(computeChecksum: false)).count == 2)
        let bom = try Self.write("s_bom.safetensors", Self.safetensors([0xEF, 0xBB, 0xBF] + json + [0x20]), in: dir)
        #expect(Self.refusal(bom).contains("byte-order mark"), "\(Self.refusal(bom))")
    }

    /// Two 2-D float arrays in npz or safetensors are refused although Formats.md said "the first"
    /// was read: the docs now say what the code does, and the message lists them and --key (a
    /// safetensors header is a JSON object, with no order to go by).
    @Test func severalMatricesAreListedAndNeedAKey() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let two = Array("{\"b\":{\"dtype\":\"F32\",\"shape\":[1,2],\"data_offsets\":[0,8]},\"c\":{\"dtype\":\"F32\",\"shape\":[1,2],\"data_offsets\":[8,16]}}".utf8)
        let path = try Self.write("s_two.safetensors", Self.safetensors(two + [0x20, 0x20, 0x20, 0x20, 0x20, 0x20]), in: dir)
        let r = try CLI.run(["convert", path, dir + "/o.npy"])
        #expect(r.status == 2 && r.stderr.contains("2 2-D float tensors (b 1×2, c 1×2)") && r.stderr.contains("pick one with --key"), "\(r.stderr)")
        #expect(try CLI.run(["convert", path, dir + "/o.npy", "--key", "c"]).status == 0)
    }

    /// The exact inputs of the bug reports, as users typed them.
    @Test func reportedInputs() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let crash = dir + "/crash.csv"
        try Data("label,a,,\"\"qw4, \"\u{18}ql,a_key,,c\n\"w \",50,2.5\n".utf8).write(to: URL(fileURLWithPath: crash))
        let r = try CLI.run(["info", crash])
        #expect(r.status == 2 && r.stderr.contains("crash.csv") && r.stderr.split(separator: "\n").count == 1, "\(r.status) \(r.stderr)")
        let dup = dir + "/dup.jsonl"
        try Data("{\"embedding\":[9,9],\"embedding\":[1,2]}\n".utf8).write(to: URL(fileURLWithPath: dup))
        let d = try CLI.run(["info", dup])
        #expect(d.status == 2 && d.stderr.contains("line 1") && d.stderr.contains("embedding"), "\(d.status) \(d.stderr)")
    }
}
