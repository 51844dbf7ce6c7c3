import ArgumentParser
import EmbeddingDiagnostics
import Foundation

extension EmbeddingFormat: ExpressibleByArgument {}
extension JSONRenderer.Tables: ExpressibleByArgument {}
extension InvalidRowPolicy: ExpressibleByArgument {}

/// `--header`: whether line 1 of a CSV/TSV is a header.
enum HeaderChoice: String, CaseIterable, ExpressibleByArgument {
    case auto, yes, no
}

/// How to read input files (shared by every subcommand).
struct InputOptions: ParsableArguments {
    @Option(help: "Force the input format; detected from magic bytes and extension otherwise.")
    var format: EmbeddingFormat?

    @Option(help: "Array (.npz) or tensor (safetensors) to read; default: the only 2-D float one, or one named embeddings/embedding/vectors/emb; several others are refused.")
    var key: String?

    @Option(help: "A file with one label per line for the rows of the (first) input.")
    var labels: String?

    @Option(help: "CSV/TSV: 1-based column of row labels (0 = none; detected otherwise). Parquet, and postgresql:// with --table: the column name of labels/ids.")
    var labelColumn: String?

    // Sources beyond matrix files: JSONL, FAISS, Parquet; see Guides/Formats.md.
    @Option(help: "JSONL: JSON path of the embedding (embedding, data[0].embedding, response.body.data[0].embedding); default: the only numeric array.")
    var jsonPath: String?

    @Option(help: "JSONL: JSON path of the row label/id (e.g. custom_id).")
    var labelPath: String?

    @Option(help: "Parquet: the vector column (default: the only list<float|double|half> or binary column); postgresql:// with --table: the vector column (real[], double precision[], vector, halfvec; default: the only one).")
    var column: String?

    @Option(help: "CSV/TSV: column of row ids (header name or 1-based number; 0 = none); detected by header name (id, *_id, key, …) or content (strictly increasing integers) otherwise. Ids are never a dimension.")
    var idColumn: String?

    @Option(help: "CSV/TSV: whether line 1 is a header: yes, no, or auto (a header when it holds no number where line 2 holds numbers, or pandas' ',0,1,…'; a line of numbers is data).")
    var header: HeaderChoice = .auto

    @Option(help: "postgresql:// inputs: the SQL query, the vector last (after a label/id column if two), e.g. \"SELECT id, embedding FROM items ORDER BY id\".")
    var query: String?

    @Option(help: "postgresql:// inputs: read this table instead of --query.")
    var table: String?

    @Option(help: "NaN/Inf or all-zero rows (and NULL vectors of postgresql:// inputs): error (default) or drop them (the report lists which).")
    var onInvalid: InvalidRowPolicy = .error

    @Flag(help: "Do not compute SHA-256 checksums of the inputs (faster on huge files).")
    var noChecksum = false

    func readOptions(labels: String? = nil, showProgress: Bool = false) -> ReadOptions {
        var o = ReadOptions(format: format, key: key, labelColumn: labelColumn.flatMap { Int($0) }, hasHeader: header == .auto ? nil : header == .yes,
                            labelsPath: labels, computeChecksum: !noChecksum, showProgress: showProgress, idColumn: idColumn)
        o.sources = SourceOptions(jsonPath: jsonPath, labelPath: labelPath, column: column,
                                  labelColumn: labelColumn.flatMap { Int($0) == nil ? $0 : nil }, dropNulls: onInvalid == .drop)
        o.postgres = PostgresReader.Request(query: query, table: table, column: column, labelColumn: labelColumn, nullRows: onInvalid)
        return o
    }

    /// Reads one input; `withLabels` attaches --labels (for the first input only).
    func read(_ path: String, withLabels: Bool = true, quiet: Bool = false) throws -> Embeddings {
        let e = try EmbeddingReader.read(path, options: readOptions(labels: withLabels ? labels : nil,
                                                                    showProgress: !quiet && Terminal.stderrIsTerminal))
        for note in e.notes { Terminal.note("\(e.source.path): \(note)") }
        // A detected id column changes the shape: say so on stderr (the report's inputs record it).
        if let id = e.source.idColumn, idColumn == nil {
            Terminal.note("\(e.source.path): \(id) read as row ids, not a dimension (\(e.count) × \(e.dimension)); --id-column 0 keeps it as data")
        }
        return e
    }

    /// Reads one input and applies --on-invalid (for analyzers that need norms). The dropped rows
    /// go into the report (`dropped.reportTable(input:)`).
    func readValidated(_ path: String, withLabels: Bool = true, quiet: Bool = false) throws -> (embeddings: Embeddings, dropped: [DroppedRow]) {
        try read(path, withLabels: withLabels, quiet: quiet).requiringFiniteNonZeroRows(policy: onInvalid)
    }
}

