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

    @Flag(help: "Let checks write files outside --output (their json, html, write, save-*, partial options). Off by default: audit files may come from pull requests, so every file a check writes must resolve (symbolic links followed) inside --output.")
    var allowWritesOutside = false

    /// One check, parsed: the subcommand and its arguments (--seed dropped if it takes none).
    struct ParsedCheck {
        var check: AuditConfiguration.Check
        var arguments: [String]
        var folder: String
        var parsed: Result<ReportingCommand, Error>
    }

    func run() throws {
        let clock = Stopwatch()
        // Every check's folder is OUTPUT/<name>: an empty OUTPUT would put them at the root.
        guard !output.isEmpty else { throw EmbdiagError.usage("--output: an empty path") }
        let audit = try AuditConfiguration.load(config)
        let checks = audit.checks.map { parse($0, seed: audit.seed) }
        // Before anything runs or is written: every output of every check stays inside --output.
        if !allowWritesOutside {
            for c in checks {
                guard case .success(let command) = c.parsed else { continue }
                if let escape = OutputLocations.outside(OutputLocations.of(command), folder: output).first {
                    throw EmbdiagError.usage("audit \(config): check '\(c.check.name)': \(escape.flag) \(escape.path) leads outside the output folder \(output) (to \(PathContainment.resolve(escape.path))); an audit writes only inside --output (--allow-writes-outside permits more)")
                }
            }
        }
        try refuseCollisions(checks)
        // Every check's requirements, before the first check runs: one that can never fail is
        // known from its metric's key alone (the audit's require: and the check's own --require).
        for c in checks {
            var requirements = try (c.check.require ?? []).map(Requirement.init(parsing:))
            let command: ReportingCommand?
            if case .success(let parsed) = c.parsed { command = parsed; requirements += parsed.requirements } else { command = nil }
            for r in requirements {
                do { try command.map { try $0.refuseRequirementThatCannotFail(r) } ?? r.refuseIfCannotFail() } catch let e as EmbdiagError {
                    throw EmbdiagError.usage("audit \(config): check '\(c.check.name)': \(e.message)")
                }
            }
        }
        // A check that writes a state (--partial, merge --state-out) has no metrics: requirements
        // on it could never be evaluated, and a check that evaluates none must not read as passed.
        for c in checks where !(c.check.require ?? []).isEmpty {
            guard case .success(let command) = c.parsed, command.writesState else { continue }
            throw EmbdiagError.usage("audit \(config): check '\(c.check.name)' writes a partial state, which has no metrics: its require: could not be evaluated (put the requirements on the check that merges the states into a report)")
        }
        try OutputLocations.prepare([OutputLocation(flag: "--output", path: output, kind: .folder)] + (json.map { [OutputLocation(flag: "--json", path: $0, kind: .file)] } ?? []))
        let outcomes = try AtomicFile.$confinement.withValue(allowWritesOutside ? nil : output) {
            try checks.map { try runCheck($0) }
        }
        let summary = AuditSummary.report(title: audit.title ?? "embdiag audit: \(config)", configPath: config, seed: audit.seed.map { Int(truncatingIfNeeded: $0) },
                                          outcomes: outcomes, seconds: clock.seconds)
        // The audit's own files, all or nothing; a link planted in the folder may not carry them outside.
        try AtomicFile.allOrNothing {
            try ReportWriter.write(summary, to: ReportDestinations(outputDirectory: nil, jsonPath: json))
            try AtomicFile.$confinement.withValue(allowWritesOutside ? nil : output) {
                try ReportWriter.writeRedacted(JSONRenderer.render(summary, tables: .all), to: output + "/audit.json")
                try ReportWriter.writeRedacted(TextRenderer.render(summary), to: output + "/audit.txt")
                try ReportWriter.writeRedacted(AuditIndexRenderer.render(summary, outcomes: outcomes), to: output + "/index.html")
            }
        }
        if !quiet && !OutputLocations.isStandardOutput(json) { print(PostgresLocation.redactingURLs(in: TextRenderer.render(summary)), terminator: "") }
        if let broken = outcomes.first(where: { $0.status == .error }) {
            throw EmbdiagError.usage("audit \(config): check '\(broken.name)' could not run: \(broken.message)")
        }
        let failed = outcomes.filter { $0.status == .fail }
        if !failed.isEmpty {
            throw GateFailure(description: failed.map { "\($0.name): \($0.message)" }.joined(separator: " | "))
        }
    }

    /// Refuses, before anything is written, a check output that lands in another check's folder,
    /// on another check's output, or on the audit's own files (audit.json, audit.txt, index.html,
    /// --json): each check's files are its own, and one check may not overwrite another's report.
    /// - Complexity: O(outputs² + outputs · checks) path resolutions.
    func refuseCollisions(_ checks: [ParsedCheck]) throws {
        var claimed: [(resolved: String, owner: String, shown: String)] = ["audit.json", "audit.txt", "index.html"].map {
            (PathContainment.resolve(output + "/" + $0), "the audit", "OUTPUT/" + $0)
        }
        if let json, json != "-" {
            // The audit's --json is one more document: not one of the audit's own files, not a
            // file in a check's folder (report.json, report.txt, report.html, the CSVs), not a folder.
            let resolved = PathContainment.resolve(json)
            if let own = claimed.first(where: { $0.resolved == resolved }) {
                throw EmbdiagError.usage("audit --json \(json) is \(own.shown), which the audit writes itself (index.html, audit.json, audit.txt); give --json another name")
            }
            if let c = checks.first(where: { PathContainment.resolve($0.folder) == resolved || PathContainment.isInside(json, folder: $0.folder) }) {
                throw EmbdiagError.usage("audit --json \(json) lies in the report folder of check '\(c.check.name)' (\(c.folder)), which the check writes; give --json a name outside the checks' folders")
            }
            claimed.append((resolved, "the audit", "--json \(json)"))
        }
        let parsed = checks.compactMap { c -> (ParsedCheck, [OutputLocation])? in
            guard case .success(let command) = c.parsed else { return nil }
            // The check's own folder (--output, added by the audit) is where it writes its report.
            return (c, OutputLocations.of(command).filter { !($0.kind == .folder && $0.path == c.folder) })
        }
        for (c, locations) in parsed {
            for location in locations where location.path != "-" {
                // Side files (OUT.labels.txt, T.<k>.npy) and a stem's STEM.npy/STEM.json too.
                let written = OutputLocations.files(of: location)
                for file in [location.path] + written {
                    guard let other = checks.first(where: { $0.check.name != c.check.name && PathContainment.isInside(file, folder: $0.folder) }) else { continue }
                    throw EmbdiagError.usage("audit \(config): check '\(c.check.name)': \(location.flag) \(location.path) writes \(file == location.path ? "" : file + " ")into the folder of check '\(other.check.name)'; each check writes only its own files")
                }
                let resolved = Set(written.map(PathContainment.resolve))
                if let clash = claimed.first(where: { resolved.contains($0.resolved) }) {
                    throw EmbdiagError.usage("audit \(config): check '\(c.check.name)': \(location.flag) \(location.path) is also written by \(clash.owner) (\(clash.shown)); give each output its own name")
                }
                claimed += resolved.map { ($0, "check '\(c.check.name)'", "\(location.flag) \(location.path)") }
            }
        }
    }

    /// Parses one check's command line (with the audit's --seed unless the check sets its own or
    /// the subcommand takes none), adding --output OUTPUT/<name> and --quiet.
    func parse(_ check: AuditConfiguration.Check, seed: UInt64?) -> ParsedCheck {
        var args = AuditConfiguration.arguments(for: check)
        let folder = output + "/" + check.name
        let addsSeed = seed != nil && check.options?["seed"] == nil
        if let seed, addsSeed { args += ["--seed", String(seed)] }
        func reporting(_ args: [String]) throws -> ReportingCommand {
            let joined = Embdiag.joiningNegativeValues(args + ["--output", folder, "--quiet"])
            try Embdiag.refuseNegativeSeed(joined)
            let command = try Embdiag.parseAsRoot(joined)
            guard let reporting = command as? ReportingCommand else {
                throw EmbdiagError.usage("check '\(check.name)': '\(check.command)' writes no report")
            }
            return reporting
        }
        do {
            return ParsedCheck(check: check, arguments: args, folder: folder, parsed: .success(try reporting(args)))
        } catch where addsSeed {
            // This subcommand takes no --seed: run it without.
            args.removeLast(2)
            return ParsedCheck(check: check, arguments: args, folder: folder, parsed: Result(catching: { try reporting(args) }))
        } catch {
            return ParsedCheck(check: check, arguments: args, folder: folder, parsed: .failure(error))
        }
    }

    /// Runs one parsed check: its reports into its folder, its requirements and the audit's.
    func runCheck(_ c: ParsedCheck) throws -> AuditCheckOutcome {
        let checkClock = Stopwatch()
        var reports: [Report] = [], gates: [RequirementOutcome] = []
        var status = AuditCheckOutcome.Status.pass, message = ""
        do {
            let reporting = try c.parsed.get()
            try OutputLocations.refuseOverwritingInputs(OutputLocations.of(reporting), arguments: c.arguments)
            try OutputLocations.prepare(OutputLocations.of(reporting))
            let auditRequirements = try (c.check.require ?? []).map(Requirement.init(parsing:))
            var failures: [String] = []
            // All or nothing: a check that fails on one output leaves none of its files.
            let produced = try AtomicFile.allOrNothing { () throws -> [(Report, [String], [RequirementOutcome])] in
                try reporting.makeReports().map { produced in
                    let (report, failed) = try reporting.outputOptions.finish(produced, checking: reporting.requirements, elapsedSeconds: checkClock.seconds)
                    return (report, failed, try report.evaluate(auditRequirements))
                }
            }
            for (report, failed, checked) in produced {
                reports.append(report)
                failures += failed
                gates += checked
                failures += checked.filter { !$0.passed }.map(\.message)
            }
            if reports.isEmpty {
                // Refused up front when requirements exist; kept as a guard so no path passes one unevaluated.
                if !auditRequirements.isEmpty || !reporting.requirements.isEmpty {
                    throw EmbdiagError.usage("check '\(c.check.name)' produced no report: its requirements could not be evaluated")
                }
                message = "no report (a partial state was written): no requirement evaluated"
            }
            if !failures.isEmpty {
                status = .fail
                message = failures.joined(separator: "; ")
            }
        } catch let error as EmbdiagError {
            status = .error
            message = error.description
        } catch {
            status = .error
            message = "check '\(c.check.name)': " + Embdiag.oneLine(Embdiag.message(for: error))
        }
        return AuditCheckOutcome(name: c.check.name, description: c.check.description, arguments: c.arguments, status: status,
                                 message: PostgresLocation.redactingURLs(in: message), reports: reports, gates: gates, seconds: checkClock.seconds)
    }
}
