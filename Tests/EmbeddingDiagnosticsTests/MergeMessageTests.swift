import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// Merge messages (hostile pass 3, F15 and F5): states of different analyzers are named as such
/// whatever the order of the arguments (an anisotropy state first used to get anisotropy's own
/// pass rule: "anisotropy pass-1 states need a second pass"), and two genuinely identical shards
/// are refused with the reason and the way out.
extension StateFileHostileTests {
    /// An anisotropy pass-1 state of rows 0..<70 and an info state of rows 70..<120.
    static func mixedAnalyzerStates() throws -> [LoadedState] {
        let e = try EmbeddingReader.read(MergeTests.sentencesPath).selecting(rows: Array(0..<120))
        let (a, ra) = MergeTests.shard(e, 0..<70, name: "a0.npy")
        let (b, rb) = MergeTests.shard(e, 70..<120, name: "i1.npy")
        return [try MergeTests.roundTrip(AnisotropyPartial.pass1(a, shard: ra, configuration: MergeTests.anisotropyConfiguration()), "a0.state"),
                try MergeTests.roundTrip(InfoPartial.state(b, shard: rb), "i1.state")]
    }

    static func mergeMessage(_ states: [LoadedState], wantState: Bool = false) -> String? {
        do {
            _ = try StateMerge.merge(states, wantState: wantState)
            return nil
        } catch let e as EmbdiagError {
            return e.description
        } catch { return "\(error)" }
    }

    @Test func analyzerDiffersInEitherOrder() throws {
        let states = try Self.mixedAnalyzerStates()
        let expected = "i1.state: analyzer info differs from a0.state's anisotropy: merge states of one run only"
        for wantState in [false, true] {
            #expect(Self.mergeMessage(states, wantState: wantState) == expected)
            #expect(Self.mergeMessage(states.reversed(), wantState: wantState) == expected)
        }
    }

    /// The same through the binary, with the files of the finding (a0.state, i1.state).
    @Test func cliAnalyzerDiffersInEitherOrder() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var rng = SeededGenerator(seed: 3)
        let m = rng.gaussianMatrix(rows: 300, cols: 16)
        try CLI.writeNpy((0..<150).map { m.rowArray($0) }, to: "\(dir)/A0.npy")
        try CLI.writeNpy((150..<300).map { m.rowArray($0) }, to: "\(dir)/A1.npy")
        #expect(try CLI.run(["anisotropy", "\(dir)/A0.npy", "--partial", "\(dir)/a0.state", "--row-offset", "0"]).status == 0)
        #expect(try CLI.run(["info", "\(dir)/A1.npy", "--partial", "\(dir)/i1.state", "--row-offset", "150"]).status == 0)
        let expected = "embdiag: error: \(dir)/i1.state: analyzer info differs from \(dir)/a0.state's anisotropy: merge states of one run only\n"
        for order in [["a0", "i1"], ["i1", "a0"]] {
            let r = try CLI.run(["merge"] + order.map { "\(dir)/\($0).state" })
            #expect(r.status == 2)
            #expect(r.stderr == expected, "\(r.stderr)")
        }
    }

    static let identicalShardsWords = "so two shards with identical bytes are refused even when the data really holds those rows twice: run the analysis on the whole file, or cut the shards at other rows so that no two are identical"

    /// A dataset whose two halves are identical (rows replicated): refused, with or without
    /// checksums, and the message says why and what to do; the duplicate check itself stays.
    @Test func identicalShardsSayWhyAndWhatToDo() throws {
        let e = try EmbeddingReader.read(MergeTests.sentencesPath).selecting(rows: Array(0..<50))
        for checksums in [true, false] {
            var (s, r0) = MergeTests.shard(e, 0..<50, name: "Y.npy")
            if !checksums { s.source.sha256 = nil; r0.source.sha256 = nil }
            var r50 = r0
            r50.rowOffset = 50
            let states = [try MergeTests.roundTrip(InfoPartial.state(s, shard: r0), "s0.state"),
                          try MergeTests.roundTrip(InfoPartial.state(s, shard: r50), "s1.state")]
            let message = try #require(Self.mergeMessage(states))
            #expect(message.hasPrefix("s1.state: rows 50..<100"), "\(message)")
            #expect(message.contains(checksums ? "are the same input (SHA-256" : "the same input twice (no checksum tells them apart)"), "\(message)")
            #expect(message.contains(Self.identicalShardsWords), "\(message)")
        }
    }

    /// The finding's reproduction: `info --partial --no-checksum` on a shard and on a copy of it
    /// at the next offset; `merge` is exit 2 with the reason and the way out.
    @Test func cliIdenticalShards() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var rng = SeededGenerator(seed: 4)
        let m = rng.gaussianMatrix(rows: 150, cols: 16)
        for name in ["A0", "A0copy"] { try CLI.writeNpy((0..<150).map { m.rowArray($0) }, to: "\(dir)/\(name).npy") }
        #expect(try CLI.run(["info", "\(dir)/A0.npy", "--partial", "\(dir)/s0", "--row-offset", "0", "--no-checksum"]).status == 0)
        #expect(try CLI.run(["info", "\(dir)/A0copy.npy", "--partial", "\(dir)/s1", "--row-offset", "150", "--no-checksum"]).status == 0)
        let r = try CLI.run(["merge", "\(dir)/s0", "\(dir)/s1"])
        #expect(r.status == 2)
        #expect(r.stderr.hasPrefix("embdiag: error: \(dir)/s1: rows 150..<300 have the same statistics, bit for bit"), "\(r.stderr)")
        #expect(r.stderr.contains(Self.identicalShardsWords) && r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
    }
}
