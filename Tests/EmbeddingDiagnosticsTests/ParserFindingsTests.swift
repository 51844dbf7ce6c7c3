import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// What the parser harnesses (fuzz/Sources/FuzzReaders/ParserHarness.swift) found, as cases at the
/// user's end: the command, the input, exit 2 with one line — or, for the connection strings, the
/// printable form without the password.
@Suite struct ParserFindingsTests {
    /// A .npy of Float64 values with `rows × cols` shape.
    static func npy(rows: Int, cols: Int, _ values: [Double]) -> Data {
        var header = "{'descr': '<f8', 'fortran_order': False, 'shape': (\(rows), \(cols)), }"
        header += String(repeating: " ", count: 63 - (header.count + 10) % 64) + "\n"
        var d = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(header.count & 0xFF), UInt8(header.count >> 8)])
        d.append(Data(header.utf8))
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { d.append(contentsOf: $0) } }
        return d
    }

    static func expectRefused(_ r: CLI.Result, _ what: String, mentioning: String) {
        #expect(r.status == 2, "\(what): exit \(r.status), \(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1 && r.stderr.contains(mentioning), "\(what): \(r.stderr)")
    }

    /// A mapping whose bias holds a string or a boolean was read with the entry dropped or taken as
    /// 1 (every later value then sits on the wrong output dimension); a 0 × d or d × 0 matrix was
    /// read as a mapping. All refused by `embdiag map`.
    @Test func mappingFilesRefused() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try CLI.writeNpy([[1, 2], [3, 4]], to: dir + "/in.npy")
        let cases: [(String, Data, String, String)] = [
            ("bias-string", Self.npy(rows: 2, cols: 2, [1, 0, 0, 1]), #"{"kind": "linear_map", "bias": ["x", 1, 2]}"#, "bias value 0 is not a number"),
            ("bias-boolean", Self.npy(rows: 2, cols: 2, [1, 0, 0, 1]), #"{"kind": "linear_map", "bias": [true, 1]}"#, "bias value 0 is not a number"),
            ("no-rows", Self.npy(rows: 0, cols: 2, []), #"{"kind": "linear_map", "bias": [0, 0]}"#, "0 × 2"),
            ("no-cols", Self.npy(rows: 2, cols: 0, []), #"{"kind": "linear_map", "bias": []}"#, "2 × 0"),
            ("dim-string", Self.npy(rows: 2, cols: 2, [1, 0, 0, 1]), #"{"kind": "linear_map", "bias": [0, 0], "input_dim": "2"}"#, "input_dim is not an integer"),
        ]
        for (name, weights, json, message) in cases {
            try weights.write(to: URL(fileURLWithPath: dir + "/\(name).npy"))
            try Data(json.utf8).write(to: URL(fileURLWithPath: dir + "/\(name).json"))
            let r = try CLI.run(["map", "--mapping", dir + "/\(name).npy", dir + "/in.npy", dir + "/out-\(name).npy", "--quiet"])
            Self.expectRefused(r, name, mentioning: message)
            #expect(!FileManager.default.fileExists(atPath: dir + "/out-\(name).npy"), "\(name): an output was written")
        }
        // The same files with every entry a number read and map.
        try Data(#"{"kind": "linear_map", "bias": [0.5, 1]}"#.utf8).write(to: URL(fileURLWithPath: dir + "/bias-string.json"))
        #expect(try CLI.run(["map", "--mapping", dir + "/bias-string.npy", dir + "/in.npy", dir + "/ok.npy", "--quiet"]).status == 0)
        #expect(try NpyReader.read(dir + "/ok.npy").matrix.values == [1.5, 3, 3.5, 5])
    }

    /// A word with "\r\n" inside (one Character, so a check for "\n" or "\r" Characters missed it)
    /// or of spaces only went into the sentence table, which `bias --seat` then refused; a
    /// template ending in a CR gave sentences that read back without it.
    @Test func seatTablesThatWouldNotReadBack() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data(#"["a\r\nb", "c", "d"]"#.utf8).write(to: URL(fileURLWithPath: dir + "/crlf.json"))
        try Data(#"["  ", "c", "d"]"#.utf8).write(to: URL(fileURLWithPath: dir + "/blank.json"))
        try Data(#"["c", "d"]"#.utf8).write(to: URL(fileURLWithPath: dir + "/ok.json"))
        try Data(#"["e", "f"]"#.utf8).write(to: URL(fileURLWithPath: dir + "/ok2.json"))
        for (list, message) in [("crlf", "contains a tab or line break"), ("blank", "is empty or only spaces")] {
            let r = try CLI.run(["bias", "sentences", "--targets", dir + "/\(list).json", dir + "/ok.json", "--attributes", dir + "/ok.json", dir + "/ok2.json",
                                 "--output", dir + "/\(list).tsv", "--quiet"])
            Self.expectRefused(r, list, mentioning: message)
            #expect(!FileManager.default.fileExists(atPath: dir + "/\(list).tsv"))
        }
        // "\r\r" at the end of the file: the line's own CR is dropped, the other stayed in the text.
        try Data("noun\tthis\tThis is {a} {word}.\nterm\tthis\tThis is {word}.\r\r".utf8).write(to: URL(fileURLWithPath: dir + "/templates.tsv"))
        let r = try CLI.run(["bias", "sentences", "--weat", "1", "--templates", dir + "/templates.tsv", "--output", dir + "/t.tsv", "--quiet"])
        Self.expectRefused(r, "templates", mentioning: "carriage return")
        // What bias sentences writes from good lists, bias --seat's reader takes back row for row.
        let rows = try SEATSentences.generate([SEATSentenceRequest(bundled: try #require(StandardWordLists.weat(named: "1")))], templates: .standard, bareWords: true)
        #expect(try SEATSentences.parse(SEATSentences.tsv(rows), path: "t.tsv") == rows)
    }

    /// A budget that rounds down to 0 bytes (".5", "1e-300%") is refused instead of refusing every
    /// analysis with "the budget is 0 bytes".
    @Test func memoryBudgetBelowOneByte() throws {
        for text in [".5", "0.5B", "1e-300%", "0.0001K"] {
            #expect(throws: EmbdiagError.self, "\(text)") { _ = try MemoryBudget.parse(text, origin: "--memory-budget") }
        }
        #expect(try MemoryBudget.parse("1", origin: "--memory-budget").bytes == 1)
        #expect(try MemoryBudget.parse("0.5K", origin: "--memory-budget").bytes == 512)
    }

    /// libpq reads user info up to the first '@' before any '/', so a '?' in it does not start the
    /// parameters, and it percent-decodes parameter keys: both left the password in the printed URL.
    /// (A '?' before the '@' is now refused as ambiguous; the printed forms still hide the password.)
    @Test func connectionStringPasswordsStayHidden() throws {
        let questionMark = "postgres://b?ob@localhost/db?password=hunter44&sslmode=require"
        #expect(throws: EmbdiagError.usage(PostgresLocation.Refusal.atAfterHost)) { try PostgresLocation(questionMark) }
        #expect(PostgresLocation.printable(questionMark) == "postgres://b:(redacted)@localhost/db?sslmode=require")
        #expect(!PostgresLocation.redactingURLs(in: "cannot read \(questionMark): refused").contains("hunter44"))
        let cases = [
            ("postgresql://u@h/db?pass%77ord=secretpw&sslmode=require", "secretpw", "postgresql://u@h/db?sslmode=require"),
        ]
        for (url, password, printed) in cases {
            let location = try PostgresLocation(url)
            #expect(location.redacted == printed, "\(url) → \(location.redacted)")
            #expect(location.connectionURL.contains(password), "libpq still gets the password")
            #expect(!PostgresLocation.printable(url).contains(password))
            #expect(!PostgresLocation.redactingURLs(in: "cannot read \(url): refused").contains(password))
            let libpq = try #require(PostgresLocation.connectionOptions(location.connectionURL))
            #expect(libpq.contains { $0.key == "password" && $0.value == password }, "\(libpq.map(\.key))")
        }
        // An unquoted key=value password runs to whitespace in libpq, quotes included: the
        // redaction stopped at the quote and showed the rest.
        let quoted = "host=db password=p'stgresql"
        #expect(PostgresLocation.connectionOptions(quoted)?.first { $0.key == "password" }?.value == "p'stgresql")
        #expect(PostgresLocation.redactingURLs(in: "cannot read \(quoted): refused") == "cannot read host=db password=(redacted): refused")
        // A quote inside a URL belongs to it (libpq reads on), so a percent-encoded key after it
        // is still found; closing characters of the surrounding text stay: JSON and messages
        // remain well-formed.
        #expect(!PostgresLocation.redactingURLs(in: "cannot read 'postgresql://u@h/d'?pass%77ord=secretpw&sslmode=require': refused").contains("secretpw"))
        #expect(PostgresLocation.redactingURLs(in: "(see 'postgresql://u:pw@h/db')") == "(see 'postgresql://u@h/db')")
        #expect(throws: EmbdiagError.self) { _ = try PostgresLocation("postgresql://u@h/db?password=a b") }
        #expect(PostgresLocation.redactingURLs(in: #"{"input": "host=h password=pw", "rows": 3}"#) == #"{"input": "host=h password=(redacted)", "rows": 3}"#)
        #expect(PostgresLocation.redactingURLs(in: "cannot open 'host=h password=pw': no such file") == "cannot open 'host=h password=(redacted)': no such file")
    }

    /// key=value strings libpq cannot parse: an unterminated quoted password gave a line with no
    /// problem at all (the redaction ran to its end), an unterminated quote elsewhere or an
    /// unknown keyword "no such file". Now one line: the string without its password, then what
    /// is wrong, from the library and from the CLI.
    @Test func unparseableConnectionStringsSayWhatIsWrong() throws {
        let cases: [(String, String, String?)] = [
            ("host=127.0.0.1 port=1 user=writer password='Zq7Kx9Vw", "unterminated quoted value", "Zq7Kx9Vw"),
            ("host=127.0.0.1 port=1 password=Zq7Kx9Vw dbname='unterminated", "unterminated quoted value", "Zq7Kx9Vw"),
            ("host=127.0.0.1 port=1 dbname=postgres bogus=1", "a keyword libpq does not know: 'bogus'", nil),
            ("host=127.0.0.1 port=1 password='Zq7 Kx9Vw' dbname=postgres bogus=1", "a keyword libpq does not know: 'bogus'", "Kx9Vw"),
            ("host=127.0.0.1 port=1 password=Zq7Kx9Vw bogus=1", "a keyword libpq does not know (quote", "Zq7Kx9Vw"),
            ("host=127.0.0.1 port=1 password=Zq7 Kx9Vw=1 dbname=postgres", "a keyword libpq does not know", "Kx9Vw"),
            ("host=127.0.0.1 port=1 password=Zq7 Kx9Vw dbname=postgres", "a word without '='", "Kx9Vw"),
        ]
        for (text, problem, secret) in cases {
            #expect(PostgresLocation.isSource(text), "\(text)")
            let error = try #require(throws: EmbdiagError.self, "\(text)") { try PostgresLocation(text) }
            #expect(error.kind == .usage && error.message.contains(problem), "\(error.message)")
            let r = try CLI.run(["info", text, "--table", "items", "--column", "embedding"])
            #expect(r.status == 2 && r.stderr.contains(problem) && !r.stderr.contains("no such file"), "\(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1 && r.stderr.hasPrefix("embdiag: error: host=127.0.0.1"), "\(r.stderr)")
            if let secret { #expect(!r.stderr.contains(secret) && !error.message.contains(secret), "\(r.stderr)") }
        }
        // A file whose name holds '=' is still a file.
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(!PostgresLocation.isSource(dir + "/host=x 'y.csv"))
    }

    /// The word "password" inside another key's value (after a '/', or inside a quoted value)
    /// opened a quoted value that the real password's own quote closed, and the rest of the real
    /// password was shown. The redaction now runs libpq's tokenizer from every word start.
    @Test func passwordWordsInsideOtherValuesDoNotHideTheRealOne() throws {
        let cases = [
            ("service=ppaspostgres://b?ob@localhost/de=p/password='ttwoname=x password='two wordrs://b?ob@h/db?password=hunte' dbname=x", "two wordrs://b?ob@h/db?password=hunte"),
            ("service='a password=' password='real secret' dbname=x", "real secret"),
            ("host=h service=x;password='aa password='real secret2'", "real secret2"),
            ("host = h password = 'spaced secret' dbname=x", "spaced secret"),
        ]
        for (line, password) in cases {
            #expect(PostgresLocation.connectionOptions(line)?.first { $0.key == "password" }?.value == password, "libpq reads \(password) from \(line)")
            for shown in [PostgresLocation.redactingURLs(in: "cannot read \(line): refused"), PostgresLocation.redactingURLs(in: line), PostgresLocation.printable(line)] {
                for piece in ["secret", "wordrs", "hunte"] where password.contains(piece) {
                    #expect(!shown.contains(piece), "'\(piece)' shown in \(shown)")
                }
            }
        }
        // Text already redacted keeps its form (no doubled closing parenthesis).
        #expect(PostgresLocation.redactingURLs(in: "cannot read host=db password=p'stgresql: refused") == "cannot read host=db password=(redacted): refused")
        #expect(PostgresLocation.redactingURLs(in: "host=db password=(redacted)") == "host=db password=(redacted)")
    }
}
