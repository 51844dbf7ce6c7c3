import ArgumentParser
import EmbeddingDiagnostics
import Foundation

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Run a set of checks from one YAML file, write one report folder with an index page, exit 1 if a requirement fails.",
        discussion: """
        Each check is an embdiag subcommand with inputs, options and requirements; its report goes to
        OUTPUT/<check name>/ and the index to OUTPUT/index.html, audit.json and audit.txt.
        Paths in the file are relative to the current directory.
        Examples:
          embdiag audit audits/model-upgrade.yaml --output reports/model-upgrade
          embdiag audit audits/bias-audit.yaml --output out/bias --json audit.json
        Exit codes: 0 every requirement met · 1 a requirement failed · 2 a check could not run.
        """)

    @Argument(help: "The audit file (YAML).")
    var config: String

    @Option(help: "Folder for the index and one sub-folder per check.")
    var output: String = "audit-report"

    @Option(help: "Also write the audit summary (JSON) here.")
    var json: String?

    @Flag(name: .shortAndLong, help: "Print nothing on stdout.")
    var quiet = false

    struct Outcome {
        var check: AuditConfiguration.Check
        var arguments: [String]
        var status: String  // pass, FAIL, error
        var message: String
        var report: Report?
        var gates: [RequirementOutcome]
        var seconds: Double
    }

    func run() throws {
        let clock = Stopwatch()
        let audit = try AuditConfiguration.load(config)
        try ReportWriter.createOutputFolder(output)
        var outcomes: [Outcome] = []
        for check in audit.checks {
            let checkClock = Stopwatch()
            var args = AuditConfiguration.arguments(for: check)
            if let seed = audit.seed, check.options?["seed"] == nil { args += ["--seed", String(seed)] }
            let dir = output + "/" + check.name
            var outcome = Outcome(check: check, arguments: args, status: "pass", message: "", report: nil, gates: [], seconds: 0)
            do {
                var command: ParsableCommand
                do {
                    command = try Embdiag.parseAsRoot(Embdiag.joiningNegativeValues(args + ["--output", dir, "--quiet"]))
                } catch where audit.seed != nil && check.options?["seed"] == nil {
                    // This subcommand takes no --seed: run it without.
                    args.removeLast(2)
                    outcome.arguments = args
                    command = try Embdiag.parseAsRoot(Embdiag.joiningNegativeValues(args + ["--output", dir, "--quiet"]))
                }
                OutputOptions.lastEmitted = nil
                do {
                    try command.run()
                } catch let gate as GateFailure {
                    outcome.status = "FAIL"
                    outcome.message = gate.description
                }
                guard let report = OutputOptions.lastEmitted else {
                    throw EmbdiagError.usage("check '\(check.name)': '\(check.command)' wrote no report")
                }
                outcome.report = report
                outcome.gates = try report.evaluate(try (check.require ?? []).map(Requirement.init(parsing:)))
                if outcome.gates.contains(where: { !$0.passed }) {
                    outcome.status = "FAIL"
                    outcome.message = ([outcome.message] + outcome.gates.filter { !$0.passed }.map(\.message)).filter { !$0.isEmpty }.joined(separator: "; ")
                }
            } catch let error as EmbdiagError {
                outcome.status = "error"
                outcome.message = error.description
            } catch {
                outcome.status = "error"
                outcome.message = "check '\(check.name)': " + Embdiag.oneLine(Embdiag.message(for: error))
            }
            outcome.seconds = checkClock.seconds
            outcomes.append(outcome)
        }
        let summary = Self.summaryReport(audit, outcomes, configPath: config, seconds: clock.seconds)
        try ReportWriter.write(summary, to: ReportDestinations(outputDirectory: nil, jsonPath: json))
        try AtomicFile.write(JSONRenderer.render(summary, tables: .all), to: output + "/audit.json")
        try AtomicFile.write(TextRenderer.render(summary), to: output + "/audit.txt")
        try AtomicFile.write(Self.indexPage(audit, outcomes, summary), to: output + "/index.html")
        if !quiet { print(TextRenderer.render(summary), terminator: "") }
        if let broken = outcomes.first(where: { $0.status == "error" }) {
            throw EmbdiagError.usage("audit \(config): check '\(broken.check.name)' could not run: \(broken.message)")
        }
        let failed = outcomes.filter { $0.status == "FAIL" }
        if !failed.isEmpty {
            throw GateFailure(description: failed.map { "\($0.check.name): \($0.message)" }.joined(separator: " | "))
        }
    }

    static func summaryReport(_ audit: AuditConfiguration, _ outcomes: [Outcome], configPath: String, seconds: Double) -> Report {
        var inputs: [Source] = []
        for o in outcomes { for s in o.report?.inputs ?? [] where !inputs.contains(where: { $0.path == s.path && $0.key == s.key }) { inputs.append(s) } }
        let checks = ReportTable(name: "checks", title: "Checks", columns: ["check", "command", "status", "requirements", "message", "seconds"],
                                 rows: outcomes.map { o in
                                     [.string(o.check.name), .string(PostgresLocation.redactingURLs(in: o.arguments.joined(separator: " "))), .string(o.status),
                                      .string(o.gates.map { "\($0.requirement) → \($0.passed ? "pass" : "FAIL")" }.joined(separator: "; ")),
                                      .string(o.message), ReportValue(o.seconds)]
                                 })
        let gates = ReportTable(name: "requirements", title: "Requirements", columns: ["check", "requirement", "actual", "result"],
                                rows: outcomes.flatMap { o in o.gates.map { g in
                                    [.string(o.check.name), .string(g.requirement.description), g.actual.map { ReportValue($0) } ?? .null, .string(g.passed ? "pass" : "FAIL")] } })
        return Report(
            analyzer: "audit", title: audit.title ?? "embdiag audit: \(configPath)", inputs: inputs,
            parameters: [ReportParameter("config", .string(configPath))] + (audit.seed.map { [ReportParameter("seed", .int($0))] } ?? []),
            metrics: [
                ReportMetric("checks", "checks", .int(outcomes.count)),
                ReportMetric("checks_passed", "checks passed", .int(outcomes.filter { $0.status == "pass" }.count)),
                ReportMetric("checks_failed", "checks failed", .int(outcomes.filter { $0.status == "FAIL" }.count)),
                ReportMetric("checks_errored", "checks that could not run", .int(outcomes.filter { $0.status == "error" }.count)),
                ReportMetric("passed", "audit passed", .bool(outcomes.allSatisfy { $0.status == "pass" })),
            ],
            tables: [checks, gates], elapsedSeconds: seconds)
    }

    static func indexPage(_ audit: AuditConfiguration, _ outcomes: [Outcome], _ summary: Report) -> String {
        let e = HTMLRenderer.escape
        var h = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        h += "<title>\(e(summary.title))</title><style>\(HTMLRenderer.css)</style></head><body>"
        let passed = summary.metric("passed") == .bool(true)
        h += "<header><h1>\(e(summary.title))</h1><p class=\"meta\">embdiag \(e(summary.toolVersion)) · \(outcomes.count) checks · "
        h += "<span class=\"\(passed ? "pass" : "fail")\">\(passed ? "all requirements met" : "requirements failed")</span></p></header>"
        h += "<section><h2>Checks</h2><table class=\"data\"><thead><tr><th>check</th><th>status</th><th>requirements</th><th>key metrics</th><th>report</th></tr></thead><tbody>"
        for o in outcomes {
            let cls = o.status == "pass" ? "pass" : "fail"
            let required = Set(o.gates.map(\.requirement.metric))
            let shown = (o.report?.metrics ?? []).filter { required.contains($0.key) } + (o.report?.metrics ?? []).filter { !required.contains($0.key) }.prefix(4)
            h += "<tr><td><b>\(e(o.check.name))</b><br><small>\(e(o.check.description ?? ""))</small><br><code>embdiag \(e(PostgresLocation.redactingURLs(in: o.arguments.joined(separator: " "))))</code></td>"
            h += "<td class=\"\(cls)\">\(e(o.status))</td>"
            h += "<td>" + o.gates.map { "<span class=\"\($0.passed ? "pass" : "fail")\">\(e($0.message))</span>" }.joined(separator: "<br>") + (o.status == "error" ? e(o.message) : "") + "</td>"
            h += "<td>" + shown.map { "<code>\(e($0.key))</code> \(e(ReportFormatting.text($0.value)))" }.joined(separator: "<br>") + "</td>"
            h += "<td>" + (o.report != nil ? "<a href=\"\(e(o.check.name))/report.html\">report</a> · <a href=\"\(e(o.check.name))/report.json\">json</a>" : "") + "</td></tr>"
        }
        h += "</tbody></table></section>"
        h += HTMLRenderer.body(Report(analyzer: "audit", title: "", inputs: summary.inputs, parameters: summary.parameters))
        h += "</body></html>\n"
        return h
    }
}
