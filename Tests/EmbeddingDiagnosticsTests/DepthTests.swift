import Foundation
import Testing
@testable import EmbeddingDiagnostics
import EmbeddingDiagnosticsTestSupport

/// Depths and the depth rank-sum test against the original authors' package (tte-depth 1.0.0, run
/// by scripts/crosscheck/depth_reference.py on the bundled sentence embeddings: games 500 rows as
/// reference, fonts 350 rows as other), hand cases, and calibration.
@Suite struct DepthTests {
    static func load(_ name: String) throws -> Embeddings {
        try EmbeddingReader.read(CLI.repositoryRoot.appendingPathComponent("data/sentences/by-section/\(name)").path)
    }

    @Test(arguments: [DepthDistance.cosine, .chord])
    func matchesTheReferencePackage(distance: DepthDistance) throws {
        let ref = try #require(RankTestsTests.reference[distance.rawValue] as? [String: Any])
        let games = try Self.load("games.npy"), fonts = try Self.load("fonts.npy")
        var config = DepthConfiguration()
        config.distance = distance
        let a = try DepthAnalysis(reference: games, others: [fonts], configuration: config)
        let expectedF = ref["depths_reference"] as! [Double], expectedG = ref["depths_other"] as! [Double]
        #expect(a.corpora[0].depths.count == 500 && a.corpora[1].depths.count == 350)
        let maxF = zip(a.corpora[0].depths, expectedF).map { abs($0 - $1) }.max()!
        let maxG = zip(a.corpora[1].depths, expectedG).map { abs($0 - $1) }.max()!
        #expect(maxF < 1e-6, "reference depths differ by \(maxF)")
        #expect(maxG < 1e-6, "other depths differ by \(maxG)")
        let t = a.tests[0]
        // tte-depth 1.0.0: cosine W 22.78103788322866, p 3.5348e-115, q_pooled 0.22965042016806722.
        #expect(abs(t.rankSum.statistic - (ref["w"] as! Double)) < 1e-6)
        #expect(abs(t.rankSum.pValue / (ref["p_value"] as! Double) - 1) < 1e-4)
        #expect(abs(t.qPooled - (ref["q_pooled"] as! Double)) < 1e-9)
        #expect(t.rankSum.pValue < 1e-6, "games vs fonts is a clear shift")
    }

    @Test func handCaseFromTheReferenceNotes() throws {
        // F = {e1, e2, e3}, G = {e1}: D_F = [1, 1, 1], D_G = [4/3]; package Q 0.75, Liu–Singh Q 1,
        // W = −1.3416407865, p(greater) = 0.9101437526 (References.md §2.2, package output).
        let f = Embeddings(matrix: Matrix([[1, 0, 0], [0, 1, 0], [0, 0, 1]]))
        let g = Embeddings(matrix: Matrix([[1, 0, 0]]))
        let copies = Embeddings(matrix: Matrix([[1, 0, 0], [1, 0, 0]]))
        // The package measures G against all of F: 4/3.
        let package = try DepthReference(f.matrix, kind: .tte).depths(of: copies.matrix)
        #expect(package.allSatisfy { abs($0 - 4.0 / 3) < 1e-7 }, "\(package)")
        let a = try DepthAnalysis(reference: f, others: [copies])
        #expect(a.corpora[0].depths.allSatisfy { abs($0 - 1) < 1e-12 })
        // embdiag leaves the reference row a copy duplicates out, as it leaves each reference row
        // out of its own depth: e1's copies get e1's depth, 1 (Guides/Depth.md, "Independence and
        // shared rows"; a documented difference from the package).
        #expect(a.corpora[1].depths == [a.corpora[0].depths[0], a.corpora[0].depths[0]], "\(a.corpora[1].depths)")
        let t = DepthRankTest.depthRankTest(referenceDepths: [1, 1, 1], otherDepths: [4.0 / 3], alternative: .greater)
        #expect(abs(t.qPooled - 0.75) < 1e-12)
        #expect(t.q == 1)
        #expect(abs(t.rankSum.statistic - -1.3416407865) < 1e-9)
        #expect(abs(t.rankSum.pValue - 0.9101437526) < 1e-9)
        _ = g
    }

