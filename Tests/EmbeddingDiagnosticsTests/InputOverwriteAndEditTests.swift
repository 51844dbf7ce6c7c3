import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// Cases of an independent hostile pass on the binary: an output that names one of the command's
/// own inputs, a row offset that overflows, a mapping whose bias was edited, SEAT robustness on
/// vectors that do not vary. Each failed on the code before its fix (exit 0 or a trap).
@Suite struct InputOverwriteAndEditTests {
    static func gaussian(_ path: String, rows: Int = 60, cols: Int = 8, seed: UInt64) throws {
        var rng = SeededGenerator(seed: seed)
        let m = rng.gaussianMatrix(rows: rows, cols: cols)
        try CLI.writeNpy((0..<rows).map { m.rowArray($0) }, to: path)
    }

    @Test func anOutputThatIsAnInputIsRefusedBeforeAnythingIsWritten() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let v = dir + "/v.npy", b = dir + "/b.npy"
        try Self.gaussian(v, seed: 1)
        try Self.gaussian(b, seed: 2)
        try FileManager.default.createSymbolicLink(atPath: dir + "/vlink.npy", withDestinationPath: v)
        let before = try Data(contentsOf: URL(fileURLWithPath: v))
        let cases: [[String]] = [
            ["shift", v, b, "--json", v, "--permutations", "9"],
            ["info", v, "--html", v],
            ["info", dir + "/vlink.npy", "--json", v],
            ["anisotropy", v, "--transform", "center", "--write", v],
            ["compat", "--old", b, "--new", v, "--fit", "procrustes", "--save-mapping", v],
            ["info", v, "--partial", v, "--row-offset", "0"],
        ]
        for args in cases {
            let r = try CLI.run(args + ["--quiet"])
            #expect(r.status == 2 && r.stderr.contains("also an input"), "\(args): exit \(r.status) \(r.stderr)")
            #expect(try Data(contentsOf: URL(fileURLWithPath: v)) == before, "\(args) changed the input")
        }
        // --output DIR when DIR/report.json is an input.
        try FileManager.default.createDirectory(atPath: dir + "/od", withIntermediateDirectories: false)
        #expect(try CLI.run(["info", v, "--json", dir + "/od/report.json", "--quiet"]).status == 0)
        let r = try CLI.run(["merge", dir + "/od/report.json", "--output", dir + "/od", "--quiet"])
        #expect(r.status == 2 && r.stderr.contains("also an input"), "\(r.stderr)")
        // An output of the same name as an earlier report (not an input) is still fine.
        #expect(try CLI.run(["info", v, "--json", dir + "/od/report.json", "--quiet"]).status == 0)
    }

    @Test func theAuditsOwnFilesDoNotFollowALinkOutOfTheFolder() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.gaussian(dir + "/v.npy", seed: 6)
        try "title: t\nchecks:\n  - name: c\n    command: info\n    inputs: [\(dir)/v.npy]\n".write(toFile: dir + "/a.yaml", atomically: true, encoding: .utf8)
        for name in ["index.html", "audit.json"] {
            let out = dir + "/out-" + name, victim = dir + "/victim-" + name
            try "SAFE".write(toFile: victim, atomically: true, encoding: .utf8)
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: false)
            try FileManager.default.createSymbolicLink(atPath: out + "/" + name, withDestinationPath: victim)
            let r = try CLI.run(["audit", dir + "/a.yaml", "--output", out, "--quiet"])
            #expect(r.status == 2, "\(name): exit \(r.status) \(r.stderr)")
            #expect(try String(contentsOfFile: victim, encoding: .utf8) == "SAFE", "\(name): the file outside the folder was overwritten")
        }
    }

    @Test func aRowOffsetThatWouldOverflowIsARangeError() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.gaussian(dir + "/s.npy", seed: 3)
        for command in [["info"], ["anisotropy"]] {
            let r = try CLI.run(command + [dir + "/s.npy", "--partial", dir + "/x.state", "--row-offset", "9223372036854775807", "--quiet"])
            #expect(r.status == 2 && r.stderr.contains("--row-offset") && r.stderr.contains("2^48"), "\(command): exit \(r.status) \(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dir + "/x.state"))
        }
    }

    @Test func aMappingWhoseBiasWasEditedIsRefused() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try Self.gaussian(dir + "/old.npy", rows: 80, seed: 4)
        try Self.gaussian(dir + "/new.npy", rows: 80, seed: 5)
        let fit = try CLI.run(["compat", "--old", dir + "/old.npy", "--new", dir + "/new.npy", "--fit", "linear", "--save-mapping", dir + "/m.npy", "--quiet"])
        #expect(fit.status == 0, "\(fit.stderr)")
        #expect(try CLI.run(["map", "--mapping", dir + "/m.npy", dir + "/new.npy", dir + "/ok.npy", "--quiet"]).status == 0)
        let metaURL = URL(fileURLWithPath: dir + "/m.json")
        var meta = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: metaURL)) as? [String: Any])
        let bias = try #require(meta["bias"] as? [Double])
        meta["bias"] = bias.map { _ in 1e30 }
        try JSONSerialization.data(withJSONObject: meta).write(to: metaURL)
        let r = try CLI.run(["map", "--mapping", dir + "/m.npy", dir + "/new.npy", dir + "/x.npy", "--quiet"])
        #expect(r.status == 2 && r.stderr.contains("bias"), "exit \(r.status) \(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/x.npy"))
    }

    @Test func seatOnVectorsThatDoNotVaryIsNotJudgedRobust() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let table = dir + "/seat.tsv"
        let made = try CLI.run(["bias", "sentences", "--weat", "1", "--output", table, "--quiet"])
        #expect(made.status == 0, "\(made.stderr)")
        let rows = try String(contentsOfFile: table, encoding: .utf8).split(separator: "\n").count - 1
        try CLI.writeNpy([[Float]](repeating: [Float](repeating: 1, count: 8), count: rows), to: dir + "/v.npy")
        let r = try CLI.run(["bias", "--seat", table, dir + "/v.npy", "--json", dir + "/r.json", "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/r.json"))) as? [String: Any])
        let metrics = try #require(json["metrics"] as? [String: Any])
        #expect(metrics["seat_template_robust"] is NSNull || metrics["seat_template_robust"] == nil, "\(String(describing: metrics["seat_template_robust"]))")
        let gate = try CLI.run(["bias", "--seat", table, dir + "/v.npy", "--require", "seat_template_robust==yes", "--quiet"])
        #expect(gate.status != 0, "a gate on robustness passed on constant vectors")
    }
}
