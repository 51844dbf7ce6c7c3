import Foundation

/// CSV and TSV: numeric columns, an optional header line, an optional column of row labels.
/// RFC 4180 quoting (delimiters, quotes and newlines inside quoted fields), CRLF or LF.
/// Header: detected when the first record has no number in any column that is numeric in the
/// second record, or is pandas' index header (an empty name, then column numbers) (`isHeader`;
/// or forced with `hasHeader`). A first line of numbers is data, as numpy.loadtxt reads it.
/// Labels: the first column when most of its cells are not numbers (or `labelColumn`, 1-based;
/// 0 = none).
public enum DelimitedReader {
    /// A field's number as numpy's loadtxt and Python's float() read it: surrounding spaces
    /// allowed; no C99 hex float ("0x1p3", which Swift's Float(String) reads) and no NUL byte
    /// (Swift's Float(String) hands the text to strtof as a C string, which ends at a NUL, so
    /// "1.5\u{0}999" would read as 1.5).
    static func number(_ field: String) -> Float? {
        guard !field.unicodeScalars.contains(where: { $0 == "x" || $0 == "X" || $0 == "\0" }) else { return nil }
        return Float(field.trimmingCharacters(in: .whitespaces))
    }

    /// Whether the first record is a header, seen beside the second. A record with a number in a
    /// column where the second record holds a number is data (a first row with a missing value,
    /// `0.5,,0.25` or `1e-3,2,NA`, is a row whose missing value the data pass names, never a
    /// header that drops it; a line of numbers such as `1,2,3` or `0,1` is a row, as numpy.loadtxt
    /// reads it); a header has no number in any such column, and at least one. The one exception
    /// is pandas' `to_csv` header with its index: an empty index name, then the column numbers
    /// 0, 1, …, d−1 (or 1, …, d), as wide as the next line (`pandasIndexHeader`).
    static func isHeader(_ first: [String], before second: [String], isNumber: (String) -> Bool) -> Bool {
        if pandasIndexHeader(first, before: second) { return true }
        let numericColumns = zip(first, second).filter { isNumber($0.1) }
        return !numericColumns.isEmpty && numericColumns.allSatisfy { !isNumber($0.0) }
    }

    /// `,0,1,…,d−1` (or `,1,…,d`) above a line as wide: pandas' header of an unnamed index and
    /// numbered columns. Only a row with a missing first value could look like it.
    static func pandasIndexHeader(_ first: [String], before second: [String]) -> Bool {
        guard first.count >= 3, first.count == second.count, first[0].trimmingCharacters(in: .whitespaces).isEmpty else { return false }
        return columnNumbers(Array(first.dropFirst()))
    }

    /// Whether `fields` read 0, 1, …, n−1 or 1, …, n (at least two of them).
    static func columnNumbers(_ fields: [String]) -> Bool {
        let numbers = fields.map { Int($0.trimmingCharacters(in: .whitespaces)) }
        return fields.count >= 2 && (numbers == Array(0..<fields.count) || numbers == Array(1...fields.count))
    }

