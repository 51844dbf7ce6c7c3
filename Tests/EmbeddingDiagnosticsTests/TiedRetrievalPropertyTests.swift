import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// Retrieval metrics on exact ties, for random tie patterns and every cut-off k, against a brute
/// force that ranks by Float64 scores and averages over every ordering of each tied block (the
/// rule of Guides/Compatibility.md "Ties": the expected value over the orders of tied scores).
/// Integer-valued rows make every score an exact integer, so ties are real on every kernel.
@Suite struct TiedRetrievalPropertyTests {
    /// Expected recall@k (k = 1…n + 1), reciprocal rank and average precision of one query over
    /// every ordering of its tied blocks; nil when nothing is relevant.
    static func bruteForce(scores: [(score: Double, relevant: Bool)]) -> (recall: [Double], reciprocal: Double, ap: Double)? {
        guard scores.contains(where: \.relevant) else { return nil }
        // Blocks of equal Float64 score, best first.
        let sorted = scores.sorted { $0.score > $1.score }
        var blocks: [[Bool]] = []
        var last = Double.nan
        for s in sorted {
            if s.score == last { blocks[blocks.count - 1].append(s.relevant) } else { blocks.append([s.relevant]); last = s.score }
        }
        func permutations(_ a: [Bool]) -> [[Bool]] {
            if a.count <= 1 { return [a] }
            return a.indices.flatMap { i -> [[Bool]] in
                var rest = a
                let x = rest.remove(at: i)
                return permutations(rest).map { [x] + $0 }
            }
        }
        let orderings = blocks.reduce([[Bool]]([[]])) { partial, block in
            let perms = permutations(block)
            return partial.flatMap { p in perms.map { p + $0 } }
        }
        let n = scores.count
        var recall = [Double](repeating: 0, count: n + 1), reciprocal = 0.0, ap = 0.0
        for o in orderings {
            let first = o.firstIndex(of: true)! + 1
            for k in first...(n + 1) { recall[k - 1] += 1 }
            reciprocal += 1 / Double(first)
            var hits = 0, sum = 0.0
            for (i, r) in o.enumerated() where r { hits += 1; sum += Double(hits) / Double(i + 1) }
            ap += sum / Double(hits)
        }
        let c = Double(orderings.count)
        return (recall.map { $0 / c }, reciprocal / c, ap / c)
    }

    /// A random integer matrix drawn from a few distinct rows with entries in {−1, 0, 1}: exact
    /// duplicates and equal integer dot products make tie blocks of every size and position.
    static func tiedMatrix(_ rows: Int, _ d: Int, distinct: Int, rng: inout SeededGenerator) -> [[Float]] {
        let pool = (0..<distinct).map { _ in (0..<d).map { _ in Float(Int(rng.next() % 3) - 1) } }
        return (0..<rows).map { _ in pool[Int(rng.next() % UInt64(distinct))] }
    }

