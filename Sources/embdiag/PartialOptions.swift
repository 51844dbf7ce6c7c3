import ArgumentParser
import EmbeddingDiagnostics
import Foundation

/// `--partial OUT` and its companions (Guides/Scale.md): write this shard's mergeable
/// state instead of a report; `embdiag merge` combines the states.
struct PartialOptions: ParsableArguments {
    @Option(help: "Write this input shard's mergeable state to this file instead of a report (then: embdiag merge STATE…; Guides/Scale.md). compat: --old/--new are one gallery shard, every shard gets the same --old-queries/--new-queries; retrieval metrics only, in two passes (--partial-pass).")
    var partial: String?

    @Option(help: "With --partial: the global row number of this shard's first row (required).")
    var rowOffset: Int?

    @Option(help: "With --partial: a name for this shard in the merged report (default: the input path).")
    var shardId: String?

    @Option(help: "anisotropy, depth and compat --partial: pass 1 (sums, default) or 2 (anisotropy: partition function and sampled pairs over the merged directions; depth: every row's depth; compat: the shard's rows ranked around the merged relevant scores; needs --directions).")
    var partialPass: Int = 1

    @Option(help: "anisotropy, depth and compat --partial-pass 2: the merged pass-1 state (embdiag merge PASS1-STATES… --state-out FILE).")
    var directions: String?

    @Flag(help: "depth --partial-pass 2: this shard belongs to the compared corpus (default: the reference).")
    var otherCorpus = false

    var isActive: Bool { partial != nil }

    func validate() throws {
        guard partial != nil else {
            if rowOffset != nil || shardId != nil || directions != nil || partialPass != 1 || otherCorpus {
                throw ValidationError("--row-offset, --shard-id, --partial-pass, --directions and --other-corpus go with --partial OUT")
            }
            return
        }
        guard let rowOffset else { throw ValidationError("--partial needs --row-offset N (the global row number of this shard's first row)") }
        // 2^48 global rows is far beyond any corpus and keeps offset + rows (and the merges' row
        // arithmetic) clear of Int overflow.
        if rowOffset < 0 || rowOffset > 1 << 48 { throw ValidationError("--row-offset must be an integer in 0…2^48 (the global row number of this shard's first row; got \(rowOffset))") }
        if partialPass != 1 && partialPass != 2 { throw ValidationError("--partial-pass must be 1 or 2 (got \(partialPass))") }
        if (partialPass == 2) != (directions != nil) { throw ValidationError("--partial-pass 2 and --directions FILE go together") }
        if otherCorpus && partialPass != 2 { throw ValidationError("--other-corpus goes with --partial-pass 2 (pass 1 sums the reference only)") }
    }

    /// The shard's record for a state: offset, rows, id and the input's source (with SHA-256).
    func shard(for e: Embeddings, path: String) -> ShardRecord {
        ShardRecord(id: shardId ?? PostgresLocation.printable(path), rowOffset: rowOffset ?? 0, rowCount: e.count, source: e.source)
    }

    /// Refuses what a partial run cannot honour: --require (a state has no metrics: the
    /// requirements go with `embdiag merge`) and --partial-pass 2 for one-pass analyzers.
    func refuse<A: PartialAnalysis>(requirements: [Requirement], analysis: A.Type) throws {
        if !requirements.isEmpty { throw ValidationError("--require goes with embdiag merge (a partial state has no metrics yet)") }
        if partialPass != 1 && !A.hasSecondPass {
            throw ValidationError("--partial-pass 2 is for anisotropy, depth and compat; \(A.analyzer) states merge in one pass")
        }
    }

    /// The one pass dispatch of every `--partial` run: the shard's state for the pass asked
    /// (pass 2 reads the merged pass-1 state from --directions), written to --partial.
    /// - Parameters:
    ///   - shardOf: the shard's rows (its row count and source make the shard's record).
    func run<A: PartialAnalysis>(_ analysis: A, _ input: A.Input, shardOf e: Embeddings, path: String, quiet: Bool) throws {
        let pass: PartialPass = try directions.map { .second(merged: LoadedState(path: $0, state: try PartialStateFile.read($0))) } ?? .first
        try write(analysis.state(input, shard: shard(for: e, path: path), pass: pass), quiet: quiet)
    }

    /// Writes the state (temporary file + rename) and says so on stderr unless quiet.
    func write(_ state: PartialState, quiet: Bool) throws {
        guard let partial else { return }
        try PartialStateFile.write(state, to: partial)
        if !quiet {
            let s = state.shards[0]
            FileHandle.standardError.write(Data("embdiag: wrote \(state.analyzer) pass-\(state.pass) state of rows \(s.rowOffset)..<\(s.rowOffset + s.rowCount) to \(partial)\n".utf8))
        }
    }
}
