import Foundation

/// What `embdiag merge` produces: the report a single run over the concatenated shards writes,
/// or — for anisotropy pass-1 states — the merged pass-1 state the second pass reads.
public enum MergeOutcome: Sendable {
    case report(Report)
    case state(PartialState)
}

/// `embdiag merge STATE…`: checks the states (`ShardSet`), orders them by row offset and merges
/// them with their analyzer's rule. Guide: Guides/Scale.md.
public enum StateMerge {
    /// - Parameters:
    ///   - wantState: the caller asked for the merged pass-1 state (`--state-out`).
    ///   - expectedRows: the number of rows the shards must cover (`merge --rows`). Shards do not
    ///     know the size of the whole input, so a missing *last* shard tiles as well as a complete
    ///     set; only this number can tell. Checked on the final merge (the reference's rows for
    ///     depth, the gallery's for compat).
    ///   - expectedOtherRows: the same for the compared corpus of a depth merge (`merge --other-rows`).
    /// - Complexity: that of the analyzer's merge (linear in the states' payload).
    public static func merge(_ states: [LoadedState], wantState: Bool, expectedRows: Int? = nil, expectedOtherRows: Int? = nil) throws -> MergeOutcome {
        guard let first = states.first else { throw EmbdiagError.usage("merge needs at least one partial state") }
        for (setting, rows) in [(Setting.expectedRows, expectedRows), (Setting.expectedOtherRows, expectedOtherRows)] {
            if let rows, rows < 1 { throw EmbdiagError.usage("\(setting) \(rows): give the number of rows of the whole input, at least 1") }
            if rows != nil && wantState {
                throw EmbdiagError.usage("\(setting) goes with the final merge: a merged pass-1 state (\(Setting.stateOut)) may cover a group of shards")
            }
        }
        if expectedOtherRows != nil && first.state.analyzer != "depth" {
            throw EmbdiagError.usage("\(Setting.expectedOtherRows) counts the compared corpus of a depth merge; \(first.state.analyzer) states have no compared corpus (give \(Setting.expectedRows))")
        }
        // Every state on its own first, merged pass-1 states included (a state built in memory has
        // not been through the file's checks).
        for s in states { try s.state.validate(path: s.path) }
        // The analyzers agree before any analyzer's own rule (passes, merged states) is applied,
        // compared in path order so that the message does not depend on the order of the arguments.
        let byPath = states.sorted { $0.path < $1.path }
        if let other = byPath.first(where: { $0.state.analyzer != byPath[0].state.analyzer }) {
            throw EmbdiagError.mismatch(other.path, "analyzer \(other.state.analyzer) differs from \(byPath[0].path)'s \(byPath[0].state.analyzer): merge states of one run only")
        }
        switch first.state.analyzer {
        case "info":
            if wantState { throw EmbdiagError.usage("\(Setting.stateOut) is for anisotropy pass-1 states; info states merge straight into a report") }
            let ordered = try ShardSet.ordered(states)
            try requireRows(ordered, expectedRows)
            var report = try InfoPartial.merge(ordered).report()
            finish(&report, ordered, expectedRows)
            report.notes.append("sha256: no single file exists for the concatenation; every shard's SHA-256 is listed with the inputs.")
            return .report(report)
        case "neighbors":
            if wantState { throw EmbdiagError.usage("\(Setting.stateOut) is for anisotropy pass-1 states; neighbors states merge straight into a report") }
            let ordered = try ShardSet.ordered(states)
            try requireRows(ordered, expectedRows)
            let merged = try NeighborsPartial.merge(ordered)
            var report = merged.report()
            let queries = Array(report.inputs.dropFirst())
            finish(&report, ordered, expectedRows)
            report.inputs += queries
            return .report(report)
        case "depth":
            let needsSecondPass = "depth pass-1 states are the reference's sums: write the merged state with \(Setting.stateOut) merged.state, run 'embdiag depth SHARD \(Setting.partial) OUT \(Setting.rowOffset) N \(Setting.partialPass) 2 \(Setting.directions) merged.state' on every reference shard (and with \(Setting.otherCorpus) on every shard of the compared corpus), then 'embdiag merge merged.state PASS2-STATES…'"
            return try twoPass(states, wantState: wantState, analyzer: "depth", needsSecondPass: needsSecondPass,
                               isMergedPass1: DepthPartial.isMergedPass1, mergePass1: DepthPartial.mergePass1) { merged, pass2 in
                let analysis = try DepthPartial.mergePass2(merged: merged, pass2: pass2)
                var report = analysis.report()
                let corpora = try pass2.map { try $0.state.settings(DepthPartialSettings.self, path: $0.path).corpus }
                let reference = try ShardSet.ordered(zip(pass2, corpora).filter { $0.1 == .reference }.map(\.0))
                try requireRows(reference, expectedRows)
                let othersShards = zip(pass2, corpora).filter { $0.1 == .other }.map(\.0)
                guard !othersShards.isEmpty else {
                    if expectedOtherRows != nil {
                        throw EmbdiagError.usage("\(Setting.expectedOtherRows) counts the compared corpus, but no pass-2 state is of one (\(Setting.otherCorpus))")
                    }
                    finish(&report, reference, expectedRows)
                    return report
                }
                let others = try ShardSet.ordered(othersShards)
                try requireRows(others, expectedOtherRows, setting: .expectedOtherRows)
                finish(&report, reference, expectedRows, compared: (others, expectedOtherRows))
                return report
            }
        case "anisotropy":
            let needsSecondPass = "anisotropy pass-1 states need a second pass for partition isotropy and the sampled cosines: write the merged state with \(Setting.stateOut) merged.state, run 'embdiag anisotropy SHARD \(Setting.partial) OUT \(Setting.rowOffset) N \(Setting.partialPass) 2 \(Setting.directions) merged.state' on every shard, then 'embdiag merge merged.state PASS2-STATES…'"
            return try twoPass(states, wantState: wantState, analyzer: "anisotropy", needsSecondPass: needsSecondPass,
                               isMergedPass1: AnisotropyPartial.isMergedPass1, mergePass1: AnisotropyPartial.mergePass1) { merged, pass2 in
                let ordered = try ShardSet.ordered(pass2)
                try requireRows(ordered, expectedRows)
                let analysis = try AnisotropyPartial.mergePass2(merged: merged, ordered: ordered)
                var report = analysis.report()
                finish(&report, ordered, expectedRows)
                report.notes.append("Covariance from the merged Float64 Gram (XᵀX − nμμᵀ)/(n − 1); a single run's Float32 SSYRK blocks agree with it to its documented float noise (≤ 1e-6 relative). Sums, the pair sample and the partition-function sample are those of a single run.")
                return report
            }
        case "compat":
            let needsSecondPass = "compat pass-1 states hold the relevant rows' scores; MRR and mAP also need every shard's rows ranked around them: write the merged state with \(Setting.stateOut) merged.state, run 'embdiag compat --old OLD-SHARD --new NEW-SHARD (the same query options) \(Setting.partial) OUT \(Setting.rowOffset) N \(Setting.partialPass) 2 \(Setting.directions) merged.state' on every shard, then 'embdiag merge merged.state PASS2-STATES…'"
            return try twoPass(states, wantState: wantState, analyzer: "compat", needsSecondPass: needsSecondPass,
                               isMergedPass1: CompatPartial.isMergedPass1, mergePass1: CompatPartial.mergePass1) { merged, pass2 in
                let ordered = try ShardSet.ordered(pass2)
                try requireRows(ordered, expectedRows)
                let result = try CompatPartial.mergePass2(merged: merged, ordered: ordered)
                var report = try CompatibilityAnalysis(merged: result).report()
                let queries = Array(result.inputs.dropFirst(2))
                let newShards = try ordered.map { try CompatPartial.decode(Source.self, "new_source_json", in: $0) }
                finish(&report, ordered, expectedRows)
                report.inputs += newShards + queries
                return report
            }
        default:
            throw EmbdiagError.malformed(first.path, "partial state of analyzer '\(first.state.analyzer)': merge handles info, anisotropy, neighbors, depth and compat")
        }
    }