    @Test func recallMRRAndMAPMatchBruteForceOnRandomTies() throws {
        var rng = SeededGenerator(seed: 2026)
        var checkedQueries = 0, tiedBlocksPastK = 0
        for trial in 0..<300 {
            let n = 2 + Int(rng.next() % 6), d = 1 + Int(rng.next() % 3)
            let distinct = 1 + Int(rng.next() % UInt64(n))
            let galleryRows = Self.tiedMatrix(n, d, distinct: distinct, rng: &rng)
            let selfQueries = rng.next() % 2 == 0
            let queryRows = selfQueries ? galleryRows : Self.tiedMatrix(1 + Int(rng.next() % 4), d, distinct: 1 + Int(rng.next() % 3), rng: &rng)
            let nq = queryRows.count
            let byClass = rng.next() % 2 == 0
            let galleryClass = (0..<n).map { _ in Int32(rng.next() % 3) - (rng.next() % 7 == 0 ? 4 : 0) }
            let queryClass = selfQueries ? galleryClass : (0..<nq).map { _ in Int32(rng.next() % 3) }
            let targets = (0..<nq).map { _ in Int(rng.next() % UInt64(n)) }
            let excludeSelf = selfQueries && byClass
            let relevance: RetrievalRelevance = byClass ? .classes(query: queryClass, gallery: galleryClass) : .index(targets)
            let ranks = Retrieval.retrievalRanks(queries: Matrix(queryRows), gallery: Matrix(galleryRows), relevance: relevance, excludeSelf: excludeSelf)
            let candidates = n - (excludeSelf ? 1 : 0)
            let summary = RetrievalSummary(name: "t", ks: Array(1...candidates), ranks: ranks)

            var expected: [(recall: [Double], reciprocal: Double, ap: Double)] = []
            for q in 0..<nq {
                var scored: [(score: Double, relevant: Bool)] = []
                for j in 0..<n where !(excludeSelf && j == q) {
                    let s = zip(queryRows[q], galleryRows[j]).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
                    let relevant = byClass ? (galleryClass[j] >= 0 && galleryClass[j] == queryClass[q]) : j == targets[q]
                    scored.append((s, relevant))
                }
                let want = Self.bruteForce(scores: scored)
                #expect((want == nil) == (ranks.first[q] == nil), "trial \(trial) query \(q): relevant rows")
                if let want, let got = ranks.first[q] {
                    checkedQueries += 1
                    if got.blockSize > 1 && got.before >= 1 { tiedBlocksPastK += 1 }
                    for k in 1...candidates {
                        #expect(abs(got.probabilityWithin(k) - want.recall[k - 1]) < 1e-12, "trial \(trial) query \(q) recall@\(k)")
                    }
                    #expect(abs(got.expectedReciprocalRank - want.reciprocal) < 1e-12, "trial \(trial) query \(q) reciprocal rank")
                    #expect(abs(ranks.averagePrecision[q] - want.ap) < 1e-12, "trial \(trial) query \(q) AP")
                    expected.append(want)
                }
            }
            #expect(summary.evaluated == expected.count)
            guard !expected.isEmpty else {
                #expect(summary.recall.allSatisfy(\.isNaN) && summary.mrr.isNaN && summary.map.isNaN)
                #expect(summary.recallCurve(upTo: candidates).isEmpty)
                continue
            }
            let m = Double(expected.count)
            for (i, k) in summary.ks.enumerated() {
                let want = expected.reduce(0.0) { $0 + $1.recall[k - 1] } / m
                #expect(abs(summary.recall[i] - want) < 1e-12, "trial \(trial) recall@\(k)")
            }
            #expect(abs(summary.mrr - expected.reduce(0.0) { $0 + $1.reciprocal } / m) < 1e-12, "trial \(trial) MRR")
            #expect(abs(summary.map - expected.reduce(0.0) { $0 + $1.ap } / m) < 1e-12, "trial \(trial) mAP")
            // The recall curve for every largest k, including ones smaller than where a tied
            // block starts (the chart of `compat --k 1`) and ones past the candidates.
            for kMax in 1...(candidates + 1) {
                let curve = summary.recallCurve(upTo: kMax)
                #expect(curve.count == kMax)
                for k in 1...kMax {
                    let want = expected.reduce(0.0) { $0 + $1.recall[min(k, candidates) - 1] } / m
                    #expect(abs(curve[k - 1] - want) < 1e-12, "trial \(trial) curve(upTo: \(kMax))[\(k)]")
                }
            }
        }
        #expect(checkedQueries > 500)
        #expect(tiedBlocksPastK > 50, "the random patterns must put tied blocks past rank 1")
    }

    /// Exact duplicate items and NEW an exact rotation of OLD: cross queries find their item's
    /// tied block past rank 1, so with `--k 1` the recall chart must start below where the block
    /// does — a run and its report, not a crash.
    @Test func duplicatesPastTheLargestKStillGiveAReport() throws {
        var rng = SeededGenerator(seed: 7)
        let base = rng.gaussianMatrix(rows: 40, cols: 6)
        var rows = (0..<base.rows).map { i in (0..<base.cols).map { base[i, $0] } }
        rows += rows.prefix(20)  // items 40…59 repeat items 0…19 exactly
        // A rotation in the (0, 1) plane by 0.7 rad (NEW = OLD·R).
        let (c, s) = (Float(cos(0.7)), Float(sin(0.7)))
        let rotated = rows.map { r -> [Float] in var x = r; x[0] = c * r[0] - s * r[1]; x[1] = s * r[0] + c * r[1]; return x }
        var configuration = CompatibilityConfiguration()
        configuration.ks = [1]
        let analysis = try CompatibilityAnalysis(
            CompatibilityInputs(old: Embeddings(matrix: Matrix(rows), name: "old"), new: Embeddings(matrix: Matrix(rotated), name: "new")),
            configuration: configuration)
        let cross = try #require(analysis.cross)
        #expect(cross.firstRanks.contains { ($0?.before ?? 0) >= 1 && ($0?.blockSize ?? 1) > 1 }, "a tied block past k = 1")
        let report = analysis.report()
        #expect(report.metrics.contains { $0.key == "recall_at_1_cross" })
        // Old/old: every duplicated item ties with its copy at rank 1 (recall@1 = 1/2 for those).
        let expected: Double = (20 + 40 * 0.5) / 60
        #expect(abs(analysis.old.recall[0] - expected) < 1e-12)
    }
}
