import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// Runs the built `embdiag` binary (built by `swift build --build-tests`, as `make test` does).
enum CLI {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    /// The embdiag built with this test bundle (same configuration), else .build/debug.
    static var binary: String {
        let beside = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("embdiag").path
        if FileManager.default.isExecutableFile(atPath: beside) { return beside }
        let bundle = Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("embdiag").path
        if FileManager.default.isExecutableFile(atPath: bundle) { return bundle }
        return repositoryRoot.appendingPathComponent(".build/debug/embdiag").path
    }
    static var fixtures: URL { repositoryRoot.appendingPathComponent("Tests/Fixtures") }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func run(_ arguments: [String], environment: [String: String]? = nil, shell: Bool = false) throws -> Result {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: shell ? "/bin/sh" : binary)
        p.arguments = arguments
        if let environment { p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        // Read both pipes before waiting so a large output cannot block the child.
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    static func temporaryDirectory() throws -> String {
        let dir = NSTemporaryDirectory() + "embdiag-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Writes a float32 .npy with numpy's v1 header (independent of the library's writer).
    static func writeNpy(_ rows: [[Float]], to path: String) throws {
        let n = rows.count, d = rows.first?.count ?? 0
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(n), \(d)), }"
        while (10 + header.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.count & 0xFF), UInt8(header.count >> 8)])
        data.append(Data(header.utf8))
        for r in rows { for v in r { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } } }
        try data.write(to: URL(fileURLWithPath: path))
    }
}

@Suite(.serialized) struct CLITests {
    @Test func binaryExists() {
        #expect(FileManager.default.isExecutableFile(atPath: CLI.binary), "build it first: swift build --build-tests")
    }

    @Test func infoReportsShapeNormsAndInvalidRows() throws {
        let dir = try CLI.temporaryDirectory()
        let path = dir + "/m.npy"
        try CLI.writeNpy([[3, 4], [0, 0], [.nan, 1], [1, 0]], to: path)
        let r = try CLI.run(["info", path, "--json", dir + "/info.json"])
        #expect(r.status == 0)
        #expect(r.stdout.contains("4  [rows]") || r.stdout.contains(" 4  [rows]"))
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/info.json"))) as! [String: Any]
        let metrics = json["metrics"] as! [String: Any]
        #expect(metrics["rows"] as? Int == 4)
        #expect(metrics["dim"] as? Int == 2)
        #expect(metrics["nan_rows"] as? Int == 1)
        #expect(metrics["zero_rows"] as? Int == 1)
        // Norms over finite rows: 5, 0, 1 → min 0, max 5, mean 2.
        #expect(metrics["norm_max"] as? Double == 5)
        #expect(metrics["norm_min"] as? Double == 0)
        #expect(metrics["norm_mean"] as? Double == 2)
        let inputs = json["inputs"] as! [[String: Any]]
        #expect((inputs[0]["sha256"] as? String)?.count == 64)
        // --strict turns the problems into a failed check: exit 1, one line naming the file.
        let strict = try CLI.run(["info", path, "--strict", "--quiet"])
        #expect(strict.status == 1)
        #expect(strict.stderr.contains(path) && strict.stderr.contains("NaN"))
    }

    @Test func outputFolderHasTextJSONAndCSV() throws {
        let dir = try CLI.temporaryDirectory()
        let path = dir + "/m.npy"
        try CLI.writeNpy((0..<20).map { i in [Float(i), 1, Float(i % 3)] }, to: path)
        let r = try CLI.run(["neighbors", path, "--k", "2", "--quiet", "--output", dir + "/out"])
        #expect(r.status == 0 && r.stdout.isEmpty)
        for f in ["report.txt", "report.json", "neighbors.csv", "hubs.csv"] {
            #expect(FileManager.default.fileExists(atPath: dir + "/out/" + f), "\(f) missing")
        }
        let csv = try String(contentsOfFile: dir + "/out/neighbors.csv", encoding: .utf8)
        #expect(csv.split(separator: "\n").count == 1 + 20 * 2)
        // No temporary files left behind.
        let names = try FileManager.default.contentsOfDirectory(atPath: dir + "/out")
        #expect(!names.contains { $0.contains(AtomicFile.temporaryMarker) })
    }

