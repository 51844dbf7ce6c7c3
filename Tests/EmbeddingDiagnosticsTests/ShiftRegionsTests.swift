import Foundation
import Testing
@testable import EmbeddingDiagnostics
import EmbeddingDiagnosticsTestSupport

/// shift's regions: the share tests and the k-means against scipy / numpy
/// (scripts/crosscheck/regions_reference.py → Tests/Fixtures/crosscheck/regions_reference.json),
/// calibration under H₀ on random splits of real sentences, power on injected topic shifts, and
/// the map's determinism.
@Suite struct ShiftRegionsTests {
    // nonisolated(unsafe): parsed JSON (immutable Foundation values), never written after it is loaded,
    // so the parallel tests only read it.
    nonisolated(unsafe) static let fixture: [String: Any] = {
        let url = CLI.fixtures.appendingPathComponent("crosscheck/regions_reference.json")
        return (try? JSONSerialization.jsonObject(with: Data(contentsOf: url))) as? [String: Any] ?? [:]
    }()

    static let sentences: Embeddings = {
        let root = CLI.repositoryRoot.appendingPathComponent("data/sentences/")
        let e = try! EmbeddingReader.read(root.appendingPathComponent("debian-minilm-l6.npy").path)
        let labels = try! LabelsFile.read(root.appendingPathComponent("debian-sections.txt").path, expectedCount: e.count, matrixPath: e.source.path)
        var out = e
        out.labels = labels
        return out
    }()

    static func rows(of section: String) -> [Int] { sentences.labels!.indices.filter { sentences.labels![$0] == section } }

    @Test func shareTestsMatchScipy() throws {
        let cases = try #require(Self.fixture["share_tests"] as? [[String: Any]])
        #expect(cases.count >= 10)
        var chiP: [Double] = []
        for c in cases {
            let a = c["a"] as! Int, m = c["m"] as! Int, b = c["b"] as! Int, n = c["n"] as! Int
            let t = twoProportionTest(a, of: m, b, of: n)
            #expect(t.kind.rawValue == c["method"] as! String, "\(a)/\(m) vs \(b)/\(n): \(t.kind)")
            let expected = c[t.kind == .chiSquared ? "chi2_p" : "fisher_p"] as! Double
            // Fisher sums exp(log C(·,·) − log C(N, n)); for N ~ 10⁶ the log-binomials (~10⁷) carry ~10⁻⁹ relative error.
            #expect(Tolerance.isClose(t.pValue, expected, relative: t.kind == .fisherExact ? 1e-8 : 1e-9, absolute: 1e-300),
                    "\(a)/\(m) vs \(b)/\(n): p \(t.pValue) vs \(expected)")
            if t.kind == .chiSquared {
                #expect(Tolerance.isClose(t.statistic, c["z"] as! Double, relative: 1e-12, absolute: 1e-12))
            }
            chiP.append(c["chi2_p"] as! Double)
        }
        let bh = try #require(Self.fixture["bh_of_chi2"] as? [Double])
        for (x, y) in zip(MultipleTesting.benjaminiHochbergAdjusted(chiP), bh) { #expect(Tolerance.isClose(x, y, relative: 1e-12)) }
    }

    @Test func kMeansReachesNumpyLloydOptimumAndAssignsAsNumpy() throws {
        let km = try #require(Self.fixture["kmeans"] as? [String: Any])
        let refRows = km["reference_rows"] as! [Int], queryRows = km["query_rows"] as! [Int]
        let ref = Matrix.normalizedRows(Self.sentences.matrix.gather(rows: refRows))
        let queries = Matrix.normalizedRows(Self.sentences.matrix.gather(rows: queryRows))
        let numpyObjective = km["objective"] as! Double, numpyLabels = km["labels"] as! [Int]
        let fitted = kMeansClusters(ref, k: km["k"] as! Int, restarts: 20, iterations: 300, seed: 3)
        // At least as good as numpy's best of 50 Lloyd runs (Float32 distances: 1e-5 relative).
        #expect(fitted.objective <= numpyObjective * (1 + 1e-5), "objective \(fitted.objective) vs numpy \(numpyObjective)")
        if abs(fitted.objective / numpyObjective - 1) < 1e-5 {
            // The same optimum: the same partition up to the cluster numbering.
            var map: [Int: Int] = [:]
            for (s, p) in zip(fitted.labels, numpyLabels) {
                #expect(map[s, default: p] == p, "partition differs from numpy's")
                map[s] = p
            }
        }
        // Nearest-centroid assignment (Float64 decisions) = numpy's argmin on the same centroids.
        let centroids = Matrix((km["centroids"] as! [[Double]]).map { $0.map(Float.init) })
        let assigned = ReferenceRegions.nearest(queries, centroids).cluster
        #expect(assigned == km["query_nearest"] as! [Int])
    }

