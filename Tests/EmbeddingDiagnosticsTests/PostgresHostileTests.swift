import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// Hostile cases against the PostgreSQL source: queries that try to write (several statements,
/// COMMIT/ROLLBACK inside, DDL, session settings, functions with side effects), injection through
/// every name that reaches SQL, as a superuser and as a low-privilege role that may write. After
/// every attempt a catalog digest (relations, namespaces, functions, roles, large objects,
/// sequence state and table contents) must be unchanged.
@Suite(.serialized, .postgresServer) struct PostgresHostileTests {
    static let rows = PostgresReaderTests.rows
    /// A role that may write (INSERT on canary, CREATE in schema public, the sequence): only the
    /// read-only session stands between a hostile query and a change.
    static let lowUser = "lowpriv"
    static let lowPassword = "Low-Priv-Pw-771"

    var server: PostgresServer {
        get throws { try #require(PostgresServer.current, "the suite trait starts the server") }
    }

    /// Tables `items` (id, embedding real[]), `canary` (one row), sequence `seq`, role lowpriv.
    func prepare() throws -> PostgresServer {
        let server = try server
        let c = try server.admin()
        try PostgresReaderTests.createTable(c, "items", type: "real[]", rows: Self.rows.map { PostgresReaderTests.arrayLiteral($0) })
        _ = try c.execute("DROP TABLE IF EXISTS canary")
        _ = try c.execute("DROP TABLE IF EXISTS x")
        _ = try c.execute("CREATE TABLE canary (i int)")
        _ = try c.execute("INSERT INTO canary VALUES (7)")
        _ = try c.execute("DROP SEQUENCE IF EXISTS seq")
        _ = try c.execute("CREATE SEQUENCE seq")
        _ = try c.execute("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '\(Self.lowUser)') THEN CREATE ROLE \(Self.lowUser) LOGIN PASSWORD '\(Self.lowPassword)'; END IF; END $$")
        _ = try c.execute("GRANT SELECT, INSERT, DELETE ON items, canary TO \(Self.lowUser)")
        _ = try c.execute("GRANT USAGE, UPDATE ON SEQUENCE seq TO \(Self.lowUser)")
        _ = try c.execute("GRANT CREATE ON SCHEMA public TO \(Self.lowUser)")
        return server
    }

    /// URL of the superuser or of the low-privilege role.
    func url(_ server: PostgresServer, low: Bool, parameters: String = "") -> String {
        let user = low ? "\(Self.lowUser):\(Self.lowPassword)" : "\(PostgresServer.user):\(PostgresServer.password)"
        return "postgresql://\(user)@127.0.0.1:\(server.port)/postgres" + parameters
    }

    /// Everything a hostile query could change, as one string (compared before and after).
    static func digest(_ server: PostgresServer) throws -> String {
        let c = try server.admin()
        let parts = [
            "SELECT string_agg(format('%s.%s:%s:%s', n.nspname, c.relname, c.relkind, c.relowner), ',' ORDER BY n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace",
            "SELECT string_agg(nspname, ',' ORDER BY nspname) FROM pg_namespace",
            "SELECT count(*)::text || ':' || md5(string_agg(oid::text || proname, ',' ORDER BY oid)) FROM pg_proc",
            "SELECT string_agg(rolname || rolsuper::text, ',' ORDER BY rolname) FROM pg_roles",
            "SELECT count(*)::text FROM pg_largeobject_metadata",
            "SELECT count(*)::text FROM pg_db_role_setting",
            "SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_database",
            "SELECT last_value::text || is_called::text FROM seq",
            "SELECT coalesce(md5(string_agg(t::text, ',' ORDER BY t::text)), 'empty') FROM canary t",
            "SELECT coalesce(md5(string_agg(t::text, ',' ORDER BY t::text)), 'empty') FROM items t",
        ]
        return try parts.map { sql in
            let r = try c.execute(sql)
            return r.rows == 1 && !r.isNull(0, 0) ? r.string(0, 0) : "NULL"
        }.joined(separator: " | ")
    }

    /// `.rolledBack`: a function that a read-only transaction allows (large objects): read by a
    /// role allowed to call it, refused otherwise, undone in both cases.
    enum Expected { case refused, reads, rolledBack }

    /// Queries that must not change the database; `.reads` ones are single SELECTs that return
    /// the 6 rows of `items` (their side effect, if any, is refused or harmless).
    static let queries: [(String, Expected)] = [
        ("SELECT id, embedding FROM items; COMMIT; DROP TABLE canary", .refused),
        ("SELECT id, embedding FROM items; COMMIT; CREATE TABLE x(i int)", .refused),
        ("SELECT id, embedding FROM items;COMMIT;INSERT INTO canary VALUES (99)", .refused),
        ("SELECT id, embedding FROM items; ROLLBACK; DROP TABLE canary", .refused),
        ("SELECT id, embedding FROM items\n;\nDROP TABLE canary", .refused),
        ("SELECT id, embedding FROM items; -- done\n DELETE FROM canary", .refused),
        ("BEGIN; DROP TABLE canary; COMMIT; SELECT id, embedding FROM items", .refused),
        ("DROP TABLE canary", .refused),
        ("CREATE TABLE x AS SELECT id, embedding FROM items", .refused),
        ("COMMIT", .refused),
        ("INSERT INTO canary VALUES (1) RETURNING i, ARRAY[1,2]::real[]", .refused),
        ("SET default_transaction_read_only = off", .refused),
        ("RESET ALL", .refused),
        ("SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE", .refused),
        ("COPY canary TO PROGRAM 'touch /tmp/embdiag-hostile-copy'", .refused),
        ("DO $$ BEGIN DROP TABLE canary; END $$", .refused),
        ("EXPLAIN ANALYZE DELETE FROM canary", .refused),
        ("/* SELECT */ DELETE FROM canary", .refused),
        ("WITH d AS (DELETE FROM canary RETURNING i) SELECT id, embedding FROM items", .refused),
        ("SELECT id, embedding FROM items WHERE nextval('seq') > 0", .refused),
        ("SELECT id, embedding FROM items FOR UPDATE", .refused),
        ("SELECT set_config('transaction_read_only', 'off', true) AS id, embedding FROM items", .refused),
        ("SELECT lo_import('/etc/hostname')::text AS id, embedding FROM items ORDER BY id", .rolledBack),
        ("SELECT lo_from_bytea(0, 'x')::text AS id, embedding FROM items ORDER BY id", .rolledBack),
        ("SELECT set_config('search_path', 'pg_temp', false) AS id, embedding FROM items", .rolledBack),
        ("SELECT 'x\\'; DROP TABLE canary; --' AS id, embedding FROM items", .refused),
        // Single statements whose text holds ';' or keywords: read, and nothing changes.
        ("SELECT id, embedding FROM items WHERE 'a;b' <> '' ORDER BY id", .reads),
        ("SELECT id, embedding FROM items /* ; DROP TABLE canary */ ORDER BY id; -- trailing", .reads),
        ("(SELECT id, embedding FROM items ORDER BY id);", .reads),
        ("WITH t AS (SELECT id, embedding FROM items) SELECT id, embedding FROM t ORDER BY id", .reads),
        ("SELECT id, embedding FROM items WHERE $$;DROP TABLE canary$$ <> '' ORDER BY id", .reads),
        ("SELECT id, embedding FROM items WHERE E'\\'; DROP TABLE canary; --' <> '' ORDER BY id", .reads),
        ("SELECT \"id\", embedding FROM items WHERE 'x;y' <> '' ORDER BY \"id\"", .reads),
        // set_config of the session default runs but no statement of embdiag's writes after it.
        ("SELECT id, embedding FROM items WHERE set_config('default_transaction_read_only', 'off', false) IS NOT NULL ORDER BY id", .reads),
    ]

    /// Names that reach SQL through --table/--column/--label-column and the URL's parameters:
    /// quoted as identifiers, so each is a name that does not exist.
    static let injections: [PostgresReader.Request] = [
        .init(table: "items; DROP TABLE canary"),
        .init(table: "items\"; DROP TABLE canary; --"),
        .init(table: "public.items; DROP TABLE canary"),
        .init(table: "items", column: "embedding FROM items; DROP TABLE canary; --"),
        .init(table: "items", column: "embedding\"; DROP TABLE canary; --"),
        .init(table: "items", column: "embedding", labelColumn: "id\"; DROP TABLE canary; --"),
        .init(table: "items", column: "embedding", labelColumn: "id) ; COMMIT; DROP TABLE canary; --"),
        .init(table: "items'); DROP TABLE canary; --"),
    ]

    @Test(arguments: [false, true]) func queriesThatTryToWriteLeaveTheDatabaseUnchanged(low: Bool) throws {
        let server = try prepare()
        let before = try Self.digest(server)
        var refused = 0, read = 0
        for (query, expected) in Self.queries {
            do {
                let e = try EmbeddingReader.read(url(server, low: low), options: ReadOptions(postgres: .init(query: query)))
                #expect(expected != .refused, "\(low ? "lowpriv" : "superuser"): \(query) was read")
                #expect(e.count == 6 && Set(PostgresReaderTests.matrixRows(e)) == Set(Self.rows), "\(query)")
                read += 1
            } catch let error as EmbdiagError {
                #expect(expected != .reads, "\(low ? "lowpriv" : "superuser"): \(query): \(error.description)")
                #expect(error.exitCode == 2 && !error.description.contains("\n"))
                #expect(!error.description.contains("portal"), "\(error.description)")
                refused += 1
            }
            #expect(try Self.digest(server) == before, "\(low ? "lowpriv" : "superuser"): \(query) changed the database")
        }
        #expect(refused >= Self.queries.filter { $0.1 == .refused }.count && read >= Self.queries.filter { $0.1 == .reads }.count)
        #expect(!FileManager.default.fileExists(atPath: "/tmp/embdiag-hostile-copy"))
    }

    @Test(arguments: [false, true]) func namesReachingSQLCannotInject(low: Bool) throws {
        let server = try prepare()
        let before = try Self.digest(server)
        for request in Self.injections {
            #expect(throws: EmbdiagError.self, "\(request)") {
                try EmbeddingReader.read(url(server, low: low), options: ReadOptions(postgres: request))
            }
            #expect(try Self.digest(server) == before, "\(request) changed the database")
        }
        // The same through the URL's parameters (percent-encoded).
        for parameters in ["?table=items%3B%20DROP%20TABLE%20canary", "?table=items&column=embedding%22%3B%20DROP%20TABLE%20canary%3B%20--",
                           "?table=items&label_column=id%22%3B%20DROP%20TABLE%20canary%3B%20--",
                           "?query=SELECT%20id%2C%20embedding%20FROM%20items%3B%20COMMIT%3B%20DROP%20TABLE%20canary"] {
            #expect(throws: EmbdiagError.self, "\(parameters)") {
                try EmbeddingReader.read(url(server, low: low, parameters: parameters), options: ReadOptions())
            }
            #expect(try Self.digest(server) == before, "\(parameters) changed the database")
        }
    }

    @Test func messagesSayWhatIsRefused() throws {
        let server = try prepare()
        let name = server.url(password: nil)
        #expect(throws: EmbdiagError.usage("\(name): \(Setting.query) holds more than one statement (text follows the ';' at character 32); embdiag runs exactly one SELECT")) {
            try EmbeddingReader.read(server.url(), options: ReadOptions(postgres: .init(query: "SELECT id, embedding FROM items; COMMIT; DROP TABLE canary")))
        }
        #expect(throws: EmbdiagError.usage("\(name): \(Setting.query) must be one SELECT statement (or WITH … SELECT, VALUES, TABLE); it starts with 'drop'")) {
            try EmbeddingReader.read(server.url(), options: ReadOptions(postgres: .init(query: "  DROP TABLE canary")))
        }
        #expect(throws: EmbdiagError.usage("\(name): \(Setting.query) is empty")) {
            try EmbeddingReader.read(server.url(), options: ReadOptions(postgres: .init(query: " ; -- nothing")))
        }
        // A write inside one SELECT: PostgreSQL's read-only error, one line.
        #expect(throws: EmbdiagError.malformed(name, "reading rows failed: cannot execute nextval() in a read-only transaction")) {
            try EmbeddingReader.read(server.url(), options: ReadOptions(postgres: .init(query: "SELECT id, embedding FROM items WHERE nextval('seq') > 0")))
        }
    }

    @Test func theSessionIsReadOnlyWhateverTheURLOrEnvironmentSays() throws {
        let server = try prepare()
        let before = try Self.digest(server)
        // options in the URL that try to switch read-only off: embdiag's setting comes last.
        let off = url(server, low: false, parameters: "?options=-c%20default_transaction_read_only%3Doff")
        let c = try PostgresConnection(PostgresLocation(off))
        #expect(try c.execute("SHOW default_transaction_read_only").string(0, 0) == "on")
        // A COMMIT does not end it: the next transaction is read-only too.
        _ = try c.execute("BEGIN")
        _ = try c.execute("COMMIT")
        #expect(throws: EmbdiagError.self) { try c.execute("CREATE TABLE x (i int)") }
        // The same in a key=value string (quoted options).
        let keyValue = "host=127.0.0.1 port=\(server.port) user=\(PostgresServer.user) password=\(PostgresServer.password) dbname=postgres options='-c default_transaction_read_only=off'"
        #expect(try PostgresConnection(PostgresLocation(keyValue)).execute("SHOW transaction_read_only").string(0, 0) == "on")
        // A URL option that is kept (search_path) still applies.
        let kept = try PostgresConnection(PostgresLocation(url(server, low: false, parameters: "?options=-c%20search_path%3Dpg_catalog")))
        #expect(try kept.execute("SHOW search_path").string(0, 0) == "pg_catalog")
        #expect(try kept.execute("SHOW transaction_read_only").string(0, 0) == "on")
        // PGOPTIONS in the environment, through the CLI.
        let cli = try CLI.run(["info", url(server, low: true), "--query", "SELECT id, embedding FROM items WHERE nextval('seq') > 0"],
                              environment: ["PGOPTIONS": "-c default_transaction_read_only=off"])
        #expect(cli.status == 2 && cli.stderr.contains("read-only transaction"), "\(cli.stderr)")
        #expect(try Self.digest(server) == before)
    }

    @Test func cliAndAuditEscapesExitTwoAndChangeNothing() throws {
        let server = try prepare()
        let before = try Self.digest(server)
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for low in [false, true] {
            for query in ["SELECT id, embedding FROM items; COMMIT; DROP TABLE canary", "SELECT id, embedding FROM items; COMMIT; CREATE TABLE x(i int)"] {
                let r = try CLI.run(["info", url(server, low: low), "--query", query])
                #expect(r.status == 2 && r.stderr.contains("more than one statement") && r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
            }
            // An audit input URL carrying the query (percent-encoded '; COMMIT; …').
            let config = dir + "/audit.yaml"
            try """
                checks:
                  - name: escape
                    command: info
                    inputs: ["\(url(server, low: low, parameters: "?query=SELECT%20id%2C%20embedding%20FROM%20items%3B%20COMMIT%3B%20CREATE%20TABLE%20x(i%20int)"))"]
                """.write(toFile: config, atomically: false, encoding: .utf8)
            let audit = try CLI.run(["audit", config, "--output", dir + "/audit", "--quiet"])
            #expect(audit.status == 2 && audit.stderr.contains("more than one statement"), "\(audit.stderr)")
            #expect(!audit.stderr.contains(Self.lowPassword) && !audit.stderr.contains(PostgresServer.password))
        }
        #expect(try Self.digest(server) == before)
    }

    /// `%00` in embdiag's own URL parameters made libpq run the SQL up to the NUL (every row
    /// instead of the filtered ones) while the report showed the whole text: exit 2 naming the
    /// parameter, on the command line and in an audit file's `query:`.
    @Test func aNULInEmbdiagsParametersIsRefusedNotTruncated() throws {
        let server = try prepare()
        let filtered = try CLI.run(["info", url(server, low: false, parameters: "?query=SELECT%20embedding%20FROM%20items%20WHERE%20id%20%3C%202"), "--json", "-"])
        #expect(filtered.status == 0, "\(filtered.stderr)")
        for (parameter, value) in [("query", "SELECT%20embedding%20FROM%20items%00%20WHERE%20id%20%3C%202"), ("table", "items%00_archive")] {
            let r = try CLI.run(["info", url(server, low: false, parameters: "?\(parameter)=\(value)"), "--json", "-"])
            #expect(r.status == 2 && r.stdout.isEmpty && r.stderr.contains("parameter '\(parameter)' holds %00"), "\(r.stderr)")
            #expect(!r.stderr.contains(PostgresServer.password) && r.stderr.split(separator: "\n").count == 1)
        }
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let config = dir + "/audit.yaml"
        try """
            checks:
              - name: nul
                command: info
                inputs: ["\(url(server, low: false))"]
                options:
                  query: "SELECT embedding FROM items\\0 WHERE id < 2"
            """.write(toFile: config, atomically: false, encoding: .utf8)
        let audit = try CLI.run(["audit", config, "--output", dir + "/audit", "--quiet"])
        #expect(audit.status == 2 && audit.stderr.contains("holds a NUL character"), "\(audit.stderr)")
    }

    @Test func backendSignalsNeedTheRolesPrivilege() throws {
        // pg_terminate_backend is not a write: the read-only session does not stop it, the role's
        // privileges do (documented). The low-privilege role cannot signal the superuser's backend.
        let server = try prepare()
        let before = try Self.digest(server)
        let witness = try server.admin()
        let pid = try witness.execute("SELECT pg_backend_pid()").string(0, 0)
        #expect(throws: EmbdiagError.self) {
            try EmbeddingReader.read(url(server, low: true), options: ReadOptions(postgres: .init(
                query: "SELECT pg_terminate_backend(\(pid))::text AS id, embedding FROM items")))
        }
        #expect(try witness.execute("SELECT 1").string(0, 0) == "1")
        #expect(try Self.digest(server) == before)
    }

    /// Every file under `dir`, with its content.
    static func filesUnder(_ dir: String) -> [(String, String)] {
        (FileManager.default.enumerator(atPath: dir)?.compactMap { $0 as? String } ?? []).compactMap { name in
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: dir + "/" + name, isDirectory: &isDirectory), !isDirectory.boolValue else { return nil }
            return (name, String(decoding: (try? Data(contentsOf: URL(fileURLWithPath: dir + "/" + name))) ?? Data(), as: UTF8.self))
        }
    }

    @Test func passwordsInEveryFormNeverReachAMessageReportStateOrIndex() throws {
        let server = try prepare()
        let c = try server.admin()
        let spaced = "Sp ace Pw9"
        _ = try c.execute("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'spacey') THEN CREATE ROLE spacey LOGIN PASSWORD '\(spaced)'; END IF; END $$")
        var nullRows: [String?] = Self.rows.map { PostgresReaderTests.arrayLiteral($0) }
        nullRows[2] = nil
        try PostgresReaderTests.createTable(c, "nulls", type: "real[]", rows: nullRows)
        _ = try c.execute("GRANT SELECT ON items, nulls TO spacey")
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let secret = PostgresServer.password, user = PostgresServer.user, port = server.port
        let serviceFile = dir + "/pg_service.conf"
        try "[embsvc]\nhost=127.0.0.1\nport=\(port)\nuser=\(user)\ndbname=postgres\npassword=\(secret)\n".write(toFile: serviceFile, atomically: false, encoding: .utf8)
        let noPass = ["PGPASSFILE": "/nonexistent/embdiag-test-pgpass", "PGPASSWORD": "", "PGSERVICEFILE": serviceFile]
        // (source, environment, secrets that must not appear, secret that makes it fail)
        let forms: [(String, [String: String], [String], String)] = [
            ("postgresql://\(user):\(secret)@127.0.0.1:\(port)/postgres", noPass, [secret], "postgresql://\(user):Wrong-Pw-4411@127.0.0.1:\(port)/postgres"),
            ("postgresql://\(user)@127.0.0.1:\(port)/postgres?password=\(secret)", noPass, [secret], "postgresql://\(user)@127.0.0.1:\(port)/postgres?password=Wrong-Pw-4411"),
            ("host=127.0.0.1 port=\(port) user=\(user) password=\(secret) dbname=postgres", noPass, [secret], "host=127.0.0.1 port=\(port) user=\(user) password=Wrong-Pw-4411 dbname=postgres"),
            ("host=127.0.0.1 port=\(port) user=spacey password='\(spaced)' dbname=postgres", noPass, [spaced, "ace Pw9", "Sp ace"],
             "host=127.0.0.1 port=\(port) user=spacey password = 'Wr ong-Pw 4411' dbname=postgres"),
            ("postgresql://\(user)@127.0.0.1:\(port)/postgres", noPass.merging(["PGPASSWORD": secret]) { $1 }, [secret], ""),
            ("service=embsvc", noPass, [secret], ""),
        ]
        var runs = 0
        for (i, (source, environment, secrets, failing)) in forms.enumerated() {
            let out = dir + "/form\(i)"
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            var results: [CLI.Result] = []
            let query = "SELECT id, embedding FROM nulls ORDER BY id"
            // Success: every report form, a state file, an audit (index, summary, check reports).
            let info = try CLI.run(["info", source, "--query", query, "--on-invalid", "drop", "--output", out + "/rep", "--json", out + "/r.json", "--html", out + "/r.html"], environment: environment)
            #expect(info.status == 0, "form \(i): \(info.stderr)")
            let anisotropy = try CLI.run(["anisotropy", source, "--query", query, "--on-invalid", "drop", "--output", out + "/aniso"], environment: environment)
            #expect(anisotropy.status == 0, "form \(i): \(anisotropy.stderr)")
            let partial = try CLI.run(["info", source, "--query", query, "--on-invalid", "drop", "--partial", out + "/state.json", "--row-offset", "0"], environment: environment)
            #expect(partial.status == 0, "form \(i): \(partial.stderr)")
            let merged = try CLI.run(["merge", out + "/state.json", "--json", out + "/merged.json"], environment: environment)
            #expect(merged.status == 0, "form \(i): \(merged.stderr)")
            let config = out + "/audit.yaml"
            try "checks:\n  - name: pg\n    command: info\n    inputs: ['\(source.replacingOccurrences(of: "'", with: "''"))']\n    options:\n      query: \"\(query)\"\n      on-invalid: drop\n"
                .write(toFile: config, atomically: false, encoding: .utf8)
            let audit = try CLI.run(["audit", config, "--output", out + "/audit", "--json", out + "/audit-summary.json"], environment: environment)
            #expect(audit.status == 0, "form \(i): \(audit.stderr)")
            results += [info, anisotropy, partial, merged, audit]
            // Failure: a missing table, and a wrong password where the form carries one.
            let missing = try CLI.run(["info", source, "--table", "nope", "--json", out + "/never.json"], environment: environment)
            #expect(missing.status == 2, "form \(i): \(missing.stderr)")
            results.append(missing)
            var failingSecrets = secrets
            if !failing.isEmpty {
                for arguments in [["info", failing, "--query", query], ["info", failing, "--query", query, "--format", "postgresql"]] {
                    let wrong = try CLI.run(arguments, environment: environment)
                    #expect(wrong.status == 2 && wrong.stderr.contains("cannot connect"), "form \(i): \(wrong.stderr)")
                    results.append(wrong)
                }
                failingSecrets += ["Wrong-Pw-4411", "Wr ong", "ong-Pw 4411"]
                let failingAudit = out + "/failing.yaml"
                try "checks:\n  - name: pg\n    command: info\n    inputs: ['\(failing.replacingOccurrences(of: "'", with: "''"))']\n    options:\n      query: \"\(query)\"\n"
                    .write(toFile: failingAudit, atomically: false, encoding: .utf8)
                let auditFailure = try CLI.run(["audit", failingAudit, "--output", out + "/audit-failing"], environment: environment)
                #expect(auditFailure.status == 2, "form \(i): \(auditFailure.stderr)")
                results.append(auditFailure)
            }
            runs += results.count
            for r in results {
                for word in failingSecrets {
                    #expect(!r.stdout.contains(word) && !r.stderr.contains(word), "form \(i) printed '\(word)': \(r.stdout) \(r.stderr)")
                }
            }
            let files = Self.filesUnder(out).filter { !$0.0.hasSuffix(".yaml") }
            #expect(files.contains { $0.0.hasSuffix("dropped_rows_0.csv") } || files.contains { $0.0.contains("dropped") }, "form \(i): \(files.map(\.0))")
            #expect(files.count >= 14, "form \(i): \(files.map(\.0))")
            for (name, content) in files {
                for word in failingSecrets {
                    let at = content.range(of: word).map { String(content[content.index($0.lowerBound, offsetBy: -min(80, content.distance(from: content.startIndex, to: $0.lowerBound)))..<$0.upperBound]) } ?? ""
                    #expect(!content.contains(word), "form \(i): \(name) holds '\(word)': …\(at)")
                }
            }
        }
        #expect(runs >= 40)
    }

    /// A source whose password must never be printed nor written: `PORT` stands for the server's
    /// port, `DIGITS` for four digits that are not in it (a password that looks like a port).
    struct LeakCase: Sendable, CustomTestStringConvertible {
        let kind: String
        let source: String
        /// What may not appear (no 4 characters of it in a row): the password as written and as
        /// libpq decodes it.
        let secrets: [String]
        /// The start of the refusal that comes before libpq sees the URL; nil: libpq or the server
        /// refuses it (a wrong password, no server there).
        let refusal: String?
        var environment: [String: String] = [:]
        var testDescription: String { kind }
    }

    typealias Refusal = PostgresLocation.Refusal
    static let base = "127.0.0.1:PORT/postgres"

    static let leakCases: [LeakCase] = [
        // A raw '/', '?', '#' or '@' in the user info: libpq reads something else than the writer meant.
        .init(kind: "raw / in the password", source: "postgresql://lowpriv:Qz7/Wk9xJ@\(base)", secrets: ["Qz7/Wk9xJ"], refusal: Refusal.atAfterHost),
        .init(kind: "raw / in the password, no database", source: "postgresql://lowpriv:Pd4/Sg7Tk@127.0.0.1:PORT", secrets: ["Pd4/Sg7Tk"], refusal: Refusal.atAfterHost),
        .init(kind: "raw ? in the password", source: "postgresql://lowpriv:Rt5?Kc2wE@\(base)", secrets: ["Rt5?Kc2wE"], refusal: Refusal.atAfterHost),
        .init(kind: "raw # in the password", source: "postgresql://lowpriv:Ny6#Bq1Zs@\(base)", secrets: ["Ny6#Bq1Zs"], refusal: Refusal.atAfterHost),
        .init(kind: "raw @ in the password", source: "postgresql://lowpriv:Vb4@Mn8tY@\(base)", secrets: ["Vb4@Mn8tY"], refusal: Refusal.severalAts),
        .init(kind: "two raw @ in the password", source: "postgresql://lowpriv:Ce2@Dx5@Fy7Hu@\(base)", secrets: ["Ce2@Dx5@Fy7Hu"], refusal: Refusal.severalAts),
        .init(kind: "raw / and @ in the password", source: "postgresql://lowpriv:Ab1/Cd2@Ef3Gh@\(base)", secrets: ["Ab1/Cd2@Ef3Gh"], refusal: Refusal.atAfterHost),
        .init(kind: "raw @ in the user name", source: "postgresql://low@priv:Mz3Qv8Wt@\(base)", secrets: ["Mz3Qv8Wt"], refusal: Refusal.severalAts),
        .init(kind: "upper-case scheme, raw / in the password", source: "POSTGRES://lowpriv:Fj8/Sn1Xw@\(base)", secrets: ["Fj8/Sn1Xw"], refusal: Refusal.atAfterHost),
        .init(kind: "password that looks like a port, then a raw /", source: "postgresql://lowpriv:DIGITS/Yh8Ub@\(base)", secrets: ["DIGITS/Yh8Ub"], refusal: Refusal.atAfterHost),
        // A combining mark after a delimiter (one Character with it; libpq reads bytes).
        .init(kind: "combining mark after a raw / in the password", source: "postgresql://lowpriv:ab/\u{301}Sx4Kd7Wm@\(base)", secrets: ["Sx4Kd7Wm"], refusal: Refusal.atAfterHost),
        .init(kind: "combining mark after a raw @ in the password", source: "postgresql://lowpriv:Tc6@\u{301}Yv3Np@\(base)", secrets: ["Tc6@\u{301}Yv3Np", "Yv3Np"],
              refusal: Refusal.severalAts),
        // Percent escapes libpq refuses by quoting the token.
        .init(kind: "%ZZ in the password", source: "postgresql://lowpriv:Hq3%ZZp6L@\(base)", secrets: ["Hq3%ZZp6L"], refusal: Refusal.userInfoEscape),
        .init(kind: "% and one hex digit ending the password", source: "postgresql://lowpriv:Jm8Tr4%4@\(base)", secrets: ["Jm8Tr4%4"], refusal: Refusal.userInfoEscape),
        .init(kind: "%00 in the password", source: "postgresql://lowpriv:Kw2%00Vn5@\(base)", secrets: ["Kw2%00Vn5"], refusal: Refusal.userInfoEscape),
        .init(kind: "%G1 in the password", source: "postgresql://lowpriv:Lp9%G1Xs3@\(base)", secrets: ["Lp9%G1Xs3"], refusal: Refusal.userInfoEscape),
        .init(kind: "%ZZ in the database name", source: "postgresql://lowpriv:Zl2Ni5Rq@127.0.0.1:PORT/post%ZZgres", secrets: ["Zl2Ni5Rq"], refusal: Refusal.escape),
        // The same characters in a password parameter.
        .init(kind: "?password= with a raw / and @", source: "postgresql://lowpriv@\(base)?password=Pw7/Xy@Zq9", secrets: ["Pw7/Xy@Zq9"], refusal: Refusal.atAfterHost),
        .init(kind: "?password= with a raw @", source: "postgresql://lowpriv@\(base)?password=Rk2@Tm6Vw", secrets: ["Rk2@Tm6Vw"], refusal: Refusal.atAfterHost),
        .init(kind: "?password= with %ZZ", source: "postgresql://lowpriv@\(base)?password=Sn3%ZZq8H", secrets: ["Sn3%ZZq8H"], refusal: Refusal.escape),
        .init(kind: "?password= with %00", source: "postgresql://lowpriv@\(base)?password=Tb5%00Gc2", secrets: ["Tb5%00Gc2"], refusal: Refusal.escape),
        .init(kind: "?password= with a raw &", source: "postgresql://lowpriv@\(base)?password=Uf6&Hd9Kj", secrets: ["Uf6&Hd9Kj"], refusal: Refusal.parameter),
        .init(kind: "?password= with a raw =", source: "postgresql://lowpriv@\(base)?password=Wh8=Kf2Ml", secrets: ["Wh8=Kf2Ml"], refusal: Refusal.parameter),
        .init(kind: "?password= with a raw & and =", source: "postgresql://lowpriv@\(base)?password=Vg7&Je1=Lk&sslmode=disable", secrets: ["Vg7&Je1=Lk"],
              refusal: "postgresql://lowpriv@127.0.0.1:PORT/postgres: libpq cannot read the URL: invalid URI query parameter: \"(redacted)\""),
        .init(kind: "raw @ in another parameter", source: "postgresql://lowpriv:Yk1Mh4Qp@\(base)?application_name=a@b", secrets: ["Yk1Mh4Qp"], refusal: Refusal.atAfterHost),
        // A URL inside a key=value string (libpq does not read it as a URL).
        .init(kind: "key=value dbname holding an ambiguous URL", source: "dbname=postgresql://lowpriv:Ae3/Oj6Sr@\(base) host=127.0.0.1 port=PORT user=lowpriv",
              secrets: ["Ae3/Oj6Sr"], refusal: Refusal.urlInKeyValueString),
        .init(kind: "key=value dbname holding a URL", source: "host=127.0.0.1 port=PORT user=lowpriv dbname=postgresql://lowpriv:Bf4Pk7Ts@\(base)",
              secrets: ["Bf4Pk7Ts"], refusal: Refusal.urlInKeyValueString),
        .init(kind: "key=value quoted dbname holding a URL with %ZZ", source: "dbname='postgresql://lowpriv:Cg5%ZZUt@\(base)' host=127.0.0.1 port=PORT",
              secrets: ["Cg5%ZZUt"], refusal: Refusal.urlInKeyValueString),
        // IPv6 hosts (':' inside the host).
        .init(kind: "IPv6 host, raw / in the password", source: "postgresql://lowpriv:Jw4/Nt6Pk@[::1]:PORT/postgres", secrets: ["Jw4/Nt6Pk"], refusal: Refusal.atAfterHost),
        .init(kind: "IPv6 host, raw @ in the password", source: "postgresql://lowpriv:Jx4@Nu6Pm@[::1]:PORT/postgres", secrets: ["Jx4@Nu6Pm"], refusal: Refusal.severalAts),
        .init(kind: "IPv6 host with a character after ]", source: "postgresql://lowpriv:Dh6Ql8Vu@[::1]x:PORT/postgres", secrets: ["Dh6Ql8Vu"],
              refusal: "postgresql://lowpriv@[::1]x:PORT/postgres: libpq cannot read the URL: unexpected character"),
        .init(kind: "IPv6 host without ]", source: "postgresql://lowpriv:Ei7Rm9Wv@[::1", secrets: ["Ei7Rm9Wv"],
              refusal: "postgresql://lowpriv@[::1: libpq cannot read the URL: end of string reached"),
        // Taken by embdiag; libpq or the server refuses them without printing the password.
        .init(kind: "IPv6 host nobody listens on", source: "postgresql://lowpriv:Gk9To2Yx@[::1]:PORT/postgres", secrets: ["Gk9To2Yx"], refusal: nil),
        .init(kind: "empty password, a wrong PGPASSWORD", source: "postgresql://lowpriv:@\(base)", secrets: ["Hl1Up3Zy"], refusal: nil,
              environment: ["PGPASSWORD": "Hl1Up3Zy"]),
        .init(kind: "password that looks like a port", source: "postgresql://lowpriv:DIGITS@\(base)", secrets: ["DIGITS"], refusal: nil),
        .init(kind: "password that looks like a port, no database", source: "postgresql://lowpriv:DIGITS@127.0.0.1:PORT", secrets: ["DIGITS"], refusal: nil),
        .init(kind: "port that is not a number", source: "postgresql://lowpriv:Im2Vq4Ab@127.0.0.1:notaport/postgres", secrets: ["Im2Vq4Ab"], refusal: nil),
        .init(kind: "combining mark after the @", source: "postgresql://lowpriv:Qb5Xr8Lz@\u{301}\(base)", secrets: ["Qb5Xr8Lz"], refusal: nil),
        .init(kind: "raw & and = in the password", source: "postgresql://lowpriv:Jn3&Wr5=Bc@\(base)", secrets: ["Jn3&Wr5=Bc"], refusal: nil),
        .init(kind: "upper-case scheme, raw & and = in the password", source: "POSTGRES://lowpriv:Jn4&Wr6=Bd@\(base)", secrets: ["Jn4&Wr6=Bd"], refusal: nil),
        .init(kind: "?password= with a raw #", source: "postgresql://lowpriv@\(base)?password=Ko4#Xs6Cd", secrets: ["Ko4#Xs6Cd"], refusal: nil),
        .init(kind: "?password= with a raw /", source: "postgresql://lowpriv@\(base)?password=Lp5/Yt7De", secrets: ["Lp5/Yt7De"], refusal: nil),
        .init(kind: "percent-encoded @ and / in a wrong password", source: "postgresql://lowpriv:Mq6%40Zu8%2FEf@\(base)", secrets: ["Mq6%40Zu8%2FEf", "Mq6@Zu8/Ef"], refusal: nil),
    ]

    /// Four digits none of which is in `port`.
    static func digits(notIn port: Int) -> String {
        String("0123456789".filter { !String(port).contains($0) }.prefix(4))
    }

    /// The first 4 characters of `secret` in a row that are in `text` (the whole secret if
    /// shorter). Four digits count only when no other hex digit or '.' touches them: reports hold
    /// checksums, timings and ports.
    static func piece(of secret: String, in text: String) -> String? {
        let c = Array(secret)
        func shown(_ piece: String) -> Bool {
            guard piece.allSatisfy(\.isNumber) else { return text.contains(piece) }
            var rest = Substring(text)
            while let r = rest.range(of: piece) {
                let before = r.lowerBound > text.startIndex ? text[text.index(before: r.lowerBound)] : " "
                let after = r.upperBound < text.endIndex ? text[r.upperBound] : " "
                if !before.isHexDigit && before != "." && !after.isHexDigit && after != "." { return true }
                rest = text[text.index(after: r.lowerBound)...]
            }
            return false
        }
        guard c.count >= 4 else { return shown(secret) ? secret : nil }
        return (0...(c.count - 4)).map { String(c[$0..<($0 + 4)]) }.first(where: shown)
    }

    /// Each case through the real CLI (info with a report folder and a JSON report, and an audit of
    /// it): exit 2, one line, the refusal expected, and no 4 characters of the password in a row on
    /// stdout, stderr or in any file written.
    @Test(arguments: Self.leakCases) func ambiguousURLsAreRefusedAndNeverPrinted(_ leak: LeakCase) throws {
        let server = try prepare()
        let port = server.port, digits = Self.digits(notIn: port)
        func fill(_ s: String) -> String { s.replacingOccurrences(of: "PORT", with: String(port)).replacingOccurrences(of: "DIGITS", with: digits) }
        let source = fill(leak.source), secrets = leak.secrets.map(fill)
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let environment = ["PGPASSFILE": "/nonexistent/embdiag-test-pgpass", "PGPASSWORD": "", "PGSERVICEFILE": "/nonexistent/embdiag-test-service"].merging(leak.environment) { $1 }
        let query = "SELECT id, embedding FROM items ORDER BY id"
        let info = try CLI.run(["info", source, "--query", query, "--output", dir + "/rep", "--json", dir + "/r.json"], environment: environment)
        let config = dir + "/audit.yaml"
        try "checks:\n  - name: pg\n    command: info\n    inputs: ['\(source.replacingOccurrences(of: "'", with: "''"))']\n    options:\n      query: \"\(query)\"\n"
            .write(toFile: config, atomically: false, encoding: .utf8)
        let audit = try CLI.run(["audit", config, "--output", dir + "/audit", "--json", dir + "/audit-summary.json"], environment: environment)
        #expect(info.status == 2 && info.stderr.split(separator: "\n").count == 1, "\(leak.kind): \(info.status) \(info.stderr)")
        #expect(audit.status == 2, "\(leak.kind): \(audit.status) \(audit.stderr)")
        if let refusal = leak.refusal {
            #expect(info.stderr.hasPrefix("embdiag: error: " + fill(refusal)), "\(leak.kind): \(info.stderr)")
            #expect(!info.stderr.contains("cannot connect"), "\(leak.kind): \(info.stderr)")
        } else {
            #expect(info.stderr.contains("cannot connect"), "\(leak.kind): \(info.stderr)")
        }
        let files = Self.filesUnder(dir).filter { !$0.0.hasSuffix(".yaml") }
        for secret in secrets {
            for (name, text) in [("info stdout", info.stdout), ("info stderr", info.stderr), ("audit stdout", audit.stdout), ("audit stderr", audit.stderr)] + files {
                let shown = Self.piece(of: secret, in: text)
                #expect(shown == nil, "\(leak.kind): \(name) shows '\(shown ?? "")' of \(secret): \(text.prefix(2000))")
            }
        }
    }

    /// Passwords holding '@', '/', '?', '#' and '%', percent-encoded in the URL and in a password
    /// parameter, still connect, and are printed nowhere (stdout, stderr, reports, audit files).
    @Test func percentEncodedPasswordsConnectAndAreNeverPrinted() throws {
        let server = try prepare()
        let c = try server.admin()
        let password = "Pc7@Wd3/Ks9?Lm#Qr%Tx", encoded = "Pc7%40Wd3%2FKs9%3FLm%23Qr%25Tx"
        _ = try c.execute("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'pctuser') THEN CREATE ROLE pctuser LOGIN; END IF; END $$")
        _ = try c.execute("ALTER ROLE pctuser PASSWORD '\(password)'")
        _ = try c.execute("GRANT SELECT ON items TO pctuser")
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let environment = ["PGPASSFILE": "/nonexistent/embdiag-test-pgpass", "PGPASSWORD": ""]
        let query = "SELECT id, embedding FROM items ORDER BY id"
        let sources = ["postgresql://pctuser:\(encoded)@127.0.0.1:\(server.port)/postgres",
                       "postgresql://pctuser@127.0.0.1:\(server.port)/postgres?password=\(encoded)&sslmode=disable"]
        var results: [CLI.Result] = []
        for (i, source) in sources.enumerated() {
            let out = dir + "/s\(i)"
            let info = try CLI.run(["info", source, "--query", query, "--output", out + "/rep", "--json", out + "/r.json", "--html", out + "/r.html"], environment: environment)
            #expect(info.status == 0 && info.stdout.contains("postgresql://pctuser@127.0.0.1:\(server.port)/postgres"), "\(source): \(info.stderr)")
            let config = out + "/audit.yaml"
            try "checks:\n  - name: pg\n    command: info\n    inputs: ['\(source)']\n    options:\n      query: \"\(query)\"\n".write(toFile: config, atomically: false, encoding: .utf8)
            let audit = try CLI.run(["audit", config, "--output", out + "/audit", "--json", out + "/audit-summary.json"], environment: environment)
            #expect(audit.status == 0, "\(source): \(audit.stderr)")
            // A wrong password in the same form: refused by the server, not printed either.
            let wrong = try CLI.run(["info", source.replacingOccurrences(of: "Wd3", with: "Wd4"), "--query", query], environment: environment)
            #expect(wrong.status == 2 && wrong.stderr.contains("password authentication failed"), "\(wrong.stderr)")
            results += [info, audit, wrong]
        }
        let files = Self.filesUnder(dir).filter { !$0.0.hasSuffix(".yaml") }
        #expect(files.count >= 10, "\(files.map(\.0))")
        for secret in [password, encoded, password.replacingOccurrences(of: "Wd3", with: "Wd4"), encoded.replacingOccurrences(of: "Wd3", with: "Wd4")] {
            for (name, text) in results.flatMap({ [("stdout", $0.stdout), ("stderr", $0.stderr)] }) + files {
                let shown = Self.piece(of: secret, in: text)
                #expect(shown == nil, "\(name) shows '\(shown ?? "")' of \(secret)")
            }
        }
    }
}

