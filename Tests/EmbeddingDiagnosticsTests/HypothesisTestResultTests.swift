import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// Every statistical test returns one kind of result (`HypothesisTestResult`: statistic, p-value,
/// alternative, method, null distribution), and the permutation tests keep their null
/// distribution as SciPy's `permutation_test` does (`null_distribution`): each permuted statistic
/// recomputed here by the definition from the relabelling it came from.
@Suite struct HypothesisTestResultTests {
    /// Two small samples on the unit sphere (the second shifted), pooled: first m rows, then n.
    static func pooled(m: Int = 12, n: Int = 9, d: Int = 3) -> Matrix {
        var rng = SeededGenerator(seed: 17)
        let rows = (0..<(m + n)).map { i in (0..<d).map { t in Float(rng.nextGaussian()) + (i >= m && t == 0 ? 0.8 : 0) } }
        return Matrix.normalizedRows(Matrix(rows))
    }

    /// E = 2·mean‖x − y‖ − mean‖x − x′‖ − mean‖y − y′‖ over the labelling `inFirst`, in Float64.
    static func energy(_ z: Matrix, inFirst: [Bool]) -> Double {
        let a = (0..<z.rows).filter { inFirst[$0] }, b = (0..<z.rows).filter { !inFirst[$0] }
        func dist(_ i: Int, _ j: Int) -> Double {
            (0..<z.cols).reduce(0.0) { $0 + pow(Double(z[i, $1]) - Double(z[j, $1]), 2) }.squareRoot()
        }
        func mean(_ p: [Int], _ q: [Int]) -> Double { p.reduce(0.0) { s, i in q.reduce(s) { $0 + dist(i, $1) } } / Double(p.count * q.count) }
        return 2 * mean(a, b) - mean(a, a) - mean(b, b)
    }

    @Test func permutationTestsKeepTheirNullDistribution() throws {
        let z = Self.pooled()
        let perms = TwoSamplePermutations(firstCount: 12, secondCount: 9, permutations: 40, seed: 3)
        let forms = kernelQuadraticForms(unitRows: z, kernels: [.distance], permutations: perms)
        let energy = energyTest(forms[0], seed: 3)
        let null = try #require(energy.nullDistribution)
        #expect(null.count == 40)
        for c in 1...40 {
            let labelling = (0..<21).map { perms.inFirst[$0 * perms.columns + c] == 1 }
            let want = Self.energy(z, inFirst: labelling)
            #expect(abs(null[c - 1] - want) <= 1e-5 * max(1, abs(want)), "relabelling \(c): \(null[c - 1]) vs \(want)")
        }
        #expect(abs(energy.statistic - Self.energy(z, inFirst: (0..<21).map { $0 < 12 })) < 1e-5)
        // The p-value, mean and sd are those of the kept distribution (SciPy: (1 + #{T_b ≥ T}) / (B + 1)).
        let again = permutationTestResult(observed: energy.statistic, permuted: null, seed: 3)
        #expect(again == energy.result)
        #expect(energy.pValue == Double(1 + energy.result.atLeastAsExtreme) / 41)
        #expect(abs(energy.result.nullMean - null.reduce(0, +) / 40) < 1e-12)
    }

    @Test func everyTestIsOneKindOfResult() throws {
        let z = Self.pooled()
        let perms = TwoSamplePermutations(firstCount: 12, secondCount: 9, permutations: 30, seed: 5)
        let forms = kernelQuadraticForms(unitRows: z, kernels: [.gaussian(bandwidth: 0.8), .distance], permutations: perms)
        let folds = stratifiedFolds(firstCount: 12, secondCount: 9, folds: 3, seed: 5)
        let classifier = try classifierTwoSampleTest(features: standardizedColumns(z), firstCount: 12, folds: folds, foldCount: 3, penalty: 1)
        let tests: [any HypothesisTestResult] = [
            gaussianMMDTest(forms[0], seed: 5), energyTest(forms[1], seed: 5), cosineMMDTest(unitRows: z, permutations: perms),
            depthPermutationTest(unitRows: z, permutations: perms), classifier,
            RankTests.mannWhitneyU([1, 2, 3, 4], [2.5, 5, 6], alternative: .twoSided),
        ]
        for t in tests {
            #expect(t.pValue > 0 && t.pValue <= 1 && t.statistic.isFinite && !t.method.isEmpty, "\(t.method)")
        }
        // The resampled tests keep B statistics; the classifier's and Mann–Whitney's p-values are
        // not from a resampled null.
        #expect(tests.prefix(4).allSatisfy { $0.nullDistribution?.count == 30 })
        #expect(tests[4].nullDistribution == nil && tests[4].statistic == classifier.auc && tests[4].alternative == .greater)
        #expect(tests[0].method.contains("gaussian") && tests[2].method.contains("cosine"))
    }
}