    @Test func equalSizedCorporaUseTheRightAxis() throws {
        // tte-depth averages the wrong axis when both corpora have the same size; embdiag's depths
        // of the first 200 fonts rows must not depend on whether a 201st row is present.
        let games = try Self.load("games.npy").selecting(rows: Array(0..<200))
        let fonts = try Self.load("fonts.npy")
        let d200 = try DepthAnalysis(reference: games, others: [fonts.selecting(rows: Array(0..<200))]).corpora[1].depths
        let d201 = try DepthAnalysis(reference: games, others: [fonts.selecting(rows: Array(0..<201))]).corpora[1].depths
        // Depths are means of Float32 GEMM distances; a 201st row changes the GEMM's blocking and so
        // its summation order: equal up to Float32 round-off (~d·2⁻²⁴ relative), not to the last bit.
        for i in 0..<200 { #expect(abs(d200[i] - d201[i]) <= 1e-6 * max(1, abs(d200[i])), "row \(i): \(d200[i]) vs \(d201[i])") }
        let bug = try #require(RankTestsTests.reference["equal_size_bug"] as? [String: Double])
        #expect(bug["max_abs_package_minus_definition_200v200"]! > 0.1, "the package's bug, recorded by the cross-check")
    }

    @Test func liuSinghQAndThePackagesPooledQ() {
        // Exact relation without ties: Q_pooled = (m/N)·Q_LS + (n−1)/(2N).
        var rng = SeededGenerator(seed: 3)
        let x = (0..<40).map { _ in rng.nextGaussian() }, y = (0..<25).map { _ in rng.nextGaussian() + 0.3 }
        let m = 40.0, n = 25.0, total = 65.0
        #expect(abs(DepthRankTest.pooledRankQ(reference: x, other: y) - ((m / total) * DepthRankTest.liuSinghQ(reference: x, other: y) + (n - 1) / (2 * total))) < 1e-12)
        // Ties count ½; identical samples give exactly ½.
        #expect(DepthRankTest.liuSinghQ(reference: [1, 2, 3], other: [2]) == 0.5)
        #expect(DepthRankTest.liuSinghQ(reference: [1, 2, 3, 4], other: [1, 2, 3, 4]) == 0.5)
        #expect(DepthRankTest.liuSinghQ(reference: [5, 6], other: [1, 2]) == 0)
    }

    @Test func nullPValuesAreUniform() throws {
        // 1,000 random splits of one real corpus (all 1,800 sentence embeddings): under H₀ the
        // fraction of p < 0.05 lies in [0.03, 0.07] and the p-values pass a χ² uniformity test.
        let all = try EmbeddingReader.read(CLI.repositoryRoot.appendingPathComponent("data/sentences/debian-minilm-l6.npy").path)
        var rng = SeededGenerator(seed: 2024)
        var p: [Double] = []
        for _ in 0..<1000 {
            var rows = Array(0..<all.count)
            rows.shuffle(using: &rng)
            let f = all.selecting(rows: Array(rows[0..<120])), g = all.selecting(rows: Array(rows[120..<220]))
            var c = DepthConfiguration()
            c.permutations = 0  // the normal approximation itself (DepthCalibrationTests: the permutation p-value)
            p.append(try DepthAnalysis(reference: f, others: [g], configuration: c).tests[0].rankSum.pValue)
        }
        let rejected = Calibration.rejectionRate(p, alpha: 0.05)
        #expect(rejected >= 0.03 && rejected <= 0.07, "fraction p < 0.05 = \(rejected)")
        let uniformity = Calibration.uniformity(p)
        #expect(uniformity.pValue > 0.001, "p-values not uniform: bins \(uniformity.counts)")
    }

    @Test func spatialAndMahalanobisDepthsOrderAnObviousOutlier() throws {
        // 200 points around one direction and one opposite point: every depth ranks it last.
        var rng = SeededGenerator(seed: 5)
        var rows: [[Float]] = (0..<200).map { _ in [5] + (0..<7).map { _ in Float(rng.nextGaussian()) } }
        rows.append([-5, 0, 0, 0, 0, 0, 0, 0])
        let e = Embeddings(matrix: Matrix(rows))
        for kind in DepthKind.allCases {
            var c = DepthConfiguration()
            c.kind = kind
            c.mahalanobisComponents = 8  // the outlier differs along the lowest-variance direction
            let d = try DepthAnalysis(reference: e, others: [], configuration: c).corpora[0]
            #expect(d.ranks[200] == 201, "\(kind): outlier rank \(d.ranks[200])")
            if kind == .spatial { #expect(d.depths.allSatisfy { $0 >= -1e-9 && $0 <= 1 + 1e-9 }) }
        }
    }

    @Test func spatialDepthMatchesItsDefinitionOnATinyCase() throws {
        // D(x) = 1 − ‖mean_j (x − f_j)/‖x − f_j‖‖ over j ≠ self, by hand in Float64.
        var rng = SeededGenerator(seed: 8)
        let m = Matrix.normalizedRows(rng.gaussianMatrix(rows: 12, cols: 4))
        var c = DepthConfiguration()
        c.kind = .spatial
        let depths = try DepthAnalysis(reference: Embeddings(matrix: m), others: [], configuration: c).corpora[0].depths
        for i in 0..<12 {
            var v = [Double](repeating: 0, count: 4)
            for j in 0..<12 where j != i {
                let diff = (0..<4).map { Double(m[i, $0]) - Double(m[j, $0]) }
                let norm = diff.reduce(0) { $0 + $1 * $1 }.squareRoot()
                for t in 0..<4 { v[t] += diff[t] / norm / 11 }
            }
            #expect(abs(depths[i] - (1 - v.reduce(0) { $0 + $1 * $1 }.squareRoot())) < 1e-5)
        }
    }

    @Test func referenceSampleAndCentralSelectionAreSeededAndPerLabel() throws {
        let games = try Self.load("games.npy"), fonts = try Self.load("fonts.npy")
        var c = DepthConfiguration()
        c.referenceSample = 100
        let a = try DepthAnalysis(reference: games, others: [fonts], configuration: c)
        let b = try DepthAnalysis(reference: games, others: [fonts], configuration: c)
        #expect(a.referenceSampleRows == b.referenceSampleRows && a.referenceSampleRows?.count == 100)
        #expect(a.corpora[1].depths == b.corpora[1].depths)
        #expect(a.tests[0].rankSum.pValue < 1e-6)
        var labelled = games
        labelled.labels = (0..<games.count).map { $0 % 2 == 0 ? "even" : "odd" }
        let full = try DepthAnalysis(reference: labelled, others: [])
        let picked = full.centralRows(3, byLabel: true)
        #expect(picked.count == 6)
        #expect(picked.filter { $0 % 2 == 0 }.count == 3)
        #expect(full.centralRows(4, byLabel: false) == Array(full.reference.rowsByDepth.prefix(4)))
    }

    @Test func errorsNameTheFile() throws {
        let one = Embeddings(matrix: Matrix([[1, 0]]), name: "one.npy")
        let two = Embeddings(matrix: Matrix([[1, 0], [0, 1]]), name: "two.npy")
        let three = Embeddings(matrix: Matrix([[1, 0, 0], [0, 1, 0]]), name: "three.npy")
        #expect(throws: EmbdiagError.invalid("one.npy", "depth needs at least 2 rows (has 1)")) { try DepthAnalysis(reference: one, others: []) }
        #expect(throws: EmbdiagError.self) { try DepthAnalysis(reference: two, others: [three]) }
    }
}