/// The query scanner and the password redaction, without a server.
@Suite struct PostgresTextHostileTests {
    @Test func theScannerFindsSecondStatementsAndNonQueries() throws {
        func check(_ sql: String) throws -> String { try PostgresQueryCheck.singleQuery(sql, source: "s") }
        // Refused: a second statement wherever the ';' hides.
        for sql in ["SELECT 1; DROP TABLE t", "SELECT 1;DROP TABLE t;", "SELECT 1 /* a */ ; /* b */ COMMIT", "SELECT 'a''b'; COMMIT",
                    "SELECT \"x;\"\"y\"; COMMIT", "SELECT $a$ ; $a$; COMMIT", "SELECT 1 -- c\n; DELETE FROM t", "SELECT 'x\\'; DROP TABLE t; --'",
                    "SELECT /* /* nested ; */ */ 1; VACUUM"] {
            #expect(throws: EmbdiagError.self, "\(sql)") { try check(sql) }
        }
        // Refused: not a query.
        for sql in ["DROP TABLE t", "  commit", "SET x = 1", "RESET ALL", "COPY t TO PROGRAM 'x'", "CALL p()", "DO $$ BEGIN END $$",
                    "EXPLAIN SELECT 1", "/* SELECT */ DELETE FROM t", "-- SELECT\nDELETE FROM t", "DECLARE c CURSOR FOR SELECT 1", "FETCH 1 FROM c",
                    "LISTEN x", "NOTIFY x", "LOCK t", "PREPARE p AS SELECT 1", "$$x$$", "", "  ;  ", "-- only a comment"] {
            #expect(throws: EmbdiagError.self, "\(sql)") { try check(sql) }
        }
        // One query: kept (without its final ';' and trailing comments).
        #expect(try check("SELECT 1;") == "SELECT 1")
        #expect(try check("  select 'a;b', \"c;d\", $$e;f$$, $t$g;h$t$, E'i\\';j' ; -- end") == "select 'a;b', \"c;d\", $$e;f$$, $t$g;h$t$, E'i\\';j'")
        #expect(try check("((SELECT 1))") == "((SELECT 1))")
        #expect(try check("WITH a AS (SELECT 1) SELECT * FROM a") == "WITH a AS (SELECT 1) SELECT * FROM a")
        #expect(try check("VALUES (1)") == "VALUES (1)")
        #expect(try check("TABLE items;;") == "TABLE items")
        #expect(try check("/* lead */ SELECT $1::int") == "/* lead */ SELECT $1::int")
    }

