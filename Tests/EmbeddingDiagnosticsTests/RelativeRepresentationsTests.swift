import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// Relative representations and space comparison (Guides/RelativeRepresentations.md) against
/// theorems (invariances, independence), hand-sized n × n formulas, and reference values from
/// scripts/crosscheck/relrep_crosscheck.py (numpy 2.4, scipy 1.17, latentis 0.0.8 ported to numpy).
@Suite struct RelativeRepresentationsTests {
    // MARK: fixtures

    /// The deterministic matrices of relrep_crosscheck.py `formula_matrices()`.
    static func formulaMatrices() -> (x: Matrix, y: Matrix, y2: Matrix) {
        let n = 60, dx = 8, dy = 5
        var x = [[Float]](), y = [[Float]](), y2 = [[Float]]()
        for i in 0..<n {
            let xi = (0..<dx).map { j in Float(sin(Double(i * dx + j) * 0.731) + 0.3 * cos(Double(i) * 0.1 * Double(j + 1))) }
            x.append(xi)
            y.append((0..<dy).map { k in Float(cos(Double(i * dy + k) * 0.517) + 0.5 * sin(Double(i) * 0.05 * Double(k + 2)) + 0.8 * Double(xi[k])) })
            y2.append((0..<dx).map { j in Float(1.5 * Double(xi[(j + 1) % dx]) + 0.2 * sin(Double(i * j) * 0.3)) })
        }
        return (Matrix(x), Matrix(y), Matrix(y2))
    }

    /// Gaussian rows with a non-isotropic covariance (so CKA and neighbours are not degenerate).
    static func correlatedGaussian(rows: Int, cols: Int, seed: UInt64) -> Matrix {
        var rng = SeededGenerator(seed: seed)
        let z = rng.gaussianMatrix(rows: rows, cols: cols)
        let mix = rng.gaussianMatrix(rows: cols, cols: cols)
        return BLAS.matmul(z, mix)
    }

    /// Y = s·X·Q + shift (Q random orthogonal).
    static func rotated(_ x: Matrix, scale: Float, shift: Float = 0, seed: UInt64) -> Matrix {
        var rng = SeededGenerator(seed: seed)
        let q = rng.orthogonalMatrix(x.cols)
        let y = BLAS.matmul(x, q)
        let p = y.mutablePointer
        for i in 0..<y.count { p[i] = p[i] * scale + shift }
        return y
    }

    static func configuration(anchors: Int = 50, k: Int = 5, centering: Bool = false) -> RelativeRepresentationsConfiguration {
        var c = RelativeRepresentationsConfiguration()
        c.anchorCount = anchors
        c.k = k
        c.centering = centering
        c.maxQueries = 0
        c.sweepCounts = []
        return c
    }

    static func maxAbsDifference(_ a: Matrix, _ b: Matrix) -> Float {
        zip(a.values, b.values).reduce(0) { max($0, abs($1.0 - $1.1)) }
    }

    // MARK: invariances (theorems)

    @Test func rotationAndRescalingLeaveRelativeRepresentationUnchanged() throws {
        let x = Self.correlatedGaussian(rows: 400, cols: 32, seed: 3)
        let y = Self.rotated(x, scale: 2.5, seed: 4)
        let anchors = try AnchorStrategy.selectAnchors(x, count: 40, strategy: .random, seed: 42)
        for centering in [false, true] {
            let rx = RelativeProjection(space: x, anchorRows: anchors, centering: centering).project(x)
            let ry = RelativeProjection(space: y, anchorRows: anchors, centering: centering).project(y)
            #expect(Self.maxAbsDifference(rx, ry) < 1e-5)
        }
        var result = try RelativeComparison(reference: Embeddings(matrix: x, name: "x"), other: Embeddings(matrix: y, name: "y"),
                                            configuration: Self.configuration(anchors: 40))
        defer {
            // Standard errors by hand: ranks 1, 2, 4 → p = 1/3, √(p(1−p)/3) = 0.272166; 1/rank = 1, .5, .25,
            // sd (ddof 1) = 0.381881, /√3 = 0.220479.
            result.relativeRanks = [0, 1, 3].map { TiedFirstRank(before: $0, blockSize: 1, relevantInBlock: 1) }
            #expect(abs(result.relativeTop1StandardError - 0.2721655) < 1e-6)
            #expect(abs(result.relativeMRRStandardError - 0.2204793) < 1e-6)
        }
        #expect(abs(result.ckaLinear - 1) < 1e-6)
        #expect(abs(result.ckaDebiased - 1) < 1e-6)
        #expect(result.relativeTop1 == 1)
        #expect(result.relativeMRR == 1)
        #expect(abs(result.relativeCosineMean - 1) < 1e-6)
        #expect(result.knnJaccardRelative.allSatisfy { $0 == 1 })
        #expect(result.knnJaccardAbsolute.allSatisfy { $0 == 1 })
        #expect(result.mutualKNN.allSatisfy { $0 == 1 })
        #expect(try #require(result.procrustesDisparity) < 1e-6)
        // The raw coordinates are not aligned: absolute retrieval is near chance.
        #expect(try #require(result.absoluteTop1) < 0.05)
    }

