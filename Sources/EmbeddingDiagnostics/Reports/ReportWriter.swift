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
        try writeRedacted(JSONRenderer.render(report, tables: .all), to: dir + "/report.json")
        for t in report.tables {
            try writeRedacted(CSVRenderer.render(t), to: dir + "/\(t.name).csv")
        }
        try writeRedacted(HTMLRenderer.render(report, csvWritten: true), to: dir + "/report.html")
        try writeRedacted(TextRenderer.render(report, csvWritten: true), to: dir + "/report.txt")
    }

    /// Writes `text` atomically without any PostgreSQL password in it.
    /// - Complexity: O(length of the text).
    public static func writeRedacted(_ text: String, to path: String) throws {
        try AtomicFile.write(PostgresLocation.redactingURLs(in: text), to: path)
    }

    /// Creates a report folder; an existing file in the way is one clean line, not a Cocoa error.
    public static func createOutputFolder(_ dir: String) throws {
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
