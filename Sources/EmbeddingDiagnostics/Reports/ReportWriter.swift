import Foundation

/// Where and how to write a report (the CLI's --output/--json options).
public struct ReportDestinations: Sendable {
    /// Folder for report.txt, report.json and one CSV per table.
    public var outputDirectory: String?
    /// A JSON file for the envelope alone.
    public var jsonPath: String?
    public var jsonTables: JSONRenderer.Tables
    public init(outputDirectory: String? = nil, jsonPath: String? = nil, jsonTables: JSONRenderer.Tables = .summary) {
        self.outputDirectory = outputDirectory
        self.jsonPath = jsonPath
        self.jsonTables = jsonTables
    }
}

/// Writes a report's files atomically (each file to a temporary name, then renamed).
public enum ReportWriter {
    /// Extra renderers (e.g. HTML) register here so every analyzer gets them without CLI changes.
    nonisolated(unsafe) public static var extraRenderers: [(fileName: String, render: (Report) -> String)] = []

    /// Writes JSON first (a gate reads it even if something later fails), then the folder.
    public static func write(_ report: Report, to destinations: ReportDestinations) throws {
        if let json = destinations.jsonPath {
            try AtomicFile.write(JSONRenderer.render(report, tables: destinations.jsonTables), to: json)
        }
        guard let dir = destinations.outputDirectory else { return }
        do {
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        } catch {
            throw EmbdiagError.io(dir, "cannot create output folder: \(error.localizedDescription)")
        }
        try AtomicFile.write(JSONRenderer.render(report, tables: .all), to: dir + "/report.json")
        for t in report.tables {
            try AtomicFile.write(CSVRenderer.render(t), to: dir + "/\(t.name).csv")
        }
        for r in extraRenderers {
            try AtomicFile.write(r.render(report), to: dir + "/" + r.fileName)
        }
        try AtomicFile.write(TextRenderer.render(report), to: dir + "/report.txt")
    }
}
