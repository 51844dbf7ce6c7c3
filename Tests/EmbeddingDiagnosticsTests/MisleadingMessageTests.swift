import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// Errors that named the wrong problem: each now names the options or the cause, exit 2, and
/// nothing is left behind.
@Suite(.serialized) struct MisleadingMessageTests {
    static let games = CLI.repositoryRoot.appendingPathComponent("data/sentences/by-section/games.npy").path

    /// `-` twice: the second read found stdin empty ("<stdin>: empty file: no rows").
    @Test func stdinGivenTwiceSaysSo() throws {
        let r = try CLI.run(["-c", "cat \(Self.games) | \(CLI.binary) shift - -"], shell: true)
        #expect(r.status == 2 && r.stderr.contains("standard input can be read once"), "\(r.stderr)")
    }

    /// `relrep --write r.npy` also writes r.json; `--output r.json` made a folder there and then
    /// said "r.json: is a directory", leaving the folder behind.
    @Test func reportFolderNamedLikeASideFileIsRefusedBeforeWriting() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try CLI.run(["relrep", Self.games, "--anchors", "10", "--write", dir + "/r.npy", "--output", dir + "/r.json"])
        #expect(r.status == 2 && r.stderr.contains("--output") && r.stderr.contains("--write"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/r.json") && !FileManager.default.fileExists(atPath: dir + "/r.npy"))
    }

    /// A mapping's JSON with NaN (Python's json.dump writes it) is invalid JSON, not "not an object".
    @Test func mappingWithNaNSaysInvalidJSON() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Data(count: 0).write(to: URL(fileURLWithPath: dir + "/m.npy"))
        try "{\"format_version\": 1, \"scale\": NaN}".write(toFile: dir + "/m.json", atomically: true, encoding: .utf8)
        #expect(throws: EmbdiagError.self) { _ = try MappingFile.read(dir + "/m.npy") }
        do { _ = try MappingFile.read(dir + "/m.npy") } catch let e as EmbdiagError {
            #expect(e.message.contains("not valid JSON") && e.message.contains("NaN"), "\(e.message)")
        }
    }
}
