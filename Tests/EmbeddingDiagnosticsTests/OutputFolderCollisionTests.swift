import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// A report folder's CSV tables and an empty folder path (hostile pass 3, F3 and F6).
extension OutputHostileTests {
    /// `--json`/`--html` (or any other output) naming a .csv inside the `--output` folder: the
    /// folder gets one CSV per report table, named by the analysis, so any such name could be
    /// overwritten (it was: `depth A B --output o --json o/tests.csv` left the tests CSV and no
    /// JSON, exit 0). Refused before the analysis, nothing written; other names inside are fine.
    @Test func outputsNamingACSVInsideTheReportFolder() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var g = SeededGenerator(seed: 5)
        try CLI.writeNpy((0..<60).map { _ in (0..<6).map { _ in Float(g.nextGaussian()) } }, to: dir + "/A.npy")
        try CLI.writeNpy((0..<60).map { _ in (0..<6).map { _ in Float(g.nextGaussian()) } }, to: dir + "/B.npy")
        try FileManager.default.createDirectory(atPath: dir + "/elsewhere", withIntermediateDirectories: false)
        try FileManager.default.createSymbolicLink(atPath: dir + "/elsewhere/to-o", withDestinationPath: dir + "/o")
        let base = ["depth", dir + "/A.npy", dir + "/B.npy", "--output", dir + "/o", "-q"]
        for extra in [["--json", dir + "/o/tests.csv"], ["--html", dir + "/o/depths.csv"], ["--json", dir + "/o/not-a-table.csv"],
                      ["--json", dir + "/o/Tests.CSV"], ["--json", dir + "/o/../o/tests.csv"], ["--html", dir + "/elsewhere/to-o/central_reference.csv"]] {
            let r = try CLI.run(base + extra)
            #expect(r.status == 2, "\(extra): \(r.stderr)")
            #expect(r.stderr.contains("inside the report folder") && r.stderr.contains("one CSV per report table")
                    && r.stderr.contains(extra[0]) && r.stderr.split(separator: "\n").count == 1, "\(extra): \(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dir + "/o"), "\(extra): the folder was created")
        }
        // Another name inside the folder, and a .csv outside it: written beside the report.
        let ok = try CLI.run(base + ["--json", dir + "/o/summary.json", "--html", dir + "/tests.csv"])
        #expect(ok.status == 0, "\(ok.stderr)")
        let json = try String(contentsOfFile: dir + "/o/summary.json", encoding: .utf8)
        #expect(json.hasPrefix("{") && FileManager.default.fileExists(atPath: dir + "/o/tests.csv"))
        #expect(try String(contentsOfFile: dir + "/tests.csv", encoding: .utf8).contains("<html"))
    }

    /// `--output ""` says "an empty path", as `--json ""` does (it said "cannot create output
    /// folder: a parent is a file, or permission is missing", naming no file).
    @Test func anEmptyOutputFolderPath() throws {
        for option in ["--output", "--json", "--html"] {
            let r = try CLI.run(["info", "never-read.npy", option, ""])
            #expect(r.status == 2 && r.stderr == "embdiag: error: \(option): an empty path\n", "\(option): \(r.stderr)")
        }
        // The audit's --output too (its file is read first, then its outputs are checked).
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "checks:\n  - name: c\n    command: info\n    inputs: [never-read.npy]\n".write(toFile: dir + "/a.yaml", atomically: false, encoding: .utf8)
        let audit = try CLI.run(["audit", dir + "/a.yaml", "--output", ""])
        #expect(audit.status == 2 && audit.stderr == "embdiag: error: --output: an empty path\n", "\(audit.stderr)")
        #expect(throws: EmbdiagError.usage("the report folder is an empty path")) { try ReportWriter.createOutputFolder("") }
    }
}