    @Test func keyValueStringsArePrintedWithoutPassword() throws {
        let a = try PostgresLocation("host=127.0.0.1 user=u password=Hunter2Secret dbname=postgres")
        #expect(!a.redacted.contains("Hunter2Secret") && a.redacted.contains("user=u") && a.redacted.contains("host=127.0.0.1") && a.redacted.contains("dbname=postgres"))
        #expect(a.connectionURL == "host=127.0.0.1 user=u password=Hunter2Secret dbname=postgres")
        let b = try PostgresLocation("host=h password = 'a b\\' c' dbname='my db'")
        #expect(b.redacted == "dbname='my db' host=h" || b.redacted == "host=h dbname='my db'", "\(b.redacted)")
        #expect(PostgresLocation.isConnectionString("host=h dbname=d") && PostgresLocation.isConnectionString("service=x"))
        #expect(!PostgresLocation.isConnectionString("a=b.npy") && !PostgresLocation.isConnectionString("x.npy") && !PostgresLocation.isConnectionString("password=x"))
        #expect(PostgresLocation.printable("host=h password=pw") == "host=h")
        // Messages: every spelling of a password pair.
        let cases: [(String, [String])] = [
            ("cannot open 'host=1 user=u password=Hunter2Secret dbname=p': no such file", ["Hunter2Secret"]),
            ("x PASSWORD = 'a b c' y", ["a b c", "b c"]),
            ("x password='it\\'s secret' y", ["secret", "it\\'s"]),
            ("<td>password=&#39;Sp ace Pw9&#39; dbname=x</td>", ["Sp ace", "ace Pw9"]),
            ("postgresql://u:Hunter2Secret@h/db?password=Other9Secret and password=Third9", ["Hunter2Secret", "Other9Secret", "Third9"]),
        ]
        for (text, secrets) in cases {
            let redacted = PostgresLocation.redactingURLs(in: text)
            for s in secrets { #expect(!redacted.contains(s), "\(text) → \(redacted)") }
        }
        #expect(PostgresLocation.redactingURLs(in: "x PASSWORD = 'a b c' y") == "x PASSWORD = (redacted) y")
        #expect(PostgresLocation.redactingURLs(in: "passwords are fine; password: no") == "passwords are fine; password: no")
    }
}
