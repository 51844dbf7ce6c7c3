import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// Rank tests and p-value adjustments against scipy 1.17.1 (values produced by
/// scripts/crosscheck/depth_reference.py into Tests/Fixtures/crosscheck/depth_reference.json)
/// and against full enumeration.
@Suite struct RankTestsTests {
    // nonisolated(unsafe): parsed JSON (immutable Foundation values), never written after it is loaded,
    // so the parallel tests only read it.
    nonisolated(unsafe) static let reference: [String: Any] = {
        let url = CLI.fixtures.appendingPathComponent("crosscheck/depth_reference.json")
        return (try? JSONSerialization.jsonObject(with: Data(contentsOf: url))) as? [String: Any] ?? [:]
    }()

    @Test func rankSumAndMannWhitneyMatchScipy() throws {
        let rt = try #require(Self.reference["rank_tests"] as? [String: Any])
        let results = rt["results"] as! [String: [String: Double]]
        let inputs = ["no_ties": (rt["x"] as! [Double], rt["y"] as! [Double]),
                      "ties": ((rt["x_ties"] as! [NSNumber]).map(\.doubleValue), (rt["y_ties"] as! [NSNumber]).map(\.doubleValue))]
        #expect(results.count == 6)
        for (key, expected) in results {
            let parts = key.split(separator: "/")
            let (x, y) = inputs[String(parts[0])]!
            let alternative = Alternative(rawValue: String(parts[1]))!
            let rs = RankTests.rankSumTest(x, y, alternative: alternative)
            let mw = RankTests.mannWhitneyU(x, y, alternative: alternative)
            #expect(abs(rs.statistic - expected["w"]!) < 1e-12, "\(key)")
            #expect(abs(rs.pValue - expected["p_ranksums"]!) < 1e-12, "\(key)")
            #expect(abs(mw.statistic - expected["u"]!) < 1e-12, "\(key)")
            #expect(abs(mw.pValue - expected["p_mw_asymptotic"]!) < 1e-12, "\(key)")
            if let exact = expected["p_mw_exact"] {
                #expect(abs(mw.pValueExact! - exact) < 1e-12, "\(key)")
            } else {
                #expect(mw.pValueExact == nil, "\(key): no exact p with ties")
            }
        }
    }

    @Test func exactDistributionEqualsFullEnumeration() {
        // Enumerate every assignment of ranks 1…N to x (no ties), count U, compare.
        for (n1, n2) in [(1, 1), (2, 3), (4, 4), (3, 6), (5, 2)] {
            let n = n1 + n2
            var counts = [Double](repeating: 0, count: n1 * n2 + 1)
            var total = 0.0
            for mask in 0..<(1 << n) where mask.nonzeroBitCount == n1 {
                // U = pairs (x, y) with x > y: for each x at position p (0-based), the y's below it.
                var u = 0, ysBelow = 0
                for p in 0..<n { if mask & (1 << p) != 0 { u += ysBelow } else { ysBelow += 1 } }
                counts[u] += 1
                total += 1
            }
            let pmf = RankTests.mannWhitneyNullDistribution(n1, n2)
            for u in 0..<counts.count { #expect(abs(pmf[u] - counts[u] / total) < 1e-14, "\(n1)×\(n2) u=\(u)") }
        }
        // And the exact p of a concrete sample: x all above y ⇒ P(U ≥ n1 n2) = 1 / C(N, n1).
        let r = RankTests.mannWhitneyU([10, 11, 12], [1, 2, 3, 4], alternative: .greater)
        #expect(abs(r.pValueExact! - 1.0 / 35) < 1e-15)
        #expect(r.rankBiserial == 1)
    }

    @Test func constantInputIsHandled() {
        let x = [Double](repeating: 0.7, count: 10), y = [Double](repeating: 0.7, count: 8)
        let rs = RankTests.rankSumTest(x, y, alternative: .greater)
        #expect(rs.statistic == 0 && abs(rs.pValue - 0.5) < 1e-15)
        let mw = RankTests.mannWhitneyU(x, y, alternative: .twoSided)
        #expect(mw.pValue == 1 && mw.pValueExact == nil && mw.hasTies && mw.rankBiserial == 0)
    }

    @Test func adjustmentsMatchScipyAndHandComputation() throws {
        let adjust = try #require(Self.reference["adjust"] as? [String: [Double]])
        let bh = MultipleTesting.benjaminiHochbergAdjusted(adjust["p"]!)
        for (a, b) in zip(bh, adjust["bh"]!) { #expect(abs(a - b) < 1e-15) }
        // Holm by hand: sorted 0.005, 0.01, 0.03, 0.04, 0.2, 0.5 × 6, 5, 4, 3, 2, 1 → monotone.
        let holm = MultipleTesting.holmAdjusted(adjust["p"]!)
        let expected = [0.05, 0.12, 0.12, 0.4, 0.03, 0.5]
        for (a, b) in zip(holm, expected) { #expect(abs(a - b) < 1e-15) }
    }
}
