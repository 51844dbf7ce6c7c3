import Foundation

/// Reads embeddings from PostgreSQL: the rows of `--query` (or `--table`/`--column`), streamed
/// through a server-side cursor (`DECLARE … NO SCROLL CURSOR`, `FETCH` in batches of about 4 M
/// values) inside a `READ ONLY` transaction (rolled back at the end) of a session that is
/// read-only from its start (`PostgresConnection`), so memory holds the matrix, the labels and one batch. `--query` must
/// be exactly one SELECT (`PostgresQueryCheck`).
/// `real[]`/`double precision[]` columns (with a text or integer label, or none) are fetched in
/// binary (`PostgresBinaryArray`), everything else in text (`PostgresVectorText`).
///
/// Columns: the vector alone, or a label/id column (any type, read as text) then the vector.
/// Vector types: `real[]`, `double precision[]`, `numeric[]`, pgvector's `vector` and `halfvec`,
/// or a text/JSON column holding `[…]` or `{…}`. NULL vectors are an error naming the row unless
/// `nullRows` is `.drop`: they are then kept as NaN rows listed in `Embeddings.nullRows`, so that
/// analyzers drop them (reason "null") without renumbering the other rows. Rows of different
/// lengths, NULL labels and NULL elements are errors naming the row.
public enum PostgresReader {
    /// Largest dimension accepted (as for fvecs).
    static let maximumDimension = 1 << 20
    /// Values fetched per round trip once the dimension is known.
    static let batchValues = 4 << 20

    /// What to read, besides the URL (the URL's own `query`/`table`/`column`/`label_column`
    /// parameters take precedence).
    public struct Request: Sendable {
        public var query: String?
        public var table: String?
        public var column: String?
        public var labelColumn: String?
        public var nullRows: InvalidRowPolicy
        public var computeChecksum: Bool

        public init(query: String? = nil, table: String? = nil, column: String? = nil, labelColumn: String? = nil,
                    nullRows: InvalidRowPolicy = .error, computeChecksum: Bool = true) {
            self.query = query
            self.table = table
            self.column = column
            self.labelColumn = labelColumn
            self.nullRows = nullRows
            self.computeChecksum = computeChecksum
        }
    }

    /// Connects, runs the query through a cursor and returns the matrix, the labels (first of two
    /// columns) and a `Source` whose path is the URL without password, key the SQL that ran and
    /// sha256 the `RowsChecksum` of the rows read.
    /// - Complexity: O(rows × dim) time and memory (plus one batch of text).
    public static func read(_ url: String, request: Request) throws -> Embeddings {
        let location = try PostgresLocation(url)
        let name = location.redacted
        try PostgresLocation.refuseNUL(request.query, setting: "\(Setting.query)", source: name)
        try PostgresLocation.refuseNUL(request.table, setting: "\(Setting.table)", source: name)
        try PostgresLocation.refuseNUL(request.column, setting: "\(Setting.column)", source: name)
        try PostgresLocation.refuseNUL(request.labelColumn, setting: "\(Setting.labelColumn)", source: name)
        // The URL's parameters win over the flags, which apply to every input of a command: a URL
        // that names its own source (`query` or `table`) reads that, whatever source the flags
        // give the other inputs; `--column`/`--label-column` still complete a URL's `table`.
        let urlNamesSource = location.query != nil || location.table != nil
        let query = urlNamesSource ? location.query : request.query
        let table = urlNamesSource ? location.table : request.table
        let flagsApply = !urlNamesSource || location.table != nil
        let column = location.column ?? (flagsApply ? request.column : nil)
        let labelColumn = location.labelColumn ?? (flagsApply ? request.labelColumn : nil)
        switch (query, table) {
        case (nil, nil):
            throw EmbdiagError.usage("\(name): a postgresql:// input needs \(Setting.query) \"SELECT id, embedding FROM items ORDER BY id\" or \(Setting.table) items (with \(Setting.column) and \(Setting.labelColumn))")
        case (.some, .some):
            throw EmbdiagError.usage("\(name): give \(Setting.query) or \(Setting.table), not both")
        case (.some, nil) where column != nil || labelColumn != nil:
            throw EmbdiagError.usage("\(name): \(Setting.column) and \(Setting.labelColumn) go with \(Setting.table); with \(Setting.query), select the label column first and the vector last")
        default: break
        }
        // The query is checked before connecting: a refused query never reaches the server.
        let checkedQuery = try query.map { try PostgresQueryCheck.singleQuery($0, source: name) }
        let connection = try PostgresConnection(location)
        // Everything runs in one read-only transaction of a read-only session, one statement at a
        // time through the extended protocol (a query cannot end the transaction and write after
        // it), and the transaction is rolled back at the end: what a function inside the query
        // did that a read-only transaction allows (a large object, a set_config) is undone.
        _ = try connection.execute("BEGIN READ ONLY")
        let sql = try checkedQuery ?? tableQuery(connection, table: table!, column: column, labelColumn: labelColumn)
        _ = try connection.execute("DECLARE embdiag_rows NO SCROLL CURSOR FOR " + sql)
        let accumulator = try RowAccumulator(connection.describe(cursor: "embdiag_rows"), connection: connection, request: request)
        var batch = 256
        while true {
            let result = try connection.execute("FETCH \(batch) FROM embdiag_rows", binary: accumulator.binary,
                                                context: "reading rows failed", rowsRead: accumulator.rows)
            try accumulator.append(result)
            if result.rows < batch { break }
            if let d = accumulator.dimension { batch = min(max(batchValues / d, 64), 100_000) }
        }
        _ = try connection.execute("CLOSE embdiag_rows")
        _ = try connection.execute("ROLLBACK")
        return try accumulator.finish(name: name, sql: sql)
    }