    /// REF and OTHER drawn from one pool: per-cluster p-values uniform, new-region test at level.
    @Test func clusterTestsAreCalibratedUnderTheNull() throws {
        let all = Self.sentences
        var clusterP: [Double] = [], newP: [Double] = []
        for split in 0..<60 {
            var rng = SeededGenerator(seed: 1000 + UInt64(split))
            let order = rng.sampleIndices(all.count, count: 900).shuffled(using: &rng)
            let refUnit = Matrix.normalizedRows(all.matrix.gather(rows: Array(order[..<600])))
            let otherUnit = Matrix.normalizedRows(all.matrix.gather(rows: Array(order[600...])))
            let regions = try ReferenceRegions(referenceUnit: refUnit, labels: nil, clusters: nil, neighbors: 5, seed: UInt64(split))
            let prc = precisionRecallCoverage(reference: refUnit, other: otherUnit, k: 5)
            let r = regions.compare(otherUnit, labels: nil, insideReference: prc.otherWithinReferenceBall, alpha: 0.05)
            clusterP += r.clusters.map(\.test.pValue)
            newP.append(r.newRegionTest.pValue)
        }
        let fit = Calibration.uniformity(clusterP)
        #expect(fit.pValue > 0.001, "cluster p-values not uniform: \(fit.counts)")
        let rate = Calibration.rejectionRate(clusterP)
        #expect(rate < 0.05 + 3 * (0.05 * 0.95 / Double(clusterP.count)).squareRoot(), "cluster rejection \(rate)")
        let newRate = Calibration.rejectionRate(newP)
        #expect(newRate <= 0.15, "new-region rejection \(newRate) over \(newP.count) splits")
    }

    /// REF: equal parts games / science / sound; windows from held-out rows with one injected change.
    static func injected(_ kind: String, seed: UInt64) -> (Embeddings, Embeddings) {
        var rng = SeededGenerator(seed: seed)
        var pools = ["games", "science", "sound", "fonts"].map { rows(of: $0).shuffled(using: &rng) }
        let ref = pools[0].prefix(150) + pools[1].prefix(150) + pools[2].prefix(150)
        for i in 0..<3 { pools[i].removeFirst(150) }
        let counts: [Int]
        switch kind {
        case "grows": counts = [100, 25, 25, 0]
        case "vanishes": counts = [75, 75, 0, 0]
        case "new": counts = [40, 40, 40, 30]
        default: counts = [50, 50, 50, 0]
        }
        var window: [Int] = []
        for (i, c) in counts.enumerated() { window += pools[i].prefix(c) }
        return (Self.sentences.selecting(rows: Array(ref)), Self.sentences.selecting(rows: window))
    }

    static func quickConfiguration() -> ShiftConfiguration {
        var c = ShiftConfiguration()
        c.tests = [.mmd]
        c.permutations = 200
        return c
    }

    @Test(arguments: ["grows", "vanishes", "new"])
    func injectedChangeIsFoundAndRankedFirst(kind: String) throws {
        let (ref, window) = Self.injected(kind, seed: 11)
        let analysis = try ShiftAnalysis(reference: ref, others: [window], configuration: Self.quickConfiguration())
        let r = try #require(analysis.comparisons[0].regions)
        let top = try #require(r.clusters.first)
        switch kind {
        case "grows":
            #expect(top.name.hasPrefix("games") && top.direction == .grew, "\(r.clusters.map { ($0.name, $0.shareChange, $0.direction) })")
        case "vanishes":
            #expect(top.name.hasPrefix("sound") && top.direction == .vanished, "\(r.clusters.map { ($0.name, $0.shareChange, $0.direction) })")
        default:
            #expect(r.newRegionFound, "new share \(r.newShare) vs \(r.referenceNewShare)")
            let group = try #require(r.newRegions.first)
            #expect(group.name.hasPrefix("fonts"), "largest new group \(group.name)")
        }
        let sentence = analysis.regionSentence(0)
        #expect(sentence.contains(kind == "grows" ? "grew: C" : kind == "vanishes" ? "vanished: C" : "new: "), "\(sentence)")
    }