    @Test func usageAndMissingFilesExitTwoWithOneLine() throws {
        for args in [["info"], ["info", "--bogus", "x"], ["info", "/nonexistent/file.npy"], ["neighbors", "/nonexistent.npy", "--k", "0"]] {
            let r = try CLI.run(args)
            #expect(r.status == 2, "\(args)")
            #expect(r.stderr.split(separator: "\n").count == 1, "\(args): \(r.stderr)")
            #expect(r.stderr.hasPrefix("embdiag: error:"))
        }
        let help = try CLI.run(["info", "--help"])
        #expect(help.status == 0 && help.stdout.contains("Examples"))
    }

    /// Every file of the malformed-input corpus: exit 2, one line on stderr naming the file, no
    /// crash, no stack trace. (Each reader's own test checks the specific message.)
    @Test func malformedCorpusGivesOneLineErrors() throws {
        let dir = CLI.fixtures.appendingPathComponent("malformed").path
        let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { !$0.hasPrefix(".") && !$0.hasSuffix(".md") && $0 != "expected.json" }.sorted()
        // A forced --format is still validated: files listed with a format are read with it.
        let table = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/expected.json"))) as! [String: [Any]]
        for name in files {
            let path = dir + "/" + name
            var args = ["info", path, "--quiet"]
            if name.contains("labels-mismatch") { continue }  // needs a matrix; covered by the reader tests
            if let forced = table[name]?.first as? String {
                args += ["--format", forced]
            } else if let forced = ["csv", "tsv"].first(where: { name.hasSuffix("." + $0) }) { args += ["--format", forced] }
            let r = try CLI.run(args)
            #expect(r.status == 2, "\(name): exit \(r.status), stderr \(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1, "\(name): \(r.stderr)")
            #expect(r.stderr.contains(name), "\(name): message does not name the file: \(r.stderr)")
            #expect(!r.stderr.contains("Fatal error") && !r.stderr.contains("Stack dump"), "\(name)")
        }
    }
}

@Suite struct CLIBinaryLocationTests {
    @Test func testsUseTheBinaryOfTheirOwnBuild() {
        // A stale binary from another configuration would test old code.
        let config = CommandLine.arguments[0].contains("/release/") ? "/release/" : "/debug/"
        #expect(CLI.binary.contains(config), "\(CLI.binary) vs test runner \(CommandLine.arguments[0])")
    }
}

/// Library errors name settings by their Swift field; the CLI shows its flags.
@Suite struct SettingNamesTests {
    @Test func libraryNamesFieldsAndTheCLINamesFlags() throws {
        let zeroRow = Embeddings(matrix: Matrix([[1, 0], [0, 0], [0, 1]]), name: "z.npy")
        do {
            _ = try zeroRow.requiringFiniteNonZeroRows()
            Issue.record("an all-zero row must be an error")
        } catch let error as EmbdiagError {
            #expect(error.description.contains("`onInvalid` drop") && !error.description.contains("--"), "\(error.description)")
        }
        let dir = try CLI.temporaryDirectory()
        try CLI.writeNpy([[1, 0], [0, 0], [0, 1]], to: dir + "/z.npy")
        let r = try CLI.run(["anisotropy", dir + "/z.npy", "--quiet"])
        #expect(r.status == 2 && r.stderr.contains("--on-invalid drop") && !r.stderr.contains("`onInvalid`"), "\(r.stderr)")
        // Every setting the library names has a flag, and the flags are distinct.
        #expect(Set(Setting.allCases.map(\.rawValue)).count == Setting.allCases.count)
    }
}
