import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// The anchor count of a comparison on small inputs (hostile pass 3, F1): the default 300 on two
/// 300-row files refused with "300 anchors leave 0 of 300 paired rows to evaluate; use fewer
/// anchors", naming neither the option nor its range. The default is now capped to half the
/// paired rows with a warning; a count given that leaves fewer than 2 rows names --anchors and
/// its range.
extension RelrepCommandTests {
    static func gaussianPair(rows: Int, in dir: String) throws -> (a: String, b: String) {
        var rng = SeededGenerator(seed: 1)
        for name in ["A", "B"] {
            let m = rng.gaussianMatrix(rows: rows, cols: 16)
            try CLI.writeNpy((0..<rows).map { m.rowArray($0) }, to: "\(dir)/\(name).npy")
        }
        return ("\(dir)/A.npy", "\(dir)/B.npy")
    }

    @Test func defaultAnchorsWorkOnSmallInputs() throws {
        var rng = SeededGenerator(seed: 1)
        let x = Embeddings(matrix: rng.gaussianMatrix(rows: 300, cols: 16), name: "A.npy")
        let y = Embeddings(matrix: rng.gaussianMatrix(rows: 300, cols: 16), name: "B.npy")
        let r = try RelativeComparison(reference: x, other: y, configuration: RelativeRepresentationsConfiguration())
        #expect(r.anchorRows.count == 150 && r.evaluationRows.count == 150)
        // The library names the setting as `Setting.anchors` (the CLI installs "--anchors").
        let option = "\(Setting.anchors)"
        let warning = "Warning: \(option) 300 capped to 150: the default leaves at least half of the 300 paired rows to evaluate (anchors are not evaluated); give \(option) N, at most 298, to choose"
        #expect(r.report().notes.contains(warning), "\(r.report().notes)")
        // Rows enough for the default: no cap, no warning.
        let big = try RelativeComparison(reference: Embeddings(matrix: rng.gaussianMatrix(rows: 700, cols: 16), name: "C.npy"),
                                         other: Embeddings(matrix: rng.gaussianMatrix(rows: 700, cols: 16), name: "D.npy"),
                                         configuration: RelativeRepresentationsConfiguration())
        #expect(big.anchorRows.count == 300 && !big.report().notes.contains { $0.contains("capped") })
        // A count given is used as given, up to n − 2; beyond, refused naming the option and its range.
        var c = RelativeRepresentationsConfiguration()
        c.anchorCount = 298
        #expect(try RelativeComparison(reference: x, other: y, configuration: c).evaluationRows.count == 2)
        for asked in [299, 300, 5000] {
            c.anchorCount = asked
            #expect(throws: EmbdiagError.usage("\(option) \(asked) leaves \(max(0, 300 - asked)) of the 300 paired rows to evaluate (anchors are not evaluated, and at least 2 rows must be): give \(option) in 0…298")) {
                try RelativeComparison(reference: x, other: y, configuration: c)
            }
        }
    }

    /// The finding's command lines.
    @Test func cliAnchorsOnTwo300RowFiles() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (a, b) = try Self.gaussianPair(rows: 300, in: dir)
        let r = try CLI.run(["relrep", a, "--compare", b, "--json", dir + "/r.json", "-q"])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/r.json"))) as? [String: Any])
        #expect((json["metrics"] as? [String: Any])?["anchor_count"] as? Int == 150)
        #expect((json["notes"] as? [String])?.contains { $0.hasPrefix("Warning: --anchors 300 capped to 150") } == true, "\(json["notes"] ?? "")")
        let refused = try CLI.run(["relrep", a, "--compare", b, "--anchors", "300"])
        #expect(refused.status == 2)
        #expect(refused.stderr == "embdiag: error: --anchors 300 leaves 0 of the 300 paired rows to evaluate (anchors are not evaluated, and at least 2 rows must be): give --anchors in 0…298\n", "\(refused.stderr)")
    }
}
