import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// postgresql:// inputs against a real PostgreSQL 15 server started by the suite.
@Suite(.serialized, .postgresServer) struct PostgresReaderTests {
    /// 6 × 3 float32 values, written to the server as their shortest decimal (exact round trip).
    static let rows: [[Float]] = (0..<6).map { i in (0..<3).map { j in Float(i * 3 + j) * 0.37 - 1.1 } }

    var server: PostgresServer {
        get throws { try #require(PostgresServer.current, "the suite trait starts the server") }
    }

    static func arrayLiteral(_ v: [Float], open: String = "{", close: String = "}") -> String {
        open + v.map { "\($0)" }.joined(separator: ",") + close
    }

    /// Table `name` (id int, embedding TYPE) holding `rows` (nil = NULL).
    static func createTable(_ c: PostgresConnection, _ name: String, type: String, rows: [String?]) throws {
        _ = try c.execute("DROP TABLE IF EXISTS \(name)")
        _ = try c.execute("CREATE TABLE \(name) (id int PRIMARY KEY, embedding \(type))")
        let values = rows.enumerated().map { "(\($0.offset), \($0.element.map { "'\($0)'" } ?? "NULL"))" }.joined(separator: ", ")
        _ = try c.execute("INSERT INTO \(name) VALUES \(values)")
    }

    /// Independent implementation of the documented canonical rows checksum.
    static func canonicalChecksum(labels: [String]?, rows: [[Float]?]) -> String {
        var data = Data()
        func u32(_ x: UInt32) { withUnsafeBytes(of: x.littleEndian) { data.append(contentsOf: $0) } }
        for (i, row) in rows.enumerated() {
            if let labels { u32(UInt32(labels[i].utf8.count)); data.append(contentsOf: Array(labels[i].utf8)) }
            if let row { u32(UInt32(row.count)); for v in row { u32(v.bitPattern) } } else { u32(0xFFFF_FFFF) }
        }
        return Checksum.sha256(data)
    }

    /// The shared tables (recreated by every test that uses them: test order is not fixed).
    static func createSharedTables(_ c: PostgresConnection) throws {
        try createTable(c, "items", type: "real[]", rows: rows.map { arrayLiteral($0) })
        var literals: [String?] = rows.map { arrayLiteral($0) }
        literals[0] = nil
        literals[3] = nil
        try createTable(c, "nulls", type: "real[]", rows: literals)
        try createTable(c, "ragged", type: "real[]", rows: ["{1,2,3}", "{4,5,6}", "{7,8,9}", "{1,2}", "{1,2,3}"])
    }

    static func matrixRows(_ e: Embeddings) -> [[Float]] {
        (0..<e.count).map { i in (0..<e.dimension).map { e.matrix.pointer[i * e.dimension + $0] } }
    }

    @Test func realArrayByQueryAndByTable() throws {
        let server = try server
        try Self.createSharedTables(server.admin())
        let query = "SELECT id, embedding FROM items ORDER BY id"
        let e = try EmbeddingReader.read(server.url(), options: ReadOptions(postgres: .init(query: query)))
        #expect(Self.matrixRows(e) == Self.rows)
        #expect(e.labels == (0..<6).map(String.init))
        #expect(e.source.format == .postgresql && e.source.dtype == "float32" && e.source.rows == 6 && e.source.dim == 3)
        #expect(e.source.key == query)
        #expect(e.source.path == server.url(password: nil))
        #expect(!e.source.path.contains(PostgresServer.password))
        #expect(e.source.sha256 == Self.canonicalChecksum(labels: e.labels, rows: Self.rows))

        // --table with the label column; the vector column found by type.
        let t = try EmbeddingReader.read(server.url(), options: ReadOptions(postgres: .init(table: "public.items", labelColumn: "id")))
        #expect(Self.matrixRows(t) == Self.rows && t.labels == e.labels && t.source.sha256 == e.source.sha256)
        #expect(t.source.key == "SELECT \"id\", \"embedding\" FROM \"public\".\"items\" ORDER BY \"id\"")
        // The same through the URL's own parameters (used when two inputs read different tables).
        let u = try EmbeddingReader.read(server.url() + "?table=items&column=embedding&label_column=id", options: ReadOptions())
        #expect(Self.matrixRows(u) == Self.rows && u.source.path == server.url(password: nil))
        // The URL's source wins over the flags, which apply to every input of a command: its
        // table is read although the flags give a query (for the command's other inputs), and a
        // URL query is not completed by the flags' table columns.
        let urlTable = try EmbeddingReader.read(server.url() + "?table=items&label_column=id",
                                                options: ReadOptions(postgres: .init(query: "SELECT 1, ARRAY[1,2]::real[]")))
        #expect(Self.matrixRows(urlTable) == Self.rows && urlTable.labels == e.labels)
        let urlQuery = try EmbeddingReader.read(server.url() + "?query=" + query.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!,
                                                options: ReadOptions(postgres: .init(table: "other", column: "x", labelColumn: "y")))
        #expect(Self.matrixRows(urlQuery) == Self.rows && urlQuery.source.key == query)
        #expect(throws: EmbdiagError.self) {
            try EmbeddingReader.read(server.url() + "?table=items&query=SELECT%201", options: ReadOptions())
        }
        // Binary (integer/text labels) and text (numeric label, or the array as text) fetches agree.
        for q in ["SELECT id::bigint, embedding FROM items ORDER BY id", "SELECT id::smallint, embedding FROM items ORDER BY id",
                  "SELECT id::text, embedding FROM items ORDER BY id", "SELECT id::numeric, embedding FROM items ORDER BY id",
                  "SELECT id, embedding::text FROM items ORDER BY id", "SELECT id, embedding::float8[] FROM items ORDER BY id"] {
            let other = try EmbeddingReader.read(server.url(), options: ReadOptions(postgres: .init(query: q)))
            #expect(Self.matrixRows(other) == Self.rows && other.labels == e.labels && other.source.sha256 == e.source.sha256, "\(q)")
        }
        // Vector alone: no labels, checksum without labels; a trailing semicolon is accepted.
        let v = try EmbeddingReader.read(server.url(), options: ReadOptions(postgres: .init(query: "SELECT embedding FROM items ORDER BY id;")))
        #expect(v.labels == nil && Self.matrixRows(v) == Self.rows)
        #expect(v.source.sha256 == Self.canonicalChecksum(labels: nil, rows: Self.rows))
    }