    public static func read(_ path: String, delimiter: Character, hasHeader: Bool?, labelColumn: Int?, idColumn: String? = nil) throws -> Embeddings {
        let file = try MappedFile(path)
        let records = try parseRecords(file, delimiter: UInt8(ascii: delimiter.unicodeScalars.first!), path: path)
        guard !records.isEmpty else { throw EmbdiagError.malformed(path, "empty file: no rows") }
        // Lenient on purpose (hex floats and text after a NUL count): a column of such values is a
        // numeric column whose bad value the data pass names, not a label column.
        let isNumber = { (s: String) -> Bool in Float(s.trimmingCharacters(in: .whitespaces)) != nil }
        // Header detection.
        let header: Bool
        if let hasHeader {
            header = hasHeader
        } else if records.count >= 2 {
            header = isHeader(records[0].fields, before: records[1].fields, isNumber: isNumber)
        } else {
            header = false
        }
        // Line 1 could be read either way when it is a line of column numbers: say which way it was.
        var notes: [String] = []
        if hasHeader == nil, records.count >= 2 {
            let first = records[0].fields
            if header {
                if pandasIndexHeader(first, before: records[1].fields) {
                    notes.append("line 1 (an empty index name, then column numbers) is read as pandas' header, not as a row; \(Setting.header) no reads it as data")
                }
            } else if columnNumbers(first) || (first.count >= 3 && !isNumber(first[0]) && columnNumbers(Array(first.dropFirst()))) {
                notes.append("line 1 (\(first.prefix(4).joined(separator: ","))\(first.count > 4 ? ",…" : "")) is read as a row of data, as numpy.loadtxt reads it; if it is a header of column numbers, give \(Setting.header) yes")
            }
        }
        let dataRecords = header ? Array(records.dropFirst()) : records
        guard let firstData = dataRecords.first else { throw EmbdiagError.malformed(path, "only a header line: no rows") }
        // Label column (0-based index or nil).
        let labelIndex: Int?
        if let labelColumn {
            guard labelColumn >= 0, labelColumn <= firstData.fields.count else {
                throw EmbdiagError.usage("\(Setting.labelColumn) \(labelColumn) but \(path) has \(firstData.fields.count) columns")
            }
            labelIndex = labelColumn == 0 ? nil : labelColumn - 1
        } else {
            // The first column holds labels when most of its cells are not numbers: one missing
            // value (empty, NA) in the first row is a missing value, named by the data pass,
            // not a label column that would take a dimension away without a word.
            let labelled = dataRecords.reduce(0) { $0 + ($1.fields.first.map { isNumber($0) ? 0 : 1 } ?? 0) }
            labelIndex = firstData.fields.first.map { !isNumber($0) && 2 * labelled > dataRecords.count ? 0 : nil } ?? nil
        }
        let width = firstData.fields.count
        // A header names the columns of every row: one of another width leaves names (an id
        // column found by name, an --id-column) pointing past the data.
        if header, records[0].fields.count != width {
            throw EmbdiagError.malformed(path, "the header line has \(records[0].fields.count) fields, line \(firstData.line) has \(width)")
        }
        // Id column (0-based): asked for, or detected by header name or content. Never a dimension.
        let id = try IdColumn.resolve(idColumn, header: header ? records[0].fields : nil, data: dataRecords.map(\.fields),
                                      labelIndex: labelIndex, path: path)
        let skipped = Set([labelIndex, id?.index].compactMap { $0 })
        let dim = width - skipped.count
        guard dim > 0 else {
            // The only numeric column went to the ids: say so, and how to read it as values.
            if let id, id.reason != .option {
                throw EmbdiagError.malformed(path, "no numeric columns besides \(id), taken as the id column; give \(Setting.idColumn) 0 to read it as a dimension")
            }
            throw EmbdiagError.malformed(path, "no numeric columns")
        }
        var values: [Float] = []
        values.reserveCapacity(dataRecords.count * dim)
        var labels: [String] = []
        var ids: [String] = []
        for record in dataRecords {
            guard record.fields.count == width else {
                throw EmbdiagError.malformed(path, "line \(record.line) has \(record.fields.count) fields, expected \(width)")
            }
            let rowStart = values.count
            for (k, f) in record.fields.enumerated() {
                if k == labelIndex { labels.append(f); continue }
                if k == id?.index { ids.append(f); continue }
                guard let v = Self.number(f) else {
                    throw EmbdiagError.malformed(path, "line \(record.line), column \(k + 1): '\(f.prefix(40))' is not a number")
                }
                // "1e39" parses as +Inf: a finite number out of float32's range, not an Inf token.
                if v.isInfinite && !f.lowercased().contains("inf") {
                    throw EmbdiagError.invalid(path, "line \(record.line), column \(k + 1): \(f.trimmingCharacters(in: .whitespaces).prefix(40)) \(Float32Narrowing.overflowReason)")
                }
                values.append(v)
            }
            // "1e-50" parses as 0: a row that is all zero only in float32 is refused, as in npy.
            if values[rowStart...].allSatisfy({ $0 == 0 }),
               let k = record.fields.indices.first(where: { $0 != labelIndex && $0 != id?.index && Float32Narrowing.underflowed(record.fields[$0]) }) {
                throw EmbdiagError.invalid(path, "line \(record.line): \(Float32Narrowing.underflowReason(example: String(record.fields[k].trimmingCharacters(in: .whitespaces).prefix(40)), at: "column \(k + 1)"))")
            }
        }
        let format: EmbeddingFormat = delimiter == "\t" ? .tsv : .csv
        var source = Source(path: path, format: format, dtype: "text", rows: dataRecords.count, dim: dim)
        source.idColumn = id?.description
        // The ids label the rows unless a label column does.
        var e = Embeddings(matrix: Matrix(rows: dataRecords.count, cols: dim, values: values),
                           labels: labelIndex != nil ? labels : (id != nil ? ids : nil),
                           source: source)
        e.notes = notes
        return e
    }

    struct Record {
        var line: Int
        var fields: [String]
    }

    /// RFC 4180 records; a record can span lines inside quotes. Field length is bounded.
    static func parseRecords(_ file: MappedFile, delimiter: UInt8, path: String) throws -> [Record] {
        let b = file.buffer
        var records: [Record] = []
        // A UTF-8 byte-order mark (Excel, Notepad) is not part of the first field.
        let bom = b.count >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF
        var fields: [String] = []
        var field: [UInt8] = []
        var inQuotes = false, fieldWasQuoted = false
        var line = 1, recordLine = 1
        var i = bom ? 3 : 0
        func endField() throws {
            fields.append(try StrictUTF8.text(field, path: path, what: "line \(recordLine), field \(fields.count + 1)"))
            field.removeAll(keepingCapacity: true); fieldWasQuoted = false
        }
        func endRecord() throws {
            try endField()
            if !(fields.count == 1 && fields[0].isEmpty) { records.append(Record(line: recordLine, fields: fields)) }
            fields.removeAll(keepingCapacity: true)
        }
        while i < b.count {
            let c = b[i]
            if inQuotes {
                if c == 0x22 {
                    if i + 1 < b.count && b[i + 1] == 0x22 { field.append(0x22); i += 1 } else { inQuotes = false }
                } else {
                    if c == 0x0A { line += 1 }
                    field.append(c)
                }
            } else if c == 0x22 && field.isEmpty && !fieldWasQuoted {
                inQuotes = true
                fieldWasQuoted = true
            } else if c == delimiter {
                try endField()
            } else if c == 0x0A {
                try endRecord()
                line += 1
                recordLine = line
            } else if c == 0x0D && i + 1 < b.count && b[i + 1] == 0x0A {
                // CRLF: the LF ends the record.
            } else {
                field.append(c)
            }
            if field.count > TextLines.maximumLineBytes {
                throw EmbdiagError.malformed(path, "line \(recordLine): a field longer than \(TextLines.maximumLineBytes >> 20) MB")
            }
            i += 1
        }
        if inQuotes { throw EmbdiagError.malformed(path, "line \(recordLine): unterminated quoted field") }
        if !field.isEmpty || !fields.isEmpty { try endRecord() }
        return records
    }
}