    @Test func centringOnAnchorsAddsTranslationInvariance() throws {
        let x = Self.correlatedGaussian(rows: 300, cols: 16, seed: 5)
        let y = Self.rotated(x, scale: 0.7, shift: 3, seed: 6)
        let anchors = Array(stride(from: 0, to: 300, by: 10))
        let centred = (RelativeProjection(space: x, anchorRows: anchors, centering: true).project(x),
                       RelativeProjection(space: y, anchorRows: anchors, centering: true).project(y))
        #expect(Self.maxAbsDifference(centred.0, centred.1) < 1e-5)
        let raw = (RelativeProjection(space: x, anchorRows: anchors, centering: false).project(x),
                   RelativeProjection(space: y, anchorRows: anchors, centering: false).project(y))
        #expect(Self.maxAbsDifference(raw.0, raw.1) > 0.1)
        // CKA centres by itself: unaffected by the shift.
        #expect(abs(SpaceComparison.linearCKA(x, y) - 1) < 1e-6)
    }

    // MARK: independence

    @Test func independentSpacesGiveDebiasedCKANearZeroAndChanceRetrieval() throws {
        let x = Self.correlatedGaussian(rows: 1_000, cols: 64, seed: 11)
        var rng = SeededGenerator(seed: 12)
        let z = rng.gaussianMatrix(rows: 1_000, cols: 48)
        var c = Self.configuration(anchors: 100)
        c.maxQueries = 0
        let result = try RelativeComparison(reference: Embeddings(matrix: x, name: "x"), other: Embeddings(matrix: z, name: "z"), configuration: c)
        // Debiased CKA: mean 0, sd ≈ √(2/(n²))·… ≪ 0.01 here; the biased estimator is inflated.
        #expect(abs(result.ckaDebiased) < 0.01)
        #expect(result.ckaLinear > 0.02)
        // 900 queries against 1000 rows: chance top-1 = 0.001, i.e. ≈ 1 hit.
        #expect(result.relativeTop1 < 0.01)
        #expect(abs(result.relativeCosineMean) < 0.05)
        #expect(result.procrustesDisparity == nil && result.absoluteRanks == nil)
    }

    // MARK: feature-space formulas vs direct n × n formulas (hand-sized)

    @Test func featureSpaceCKAEqualsGramMatrixFormulas() {
        let (x, y, _) = Self.formulaMatrices()
        let n = x.rows
        func gram(_ m: Matrix) -> [[Double]] {
            (0..<n).map { i in (0..<n).map { j in zip(m.row(i), m.row(j)).reduce(0.0) { $0 + Double($1.0) * Double($1.1) } } }
        }
        let k = gram(x), l = gram(y)
        // Biased: Σ (HKH)∘(HLH).
        func centred(_ g: [[Double]]) -> [[Double]] {
            let rowMeans = g.map { $0.reduce(0, +) / Double(n) }
            let all = rowMeans.reduce(0, +) / Double(n)
            return (0..<n).map { i in (0..<n).map { j in g[i][j] - rowMeans[i] - rowMeans[j] + all } }
        }
        func hsic(_ a: [[Double]], _ b: [[Double]]) -> Double {
            let ca = centred(a), cb = centred(b)
            return (0..<n).reduce(0.0) { s, i in s + (0..<n).reduce(0.0) { $0 + ca[i][$1] * cb[i][$1] } }
        }
        let direct = hsic(k, l) / (hsic(k, k) * hsic(l, l)).squareRoot()
        #expect(abs(SpaceComparison.linearCKA(x, y) - direct) < 1e-9)
        // Unbiased (Song et al. 2012) with explicit zero-diagonal matrices, on the *uncentred* Gram.
        func unbiased(_ a: [[Double]], _ b: [[Double]]) -> Double {
            var tr = 0.0, sa = 0.0, sb = 0.0, cross = 0.0
            var ra = [Double](repeating: 0, count: n), rb = ra
            for i in 0..<n { for j in 0..<n where i != j { tr += a[i][j] * b[j][i]; ra[i] += a[i][j]; rb[i] += b[i][j] } }
            sa = ra.reduce(0, +); sb = rb.reduce(0, +)
            for i in 0..<n { cross += ra[i] * rb[i] }
            let nn = Double(n)
            return (tr + sa * sb / ((nn - 1) * (nn - 2)) - 2 / (nn - 2) * cross) / (nn * (nn - 3))
        }
        let directU = unbiased(k, l) / (unbiased(k, k) * unbiased(l, l)).squareRoot()
        #expect(abs(SpaceComparison.debiasedLinearCKA(x, y) - directU) < 1e-9)
    }

