extension AuditConfiguration {
    /// The subcommands a check may run, as the CLI lists them (Sources/embdiag/
    /// AuditCheckCommands.swift derives them from its commands; this binary has no CLI).
    /// FuzzReplayTests checks that the two lists agree.
    static var checkCommands: [String] {
        ["info", "neighbors", "anisotropy", "depth", "shift", "relrep", "bias", "compat", "merge"]
    }
}
