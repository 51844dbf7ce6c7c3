import Foundation
import Testing
@testable import EmbeddingDiagnostics
import EmbeddingDiagnosticsTestSupport

/// `embdiag shift`: statistics against the papers' definitions in float64 numpy, prdc 0.2 and
/// scikit-learn (scripts/crosscheck/shift_reference.py → Tests/Fixtures/crosscheck/shift_reference.json),
/// every permuted statistic against a brute-force Float64 computation, calibration under H₀ on
/// random splits of one real corpus, detection of real shifts, and the CLI.
@Suite struct ShiftTests {
    // nonisolated(unsafe): parsed JSON (immutable Foundation values), never written after it is loaded,
    // so the parallel tests only read it.
    nonisolated(unsafe) static let reference: [String: Any] = {
        let url = CLI.fixtures.appendingPathComponent("crosscheck/shift_reference.json")
        return (try? JSONSerialization.jsonObject(with: Data(contentsOf: url))) as? [String: Any] ?? [:]
    }()

    static func load(_ path: String) throws -> Embeddings {
        try EmbeddingReader.read(CLI.repositoryRoot.appendingPathComponent(path).path)
    }

    /// The two cases of the cross-check script: (REF, OTHER) as Embeddings.
    static func crosscheckCase(_ name: String) throws -> (Embeddings, Embeddings) {
        let games = try load("data/sentences/by-section/games.npy")
        let ref = games.selecting(rows: Array(0..<200))
        if name == "shift" { return (ref, try load("data/sentences/by-section/fonts.npy").selecting(rows: Array(0..<150))) }
        return (ref, games.selecting(rows: Array(200..<350)))
    }

    static func pooledUnitRows(_ a: Embeddings, _ b: Embeddings) -> Matrix {
        let z = Matrix(rows: a.count + b.count, cols: a.dimension)
        let an = Matrix.normalizedRows(a.matrix), bn = Matrix.normalizedRows(b.matrix)
        z.mutablePointer.update(from: an.pointer, count: an.count)
        (z.mutablePointer + an.count).update(from: bn.pointer, count: bn.count)
        return z
    }

    @Test(arguments: ["shift", "within_games"])
    func statisticsMatchThePapersDefinitions(name: String) throws {
        let cases = try #require(Self.reference["cases"] as? [String: Any])
        let ref = try #require(cases[name] as? [String: Any])
        let (x, y) = try Self.crosscheckCase(name)
        let z = Self.pooledUnitRows(x, y)
        let sigma = medianHeuristicBandwidth(unitRows: z)
        #expect(abs(sigma / (ref["bandwidth"] as! Double) - 1) < 1e-5, "σ \(sigma)")
        let perms = TwoSamplePermutations(firstCount: 200, secondCount: 150, permutations: 20, seed: 1)
        let forms = kernelQuadraticForms(unitRows: z, kernels: [.gaussian(bandwidth: ref["bandwidth"] as! Double), .distance], permutations: perms)
        let mmd = gaussianMMDTest(forms[0], seed: 1).result.statistic
        let energy = energyTest(forms[1], seed: 1)
        let cosine = cosineMMDTest(unitRows: z, permutations: perms).result.statistic
        // Float32 kernels and GEMMs against float64 numpy: 1e-4 relative, or 2e-6 absolute for the
        // small within-section statistics.
        func close(_ a: Double, _ key: String) -> Bool { let b = ref[key] as! Double; return abs(a - b) <= max(1e-4 * abs(b), 2e-6) }
        #expect(close(mmd, "mmd_gaussian"), "MMD² \(mmd) vs \(ref["mmd_gaussian"]!)")
        #expect(close(cosine, "mmd_cosine"), "cosine MMD² \(cosine) vs \(ref["mmd_cosine"]!)")
        #expect(close(energy.result.statistic, "energy"), "energy \(energy.result.statistic) vs \(ref["energy"]!)")
        #expect(close(energy.meanCrossDistance, "energy_mean_cross_distance"))
        // The depth permutation test's observed |W| is the depth command's W.
        var dc = DepthConfiguration()
        dc.alternative = .twoSided
        let w = try DepthAnalysis(reference: x, others: [y], configuration: dc).tests[0].rankSum.statistic
        let depthTest = depthPermutationTest(unitRows: z, permutations: perms)
        #expect(abs(depthTest.statistic - abs(w)) < 1e-4, "depth |W| \(depthTest.statistic) vs \(w)")
        if let alibi = ref["alibi_mmd_drift"] as? [String: Any], let distance = alibi["distance"] as? Double {
            // alibi-detect's MMDDrift statistic with the same σ (float32 in its backend).
            #expect(abs(mmd - distance) <= max(1e-3 * abs(distance), 1e-5), "alibi-detect \(distance) vs \(mmd)")
        }
    }