    /// Relative rows 0 and 5 (first 4 entries), plain and anchor-centred, against a fixture's
    /// "relative_plain"/"relative_centred" (float32 projections: 1e-6).
    static func expectRelativeRows(of x: Matrix, anchors: [Int], match constants: [String: Any]) throws {
        for (centering, name) in [(false, "relative_plain"), (true, "relative_centred")] {
            let projected = RelativeProjection(space: x, anchorRows: anchors, centering: centering).project(x)
            let rows = try #require(constants[name] as? [String: [Double]])
            #expect(rows.count == 2)
            for (row, values) in rows {
                for (j, v) in values.enumerated() { #expect(abs(Double(projected[Int(row)!, j]) - v) < 1e-6, "\(name)[\(row), \(j)]") }
            }
        }
    }

    // MARK: reference values (scripts/crosscheck/relrep_crosscheck.py formula)

    @Test func matchesCrosscheckScriptOnFormulaMatrices() throws {
        let (x, y, y2) = Self.formulaMatrices()
        // numpy n × n (latentis linear_hsic port), Song et al. direct formula, scipy.spatial.procrustes
        // and latentis RelativeProjection(cosine, Centering fitted on anchors) ported to numpy:
        // relrep_crosscheck.py fixture, "formula" → "y_constants" / "y2_constants".
        let formula = try #require(Self.reference["formula"] as? [String: Any])
        let cy = try #require(formula["y_constants"] as? [String: Any]), cy2 = try #require(formula["y2_constants"] as? [String: Any])
        #expect(abs(SpaceComparison.linearCKA(x, y) - (cy["cka_linear"] as! Double)) < 1e-8)
        #expect(abs(SpaceComparison.debiasedLinearCKA(x, y) - (cy["cka_debiased"] as! Double)) < 1e-8)
        #expect(abs(SpaceComparison.linearCKA(x, y2) - (cy2["cka_linear"] as! Double)) < 1e-8)
        #expect(abs(SpaceComparison.debiasedLinearCKA(x, y2) - (cy2["cka_debiased"] as! Double)) < 1e-8)
        #expect(abs(try SpaceComparison.orthogonalProcrustes(x, y2).disparity - (cy2["procrustes_disparity"] as! Double)) < 1e-8)
        let anchors = Array(stride(from: 0, to: 60, by: 7))
        try Self.expectRelativeRows(of: x, anchors: anchors, match: cy)

        // Retrieval, k-NN, several k, centring modes and no anchors against the fixture
        // (relrep_crosscheck.py fixture: non-anchor queries and gallery).
        let ref = try #require(Self.reference["formula"] as? [String: [String: Any]])
        for (name, other) in [("y", y), ("y2", y2)] {
            for center in RelrepCentering.allCases {
                var c = Self.configuration(k: 3)
                c.ks = [3, 1, 5]
                c.anchorRows = anchors
                c.center = center
                let r = try RelativeComparison(reference: Embeddings(matrix: x, name: "x"), other: Embeddings(matrix: other, name: "y"), configuration: c)
                #expect(r.queryRows.count == 51 && r.evaluationRows.count == 51)
                try Self.compare(r, with: try #require(ref["\(name)_\(center.rawValue)"]), label: "formula \(name) \(center)")
                #expect(abs(r.relativeTop1StandardError - (r.relativeTop1 * (1 - r.relativeTop1) / 51).squareRoot()) < 1e-6)
            }
            var c = Self.configuration(k: 3)
            c.ks = [3, 1, 5]
            c.anchorCount = 0
            let r = try RelativeComparison(reference: Embeddings(matrix: x, name: "x"), other: Embeddings(matrix: other, name: "y"), configuration: c)
            #expect(!r.hasAnchors && r.relativeRanks.isEmpty && r.evaluationRows.count == 60)
            try Self.compare(r, with: try #require(ref["\(name)_no_anchors"]), label: "formula \(name) no anchors")
            let report = r.report()
            #expect(report.metric("relative_top1") == nil && report.metric("cka_debiased") != nil)
        }
    }

    // nonisolated(unsafe): parsed JSON (immutable Foundation values), never written after it is loaded,
    // so the parallel tests only read it.
    nonisolated(unsafe) static let reference: [String: Any] = {
        let url = CLI.fixtures.appendingPathComponent("crosscheck/relrep_reference.json")
        // A missing or unreadable fixture stops the suite loudly instead of comparing nothing.
        return try! JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    }()

    /// A k-NN metric that the report leaves null because ties decide too many of its sets, read
    /// from the comparison itself; nil for any other key.
    static func knnMetricNotReported(_ r: RelativeComparison, key: String) -> Double? {
        func at(_ prefix: String, _ values: [Double], _ shares: [Double]) -> Double? {
            guard key.hasPrefix(prefix), let k = Int(key.dropFirst(prefix.count)), let i = r.ks.firstIndex(of: k),
                  shares[i] > SpaceComparison.tiedPlaceShareLimit else { return nil }
            return values[i]
        }
        return at("knn_jaccard_at_", r.knnJaccardAbsoluteByK, r.knnTiedPlaceShareAbsoluteByK)
            ?? at("mutual_knn_at_", r.mutualKNNByK, r.knnTiedPlaceShareAbsoluteByK)
            ?? at("knn_jaccard_relative_at_", r.knnJaccardRelativeByK, r.knnTiedPlaceShareRelativeByK)
    }

    /// Every metric of a fixture case that the comparison computes, through the report keys.
    static func compare(_ r: RelativeComparison, with want: [String: Any], label: String) throws {
        let report = r.report()
        #expect(r.centered == (want["centered"] as! Bool) || !r.hasAnchors, "\(label) centered")
        for (key, value) in want {
            guard let v = value as? Double else { continue }
            let got: Double?
            if let m = report.metric(key)?.number {
                got = m
            } else if let m = Self.knnMetricNotReported(r, key: key) {
                // Not reported (ties decide too many k-NN sets): the computed value still matches.
                got = m
            } else if key.hasPrefix("knn_jaccard_at_") || key.hasPrefix("mutual_knn_at_") || key.hasPrefix("relative_top_at_") || key.hasPrefix("knn_jaccard_relative_at_") {
                got = nil
                Issue.record("\(label): \(key) missing from the report")
            } else {
                got = nil
            }
            guard let got else { continue }
            let tol = key.hasPrefix("cka") || key.hasPrefix("mean_cosine") ? 1e-7 : (key.hasSuffix("mrr") ? 1e-5 : 1e-6)
            #expect(abs(got - v) <= tol, "\(label) \(key): embdiag \(got) vs numpy \(v)")
        }
    }

    // MARK: Procrustes, neighbour overlap, ranks (hand cases)

    @Test func procrustesRecoversRotationAndScale() throws {
        let x = Self.correlatedGaussian(rows: 200, cols: 6, seed: 21)
        var rng = SeededGenerator(seed: 22)
        let q = rng.orthogonalMatrix(6)
        let y = BLAS.matmul(x, q)
        let p = y.mutablePointer
        for i in 0..<y.count { p[i] = 3 * p[i] + 1 }
        let fit = try SpaceComparison.orthogonalProcrustes(x, y)
        #expect(fit.disparity < 1e-10)
        #expect(abs(fit.scale - 3) < 1e-4)
        for i in 0..<36 { #expect(abs(fit.rotation[i] - Double(q.values[i])) < 1e-4) }
        #expect(throws: EmbdiagError.self) { try SpaceComparison.orthogonalProcrustes(x, Self.correlatedGaussian(rows: 200, cols: 5, seed: 1)) }
    }

    @Test func knnOverlapAndJaccardHandCase() {
        let a = NearestNeighbors(k: 3, indices: [1, 2, 3, 4, 5, 6], scores: [Float](repeating: 0, count: 6))
        let b = NearestNeighbors(k: 3, indices: [3, 2, 9, 7, 8, 9], scores: [Float](repeating: 0, count: 6))
        #expect(SpaceComparison.knnJaccard(a, b) == [2.0 / 4.0, 0])
        #expect(SpaceComparison.knnOverlap(a, b) == [2.0 / 3.0, 0])
    }

    @Test func trueMatchRanksCountBetterAndTheTiedBlock() {
        // Query scores against 4 gallery rows: [0.5, 0.9, 0.5, 0.1]; rows 0 and 2 tie.
        let gallery = Matrix([[0.5], [0.9], [0.5], [0.1]])
        let queries = Matrix([[1], [1], [1]])
        #expect(Retrieval.trueMatchRanks(queries: queries, gallery: gallery, trueIndices: [1, 0, 2])
                == [TiedFirstRank(before: 0, blockSize: 1, relevantInBlock: 1), TiedFirstRank(before: 1, blockSize: 2, relevantInBlock: 1),
                    TiedFirstRank(before: 1, blockSize: 2, relevantInBlock: 1)])
    }

    @Test func nearestNeighborsOfRowsExcludeTheRowItself() {
        let m = Matrix.normalizedRows(Matrix([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9]]))
        let nn = nearestNeighbors(ofRows: [0, 2], in: m, k: 1)
        #expect(nn.indices == [1, 3])
    }

    // MARK: anchors

    @Test func anchorStrategiesAreSeededDistinctAndSensible() throws {
        // 8 points on a circle: farthest-point sampling from any start picks the antipode next.
        let circle = Matrix((0..<8).map { i in [Float(cos(Double(i) * .pi / 4)), Float(sin(Double(i) * .pi / 4))] })
        let f = try AnchorStrategy.selectAnchors(circle, count: 2, strategy: .farthest, seed: 1)
        #expect((f[0] + 4) % 8 == f[1])
        let x = Self.correlatedGaussian(rows: 300, cols: 8, seed: 31)
        for strategy in AnchorStrategy.allCases {
            let a = try AnchorStrategy.selectAnchors(x, count: 30, strategy: strategy, seed: 7)
            #expect(Set(a).count == 30 && a.allSatisfy { (0..<300).contains($0) })
            #expect(try AnchorStrategy.selectAnchors(x, count: 30, strategy: strategy, seed: 7) == a)
            #expect(try AnchorStrategy.selectAnchors(x, count: 30, strategy: strategy, seed: 8) != a)
        }
        // Farthest-point anchors spread out more than random ones (lower mean pairwise cosine).
        func meanPairCosine(_ rows: [Int]) -> Double {
            let u = Matrix.normalizedRows(x.gather(rows: rows))
            let g = BLAS.matmul(u, u, transposeB: true)
            var s = 0.0
            for i in 0..<rows.count { for j in 0..<rows.count where i != j { s += Double(abs(g[i, j])) } }
            return s / Double(rows.count * (rows.count - 1))
        }
        #expect(meanPairCosine(try AnchorStrategy.selectAnchors(x, count: 20, strategy: .farthest, seed: 7)) <
                meanPairCosine(try AnchorStrategy.selectAnchors(x, count: 20, strategy: .random, seed: 7)))
        // Sequential strategies: a shorter selection is a prefix of a longer one (the sweep relies on it).
        for strategy in [AnchorStrategy.farthest, .kmeansPlusPlus] {
            let long = try AnchorStrategy.selectAnchors(x, count: 50, strategy: strategy, seed: 9)
            #expect(try AnchorStrategy.selectAnchors(x, count: 12, strategy: strategy, seed: 9) == Array(long.prefix(12)))
        }
        #expect(throws: EmbdiagError.self) { try AnchorStrategy.selectAnchors(x, count: 301, strategy: .random, seed: 1) }
        #expect(throws: EmbdiagError.self) { try AnchorStrategy.selectAnchors(x, count: 0, strategy: .random, seed: 1) }
    }

    @Test func anchorFilesAreParsedAndValidated() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("relrep-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        func file(_ name: String, _ text: String) throws -> String {
            let p = dir.appendingPathComponent(name).path
            try text.write(toFile: p, atomically: true, encoding: .utf8)
            return p
        }
        #expect(try AnchorFile.readRows(path: file("a", "3\n1, 4 # comment\n\n"), rowCount: 5) == [3, 1, 4])
        #expect(throws: EmbdiagError.self) { try AnchorFile.readRows(path: file("b", "3\nx\n"), rowCount: 5) }
        #expect(throws: EmbdiagError.self) { try AnchorFile.readRows(path: file("c", "5\n"), rowCount: 5) }
        #expect(throws: EmbdiagError.self) { try AnchorFile.readRows(path: file("d", "1\n1\n"), rowCount: 5) }
        #expect(throws: EmbdiagError.self) { try AnchorFile.readRows(path: file("e", "\n"), rowCount: 5) }
        let e = Embeddings(matrix: Matrix([[1, 0], [0, 1], [1, 1]]), labels: ["cat", "Dog", "fish"], name: "m")
        #expect(try AnchorFile.readLabels(path: file("f", "fish\ndog\n")) == ["fish", "dog"])
        #expect(throws: EmbdiagError.self) { try AnchorFile.readLabels(path: file("h", "\n\n")) }
        #expect(try anchorRows(labelled: ["fish", "dog"], in: e, source: "f") == [2, 1])
        #expect(throws: EmbdiagError.self) { try anchorRows(labelled: ["fish", "bird"], in: e, source: "g") }
        #expect(throws: EmbdiagError.self) { try anchorRows(labelled: ["fish", "FISH"], in: e, source: "g") }
    }

