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
        for d in dirs where !ReaderHarness.formats.contains(d) && d != "audit" {
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
