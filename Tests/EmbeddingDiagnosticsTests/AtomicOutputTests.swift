import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// Killing embdiag (SIGKILL) while it writes never leaves a partial file under a final name; the
/// clearly named temporaries it may leave are cleaned by the next run.
@Suite(.serialized) struct AtomicOutputTests {
    @Test func atomicFileReplacesWholeOrNotAtAll() throws {
        let dir = try CLI.temporaryDirectory()
        let path = dir + "/out.txt"
        try AtomicFile.write("first", to: path)
        // A failing writer leaves the previous content and no temporary behind.
        struct Boom: Error {}
        #expect(throws: (any Error).self) {
            try AtomicFile.write(to: path) { h in
                try h.write(contentsOf: Data("half".utf8))
                throw Boom()
            }
        }
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "first")
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["out.txt"])
        // A stale temporary of a dead process is removed by the next write to the same target.
        let stale = dir + "/.out.txt" + AtomicFile.temporaryMarker + "999999"
        FileManager.default.createFile(atPath: stale, contents: Data("junk".utf8))
        try AtomicFile.write("second", to: path)
        #expect(!FileManager.default.fileExists(atPath: stale))
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "second")
    }

    @Test func sigkillDuringAReportFolderLeavesOnlyCompleteFiles() throws {
        let dir = try CLI.temporaryDirectory()
        let input = dir + "/m.npy"
        var rng = SeededGenerator(seed: 1)
        try CLI.writeNpy((0..<2_000).map { _ in (0..<16).map { _ in Float(rng.nextGaussian()) } }, to: input)
        let out = dir + "/out"
        // Each write pauses between "temporary complete" and "rename", and a command's files are
        // renamed together once all are written: kill after 1, 2, 3 temporaries are complete —
        // no file carries its final name yet (all or nothing).
        for filesBeforeKill in 1...3 {
            try? FileManager.default.removeItem(atPath: out)
            let p = Process()
            p.executableURL = URL(fileURLWithPath: CLI.binary)
            p.arguments = ["neighbors", input, "--k", "20", "--quiet", "--output", out]
            p.environment = ProcessInfo.processInfo.environment.merging(["EMBDIAG_SLOW_WRITES_MS": "400"]) { $1 }
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            var names: [String] = []
            let deadline = Date().addingTimeInterval(60)
            // Wait until `filesBeforeKill` temporaries exist (the next one is being written).
            while Date() < deadline {
                names = (try? FileManager.default.contentsOfDirectory(atPath: out)) ?? []
                if names.filter({ $0.contains(AtomicFile.temporaryMarker) }).count > filesBeforeKill { break }
                usleep(20_000)
            }
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            names = (try? FileManager.default.contentsOfDirectory(atPath: out)) ?? []
            #expect(names.contains { $0.contains(AtomicFile.temporaryMarker) }, "the kill did not land inside a write: \(names)")
            #expect(names.allSatisfy { $0.contains(AtomicFile.temporaryMarker) }, "a file carries its final name before all were written: \(names)")
            for name in names where !name.contains(AtomicFile.temporaryMarker) {
                let text = try String(contentsOfFile: out + "/" + name, encoding: .utf8)
                if name == "neighbors.csv" { #expect(text.split(separator: "\n").count == 1 + 2_000 * 20, "partial \(name)") }
                if name.hasSuffix(".json") { #expect((try? JSONSerialization.jsonObject(with: Data(text.utf8))) != nil, "partial \(name)") }
                if name.hasSuffix(".txt") || name.hasSuffix(".html") || name.hasSuffix(".csv") { #expect(text.hasSuffix("\n"), "partial \(name)") }
            }
            // The next complete run cleans the killed run's temporaries.
            let r = try CLI.run(["neighbors", input, "--k", "20", "--quiet", "--output", out])
            #expect(r.status == 0)
            let after = try FileManager.default.contentsOfDirectory(atPath: out)
            #expect(!after.contains { $0.contains(AtomicFile.temporaryMarker) }, "\(after)")
            #expect(Set(after).isSuperset(of: ["report.json", "report.txt", "report.html", "neighbors.csv", "hubs.csv"]))
        }
    }
}