    @Test(arguments: ["shift", "within_games"], [3, 5])
    func precisionRecallDensityCoverageMatchPrdc(name: String, k: Int) throws {
        let cases = try #require(Self.reference["cases"] as? [String: Any])
        let expected = try #require((cases[name] as? [String: Any])?["prdc_k\(k)"] as? [String: Double])
        let (x, y) = try Self.crosscheckCase(name)
        let q = precisionRecallCoverage(reference: Matrix.normalizedRows(x.matrix), other: Matrix.normalizedRows(y.matrix), k: k)
        // prdc compares float64 distances, embdiag Float32 cosines: a row may fall on the other
        // side of a radius only by rounding, so allow one row (and one ball for density).
        #expect(abs(q.precision - expected["precision"]!) <= 1.0 / 150 + 1e-12, "precision \(q.precision) vs \(expected["precision"]!)")
        #expect(abs(q.recall - expected["recall"]!) <= 1.0 / 200 + 1e-12, "recall \(q.recall) vs \(expected["recall"]!)")
        #expect(abs(q.density - expected["density"]!) <= 1.0 / Double(150 * k) + 1e-12, "density \(q.density) vs \(expected["density"]!)")
        #expect(abs(q.coverage - expected["coverage"]!) <= 1.0 / 200 + 1e-12, "coverage \(q.coverage) vs \(expected["coverage"]!)")
    }

