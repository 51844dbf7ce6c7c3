import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// `--bandwidth-scales` and `--classifier-weight` change the p-values: the report's parameters
/// record them, with two corpora and with a saved `--reference` (hostile pass 3, F13: neither
/// was recorded).
extension ShiftCLITests {
    @Test func bandwidthScalesAndClassifierWeightAreRecorded() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var rng = SeededGenerator(seed: 1)
        for name in ["A", "B"] {
            let m = rng.gaussianMatrix(rows: 300, cols: 16)
            try CLI.writeNpy((0..<300).map { m.rowArray($0) }, to: "\(dir)/\(name).npy")
        }
        func parameters(_ args: [String]) throws -> [String: Any] {
            let r = try CLI.run(["shift"] + args + ["--permutations", "19", "--json", dir + "/r.json", "-q"])
            #expect(r.status == 0, "\(r.stderr)")
            let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/r.json"))) as? [String: Any])
            return try #require(json["parameters"] as? [String: Any])
        }
        let given = ["--bandwidth-scales", "0.5,1,2", "--classifier-weight", "0.3"]
        let p = try parameters(["\(dir)/A.npy", "\(dir)/B.npy"] + given)
        #expect(p["bandwidth_scales"] as? String == "0.5,1,2" && p["classifier_weight"] as? Double == 0.3, "\(p)")
        let defaults = try parameters(["\(dir)/A.npy", "\(dir)/B.npy"])
        #expect(defaults["bandwidth_scales"] as? String == "1" && defaults["classifier_weight"] as? Double == CombinedVerdict.defaultClassifierWeight, "\(defaults)")
        // A saved reference, tested against a batch of windows.
        let save = try CLI.run(["shift", "\(dir)/A.npy", "--save-reference", "\(dir)/ref.state", "--permutations", "19", "-q"])
        #expect(save.status == 0, "\(save.stderr)")
        let windows = try parameters(["--reference", "\(dir)/ref.state", "\(dir)/B.npy", "--chunk", "100"] + given)
        #expect(windows["bandwidth_scales"] as? String == "0.5,1,2" && windows["classifier_weight"] as? Double == 0.3, "\(windows)")
    }
}