    @Test func doublePrecisionAndTextVectors() throws {
        let server = try server
        let c = try server.admin()
        try Self.createSharedTables(c)
        let doubles: [[Double]] = [[0.1, -2.5, 1e-3], [3.14159265358979, 0, 7]]
        try Self.createTable(c, "doubles", type: "double precision[]", rows: doubles.map { "{" + $0.map { "\($0)" }.joined(separator: ",") + "}" })
        let d = try EmbeddingReader.read(server.url(), options: ReadOptions(postgres: .init(query: "SELECT embedding FROM doubles ORDER BY id")))
        #expect(d.source.dtype == "float64")
        #expect(Self.matrixRows(d) == doubles.map { $0.map { Float($0) } })

        // pgvector's text form '[1,2,3]' (what embedding::text gives), spaces allowed, in a text column.
        let texts = Self.rows.map { Self.arrayLiteral($0, open: "[", close: "]") }
        try Self.createTable(c, "texts", type: "text", rows: texts.enumerated().map { $0.offset == 1 ? " [ " + $0.element.replacingOccurrences(of: ",", with: " , ").dropFirst().dropLast() + " ] " : $0.element })
        let t = try EmbeddingReader.read(server.url(), options: ReadOptions(postgres: .init(query: "SELECT id::text || '-x', embedding FROM texts ORDER BY id")))
        #expect(t.source.dtype == "text" && Self.matrixRows(t) == Self.rows)
        #expect(t.labels?.first == "0-x")
        // real[]::text gives '{…}'; jsonb gives '[a, b]'.
        let cast = try EmbeddingReader.read(server.url(), options: ReadOptions(postgres: .init(query: "SELECT embedding::text FROM items ORDER BY id")))
        #expect(Self.matrixRows(cast) == Self.rows)
        let json = try EmbeddingReader.read(server.url(), options: ReadOptions(postgres: .init(query: "SELECT to_jsonb(embedding) FROM items ORDER BY id")))
        #expect(Self.matrixRows(json) == Self.rows)
        // Unsupported column types are named.
        #expect(throws: EmbdiagError.malformed(server.url(password: nil), "column 'id' has type integer; expected real[], double precision[], numeric[], vector, halfvec or text holding '[…]'")) {
            try EmbeddingReader.read(server.url(), options: ReadOptions(postgres: .init(query: "SELECT id FROM items")))
        }
    }

    @Test func nullRowsAreAnErrorOrDroppedAndListed() throws {
        let server = try server
        try Self.createSharedTables(server.admin())
        let query = "SELECT id, embedding FROM nulls ORDER BY id"
        #expect(throws: EmbdiagError.invalid(server.url(password: nil), "row 0 ('0'): NULL in column 'embedding' (rows are 0-based; use \(Setting.onInvalid) drop to skip such rows, or WHERE embedding IS NOT NULL)")) {
            try EmbeddingReader.read(server.url(), options: ReadOptions(postgres: .init(query: query)))
        }
        let e = try EmbeddingReader.read(server.url(), options: ReadOptions(postgres: .init(query: query, nullRows: .drop)))
        #expect(e.count == 6 && e.nullRows == [0, 3])
        #expect(e.source.sha256 == Self.canonicalChecksum(labels: e.labels, rows: Self.rows.enumerated().map { [0, 3].contains($0.offset) ? nil : $0.element }))
        let (kept, dropped) = try e.requiringFiniteNonZeroRows(policy: .drop)
        #expect(dropped == [DroppedRow(row: 0, label: "0", reason: "null"), DroppedRow(row: 3, label: "3", reason: "null")])
        #expect(Self.matrixRows(kept) == [1, 2, 4, 5].map { Self.rows[$0] })
        #expect(kept.labels == ["1", "2", "4", "5"])
        // A NULL label is an error too (labels must not shift).
        #expect(throws: EmbdiagError.self) {
            try EmbeddingReader.read(server.url(), options: ReadOptions(postgres: .init(query: "SELECT NULL::text, embedding FROM items")))
        }
        // Every row NULL: nothing to read.
        #expect(throws: EmbdiagError.invalid(server.url(password: nil), "every one of the 2 row(s) is NULL in column 'embedding': nothing to read")) {
            try EmbeddingReader.read(server.url(), options: ReadOptions(postgres: .init(query: "SELECT embedding FROM nulls WHERE embedding IS NULL", nullRows: .drop)))
        }
    }

    @Test func raggedAndMalformedArraysNameTheRow() throws {
        let server = try server
        let c = try server.admin()
        try Self.createSharedTables(c)
        let name = server.url(password: nil)
        #expect(throws: EmbdiagError.malformed(name, "row 3 ('3'): column 'embedding' has 2 values, the first row 3 (ragged arrays)")) {
            try EmbeddingReader.read(server.url(), options: ReadOptions(postgres: .init(query: "SELECT id, embedding FROM ragged ORDER BY id")))
        }
        try Self.createTable(c, "multi", type: "real[]", rows: ["{{1,2},{3,4}}"])
        #expect(throws: EmbdiagError.malformed(name, "row 0 ('0'), column 'embedding': multidimensional array; expected one vector per row")) {
            try EmbeddingReader.read(server.url(), options: ReadOptions(postgres: .init(query: "SELECT id, embedding FROM multi")))
        }
        try Self.createTable(c, "holes", type: "real[]", rows: ["{1,2,3}", "{1,NULL,3}"])
        #expect(throws: EmbdiagError.malformed(name, "row 1 ('1'), column 'embedding': NULL element at position 1")) {
            try EmbeddingReader.read(server.url(), options: ReadOptions(postgres: .init(query: "SELECT id, embedding FROM holes ORDER BY id")))
        }
        #expect(throws: EmbdiagError.invalid(name, "the query returned no rows")) {
            try EmbeddingReader.read(server.url(), options: ReadOptions(postgres: .init(query: "SELECT embedding FROM items WHERE false")))
        }
    }

    @Test func hundredThousandRowsStreamThroughTheCursor() throws {
        let server = try server
        let c = try server.admin()
        _ = try c.execute("DROP TABLE IF EXISTS big")
        _ = try c.execute("CREATE TABLE big AS SELECT i AS id, ARRAY[i, i + 0.5, -i, i * 0.25]::real[] AS embedding FROM generate_series(0, 99999) AS i")
        let fetchesBefore = server.log.components(separatedBy: "FETCH").count
        let e = try EmbeddingReader.read(server.url(), options: ReadOptions(postgres: .init(query: "SELECT id, embedding FROM big ORDER BY id")))
        #expect(e.count == 100_000 && e.dimension == 4)
        for i in [0, 1, 255, 256, 65_537, 99_999] {
            let x = Float(i)
            #expect(Self.matrixRows(e.selecting(rows: [i]))[0] == [x, x + 0.5, -x, x * 0.25])
            #expect(e.labels?[i] == String(i))
        }
        // Batches: a first FETCH of 256 rows, then FETCHes of ≤ 100,000 rows.
        let fetches = server.log.components(separatedBy: "FETCH").count - fetchesBefore
        #expect(fetches >= 2 && fetches <= 4, "FETCH statements: \(fetches)")
    }

    @Test func passwordsFromURLEnvironmentAndPgpassNeverPrinted() throws {
        let server = try server
        try Self.createSharedTables(server.admin())
        let query = PostgresReader.Request(query: "SELECT embedding FROM items")
        let name = server.url(password: nil)
        // Wrong password.
        #expect(throws: EmbdiagError.io(name, "cannot connect: connection to server at \"127.0.0.1\", port \(server.port) failed: FATAL: password authentication failed for user \"embdiag\"")) {
            try EmbeddingReader.read(server.url(password: "wrong-Pw-123"), options: ReadOptions(postgres: query))
        }
        // The environment is the CLI child's only (setenv in a test process whose other suites run
        // concurrently is not thread-safe). An empty PGPASSWORD counts as none for libpq.
        let arguments = ["info", name, "--query", "SELECT id, embedding FROM items ORDER BY id"]
        let nowhere = "/nonexistent/embdiag-test-pgpass"
        // No password anywhere.
        let none = try CLI.run(arguments, environment: ["PGPASSWORD": "", "PGPASSFILE": nowhere])
        #expect(none.status == 2)
        #expect(none.stderr == "embdiag: error: \(name): cannot connect: the server asks for a password and none was given (put it in the URL, PGPASSWORD or ~/.pgpass)\n")
        // PGPASSWORD.
        let fromEnvironment = try CLI.run(arguments, environment: ["PGPASSWORD": PostgresServer.password, "PGPASSFILE": nowhere])
        #expect(fromEnvironment.status == 0, "\(fromEnvironment.stderr)")
        #expect(fromEnvironment.stdout.contains("input: \(name) (postgresql, float32, 6 × 3, key SELECT id, embedding FROM items ORDER BY id)"))
        #expect(!fromEnvironment.stdout.contains(PostgresServer.password))
        // A pgpass file (PGPASSFILE stands in for ~/.pgpass; libpq requires mode 0600).
        let pgpass = server.directory + "/pgpass"
        try "127.0.0.1:\(server.port):postgres:\(PostgresServer.user):\(PostgresServer.password)\n".write(toFile: pgpass, atomically: false, encoding: .utf8)
        chmod(pgpass, 0o600)
        let fromFile = try CLI.run(arguments, environment: ["PGPASSWORD": "", "PGPASSFILE": pgpass])
        #expect(fromFile.status == 0, "\(fromFile.stderr)")
        #expect(fromFile.stdout.contains("input: \(name) (postgresql") && !fromFile.stdout.contains(PostgresServer.password))
    }

    @Test func missingTableAndDroppedConnectionAreOneLineErrors() throws {
        let server = try server
        let name = server.url(password: nil)
        #expect(throws: EmbdiagError.malformed(name, "query failed: relation \"nope\" does not exist")) {
            try EmbeddingReader.read(server.url(), options: ReadOptions(postgres: .init(query: "SELECT id, embedding FROM nope ORDER BY id")))
        }
        #expect(throws: EmbdiagError.malformed(name, "table 'nope': relation \"nope\" does not exist")) {
            try EmbeddingReader.read(server.url(), options: ReadOptions(postgres: .init(table: "nope")))
        }
        // The backend is terminated (pg_terminate_backend) while the cursor is being read: the
        // first FETCH (256 rows) succeeds, the row with id 5000 kills the connection mid-read.
        let c = try server.admin()
        _ = try c.execute("DROP TABLE IF EXISTS dying")
        _ = try c.execute("CREATE TABLE dying AS SELECT i AS id, ARRAY[i, 1]::real[] AS embedding FROM generate_series(0, 9999) AS i")
        let killer = "SELECT id, embedding FROM dying WHERE id <> 5000 OR pg_terminate_backend(pg_backend_pid())"
        do {
            _ = try EmbeddingReader.read(server.url(), options: ReadOptions(postgres: .init(query: killer)))
            Issue.record("reading through a terminated connection must fail")
        } catch let error as EmbdiagError {
            #expect(error.kind == .io && error.path == name)
            #expect(error.message == "connection lost after reading 256 row(s): terminating connection due to administrator command; server closed the connection unexpectedly")
            #expect(!error.description.contains("\n"))
        }
    }

    @Test func cliConvertAndReportsWithoutPassword() throws {
        let server = try server
        try Self.createSharedTables(server.admin())
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let environment = ["PGPASSFILE": "/nonexistent/embdiag-test-pgpass", "PGPASSWORD": ""]
        let out = dir + "/items.npy"
        let convert = try CLI.run(["convert", server.url(), "--query", "SELECT id, embedding FROM nulls ORDER BY id", "--on-invalid", "drop", out], environment: environment)
        #expect(convert.status == 0, "\(convert.stderr)")
        #expect(!convert.stdout.contains(PostgresServer.password) && !convert.stderr.contains(PostgresServer.password))
        #expect(convert.stderr.contains("dropped 2 row(s)") && convert.stderr.contains("row 0 ") && convert.stderr.contains("row 3 "), "\(convert.stderr)")
        let written = try NpyReader.read(out)
        #expect(Self.matrixRows(written) == [1, 2, 4, 5].map { Self.rows[$0] })
        #expect(try String(contentsOfFile: out + ".labels.txt", encoding: .utf8) == "1\n2\n4\n5\n")

        // A report records the URL without password, the query and the rows checksum.
        let json = dir + "/info.json"
        let info = try CLI.run(["info", server.url(), "--table", "items", "--label-column", "id", "--json", json, "--quiet"], environment: environment)
        #expect(info.status == 0, "\(info.stderr)")
        let text = try String(contentsOfFile: json, encoding: .utf8)
        #expect(!text.contains(PostgresServer.password))
        let input = try #require(((try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])?["inputs"] as? [[String: Any]])?.first)
        #expect(input["path"] as? String == server.url(password: nil))
        #expect(input["key"] as? String == "SELECT \"id\", \"embedding\" FROM \"items\" ORDER BY \"id\"")
        #expect(input["sha256"] as? String == Self.canonicalChecksum(labels: (0..<6).map(String.init), rows: Self.rows))

        // An audit config takes the URL as an input and --query as an option; no file it writes
        // holds the password (the checks table quotes each check's command line).
        let config = dir + "/audit.yaml"
        try """
            title: postgres audit
            checks:
              - name: from-postgres
                command: info
                inputs: ["\(server.url())"]
                options:
                  query: "SELECT id, embedding FROM items ORDER BY id"
                require: ["rows == 6"]
            """.write(toFile: config, atomically: false, encoding: .utf8)
        let audit = try CLI.run(["audit", config, "--output", dir + "/audit", "--quiet"], environment: environment)
        #expect(audit.status == 0, "\(audit.stderr)")
        let auditFiles = FileManager.default.enumerator(atPath: dir + "/audit")?.compactMap { $0 as? String } ?? []
        #expect(auditFiles.contains { $0.hasSuffix("report.json") })
        for file in auditFiles where !file.hasSuffix("/") {
            let content = (try? String(contentsOfFile: dir + "/audit/" + file, encoding: .utf8)) ?? ""
            #expect(!content.contains(PostgresServer.password), "\(file) holds the password")
        }

        // Errors: exit 2, one line, no password.
        let wrong = try CLI.run(["anisotropy", server.url(password: "wrong-Pw-123"), "--query", "SELECT embedding FROM items"], environment: environment)
        #expect(wrong.status == 2)
        #expect(wrong.stderr.hasPrefix("embdiag: error: \(server.url(password: nil)): cannot connect:"), "\(wrong.stderr)")
        #expect(!wrong.stderr.contains("wrong-Pw-123") && wrong.stderr.split(separator: "\n").count == 1)
        let missing = try CLI.run(["anisotropy", server.url(), "--table", "nope"], environment: environment)
        #expect(missing.status == 2 && missing.stderr.contains("relation \"nope\" does not exist") && !missing.stderr.contains(PostgresServer.password))
        let ragged = try CLI.run(["info", server.url(), "--query", "SELECT id, embedding FROM ragged ORDER BY id"], environment: environment)
        #expect(ragged.status == 2 && ragged.stderr.contains("row 3 ('3'): column 'embedding' has 2 values"))
        let nulls = try CLI.run(["anisotropy", server.url(), "--query", "SELECT id, embedding FROM nulls ORDER BY id"], environment: environment)
        #expect(nulls.status == 2 && nulls.stderr.contains("row 0 ('0'): NULL in column 'embedding'"))
        let noQuery = try CLI.run(["info", server.url()], environment: environment)
        #expect(noQuery.status == 2 && noQuery.stderr.contains("needs --query"))
    }
}

