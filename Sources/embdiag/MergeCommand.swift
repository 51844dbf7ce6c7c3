import ArgumentParser
import EmbeddingDiagnostics
import Foundation

struct MergeCommand: ReportingCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge partial states (--partial) into the report a single run over the concatenated shards writes.",
        discussion: """
        States are ordered by row offset (argument order does not matter) and must tile rows 0..<n:
        different parameters, seeds or versions, duplicated, overlapping or missing shards, the same
        input (SHA-256) twice, and states that were edited or damaged (each file carries a SHA-256
        of itself) are exit 2.
        Examples:
          embdiag info shard-0.npy --partial s0.state --row-offset 0
          embdiag info shard-1.npy --partial s1.state --row-offset 1000
          embdiag merge s0.state s1.state --rows 2000 --json info.json
        Anisotropy takes two passes (the partition function needs the merged principal directions):
          # every shard
          embdiag anisotropy shard-K.npy --partial p1-K.state --row-offset N_K
          embdiag merge p1-*.state --state-out merged.state
          embdiag anisotropy shard-K.npy --partial p2-K.state --row-offset N_K \\
              --partial-pass 2 --directions merged.state
          embdiag merge merged.state p2-*.state --output report/
        depth and compat (gallery shards, the same --old-queries/--new-queries everywhere) take two
        passes the same way.
        See Guides/Scale.md (Spark, Slurm, Kubernetes).
        """)

    @OptionGroup var outputOptions: OutputOptions
    @OptionGroup var gates: GateOptions

    @Option(help: "Write the merged pass-1 state (anisotropy, depth, compat) here (input of --partial-pass 2) instead of a report.")
    var stateOut: String?

    @Option(name: .customLong("rows"), help: ArgumentHelp("The number of rows of the whole input (the reference's for depth, the gallery's for compat): a missing last shard is exit 2. Without it a missing last shard cannot be noticed.", valueName: "N"))
    var expectedRows: Int?

    @Option(name: .customLong("other-rows"), help: ArgumentHelp("depth with a compared corpus (--other-corpus): the number of rows of that corpus; a missing last shard of it is exit 2.", valueName: "M"))
    var expectedOtherRows: Int?

    @Argument(help: "Partial state files.")
    var states: [String]

    var requirements: [Requirement] { gates.requirements }
    var writesState: Bool { stateOut != nil }

    func validate() throws {
        if stateOut != nil && !gates.requirements.isEmpty {
            throw ValidationError("--require goes with the final merge: --state-out writes a merged pass-1 state, which has no metrics yet")
        }
    }

    /// A merged state (--state-out) is written here and gives no report; otherwise the report.
    func makeReports() throws -> [CommandReport] {
        let loaded = try states.map { LoadedState(path: $0, state: try PartialStateFile.read($0)) }
        switch try StateMerge.merge(loaded, wantState: stateOut != nil, expectedRows: expectedRows, expectedOtherRows: expectedOtherRows) {
        case .state(let merged):
            try PartialStateFile.write(merged, to: stateOut!)
            if !outputOptions.quiet {
                print("Wrote the merged \(merged.analyzer) pass-\(merged.pass) state of rows 0..<\(merged.rowCount) (\(merged.shards.count) shards) to \(stateOut!)")
            }
            return []
        case .report(let report):
            return [CommandReport(report: report)]
        }
    }
}
