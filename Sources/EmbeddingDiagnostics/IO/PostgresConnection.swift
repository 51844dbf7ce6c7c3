import CLibPQ
import Foundation

/// A libpq connection: connect, run a statement, turn every failure into one `EmbdiagError` line
/// that names the source by its printable URL (never the password).
final class PostgresConnection {
    private let connection: OpaquePointer
    /// The printable URL, used in every error.
    let name: String

    /// The startup setting that makes every transaction of the session read-only. A `COMMIT`
    /// cannot end it (it is not a `BEGIN READ ONLY`); libpq sends it in the startup packet.
    static let readOnlyOption = "-c default_transaction_read_only=on"

    /// Connects to `location` (password from the URL, `PGPASSWORD` or `~/.pgpass`, as libpq does).
    /// A connection attempt gives up after 10 s unless the URL sets `connect_timeout`. The session
    /// is read-only (`default_transaction_read_only=on` appended to the URL's `options` or
    /// `PGOPTIONS`, and checked once connected); `writable` is for the tests' fixtures only.
    init(_ location: PostgresLocation, writable: Bool = false) throws {
        name = location.redacted
        // Later entries override earlier ones: the URL (expanded from dbname) wins over the default
        // timeout; the application name is only a fallback; the read-only options come last so
        // that the URL cannot override them (a later -c of the same setting wins).
        var keywords = ["connect_timeout", "dbname", "fallback_application_name"]
        var values = ["10", location.connectionURL, "embdiag"]
        if !writable {
            let given = Self.givenOptions(location.connectionURL) ?? ProcessInfo.processInfo.environment["PGOPTIONS"] ?? ""
            keywords.append("options")
            values.append((given.isEmpty ? "" : given + " ") + Self.readOnlyOption)
        }
        let cKeywords = keywords.map { strdup($0) }, cValues = values.map { strdup($0) }
        defer { (cKeywords + cValues).forEach { free($0) } }
        let keywordPointers = cKeywords.map { UnsafePointer($0) } + [nil]
        let valuePointers = cValues.map { UnsafePointer($0) } + [nil]
        guard let c = PQconnectdbParams(keywordPointers, valuePointers, 1) else {
            throw EmbdiagError.io(name, "cannot connect: out of memory")
        }
        connection = c
        guard PQstatus(c) == CONNECTION_OK else {
            let needsPassword = PQconnectionNeedsPassword(c) != 0
            // libpq may quote a token of the URL (the password, when it is one): the message is
            // made printable here too, not only by the CLI's filter.
            let message = PostgresLocation.redactingURLs(in: Self.oneLine(PQerrorMessage(c)))
            // deinit runs (and calls PQfinish) when an initialised class throws from init.
            if needsPassword {
                throw EmbdiagError.io(name, "cannot connect: the server asks for a password and none was given (put it in the URL, PGPASSWORD or ~/.pgpass)")
            }
            throw EmbdiagError.io(name, "cannot connect: \(message)")
        }
        embdiag_pq_silence_notices(c)
        if !writable {
            // A connection pooler may drop startup options: refuse a session that is not read-only.
            let mode = try execute("SHOW transaction_read_only", context: "checking the read-only session")
            guard mode.rows == 1, mode.string(0, 0) == "on" else {
                throw EmbdiagError.io(name, "the server did not open a read-only session (options '\(Self.readOnlyOption)' was not applied, e.g. by a connection pooler); embdiag reads only through read-only sessions")
            }
        }
    }

    /// The `options` value of a URL or key=value string, if it sets one.
    private static func givenOptions(_ conninfo: String) -> String? {
        var error: UnsafeMutablePointer<CChar>?
        guard let parsed = PQconninfoParse(conninfo, &error) else {
            if let error { PQfreemem(error) }
            return nil
        }
        defer { PQconninfoFree(parsed) }
        var option = parsed
        while let keyword = option.pointee.keyword {
            if String(cString: keyword) == "options", let value = option.pointee.val { return String(cString: value) }
            option += 1
        }
        return nil
    }

    deinit { PQfinish(connection) }

