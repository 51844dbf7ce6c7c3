import Foundation

/// Where and how to write a report (the CLI's --output/--json options).
public struct ReportDestinations: Sendable {
    /// Folder for report.txt, report.json and one CSV per table.
    public var outputDirectory: String?
    /// A JSON file for the envelope alone.
    public var jsonPath: String?
    /// A self-contained HTML page.
    public var htmlPath: String?
    public var jsonTables: JSONRenderer.Tables
    public init(outputDirectory: String? = nil, jsonPath: String? = nil, htmlPath: String? = nil, jsonTables: JSONRenderer.Tables = .summary) {
        self.outputDirectory = outputDirectory
        self.jsonPath = jsonPath
        self.htmlPath = htmlPath
        self.jsonTables = jsonTables
    }
}

/// Writes a report's files atomically (each file to a temporary name, then renamed). Every file
/// passes through `PostgresLocation.redactingURLs` on its way out: sources record printable
/// names already, and this keeps a password that reached a report some other way (a message, a
/// label) out of the files too.
public enum ReportWriter {
    /// Writes JSON first (a gate reads it even if something later fails), then the folder.
    public static func write(_ report: Report, to destinations: ReportDestinations) throws {
        if let json = destinations.jsonPath {
            try writeRedacted(JSONRenderer.render(report, tables: destinations.jsonTables), to: json)
        }
        if let html = destinations.htmlPath {
            try writeRedacted(HTMLRenderer.render(report), to: html)
        }
        guard let dir = destinations.outputDirectory else { return }
        try createOutputFolder(dir)
        let earlier = tableNames(ofReportIn: dir)
        try writeRedacted(JSONRenderer.render(report, tables: .all), to: dir + "/report.json")
        for t in report.tables {
            try writeRedacted(CSVRenderer.render(t), to: dir + "/\(t.name).csv")
        }
        // The folder holds exactly this report's files: the CSVs of an earlier report's tables
        // that this one does not have are removed (other files are left alone).
        for name in earlier.subtracting(report.tables.map(\.name)).sorted() {
            var st = stat()
            if lstat(dir + "/\(name).csv", &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG { try AtomicFile.removeStale(dir + "/\(name).csv") }
        }
        try writeRedacted(HTMLRenderer.render(report, csvWritten: true), to: dir + "/report.html")
        try writeRedacted(TextRenderer.render(report, csvWritten: true), to: dir + "/report.txt")
    }

    /// The table names listed by the report.json already in `dir` (an earlier run), restricted to
    /// plain file names (letters, digits, `_`, `-`): empty when there is none or it is not a report.
    /// - Complexity: O(size of that report.json).
    static func tableNames(ofReportIn dir: String) -> Set<String> {
        guard let data = FileManager.default.contents(atPath: dir + "/report.json"),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              object["analyzer"] != nil, let tables = object["tables"] as? [String: Any] else { return [] }
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: "_-"))
        return Set(tables.keys.filter { !$0.isEmpty && $0.unicodeScalars.allSatisfy { allowed.contains($0) && $0.isASCII } })
    }

    /// Writes `text` atomically without any PostgreSQL password in it.
    /// - Complexity: O(length of the text).
    public static func writeRedacted(_ text: String, to path: String) throws {
        try AtomicFile.write(PostgresLocation.redactingURLs(in: text), to: path)
    }

    /// Creates a report folder; an existing file in the way is one clean line, not a Cocoa error.
    public static func createOutputFolder(_ dir: String) throws {
        guard !dir.isEmpty else { throw EmbdiagError.usage("the report folder is an empty path") }
        try PathContainment.requireConfined(dir)
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: dir, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw EmbdiagError.io(dir, "exists and is not a folder; give a folder for the report") }
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        } catch {
            throw EmbdiagError.io(dir, "cannot create output folder: a parent is a file, or permission is missing")
        }
    }
}
