import Foundation

/// What one check of an audit produced: its command line, status, report(s) and gates.
public struct AuditCheckOutcome: Sendable {
    public enum Status: String, Sendable {
        case pass
        case fail = "FAIL"
        case error
    }

    public internal(set) var name: String
    public internal(set) var description: String?
    /// The subcommand and its arguments, as run (without --output/--quiet).
    public internal(set) var arguments: [String]
    public internal(set) var status: Status
    public internal(set) var message: String
    /// The check's reports (one, or one per file for `info` with several files).
    public internal(set) var reports: [Report]
    /// The audit file's requirements evaluated on every report.
    public internal(set) var gates: [RequirementOutcome]
    public internal(set) var seconds: Double

    public init(name: String, description: String?, arguments: [String], status: Status = .pass, message: String = "",
                reports: [Report] = [], gates: [RequirementOutcome] = [], seconds: Double = 0) {
        self.name = name
        self.description = description
        self.arguments = arguments
        self.status = status
        self.message = message
        self.reports = reports
        self.gates = gates
        self.seconds = seconds
    }

    /// The command line as shown in reports: database passwords redacted.
    public var commandLine: String { PostgresLocation.redactingURLs(in: arguments.joined(separator: " ")) }
}

/// The summary report of an audit (audit.txt / audit.json): a verdict, one row per check, one row
/// per requirement.
public enum AuditSummary {
    /// - Complexity: O(checks + requirements + inputs²) (inputs are de-duplicated by path).
    public static func report(title: String, configPath: String, seed: Int?, outcomes: [AuditCheckOutcome], seconds: Double) -> Report {
        var inputs: [Source] = []
        for o in outcomes {
            for r in o.reports {
                for s in r.inputs where !inputs.contains(where: { $0.path == s.path && $0.key == s.key }) { inputs.append(s) }
            }
        }
        let checks = ReportTable(name: "checks", title: "Checks", columns: ["check", "command", "status", "requirements", "message", "seconds"],
                                 rows: outcomes.map { o in
                                     [.string(o.name), .string(o.commandLine), .string(o.status.rawValue),
                                      .string(o.gates.map { "\($0.requirement) → \($0.passed ? "pass" : "FAIL")" }.joined(separator: "; ")),
                                      .string(o.message), ReportValue(o.seconds)]
                                 })
        let gates = ReportTable(name: "requirements", title: "Requirements", columns: ["check", "requirement", "actual", "result"],
                                rows: outcomes.flatMap { o in o.gates.map { g in
                                    [.string(o.name), .string(g.requirement.description), g.actual.map { ReportValue($0) } ?? .null, .string(g.passed ? "pass" : "FAIL")] } })
        return Report(
            analyzer: "audit", title: title, inputs: inputs,
            parameters: [ReportParameter("config", .string(configPath))] + (seed.map { [ReportParameter("seed", .int($0))] } ?? []),
            metrics: [
                ReportMetric("checks", "checks", .int(outcomes.count)),
                ReportMetric("checks_passed", "checks passed", .int(outcomes.filter { $0.status == .pass }.count)),
                ReportMetric("checks_failed", "checks failed", .int(outcomes.filter { $0.status == .fail }.count)),
                ReportMetric("checks_errored", "checks that could not run", .int(outcomes.filter { $0.status == .error }.count)),
                ReportMetric("passed", "audit passed", .bool(outcomes.allSatisfy { $0.status == .pass })),
            ],
            tables: [checks, gates], elapsedSeconds: seconds)
    }
}

/// The audit's index.html: one row per check (status, gates, key metrics, links to its report).
public enum AuditIndexRenderer {
    /// - Complexity: O(checks × metrics).
    public static func render(_ summary: Report, outcomes: [AuditCheckOutcome]) -> String {
        let e = HTMLRenderer.escape
        var h = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        h += "<title>\(e(summary.title))</title><style>\(HTMLRenderer.css)</style></head><body>"
        let passed = summary.metric("passed") == .bool(true)
        h += "<header><h1>\(e(summary.title))</h1><p class=\"meta\">embdiag \(e(summary.toolVersion)) · \(outcomes.count) checks · "
        h += "<span class=\"\(passed ? "pass" : "fail")\">\(passed ? "all requirements met" : "requirements failed")</span></p></header>"
        h += "<section><h2>Checks</h2><div class=\"scroll\"><table class=\"data\"><thead><tr><th>check</th><th>status</th><th>requirements</th><th>key metrics</th><th>report</th></tr></thead><tbody>"
        for o in outcomes {
            let cls = o.status == .pass ? "pass" : "fail"
            let required = Set(o.gates.map(\.requirement.metric))
            let metrics = o.reports.first?.metrics ?? []
            let shown = metrics.filter { required.contains($0.key) } + metrics.filter { !required.contains($0.key) }.prefix(4)
            h += "<tr><td><b>\(e(o.name))</b><br><small>\(e(o.description ?? ""))</small><br><code>embdiag \(e(o.commandLine))</code></td>"
            h += "<td class=\"\(cls)\">\(e(o.status.rawValue))</td>"
            h += "<td>" + o.gates.map { "<span class=\"\($0.passed ? "pass" : "fail")\">\(e($0.message))</span>" }.joined(separator: "<br>") + (o.status == .error || o.reports.isEmpty ? e(o.message) : "") + "</td>"
            h += "<td>" + shown.map { "<code>\(e($0.key))</code> \(e(ReportFormatting.text($0.value)))" }.joined(separator: "<br>") + "</td>"
            h += "<td>" + (o.reports.count == 1 ? "<a href=\"\(e(o.name))/report.html\">report</a> · <a href=\"\(e(o.name))/report.json\">json</a>"
                           : o.reports.isEmpty ? "" : "<a href=\"\(e(o.name))/\">\(o.reports.count) reports</a>") + "</td></tr>"
        }
        h += "</tbody></table></div></section>"
        h += HTMLRenderer.body(Report(analyzer: "audit", title: "", inputs: summary.inputs, parameters: summary.parameters))
        h += "</body></html>\n"
        return h
    }
}
