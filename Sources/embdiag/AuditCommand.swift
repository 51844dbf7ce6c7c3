import ArgumentParser
import EmbeddingDiagnostics
import Foundation

struct AuditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Run a set of checks from one YAML file, write one report folder with an index page, exit 1 if a requirement fails.",
        discussion: """
        Each check is an embdiag subcommand with inputs, options and requirements; its report goes to \
        OUTPUT/<check name>/ and the index to OUTPUT/index.html, audit.json and audit.txt. \
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

    func run() throws {
        let clock = Stopwatch()
        let audit = try AuditConfiguration.load(config)
        try ReportWriter.createOutputFolder(output)
        var outcomes: [AuditCheckOutcome] = []
        for check in audit.checks {
            let checkClock = Stopwatch()
            var args = AuditConfiguration.arguments(for: check)
            if let seed = audit.seed, check.options?["seed"] == nil { args += ["--seed", String(seed)] }
            let dir = output + "/" + check.name
            var outcome = AuditCheckOutcome(name: check.name, description: check.description, arguments: args)
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
                guard let reporting = command as? ReportingCommand else {
                    throw EmbdiagError.usage("check '\(check.name)': '\(check.command)' writes no report")
                }
                let auditRequirements = try (check.require ?? []).map(Requirement.init(parsing:))
                var failures: [String] = []
                for produced in try reporting.makeReports() {
                    let (report, failed) = try reporting.outputOptions.finish(produced, checking: reporting.requirements, elapsedSeconds: checkClock.seconds)
                    outcome.reports.append(report)
                    failures += failed
                    let gates = try report.evaluate(auditRequirements)
                    outcome.gates += gates
                    failures += gates.filter { !$0.passed }.map(\.message)
                }
                if !failures.isEmpty {
                    outcome.status = .fail
                    outcome.message = failures.joined(separator: "; ")
                }
            } catch let error as EmbdiagError {
                outcome.status = .error
                outcome.message = error.description
            } catch {
                outcome.status = .error
                outcome.message = "check '\(check.name)': " + Embdiag.oneLine(Embdiag.message(for: error))
            }
            outcome.seconds = checkClock.seconds
            outcomes.append(outcome)
        }
        let summary = AuditSummary.report(title: audit.title ?? "embdiag audit: \(config)", configPath: config, seed: audit.seed,
                                          outcomes: outcomes, seconds: clock.seconds)
        try ReportWriter.write(summary, to: ReportDestinations(outputDirectory: nil, jsonPath: json))
        try AtomicFile.write(JSONRenderer.render(summary, tables: .all), to: output + "/audit.json")
        try AtomicFile.write(TextRenderer.render(summary), to: output + "/audit.txt")
        try AtomicFile.write(AuditIndexRenderer.render(summary, outcomes: outcomes), to: output + "/index.html")
        if !quiet { print(TextRenderer.render(summary), terminator: "") }
        if let broken = outcomes.first(where: { $0.status == .error }) {
            throw EmbdiagError.usage("audit \(config): check '\(broken.name)' could not run: \(broken.message)")
        }
        let failed = outcomes.filter { $0.status == .fail }
        if !failed.isEmpty {
            throw GateFailure(description: failed.map { "\($0.name): \($0.message)" }.joined(separator: " | "))
        }
    }
}