    /// What a saved reference keeps (centres, counts, names, the new-row rate) gives the same comparison.
    @Test func regionsRestoredFromTheirPartsCompareTheSame() throws {
        let (ref, window) = Self.injected("grows", seed: 14)
        let refUnit = Matrix.normalizedRows(ref.matrix), windowUnit = Matrix.normalizedRows(window.matrix)
        let fitted = try ReferenceRegions(referenceUnit: refUnit, labels: ref.labels, clusters: nil, neighbors: 5, seed: 2)
        let restored = try ReferenceRegions(requestedCount: fitted.requestedCount, countFromRule: fitted.countFromRule, centroids: fitted.centroids.copy(),
                                            referenceAssignment: fitted.referenceAssignment, referenceCounts: fitted.referenceCounts, fitRows: fitted.fitRows,
                                            exemplars: fitted.exemplars, names: fitted.names, neighbors: fitted.neighbors,
                                            referenceNewCount: fitted.referenceNewCount, seed: fitted.seed)
        let inside = precisionRecallCoverage(reference: refUnit, other: windowUnit, k: 5).otherWithinReferenceBall
        let a = fitted.compare(windowUnit, labels: window.labels, insideReference: inside, alpha: 0.05)
        let b = restored.compare(windowUnit, labels: window.labels, insideReference: inside, alpha: 0.05)
        #expect(a.clusters == b.clusters && a.assignment == b.assignment && a.newRegions == b.newRegions)
        #expect(throws: EmbdiagError.self) {
            try ReferenceRegions(requestedCount: 2, countFromRule: false, centroids: fitted.centroids, referenceAssignment: [0, 1],
                                 referenceCounts: [1, 1], fitRows: 2, exemplars: [[0]], names: ["a"], neighbors: 5, referenceNewCount: 0, seed: 0)
        }
    }

    @Test func nullWindowReportsNoChangedRegion() throws {
        let (ref, window) = Self.injected("null", seed: 12)
        let analysis = try ShiftAnalysis(reference: ref, others: [window], configuration: Self.quickConfiguration())
        let r = try #require(analysis.comparisons[0].regions)
        #expect(r.changedCount == 0, "\(r.clusters.map { ($0.name, $0.adjustedPValue) })")
        #expect(analysis.regionSentence(0).hasPrefix("No region"))
    }

    @Test func mapIsTheSameSVGForTheSameSeedAndShowsEveryPart() throws {
        let (ref, window) = Self.injected("new", seed: 13)
        func svg() throws -> String {
            let report = try ShiftAnalysis(reference: ref, others: [window], configuration: Self.quickConfiguration()).report()
            let chart = try #require(report.charts.first { $0.kind == .map })
            return SVGChart.render(chart)
        }
        let a = try svg(), b = try svg()
        #expect(a == b)
        #expect(a.contains("<title>row ") && a.contains("C1 ") && a.contains("class=\"density\""))
        // Every point drawn (150 ≤ the limit), outlined new rows among them.
        #expect(a.components(separatedBy: "<circle").count - 1 >= 150)
        #expect(a.contains("stroke=\"#000\" stroke-width=\"0.9\""))
    }

    @Test func largeSetsAreSampledOnTheMapWithANote() throws {
        let base = Self.sentences
        let report = try ShiftAnalysis(reference: base.selecting(rows: Array(0..<300)), others: [base.selecting(rows: Array(300..<1800)).repeated(2)],
                                       configuration: Self.quickConfiguration()).report()
        let chart = try #require(report.charts.first { $0.kind == .map })
        #expect(chart.map?.points.count == ShiftAnalysis.mapPointLimit)
        #expect(chart.caption.contains("seeded sample of \(ShiftAnalysis.mapPointLimit) of"))
    }
}

extension Embeddings {
    /// The rows `times` times over, each copy nudged so that no row repeats (tests of size).
    func repeated(_ times: Int) -> Embeddings {
        let n = count, d = dimension
        let m = Matrix(rows: n * times, cols: d)
        for t in 0..<times {
            for i in 0..<n {
                for j in 0..<d { m[t * n + i, j] = matrix[i, j] * (1 + Float(t) * 1e-3 * Float((i + j) % 7)) }
            }
        }
        return Embeddings(matrix: m, labels: labels.map { l in (0..<times).flatMap { _ in l } }, name: source.path)
    }
}
