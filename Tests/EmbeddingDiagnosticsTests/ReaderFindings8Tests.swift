import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// Findings of an independent hostile test of the readers: JSON ids beyond 2^53 rounded through
/// float64, Parquet unsigned and decimal label columns, invalid UTF-8 in labels replaced by
/// U+FFFD, .npy type codes with a byte-order character, a CSV's first row of integers taken as a
/// header, float32 underflow in the text readers, `_`-prefixed files of a Parquet directory,
/// safetensors offsets `-0`, FAISS metric types and word2vec binary files of 0 rows.
/// Reference values come from Python's json, numpy and pyarrow (noted beside each).
@Suite(.serialized) struct ReaderFindings8Tests {
    static let fixtures = CLI.fixtures.appendingPathComponent("malformed/findings8")
    static func fixture(_ name: String) -> String { fixtures.appendingPathComponent(name).path }
    // nonisolated(unsafe): parsed once, only read.
    nonisolated(unsafe) static let expected: [String: Any] = {
        let data = try! Data(contentsOf: fixtures.appendingPathComponent("expected.json"))
        return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
    }()

    static func read(_ path: String, _ configure: (inout ReadOptions) -> Void = { _ in }) throws -> Embeddings {
        var o = ReadOptions(computeChecksum: false)
        configure(&o)
        return try EmbeddingReader.read(path, options: o)
    }

    /// The reader's error (or what it read, for a file it should refuse).
    static func refusal(_ path: String, _ configure: (inout ReadOptions) -> Void = { _ in }) -> String {
        do {
            let e = try read(path, configure)
            return "read \(e.count) × \(e.dimension), labels \(e.labels ?? [])"
        } catch { return "\(error)" }
    }

