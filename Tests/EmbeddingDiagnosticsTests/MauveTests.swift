import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// MAUVE against the reference package mauve-text 0.4.0 (fixture written by
/// scripts/crosscheck/mauve_reference.py; versions recorded in it).
@Suite struct MauveTests {
    static func fixture() throws -> [String: Any] {
        let url = CLI.repositoryRoot.appendingPathComponent("Tests/Fixtures/crosscheck/mauve_reference.json")
        return try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    }

    static func rows(_ description: String) throws -> Embeddings {
        // "games.npy rows 0..199" or "debian-minilm-l6.npy science rows 0..299"
        let parts = description.split(separator: " ").map(String.init)
        let range = parts.last!.components(separatedBy: "..").map { Int($0)! }
        if parts.count == 3 {
            let e = try EmbeddingReader.read(CLI.repositoryRoot.appendingPathComponent("data/sentences/by-section/\(parts[0])").path)
            return e.selecting(rows: Array(range[0]...range[1]))
        }
        let e = try EmbeddingReader.read(CLI.repositoryRoot.appendingPathComponent("data/sentences/\(parts[0])").path)
        let sections = try String(contentsOf: CLI.repositoryRoot.appendingPathComponent("data/sentences/debian-sections.txt"), encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: false).prefix(e.count).map(String.init)
        let section = sections.indices.filter { sections[$0] == parts[1] }
        return e.selecting(rows: Array(section[range[0]...range[1]]))
    }

    /// On the package's own cluster assignment (same histograms), every number equals the package's:
    /// MAUVE, MAUVE*, the frontier integrals and the 27 points of the divergence curve.
    @Test(arguments: ["shift", "within_games", "science_sound"])
    func divergenceCurvePartMatchesThePackage(name: String) throws {
        let c = try #require((try Self.fixture()["cases"] as? [String: Any])?[name] as? [String: Any])
        let k = c["num_buckets"] as! Int, n = c["n"] as! Int
        let labels = c["labels_q_then_p"] as! [Int]
        var p = [Double](repeating: 0, count: k), q = [Double](repeating: 0, count: k)
        for (i, l) in labels.enumerated() { if i < n { q[l] += 1 } else { p[l] += 1 } }
        let r = mauve(referenceCounts: p, otherCounts: q)
        func close(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-12 * max(1, abs(b)) }
        #expect(zip(r.referenceHistogram, c["p_hist"] as! [Double]).allSatisfy(close))
        #expect(zip(r.otherHistogram, c["q_hist"] as! [Double]).allSatisfy(close))
        #expect(close(r.mauve, c["mauve"] as! Double), "\(r.mauve) vs \(c["mauve"]!)")
        #expect(close(r.mauveStar, c["mauve_star"] as! Double))
        #expect(close(r.frontierIntegral, c["frontier_integral"] as! Double))
        #expect(close(r.frontierIntegralStar, c["frontier_integral_star"] as! Double))
        let curve = c["divergence_curve"] as! [[Double]]
        #expect(curve.count == r.curveX.count)
        for (j, point) in curve.enumerated() { #expect(close(r.curveX[j], point[0]) && close(r.curveY[j], point[1])) }
    }

    /// The whole pipeline (PCA to 90 % variance, embdiag's seeded k-means, histograms, curve): the
    /// same number of PCA components and buckets as the package, and MAUVE within the package's
    /// own seed-to-seed spread (its MAUVE at seeds 25…34 moves by k-means randomness alone).
    @Test(arguments: ["shift", "within_games", "science_sound"])
    func wholePipelineWithinThePackagesSeedSpread(name: String) throws {
        let c = try #require((try Self.fixture()["cases"] as? [String: Any])?[name] as? [String: Any])
        let ref = try Self.rows(c["reference"] as! String), other = try Self.rows(c["other"] as! String)
        #expect(ref.count == c["m"] as! Int && other.count == c["n"] as! Int)
        let r = try mauve(reference: ref.matrix, other: other.matrix)
        #expect(r.components == c["pca_components"] as! Int)
        #expect(r.buckets == c["num_buckets"] as! Int)
        let seeds = (c["mauve_by_seed"] as! [String: Double]).values
        let lo = seeds.min()!, hi = seeds.max()!, spread = hi - lo
        #expect(r.mauve >= lo - spread && r.mauve <= hi + spread, "embdiag \(r.mauve), package seeds \(lo)…\(hi)")
        // Lloyd with 5 restarts reaches an objective comparable to faiss's (within 5 %).
        let faiss = c["kmeans_objective"] as! Double
        #expect(r.kMeansObjective <= faiss * 1.05, "objective \(r.kMeansObjective) vs faiss \(faiss)")
    }

    @Test func kMeansIsSeededAndHandlesDuplicates() {
        // 30 rows on 3 exact points, k = 5: two clusters must split a point (empty-cluster rule), no crash, same result twice.
        let x = Matrix((0..<30).map { i in [Float(i % 3), Float(0)] })
        let a = kMeansClusters(x, k: 5, seed: 1), b = kMeansClusters(x, k: 5, seed: 1)
        #expect(a.labels == b.labels && a.objective == b.objective)
        #expect(a.objective < 1e-4)  // Float32 distances ‖x‖² − 2x·c + ‖c‖²: exactly 0 in exact arithmetic
        // Identical corpora: MAUVE 1.
        let same = mauve(referenceCounts: [3, 5, 2], otherCounts: [3, 5, 2])
        #expect(abs(same.mauve - 1) < 1e-6 && same.frontierIntegral == 0)
    }
}
