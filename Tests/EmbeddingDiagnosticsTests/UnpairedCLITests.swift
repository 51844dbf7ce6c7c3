import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// `embdiag compat --fit unpaired` end to end: a found map saved and applied by `embdiag map`,
/// the unjudged report, and the one-line refusals (exit 2).
@Suite(.serialized) struct UnpairedCLITests {
    /// Writes OLD, NEW and their id files for `UnpairedAlignmentTests.pair`.
    static func files(shared: Int, side: Int, old oldDimension: Int? = nil) throws -> String {
        let dir = try CLI.temporaryDirectory()
        let p = UnpairedAlignmentTests.pair(shared: shared, side: side)
        func rows(_ m: Matrix, cols: Int? = nil) -> [[Float]] { (0..<m.rows).map { Array(m.rowArray($0).prefix(cols ?? m.cols)) } }
        try CLI.writeNpy(rows(p.old.matrix, cols: oldDimension), to: dir + "/old.npy")
        try CLI.writeNpy(rows(p.new.matrix), to: dir + "/new.npy")
        try (p.oldIds.joined(separator: "\n") + "\n").write(toFile: dir + "/old-ids.txt", atomically: true, encoding: .utf8)
        try (p.newIds.joined(separator: "\n") + "\n").write(toFile: dir + "/new-ids.txt", atomically: true, encoding: .utf8)
        return dir
    }

    static func compat(_ dir: String, _ extra: [String]) throws -> (CLI.Result, [String: Any]) {
        let r = try CLI.run(["compat", "--old", dir + "/old.npy", "--new", dir + "/new.npy", "--fit", "unpaired", "--retrieval-only",
                             "--quiet", "--json", dir + "/r.json"] + extra)
        let json = (try? JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/r.json")))) as? [String: Any] ?? [:]
        return (r, json)
    }

    static func metric(_ json: [String: Any], _ key: String) -> Any? { (json["metrics"] as? [String: Any])?[key] }

    /// The found map is saved in the usual format and `embdiag map` applies exactly that map; the
    /// mapped shared rows land on their OLD partners.
    @Test func savedMapRoundTripsThroughMap() throws {
        let dir = try Self.files(shared: 200, side: 1_000)
        let (r, json) = try Self.compat(dir, ["--pair-by", "label", "--old-ids", dir + "/old-ids.txt", "--new-ids", dir + "/new-ids.txt",
                                              "--save-mapping", dir + "/m.npy"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(Self.metric(json, "map_found") as? Bool == true)
        #expect(Self.metric(json, "shared_rows") as? Int == 200)
        let meta = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/m.json"))) as? [String: Any])
        #expect(meta["fit"] as? String == "unpaired" && meta["unpaired_rows_old"] as? Int == 1_000)
        let applied = try CLI.run(["map", "--mapping", dir + "/m.npy", dir + "/new.npy", dir + "/out.npy", "--quiet"])
        #expect(applied.status == 0, "\(applied.stderr)")
        let map = try MappingFile.read(dir + "/m.npy")
        let new = try EmbeddingReader.read(dir + "/new.npy"), out = try EmbeddingReader.read(dir + "/out.npy")
        let expected = try map.apply(new.matrix)
        #expect((0..<out.matrix.count).allSatisfy { out.matrix.pointer[$0] == expected.pointer[$0] })
        // The shared rows are the last 200 of both files.
        let old = try EmbeddingReader.read(dir + "/old.npy")
        let cosines = (1_000..<1_200).map { i -> Double in
            let a = out.matrix.rowArray(i), b = old.matrix.rowArray(i)
            let dot = zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            return dot / (a.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot() * b.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot())
        }
        let mean = cosines.reduce(0, +) / Double(cosines.count)
        #expect(mean > 0.98 && cosines.min()! > 0.9, "mean \(mean), smallest \(cosines.min()!) cosine of a mapped shared row with its OLD row")
    }

    /// Different texts and no ids: a map is written, nothing says it works.
    @Test func withoutIdsTheReportCannotJudge() throws {
        let dir = try Self.files(shared: 0, side: 300)
        let (r, json) = try Self.compat(dir, ["--save-mapping", dir + "/m.npy"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(Self.metric(json, "compatible_mapped") is NSNull)
        #expect(Self.metric(json, "map_found") is NSNull)
        let verdict = (json["verdict"] as? [String: Any])?["answer"] as? String ?? ""
        #expect(verdict.hasPrefix("Cannot be judged"), "\(verdict)")
        #expect(FileManager.default.fileExists(atPath: dir + "/m.npy"))
    }

    /// One line on stderr and exit 2 for what the fit cannot honour.
    @Test func refusalsAreOneLineExitTwo() throws {
        let dir = try Self.files(shared: 50, side: 300)
        let ids = ["--pair-by", "label", "--old-ids", dir + "/old-ids.txt", "--new-ids", dir + "/new-ids.txt"]
        let few = try Self.files(shared: 0, side: 150)
        let narrow = try Self.files(shared: 0, side: 300, old: 16)
        let cases: [(String, [String], String, String)] = [
            ("train fraction", ids + ["--train-fraction", "0.3"], dir, "--train-fraction"),
            ("train rows", ids + ["--train-rows", dir + "/old-ids.txt"], dir, "--train-rows"),
            ("fit curve", ids + ["--fit-curve", "50"], dir, "--fit-curve"),
            ("labels", ["--labels", dir + "/old-ids.txt"], dir, "--labels"),
            ("too few rows", [], few, "at least 200 rows"),
            ("dimensions differ", [], narrow, "equal dimensions"),
            ("memory budget", ["--memory-budget", "64KiB"], dir, "--fit unpaired needs ≈"),
        ]
        for (name, extra, folder, needle) in cases {
            let (r, _) = try Self.compat(folder, extra)
            let lines = r.stderr.split(separator: "\n")
            #expect(r.status == 2 && lines.count == 1 && r.stderr.contains(needle), "\(name): exit \(r.status), \(r.stderr)")
        }
        let compressed = try CLI.run(["compat", "--old", dir + "/old.npy", "--new", "int8", "--fit", "unpaired", "--quiet"])
        #expect(compressed.status == 2 && compressed.stderr.contains("compressed"), "\(compressed.stderr)")
    }
}