    // MARK: pairing, sweep, report

    @Test func pairingByLabelMatchesShuffledRows() throws {
        let x = Self.correlatedGaussian(rows: 200, cols: 12, seed: 41)
        let y = Self.rotated(x, scale: 1.3, seed: 42)
        let labels = (0..<200).map { "w\($0)" }
        var rng = SeededGenerator(seed: 43)
        let order = (0..<200).shuffled(using: &rng)
        let shuffled = Embeddings(matrix: y.gather(rows: order), labels: order.map { labels[$0] }, name: "y")
        var c = Self.configuration(anchors: 20)
        c.pairing = .label
        let r = try RelativeComparison(reference: Embeddings(matrix: x, labels: labels, name: "x"), other: shuffled, configuration: c)
        #expect(r.pairedRows == 200 && r.relativeTop1 == 1 && abs(r.ckaDebiased - 1) < 1e-6)
        #expect(r.otherRows == (0..<200).map { i in order.firstIndex(of: i)! })
        c.pairing = .row
        let unpaired = try RelativeComparison(reference: Embeddings(matrix: x, labels: labels, name: "x"), other: shuffled, configuration: c)
        #expect(unpaired.relativeTop1 < 0.1)
        // Different row counts cannot be paired by row.
        #expect(throws: EmbdiagError.self) {
            try RelativeComparison(reference: Embeddings(matrix: x, name: "x"), other: Embeddings(matrix: y.rows(0..<150), name: "y"), configuration: c)
        }
    }

    @Test func invalidRowsAreDroppedPairwiseOrRejected() throws {
        let x = Self.correlatedGaussian(rows: 100, cols: 8, seed: 51).copy()
        let y = Self.rotated(x, scale: 1, seed: 52)
        y[7, 3] = .nan
        let c = Self.configuration(anchors: 10)
        #expect(throws: EmbdiagError.self) {
            try RelativeComparison(reference: Embeddings(matrix: x, name: "x"), other: Embeddings(matrix: y, name: "y"), configuration: c)
        }
        let r = try RelativeComparison(reference: Embeddings(matrix: x, name: "x"), other: Embeddings(matrix: y, name: "y"), configuration: c, invalidRows: .drop)
        #expect(r.pairedRows == 99 && !r.referenceRows.contains(7) && r.relativeTop1 == 1)
        #expect(r.dropped.count == 1 && r.dropped[0].rows.map(\.row) == [7])
    }

    @Test func sweepIsCappedAndImprovesWithAnchors() throws {
        let x = Self.correlatedGaussian(rows: 400, cols: 24, seed: 61)
        // A noisy copy: more anchors make relative vectors more distinctive.
        var rng = SeededGenerator(seed: 62)
        let noise = rng.gaussianMatrix(rows: 400, cols: 24)
        let y = x.copy()
        for i in 0..<y.count { y.mutablePointer[i] += 3 * noise.pointer[i] }
        var c = Self.configuration(anchors: 50)
        c.sweepCounts = [10, 50, 100, 300, 1000]
        let r = try RelativeComparison(reference: Embeddings(matrix: x, name: "x"), other: Embeddings(matrix: y, name: "y"), configuration: c)
        #expect(r.sweep.map(\.anchors) == [10, 50, 100, 200])
        #expect(r.sweep[1].relativeTop1 == r.relativeTop1 && r.sweep[1].relativeMRR == r.relativeMRR)
        #expect(r.sweep.last!.relativeTop1 > r.sweep.first!.relativeTop1 + 0.1, "\(r.sweep.map(\.relativeTop1))")
        let report = r.report()
        for key in ["relative_cosine_mean", "knn_jaccard", "knn_jaccard_relative", "mutual_knn", "relative_top1", "relative_mrr",
                    "cka_linear", "cka_debiased", "procrustes_residual", "absolute_top1", "chance_top1"] {
            #expect(report.metric(key) != nil, "missing metric \(key)")
        }
        #expect(report.table("anchor_sweep")?.rows.count == 4)
        #expect(report.charts.contains { $0.name == "anchor_sweep" && $0.kind == .line && $0.series.count == 3 })
    }

    @Test func singleSpaceSummary() throws {
        let x = Self.correlatedGaussian(rows: 300, cols: 16, seed: 71)
        var c = Self.configuration(anchors: 16)
        c.keepRelativeMatrix = true
        let r = try RelativeRepresentation(Embeddings(matrix: x, name: "x"), configuration: c)
        let m = try #require(r.relativeMatrix)
        #expect(m.rows == 300 && m.cols == 16)
        // Each anchor's own column holds cosine 1 at its row.
        for (j, row) in r.anchorRows.enumerated() { #expect(abs(m[row, j] - 1) < 1e-6) }
        #expect(r.meanMaxAnchorCosine <= 1 && r.meanMaxAnchorCosine > 0)
        #expect(r.anchorEffectiveRank > 1 && r.anchorEffectiveRank <= 16)
        #expect(r.report().metric("anchor_count") == .int(16))
    }
}

