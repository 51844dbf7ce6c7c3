import Foundation
import Testing
@testable import EmbeddingDiagnostics
import EmbeddingDiagnosticsTestSupport

/// Samples of a small synthetic "model": rows x = g·A + μ in
/// 16 dimensions, A a fixed random matrix whose rows are scaled from 3 down to 0.1 (anisotropic),
/// μ a fixed random mean; `constant` coordinates are set to `value` in every row (padding).
enum SyntheticModel {
    static func sample(rows n: Int, dimension d: Int = 16, seed: UInt64, constant: Range<Int> = 0..<0, value: Float = 0.5,
                       scale: Float = 1, name: String = "synthetic") -> Embeddings {
        var model = SeededGenerator(seed: 21)
        let a = model.gaussianMatrix(rows: d, cols: d)
        for i in 0..<d {
            let f = Float(3 * Foundation.pow(0.1 / 3, Double(i) / Double(Swift.max(1, d - 1))))
            for j in 0..<d { a[i, j] *= f }
        }
        let mu = (0..<d).map { _ in Float(model.nextGaussian()) }
        var g = SeededGenerator(seed: seed)
        let x = BLAS.matmul(g.gaussianMatrix(rows: n, cols: d), a)
        for i in 0..<n {
            for j in 0..<d { x[i, j] = (constant.contains(j) ? value : x[i, j] + mu[j]) * scale }
        }
        return Embeddings(matrix: x, name: name)
    }

    static func rows(_ e: Embeddings) -> [[Float]] { (0..<e.count).map { e.matrix.rowArray($0) } }
}

/// The command on those samples and files: exit codes and one-line errors.
@Suite(.serialized) struct FingerprintDegenerateCLITests {
    static func json(_ path: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
    }

    /// F7 (#26): the default number of directions fits the dimension, with a note; an explicit value out
    /// of range names --directions and the valid range.
    @Test func defaultDirectionsFitTheDimension() throws {
        let dir = try CLI.temporaryDirectory()
        try CLI.writeNpy(SyntheticModel.rows(SyntheticModel.sample(rows: 600, seed: 1)), to: dir + "/model_a.npy")
        let w = try CLI.run(["fingerprint", dir + "/model_a.npy", "--write", dir + "/a.fp", "--json", dir + "/w.json", "--quiet"])
        #expect(w.status == 0, "\(w.stderr)")
        let report = try Self.json(dir + "/w.json")
        #expect((report["metrics"] as! [String: Any])["principal_directions"] as? Int == 16)
        #expect((report["notes"] as! [String]).contains { $0.contains("--directions: 16") })
        FingerprintCLITests.oneLineError(try CLI.run(["fingerprint", dir + "/model_a.npy", "--write", dir + "/b.fp", "--directions", "32"]), "--directions")
        FingerprintCLITests.oneLineError(try CLI.run(["fingerprint", dir + "/model_a.npy", "--write", dir + "/b.fp", "--directions", "32"]), "1…16")
        #expect(!FileManager.default.fileExists(atPath: dir + "/b.fp"))
        // --directions describes a fingerprint being written, even at the default's value.
        FingerprintCLITests.oneLineError(try CLI.run(["fingerprint", "--check", dir + "/a.fp", dir + "/model_a.npy", "--directions", "32"]), "--write")
        let c = try CLI.run(["fingerprint", "--check", dir + "/a.fp", dir + "/model_a.npy", "--require", "same_model==yes", "--quiet"])
        #expect(c.status == 0, "\(c.stderr)")
    }
}
