import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// Exact cosines decide ties and thresholds (Guides/Architecture.md, "Determinism", rule 3;
/// Guides/Compatibility.md, "Ties"): the cosine is computed in Float64 from the rows as given
/// (`exactCosine`), not from rows normalised in Float32, so ±1 / integer-valued rows and d = 1 rows
/// keep their exact cosines. Expected values are computed here from the definitions, in integers
/// or Float64.
@Suite(.serialized) struct ExactCosineTieTests {
    /// ±1 codes of `n` rows and dimension `d` from a seeded Gaussian (sign of each entry).
    static func signCodes(_ n: Int, _ d: Int, seed: UInt64) -> [[Int]] {
        var rng = SeededGenerator(seed: seed)
        return (0..<n).map { _ in (0..<d).map { _ in rng.nextGaussian() < 0 ? -1 : 1 } }
    }

    static func matrix(_ rows: [[Int]]) -> Matrix { Matrix(rows.map { $0.map(Float.init) }) }

    static func dot(_ a: [Int], _ b: [Int]) -> Int { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }

    @Test func exactCosineIsExactForIntegerRowsAndForOneDimension() {
        // Equal exact cosines with different norms give one Float64 value.
        func cos(_ x: [Float], _ y: [Float]) -> Double {
            let cx = CosineRows(Matrix([x])), cy = CosineRows(Matrix([y]))
            return cx.cosine(0, cy, 0)
        }
        #expect(cos([1, 1], [1, 0]) == cos([3, 3], [5, 0]))
        #expect(cos([1, 1, 1, 1, -1, -1, -1, 1], [1, 1, 1, 1, 1, 1, -1, 1]) == 0.5)
        #expect(cos([2, 0, 0], [1, 1, 0]) == cos([1, 0, 0], [7, 7, 0]))
        // d = 1: every cosine is ±1, whatever the values.
        var rng = SeededGenerator(seed: 7)
        for _ in 0..<2000 {
            let a = Float(rng.nextGaussian() * 3), b = Float(rng.nextGaussian() * 1e-3)
            #expect(cos([a], [b]) == ((a < 0) == (b < 0) ? 1 : -1))
            #expect(cos([a], [a]) == 1)
        }
    }

    /// `compat --threshold 0.5` on ±1 codes of dimension 8: a pair at exactly 0.5 (integer dot 4)
    /// is accepted ("old ≥ t").
    @Test func thresholdAcceptsPairsAtExactlyTheCutOff() throws {
        let n = 80, d = 8
        let old = Self.signCodes(n, d, seed: 31)
        var rng = SeededGenerator(seed: 32)
        let new = old.map { row in row.map { v -> Int in Double(v) + 0.9 * rng.nextGaussian() < 0 ? -1 : 1 } }
        var config = CompatibilityConfiguration()
        config.thresholds = [0.5]
        config.thresholdBootstrap = 0
        let a = try CompatibilityAnalysis(CompatibilityInputs(old: Embeddings(matrix: Self.matrix(old), name: "old"),
                                                              new: Embeddings(matrix: Self.matrix(new), name: "new")),
                                          configuration: config)
        let t = try #require(a.agreement?.thresholds.first)
        // cos = dot/8 exactly, so cos ≥ 0.5 ⟺ dot ≥ 4.
        var pairs = 0, oldAccepted = 0, newAccepted = 0, both = 0, atCut = 0
        var newDots: [Int] = []
        for i in 0..<n {
            for j in (i + 1)..<n {
                let o = Self.dot(old[i], old[j]), w = Self.dot(new[i], new[j])
                pairs += 1
                newDots.append(w)
                if o == 4 { atCut += 1 }
                if o >= 4 { oldAccepted += 1 }
                if w >= 4 { newAccepted += 1 }
                if o >= 4 && w >= 4 { both += 1 }
            }
        }
        #expect(atCut > 100, "the data must have many pairs at exactly the cut-off")
        #expect(t.pairs == pairs)
        #expect(t.oldAcceptedShare == Double(oldAccepted) / Double(pairs))
        #expect(t.reuseRecall == Double(both) / Double(oldAccepted))
        #expect(t.reusePrecision == Double(both) / Double(newAccepted))
        newDots.sort(by: >)
        #expect(t.quantileMatched == Double(newDots[oldAccepted - 1]) / 8)
    }