/// Real sample: the bundled sentence embeddings (all-MiniLM-L6-v2 final layer vs layer 3 of the
/// same 1,800 Debian package descriptions, data/sentences/), first 1,000 rows, anchors = rows
/// 0, 10, …, 990, k = 5, every non-anchor row a query. Reference values:
/// `python3 scripts/crosscheck/relrep_crosscheck.py real data/sentences/debian-minilm-l6.npy
/// data/sentences/debian-minilm-l6-layer3.npy 1000` (numpy 2.4.x, scipy 1.17.x, latentis 0.0.8 port).
@Suite struct RelativeRepresentationsRealDataTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let final = root.appendingPathComponent("data/sentences/debian-minilm-l6.npy").path
    static let layer3 = root.appendingPathComponent("data/sentences/debian-minilm-l6-layer3.npy").path

    @Test func matchesNumpyAndLatentisOnSentenceEmbeddings() throws {
        let x = try EmbeddingReader.read(Self.final, options: ReadOptions()).selecting(rows: Array(0..<1000))
        let y = try EmbeddingReader.read(Self.layer3, options: ReadOptions()).selecting(rows: Array(0..<1000))
        let ref = try #require(RelativeRepresentationsTests.reference["real"] as? [String: [String: Any]])
        let constants = try #require(ref["constants"])
        #expect(abs(SpaceComparison.linearCKA(x.matrix, y.matrix) - (constants["cka_linear"] as! Double)) < 1e-7)
        #expect(abs(SpaceComparison.debiasedLinearCKA(x.matrix, y.matrix) - (constants["cka_debiased"] as! Double)) < 1e-7)
        #expect(abs(try SpaceComparison.orthogonalProcrustes(x.matrix, y.matrix).disparity - (constants["procrustes_disparity"] as! Double)) < 1e-7)
        let anchors = Array(stride(from: 0, to: 1000, by: 10))
        try RelativeRepresentationsTests.expectRelativeRows(of: x.matrix, anchors: anchors, match: constants)
        var c = RelativeRepresentationsConfiguration()
        c.anchorRows = anchors
        c.ks = [5, 1, 10]
        c.maxQueries = 0
        c.sweepCounts = []
        for center in RelrepCentering.allCases {
            c.center = center
            let r = try RelativeComparison(reference: x, other: y, configuration: c)
            #expect(r.queryRows.count == 900)
            try RelativeRepresentationsTests.compare(r, with: try #require(ref[center.rawValue]), label: "real \(center)")
        }
        // The issue's case: layer 3 is a narrow cone (mean cosine 0.66), so the default (auto)
        // centres, and says so in the report.
        c.center = .auto
        let auto = try RelativeComparison(reference: x, other: y, configuration: c)
        #expect(auto.centered && auto.report().notes.contains { $0.contains("--center auto centred") })
        #expect(RelativeRepresentationsConfiguration().center == .auto)
        c.anchorRows = nil
        c.anchorCount = 0
        let none = try RelativeComparison(reference: x, other: y, configuration: c)
        try RelativeRepresentationsTests.compare(none, with: try #require(ref["no_anchors"]), label: "real no anchors")
    }
}

/// The `embdiag relrep` command end to end on the bundled sentence data: --write output equals the
/// library's projection, the JSON carries the documented keys, gates exit 1, bad input exits 2.
@Suite(.serialized) struct RelrepCommandTests {
    @Test
    func writeCompareAndGates() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = RelativeRepresentationsRealDataTests.final, b = RelativeRepresentationsRealDataTests.layer3
        let labels = CLI.repositoryRoot.appendingPathComponent("data/sentences/debian-packages.txt").path
        let r = try CLI.run(["relrep", a, "--labels", labels, "--compare", b, "--compare-labels", labels, "--pair-by", "label",
                             "--anchors", "40", "--center", "anchors", "--sweep", "10,5000", "--write", dir + "/rel.npy", "--json", dir + "/r.json", "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/r.json"))) as? [String: Any]
        let metrics = try #require(json?["metrics"] as? [String: Any])
        for key in ["paired_rows", "anchor_count", "queries", "evaluation_rows", "relative_cosine_mean", "relative_top1", "relative_topk",
                    "relative_mrr", "relative_mrr_at_k", "chance_top1", "knn_jaccard", "knn_jaccard_relative", "mutual_knn",
                    "cka_linear", "cka_debiased", "procrustes_residual", "absolute_top1", "absolute_mrr"] {
            #expect(metrics[key] != nil, "missing \(key)")
        }
        #expect(metrics["paired_rows"] as? Int == 1800)
        // Sweep: 10 and the cap n/2 = 900 (5000 > n).
        let sweep = try #require((json?["tables"] as? [String: Any])?["anchor_sweep"] as? [String: Any])
        #expect((sweep["rows"] as? [[Any]])?.map { $0[0] as? Int } == [10, 900])
        // The written matrix is the centred relative projection with the recorded anchors.
        let written = try EmbeddingReader.read(dir + "/rel.npy", options: ReadOptions())
        let meta = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/rel.json"))) as? [String: Any]
        let anchors = try #require(meta?["anchor_rows"] as? [Int])
        #expect(anchors.count == 40 && meta?["centering"] as? Bool == true)
        let x = try EmbeddingReader.read(a, options: ReadOptions())
        let expected = RelativeProjection(space: x.matrix, anchorRows: anchors, centering: true).project(x.matrix)
        #expect(written.count == 1800 && written.dimension == 40)
        #expect(zip(written.matrix.values, expected.values).allSatisfy { abs($0 - $1) < 1e-6 })
        // CKA without anchors and several k in one run; the default --center auto says
        // what it did.
        let cka = try CLI.run(["relrep", a, "--compare", b, "--anchors", "0", "--k", "1,5", "--json", dir + "/cka.json"])
        #expect(cka.status == 0, "\(cka.stderr)")
        let ckaMetrics = try #require((try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/cka.json"))) as? [String: Any])?["metrics"] as? [String: Any])
        #expect(ckaMetrics["cka_debiased"] is Double && ckaMetrics["mutual_knn_at_5"] is Double && ckaMetrics["relative_top1"] == nil)
        let auto = try CLI.run(["relrep", a, "--compare", b, "--anchors", "50", "--sweep", "none", "--queries", "100"])
        #expect(auto.status == 0 && auto.stdout.contains("--center auto centred"), "\(auto.stderr)")
        #expect(try CLI.run(["relrep", a, "--compare", b, "--center", "sometimes"]).status == 2)
        #expect(try CLI.run(["relrep", a, "--compare", b, "--k", "0"]).status == 2)
        // A gate that cannot hold → exit 1 after writing the report; a missing file → exit 2.
        let gate = try CLI.run(["relrep", a, "--compare", b, "--anchors", "20", "--sweep", "none", "--require", "relative_top1>=1.01",
                                "--json", dir + "/g.json", "--quiet"])
        #expect(gate.status == 1 && FileManager.default.fileExists(atPath: dir + "/g.json"))
        let missing = try CLI.run(["relrep", a, "--compare", dir + "/none.npy", "--quiet"])
        #expect(missing.status == 2 && missing.stderr.contains("none.npy"))
    }
}

