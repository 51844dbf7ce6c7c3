import Foundation
import Testing
@testable import EmbeddingDiagnostics
import EmbeddingDiagnosticsTestSupport

/// The block MMD test (`--mmd block`): every block's MMD²_u against a brute-force Float64
/// computation on the same blocks, its level under H₀ over seeded splits of one real corpus, its
/// power on a real shift, and the shift command's handling of the option.
@Suite struct BlockMMDTests {
    static func sentences() throws -> Matrix {
        let e = try EmbeddingReader.read(CLI.repositoryRoot.appendingPathComponent("data/sentences/debian-minilm-l6.npy").path)
        return e.matrix
    }

    @Test func statisticMatchesBruteForceBlocks() throws {
        var rng = SeededGenerator(seed: 5)
        let m = 130, n = 97, d = 7, sigma = 0.8
        // Rows of any length: the test scales them to unit length itself.
        let x = rng.gaussianMatrix(rows: m, cols: d), y = rng.gaussianMatrix(rows: n, cols: d)
        for i in 0..<n { y[i, 0] += 3 }
        let t = try blockMMDTest(first: x, second: y, bandwidth: sigma, blockRows: 4, seed: 9)
        #expect(t.blocks == 24)
        let (xo, yo) = blockMMDOrders(firstCount: m, secondCount: n, seed: 9)
        func unit(_ a: Matrix, _ i: Int) -> [Double] {
            let v = (0..<d).map { Double(a[i, $0]) }
            let s = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return v.map { $0 / s }
        }
        func k(_ a: [Double], _ b: [Double]) -> Double {
            exp(-zip(a, b).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } / (2 * sigma * sigma))
        }
        var estimates: [Double] = []
        for l in 0..<t.blocks {
            let xs = blockMMDRange(m, block: l, of: t.blocks).map { unit(x, xo[$0]) }
            let ys = blockMMDRange(n, block: l, of: t.blocks).map { unit(y, yo[$0]) }
            var xx = 0.0, yy = 0.0, xy = 0.0
            for i in xs.indices { for j in xs.indices where i != j { xx += k(xs[i], xs[j]) } }
            for i in ys.indices { for j in ys.indices where i != j { yy += k(ys[i], ys[j]) } }
            for a in xs { for b in ys { xy += k(a, b) } }
            let a = Double(xs.count), b = Double(ys.count)
            estimates.append(xx / (a * (a - 1)) + yy / (b * (b - 1)) - 2 * xy / (a * b))
        }
        let mean = estimates.reduce(0, +) / Double(estimates.count)
        let sd = (estimates.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(estimates.count - 1)).squareRoot()
        let se = sd / Double(estimates.count).squareRoot()
        // Float32 GEMM cosines and kernel values against Float64: 2e-6 absolute on O(1) kernel sums.
        #expect(abs(t.statistic - mean) < 2e-6, "\(t.statistic) vs \(mean)")
        #expect(abs(t.standardError / se - 1) < 1e-3, "\(t.standardError) vs \(se)")
        let p = Distributions.studentTSurvival(mean / se, degreesOfFreedom: Double(estimates.count - 1))
        #expect(abs(t.pValue - p) < 1e-4 * max(p, 1e-3), "\(t.pValue) vs \(p)")
        #expect(t.pValue < 0.01, "a shift of 3 in one of 7 coordinates is found with 24 blocks of about 5 + 4 rows")
        // Seeded: the same seed gives the same result, bit for bit.
        #expect(try blockMMDTest(first: x, second: y, bandwidth: sigma, blockRows: 4, seed: 9) == t)
    }

    /// Under H₀ (both corpora random disjoint draws of 400 rows from the 1,800 bundled sentence
    /// embeddings), over 300 seeded splits at the smallest block count the test accepts (20 blocks
    /// of 20 + 20 rows): the test rejects at α = 0.05 in at most 7 % of the splits (2 %: conservative
    /// at 20 blocks) and its p-values pass a χ² test of uniformity.
    @Test func levelUnderTheNull() throws {
        let unit = Matrix.normalizedRows(try Self.sentences())
        var rng = SeededGenerator(seed: 31)
        var p: [Double] = []
        for s in 0..<300 {
            let rows = rng.sampleIndices(unit.rows, count: 800).shuffled(using: &rng)
            let t = try blockMMDTest(first: unit.gather(rows: Array(rows[0..<400])), second: unit.gather(rows: Array(rows[400..<800])),
                                     blockRows: 20, seed: UInt64(s))
            #expect(t.blocks == 20)
            p.append(t.pValue)
        }
        let rejected = Calibration.rejectionRate(p)
        // At the minimum of 20 blocks the t approximation is conservative (each block's MMD²_u is
        // right-skewed, so the t statistic is left-skewed): 2 % here. The level is what is asserted.
        #expect(rejected >= 0.01 && rejected <= 0.07, "fraction p < 0.05 = \(rejected)")
        let fit = Calibration.uniformity(p)
        #expect(fit.pValue > 0.001, "p-values not uniform: \(fit.counts)")
    }

    /// A real shift is found: REF the 500 "games" sentences, OTHER the 350 "fonts" ones (20 blocks).
    @Test func findsATopicShift() throws {
        let games = try EmbeddingReader.read(CLI.repositoryRoot.appendingPathComponent("data/sentences/by-section/games.npy").path)
        let fonts = try EmbeddingReader.read(CLI.repositoryRoot.appendingPathComponent("data/sentences/by-section/fonts.npy").path)
        let t = try blockMMDTest(first: games.matrix, second: fonts.matrix, seed: 1)
        #expect(t.pValue < 1e-4 && t.t > 5, "t = \(t.t), p = \(t.pValue)")
    }

    @Test func refusesTooFewBlocks() throws {
        var rng = SeededGenerator(seed: 1)
        let x = rng.gaussianMatrix(rows: 60, cols: 4), y = rng.gaussianMatrix(rows: 39, cols: 4)
        #expect(throws: EmbdiagError.self) { try blockMMDTest(first: x, second: y, seed: 1) }
        #expect(throws: EmbdiagError.self) { try blockMMDTest(first: x, second: y, blockRows: 1, seed: 1) }
        #expect(throws: EmbdiagError.self) { try blockMMDTest(first: x, second: y, blockRows: 2, seed: 1) }
        // 40 rows: 20 blocks of 2.
        let z = rng.gaussianMatrix(rows: 40, cols: 4)
        #expect(try blockMMDTest(first: x, second: z, seed: 1).blocks == 20)
        // Unequal corpora: the default takes more blocks so that no block holds more than 8,192
        // rows; where even that is not enough, an error (memory stays bounded).
        let big = rng.gaussianMatrix(rows: 100_000, cols: 2), small = rng.gaussianMatrix(rows: 400, cols: 2)
        let unequal = try blockMMDTest(first: big, second: small, seed: 1)
        #expect(unequal.blocks == 25 && unequal.firstBlockRows + unequal.secondBlockRows <= BlockMMDTest.maximumPooledBlockRows)
        let huge = rng.gaussianMatrix(rows: 200_000, cols: 2)
        let z2 = rng.gaussianMatrix(rows: 40, cols: 2)
        #expect(throws: EmbdiagError.self) { try blockMMDTest(first: huge, second: z2, seed: 1) }
        // Samples of different dimensions: an error, not a trap.
        #expect(throws: EmbdiagError.self) { try blockMMDTest(first: huge, second: z, seed: 1) }
        #expect(throws: EmbdiagError.self) { try blockMMDTest(first: huge, second: small, blockRows: 20, seed: 1) }
    }
}