    /// The indirect-bias pair search (cos(w, v) ≥ `--indirect-min-similarity`) finds the pairs of
    /// ±1 vectors at exactly 0.5 and lists their exact cosines.
    @Test func indirectBiasPairSearchFindsPairsAtExactlyTheMinimumSimilarity() throws {
        let d = 8
        var rng = SeededGenerator(seed: 171)
        var words: [String] = [], rows: [[Float]] = []
        for (a, b) in [("she", "he"), ("woman", "man"), ("girl", "boy")] {
            let base = (0..<d).map { _ in rng.nextGaussian() }
            words += [a, b]
            rows.append(base.enumerated().map { Float($0.element + ($0.offset == 0 ? 1 : 0)) })
            rows.append(base.enumerated().map { Float($0.element - ($0.offset == 0 ? 1 : 0)) })
        }
        let neutral = Self.signCodes(12, d, seed: 172)
        let names = (0..<neutral.count).map { "n\($0)" }
        words += names
        rows += neutral.map { $0.map(Float.init) }
        var c = BiasConfiguration()
        c.definitional = WordGroups(name: "pairs", groups: [["she", "he"], ["woman", "man"], ["girl", "boy"]], provenance: "")
        c.neutral = WordList(name: "neutral", words: names, provenance: "")
        c.top = 100
        let a = try BiasAnalysis(Embeddings(matrix: Matrix(rows), labels: words), configuration: c)
        var want: [String: Double] = [:], atCut = 0
        for i in 0..<neutral.count {
            for j in (i + 1)..<neutral.count {
                let s = Self.dot(neutral[i], neutral[j])
                if s == 4 { atCut += 1 }
                if s >= 4 { want["n\(i) n\(j)"] = Double(s) / 8 }
            }
        }
        #expect(atCut > 0)
        let found = a.indirect.filter { $0.source == "found" }
        #expect(found.count == want.count)
        for f in found {
            let key = [f.w, f.v].sorted { Int($0.dropFirst())! < Int($1.dropFirst())! }.joined(separator: " ")
            #expect(want[key] == f.cosine, "\(key)")
        }
    }

    /// d = 1 rows: every cosine is exactly ±1, so each query's scores form two tied blocks and
    /// recall@1, mAP, the negative flip rate and the Spearman correlation are the tie-aware values
    /// (expected value over the orderings of each tied block; Guides/Compatibility.md "Ties").
    @Test func oneDimensionalRowsTieExactly() throws {
        let n = 60
        let old = (0..<n).map { Float(2 * sin(1.3 * Double($0) + 0.2)) }
        let new = (0..<n).map { old[$0] + Float(1.2 * cos(2.1 * Double($0))) }
        let labels = old.map { $0 > 0.3 ? "a" : "b" }
        let a = try CompatibilityAnalysis(CompatibilityInputs(old: Embeddings(matrix: Matrix(old.map { [$0] }), name: "old"),
                                                              new: Embeddings(matrix: Matrix(new.map { [$0] }), name: "new"),
                                                              labels: labels))
        // Per query: (P(first relevant at rank 1), expected AP), or nil without relevant rows.
        func ranked(_ q: [Float], _ g: [Float]) -> [(Double, Double)?] {
            (0..<n).map { i -> (Double, Double)? in
                // Block A: cosine +1 (same sign), block B: −1; the query's own row is excluded.
                var m = [0, 0], r = [0, 0]
                for j in 0..<n where j != i {
                    let block = (q[i] < 0) == (g[j] < 0) ? 0 : 1
                    m[block] += 1
                    if labels[j] == labels[i] { r[block] += 1 }
                }
                let relevant = r[0] + r[1]
                guard relevant > 0 else { return nil }
                let top1 = m[0] > 0 ? Double(r[0]) / Double(m[0]) : Double(r[1]) / Double(m[1])
                // AP: per block of m rows with r relevant, N rows and R₀ relevant rows before it,
                // Σᵢ (r/m)(R₀ + 1 + (i − 1)(r − 1)/(m − 1))/(N + i).
                var sum = 0.0, before = 0, relevantBefore = 0
                for b in 0..<2 where m[b] > 0 {
                    for place in 1...m[b] {
                        let others = m[b] > 1 ? Double(place - 1) * Double(r[b] - 1) / Double(m[b] - 1) : 0
                        sum += Double(r[b]) / Double(m[b]) * (Double(relevantBefore) + 1 + others) / Double(before + place)
                    }
                    before += m[b]; relevantBefore += r[b]
                }
                return (top1, sum / Double(relevant))
            }
        }
        func mean(_ v: [Double]) -> Double { v.reduce(0, +) / Double(v.count) }
        let o = ranked(old, old), w = ranked(new, new), x = ranked(new, old)
        #expect(abs(a.old.recallAtOne - mean(o.compactMap { $0?.0 })) < 1e-12)
        #expect(abs(a.old.map - mean(o.compactMap { $0?.1 })) < 1e-12)
        #expect(abs(a.new.recallAtOne - mean(w.compactMap { $0?.0 })) < 1e-12)
        #expect(abs(a.new.map - mean(w.compactMap { $0?.1 })) < 1e-12)
        let cross = try #require(a.cross)
        #expect(abs(cross.recallAtOne - mean(x.compactMap { $0?.0 })) < 1e-12)
        let flips = (0..<n).compactMap { i -> Double? in
            guard let oi = o[i], let xi = x[i] else { return nil }
            return max(0, oi.0 - xi.0)
        }
        #expect(abs(try #require(a.flipsCross).rate - mean(flips)) < 1e-12)
        // Spearman with average ranks of two ±1 variables = their Pearson correlation.
        var po: [Double] = [], pn: [Double] = []
        for i in 0..<n { for j in (i + 1)..<n { po.append((old[i] < 0) == (old[j] < 0) ? 1 : -1); pn.append((new[i] < 0) == (new[j] < 0) ? 1 : -1) } }
        let mo = mean(po), mn = mean(pn)
        let cov = zip(po, pn).reduce(0) { $0 + ($1.0 - mo) * ($1.1 - mn) }
        let pearson = cov / (po.reduce(0) { $0 + ($1 - mo) * ($1 - mo) } * pn.reduce(0) { $0 + ($1 - mn) * ($1 - mn) }).squareRoot()
        #expect(abs(try #require(a.agreement).similaritySpearman - pearson) < 1e-12)
        // NEW = 3·OLD has OLD's cosines: a Spearman correlation of 1 and no flips.
        let tripled = try CompatibilityAnalysis(CompatibilityInputs(old: Embeddings(matrix: Matrix(old.map { [$0] }), name: "old"),
                                                                    new: Embeddings(matrix: Matrix(old.map { [3 * $0] }), name: "new"),
                                                                    labels: labels))
        #expect(try #require(tripled.agreement).similaritySpearman == 1)
        #expect(try #require(tripled.flipsCross).rate == 0)
        #expect(tripled.new.recallAtOne == tripled.old.recallAtOne && tripled.new.map == tripled.old.map)
    }