    /// The shared rule of the two-pass analyzers (anisotropy, depth, compat): shard pass-1 states
    /// merge into one pass-1 state (`--state-out`, the input of pass 2); the final merge takes
    /// exactly that merged state plus the pass-2 states and hands them to `report`. Anything else
    /// is a usage error.
    static func twoPass(_ states: [LoadedState], wantState: Bool, analyzer: String, needsSecondPass: String,
                        isMergedPass1: (PartialState) -> Bool, mergePass1: ([LoadedState]) throws -> PartialState,
                        report: (_ merged: LoadedState, _ pass2: [LoadedState]) throws -> Report) throws -> MergeOutcome {
        if !states.contains(where: { $0.state.pass == 2 }) {
            guard wantState else { throw EmbdiagError.usage(needsSecondPass) }
            return .state(try mergePass1(ShardSet.ordered(states, fromZero: false)))
        }
        if wantState { throw EmbdiagError.usage("\(Setting.stateOut) writes merged pass-1 states; these are pass-2 states (drop \(Setting.stateOut) to write the report)") }
        let merged = states.filter { isMergedPass1($0.state) }
        let pass2 = states.filter { $0.state.pass == 2 }
        guard merged.count == 1, merged.count + pass2.count == states.count else {
            let stray = states.sorted { $0.path < $1.path }.first { $0.state.pass == 1 && !isMergedPass1($0.state) }
            throw EmbdiagError.usage("the final \(analyzer) merge takes exactly one merged pass-1 state (from merge \(Setting.stateOut)) and the pass-2 states; got \(merged.count) merged pass-1 state(s)\(stray.map { " and a shard's pass-1 state \($0.path)" } ?? "")")
        }
        return .report(try report(merged[0], pass2))
    }

    /// The rows the shards tile (they start at 0 and leave no gap: `ShardSet.ordered`) are all the
    /// rows of the input, when the caller knows how many there are.
    /// - Complexity: O(1).
    static func requireRows(_ ordered: [LoadedState], _ expectedRows: Int?, setting: Setting = .expectedRows) throws {
        guard let expectedRows, let last = ordered.last else { return }
        let covered = last.state.rowOffset + last.state.rowCount
        if covered < expectedRows {
            throw EmbdiagError.mismatch(last.path, "the shards cover rows 0..<\(covered), but \(setting) says the input has \(expectedRows): rows \(covered)..<\(expectedRows) are missing (a last shard?)")
        }
        if covered > expectedRows {
            throw EmbdiagError.mismatch(last.path, "the shards cover rows 0..<\(covered), more than the \(expectedRows) \(setting) gives: check \(setting) and \(Setting.rowOffset)")
        }
    }

    /// Inputs listed per shard, in row order (the compared corpus's after the reference's), and a
    /// note saying where the report came from and which row counts were checked.
    static func finish(_ report: inout Report, _ ordered: [LoadedState], _ expectedRows: Int?,
                       compared: (ordered: [LoadedState], expectedRows: Int?)? = nil) {
        func coverage(_ ordered: [LoadedState], _ expected: Int?, _ setting: Setting) -> (shards: [ShardRecord], text: String) {
            let shards = ordered.flatMap(\.state.shards)
            let end = shards.last.map { $0.rowOffset + $0.rowCount } ?? 0
            let completeness = expected != nil
                ? "all \(expected!) rows \(setting) gives"
                : "shards cannot know the size of the whole input, so a missing last shard is only noticed with \(setting) N"
            return (shards, "rows 0..<\(end) (\(completeness))")
        }
        let reference = coverage(ordered, expectedRows, .expectedRows)
        var shards = reference.shards, states = ordered.count, covers = reference.text
        if let compared {
            let other = coverage(compared.ordered, compared.expectedRows, .expectedOtherRows)
            shards += other.shards
            states += compared.ordered.count
            covers = "the reference's \(reference.text) and the compared corpus's \(other.text)"
        }
        report.inputs = shards.map(\.source)
        report.notes.append("Merged from \(states) partial state(s) covering \(shards.count) shard(s), \(covers); inputs in row order, with the paths and SHA-256s recorded in the states: merge does not open the input files.")
    }
}