    /// Tie-heavy inputs, where prdc's strict "<" against the k-NN radius decides the numbers: one
    /// row repeated (all zero), rows twice, identical sets, integer-grid rows whose unit rows and
    /// distances are exact in binary. Ties are decided on exact scores, so the counts equal prdc's
    /// (the script checks prdc against the definition in integer arithmetic on the grid cases).
    @Test(arguments: ["identical_rows", "duplicated_rows", "integer_grid", "ternary_grid", "identical_grid_set", "identical_games_set"], [3, 5])
    func precisionRecallDensityCoverageMatchPrdcOnTies(name: String, k: Int) throws {
        let ties = try #require((Self.reference["ties"] as? [String: Any])?["cases"] as? [String: Any])
        let tie = try #require(ties[name] as? [String: Any])
        let expected = try #require(tie["prdc_k\(k)"] as? [String: Double])
        func decode(_ rows: [String]) -> Matrix {
            Matrix(rows.map { $0.map { c -> Float in c == "+" ? 1 : c == "-" ? -1 : 0 } })
        }
        let x: Matrix, y: Matrix
        if name == "identical_games_set" {
            x = Matrix.normalizedRows(try Self.crosscheckCase("shift").0.matrix)
            y = x
        } else {
            x = Matrix.normalizedRows(decode(try #require(tie["reference_rows"] as? [String])))
            y = (tie["other_rows"] as? [String]).map { Matrix.normalizedRows(decode($0)) } ?? x
        }
        let q = precisionRecallCoverage(reference: x, other: y, k: k)
        for (key, value) in [("precision", q.precision), ("recall", q.recall), ("density", q.density), ("coverage", q.coverage)] {
            #expect(abs(value - expected[key]!) <= 1e-12, "\(name) k=\(k) \(key): \(value) vs prdc \(expected[key]!)")
        }
    }

    /// prdc's strict rule on an identical set, by hand: each ball holds the row itself and its k − 1
    /// nearer neighbours, never the k-th one (at exactly the radius), so density is exactly 1; rows
    /// that all coincide have radius 0 and nothing is strictly inside.
    @Test func identicalSetsFollowTheStrictRule() throws {
        let games = Matrix.normalizedRows(try Self.crosscheckCase("shift").0.matrix)
        let same = precisionRecallCoverage(reference: games, other: games, k: 5)
        #expect(same.density == 1 && same.precision == 1 && same.recall == 1 && same.coverage == 1)
        let one = Matrix((0..<50).map { _ in Array(games.row(0)) })
        let coincide = precisionRecallCoverage(reference: one, other: one, k: 5)
        #expect(coincide.density == 0 && coincide.precision == 0 && coincide.recall == 0 && coincide.coverage == 0)
    }

    @Test(arguments: ["shift", "within_games"])
    func classifierMatchesScikitLearn(name: String) throws {
        let cases = try #require(Self.reference["cases"] as? [String: Any])
        let ref = try #require((cases[name] as? [String: Any])?["classifier"] as? [String: Any])
        let (x, y) = try Self.crosscheckCase(name)
        let z = Self.pooledUnitRows(x, y)
        let folds = (0..<200).map { $0 % 5 } + (0..<150).map { ($0 + 200) % 5 }
        let t = try classifierTwoSampleTest(features: standardizedColumns(z), firstCount: 200, folds: folds, foldCount: 5, penalty: 1)
        let expected = ref["decision"] as! [Double]
        let probability = expected.map { 1 / (1 + exp(-$0)) }
        let worst = zip(t.outOfFoldProbability, probability).map { abs($0 - $1) }.max()!
        #expect(worst < 2e-3, "largest out-of-fold probability difference \(worst)")
        #expect(abs(t.auc - (ref["auc"] as! Double)) < 2e-3, "AUC \(t.auc) vs \(ref["auc"]!)")
        #expect(t.converged)
        // The p-value is the Bonferroni bound over the folds' own Mann–Whitney tests.
        #expect(t.foldPValues.count == 5 && t.pValue == min(1, 5 * t.foldPValues.min()!))
    }

    /// Every permuted statistic (not only the observed one) equals its definition computed in
    /// Float64 from the relabelling: the one-GEMM algebra of KernelQuadraticForms is exact.
    @Test func everyPermutedStatisticMatchesBruteForce() throws {
        var rng = SeededGenerator(seed: 11)
        let m = 9, n = 6, d = 5, total = m + n
        let z = Matrix.normalizedRows(rng.gaussianMatrix(rows: total, cols: d))
        let perms = TwoSamplePermutations(firstCount: m, secondCount: n, permutations: 40, seed: 3)
        let sigma = 0.9
        let forms = kernelQuadraticForms(unitRows: z, kernels: [.gaussian(bandwidth: sigma), .distance], permutations: perms, blockRows: 4)
        let cosine = cosineMMDTest(unitRows: z, permutations: perms)
        func dot(_ i: Int, _ j: Int) -> Double { (0..<d).reduce(0) { $0 + Double(z[i, $1]) * Double(z[j, $1]) } }
        var gaussianStats: [Double] = [], energyStats: [Double] = [], cosineStats: [Double] = []
        for c in 0..<perms.columns {
            let first = (0..<total).filter { perms.inFirst[$0 * perms.columns + c] == 1 }
            let second = (0..<total).filter { perms.inFirst[$0 * perms.columns + c] == 0 }
            #expect(first.count == m && second.count == n)
            func u(_ k: (Int, Int) -> Double) -> Double {
                var xx = 0.0, yy = 0.0, xy = 0.0
                for i in first { for j in first where i != j { xx += k(i, j) } }
                for i in second { for j in second where i != j { yy += k(i, j) } }
                for i in first { for j in second { xy += k(i, j) } }
                return xx / Double(m * (m - 1)) + yy / Double(n * (n - 1)) - 2 * xy / Double(m * n)
            }
            gaussianStats.append(u { exp(-(2 - 2 * dot($0, $1)) / (2 * sigma * sigma)) })
            cosineStats.append(u(dot))
            let dist = { (i: Int, j: Int) in i == j ? 0 : max(0, 2 - 2 * dot(i, j)).squareRoot() }
            var xx = 0.0, yy = 0.0, xy = 0.0
            for i in first { for j in first { xx += dist(i, j) } }
            for i in second { for j in second { yy += dist(i, j) } }
            for i in first { for j in second { xy += dist(i, j) } }
            energyStats.append(2 * xy / Double(m * n) - xx / Double(m * m) - yy / Double(n * n))
        }
        for c in 0..<perms.columns {
            #expect(abs(forms[0].unbiasedMMD(c) - gaussianStats[c]) < 2e-6, "column \(c): \(forms[0].unbiasedMMD(c)) vs \(gaussianStats[c])")
            #expect(abs(-forms[1].quadratic[c] - energyStats[c]) < 2e-6, "column \(c) energy")
        }
        #expect(abs(cosine.result.statistic - cosineStats[0]) < 2e-6)
        let null = Array(gaussianStats.dropFirst())
        let expectedCount = null.filter { $0 >= gaussianStats[0] - 1e-9 }.count
        let t = gaussianMMDTest(forms[0], seed: 3)
        #expect(t.result.atLeastAsExtreme == expectedCount)
        #expect(t.result.pValue == Double(1 + expectedCount) / 41)
        // Witness: leave-one-out mean kernel to OTHER minus to REF, by hand.
        let w = leaveOneOutWitness(forms[0])
        for i in 0..<total {
            let k = { (j: Int) in exp(-(2 - 2 * dot(i, j)) / (2 * sigma * sigma)) }
            let toRef = (0..<m).filter { $0 != i }.map(k), toOther = (m..<total).filter { $0 != i }.map(k)
            let expected = toOther.reduce(0, +) / Double(toOther.count) - toRef.reduce(0, +) / Double(toRef.count)
            #expect(abs(w[i] - expected) < 2e-6, "witness row \(i)")
        }
    }

    /// The relabellings are uniform: with m = 3, n = 3 each of the C(6, 3) = 20 subsets is drawn
    /// equally often (χ² test), and with m = 2, n = 5 (the larger sample first) too (21 subsets).
    @Test func relabellingsAreUniform() {
        for (m, n) in [(3, 3), (2, 5), (5, 2)] {
            let b = 42_000
            let perms = TwoSamplePermutations(firstCount: m, secondCount: n, permutations: b, seed: 17)
            var counts: [Int: Int] = [:]
            for c in 1...b {
                var key = 0
                for i in 0..<(m + n) where perms.inFirst[i * perms.columns + c] == 1 { key |= 1 << i }
                #expect(key.nonzeroBitCount == m)
                counts[key, default: 0] += 1
            }
            let subsets = Statistics.binomialCoefficient(m + n, m)
            #expect(counts.count == subsets)
            let expected = Double(b) / Double(subsets)
            let chi2 = counts.values.reduce(0.0) { $0 + (Double($1) - expected) * (Double($1) - expected) / expected }
            #expect(Distributions.chiSquaredSurvival(chi2, degreesOfFreedom: Double(subsets - 1)) > 0.001, "m \(m), n \(n): counts \(counts.values.sorted())")
        }
    }

    @Test func pValuesArePlusOneCorrectedAndSeeded() throws {
        // Two far-apart clusters: no relabelling reaches the observed statistic, p = 1/(B + 1), never 0.
        var rng = SeededGenerator(seed: 4)
        let a = (0..<20).map { _ in [Float(5)] + (0..<7).map { _ in Float(rng.nextGaussian()) } }
        let b = (0..<20).map { _ in [Float(-5)] + (0..<7).map { _ in Float(rng.nextGaussian()) } }
        var c = ShiftConfiguration()
        c.permutations = 99
        c.tests = [.mmd, .energy, .mmdCosine]
        let s = try ShiftAnalysis(reference: Embeddings(matrix: Matrix(a)), others: [Embeddings(matrix: Matrix(b))], configuration: c)
        let comp = s.comparisons[0]
        #expect(comp.mmd!.result.pValue == 0.01 && comp.energy!.result.pValue == 0.01 && comp.mmdCosine!.result.pValue == 0.01)
        #expect(comp.verdict!.pValue == 0.01)  // min-p: no Bonferroni factor for the 3 permutation tests
        // Same seed → same result; another seed draws other relabellings. (A reversed copy: its rows
        // are kept in the tests here; by default they are left out as cross duplicates.)
        c.keepCrossDuplicates = true
        let again = try ShiftAnalysis(reference: Embeddings(matrix: Matrix(a)), others: [Embeddings(matrix: Matrix(a.reversed()))], configuration: c)
        let twice = try ShiftAnalysis(reference: Embeddings(matrix: Matrix(a)), others: [Embeddings(matrix: Matrix(a.reversed()))], configuration: c)
        #expect(again.comparisons[0].mmd!.result == twice.comparisons[0].mmd!.result)
        // Identical corpora: the observed statistic is typical, p far from 0.
        #expect(again.comparisons[0].verdict!.pValue > 0.05)
    }

    /// The min-p combination against its definition computed by brute force (O(B²), the same
    /// tie tolerance), no loss for identical tests, and the weighted Bonferroni join with the classifier.
    @Test func combinedVerdictIsMinPAndWeightedBonferroni() {
        var rng = SeededGenerator(seed: 3)
        let b = 199
        let tests = (0..<3).map { t in (0...b).map { j in rng.nextGaussian() + (t == 0 && j == 0 ? 4 : 0) } }
        func counts(_ s: [Double]) -> [Int] {
            let permuted = s.dropFirst(), mean = permuted.reduce(0, +) / Double(b)
            let sd = (permuted.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(b - 1)).squareRoot()
            return s.indices.map { j in s.indices.filter { s[$0] >= s[j] - permutationTieTolerance * sd }.count }
        }
        let c = tests.map(counts)
        let minCount = (0...b).map { j in c.map { $0[j] }.min()! }
        let expectedP = Double(minCount.filter { $0 <= minCount[0] }.count) / Double(b + 1)
        let combination = MinPCombination(statistics: tests)
        #expect(combination.pValue == expectedP)
        #expect(combination.adjustedPValues == c.map { own in Double(minCount.filter { $0 <= own[0] }.count) / Double(b + 1) })
        #expect(c[0][0] == 1 + permutationTestResult(observed: tests[0][0], permuted: Array(tests[0].dropFirst()), seed: 0).atLeastAsExtreme)
        #expect(combination.pValue < 0.05 && combination.pValue >= Double(c[0][0]) / Double(b + 1))
        // Weighted (v = 1, 1, 0.1): the minimum of count/v, calibrated the same way.
        let weights = [1.0, 1.0, 0.1]
        let minRatio = (0...b).map { j in (0..<3).map { Double(c[$0][j]) / weights[$0] }.min()! }
        let weighted = MinPCombination(statistics: tests, weights: weights)
        #expect(weighted.pValue == Double(minRatio.filter { $0 <= minRatio[0] }.count) / Double(b + 1))
        #expect(weighted.adjustedPValues == (0..<3).map { t in Double(minRatio.filter { $0 <= Double(c[t][0]) / weights[t] }.count) / Double(b + 1) })
        // Identical tests: the family p-value is the single test's p-value (Bonferroni would triple it).
        let single = Double(c[0][0]) / Double(b + 1)
        #expect(MinPCombination(statistics: [tests[0], tests[0], tests[0]]).pValue == single)

        // Weighted Bonferroni with the classifier (w = 0.1): adjusted = min-p / 0.9 and p_classifier / 0.1.
        let mmd = ShiftTestOutcome(kind: .mmd, statistic: 0, pValue: single, adjustedPValue: 1, effectSize: 0, effectName: "", permutations: b)
        let classifier = ShiftTestOutcome(kind: .classifier, statistic: 0, pValue: 0.004, adjustedPValue: 1, effectSize: 0, effectName: "", permutations: nil)
        let v = CombinedVerdict([mmd, classifier], permutationStatistics: [(.mmd, tests[0])], classifierWeight: 0.1)
        #expect(abs(v.tests[1].adjustedPValue - 0.04) < 1e-15)
        #expect(abs(v.tests[0].adjustedPValue - min(1, single / 0.9)) < 1e-15)
        #expect(v.pValue == v.tests.map(\.adjustedPValue).min() && v.decidingTest == (single / 0.9 < 0.04 ? .mmd : .classifier))
        // One family alone: no factor at all.
        #expect(CombinedVerdict([classifier]).pValue == 0.004)
        #expect(CombinedVerdict([mmd], permutationStatistics: [(.mmd, tests[0])]).pValue == single)
    }

    /// The tests' p-values and the verdict of one pooled sample (first `half` rows = REF) through
    /// the library functions `ShiftAnalysis` calls, without the location / quality part. The
    /// calibration test checks on its first splits that this equals `ShiftAnalysis` exactly.
    static func nullOutcome(_ z: Matrix, half: Int, _ c: ShiftConfiguration) throws -> (p: [ShiftTestKind: Double], classifierFold: Double, family: Double, verdict: Double) {
        let perms = TwoSamplePermutations(firstCount: half, secondCount: z.rows - half, permutations: c.permutations, seed: c.seed)
        let sigma = medianHeuristicBandwidth(unitRows: z, sampleSize: c.bandwidthSample, seed: c.seed)
        let forms = kernelQuadraticForms(unitRows: z, kernels: [.gaussian(bandwidth: sigma), .distance], permutations: perms)
        let statistics: [(ShiftTestKind, [Double])] = [(.mmd, unbiasedMMDStatistics(forms[0])), (.energy, energyStatistics(forms[1])),
                                                       (.depth, depthPermutationStatistics(unitRows: z, permutations: perms)),
                                                       (.mmdCosine, cosineMMDStatistics(unitRows: z, permutations: perms))]
        var p: [ShiftTestKind: Double] = [:]
        for (kind, s) in statistics { p[kind] = permutationTestResult(observed: s[0], permuted: Array(s.dropFirst()), seed: c.seed).pValue }
        let folds = stratifiedFolds(firstCount: half, secondCount: z.rows - half, folds: c.folds, seed: c.seed)
        let classifier = try classifierTwoSampleTest(features: standardizedColumns(z), firstCount: half, folds: folds, foldCount: c.folds,
                                                     penalty: c.penalty, seed: c.seed)
        p[.classifier] = classifier.pValue
        // The default verdict: mmd, energy, classifier, depth.
        let defaults = statistics.filter { ShiftTestKind.defaults.contains($0.0) }
        let outcomes = ShiftTestKind.allCases.filter { ShiftTestKind.defaults.contains($0) }.map {
            ShiftTestOutcome(kind: $0, statistic: 0, pValue: p[$0]!, adjustedPValue: 1, effectSize: 0, effectName: "", permutations: nil)
        }
        let verdict = CombinedVerdict(outcomes, permutationStatistics: defaults, classifierWeight: c.classifierWeight)
        return (p, classifier.foldPValues[0], verdict.permutationFamilyPValue!, verdict.pValue)
    }

    /// Under H₀ (both corpora random halves of 80 rows drawn from the 1,800 bundled sentence
    /// embeddings, B = 399: an exact permutation test rejects with probability 19/400 = 0.0475),
    /// over 1,000 seeded splits: every test — and the permutation family's weighted min-p, which is
    /// exact too — rejects at α = 0.05 in 3–7 % of the splits and its p-values pass a χ² test of
    /// uniformity; the default verdict rejects in 3–7 %. The first two splits are also run through
    /// `ShiftAnalysis` and must give the same p-values, so this checks the shipped code path.
    @Test func nullCalibration() throws {
        let all = try Self.load("data/sentences/debian-minilm-l6.npy")
        let unit = Matrix.normalizedRows(all.matrix)
        var rng = SeededGenerator(seed: 2026)
        var c = ShiftConfiguration()
        c.permutations = 399
        c.tests = ShiftTestKind.allCases
        let splits = 1000
        // Row sets drawn in order (seeded); each split's result depends only on its rows and seed.
        // (Sequential: toggling OpenBLAS' global thread count here would race with the GEMMs of
        // the tests that Swift Testing runs in parallel.)
        let rowSets = (0..<splits).map { _ in rng.sampleIndices(all.count, count: 80).shuffled(using: &rng) }
        typealias Outcome = (p: [ShiftTestKind: Double], classifierFold: Double, family: Double, verdict: Double)
        var outcomes: [Outcome?] = []
        for s in 0..<splits {
            var cs = c
            cs.seed = UInt64(s)
            outcomes.append(try Self.nullOutcome(unit.gather(rows: rowSets[s]), half: 40, cs))
        }
        var p: [ShiftTestKind: [Double]] = [:]
        var family: [Double] = [], verdict: [Double] = [], classifierFolds: [Double] = []
        for r in outcomes.map({ $0! }) {
            for (kind, value) in r.p { p[kind, default: []].append(value) }
            family.append(r.family)
            verdict.append(r.verdict)
            classifierFolds.append(r.classifierFold)
        }
        for s in 0..<2 {
            var d = c
            d.seed = UInt64(s)
            d.tests = ShiftTestKind.defaults
            let rows = rowSets[s], r = outcomes[s]!
            let a = try ShiftAnalysis(reference: all.selecting(rows: Array(rows[0..<40])), others: [all.selecting(rows: Array(rows[40..<80]))], configuration: d)
            #expect(a.comparisons[0].verdict!.pValue == r.verdict && a.comparisons[0].verdict!.permutationFamilyPValue == r.family)
            for t in a.comparisons[0].verdict!.tests { #expect(t.pValue == r.p[t.kind], "\(t.kind.rawValue)") }
        }
        func check(_ name: String, _ values: [Double], uniform: [Double]? = nil) {
            let rejected = Calibration.rejectionRate(values)
            #expect(rejected >= 0.03 && rejected <= 0.07, "\(name): fraction p < 0.05 = \(rejected)")
            guard let tested = uniform else { return }
            let fit = Calibration.uniformity(tested)
            #expect(fit.pValue > 0.001, "\(name): p-values not uniform, bins \(fit.counts)")
        }
        for (kind, values) in p.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            // The classifier's p is a Bonferroni bound over its folds (super-uniform by design):
            // uniformity is checked on its first fold's own exact Mann–Whitney p-value.
            check(kind.rawValue, values, uniform: kind == .classifier ? classifierFolds : values)
        }
        check("permutation family (weighted min-p)", family, uniform: family)
        // The verdict divides the family's p by 0.9 and joins the classifier's at 0.1: conservative by construction.
        check("verdict", verdict)
    }

    /// The blind spots of the one-sided depth test: an OTHER corpus drawn from the most
    /// central rows (too typical) and a narrow topic are caught, and the report says where.
    @Test func detectsDiversityLossAndTopicNarrowingAndSaysWhere() throws {
        let all = try Self.load("data/sentences/debian-minilm-l6.npy")
        let sections = try String(contentsOf: CLI.repositoryRoot.appendingPathComponent("data/sentences/debian-sections.txt"), encoding: .utf8)
            .split(separator: "\n", omittingEmptySubsequences: false).prefix(all.count).map(String.init)
        var labelled = all
        labelled.labels = sections
        var rng = SeededGenerator(seed: 9)
        let refRows = rng.sampleIndices(all.count, count: 200)
        let rest = Set(0..<all.count).subtracting(refRows).sorted()
        let depth = try DepthAnalysis(reference: all, others: []).reference.depths
        let central = rest.sorted { depth[$0] > depth[$1] || (depth[$0] == depth[$1] && $0 < $1) }.prefix(rest.count * 4 / 10)
        var c = ShiftConfiguration()
        c.permutations = 999  // the overall p of k permutation tests cannot go below k/(B + 1)
        let typical = try ShiftAnalysis(reference: labelled.selecting(rows: refRows),
                                        others: [labelled.selecting(rows: Array(central.shuffled(using: &rng).prefix(150)))], configuration: c)
        let comp = typical.comparisons[0]
        #expect(comp.verdict!.pValue < 0.01, "too-typical corpus not detected: p = \(comp.verdict!.pValue)")
        // Against a control drawn from the same rows at random: the too-typical corpus crowds into
        // the dense part of REF (density up) and does not reproduce its periphery (recall down).
        let control = try ShiftAnalysis(reference: labelled.selecting(rows: refRows),
                                        others: [labelled.selecting(rows: Array(rest.shuffled(using: &rng).prefix(150)))], configuration: c).comparisons[0]
        #expect(comp.quality!.density > control.quality!.density + 0.2, "density \(comp.quality!.density) vs control \(control.quality!.density)")
        #expect(comp.quality!.recall < control.quality!.recall - 0.05, "recall \(comp.quality!.recall) vs control \(control.quality!.recall)")
        #expect(control.verdict!.pValue > 0.01)
        // The one-sided depth test (the depth command's default) is blind to it (p ≥ 0.5).
        var dc = DepthConfiguration()
        dc.alternative = .greater
        let oneSided = try DepthAnalysis(reference: labelled.selecting(rows: refRows), others: [labelled.selecting(rows: Array(central.prefix(150)))], configuration: dc)
        #expect(oneSided.tests[0].rankSum.pValue > 0.5)

        // Topic narrowing: OTHER = rows of one section only → that section is over-represented.
        let topic = sections[rest[0]]
        let narrow = rest.filter { sections[$0] == topic }.prefix(120)
        let n = try ShiftAnalysis(reference: labelled.selecting(rows: refRows), others: [labelled.selecting(rows: Array(narrow))], configuration: c)
        let nc = n.comparisons[0]
        #expect(nc.verdict!.pValue < 0.01)
        let top = try #require(nc.location!.labels.first)
        #expect(top.label == topic && top.otherShare == 1)
        let report = n.report()
        let answer = report.verdict?.answer ?? ""
        #expect(answer.contains("over-represents \(topic)"), "\(answer)")
        // Plain words first (what, how sure, how much); the combination rule lives in the notes.
        #expect(answer.hasPrefix("debian-minilm-l6.npy differs from debian-minilm-l6.npy, "), "\(answer)")
        #expect(answer.contains("(p = ") && answer.contains("AUC") && !answer.contains("Westfall") && !answer.contains("Bonferroni"), "\(answer)")
        #expect(report.notes.contains { $0.hasPrefix("Overall p-value: Westfall–Young") && $0.contains("smallest: ") })
        for key in ["p_value", "p_value_mmd", "p_value_energy", "p_value_classifier", "p_value_depth", "mmd", "energy", "auc", "depth_w",
                    "precision", "recall", "density", "coverage", "shifted"] {
            #expect(report.metric(key) != nil, "missing metric \(key)")
        }
    }

    @Test func resultsDoNotDependOnBlockSize() throws {
        let (x, y) = try Self.crosscheckCase("within_games")
        let z = Self.pooledUnitRows(x, y)
        let perms = TwoSamplePermutations(firstCount: 200, secondCount: 150, permutations: 50, seed: 5)
        let a = kernelQuadraticForms(unitRows: z, kernels: [.gaussian(bandwidth: 1.2), .distance], permutations: perms)
        let b = kernelQuadraticForms(unitRows: z, kernels: [.gaussian(bandwidth: 1.2), .distance], permutations: perms, blockRows: 37)
        for k in 0..<2 {
            for c in 0..<perms.columns { #expect(abs(a[k].quadratic[c] - b[k].quadratic[c]) < 1e-7) }
        }
        #expect(gaussianMMDTest(a[0], seed: 5).result.pValue == gaussianMMDTest(b[0], seed: 5).result.pValue)
    }

    /// `maxRows`: the same analysis as on the seeded samples themselves, rows named by their file
    /// row numbers, a note saying it is a sample; a cap below the tests' minimum is refused.
    @Test func maxRowsRunsOnASeededSampleAndSaysSo() throws {
        let (x, y) = try Self.crosscheckCase("within_games")
        var c = ShiftConfiguration()
        c.permutations = 99
        c.tests = [.mmd, .energy]
        c.maxRows = 120
        let capped = try ShiftAnalysis(reference: x, others: [y], configuration: c)
        #expect(capped.rowsBeforeSampling == [x.count, y.count] && x.count > 120 && y.count > 120)
        func sample(_ e: Embeddings, _ i: UInt64) -> Embeddings {
            var rng = SeededGenerator(seed: c.seed &+ 7919 &+ i)
            return e.selecting(rows: rng.sampleIndices(e.count, count: 120).sorted())
        }
        var plain = c
        plain.maxRows = nil
        let bySample = try ShiftAnalysis(reference: sample(x, 0), others: [sample(y, 1)], configuration: plain)
        let a = capped.report(), b = bySample.report()
        #expect(a.metrics == b.metrics)
        #expect(a.tables == b.tables)
        // File row numbers: the uncovered reference rows are rows of x's file, from the sample.
        let sampledRows = Set(sample(x, 0).sourceRows!)
        let uncovered = try #require(a.tables.first { $0.name == "uncovered" })
        for row in uncovered.rows { guard case .int(let r) = row[0] else { Issue.record("row \(row[0])"); continue }; #expect(sampledRows.contains(r)) }
        #expect(a.notes.contains { $0.contains("seeded sample of 120") && $0.contains("\(x.count) rows") })
        #expect(a.parameters.contains { $0.key == "max_rows" })
        c.maxRows = 2
        #expect(throws: EmbdiagError.self) { try ShiftAnalysis(reference: x, others: [y], configuration: c) }
    }

    @Test func errorsNameTheFile() throws {
        let two = Embeddings(matrix: Matrix([[1, 0], [0, 1]]), name: "two.npy")
        var rng = SeededGenerator(seed: 1)
        let many = Embeddings(matrix: rng.gaussianMatrix(rows: 20, cols: 2), name: "many.npy")
        let wide = Embeddings(matrix: rng.gaussianMatrix(rows: 20, cols: 3), name: "wide.npy")
        #expect(throws: EmbdiagError.invalid("two.npy", "shift needs at least 6 rows (has 2; at least \(Setting.k) + 1 and \(Setting.folds))")) {
            try ShiftAnalysis(reference: many, others: [two])
        }
        #expect(throws: EmbdiagError.self) { try ShiftAnalysis(reference: many, others: [wide]) }
        var c = ShiftConfiguration()
        c.permutations = 0
        #expect(throws: EmbdiagError.self) { try ShiftAnalysis(reference: many, others: [many], configuration: c) }
    }
}

/// The `shift` subcommand end to end (built binary).
@Suite(.serialized) struct ShiftCLITests {
    @Test func gatesJSONAndUsageErrors() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let games = CLI.repositoryRoot.appendingPathComponent("data/sentences/by-section/games.npy").path
        let fonts = CLI.repositoryRoot.appendingPathComponent("data/sentences/by-section/fonts.npy").path
        let gamesLabels = CLI.repositoryRoot.appendingPathComponent("data/sentences/by-section/games.txt").path
        let r = try CLI.run(["shift", games, fonts, "--permutations", "200", "--labels", gamesLabels, "--output", dir + "/out",
                             "--require", "p_value>=0.01", "--quiet"])
        #expect(r.status == 1, "games vs fonts must fail a p_value>=0.01 gate: \(r.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/out/report.json"))) as! [String: Any]
        #expect(json["analyzer"] as? String == "shift")
        #expect(((json["verdict"] as? [String: Any])?["answer"] as? String)?.contains("differs from games.npy") == true)
        let metrics = json["metrics"] as! [String: Any]
        for key in ["p_value", "p_value_mmd", "p_value_energy", "p_value_classifier", "p_value_depth"] {
            let p = try #require(metrics[key] as? Double, "\(key)")
            #expect(p > 0 && p < 0.01)
        }
        let text = try String(contentsOfFile: dir + "/out/report.txt", encoding: .utf8)
        let verdictAt = try #require(text.range(of: "fonts.npy differs from games.npy"))
        #expect(verdictAt.lowerBound < text.range(of: "input: ")!.lowerBound, "the verdict comes first")
        let html = try String(contentsOfFile: dir + "/out/report.html", encoding: .utf8)
        #expect(html.range(of: "class=\"verdict\"")!.lowerBound < html.range(of: "Inputs")!.lowerBound)
        let bad = try CLI.run(["shift", games, fonts, "--tests", "mmd,bogus"])
        #expect(bad.status == 2 && bad.stderr.contains("bogus"))
        let one = try CLI.run(["shift", games])
        #expect(one.status == 2)
        let missing = try CLI.run(["shift", games, dir + "/nope.npy"])
        #expect(missing.status == 2 && missing.stderr.contains("nope.npy"))
    }

    /// A bandwidth scale that makes the kernel 0 or 1 in Float32 measures round-off (a scale of
    /// 0.01 called two samples of one distribution shifted, 1e4 missed a shift): refused before
    /// any work, like the same σ given with --bandwidth.
    @Test func bandwidthScalesOutsideTheKernelsFloat32RangeAreRefused() throws {
        let games = CLI.repositoryRoot.appendingPathComponent("data/sentences/by-section/games.npy").path
        let fonts = CLI.repositoryRoot.appendingPathComponent("data/sentences/by-section/fonts.npy").path
        for scales in ["0.01", "1e4", "1,0.05"] {
            let r = try CLI.run(["shift", games, fonts, "--tests", "mmd", "--bandwidth-scales", scales, "--quiet"])
            #expect(r.status == 2 && r.stderr.contains("--bandwidth-scales") && r.stderr.contains("round-off"), "\(scales): \(r.stderr)")
        }
        let given = try CLI.run(["shift", games, fonts, "--tests", "mmd", "--bandwidth", "0.5", "--bandwidth-scales", "1,0.1", "--quiet"])
        #expect(given.status == 2 && given.stderr.contains("× --bandwidth-scales 0.1"), "\(given.stderr)")
        var c = ShiftConfiguration()
        c.bandwidthScales = [0.5, 1, 2]
        try c.validate()
        c.bandwidthScales = [0.01]
        #expect(throws: EmbdiagError.self) { try c.validate() }
    }
}
