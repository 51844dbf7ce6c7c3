import ArgumentParser
import EmbeddingDiagnostics

/// One report a command produced: the analysis's report as the library returned it, where it
/// goes (a sub-folder of --output for commands that write several, such as `info a.npy b.npy`),
/// the failures of the command's own checks beyond --require (`info --strict`), and what the
/// command itself did around the analysis — side files written, options naming them, rows the
/// reader dropped — which `composed` adds after the analysis's own notes, parameters and tables.
/// Commands never edit the library's report.
struct CommandReport {
    var report: Report
    var subfolder: String? = nil
    var failures: [String] = []
    /// One sentence per side file written (--write, --save-mapping, …).
    var written: [String] = []
    /// Options that name side files (`write`, `write_direction`, …).
    var parameters: [ReportParameter] = []
    /// Rows --on-invalid drop removed: ready tables, then per input (named dropped_rows_N).
    var droppedTables: [ReportTable] = []
    var droppedByInput: [(path: String, rows: [DroppedRow])] = []
    /// Wall time of this report when the command measured it per report (`info a b`).
    var elapsedSeconds: Double? = nil

    /// The report as written.
    var composed: Report {
        var tables = droppedTables
        for (path, rows) in droppedByInput where !rows.isEmpty {
            tables.append(rows.reportTable(name: "dropped_rows_\(report.tables.count + tables.count)", input: PostgresLocation.printable(path)))
        }
        return report.adding(parameters: parameters, notes: written, tables: tables, elapsedSeconds: elapsedSeconds)
    }
}

/// A subcommand whose work is one analysis: it parses and validates its options, reads the inputs,
/// calls the library and returns the report(s); the ending (gates, files, stdout, exit code) is
/// shared. `embdiag audit` calls `makeReports()` directly.
protocol ReportingCommand: ParsableCommand {
    var outputOptions: OutputOptions { get }
    /// Requirements checked on every report (--require).
    var requirements: [Requirement] { get }
    /// True when the command writes a mergeable state instead of a report (`--partial`, `merge
    /// --state-out`): nothing to check a requirement on, so requirements are refused up front.
    var writesState: Bool { get }
    /// Reads, analyses and returns the report(s); side files a command writes on request
    /// (--write, --save-mapping) are written here, before the report.
    func makeReports() throws -> [CommandReport]
}

extension ReportingCommand {
    var writesState: Bool { false }

    /// Refuses a requirement that can never fail: from its metric's key alone
    /// (`Requirement.refuseIfCannotFail`), and where the command knows more from its options
    /// (shift: a p-value's permutation floor). Called before any input is read.
    func refuseRequirementThatCannotFail(_ r: Requirement) throws {
        try r.refuseIfCannotFail()
        if let shift = self as? ShiftCommand { try shift.refuseIfBelowPValueFloor(r) }
    }

    func run() throws { try runReports() }

    /// The shared ending: make the reports, check the gates, write, exit 1 on a failed gate. A
    /// command with another mode (`--partial`) defines `run()` and calls this for the report mode.
    func runReports() throws {
        let clock = Stopwatch()
        var failed: [String] = []  // one entry per report that failed a check
        for output in try makeReports() {
            let failures = try outputOptions.finish(output, checking: requirements, elapsedSeconds: clock.seconds).failures
            if !failures.isEmpty { failed.append(failures.joined(separator: "; ")) }
        }
        if !failed.isEmpty { throw GateFailure(description: failed.joined(separator: " | ")) }
    }
}