    /// `SELECT label, column FROM table ORDER BY label` with quoted identifiers; without
    /// `--column`, the table's only column of a vector type.
    static func tableQuery(_ connection: PostgresConnection, table: String, column: String?, labelColumn: String?) throws -> String {
        let parts = table.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), parts.allSatisfy({ !$0.isEmpty }) else {
            throw EmbdiagError.usage("\(connection.name): \(Setting.table) '\(table)' is not 'name' or 'schema.name'")
        }
        let quotedTable = try parts.map { try connection.quoteIdentifier(String($0)) }.joined(separator: ".")
        let vectorColumn: String
        if let column {
            vectorColumn = column
        } else {
            let columns = try connection.execute("""
                SELECT a.attname, t.typname FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
                WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum
                """, parameters: [quotedTable], context: "table '\(table)'")
            let vectorTypes: Set<String> = ["_float4", "_float8", "_numeric", "vector", "halfvec"]
            let candidates = (0..<columns.rows).filter { vectorTypes.contains(columns.string($0, 1)) }.map { columns.string($0, 0) }
            guard candidates.count == 1 else {
                let all = (0..<columns.rows).map { "\(columns.string($0, 0)) \(columns.string($0, 1))" }.joined(separator: ", ")
                throw EmbdiagError.usage("\(connection.name): table '\(table)' has \(candidates.count) columns of type real[], double precision[], numeric[], vector or halfvec (\(all)); pick one with \(Setting.column)")
            }
            vectorColumn = candidates[0]
        }
        let quotedColumn = try connection.quoteIdentifier(vectorColumn)
        if let labelColumn {
            let quotedLabel = try connection.quoteIdentifier(labelColumn)
            return "SELECT \(quotedLabel), \(quotedColumn) FROM \(quotedTable) ORDER BY \(quotedLabel)"
        }
        return "SELECT \(quotedColumn) FROM \(quotedTable)"
    }
}

/// The growing matrix, labels and checksum of the rows fetched so far.
private final class RowAccumulator {
    let name: String
    let hasLabels: Bool
    let vectorColumnName: String
    let labelColumnName: String?
    /// Fetch in binary (real[]/double precision[] with no label or a text/integer label): no
    /// decimal formatting on the server, no parsing here.
    let binary: Bool
    let labelType: UInt32?
    let dtype: String
    let precision: PostgresVectorText.Precision
    let nullRows: InvalidRowPolicy
    let checksum: RowsChecksum?

    private(set) var rows = 0
    private(set) var dimension: Int?
    private var buffer: UnsafeMutablePointer<Float>?
    private var capacityRows = 0
    private var labels: [String] = []
    private var nullRowList: [Int] = []
    /// Scratch for the first non-NULL row (its length fixes the dimension).
    private var first: [Float] = []

    /// Label types whose binary form this reader decodes: text, varchar, char(n), name (the text's
    /// bytes), smallint, integer, bigint (big-endian integers).
    static let binaryLabelTypes: Set<UInt32> = [25, 1043, 1042, 19, 21, 23, 20]