extension RelrepCommandTests {
    @Test
    func anchorRowsRefertoFileRowsWhenRowsAreDropped() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Row 1 is all zeros: dropped; anchors 0, 2, 5 are file rows → positions 0, 1, 4.
        let rows: [[Float]] = (0..<8).map { i in i == 1 ? [0, 0, 0] : [Float(i), 1, Float(i % 3)] }
        try CLI.writeNpy(rows, to: dir + "/m.npy")
        try "0\n2\n5\n".write(toFile: dir + "/a.txt", atomically: true, encoding: .utf8)
        let r = try CLI.run(["relrep", dir + "/m.npy", "--anchor-rows", dir + "/a.txt", "--on-invalid", "drop", "--write", dir + "/rel.npy", "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        let meta = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/rel.json"))) as? [String: Any]
        #expect(meta?["anchor_rows"] as? [Int] == [0, 2, 5])
        #expect(meta?["source_rows"] as? [Int] == [0, 2, 3, 4, 5, 6, 7])
        let written = try EmbeddingReader.read(dir + "/rel.npy", options: ReadOptions())
        // Row for file row 2 (position 1) has cosine 1 with anchor 1 (itself).
        #expect(written.count == 7 && abs(written.matrix[1, 1] - 1) < 1e-6)
        try "1\n".write(toFile: dir + "/b.txt", atomically: true, encoding: .utf8)
        let bad = try CLI.run(["relrep", dir + "/m.npy", "--anchor-rows", dir + "/b.txt", "--on-invalid", "drop", "--quiet"])
        #expect(bad.status == 2 && bad.stderr.contains("dropped"))
    }
}