/// URL handling and the text forms, without a server.
@Suite struct PostgresLocationTests {
    @Test func passwordsAreRemovedFromThePrintedForm() throws {
        let a = try PostgresLocation("postgresql://me:pa:ss@db.example:5433/app?sslmode=require&password=zz&table=items&label_column=id")
        #expect(a.redacted == "postgresql://me@db.example:5433/app?sslmode=require")
        #expect(a.connectionURL == "postgresql://me:pa:ss@db.example:5433/app?sslmode=require&password=zz")
        #expect(a.table == "items" && a.labelColumn == "id" && a.query == nil)
        let b = try PostgresLocation("postgres://db/app?query=SELECT%20embedding%20FROM%20t")
        #expect(b.redacted == "postgres://db/app" && b.query == "SELECT embedding FROM t")
        #expect(PostgresLocation.isURL("POSTGRESQL://x") && !PostgresLocation.isURL("postgresql.npy"))
        #expect(PostgresLocation.redactingURLs(in: "x postgresql://u:secret@h/db: no, see 'postgres://v:pw@h' (postgresx)")
                == "x postgresql://u@h/db: no, see 'postgres://v@h' (postgresx)")
    }

    @Test func vectorTextForms() throws {
        func parse(_ s: String, precision: PostgresVectorText.Precision = .float32) throws -> [Float] {
            var out = [Float](repeating: 0, count: 8)
            let n = try s.withCString { text in try out.withUnsafeMutableBufferPointer { try PostgresVectorText.parse(text, into: $0.baseAddress!, capacity: 8, precision: precision) } }
            return Array(out.prefix(n))
        }
        #expect(try parse("{1,2.5,-3e2}") == [1, 2.5, -300])
        #expect(try parse(" [ 0.1 , 2 ] ") == [0.1, 2])
        #expect(try parse("[0:1]={4,5}") == [4, 5])
        #expect(try parse("{0.1}", precision: .float64) == [Float(0.1 as Double)])
        #expect(try parse("{}") == [])
        let special = try parse("{NaN,Infinity,-Infinity}")
        #expect(special[0].isNaN && special[1] == .infinity && special[2] == -.infinity)
        for bad in ["1,2", "{1,,2}", "{1 2}", "{1,2", "{1:1}/3", "[1,2]x", "{1,NULL}", "{{1}}", "{abc}"] {
            #expect(throws: PostgresVectorText.ParseError.self, "\(bad)") { try parse(bad) }
        }
    }
}
