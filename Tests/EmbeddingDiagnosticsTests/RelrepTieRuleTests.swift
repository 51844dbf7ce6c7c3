import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// relrep's retrieval metrics follow the project's one tie rule (Guides/Architecture.md, "Ranking
/// and ties"): the expected value over the orderings of a tied block, as compat. Cases where that
/// rule and "smaller row first" give different numbers.
@Suite struct RelrepTieRuleTests {
    /// Hand case: partner tied with one other row at the top (block of 2), and a partner behind one
    /// better row, tied with one other row.
    @Test func tiedPartnersGetFractionalCredit() {
        let ranks = [TiedFirstRank(before: 0, blockSize: 2, relevantInBlock: 1), TiedFirstRank(before: 1, blockSize: 2, relevantInBlock: 1),
                     TiedFirstRank(before: 0, blockSize: 1, relevantInBlock: 1)]
        // Top-1: ½ + 0 + 1 (smaller row first would give 1 or 0 for the first, by row number).
        #expect(RelativeComparison.hitRate(ranks, within: 1) == 1.5 / 3)
        // Top-2: 1 + ½ + 1.
        #expect(RelativeComparison.hitRate(ranks, within: 2) == 2.5 / 3)
        // MRR: (1 + ½)/2, (½ + ⅓)/2, 1.
        let mrr = (0.75 + 5.0 / 12 + 1) / 3
        #expect(abs(RelativeComparison.meanReciprocalRank(ranks) - mrr) < 1e-15)
        // MRR@2: (1 + ½)/2, (½)/2, 1 — the place 3 of the second block lies beyond k.
        #expect(abs(ranks[1].expectedReciprocalRank(within: 2) - 0.25) < 1e-15)
        #expect(ranks[0].expectedReciprocalRank(within: 100) == ranks[0].expectedReciprocalRank)
    }

    /// The formula matrices with rows of the other space duplicated (relrep_crosscheck.py
    /// `tie_matrices`): every metric matches numpy's computation of the rule by its definition; the
    /// old rule's top-1 (2/3 by the same script) is not what embdiag reports.
    @Test func tiesCaseMatchesTheReference() throws {
        let (x, _, y2) = RelativeRepresentationsTests.formulaMatrices()
        let y = Matrix(rows: y2.rows, cols: y2.cols, values: y2.values)
        let p = y.mutablePointer
        for (i, j) in [(1, 30), (4, 11), (9, 50), (15, 16), (22, 41), (33, 58)] {
            for t in 0..<y.cols { p[j * y.cols + t] = y2[i, t] }
        }
        var c = RelativeRepresentationsTests.configuration(k: 3)
        c.ks = [3, 1, 5]
        c.anchorRows = Array(stride(from: 0, to: 60, by: 7))
        c.center = .none
        let r = try RelativeComparison(reference: Embeddings(matrix: x, name: "x"), other: Embeddings(matrix: y, name: "y"), configuration: c)
        let formula = try #require(RelativeRepresentationsTests.reference["formula"] as? [String: [String: Any]])
        let want = try #require(formula["ties"])
        try RelativeRepresentationsTests.compare(r, with: want, label: "formula ties")
        // Ties happened (blocks of 2) and they change the answer.
        #expect(r.relativeRanks.filter { $0.blockSize == 2 }.count == 12)
        #expect(abs(r.relativeTop1 - 2.0 / 3) > 0.04)
        #expect(abs(r.relativeTop1 - (want["relative_top1"] as! Double)) < 1e-12)
    }
}
