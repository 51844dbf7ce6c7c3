import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// Anisotropy metrics against theorems (isotropic Gaussian, rank one), brute force, the IsoScore
/// 2.0.1 package and an independent numpy implementation (scripts/crosscheck/anisotropy_reference.py
/// → Tests/Fixtures/crosscheck/anisotropy_reference.json; IsoScore 2.0.1, torch 2.15, numpy 2.4.6).
@Suite struct AnisotropyTests {
    static let reference: [String: [String: Double]] = {
        let url = CLI.fixtures.appendingPathComponent("crosscheck/anisotropy_reference.json")
        let o = (try? JSONSerialization.jsonObject(with: Data(contentsOf: url))) as? [String: Any] ?? [:]
        return o.compactMapValues { v in (v as? [String: Any])?.compactMapValues { ($0 as? NSNumber)?.doubleValue } }
    }()

    static func words() throws -> Embeddings {
        try EmbeddingReader.read(CLI.repositoryRoot.appendingPathComponent("data/words/googlenews-bolukbasi-subset.bin").path)
    }

    @Test func isotropicGaussianScoresOne() throws {
        var rng = SeededGenerator(seed: 1)
        let m = try AnisotropyMetrics(rng.gaussianMatrix(rows: 20_000, cols: 64), pairSample: 20_000)
        #expect(abs(m.isoScore - 1) < 0.02, "IsoScore \(m.isoScore)")
        // Z(c)/n averages log-normal terms, so it converges slowly: numpy gives 0.884 on such a
        // sample (n = 20,000, d = 64); anisotropic data scores far lower (see the real samples).
        #expect(m.partitionIsotropy > 0.85, "partition isotropy \(m.partitionIsotropy)")
        #expect(abs(m.meanCosine) < 0.005, "mean cosine \(m.meanCosine)")
        #expect(abs(m.cosineStandardDeviation! - 1 / 8.0) < 0.01, "cosine std of random unit vectors ≈ 1/√d")
        #expect(abs(m.isoScore - m.isoScoreNullBaseline) < 0.01)
    }

    @Test func nullBaselineMatchesSimulationForSmallSamples() throws {
        // n = 300, d = 100: the finite-sample IsoScore of isotropic data is far below 1.
        var scores: [Double] = []
        for seed in 0..<5 {
            var rng = SeededGenerator(seed: UInt64(seed))
            scores.append(try AnisotropyMetrics(rng.gaussianMatrix(rows: 300, cols: 100), pairSample: 0).isoScore)
        }
        let mean = scores.reduce(0, +) / 5
        let baseline = AnisotropyMetrics.isotropicGaussianIsoScore(rows: 300, dimension: 100)
        #expect(abs(mean - baseline) < 0.02, "simulated \(mean) vs baseline \(baseline)")
        #expect(baseline < 0.8)
    }

    @Test func rankOnePlusNoiseScoresZero() throws {
        var rng = SeededGenerator(seed: 2)
        let direction = (0..<32).map { _ in Float(rng.nextGaussian()) }
        let rows: [[Float]] = (0..<2_000).map { _ in
            let scale = Float(1 + 0.1 * rng.nextGaussian())
            return direction.map { $0 * scale + Float(0.001 * rng.nextGaussian()) }
        }
        let m = try AnisotropyMetrics(Matrix(rows), pairSample: 1000)
        #expect(m.isoScore < 0.02, "IsoScore \(m.isoScore)")
        #expect(m.meanCosine > 0.99, "mean cosine \(m.meanCosine)")
        #expect(m.explainedVariance(top: 1) > 0.99)
    }

