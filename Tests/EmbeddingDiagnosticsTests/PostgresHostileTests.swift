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
}