/// `embdiag shift --mmd block`: the report, and bad values / combinations → exit 2, one line, no output.
@Suite(.serialized) struct BlockMMDCLITests {
    @Test func reportAndHostileValues() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let games = CLI.repositoryRoot.appendingPathComponent("data/sentences/by-section/games.npy").path
        let fonts = CLI.repositoryRoot.appendingPathComponent("data/sentences/by-section/fonts.npy").path
        let r = try CLI.run(["shift", games, fonts, "--tests", "mmd", "--mmd", "block", "--output", dir + "/out",
                             "--require", "p_value>=0.01", "--quiet"])
        #expect(r.status == 1, "games vs fonts must fail a p_value>=0.01 gate: \(r.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/out/report.json"))) as! [String: Any]
        let metrics = json["metrics"] as! [String: Any]
        #expect(metrics["mmd_blocks"] as? Int == 20)
        #expect((metrics["p_value_mmd"] as? Double).map { $0 < 1e-4 } == true)
        #expect(metrics["p_value"] as? Double == metrics["p_value_mmd"] as? Double, "MMD alone decides")
        #expect(((json["verdict"] as? [String: Any])?["answer"] as? String)?.contains("block MMD p =") == true)
        let notes = (json["notes"] as? [String])?.joined() ?? ""
        #expect(notes.contains("block test"), "the report says which test ran")
        // Same answer twice (seeded).
        let again = try CLI.run(["shift", games, fonts, "--tests", "mmd", "--mmd", "block", "--json", dir + "/again.json", "--quiet"])
        #expect(again.status == 0, "no gate: a shift alone is not a failure")
        let againJSON = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/again.json"))) as? [String: Any]
        let againMetrics = try #require(againJSON?["metrics"] as? [String: Any])
        #expect(againMetrics["mmd"] as? Double == metrics["mmd"] as? Double)
        // Hostile: bad values and combinations are usage errors naming the option, nothing written.
        let cases: [([String], String)] = [
            (["--mmd", "linear", "--tests", "mmd"], "--mmd"),
            (["--mmd", "block"], "--tests"),
            (["--mmd", "block", "--tests", "mmd,energy"], "--tests"),
            (["--mmd", "block", "--tests", "mmd", "--bandwidth-scales", "0.5,1"], "--bandwidth-scales"),
            (["--mmd", "block", "--tests", "mmd", "--mauve"], "MAUVE"),
            (["--mmd", "block", "--tests", "mmd", "--mmd-block-rows", "1"], "--mmd-block-rows"),
            (["--mmd", "block", "--tests", "mmd", "--mmd-block-rows", "-3"], "--mmd-block-rows"),
            (["--mmd", "block", "--tests", "mmd", "--mmd-block-rows", "18"], "blocks"),
            (["--mmd", "block", "--tests", "mmd", "--mmd-block-rows", "99999999999"], "blocks"),
            (["--mmd-block-rows", "10"], "--mmd-block-rows"),
        ]
        for (extra, word) in cases {
            let out = dir + "/bad"
            let bad = try CLI.run(["shift", games, fonts, "--output", out, "--quiet"] + extra)
            #expect(bad.status == 2, "\(extra): status \(bad.status)")
            #expect(bad.stderr.contains(word), "\(extra): \(bad.stderr)")
            #expect(bad.stderr.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").count == 1, "\(extra): one line")
            #expect(!FileManager.default.fileExists(atPath: out + "/report.json"), "\(extra): nothing written")
        }
    }
}