    @Test func meanCosineEqualsBruteForce() throws {
        var rng = SeededGenerator(seed: 3)
        let x = rng.gaussianMatrix(rows: 150, cols: 7)
        let p = x.mutablePointer
        for i in 0..<(150 * 7) { p[i] += 0.4 }  // a cone
        let m = try AnisotropyMetrics(x, pairSample: 0)
        var sum = 0.0
        var contributions = [Double](repeating: 0, count: 7)
        for i in 0..<150 {
            let ni = (0..<7).reduce(0.0) { $0 + Double(x[i, $1]) * Double(x[i, $1]) }.squareRoot()
            for j in 0..<150 where j != i {
                let nj = (0..<7).reduce(0.0) { $0 + Double(x[j, $1]) * Double(x[j, $1]) }.squareRoot()
                for k in 0..<7 {
                    let t = Double(x[i, k]) * Double(x[j, k]) / (ni * nj)
                    sum += t
                    contributions[k] += t
                }
            }
        }
        let pairs = 150.0 * 149
        #expect(abs(m.meanCosine - sum / pairs) < 1e-9)
        for k in 0..<7 { #expect(abs(m.cosineContributions[k] - contributions[k] / pairs) < 1e-9) }
    }

    @Test(arguments: ["words", "sentences_layer3"])
    func matchesIsoScorePackageAndNumpy(sample: String) throws {
        let ref = try #require(Self.reference[sample])
        let e = sample == "words" ? try Self.words()
            : try EmbeddingReader.read(CLI.repositoryRoot.appendingPathComponent("data/sentences/debian-minilm-l6-layer3.npy").path)
        let m = try AnisotropyMetrics(e.matrix, pairSample: 0)
        // IsoScore 2.0.1 (words: 0.5433948612483923; layer 3: 0.0954660754711411).
        #expect(abs(m.isoScore - ref["isoscore_package"]!) < 1e-6)
        #expect(abs(m.meanCosine - ref["mean_cosine"]!) < 1e-7)
        #expect(abs(m.meanVectorRatio - ref["mean_vector_ratio"]!) < 1e-6)
        #expect(abs(m.effectiveRank / ref["effective_rank"]! - 1) < 1e-6)
        #expect(abs(m.participationRatio / ref["participation_ratio"]! - 1) < 1e-6)
        #expect(abs(m.partitionIsotropy / ref["partition_isotropy"]! - 1) < 1e-4)
        #expect(abs(m.explainedVariance(top: 1) - ref["explained_variance_top1"]!) < 1e-7)
        #expect(abs(m.explainedVariance(top: 10) - ref["explained_variance_top10"]!) < 1e-7)
        #expect(m.rogueDimensions.first == Int(ref["top_contribution_dimension"]!))
    }

    /// IsoScore* against IsoScore 2.0.1's own `IsoScore_star(points, C0, zeta)`, for
    /// C0 = I and C0 = tr(C)/d·I, ζ from 0 to 1, on the real matrices and on n < d (100 rows).
    @Test func isoScoreStarMatchesIsoScorePackage() throws {
        let url = CLI.fixtures.appendingPathComponent("crosscheck/anisotropy_reference.json")
        let o = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        let star = try #require(o["isoscore_star"] as? [String: [[String: Any]]])
        let words = try Self.words()
        let sentences = try EmbeddingReader.read(CLI.repositoryRoot.appendingPathComponent("data/sentences/debian-minilm-l6-layer3.npy").path)
        let samples: [String: Matrix] = [
            "words": words.matrix, "sentences_layer3": sentences.matrix,
            "words_first100": words.matrix.rows(0..<100), "sentences_layer3_first100": sentences.matrix.rows(0..<100),
        ]
        var worst = 0.0
        for (name, m) in samples {
            let metrics = try AnisotropyMetrics(m, pairSample: 0)
            let cases = try #require(star[name], "fixture has \(name)")
            #expect(cases.count == 10)
            for c in cases {
                let prior = IsoScoreStar.Prior(rawValue: c["prior"] as! String)!
                let zeta = (c["zeta"] as! NSNumber).doubleValue, want = (c["isoscore_star"] as! NSNumber).doubleValue
                let got = IsoScoreStar(spectrum: metrics.spectrum, zeta: zeta, prior: prior).value
                worst = max(worst, abs(got - want))
                #expect(abs(got - want) < 1e-6, "\(name) \(prior) ζ=\(zeta): \(got) vs package \(want)")
            }
            // ζ = 0 is IsoScore itself.
            #expect(abs(IsoScoreStar(spectrum: metrics.spectrum, zeta: 0).value - metrics.isoScore) < 1e-12)
        }
        print("IsoScore* vs IsoScore 2.0.1: max |delta| = \(worst)")
        // Through the analysis and the report (key isoscore_star, also after a transform).
        var config = AnisotropyConfiguration()
        config.isoScoreStarZeta = 0.5
        config.steps = [try IsotropyStep(parsing: "center")]
        let r = try AnisotropyAnalysis(Embeddings(matrix: sentences.matrix.rows(0..<100), name: "s100"), configuration: config).report()
        let want = (star["sentences_layer3_first100"]!.first { ($0["prior"] as! String) == "identity" && ($0["zeta"] as! NSNumber).doubleValue == 0.5 }!["isoscore_star"] as! NSNumber).doubleValue
        #expect(abs(r.metric("isoscore_star")!.number! - want) < 1e-6)
        #expect(abs(r.metric("isoscore_star_after")!.number! - want) < 1e-6, "centring leaves the covariance unchanged")
        config.isoScoreStarZeta = 1.5
        #expect(throws: EmbdiagError.self) { try AnisotropyAnalysis(Embeddings(matrix: sentences.matrix.rows(0..<100), name: "s100"), configuration: config) }
    }

    @Test func remediesMoveTheMetricsAsThePapersSay() throws {
        let e = try Self.words()
        var config = AnisotropyConfiguration()
        config.pairSample = 0
        config.steps = [.allButTheTop(components: 3)]
        let abtt = try AnisotropyAnalysis(e, configuration: config)
        let ref = try #require(Self.reference["words_abtt3"])
        let after = try #require(abtt.after)
        #expect(abs(after.isoScore - ref["isoscore_package"]!) < 1e-5, "abtt:3 IsoScore vs numpy ABTT")
        #expect(abs(after.meanCosine) < 1e-3 && abs(abtt.before.meanCosine) > 0.05)
        #expect(after.isoScore > abtt.before.isoScore)
        #expect(after.partitionIsotropy > abtt.before.partitionIsotropy)
        // Default D = d/100 = 3 for d = 300.
        config.steps = [.allButTheTop(components: nil)]
        #expect(try AnisotropyAnalysis(e, configuration: config).transform?.steps[0].components == 3)
        // ZCA whitening: identity covariance, IsoScore 1, dimension kept; PCA whitening to 50 dims.
        config.steps = [.whiten(components: nil)]
        let zca = try #require(try AnisotropyAnalysis(e, configuration: config).after)
        #expect(abs(zca.isoScore - 1) < 1e-4 && zca.dimension == 300)
        config.steps = [.whiten(components: 50)]
        let pca = try #require(try AnisotropyAnalysis(e, configuration: config).after)
        #expect(pca.dimension == 50 && abs(pca.isoScore - 1) < 1e-4)
        config.steps = [.center, .normalize]
        let cn = try #require(try AnisotropyAnalysis(e, configuration: config).transformed)
        #expect(Matrix.rowNorms(cn).allSatisfy { abs($0 - 1) < 1e-5 })
    }

    @Test func savedTransformReappliesTheSameFit() throws {
        let e = try Self.words()
        let (t, out) = try IsotropyTransform.fit([.allButTheTop(components: 2), .whiten(components: 20), .normalize], on: e.matrix)
        let dir = try CLI.temporaryDirectory()
        try t.save(to: dir + "/t.json", fittedOn: e.source, seed: 42)
        let loaded = try IsotropyTransform.load(dir + "/t.json")
        #expect(loaded.steps.map(\.step) == ["abtt", "whiten", "normalize"])
        let again = try loaded.apply(to: e.matrix)
        #expect(again.rows == out.rows && again.cols == 20)
        for i in stride(from: 0, to: out.count, by: 97) { #expect(abs(again.pointer[i] - out.pointer[i]) < 1e-6) }
        // Applying to data of another dimension is an error naming the mismatch.
        #expect(throws: EmbdiagError.self) { try loaded.apply(to: Matrix(rows: 3, cols: 10)) }
    }

    @Test func isoScoreIsInvariantToRotationScaleAndShift() throws {
        var rng = SeededGenerator(seed: 4)
        let base = rng.gaussianMatrix(rows: 3_000, cols: 12)
        let mix = rng.gaussianMatrix(rows: 12, cols: 12)
        let x = BLAS.matmul(base, mix)  // correlated
        let reference = try AnisotropyMetrics(x, pairSample: 0).isoScore
        let rotated = BLAS.matmul(x, rng.orthogonalMatrix(12))
        let scaled = x.copy()
        let p = scaled.mutablePointer
        for i in 0..<scaled.count { p[i] = p[i] * 7 + 100 }
        #expect(abs(try AnisotropyMetrics(rotated, pairSample: 0).isoScore - reference) < 1e-5)
        #expect(abs(try AnisotropyMetrics(scaled, pairSample: 0).isoScore - reference) < 1e-4)
    }

    @Test func parsesTransformsAndRejectsNonsense() throws {
        #expect(try IsotropyStep(parsing: "abtt:5") == .allButTheTop(components: 5))
        #expect(try IsotropyStep(parsing: "whiten") == .whiten(components: nil))
        #expect(try IsotropyStep(parsing: "center") == .center)
        for bad in ["abtt:0", "abtt:x", "center:3", "rotate", "whiten:-2"] {
            #expect(throws: EmbdiagError.self, "\(bad)") { try IsotropyStep(parsing: bad) }
        }
    }

    @Test func partitionIsotropyIsNullOnlyWhenItsExtremeIsBasisDependent() throws {
        // Eigenvalues 4 > 2.001 ≈ 2 > 1: components 2 and 3 form a degenerate space (gap 5e-4 < 1e-3).
        let eigenvalues = [4, 2.001, 2, 1]
        func logZ(_ values: [Double], sign: Double = 0.01) -> [(positive: Double, negative: Double)] { values.map { ($0, $0 + sign) } }
        // Minimum inside the degenerate pair, whose log Z differ by 0.2: basis-dependent → NaN + reason.
        let (bad, why) = AnisotropyMetrics.conditionedPartitionIsotropy(logZ: logZ([5, 3.0, 3.2, 4]), eigenvalues: eigenvalues)
        #expect(bad.isNaN && why?.firstComponent == 2 && why?.lastComponent == 3 && abs((why?.logZSpread ?? 0) - 0.21) < 1e-12)
        // Same pair, but log Z equal across it to 1e-9: the value is defined.
        let (fine, none) = AnisotropyMetrics.conditionedPartitionIsotropy(logZ: logZ([5, 3.0, 3.0 + 1e-9, 4], sign: 0), eigenvalues: eigenvalues)
        #expect(none == nil && abs(fine - Foundation.exp(3.0 - 5)) < 1e-12)
        // Extremes at isolated directions: a degenerate pair elsewhere does not matter.
        let (isolated, _) = AnisotropyMetrics.conditionedPartitionIsotropy(logZ: logZ([5, 3.5, 3.9, 3]), eigenvalues: eigenvalues)
        #expect(abs(isolated - Foundation.exp(3.0 - 5.01)) < 1e-12)
        // End to end: a whitened real space (all eigenvalues equal) reports null; the raw one a number.
        let url = CLI.repositoryRoot.appendingPathComponent("data/sentences/debian-minilm-l6-layer3.npy")
        let e = try EmbeddingReader.read(url.path)
        let raw = try AnisotropyMetrics(e.matrix)
        #expect(raw.partitionDegeneracy == nil && raw.partitionIsotropy > 0)
        let whitened = try IsotropyTransform.fit([IsotropyStep(parsing: "whiten:32")], on: e.matrix).output
        let after = try AnisotropyMetrics(whitened)
        #expect(after.partitionIsotropy.isNaN && after.partitionDegeneracy != nil && after.meanVectorRatio == 0)
    }
}
