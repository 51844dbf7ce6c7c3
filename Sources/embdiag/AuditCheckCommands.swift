import ArgumentParser

extension AuditConfiguration {
    /// The subcommands a check may run: those that write a report. In its own file so that the
    /// audit fuzz harness (fuzz/Sources/FuzzAudit), which compiles AuditConfiguration.swift
    /// without the CLI, can give the same list.
    static var checkCommands: [String] {
        Embdiag.subcommandList.filter { $0 is ReportingCommand.Type }.map { $0._commandName }
    }
}