    /// Runs one statement (text results, or binary ones with `binary`). `context` prefixes errors
    /// ("query failed", ...). Always the extended query protocol: the server refuses a string
    /// holding more than one statement ("cannot insert multiple commands into a prepared
    /// statement"), so nothing can ride along after a `;`.
    func execute(_ sql: String, parameters: [String] = [], binary: Bool = false, context: String = "query failed", rowsRead: Int? = nil) throws -> PostgresResult {
        let cValues = parameters.map { strdup($0) }
        defer { cValues.forEach { free($0) } }
        let pointers = cValues.map { UnsafePointer($0) }
        let result = PQexecParams(connection, sql, Int32(parameters.count), nil, parameters.isEmpty ? nil : pointers, nil, nil, binary ? 1 : 0)
        guard let result else { throw failure(context: context, result: nil, rowsRead: rowsRead) }
        let status = PQresultStatus(result)
        guard status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK else {
            let error = failure(context: context, result: result, rowsRead: rowsRead)
            PQclear(result)
            throw error
        }
        return PostgresResult(result)
    }

    /// The columns (names, type OIDs) of an open cursor, before fetching from it.
    func describe(cursor: String) throws -> PostgresResult {
        guard let result = PQdescribePortal(connection, cursor) else { throw failure(context: "query failed", result: nil, rowsRead: nil) }
        guard PQresultStatus(result) == PGRES_COMMAND_OK else {
            let error = failure(context: "query failed", result: result, rowsRead: nil)
            PQclear(result)
            throw error
        }
        return PostgresResult(result)
    }

    /// Quotes an identifier for SQL (libpq's rules: double quotes, doubled inside).
    func quoteIdentifier(_ identifier: String) throws -> String {
        guard let quoted = PQescapeIdentifier(connection, identifier, identifier.utf8.count) else {
            throw EmbdiagError.usage("\(name): invalid identifier '\(identifier)': \(Self.oneLine(PQerrorMessage(connection)))")
        }
        defer { PQfreemem(quoted) }
        return String(cString: quoted)
    }

    private func failure(context: String, result: OpaquePointer?, rowsRead: Int?) -> EmbdiagError {
        let primary = result.flatMap { embdiag_pq_primary_message($0) }.map { Self.oneLine($0) }.flatMap { $0.isEmpty ? nil : $0 }
        var message = primary ?? Self.oneLine(PQerrorMessage(connection))
        if message.contains("cannot insert multiple commands") {
            message = "more than one statement (\(message)); embdiag runs exactly one SELECT"
        }
        if PQstatus(connection) == CONNECTION_BAD {
            let progress = rowsRead.map { " after reading \($0) row(s)" } ?? ""
            return EmbdiagError.io(name, "connection lost\(progress): \(message)")
        }
        return EmbdiagError.malformed(name, "\(context): \(message)")
    }

    /// libpq messages span lines ("FATAL:  ...\n"): one line, single spaces, no duplicates, no
    /// leading severity and without libpq's "This probably means…" boilerplate.
    static func oneLine(_ text: UnsafePointer<CChar>?) -> String {
        guard let text else { return "" }
        return oneLine(String(cString: text))
    }

    static func oneLine(_ text: String) -> String {
        var lines: [String] = []
        for line in text.split(whereSeparator: \.isNewline) {
            var words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
            for severity in ["FATAL: ", "ERROR: "] where words.hasPrefix(severity) { words.removeFirst(severity.count) }
            if words.hasPrefix("This probably means") || words.hasPrefix("before or while processing") { continue }
            if !words.isEmpty && !lines.contains(words) { lines.append(words) }
        }
        return lines.joined(separator: "; ")
    }
}

/// A libpq result (text format), freed on deinit.
final class PostgresResult {
    let result: OpaquePointer
    let rows: Int
    let columns: Int

    init(_ result: OpaquePointer) {
        self.result = result
        rows = Int(PQntuples(result))
        columns = Int(PQnfields(result))
    }

    deinit { PQclear(result) }

    func isNull(_ row: Int, _ column: Int) -> Bool { PQgetisnull(result, Int32(row), Int32(column)) != 0 }
    /// The value's text, NUL-terminated, valid while the result lives.
    func value(_ row: Int, _ column: Int) -> UnsafePointer<CChar> { UnsafePointer(PQgetvalue(result, Int32(row), Int32(column))) }
    func length(_ row: Int, _ column: Int) -> Int { Int(PQgetlength(result, Int32(row), Int32(column))) }
    func string(_ row: Int, _ column: Int) -> String { String(cString: value(row, column)) }
    /// The value's bytes (binary results), valid while the result lives.
    func bytes(_ row: Int, _ column: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: PQgetvalue(result, Int32(row), Int32(column)), count: length(row, column))
    }
    func type(_ column: Int) -> UInt32 { UInt32(PQftype(result, Int32(column))) }
    func name(_ column: Int) -> String { String(cString: PQfname(result, Int32(column))) }
}
