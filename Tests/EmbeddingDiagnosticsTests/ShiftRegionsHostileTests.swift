import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// Hostile inputs for shift's regions and map: bad --clusters values, degenerate data (constant
/// rows, d = 1), a compared corpus that is entirely new.
@Suite(.serialized) struct ShiftRegionsHostileTests {
    static func corpora(_ dir: String) throws -> (String, String) {
        var rng = SeededGenerator(seed: 5)
        let ref = (0..<60).map { _ in (0..<6).map { _ in Float(rng.nextUniform() * 2 - 1) } }
        let other = (0..<40).map { _ in (0..<6).map { _ in Float(rng.nextUniform() * 2 - 1) } }
        try CLI.writeNpy(ref, to: dir + "/ref.npy")
        try CLI.writeNpy(other, to: dir + "/other.npy")
        return (dir + "/ref.npy", dir + "/other.npy")
    }

    @Test(arguments: [("0", "--clusters"), ("1", "--clusters"), ("-3", "--clusters"), ("61", "exceeds the reference's 60 rows"), ("100000000000", "--clusters"), ("2.5", "--clusters"), ("x", "--clusters")])
    func badClusterCountsAreRefused(value: String, message: String) throws {
        let dir = try CLI.temporaryDirectory()
        let (ref, other) = try Self.corpora(dir)
        let r = try CLI.run(["shift", ref, other, "--clusters", value, "--permutations", "50", "--output", dir + "/out"])
        #expect(r.status == 2, "\(value): \(r.stderr)")
        #expect(r.stderr.contains(message), "\(value): \(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/out/report.json"))
    }

    @Test func clustersUpToTheReferenceRowsRun() throws {
        let dir = try CLI.temporaryDirectory()
        let (ref, other) = try Self.corpora(dir)
        let r = try CLI.run(["shift", ref, other, "--clusters", "60", "--permutations", "50", "--json", dir + "/s.json"])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/s.json"))) as! [String: Any]
        let metrics = json["metrics"] as! [String: Any]
        #expect((metrics["clusters"] as? Int ?? 0) >= 2 && (metrics["clusters"] as? Int ?? 99) <= 60)
    }

    /// Constant reference rows: one distinct row, so one cluster survives and the notes say so.
    @Test func constantReferenceKeepsOneClusterWithANote() throws {
        let unit = Matrix(rows: 30, cols: 4, values: [Float](repeating: 0.5, count: 120))
        let regions = try ReferenceRegions(referenceUnit: unit, labels: nil, clusters: 3, neighbors: 5, seed: 1)
        #expect(regions.count == 1 && regions.requestedCount == 3)
        #expect(regions.referenceCounts == [30])
        let r = regions.compare(unit.gather(rows: Array(0..<10)), labels: nil, insideReference: [Bool](repeating: false, count: 10), alpha: 0.05)
        #expect(r.clusters.count == 1 && r.clusters[0].test.pValue == 1)
    }

    @Test func oneDimensionalRowsGiveAMapOnOneAxis() throws {
        var rng = SeededGenerator(seed: 9)
        let ref = Embeddings(matrix: Matrix(rows: 40, cols: 1, values: (0..<40).map { _ in rng.nextUniform() < 0.5 ? -1 : 1 }), name: "ref")
        let other = Embeddings(matrix: Matrix(rows: 30, cols: 1, values: (0..<30).map { _ in 1 }), name: "other")
        var c = ShiftConfiguration()
        c.tests = [.mmd]
        c.permutations = 50
        c.keepCrossDuplicates = true  // ±1 rows: every other row equals a reference row
        let analysis = try ShiftAnalysis(reference: ref, others: [other], configuration: c)
        let map = try #require(analysis.comparisons[0].map)
        #expect(map.otherY.allSatisfy { $0 == 0 } && map.explainedVariance.count == 1)
        let r = try #require(analysis.comparisons[0].regions)
        #expect(r.clusters.count == 2)
        _ = SVGChart.render(try #require(analysis.report().charts.first { $0.kind == .map }))
    }

    /// Every OTHER row far from the reference: all new, the new-region test fires, the sentence says so.
    @Test func allOtherRowsNew() throws {
        var rng = SeededGenerator(seed: 4)
        let ref = Embeddings(matrix: Matrix(rows: 80, cols: 8, values: (0..<640).map { i in i % 8 == 0 ? 10 : Float(rng.nextUniform()) }), name: "ref")
        let other = Embeddings(matrix: Matrix(rows: 50, cols: 8, values: (0..<400).map { i in i % 8 == 7 ? -10 : Float(rng.nextUniform()) }), name: "other")
        var c = ShiftConfiguration()
        c.tests = [.mmd]
        c.permutations = 50
        let analysis = try ShiftAnalysis(reference: ref, others: [other], configuration: c)
        let r = try #require(analysis.comparisons[0].regions)
        #expect(r.newRows.count == 50 && r.newShare == 1 && r.newRegionFound)
        #expect(r.newRegions.reduce(0) { $0 + $1.rows.count } == 50)
        #expect(analysis.regionSentence(0).contains("new: 100.0 %"), "\(analysis.regionSentence(0))")
    }
}
