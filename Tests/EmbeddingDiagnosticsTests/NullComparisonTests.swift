import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// Every two-sample comparison (`shift`, `depth`, `compat`, `relrep`) on data that holds no
/// difference: OTHER = REF, OTHER = REF with its rows shuffled, and OTHER = REF plus noise of a few
/// Float32 ulps (far below the resolution of any cosine the commands compute). No finding may be
/// reported that the data does not contain: no "shifted", no significant p, no "over-represents",
/// no "differs", no incompatibility or flips.
@Suite struct NullComparisonTests {
    /// The issue's data: 1000 × 32 standard Gaussian rows (seeded).
    static let rows = 1000, dimension = 32

    static func gaussian(_ n: Int, seed: UInt64) -> [[Float]] {
        var rng = SeededGenerator(seed: seed)
        return (0..<n).map { _ in (0..<dimension).map { _ in Float(rng.nextGaussian()) } }
    }

    enum Variant: String, CaseIterable, CustomTestStringConvertible {
        case copy, shuffled, noise
        var testDescription: String { rawValue }
    }

    /// REF and the variant of it, as named corpora.
    static func pair(_ variant: Variant, n: Int = rows) -> (Embeddings, Embeddings) {
        let a = gaussian(n, seed: 7)
        var b: [[Float]]
        switch variant {
        case .copy: b = a
        case .shuffled:
            var rng = SeededGenerator(seed: 11)
            b = a.shuffled(using: &rng)
        case .noise:
            // Each value moved by a few ulps (relative 4·10⁻⁷): 1 − cos ≈ 10⁻¹³ per row.
            var rng = SeededGenerator(seed: 13)
            b = a.map { row in row.map { $0 * (1 + 4e-7 * Float(rng.nextGaussian())) } }
            #expect(zip(a, b).filter { $0 != $1 }.count > n / 2, "the noise must change most rows")
        }
        return (Embeddings(matrix: Matrix(a), name: "ref.npy"), Embeddings(matrix: Matrix(b), name: "other.npy"))
    }

    static func text(_ r: Report) -> String { (r.verdict?.answer ?? "") + " " + r.notes.joined(separator: " ") }