    static func write(_ text: String, _ name: String, in dir: String) throws -> String {
        try text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8)
        return dir + "/" + name
    }

    static func metrics(_ stdout: String) throws -> [String: Any] {
        let json = try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as! [String: Any]
        return json["metrics"] as! [String: Any]
    }

    // MARK: A1 — JSON numbers as labels keep their digits

    /// `--label-path id` on integers beyond 2^53: Python's json keeps them exact
    /// (`[str(json.loads(l)['id']) for l in lines]` = the integers as written); through float64
    /// they collapsed into `1.2345678901234568e+18`. Other numbers keep their token too.
    @Test func jsonlNumericIdsKeepTheirDigits() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ids = ["1234567890123456789", "1234567890123456788", "1234567890123456787", "9007199254740993", "9007199254740992", "-7", "1.5", "1.0"]
        let text = ids.enumerated().map { "{\"embedding\":[\($0.offset + 1),2],\"id\":\($0.element)}" }.joined(separator: "\n") + "\n"
        let path = try Self.write(text, "k.jsonl", in: dir)
        // Python: ['1234567890123456789', '1234567890123456788', '1234567890123456787',
        // '9007199254740993', '9007199254740992', '-7', '1.5', '1.0'].
        let e = try Self.read(path) { $0.sources.labelPath = "id" }
        #expect(e.labels == ids, "\(e.labels ?? [])")
        let r = try CLI.run(["info", path, "--label-path", "id", "--json", "-"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(try Self.metrics(r.stdout)["duplicate_labels"] as? Int == 0)
        // An exponent is kept as written too (Python prints 1e3 as 1000.0): documented.
        let exp = try Self.write("{\"e\":[1,2],\"id\":1e3}\n", "e.jsonl", in: dir)
        #expect(try Self.read(exp) { $0.sources.labelPath = "id" }.labels == ["1e3"])
        // `shift --by` windows from a JSONL key: 2^53 + 1 and 2^53 are two windows, not one.
        var rows = ""
        for i in 0..<6 { rows += "{\"embedding\":[\(i),1],\"batch\":\(i < 3 ? "9007199254740993" : "9007199254740992")}\n" }
        let batches = try Self.write(rows, "b.jsonl", in: dir)
        let b = try Self.read(batches)
        let keys = try WindowKeyColumn.read(batches, column: "batch", format: .jsonl, options: ReadOptions(computeChecksum: false), embeddings: b)
        #expect(keys == Array(repeating: "9007199254740993", count: 3) + Array(repeating: "9007199254740992", count: 3), "\(keys)")
    }

    // MARK: A2 — Parquet unsigned and decimal label columns

    /// uint32 4294967295 was read as -1, uint64 2^63 as -2^63; decimal128 2.20 as its raw bytes.
    /// pyarrow: str() of each value (expected.json); decimal label columns are refused by name.
    @Test func parquetUnsignedLabelsAreUnsignedAndDecimalIsRefused() throws {
        for name in ["label-uint32.parquet", "label-uint64.parquet"] {
            let e = try Self.read(Self.fixture(name)) { $0.sources.labelColumn = "id" }
            #expect(e.labels == Self.expected[name] as? [String], "\(name): \(e.labels ?? [])")
            let m = Self.expected["matrix"] as! [[Double]]
            #expect((0..<4).allSatisfy { i in (0..<3).allSatisfy { e.matrix[i, $0] == Float(m[i][$0]) } })
        }
        #expect(Self.refusal(Self.fixture("label-decimal.parquet")) { $0.sources.labelColumn = "id" }
            .contains("label column 'id' is decimal(5,2); expected strings or integers"))
        let r = try CLI.run(["info", Self.fixture("label-decimal.parquet"), "--label-column", "id", "--json", "-"])
        #expect(r.status == 2 && r.stderr.split(separator: "\n").count == 1 && r.stderr.contains("decimal(5,2)"), "\(r.stderr)")
        // Without the label column the file reads (the decimal column is not a vector column).
        #expect(try Self.read(Self.fixture("label-decimal.parquet")).count == 4)
    }

    // MARK: A4 — invalid UTF-8 in labels

    /// `\xff` and `\xfe` both became U+FFFD (one duplicate label). Python refuses each file
    /// (UnicodeDecodeError; json.loads refuses the line); the readers now do, naming the line.
    @Test func invalidUTF8InLabelsIsRefused() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r3 = dir + "/r3.npy"
        try CLI.writeNpy([[1, 2, 3], [4, 5, 6], [7, 8, 9]], to: r3)
        let labels = try ReaderHostileTests.write("labels.txt", Array("a\n".utf8) + [0xFF, 0x0A, 0xFE, 0x0A], in: dir)
        #expect(throws: EmbdiagError.malformed(labels, "line 2 is not valid UTF-8 (byte 0xFF at byte 0); labels are compared as exact text, so such bytes are refused rather than replaced")) {
            try LabelsFile.read(labels, expectedCount: 3, matrixPath: r3)
        }
        let words = try ReaderHostileTests.write("words.txt", Array("3 2\na 1 2\n".utf8) + [0xFF] + Array(" 3 4\n".utf8) + [0xFE] + Array(" 5 6\n".utf8), in: dir)
        #expect(Self.refusal(words).contains("line 3: the word is not valid UTF-8 (byte 0xFF at byte 0)"), "\(Self.refusal(words))")
        let glove = try ReaderHostileTests.write("glove.txt", Array("a 1 2\nb".utf8) + [0xC3] + Array(" 3 4\n".utf8), in: dir)
        #expect(Self.refusal(glove) { $0.format = .glove }.contains("line 2: the word is not valid UTF-8 (byte 0xC3 at byte 1)"), "\(Self.refusal(glove) { $0.format = .glove })")
        let csv = try ReaderHostileTests.write("t.csv", Array("w,x,y\n".utf8) + [0xFF] + Array(",3,4\n".utf8) + [0xFE] + Array(",5,6\na,1,2\n".utf8), in: dir)
        #expect(Self.refusal(csv).contains("line 2, field 1 is not valid UTF-8 (byte 0xFF at byte 0)"), "\(Self.refusal(csv))")
        let jsonl = try ReaderHostileTests.write("t.jsonl", Array("{\"e\":[1,2],\"id\":\"".utf8) + [0xFF] + Array("\"}\n".utf8), in: dir)
        #expect(Self.refusal(jsonl) { $0.sources.labelPath = "id" }.contains("line 1: not valid JSON (invalid UTF-8 in a string (byte 0xFF at byte 0 of the string) at column 17)"),
                "\(Self.refusal(jsonl) { $0.sources.labelPath = "id" })")
        // pyarrow reads this binary column as bytes (b'\xff'), not text: refused, not replaced.
        let parquet = Self.fixture("label-binary-bad-utf8.parquet")
        #expect(Self.refusal(parquet) { $0.sources.labelColumn = "id"; $0.sources.column = "emb" }.contains("row 0: the label column 'id' is not valid UTF-8 (byte 0xFF at byte 0)"),
                "\(Self.refusal(parquet) { $0.sources.labelColumn = "id"; $0.sources.column = "emb" })")
        // The CLI: exit 2, one line naming the file.
        for args in [["info", r3, "--labels", labels], ["info", words], ["info", csv], ["info", jsonl, "--label-path", "id"],
                     ["info", parquet, "--label-column", "id", "--column", "emb"]] {
            let r = try CLI.run(args + ["--json", "-"])
            #expect(r.status == 2 && r.stdout.isEmpty && r.stderr.split(separator: "\n").count == 1 && r.stderr.contains("UTF-8"), "\(args): \(r.stderr)")
        }
        // Valid multi-byte labels are unchanged.
        let ok = try Self.write("a\ncafé\n日本\n", "ok.txt", in: dir)
        #expect(try LabelsFile.read(ok, expectedCount: 3, matrixPath: r3) == ["a", "café", "日本"])
    }

    // MARK: A7 — .npy type codes after a byte-order character

    /// np.dtype reads '<f', '>f', '<d', '>d', '<e', '>e', '=e', '|e' (float32/64/16 in that
    /// order) and 'float' (float64); '<float32' and 'e2' it refuses (`np.dtype(code)`).
    @Test func npyTypeCodesWithAByteOrderAreRead() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func npy(_ descr: String, size: Int, bigEndian: Bool) throws -> String {
            var h = "{'descr': '\(descr)', 'fortran_order': False, 'shape': (3, 4), }"
            while (10 + h.utf8.count + 1) % 64 != 0 { h += " " }
            h += "\n"
            var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(h.utf8.count & 0xFF), UInt8(h.utf8.count >> 8)] + Array(h.utf8)
            for v in 1...12 {
                var b: [UInt8]
                switch size {
                case 2: b = withUnsafeBytes(of: Float16(Float(v)).bitPattern.littleEndian, Array.init)
                case 4: b = withUnsafeBytes(of: Float(v).bitPattern.littleEndian, Array.init)
                default: b = withUnsafeBytes(of: Double(v).bitPattern.littleEndian, Array.init)
                }
                bytes += bigEndian ? b.reversed() : b
            }
            let name = "c\(descr.unicodeScalars.map { String($0.value) }.joined(separator: "-")).npy"
            return try ReaderHostileTests.write(name, bytes, in: dir)
        }
        for (descr, size, big) in [("<f", 4, false), (">f", 4, true), ("<d", 8, false), (">d", 8, true), ("<e", 2, false), (">e", 2, true),
                                   ("=e", 2, false), ("|e", 2, false), ("float", 8, false), ("|f", 4, false), ("=d", 8, false)] {
            let path = try npy(descr, size: size, bigEndian: big)
            let e = try Self.read(path)
            #expect(e.count == 3 && e.dimension == 4 && e.matrix.values == (1...12).map(Float.init), "\(descr): \(e.matrix.values)")
            #expect(e.source.dtype == ["float16", "float32", "float64"][size == 2 ? 0 : size == 4 ? 1 : 2], "\(descr): \(e.source.dtype)")
        }
        for descr in ["<float32", "e2", "<float", "|f1"] {
            let path = try npy(descr, size: 4, bigEndian: false)
            #expect(Self.refusal(path).contains("unsupported dtype '\(descr)'"), "\(descr): \(Self.refusal(path))")
        }
    }

    // MARK: A8 — a CSV's first line of numbers is data

    /// `1,2,3 / 4,5,6 / 7,8,9` was read as 2 × 3 and a binary TSV whose first row is `0 1` as
    /// 3 × 2, silently. numpy.loadtxt reads 3 × 3 and 4 × 2: so does the reader now, with a note
    /// that line 1 could be a header of column numbers and `--header yes` to read it so.
    @Test func aFirstLineOfNumbersIsData() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let counts = try Self.write("1,2,3\n7,5,6\n4,8,9\n", "counts.csv", in: dir)
        let c = try Self.read(counts)
        // np.loadtxt('counts.csv', delimiter=','): [[1,2,3],[7,5,6],[4,8,9]] (a first column 1, 4, 7
        // would be taken as row ids, with a note: the id-column rule, not this one).
        #expect(c.count == 3 && c.dimension == 3 && c.matrix.values == [1, 2, 3, 7, 5, 6, 4, 8, 9], "\(c.count) × \(c.dimension)")
        #expect(c.notes.count == 1 && c.notes[0].contains("line 1 (1,2,3) is read as a row of data"), "\(c.notes)")
        let binary = try Self.write("0\t1\n1\t1\n1\t0\n0\t0\n", "binary.tsv", in: dir)
        let b = try Self.read(binary)
        // np.loadtxt('binary.tsv', delimiter='\t'): [[0,1],[1,1],[1,0],[0,0]].
        #expect(b.count == 4 && b.matrix.values == [0, 1, 1, 1, 1, 0, 0, 0], "\(b.count) × \(b.dimension)")
        // The CLI says so on stderr; --header yes reads line 1 as a header, --header no as data.
        let r = try CLI.run(["info", counts, "--json", "-"])
        #expect(r.status == 0 && r.stderr.contains("note: \(counts): line 1 (1,2,3) is read as a row of data") && r.stderr.contains("--header yes"), "\(r.stderr)")
        #expect(try Self.metrics(r.stdout)["rows"] as? Int == 3)
        let forced = try CLI.run(["info", counts, "--header", "yes", "--json", "-"])
        #expect(forced.status == 0 && !forced.stderr.contains("note"), "\(forced.stderr)")
        #expect(try Self.metrics(forced.stdout)["rows"] as? Int == 2)
        // Other first lines of numbers are data with no note; names stay a header.
        let plain = try Self.read(try Self.write("0.5,0.25\n0.1,0.2\n", "plain.csv", in: dir))
        #expect(plain.count == 2 && plain.notes.isEmpty)
        let named = try Self.read(try Self.write("a,b\n0.5,0.25\n0.1,0.2\n", "named.csv", in: dir))
        #expect(named.count == 2 && named.notes.isEmpty)
        // A word with integer values on line 1 is a row too (it was taken as 'word,1,2' header).
        let words = try Self.read(try Self.write("the,1,2\nof,0.3,0.4\nand,0.5,0.6\n", "words.csv", in: dir))
        #expect(words.count == 3 && words.labels == ["the", "of", "and"] && words.matrix.rowArray(0) == [1, 2], "\(words.labels ?? [])")
        // pandas' to_csv with its index (an empty index name, then 0, 1, …) is still a header,
        // said in a note; --header no reads it as data (its empty first field is then named).
        let pandas = try Self.write(",0,1\n0,0.1,0.2\n1,0.3,0.4\n2,0.5,0.6\n", "pandas.csv", in: dir)
        let p = try Self.read(pandas)
        #expect(p.count == 3 && p.dimension == 2 && p.notes.count == 1 && p.notes[0].contains("read as pandas' header"), "\(p.notes)")
        let noHeader = try CLI.run(["info", pandas, "--header", "no", "--json", "-"])
        #expect(noHeader.status == 2 && noHeader.stderr.contains("line 1, column 1: '' is not a number"), "\(noHeader.stderr)")
    }

    // MARK: A10 — float32 underflow in the text readers

    /// `1e-50,0` was an "all-zero row" in CSV, word2vec text and GloVe; npy and JSONL refuse the
    /// same row as not representable in float32 (underflow). Now every reader does.
    @Test func textRowsThatUnderflowAreRefused() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cases: [(String, String, String)] = [
            ("u.csv", "1e-50,0\n1,2\n", "line 1: its values (e.g. 1e-50 in column 1) are not representable in float32 (underflow"),
            ("u.tsv", "1\t2\n0\t-1e-46\n", "line 2: its values (e.g. -1e-46 in column 2) are not representable in float32 (underflow"),
            ("u.txt", "2 2\nw 1e-50 0\nv 1 2\n", "line 2: its values (e.g. 1e-50 in value 1) are not representable in float32 (underflow"),
            ("g.txt", "v 1 2\nw 0 1e-50\n", "line 2: its values (e.g. 1e-50 in value 2) are not representable in float32 (underflow"),
            // Numbers without words: the first token is a value.
            ("n.txt", "1e-50 0\n1 2\n", "row 0: its values (e.g. 1e-50 in value 1) are not representable in float32 (underflow"),
        ]
        for (name, text, message) in cases {
            let path = try Self.write(text, name, in: dir)
            let format: EmbeddingFormat? = name.hasPrefix("g") || name.hasPrefix("n") ? .glove : nil
            #expect(Self.refusal(path) { $0.format = format }.contains(message), "\(name): \(Self.refusal(path) { $0.format = format })")
        }
        // A tiny value beside a non-zero one is not an all-zero row (as in npy): it reads as 0.
        let mixed = try Self.read(try Self.write("1e-50,1\n1,2\n", "mixed.csv", in: dir))
        #expect(mixed.matrix.values == [0, 1, 1, 2])
        let first = try Self.read(try Self.write("1 1e-50\n1 2\n", "first.txt", in: dir)) { $0.format = .glove }
        #expect(first.labels == nil && first.matrix.values == [1, 0, 1, 2])
        // Real zero rows are still zero rows (reported by validation, not refused by the reader).
        #expect(try Self.read(try Self.write("0,0.0\n1,2\n", "zero.csv", in: dir)).matrix.values == [0, 0, 1, 2])
        let r = try CLI.run(["info", dir + "/u.csv", "--json", "-"])
        #expect(r.status == 2 && r.stderr.split(separator: "\n").count == 1 && r.stderr.contains("u.csv"), "\(r.stderr)")
    }

    // MARK: A15 — files a Parquet dataset does not hold

    /// `_tmp-attempt.parquet` beside part-0/part-1 was read as data (18 rows);
    /// `pyarrow.dataset.dataset(dir).count_rows()` is 12, in the rows of expected.json.
    @Test func parquetDirectorySkipsUnderscoreFiles() throws {
        let ds = Self.expected["dataset"] as! [String: Any]
        let e = try Self.read(Self.fixture("dataset"))
        #expect(e.count == ds["rows"] as? Int)
        let m = ds["matrix"] as! [[Double]]
        #expect(e.count == m.count && (0..<e.count).allSatisfy { i in (0..<e.dimension).allSatisfy { e.matrix[i, $0] == Float(m[i][$0]) } })
        // A directory of such files only has no data files.
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.copyItem(atPath: Self.fixture("dataset/_tmp-attempt.parquet"), toPath: dir + "/_only.parquet")
        #expect(Self.refusal(dir).contains("is a directory without .parquet files (names starting with _ or . are not data and are skipped)"), "\(Self.refusal(dir))")
    }

    // MARK: A16 — safetensors offsets `-0`

    /// The safetensors package: "invalid type: floating point `-0.0`, expected usize".
    @Test func safetensorsNegativeZeroOffsetIsRefused() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for header in ["{\"embeddings\":{\"dtype\":\"F32\",\"shape\":[6,4],\"data_offsets\":[-0,96]}}",
                       "{\"embeddings\":{\"dtype\":\"F32\",\"shape\":[-0,4],\"data_offsets\":[0,0]}}"] {
            let h = Array(header.utf8)
            let values = header.contains("[-0,96]") ? (0..<24).map(Float.init) : []
            let path = try ReaderHostileTests.write("negzero.safetensors", withUnsafeBytes(of: UInt64(h.count).littleEndian, Array.init) + h + ReaderHostileTests.f32(values), in: dir)
            #expect(Self.refusal(path).contains("holds -0, not a non-negative JSON integer (the safetensors package reads it as a float and refuses it)"), "\(Self.refusal(path))")
        }
        // [0, 96] reads.
        let h = Array("{\"embeddings\":{\"dtype\":\"F32\",\"shape\":[6,4],\"data_offsets\":[0,96]}}".utf8)
        let ok = try ReaderHostileTests.write("ok.safetensors", withUnsafeBytes(of: UInt64(h.count).littleEndian, Array.init) + h + ReaderHostileTests.f32((0..<24).map(Float.init)), in: dir)
        #expect(try Self.read(ok).count == 6)
    }

    // MARK: A17 — FAISS metric types

    /// faiss: "invalid metric type 99"; the reader read 4 more bytes as a metric argument and
    /// blamed the vector count. Metric types faiss defines (20, Canberra, with its argument) read.
    @Test func faissUnknownMetricTypeIsNamed() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func index(metric: Int32) throws -> String {
            var b = Array("IxFl".utf8)
            b += withUnsafeBytes(of: Int32(4).littleEndian, Array.init) + withUnsafeBytes(of: Int64(2).littleEndian, Array.init)
            b += withUnsafeBytes(of: Int64(1 << 20).littleEndian, Array.init) + withUnsafeBytes(of: Int64(1 << 20).littleEndian, Array.init) + [1]
            b += withUnsafeBytes(of: metric.littleEndian, Array.init)
            if metric > 1 { b += ReaderHostileTests.f32([1]) }
            b += withUnsafeBytes(of: Int64(8).littleEndian, Array.init) + ReaderHostileTests.f32((0..<8).map(Float.init))
            return try ReaderHostileTests.write("m\(metric).index", b, in: dir)
        }
        for metric: Int32 in [99, 5, 19, 26, -1] {
            let path = try index(metric: metric)
            #expect(Self.refusal(path) == "\(path): IxFl header: invalid metric type \(metric) (faiss defines 0…4 and 20…25)", "\(Self.refusal(path))")
        }
        let canberra = try Self.read(try index(metric: 20))
        #expect(canberra.count == 2 && canberra.source.key == "IxFl Canberra")
    }

    // MARK: A18 — word2vec binary of 0 rows

    /// `0 4` was "dimension 4 needs 4 × 4 bytes per row, file has 4"; the text reader and every
    /// other reader say "no rows".
    @Test func word2vecBinaryOfZeroRowsSaysNoRows() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = try Self.write("0 4\n", "rows0.bin", in: dir)
        #expect(Self.refusal(path) { $0.format = .word2vecBinary } == "\(path): word2vec binary: the header declares 0 rows: no rows")
        let r = try CLI.run(["info", path, "-q"])
        #expect(r.status == 2 && r.stderr.contains("no rows") && !r.stderr.contains("bytes per row"), "\(r.stderr)")
    }
}