    /// From the cursor's description (column names and types, no rows).
    init(_ result: PostgresResult, connection: PostgresConnection, request: PostgresReader.Request) throws {
        name = connection.name
        guard result.columns == 1 || result.columns == 2 else {
            throw EmbdiagError.usage("\(name): the query returns \(result.columns) columns; expected the vector alone, or a label/id column then the vector")
        }
        hasLabels = result.columns == 2
        let v = result.columns - 1
        vectorColumnName = result.name(v)
        labelColumnName = hasLabels ? result.name(0) : nil
        (dtype, precision) = try Self.vectorType(result.type(v), column: vectorColumnName, connection: connection)
        labelType = hasLabels ? result.type(0) : nil
        binary = [1021, 1022].contains(result.type(v)) && labelType.map { Self.binaryLabelTypes.contains($0) } ?? true
        nullRows = request.nullRows
        checksum = request.computeChecksum ? RowsChecksum() : nil
    }

    deinit { free(buffer) }

    /// dtype recorded in the report and the decimal conversion, from the column's type OID.
    static func vectorType(_ oid: UInt32, column: String, connection: PostgresConnection) throws -> (String, PostgresVectorText.Precision) {
        switch oid {
        case 1021: return ("float32", .float32)          // real[]
        case 1022: return ("float64", .float64)          // double precision[]
        case 1231: return ("numeric", .float64)          // numeric[]
        case 25, 1043, 1042, 114, 3802, 705: return ("text", .float32)  // text, varchar, char, json, jsonb, unknown
        default: break
        }
        let type = try connection.execute("SELECT format_type($1::oid, NULL), typname FROM pg_type WHERE oid = $1::oid",
                                          parameters: [String(oid)], context: "type lookup failed")
        let typname = type.rows > 0 ? type.string(0, 1) : "oid \(oid)"
        switch typname {
        case "vector": return ("float32", .float32)
        case "halfvec": return ("float16", .float32)
        case "sparsevec":
            throw EmbdiagError.malformed(connection.name, "column '\(column)' is a sparsevec, which is not supported; select \(column)::vector")
        default:
            let shown = type.rows > 0 ? type.string(0, 0) : typname
            throw EmbdiagError.malformed(connection.name, "column '\(column)' has type \(shown); expected real[], double precision[], numeric[], vector, halfvec or text holding '[…]'")
        }
    }

    func append(_ result: PostgresResult) throws {
        let v = result.columns - 1
        for r in 0..<result.rows {
            let row = rows
            var label: String?
            if hasLabels {
                guard !result.isNull(r, 0) else {
                    throw EmbdiagError.invalid(name, "row \(row): NULL in label column '\(labelColumnName!)' (select coalesce(\(labelColumnName!)::text, '') to keep such rows)")
                }
                let text = try labelText(result.bytes(r, 0), row: row)
                checksum?.addLabel(text)
                labels.append(text)
                label = text
            }
            let rowName = label.map { "row \(row) ('\($0.count > 40 ? String($0.prefix(40)) + "…" : $0)')" } ?? "row \(row)"
            if result.isNull(r, v) {
                guard nullRows == .drop else {
                    throw EmbdiagError.invalid(name, "\(rowName): NULL in column '\(vectorColumnName)' (rows are 0-based; use \(Setting.onInvalid) drop to skip such rows, or WHERE \(vectorColumnName) IS NOT NULL)")
                }
                checksum?.addNullVector()
                nullRowList.append(row)
                if let d = dimension { try reserve(row + 1); (buffer! + row * d).update(repeating: .nan, count: d) }
                rows += 1
                continue
            }
            if let d = dimension {
                try reserve(row + 1)
                let out = buffer! + row * d
                let n = try parse(result, r, v, into: out, capacity: d, rowName: rowName)
                guard n == d else {
                    throw EmbdiagError.malformed(name, "\(rowName): column '\(vectorColumnName)' has \(n) values, the first row \(d) (ragged arrays)")
                }
                checksum?.addVector(out, count: d)
            } else {
                if first.isEmpty { first = [Float](repeating: 0, count: PostgresReader.maximumDimension) }
                let n = try first.withUnsafeMutableBufferPointer {
                    try parse(result, r, v, into: $0.baseAddress!, capacity: PostgresReader.maximumDimension, rowName: rowName)
                }
                guard n > 0 else { throw EmbdiagError.malformed(name, "\(rowName): column '\(vectorColumnName)' is an empty vector") }
                guard n <= PostgresReader.maximumDimension else {
                    throw EmbdiagError.malformed(name, "\(rowName): column '\(vectorColumnName)' has \(n) values; at most \(PostgresReader.maximumDimension) are accepted")
                }
                dimension = n
                first = Array(first.prefix(n))
                try reserve(max(row + 1, 1024))
                // Rows before the first vector were all NULL (kept as NaN rows).
                buffer!.update(repeating: .nan, count: row * n)
                first.withUnsafeBufferPointer { (buffer! + row * n).update(from: $0.baseAddress!, count: n) }
                checksum?.addVector(buffer! + row * n, count: n)
                first = []
            }
            rows += 1
        }
    }

