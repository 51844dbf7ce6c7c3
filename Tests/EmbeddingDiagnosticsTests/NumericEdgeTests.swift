import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// Inputs at the edges of Float32 arithmetic and metrics whose value is decided by rounding: a row
/// of subnormal values is an ordinary direction; a statistic over "every pair" uses every pair; a
/// loss of exactly one query, or an effect size of exactly 0.1, is the Double a gate writes; a
/// ratio of noise to noise is not reported; the verdict's "how much" names a test that found
/// something; round-off residues in one column do not separate two samples of one distribution.
@Suite struct NumericEdgeTests {
    static func gaussianRows(_ n: Int, _ d: Int, seed: UInt64, offset: Double = 0) -> [[Float]] {
        var rng = SeededGenerator(seed: seed)
        return (0..<n).map { _ in (0..<d).map { _ in Float(rng.nextGaussian() + offset) } }
    }

    static func metrics(_ path: String) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
        return object["metrics"] as! [String: Any]
    }

    /// One row scaled by 1e-41 (subnormal values, norm ≈ 5e-41: 1/‖x‖ overflows Float32) crashed
    /// depth and shift, hung compat, and gave neighbors a cosine of −inf. Its direction is an
    /// ordinary one: every command runs, and its neighbours are those of the unscaled row.
    @Test func aRowOfSubnormalValuesIsAnOrdinaryDirection() throws {
        let dir = try CLI.temporaryDirectory()
        var reference = Self.gaussianRows(120, 16, seed: 10, offset: 0.5)
        let unscaled = reference
        reference[7] = reference[7].map { Float(Double($0) * 1e-41) }
        #expect(reference[7].contains { $0 != 0 })
        try CLI.writeNpy(reference, to: dir + "/r.npy")
        try CLI.writeNpy(unscaled, to: dir + "/plain.npy")
        try CLI.writeNpy(Self.gaussianRows(100, 16, seed: 11, offset: 0.5), to: dir + "/o.npy")
        for arguments in [["depth", dir + "/r.npy", dir + "/o.npy"], ["shift", dir + "/r.npy", dir + "/o.npy", "--permutations", "99"],
                          ["compat", "--old", dir + "/r.npy", "--new", dir + "/plain.npy"], ["relrep", dir + "/r.npy"],
                          ["anisotropy", dir + "/r.npy", "--transform", "normalize"]] {
            let r = try CLI.run(arguments + ["--quiet"])
            #expect(r.status == 0 && !r.stderr.contains("Fatal"), "\(arguments[0]): \(r.status) \(r.stderr)")
        }
        let r = try CLI.run(["neighbors", dir + "/r.npy", "--quiet", "--json", dir + "/n.json"])
        #expect(r.status == 0, "\(r.stderr)")
        // The definition in Float64: mean over rows of the largest cosine to another row.
        let unit = unscaled.map { row -> [Double] in
            let norm = row.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            return row.map { Double($0) / norm }
        }
        var top1 = 0.0
        for i in unit.indices {
            top1 += unit.indices.filter { $0 != i }.map { j in zip(unit[i], unit[j]).reduce(0.0) { $0 + $1.0 * $1.1 } }.max()!
        }
        top1 /= Double(unit.count)
        let got = try #require(try Self.metrics(dir + "/n.json")["mean_top1_similarity"] as? Double)
        #expect(abs(got - top1) <= 1e-6, "\(got) vs \(top1)")
    }

    /// `--pairs` beyond the n(n − 1)/2 distinct pairs "uses every pair": the spread is then the
    /// exact standard deviation over all of them, the same for every seed (it was a draw with
    /// replacement, up to 9 % off on 10 rows).
    @Test func cosineSpreadOverEveryPairIsExact() throws {
        let dir = try CLI.temporaryDirectory()
        let rows = Self.gaussianRows(10, 6, seed: 3, offset: 0.3)
        try CLI.writeNpy(rows, to: dir + "/m.npy")
        let unit = rows.map { row -> [Double] in
            let norm = row.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            return row.map { Double($0) / norm }
        }
        var cosines: [Double] = []
        for i in 0..<10 { for j in (i + 1)..<10 { cosines.append(zip(unit[i], unit[j]).reduce(0.0) { $0 + $1.0 * $1.1 }) } }
        let exact = Statistics.meanAndStandardDeviation(cosines).std
        for seed in ["1", "2"] {
            let r = try CLI.run(["anisotropy", dir + "/m.npy", "--pairs", "1000", "--seed", seed, "--quiet", "--json", dir + "/a\(seed).json"])
            #expect(r.status == 0, "\(r.stderr)")
            let std = try #require(try Self.metrics(dir + "/a\(seed).json")["cosine_std"] as? Double)
            #expect(abs(std - exact) <= 1e-6 * exact, "seed \(seed): \(std) vs \(exact)")
        }
    }

    /// One query lost out of 100 is a margin of exactly −1/100, which `--no-worse-tolerance 0.01`
    /// accepts (0.89 − 0.90 is −0.010000000000000009); an effect size of U = 55 of 10 × 10 pairs is
    /// exactly 0.1.
    @Test func differencesOfCountsAreTheDoublesAGateWrites() throws {
        let hit = TiedFirstRank(before: 0, blockSize: 1, relevantInBlock: 1)
        let miss = TiedFirstRank(before: 1, blockSize: 1, relevantInBlock: 1)
        func summary(_ hits: Int) -> RetrievalSummary {
            let first = (0..<100).map { $0 < hits ? hit : miss }
            return RetrievalSummary(name: "x", ks: [1], ranks: RetrievalRanks(first: first, averagePrecision: [Double](repeating: 1, count: 100),
                                                                              relevantCount: [Int](repeating: 1, count: 100)))
        }
        let old = summary(90), cross = summary(89)
        #expect(cross.recallAtOne - old.recallAtOne < -0.01)
        #expect(cross.recallAtOneDifference(old) == -0.01)
        // x = 0.5, 1.5, …, 9.5 against y = 0, 1, …, 9: x_i beats i + 1 of the y, U = 55.
        let u55 = RankTests.mannWhitneyU((0..<10).map { Double($0) + 0.5 }, (0..<10).map { Double($0) }, alternative: .twoSided)
        #expect(u55.statistic == 55)
        #expect(u55.rankBiserial == 0.1)
        // A yes/no gate's message speaks yes/no.
        let outcome = RequirementOutcome(requirement: try Requirement(parsing: "no_worse==yes"), actual: 0, passed: false)
        #expect(outcome.message == "no_worse = no, required == yes")
    }

    /// Isotropic Gaussian rows: the mean cosine is noise around 0 and so is every dimension's
    /// contribution; their ratio (3,327 % on one draw) is not reported and no dimension is called rogue.
    @Test func noRogueDimensionInNoise() throws {
        let dir = try CLI.temporaryDirectory()
        try CLI.writeNpy(Self.gaussianRows(300, 32, seed: 4), to: dir + "/g.npy")
        let r = try CLI.run(["anisotropy", dir + "/g.npy", "--json", dir + "/g.json"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(!r.stdout.contains("rogue dimension (Timkey"), "\(r.stdout)")
        #expect(try Self.metrics(dir + "/g.json")["top_dimension_share"] is NSNull)
        // A real cone keeps its share.
        try CLI.writeNpy(Self.gaussianRows(300, 32, seed: 4, offset: 0.4), to: dir + "/c.npy")
        _ = try CLI.run(["anisotropy", dir + "/c.npy", "--quiet", "--json", dir + "/c.json"])
        #expect(try Self.metrics(dir + "/c.json")["top_dimension_share"] is Double)
    }

    /// OTHER differs from REF in the spread of one coordinate (bimodal), which MMD finds and a
    /// linear classifier cannot: the verdict must not say that the classifier tells the rows apart.
    @Test func theVerdictNamesASizeFromATestThatFoundSomething() throws {
        let dir = try CLI.temporaryDirectory()
        var rng = SeededGenerator(seed: 131)
        let reference = (0..<300).map { _ in (0..<8).map { _ in Float(rng.nextGaussian()) } }
        let other = (0..<300).map { _ -> [Float] in
            var row = (0..<8).map { _ in Float(rng.nextGaussian()) }
            row[0] = Float((rng.nextIndex(2) == 0 ? -3 : 3) + 0.3 * rng.nextGaussian())
            return row
        }
        try CLI.writeNpy(reference, to: dir + "/r.npy")
        try CLI.writeNpy(other, to: dir + "/o.npy")
        let r = try CLI.run(["shift", dir + "/r.npy", dir + "/o.npy", "--permutations", "200", "--json", dir + "/s.json"])
        #expect(r.status == 0, "\(r.stderr)")
        let m = try Self.metrics(dir + "/s.json")
        let classifierP = try #require(m["p_value_classifier"] as? Double)
        if classifierP >= 0.05 { #expect(!r.stdout.contains("a classifier tells their rows apart"), "\(r.stdout)") }
    }

    /// Two samples of one distribution; OTHER's padding column holds 1e-30 where REF's holds 0 —
    /// 30 orders below the data. Standardised to unit variance that column separated the corpora
    /// perfectly (p 3e-25, AUC 1); a column of round-off residues now counts as constant.
    @Test func roundOffResiduesDoNotSeparateSamples() throws {
        let dir = try CLI.temporaryDirectory()
        var rng = SeededGenerator(seed: 241)
        let rows = (0..<180).map { _ in (0..<6).map { _ in Float(rng.nextGaussian()) } + [0, 0, 0] }
        let reference = Array(rows[..<100])
        let other = rows[100...].map { row -> [Float] in var r = row; r[7] = 1e-30; return r }
        try CLI.writeNpy(reference, to: dir + "/r.npy")
        try CLI.writeNpy(other, to: dir + "/o.npy")
        let r = try CLI.run(["shift", dir + "/r.npy", dir + "/o.npy", "--permutations", "199", "--quiet", "--json", dir + "/s.json"])
        #expect(r.status == 0, "\(r.stderr)")
        let m = try Self.metrics(dir + "/s.json")
        #expect(try #require(m["p_value_classifier"] as? Double) > 1e-3)
        #expect(try #require(m["auc"] as? Double) < 0.75)
    }
}

/// A file that is not a state or fingerprint is refused from its first bytes, not after reading
/// it into memory (a shard's .npy given to merge by mistake; /dev/zero said "permission").
@Suite struct SealedFileTests {
    @Test func otherFilesAreRefusedFromTheirHeader() throws {
        let dir = try CLI.temporaryDirectory()
        try CLI.writeNpy([[1, 2], [3, 4]], to: dir + "/m.npy")
        for (arguments, words) in [(["merge", dir + "/m.npy"], "not an embdiag partial state"),
                                   (["merge", "/dev/zero"], "not an embdiag partial state"),
                                   (["fingerprint", "--check", "/dev/zero", dir + "/m.npy"], "not an embdiag fingerprint"),
                                   (["merge", dir + "/missing.state"], "no such file")] {
            let r = try CLI.run(arguments + ["--quiet"])
            #expect(r.status == 2 && r.stderr.contains(words) && !r.stderr.contains("NSCocoaErrorDomain") && !r.stderr.contains("permission"), "\(arguments): \(r.stderr)")
        }
    }
}
