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