extension InputOptions {
    /// Corpus tests (depth, shift): the reference with --labels, then each other corpus with its
    /// --other-labels (in order), every one validated by --on-invalid; the rows dropped per file.
    func readCorpora(_ files: [String], otherLabels: [String], quiet: Bool) throws
        -> (reference: Embeddings, others: [Embeddings], dropped: [(path: String, rows: [DroppedRow])]) {
        let (reference, droppedReference) = try readValidated(files[0], quiet: quiet)
        var others: [Embeddings] = []
        var dropped = [(path: files[0], rows: droppedReference)]
        for (i, path) in files.dropFirst().enumerated() {
            let e = try EmbeddingReader.read(path, options: readOptions(labels: i < otherLabels.count ? otherLabels[i] : nil,
                                                                         showProgress: !quiet && Terminal.stderrIsTerminal))
            for note in e.notes { Terminal.note("\(e.source.path): \(note)") }
            let (valid, rows) = try e.requiringFiniteNonZeroRows(policy: onInvalid)
            others.append(valid)
            dropped.append((path: path, rows: rows))
        }
        return (reference, others, dropped)
    }
}

/// Where to write the report (shared by every subcommand).
struct OutputOptions: ParsableArguments {
    @Option(help: "Folder for report.txt, report.json, report.html and one CSV per table.")
    var output: String?

    @Option(help: "Write the JSON envelope to this file.")
    var json: String?

    @Option(help: "Write a self-contained HTML page (inline SVG charts) to this file.")
    var html: String?

    @Option(help: "Tables in --json: none, summary (default) or all (per-row tables too).")
    var jsonTables: JSONRenderer.Tables = .summary

    @Flag(name: .shortAndLong, help: "Print nothing on stdout and no progress bar.")
    var quiet = false

    var destinations: ReportDestinations {
        ReportDestinations(outputDirectory: output, jsonPath: json, htmlPath: html, jsonTables: jsonTables)
    }

    /// Checks `requirements` against the report's metrics and records them in it, stamps the
    /// elapsed time (unless the command did), writes everything (the report always comes first).
    /// Returns the report as written and the messages of the requirements it failed.
    func finish(_ output: CommandReport, checking requirements: [Requirement], elapsedSeconds: Double) throws -> (report: Report, failures: [String]) {
        var report = output.composed
        if report.elapsedSeconds == 0 { report = report.adding(elapsedSeconds: elapsedSeconds) }
        let outcomes = try report.evaluate(requirements)
        report.record(outcomes)
        var options = self
        if let folder = output.subfolder, let dir = self.output { options.output = dir + "/" + folder }
        try options.emit(report)
        return (report, outcomes.filter { !$0.passed }.map(\.message) + output.failures)
    }

    /// Writes the files, then prints the text report unless --quiet or stdout already carries
    /// the JSON/HTML (`--json -`). Report notes marked for stderr are repeated there.
    func emit(_ report: Report) throws {
        for w in report.warnings {
            FileHandle.standardError.write(Data("embdiag: warning: \(PostgresLocation.redactingURLs(in: EmbdiagError.escapingControlCharacters(w)))\n".utf8))
        }
        try ReportWriter.write(report, to: destinations)
        // The text report is not printed when stdout already carries the JSON or HTML (`--json -`,
        // `--json /dev/stdout`).
        if !quiet && !OutputLocations.isStandardOutput(json) && !OutputLocations.isStandardOutput(html) { print(PostgresLocation.redactingURLs(in: TextRenderer.render(report)), terminator: "") }
    }

    /// Refuses two destinations that are both stdout.
    func validate() throws {
        if json == "-" && html == "-" { throw ValidationError("--json - and --html - cannot both write to stdout") }
    }
}

enum Terminal {
    static var stderrIsTerminal: Bool { isatty(2) != 0 }

    /// One line on stderr: "embdiag: note: …" (warnings a CI log must show even with --quiet).
    static func note(_ text: String) {
        FileHandle.standardError.write(Data("embdiag: note: \(PostgresLocation.redactingURLs(in: EmbdiagError.escapingControlCharacters(text)))\n".utf8))
    }

    /// The rows --on-invalid drop removed from an input of a command without a report (convert, map).
    static func noteDropped(_ dropped: [DroppedRow], from path: String) {
        guard !dropped.isEmpty else { return }
        note("\(PostgresLocation.printable(StreamInput.displayName(path))): dropped \(dropped.count) row(s) (--on-invalid drop): " +
             dropped.prefix(5).map { "row \($0.row)\($0.label.map { " '\($0)'" } ?? "") \($0.reason)" }.joined(separator: ", ") +
             (dropped.count > 5 ? " and \(dropped.count - 5) more" : ""))
    }
}

/// Wall-clock timer for `elapsed_seconds`.
struct Stopwatch {
    let start = DispatchTime.now()
    var seconds: Double { Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9 }
}
