import Foundation

/// The column that cuts a tabular source into windows (`shift --by COLUMN`): one key per row, in
/// the row order the embedding reader gives. Guide: Guides/Shift.md ("Windows").
///
/// - Parquet (a file, a directory or a glob): the column by name, read as the label column is
///   (strings and integers; DATE and TIMESTAMP columns come out as ISO 8601 text); a null is an
///   error naming the row.
/// - JSONL: the value at the JSON path (a string or a number; null or missing is an error).
/// - CSV/TSV: the column by header name or 1-based number. The embedding read must skip it, which
///   `readOptions(for:column:)` arranges (it becomes the id column).
/// - postgresql:// with `--table`: the column as the label column (the rows then come ordered by
///   it). With `--query`, select the window column first and the vector last, and give its name.
/// Other formats (.npy, safetensors, …) have no columns: give a labels file (`--by-file`).
public enum WindowKeyColumn {
    /// Whether `path` is a source with named columns, and which.
    ///
    /// - Complexity: O(1) (reads at most the first bytes of the file).
    public static func tabularFormat(_ path: String, options: ReadOptions) throws -> EmbeddingFormat {
        if PostgresLocation.isSource(path) || options.format == .postgresql { return .postgresql }
        if options.format == nil || options.format == .parquet, try ParquetDataset.files(path) != nil { return .parquet }
        let format = try options.format ?? FormatDetection.detect(path)
        guard [.parquet, .jsonl, .csv, .tsv].contains(format) else {
            throw EmbdiagError.usage("\(Setting.by) needs a source with columns (Parquet, JSONL, CSV/TSV, postgresql://); \(path) is \(format.rawValue): give one window key per row in a file with \(Setting.byFile)")
        }
        return format
    }

    /// The read options of the embedding read itself: for CSV/TSV the window column must not be
    /// read as a dimension, so it is named as the id column.
    public static func readOptions(_ options: ReadOptions, for format: EmbeddingFormat, column: String) throws -> ReadOptions {
        var o = options
        if format == .csv || format == .tsv {
            if let id = options.idColumn, id != column {
                throw EmbdiagError.usage("\(Setting.by) \(column) with \(Setting.idColumn) \(id): a CSV/TSV source can set aside one column besides its labels; drop \(Setting.idColumn)")
            }
            o.idColumn = column
        }
        if format == .postgresql {
            if options.postgres.query != nil {
                throw EmbdiagError.usage("\(Setting.by) with a postgresql:// \(Setting.query): read the table with \(Setting.table) (the window column becomes its label column), or select the window column first and use its labels through \(Setting.byFile)")
            }
            if let l = options.postgres.labelColumn, l != column {
                throw EmbdiagError.usage("\(Setting.by) \(column) with \(Setting.labelColumn) \(l): a postgresql:// table has one label column, which \(Setting.by) takes")
            }
            o.postgres.labelColumn = column
        }
        return o
    }

    /// One key per row of `path` (the embedding read with `readOptions`), `rows` of them.
    ///
    /// - Complexity: O(size of the source): Parquet and JSONL are read again with the column as labels.
    /// The readers take the window column as their label column, so their messages about it say
    /// "label"; the user gave it as `--by`.
    static func namingTheKey<T>(_ read: @autoclosure () throws -> T) throws -> T {
        do { return try read() } catch let e as EmbdiagError {
            let message = e.message.replacingOccurrences(of: "the label column", with: "the \(Setting.by) column")
                .replacingOccurrences(of: "the label at", with: "the \(Setting.by) key at")
            throw EmbdiagError(e.kind, path: e.path, message)
        }
    }

    public static func read(_ path: String, column: String, format: EmbeddingFormat, options: ReadOptions, embeddings: Embeddings) throws -> [String] {
        var o = options
        o.labelsPath = nil
        o.computeChecksum = false
        o.showProgress = false
        let keys: [String]
        switch format {
        case .postgresql:
            // The embedding read already took the column as its labels.
            guard let labels = embeddings.labels else { throw EmbdiagError.malformed(path, "no window column '\(column)' was read") }
            return labels
        case .parquet:
            o.sources.labelColumn = column
            o.labelColumn = nil
            guard let labels = try namingTheKey(EmbeddingReader.read(path, options: o).labels) else { throw EmbdiagError.malformed(path, "no column '\(column)'") }
            keys = labels
        case .jsonl:
            o.sources.labelPath = column
            guard let labels = try namingTheKey(EmbeddingReader.read(path, options: o).labels) else { throw EmbdiagError.malformed(path, "no value at '\(column)'") }
            keys = labels
        case .csv, .tsv:
            keys = try DelimitedReader.column(path, delimiter: format == .tsv ? "\t" : ",", named: column)
        default:
            throw EmbdiagError.usage("\(Setting.by) needs a source with columns; \(path) is \(format.rawValue)")
        }
        guard keys.count == embeddings.source.rows || keys.count == embeddings.count else {
            throw EmbdiagError.mismatch(path, "the window column '\(column)' has \(keys.count) values for \(embeddings.count) rows")
        }
        return keys
    }
}

extension DelimitedReader {
    /// The fields of one column (header name, or 1-based number) of every data line.
    ///
    /// - Complexity: O(file size).
    static func column(_ path: String, delimiter: Character, named column: String) throws -> [String] {
        let file = try MappedFile(path)
        let records = try parseRecords(file, delimiter: UInt8(ascii: delimiter.unicodeScalars.first!), path: path)
        guard let header = records.first else { throw EmbdiagError.malformed(path, "empty file: no rows") }
        let index: Int
        var data = Array(records.dropFirst())
        if let n = Int(column.trimmingCharacters(in: .whitespaces)) {
            guard n >= 1, n <= header.fields.count else { throw EmbdiagError.usage("\(Setting.by) \(n) but \(path) has \(header.fields.count) columns") }
            index = n - 1
            // A numbered column of a file without a header: the first line is data.
            if Float(header.fields[index].trimmingCharacters(in: .whitespaces)) != nil || WindowTimestamp.parse(header.fields[index]) != nil { data = records }
        } else {
            guard let i = header.fields.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == column }) else {
                throw EmbdiagError.usage("\(Setting.by) '\(column)': no such column in \(path); header: \(header.fields.prefix(8).joined(separator: ", "))\(header.fields.count > 8 ? ", …" : "")")
            }
            index = i
        }
        return try data.map { r in
            guard index < r.fields.count else { throw EmbdiagError.malformed(path, "line \(r.line) has \(r.fields.count) fields, expected \(header.fields.count)") }
            return r.fields[index]
        }
    }
}
