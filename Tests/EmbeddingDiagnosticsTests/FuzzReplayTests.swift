import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// Replays every input the fuzzers ever crashed on, and a small corpus per harness, through the
/// same harness body the libFuzzer binary runs (ReaderHarness.swift, symlinked from fuzz/Sources):
/// fuzz/replay/<format>/* in the ordinary release test build, no sanitizer. A reader change that
/// reopens a crash fails here (the test process dies or records the violation).
@Suite struct FuzzReplayTests {
    static let replay = CLI.repositoryRoot.appendingPathComponent("fuzz/replay")

    static func inputs(_ format: String) throws -> [URL] {
        let dir = replay.appendingPathComponent(format)
        return try FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: nil)
            .filter { !$0.lastPathComponent.hasPrefix(".") }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
    }

    @Test func everyHarnessHasACorpus() throws {
        let dirs = try FileManager.default.contentsOfDirectory(atPath: Self.replay.path).filter { !$0.hasPrefix(".") }
        for format in ReaderHarness.formats {
            #expect(try Self.inputs(format).count >= 3, "fuzz/replay/\(format) needs a corpus")
        }
        // A folder no harness reads would be a corpus that silently stopped being replayed.
        for format in ["state", "fingerprint"] {
            #expect(try Self.inputs(format).count >= 3, "fuzz/replay/\(format) needs a corpus")
        }
        for format in ParserHarness.formats {
            #expect(try Self.inputs(format).count >= 3, "fuzz/replay/\(format) needs a corpus")
        }
        for d in dirs where !ReaderHarness.formats.contains(d) && !ParserHarness.formats.contains(d) && !["audit", "state", "fingerprint"].contains(d) {
            Issue.record("fuzz/replay/\(d) is not a harness format")
        }
    }

    @Test(arguments: ReaderHarness.formats) func replayReaderCorpus(format: String) throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let scratch = dir + "/input." + format, matrix = dir + "/matrix.npy"
        for input in try Self.inputs(format) {
            let bytes = try Data(contentsOf: input)
            do {
                try ReaderHarness.run(format: format, bytes: bytes, scratch: scratch, matrixPath: matrix)
            } catch {
                Issue.record("fuzz/replay/\(format)/\(input.lastPathComponent): \(error)")
            }
        }
    }

    /// The harnesses of mapping files, the SEAT table and templates, word lists, gates, connection
    /// strings and option values (ParserHarness.swift, symlinked).
    @Test(arguments: ParserHarness.formats) func replayParserCorpus(format: String) throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for input in try Self.inputs(format) {
            do {
                try ParserHarness.run(format: format, bytes: try Data(contentsOf: input), directory: dir)
            } catch {
                Issue.record("fuzz/replay/\(format)/\(input.lastPathComponent): \(error)")
            }
        }
    }

    /// The committed mapping seeds are files the current code reads (a corpus the reader refuses
    /// entirely would fuzz nothing past the first check): every `seed-*` of fuzz/replay/map/,
    /// split as the harness splits it, reads back through `MappingFile.read`.
    @Test func mappingSeedsRead() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let seeds = try Self.inputs("map").filter { $0.lastPathComponent.hasPrefix("seed-") }
        #expect(seeds.count >= 3, "fuzz/replay/map needs seeds written by compat --save-mapping (fuzz/make-map-seeds)")
        let magic = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59])
        for seed in seeds {
            let bytes = try Data(contentsOf: seed)
            let split = try #require(bytes.range(of: magic)?.lowerBound, "\(seed.lastPathComponent) has no .npy part")
            try Data(bytes[..<split]).write(to: URL(fileURLWithPath: dir + "/m.json"))
            try Data(bytes[split...]).write(to: URL(fileURLWithPath: dir + "/m.npy"))
            #expect(throws: Never.self, "\(seed.lastPathComponent)") { _ = try MappingFile.read(dir + "/m.npy") }
        }
    }

    /// The state-file harness (StateFileFuzzing.swift, symlinked): each input as it is and resealed
    /// with its checksum recomputed, decoded, validated, round-tripped and merged.
    @Test func replayStateCorpus() throws {
        for input in try Self.inputs("state") {
            do {
                try fuzzStateFile(try Data(contentsOf: input))
            } catch {
                Issue.record("fuzz/replay/state/\(input.lastPathComponent): \(error)")
            }
        }
    }

    /// The fingerprint harness (StateFileFuzzing.swift, symlinked): each input as it is and
    /// resealed, decoded, round-tripped and checked against a fixed sample of its dimension.
    @Test func replayFingerprintCorpus() throws {
        let inputs = try Self.inputs("fingerprint")
        #expect(inputs.count >= 2, "fuzz/replay/fingerprint needs seeds written by embdiag fingerprint --write")
        for input in inputs {
            do {
                try fuzzFingerprintFile(try Data(contentsOf: input))
            } catch {
                Issue.record("fuzz/replay/fingerprint/\(input.lastPathComponent): \(error)")
            }
        }
    }

    /// The audit harness compiles the CLI's own configuration parser; here each input goes through
    /// the built CLI (`embdiag audit`), which must refuse it with exit 2 and one line, never crash.
    @Test func replayAuditCorpus() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for input in try Self.inputs("audit") {
            let r = try CLI.run(["audit", input.path, "--output", dir + "/out-" + input.lastPathComponent, "--quiet"])
            #expect(r.status == 2, "fuzz/replay/audit/\(input.lastPathComponent): exit \(r.status), \(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1, "fuzz/replay/audit/\(input.lastPathComponent): \(r.stderr)")
        }
    }
}