    /// The label as text: the bytes of text values, integers in decimal (binary results).
    private func labelText(_ bytes: UnsafeRawBufferPointer, row: Int) throws -> String {
        guard binary, let labelType, [21, 23, 20].contains(labelType) else {
            return try StrictUTF8.text(bytes, path: name, what: "row \(row): label column '\(labelColumnName!)'")
        }
        switch (labelType, bytes.count) {
        case (21, 2): return String(Int16(bigEndian: bytes.loadUnaligned(as: Int16.self)))
        case (23, 4): return String(Int32(bigEndian: bytes.loadUnaligned(as: Int32.self)))
        case (20, 8): return String(Int64(bigEndian: bytes.loadUnaligned(as: Int64.self)))
        default: throw EmbdiagError.malformed(name, "row \(row): label column '\(labelColumnName!)' has \(bytes.count) bytes for type OID \(labelType)")
        }
    }

    private func parse(_ result: PostgresResult, _ r: Int, _ v: Int, into out: UnsafeMutablePointer<Float>, capacity: Int, rowName: String) throws -> Int {
        do {
            if binary { return try PostgresBinaryArray.parse(result.bytes(r, v), into: out, capacity: capacity) }
            return try PostgresVectorText.parse(result.value(r, v), into: out, capacity: capacity, precision: precision)
        } catch let e as PostgresVectorText.ParseError {
            throw EmbdiagError.malformed(name, "\(rowName), column '\(vectorColumnName)': \(e.message)")
        }
    }

    /// Grows the buffer (doubling; realloc moves pages rather than copying on Linux) to hold `needed` rows.
    private func reserve(_ needed: Int) throws {
        guard needed > capacityRows, let d = dimension else { return }
        let newCapacity = max(needed, capacityRows * 2)
        let (bytes, overflow) = newCapacity.multipliedReportingOverflow(by: 4 * d)
        guard !overflow, let grown = realloc(buffer, bytes) else {
            throw EmbdiagError.io(name, "out of memory for \(newCapacity) rows × \(d) float32")
        }
        buffer = grown.assumingMemoryBound(to: Float.self)
        capacityRows = newCapacity
    }

    /// The embeddings (ownership of the buffer moves to the matrix).
    func finish(name: String, sql: String) throws -> Embeddings {
        guard rows > 0 else { throw EmbdiagError.invalid(name, "the query returned no rows") }
        guard let d = dimension, let base = buffer else {
            throw EmbdiagError.invalid(name, "every one of the \(rows) row(s) is NULL in column '\(vectorColumnName)': nothing to read")
        }
        let exact = realloc(base, rows * d * 4)?.assumingMemoryBound(to: Float.self) ?? base
        buffer = nil
        let storage = MatrixStorage(borrowing: exact, count: rows * d, isMapped: false, release: { free(exact) })
        var e = Embeddings(matrix: Matrix(rows: rows, cols: d, storage: storage), labels: hasLabels ? labels : nil,
                           source: Source(path: name, format: .postgresql, dtype: dtype, rows: rows, dim: d,
                                          sha256: checksum?.finish(), key: sql))
        e.nullRows = nullRowList
        return e
    }
}

extension PostgresReader {
    /// Decodes one vector value exactly as the reader does: PostgreSQL's text form (`{…}`/`[…]`,
    /// read up to the first NUL byte) or, with `binary`, the binary form of `real[]`/`double
    /// precision[]`. For the fuzz harness (fuzz/run postgres-text postgres-binary) and tools.
    /// - Complexity: O(bytes).
    public static func decodeVector(_ bytes: [UInt8], binary: Bool, source: String = "<value>") throws -> [Float] {
        var out = [Float](repeating: 0, count: 4096)
        do {
            let n: Int
            if binary {
                n = try bytes.withUnsafeBytes { raw in try out.withUnsafeMutableBufferPointer { try PostgresBinaryArray.parse(raw, into: $0.baseAddress!, capacity: $0.count) } }
            } else {
                let text = (bytes + [0]).map { CChar(bitPattern: $0) }
                n = try text.withUnsafeBufferPointer { t in try out.withUnsafeMutableBufferPointer { try PostgresVectorText.parse(t.baseAddress!, into: $0.baseAddress!, capacity: $0.count, precision: .float32) } }
            }
            return Array(out.prefix(n))
        } catch let e as PostgresVectorText.ParseError {
            throw EmbdiagError.malformed(source, e.message)
        }
    }
}