/// A9: the PostgreSQL reader converts to float32 by the rule every other reader follows.
@Suite(.serialized, .postgresServer) struct ReaderFindings8PostgresTests {
    /// `double precision[]` {1e300,1} and `numeric[]`/text [1e39,1] became Inf rows, {1e-300,0} a
    /// zero row and a text vector [0x10,2] read 16: the npy, JSONL and CSV readers refuse these
    /// values ("not representable in float32", hex "is not a number"); so does this reader now.
    @Test func postgresValuesFollowTheFloat32Rule() throws {
        let server = try #require(PostgresServer.current, "the suite trait starts the server")
        let c = try server.admin()
        let cases: [(String, String, String, String)] = [
            ("a9_d", "double precision[]", "{1e300,1}", "element 0: 1e+300 is not representable in float32 (overflow"),
            // numeric prints 1e39 with all its digits.
            ("a9_n", "numeric[]", "{1e39,1}", "element 0: 1000000000000000000000000000000000000000 is not representable in float32 (overflow"),
            ("a9_r", "text", "[1e39,1]", "element 0: 1e39 is not representable in float32 (overflow"),
            ("a9_u", "double precision[]", "{1e-300,0}", "its values (e.g. 1e-300 in element 0) are not representable in float32 (underflow"),
            ("a9_un", "numeric[]", "{0,1e-50}", "its values (e.g. 1e-50 in element 1) are not representable in float32 (underflow"),
            ("a9_ut", "text", "[1e-50,0]", "its values (e.g. 1e-50 in element 0) are not representable in float32 (underflow"),
            ("a9_h", "text", "[0x10,2]", "element 0: '0x10,2]' is not a number"),
        ]
        for (table, type, value, message) in cases {
            _ = try c.execute("DROP TABLE IF EXISTS \(table)")
            _ = try c.execute("CREATE TABLE \(table) (id int, v \(type))")
            _ = try c.execute("INSERT INTO \(table) VALUES (1, '\(value)'), (2, '{1,2}')".replacingOccurrences(of: "'{1,2}'", with: type == "text" ? "'[1,2]'" : "'{1,2}'"))
            let query = "SELECT id, v FROM \(table) ORDER BY id"
            do {
                let e = try EmbeddingReader.read(server.url(), options: ReadOptions(computeChecksum: false, postgres: .init(query: query)))
                Issue.record("\(table): read \(e.matrix.values)")
            } catch let error as EmbdiagError {
                #expect(error.description.contains("row 0 ('1'), column 'v': \(message)"), "\(table): \(error.description)")
            }
            let r = try CLI.run(["info", server.url(), "--query", query, "--json", "-"])
            #expect(r.status == 2 && r.stderr.split(separator: "\n").count == 1 && r.stderr.contains("not"), "\(table): \(r.stderr)")
        }
        // Values float32 holds, Infinity and NaN tokens, and rows with one tiny value still read.
        _ = try c.execute("DROP TABLE IF EXISTS a9_ok")
        _ = try c.execute("CREATE TABLE a9_ok (id int, d double precision[], t text)")
        _ = try c.execute("INSERT INTO a9_ok VALUES (1, '{1e-300,1}', '[Infinity,1e-50]'), (2, '{3e38,-2}', '[NaN,0.5]')")
        let d = try EmbeddingReader.read(server.url(), options: ReadOptions(computeChecksum: false, postgres: .init(query: "SELECT id, d FROM a9_ok ORDER BY id")))
        #expect(d.matrix.values == [0, 1, Float(3e38 as Double), -2])
        let t = try EmbeddingReader.read(server.url(), options: ReadOptions(computeChecksum: false, postgres: .init(query: "SELECT id, t FROM a9_ok ORDER BY id")))
        #expect(t.matrix.values[0] == .infinity && t.matrix.values[1] == 0 && t.matrix.values[2].isNaN && t.matrix.values[3] == 0.5)
        // The decoder the fuzz harness drives applies the same rule.
        #expect(throws: EmbdiagError.self) { try PostgresReader.decodeVector(Array("[0x1p3,1]".utf8), binary: false) }
        #expect(throws: EmbdiagError.self) { try PostgresReader.decodeVector(Array("[1e-60]".utf8), binary: false) }
    }
}