    /// The agreement-maximising cut: when a cut that accepts pairs agrees as often as accepting
    /// nothing, the cut with the higher F1 wins (accepting nothing has F1 0).
    @Test func bestAgreementCutPrefersTheHigherF1OnATie() {
        // OLD accepts pair 1 only (t = 0.5). NEW order: pair 0 (OLD no), pair 1 (OLD yes), 2, 3.
        // Accept nothing: 3 of 4 agree; accept {0}: 2; accept {0, 1}: 3 (F1 2/3); {0, 1, 2}: 2.
        let scores = PairedScores(old: [0.1, 0.9, 0.2, 0.0], new: [0.9, 0.8, 0.1, 0.0], owners: [0, 0, 1, 2], allPairs: true)
        let t = ThresholdTransfer.compute(threshold: 0.5, scores: scores, oldTopK: [], newTopK: [], bootstrap: 0, seed: 1)
        #expect(t.bestAgreement == 0.8)
        #expect(t.bestAgreementAccuracy == 0.75)
        #expect(abs(t.bestAgreementF1 - 2.0 / 3) < 1e-15)
        // Two real cuts tie: {0} (TP 1) and {0, 1, 2} (TP 2) both agree on 4 of 5, with F1 2/3 and
        // 4/5: the larger cut has the higher F1.
        let two = PairedScores(old: [0.9, 0.1, 0.9, 0.1, 0.1], new: [0.9, 0.8, 0.7, 0.2, 0.1], owners: [0, 0, 0, 1, 2], allPairs: true)
        let u = ThresholdTransfer.compute(threshold: 0.5, scores: two, oldTopK: [], newTopK: [], bootstrap: 0, seed: 1)
        // Cuts: {} agrees 3, {0} 4, {0,1} 3, {0,1,2} 4, {0..3} 3, all 2.
        #expect(u.bestAgreement == 0.7)
        #expect(u.bestAgreementAccuracy == 0.8)
        #expect(abs(u.bestAgreementF1 - 2.0 * 2 / (2 + 3)) < 1e-15)
        // A strictly better cut still wins, and with nothing accepted in OLD, accepting nothing does.
        let none = PairedScores(old: [0.1, 0.2, 0.3], new: [0.9, 0.8, 0.7], owners: [0, 0, 1], allPairs: true)
        let v = ThresholdTransfer.compute(threshold: 0.5, scores: none, oldTopK: [], newTopK: [], bootstrap: 0, seed: 1)
        #expect(v.bestAgreement == nil && v.bestAgreementAccuracy == 1)
    }
}