    @Test(arguments: Variant.allCases)
    func shiftReportsTheCopyAndNoShift(variant: Variant) throws {
        let (ref, other) = Self.pair(variant)
        let analysis = try ShiftAnalysis(reference: ref, others: [other])
        let comparison = analysis.comparisons[0]
        #expect(comparison.crossDuplicates.count == Self.rows)
        #expect(comparison.crossDuplicates.exactCount == (variant == .noise ? 0 : Self.rows))
        #expect(!comparison.shifted(alpha: 0.05))
        let report = analysis.report()
        #expect(report.metric("shifted") == .bool(false))
        #expect(report.metric("cross_duplicates") == .int(Self.rows))
        #expect(report.metric("cross_duplicate_share")?.number == 1)
        #expect(report.metric("cross_duplicate_reference_share")?.number == 1)
        #expect(report.metric("p_value") == .null, "no independent rows: no p-value")
        let answer = report.verdict?.answer ?? ""
        #expect(answer.contains("copy of ref.npy rows"), "\(answer)")
        #expect(!answer.contains("differs") && !answer.contains("over-represents"), "\(answer)")
        // Example rows with their file row numbers.
        let table = try #require(report.tables.first { $0.name == "cross_duplicates" })
        #expect(table.rows.count == 10)
        if variant != .shuffled { #expect(table.rows.allSatisfy { $0[0] == $0[2] }) }
    }

    /// Kept on purpose, the copies violate the tests' assumption: the report says so, and the depth
    /// test's "closer than an independent sample" is not worded as over-representation.
    @Test func keptCopiesAreFlaggedAndNeverCalledOverRepresented() throws {
        let (ref, other) = Self.pair(.shuffled)
        var c = ShiftConfiguration()
        c.keepCrossDuplicates = true
        let analysis = try ShiftAnalysis(reference: ref, others: [other], configuration: c)
        let comparison = analysis.comparisons[0]
        #expect(comparison.otherCount == Self.rows && comparison.crossDuplicates.count == Self.rows)
        let answer = analysis.report().verdict?.answer ?? ""
        #expect(answer.contains("not valid"), "\(answer)")
        #expect(!answer.contains("over-represents"), "\(answer)")
        if comparison.shifted(alpha: 0.05) {
            #expect(comparison.verdict?.decidingTest != .depth || answer.contains("closer to the centre"), "\(answer)")
        }
    }

    /// A partial copy: the copied rows are reported and left out; the tests run on the rest, an
    /// independent sample of the same distribution, and find nothing.
    @Test func partialCopyIsReportedAndTheRestIsTested() throws {
        let a = Self.gaussian(400, seed: 21), fresh = Self.gaussian(300, seed: 22)
        let other = Array(a[100..<200]) + fresh
        var c = ShiftConfiguration()
        c.permutations = 399
        let analysis = try ShiftAnalysis(reference: Embeddings(matrix: Matrix(a), name: "ref.npy"),
                                         others: [Embeddings(matrix: Matrix(other), name: "synthetic.npy")], configuration: c)
        let comparison = analysis.comparisons[0]
        #expect(comparison.crossDuplicates.count == 100 && comparison.otherCount == 300 && comparison.otherInputCount == 400)
        #expect(comparison.crossDuplicates.matches.map(\.referenceRow) == Array(100..<200))
        #expect(analysis.others[0].sourceRows == Array(100..<400), "tested rows keep their file row numbers")
        let report = analysis.report()
        #expect(report.metric("n_other") == .int(300) && report.metric("n_other_input") == .int(400))
        #expect(report.metric("cross_duplicate_share")?.number == 0.25)
        #expect(report.metric("cross_duplicate_reference_share")?.number == 0.25)
        let answer = report.verdict?.answer ?? ""
        #expect(answer.contains("100 of synthetic.npy's 400 rows (25.0 %) duplicate rows of ref.npy"), "\(answer)")
        #expect(!comparison.shifted(alpha: 0.05), "\(answer)")
        // The tests of the remaining rows are those of the independent sample alone.
        let alone = try ShiftAnalysis(reference: Embeddings(matrix: Matrix(a), name: "ref.npy"),
                                      others: [Embeddings(matrix: Matrix(fresh), name: "fresh.npy")], configuration: c)
        #expect(alone.comparisons[0].verdict?.pValue == comparison.verdict?.pValue)
    }

    @Test(arguments: Variant.allCases, [Alternative.greater, .twoSided])
    func depthDoesNotCallACopyShifted(variant: Variant, alternative: Alternative) throws {
        let (ref, other) = Self.pair(variant)
        var c = DepthConfiguration()
        c.alternative = alternative
        let report = try DepthAnalysis(reference: ref, others: [other], configuration: c).report()
        let answer = report.verdict?.answer ?? ""
        #expect(!answer.contains("periphery") && !answer.contains("over-represents"), "\(answer)")
        switch variant {
        case .copy, .shuffled:
            #expect(report.metric("cross_duplicates") == .int(Self.rows))
            #expect(answer.hasPrefix("It is a copy of reference rows"), "\(answer)")
        case .noise:
            // Near-exact copies are `shift`'s (an all-pairs pass); depth sees only exact ones. Its
            // default one-sided test finds nothing; a two-sided result names the direction and the
            // possibility of shared rows, never a periphery or an over-representation.
            #expect(report.metric("cross_duplicates") == nil, "listed only when some are found")
            if alternative == .greater { #expect(!answer.hasPrefix("It differs"), "\(answer)") }
            if answer.hasPrefix("It differs") { #expect(answer.contains("closer to the centre"), "\(answer)") }
        }
    }

    /// compat: the same items embedded by the same model (exactly, up to ulp noise, or both files
    /// in another row order) are compatible-as-good-as-itself: no flips, no worse, equal recall.
    @Test(arguments: Variant.allCases, [false, true])
    func compatFindsNoRegression(variant: Variant, labelled: Bool) throws {
        let n = 400
        let (ref, variantOther) = Self.pair(variant, n: n)
        // Paired rows: "shuffled" permutes both files the same way (the pairing is the data).
        var old = ref, new = variantOther
        var labels: [String]? = labelled ? (0..<n).map { String($0 % 7) } : nil
        if variant == .shuffled {
            var rng = SeededGenerator(seed: 11)
            let order = Array(0..<n).shuffled(using: &rng)
            old = ref.selecting(rows: order)
            new = ref.selecting(rows: order)
            labels = labels.map { l in order.map { l[$0] } }
        }
        let report = try CompatibilityAnalysis(CompatibilityInputs(old: old, new: new, labels: labels)).report()
        #expect(report.metric("negative_flip_rate")?.number == 0)
        #expect(report.metric("no_worse") == .bool(true))
        #expect(report.metric("recall_at_1_cross") == report.metric("recall_at_1_old"))
        let answer = report.verdict?.answer ?? ""
        #expect(!answer.lowercased().contains("incompatible") && !answer.contains("worse than"), "\(answer)")
    }

    /// relrep: a space against itself (or ulp noise of it, or both in another order) encodes every
    /// item alike.
    @Test(arguments: Variant.allCases)
    func relrepFindsTheSameSpace(variant: Variant) throws {
        let n = 400
        var (ref, other) = Self.pair(variant, n: n)
        if variant == .shuffled {
            var rng = SeededGenerator(seed: 11)
            let order = Array(0..<n).shuffled(using: &rng)
            ref = ref.selecting(rows: order)
            other = Self.pair(.copy, n: n).0.selecting(rows: order)
        }
        let result = try RelativeComparison(reference: ref, other: other, configuration: RelativeRepresentationsConfiguration())
        let report = result.report()
        #expect(report.metric("relative_top1")?.number == 1)
        #expect(report.metric("knn_jaccard")?.number == 1)
        #expect(abs((report.metric("cka_linear")?.number ?? 0) - 1) < 1e-6)
        #expect(report.verdict?.answer.hasPrefix("Yes") == true, "\(report.verdict?.answer ?? "")")
    }
}
