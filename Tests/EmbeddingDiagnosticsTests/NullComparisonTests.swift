import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// Every two-sample comparison (`shift`, `depth`, `compat`, `relrep`) on data that holds no
/// difference: OTHER = REF, OTHER = REF with its rows shuffled, and OTHER = REF plus noise of a few
/// Float32 ulps (far below the resolution of any cosine the commands compute). No finding may be
/// reported that the data does not contain: no "shifted", no significant p, no "over-represents",
/// no "differs", no incompatibility or flips.
@Suite struct NullComparisonTests {
    /// 1000 × 32 standard Gaussian rows (seeded): small dimension, cosines near 0, where the depth
    /// test's bias on shared rows is largest.
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

    /// Two corpora that are copies of one row (50 vs 60 rows, several dimensions and rows): every
    /// relabelling is the same data, so p = 1, the energy distance is 0 and nothing is "shifted"
    /// (it was p = 0.002 from round-off in the distance of two equal rows).
    @Test(arguments: [1, 8, 64, 384])
    func copiesOfOneRowAreNotShifted(dimension: Int) throws {
        var rng = SeededGenerator(seed: UInt64(dimension))
        let rows: [[Float]] = [(0..<dimension).map { _ in 1 }, (0..<dimension).map { _ in Float(rng.nextGaussian()) }]
        for row in rows {
            let ref = Embeddings(matrix: Matrix(Array(repeating: row, count: 50)), name: "ref.npy")
            let other = Embeddings(matrix: Matrix(Array(repeating: row, count: 60)), name: "other.npy")
            let analysis = try ShiftAnalysis(reference: ref, others: [other], configuration: ShiftConfiguration())
            let report = analysis.report()
            #expect(report.metric("shifted") != .bool(true), "d = \(dimension)")
            #expect(report.metric("p_value")?.number ?? 0 > 0.5, "d = \(dimension): p \(String(describing: report.metric("p_value")))")
            #expect(report.metric("energy")?.number == 0, "d = \(dimension): energy \(String(describing: report.metric("energy")))")
            #expect(report.metric("p_value_energy")?.number == 1 && report.metric("p_value_mmd")?.number == 1)
            let answer = report.verdict?.answer ?? ""
            #expect(!answer.contains("differs") && !answer.contains("over-represents"), "\(answer)")
        }
    }

    /// Two corpora drawn from a few rows repeated many times (chance collisions, tested as given):
    /// calibrated, not decided by round-off in the distances of equal rows.
    @Test func fewRepeatedRowsAreCalibrated() throws {
        var alarms = 0
        let draws = 24
        for draw in 0..<draws {
            var rng = SeededGenerator(seed: 900 + UInt64(draw))
            let d = [4, 16, 64][draw % 3]
            let codebook = (0..<3).map { _ in (0..<d).map { _ in Float(rng.nextGaussian()) } }
            let ref = (0..<40).map { _ in codebook[Int(rng.next() % 3)] }, other = (0..<50).map { _ in codebook[Int(rng.next() % 3)] }
            var c = ShiftConfiguration()
            c.permutations = 200
            let analysis = try ShiftAnalysis(reference: Embeddings(matrix: Matrix(ref), name: "ref.npy"),
                                             others: [Embeddings(matrix: Matrix(other), name: "other.npy")], configuration: c)
            if analysis.report().metric("shifted") == .bool(true) { alarms += 1 }
        }
        // 24 draws at α = 0.05: more than 5 alarms has probability < 0.01 for a calibrated test.
        #expect(alarms <= 5, "\(alarms) of \(draws) draws called shifted")
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

    /// Quantised data: independent samples share rows by chance. The verdict does not call them
    /// copies when the reference repeats rows itself, and the note points to the option.
    @Test func chanceCollisionsOfDiscreteDataAreNotCalledCopies() throws {
        var rng = SeededGenerator(seed: 17)
        func grid(_ n: Int) -> [[Float]] { (0..<n).map { _ in (0..<8).map { _ in Float(rng.nextGaussian()).rounded() } } }
        var c = ShiftConfiguration()
        c.permutations = 99
        let analysis = try ShiftAnalysis(reference: Embeddings(matrix: Matrix(grid(400)), name: "q1.npy"),
                                         others: [Embeddings(matrix: Matrix(grid(400)), name: "q2.npy")], configuration: c)
        let shared = analysis.comparisons[0].crossDuplicates
        #expect(shared.count > 0 && shared.referenceInternalDuplicates > 0, "\(shared.count), \(shared.referenceInternalDuplicates)")
        let report = analysis.report()
        let answer = report.verdict?.answer ?? ""
        #expect(!answer.contains("copies its reference") && answer.contains("can be chance"), "\(answer)")
        #expect(report.notes.contains { $0.contains("dropping them would bias the tests") })
    }

    @Test(arguments: Variant.allCases, [Alternative.greater, .twoSided])
    func depthDoesNotCallACopyShifted(variant: Variant, alternative: Alternative) throws {
        let (ref, other) = Self.pair(variant)
        var c = DepthConfiguration()
        c.alternative = alternative
        let report = try DepthAnalysis(reference: ref, others: [other], configuration: c).report()
        let answer = report.verdict?.answer ?? ""
        #expect(!answer.contains("periphery") && !answer.contains("over-represents"), "\(answer)")
        // Exact and near-exact copies are found (without an all-pairs pass), and a corpus of
        // copies is called one — not "differs", whatever the alternative.
        #expect(report.metric("cross_duplicates") == .int(Self.rows))
        #expect(report.metric("cross_duplicate_share")?.number == 1)
        #expect(answer.hasPrefix("It is a copy of reference rows"), "\(answer)")
    }

    /// The near-exact search (projections screen, Float64 decides) against brute force over all
    /// pairs in Float64: the same match for every row, on planted pairs just inside and just outside
    /// the tolerance, exact copies, fresh rows and zero rows.
    @Test func crossDuplicatesMatchBruteForce() throws {
        let d = 24, m = 300
        var rng = SeededGenerator(seed: 3)
        var ref = Self.gaussian(m, seed: 5).map { Array($0.prefix(d)) }
        ref[7] = [Float](repeating: 0, count: d)
        let tau = CrossCorpusDuplicates.tolerance(dimension: d)
        var other: [[Float]] = []
        for (k, factor) in [0.3, 0.8, 0.95, 1.05, 1.3, 3, 100].enumerated() {
            for i in stride(from: k, to: m, by: 20) where i != 7 {
                let x = ref[i].map(Double.init), norm = x.reduce(0) { $0 + $1 * $1 }.squareRoot()
                // A direction orthogonal to x, scaled so that 1 − cos ≈ factor·τ.
                var u = (0..<d).map { _ in rng.nextGaussian() }
                let along = zip(u, x).reduce(0) { $0 + $1.0 * $1.1 } / (norm * norm)
                u = zip(u, x).map { $0 - along * $1 }
                let un = u.reduce(0) { $0 + $1 * $1 }.squareRoot()
                let delta = (2 * factor * tau).squareRoot()
                other.append((0..<d).map { Float(x[$0] / norm + delta * u[$0] / un) })
            }
        }
        other += Array(ref[100..<110]) + Self.gaussian(40, seed: 9).map { Array($0.prefix(d)) } + [[Float](repeating: 0, count: d)]
        let r = Matrix.normalizedRows(Matrix(ref)), o = Matrix.normalizedRows(Matrix(other))
        let found = CrossCorpusDuplicates.find(reference: r, other: o)
        // Brute force: exact equality first, else the REF row of largest Float64 cosine within τ.
        var expected: [CrossCorpusDuplicates.Match] = []
        for j in 0..<o.rows {
            let x = Array(o.row(j))
            if let i = (0..<m).first(where: { Array(r.row($0)) == x }) {
                expected.append(.init(otherRow: j, referenceRow: i, oneMinusCosine: 0, kind: .exact))
                continue
            }
            func dot(_ a: [Float], _ b: [Float]) -> Double {
                a.withUnsafeBytes { pa in b.withUnsafeBytes { pb in fixedOrderDot(pa.baseAddress!, pb.baseAddress!, count: d) } }
            }
            let xx = dot(x, x)
            guard xx > 0 else { continue }
            var best: (Int, Double)?
            for i in 0..<m {
                let y = Array(r.row(i)), yy = dot(y, y)
                guard yy > 0 else { continue }
                let c = dot(x, y) / (xx * yy).squareRoot()
                if 1 - c <= tau, best == nil || c > best!.1 { best = (i, c) }
            }
            if let best { expected.append(.init(otherRow: j, referenceRow: best.0, oneMinusCosine: max(0, 1 - best.1), kind: .near)) }
        }
        #expect(found.matches == expected)
        #expect(found.nearCount > 0 && found.exactCount == 11, "near \(found.nearCount), exact \(found.exactCount)")
        // The planted pairs straddle the tolerance: some inside, some outside.
        #expect(found.nearCount < other.count - 51)
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

    /// Data with few distinct directions: d = 1 (every unit row is +1 or −1), ±1 codes of dimension
    /// 4 (16 directions), and a small integer grid. Rows tie with many others there.
    enum FewDirections: String, CaseIterable, CustomTestStringConvertible {
        case oneDimensional, signCodes, integerGrid
        var testDescription: String { rawValue }
        func rows(_ n: Int) -> [[Float]] {
            var rng = SeededGenerator(seed: 29)
            switch self {
            case .oneDimensional: return (0..<n).map { _ in [Float(rng.nextGaussian())] }
            case .signCodes: return (0..<n).map { _ in (0..<4).map { _ in rng.nextIndex(2) == 0 ? -1 : 1 } }
            case .integerGrid: return (0..<n).map { _ in (0..<6).map { _ in Float(rng.nextIndex(5)) - 2 } }.map { $0.allSatisfy { $0 == 0 } ? [1, 0, 0, 0, 0, 0] : $0 }
            }
        }
    }

    /// compat on one file as OLD and NEW: the rankings tie alike, so ties alone make no flip (the
    /// independent-orders rule called 2.6 % of a ±1 matrix's queries flipped against itself).
    @Test(arguments: FewDirections.allCases, [false, true])
    func compatOnTiedRowsAgainstItselfHasNoFlips(data: FewDirections, labelled: Bool) throws {
        let n = 300
        let e = Embeddings(matrix: Matrix(data.rows(n)), name: "codes.npy")
        let labels: [String]? = labelled ? (0..<n).map { String($0 % 5) } : nil
        let report = try CompatibilityAnalysis(CompatibilityInputs(old: e, new: e, labels: labels)).report()
        #expect(report.metric("negative_flip_rate")?.number == 0)
        #expect(report.metric("negative_flip_index")?.number == 0)
        #expect(report.metric("no_worse") == .bool(true))
    }

    /// The flip probability is the Fréchet lower bound max(0, P_old − P_other): 1 or 0 without ties,
    /// the part of P_old(top-1) that P_other(top-1) cannot cover with ties (by enumeration).
    @Test func flipProbabilityIsTheSmallestOverTieOrders() throws {
        // Query 0's relevant row ties with one other row in OLD (P = 1/2) and with three in NEW (P = 1/4):
        // over every pair of tie orders the smallest P(old right, new wrong) is 1/2 − 1/4.
        func summary(_ rank: TiedFirstRank) -> RetrievalSummary {
            RetrievalSummary(name: "t", ks: [1], ranks: RetrievalRanks(first: [rank], averagePrecision: [.nan], relevantCount: [rank.relevantInBlock]))
        }
        let old = summary(TiedFirstRank(before: 0, blockSize: 2, relevantInBlock: 1))
        let new = summary(TiedFirstRank(before: 0, blockSize: 4, relevantInBlock: 1))
        let flips = NegativeFlips(old: old, other: new)
        #expect(abs(flips.expectedFlips - 0.25) < 1e-15)
        #expect(NegativeFlips(old: new, other: old).expectedFlips == 0)
        let sure = summary(TiedFirstRank(before: 0, blockSize: 1, relevantInBlock: 1))
        let wrong = summary(TiedFirstRank(before: 3, blockSize: 1, relevantInBlock: 1))
        #expect(NegativeFlips(old: sure, other: wrong).expectedFlips == 1)
        #expect(NegativeFlips(old: sure, other: sure).expectedFlips == 0)
        #expect(NegativeFlips(old: wrong, other: sure).expectedFlips == 0)
    }

    /// relrep on a few-direction space against itself: top-1 equals its ceiling (the space
    /// retrieving its own rows), and the verdict says retrieval cannot tell instead of "Hardly".
    @Test(arguments: FewDirections.allCases)
    func relrepOnTiedRowsAgainstItselfIsNotCalledUnlike(data: FewDirections) throws {
        let e = Embeddings(matrix: Matrix(data.rows(400)), name: "codes.npy")
        let report = try RelativeComparison(reference: e, other: e, configuration: RelativeRepresentationsConfiguration()).report()
        let top1 = try #require(report.metric("relative_top1")?.number), ceiling = try #require(report.metric("relative_top1_ceiling")?.number)
        #expect(top1 == ceiling)
        let answer = report.verdict?.answer ?? ""
        #expect(!answer.hasPrefix("Hardly"), "\(answer)")
        if ceiling < 0.5 { #expect(answer.hasPrefix("Cannot tell"), "\(answer)") } else { #expect(answer.hasPrefix("Yes"), "\(answer)") }
    }

    /// Two independent draws from one 8-row codebook: every row of one occurs in the other, REF's
    /// balls have radius 0, and a copy on a ball's boundary is not a new row (it was "100 % new,
    /// p = 5e-13").
    @Test func codebookDrawsHaveNoNewRegion() throws {
        var rng = SeededGenerator(seed: 31)
        let book = (0..<8).map { _ in (0..<16).map { _ in Float(rng.nextGaussian()) } }
        func draw(_ n: Int) -> [[Float]] { (0..<n).map { _ in book[rng.nextIndex(8)] } }
        let a = Embeddings(matrix: Matrix(draw(300)), name: "k1.npy"), b = Embeddings(matrix: Matrix(draw(300)), name: "k2.npy")
        var c = ShiftConfiguration()
        c.permutations = 99
        let report = try ShiftAnalysis(reference: a, others: [b], configuration: c).report()
        #expect((report.metric("new_region_share")?.number ?? 1) == 0, "\(report.metric("new_region_share") ?? .null)")
        #expect((report.metric("p_value_new_region")?.number ?? 0) > 0.05)
        #expect(!Self.text(report).contains("100.0 % of k2.npy's rows lie outside"), "\(Self.text(report))")
    }

    /// Too few relabellings to reach α: the verdict cannot tell and `shifted` is null (a gate
    /// shifted==no must not pass on a test that could not have rejected).
    @Test func tooFewPermutationsCannotTell() throws {
        let (ref, _) = Self.pair(.copy, n: 200)
        let far = Embeddings(matrix: Matrix(Self.gaussian(200, seed: 99).map { r in [r[0] + 3] + r.dropFirst() }), name: "far.npy")
        var c = ShiftConfiguration()
        c.tests = [.mmd, .energy]
        c.permutations = 1
        let report = try ShiftAnalysis(reference: ref, others: [far], configuration: c).report()
        #expect(report.metric("shifted") == .null)
        #expect(report.verdict?.answer.contains("Cannot tell") == true, "\(report.verdict?.answer ?? "")")
        #expect(throws: Never.self) { _ = try report.evaluate([Requirement(parsing: "shifted==no")]) }
        #expect(try report.evaluate([Requirement(parsing: "shifted==no")]).map(\.passed) == [false])
    }

    /// `n` rows drawn independently from one 8-row codebook of dimension 16 (seeded).
    static func codebookDraws(_ n: Int, book seed: UInt64, draw drawSeed: UInt64) -> [[Float]] {
        var rng = SeededGenerator(seed: seed)
        let book = (0..<8).map { _ in (0..<16).map { _ in Float(rng.nextGaussian()) } }
        var pick = SeededGenerator(seed: drawSeed)
        return (0..<n).map { _ in book[pick.nextIndex(8)] }
    }

    /// Independent ±1 rows of dimension 1.
    static func signs(_ n: Int, seed: UInt64) -> [[Float]] {
        var rng = SeededGenerator(seed: seed)
        return (0..<n).map { _ in [rng.nextIndex(2) == 0 ? -1 : 1] }
    }

    /// Two independent samples of one distribution with few distinct rows: every row of one ties
    /// with rows of the other. The depth test must hold its level (it said p = 1.4e-6 on codebook
    /// draws and 1.3e-27 on ±1 data, two-sided, because every other row sat a little deeper than
    /// the reference rows equal to it).
    @Test(arguments: [DepthKind.tte, .spatial], [false, true])
    func depthHoldsItsLevelOnIndependentTiedSamples(kind: DepthKind, sampled: Bool) throws {
        var rejections = 0, smallest = 1.0
        let draws = 40
        for t in 0..<UInt64(draws) {
            var c = DepthConfiguration()
            c.kind = kind
            c.alternative = .twoSided
            if sampled { c.referenceSample = 200 }
            let ref = Embeddings(matrix: Matrix(Self.codebookDraws(300, book: 31, draw: 100 + 2 * t)), name: "k1.npy")
            let other = Embeddings(matrix: Matrix(Self.codebookDraws(300, book: 31, draw: 101 + 2 * t)), name: "k2.npy")
            let p = try DepthAnalysis(reference: ref, others: [other], configuration: c).tests[0].rankSum.pValue
            if p < 0.05 { rejections += 1 }
            smallest = min(smallest, p)
        }
        // Binomial(40, 0.05): ≤ 6 rejections has probability 0.99 for a test at its level.
        #expect(rejections <= 6 && smallest > 1e-4, "\(rejections) of \(draws) rejected, smallest p \(smallest)")
        var c = DepthConfiguration()
        c.alternative = .twoSided
        let report = try DepthAnalysis(reference: Embeddings(matrix: Matrix(Self.signs(300, seed: 5)), name: "p1.npy"),
                                       others: [Embeddings(matrix: Matrix(Self.signs(300, seed: 6)), name: "p2.npy")], configuration: c).report()
        let p = try #require(report.metric("p_value")?.number)
        #expect(p > 0.01, "±1 data, d = 1: p = \(p)")
        let answer = report.verdict?.answer ?? ""
        #expect(!answer.contains("copy") && !answer.contains("leave them out"), "\(answer)")
        #expect(report.notes.contains { $0.contains("by chance") }, "\(report.notes)")
    }

    /// A row and its exact copy in the other corpus get the same depth, bit for bit (cosine TTE),
    /// and a row that copies nothing keeps its depth against every reference row.
    @Test func aCopyGetsTheDepthOfTheRowItCopies() throws {
        let a = Self.gaussian(200, seed: 41), fresh = Self.gaussian(50, seed: 43)
        let other = Embeddings(matrix: Matrix(Array(a[0..<50]) + fresh), name: "o.npy")
        let ref = Embeddings(matrix: Matrix(a), name: "r.npy")
        let analysis = try DepthAnalysis(reference: ref, others: [other])
        #expect(Array(analysis.corpora[1].depths[0..<50]) == Array(analysis.corpora[0].depths[0..<50]))
        let all = try DepthReference(ref.matrix, kind: .tte).depths(of: Matrix(fresh))
        #expect(Array(analysis.corpora[1].depths[50...]) == all)
    }

    /// compat: NEW = OLD moved by one ulp on codebook data. Every score is equal up to round-off,
    /// so no score distribution moved (the KS distance said 0.44 for the top-1 cosines).
    @Test func scoreShiftIgnoresRoundOff() throws {
        let rows = Self.codebookDraws(300, book: 31, draw: 7)
        let old = Embeddings(matrix: Matrix(rows), name: "k1.npy")
        let new = Embeddings(matrix: Matrix(rows.map { $0.map { $0.nextUp } }), name: "k1ulp.npy")
        let labels = (0..<300).map { String($0 % 4) }
        let report = try CompatibilityAnalysis(CompatibilityInputs(old: old, new: new, labels: labels)).report()
        for name in ["random_pairs", "top1", "top1_margin"] {
            #expect(report.metric("score_shift_ks_\(name)")?.number == 0, "\(name): \(report.metric("score_shift_ks_\(name)") ?? .null)")
        }
    }

    /// k-NN overlap of two unrelated spaces with large tied blocks (independent ±1 columns): the
    /// sets are not determined by the data, so the overlap is not reported; breaking ties by row
    /// number made them agree on a third of their neighbours (Jaccard 0.34).
    @Test func knnOverlapOfTiedUnrelatedSpacesIsNotReported() throws {
        let a = Embeddings(matrix: Matrix(Self.signs(300, seed: 5)), name: "p1.npy")
        let b = Embeddings(matrix: Matrix(Self.signs(300, seed: 6)), name: "p2.npy")
        var c = RelativeRepresentationsConfiguration()
        c.anchorCount = 20
        let relrep = try RelativeComparison(reference: a, other: b, configuration: c)
        #expect(relrep.knnTiedPlaceShareAbsoluteByK[0] == 1)
        // The expected overlap over tie orders is at chance (k/n ≈ 0.03), not 0.34 / 0.5.
        #expect(relrep.mutualKNN.reduce(0, +) / Double(relrep.mutualKNN.count) < 0.1)
        let report = relrep.report()
        #expect(report.metric("knn_jaccard") == .null && report.metric("mutual_knn") == .null)
        #expect(report.notes.contains { $0.contains("not determined by the data") }, "\(report.notes)")
        let compat = try CompatibilityAnalysis(CompatibilityInputs(old: a, new: b)).report()
        #expect(compat.metric("knn_overlap_at_10") == .null)
        #expect(compat.metric("knn_undetermined_share")?.number == 1)
        #expect(compat.metric("knn_tied_place_share")?.number == 1)
        #expect(compat.metric("rows_look_misaligned") == .bool(true))
    }

    /// Sign codes tie often but fill few places by ties: the overlap stays reported (the expected
    /// value over tie orders), with the shares that say how open it is.
    @Test func partlyTiedSpacesKeepTheirOverlap() throws {
        let rows = Self.gaussian(300, seed: 61)
        let old = Embeddings(matrix: Matrix(rows), name: "old.npy")
        let codes = Embeddings(matrix: Matrix(rows.map { $0.map { $0 > 0 ? 1 : -1 } }), name: "codes.npy")
        let a = try #require(CompatibilityAnalysis(CompatibilityInputs(old: old, new: codes)).agreement)
        #expect(a.knnUndeterminedShare > 0.1 && a.knnTiedPlaceShare < SpaceComparison.tiedPlaceShareLimit, "\(a.knnUndeterminedShare) \(a.knnTiedPlaceShare)")
        let report = try CompatibilityAnalysis(CompatibilityInputs(old: old, new: codes)).report()
        #expect(report.metric("knn_overlap_at_10")?.number != nil)
        #expect(report.metric("knn_tied_place_share")?.number == a.knnTiedPlaceShare)
    }

    /// `NeighbourSet` against brute force in Float64 on rows with few distinct directions (d = 2,
    /// values in {−1, 0, 1}): the rows above the k-th score, and every row tied with it — also
    /// when the tie runs past the list the sets are built from.
    @Test(arguments: [1, 3, 7])
    func neighbourSetsMatchBruteForce(k: Int) throws {
        var rng = SeededGenerator(seed: 57)
        var rows: [[Float]] = []
        while rows.count < 120 {
            let r: [Float] = [Float(rng.nextIndex(3)) - 1, Float(rng.nextIndex(3)) - 1]
            if r != [0, 0] { rows.append(r) }
        }
        let unit = Matrix.normalizedRows(Matrix(rows))
        let queries = Array(stride(from: 0, to: 120, by: 7))
        let lists = nearestNeighbors(ofRows: queries, in: unit, k: k + 1)
        let sets = NeighbourSet.sets(ofRows: queries, in: unit, k: k, lists: lists)
        for (q, row) in queries.enumerated() {
            let score = (0..<120).map { j in Double(unit[row, 0]) * Double(unit[j, 0]) + Double(unit[row, 1]) * Double(unit[j, 1]) }
            let others = (0..<120).filter { $0 != row }
            let kth = others.map { score[$0] }.sorted(by: >)[k - 1]
            let above = others.filter { score[$0] > kth }, tied = others.filter { score[$0] == kth }
            let set = sets[q]
            #expect(Set(set.sure.map(Int.init)) == Set(above), "row \(row)")
            if tied.count == k - above.count {
                #expect(set.isDetermined && set.size == k, "row \(row)")
            } else {
                #expect(Set(set.tied.map(Int.init)) == Set(tied) && set.slots == k - above.count, "row \(row): \(set.tied.count) vs \(tied.count)")
            }
        }
        // Membership probabilities sum to k, and one space against itself overlaps by Σ p².
        let own = SpaceComparison.knnOverlap(sets, sets, k: k)
        for (q, set) in sets.enumerated() {
            let p = Double(set.slots) / Double(max(1, set.tied.count))
            #expect(abs(own[q] * Double(k) - (Double(set.sure.count) + Double(set.tied.count) * p * p)) < 1e-12)
        }
    }

    /// Two corpora made the same way, each repeating some of its own rows: the repeats are tested
    /// once, so the test holds its level (it said "shifted" in 8 of 12 draws with 20 % repeats, and
    /// the new-region test fired at p ≈ 1e-10 with every row twice; every row three times was
    /// "shifted" in every draw); data with few distinct rows keeps its rows.
    @Test(arguments: [0.2, 1.0, 2.0])
    func corporaThatRepeatTheirOwnRowsAreNotCalledShifted(share: Double) throws {
        var shifted = 0, newRegions = 0
        let draws = 12
        for t in 0..<UInt64(draws) {
            func corpus(_ seed: UInt64) -> Embeddings {
                var rng = SeededGenerator(seed: seed)
                let base = (0..<200).map { _ in (0..<16).map { _ in Float(rng.nextGaussian()) } }
                // share 2: every row three times (a third of the rows distinct).
                var rows = base, extra = Int(share * 200)
                while extra > 0 { rows += base.prefix(Swift.min(extra, 200)); extra -= 200 }
                rows.shuffle(using: &rng)
                return Embeddings(matrix: Matrix(rows), name: "c\(seed).npy")
            }
            var c = ShiftConfiguration()
            c.permutations = 199
            c.seed = 100 + t
            let analysis = try ShiftAnalysis(reference: corpus(1000 + 2 * t), others: [corpus(1001 + 2 * t)], configuration: c)
            #expect(analysis.repeatedRowsDropped == [Int(share * 200), Int(share * 200)])
            if analysis.comparisons[0].shifted(alpha: 0.05) { shifted += 1 }
            if analysis.comparisons[0].regions?.newRegionFound == true { newRegions += 1 }
        }
        // Binomial(12, 0.05): ≤ 3 has probability 0.998 for a test at its level.
        #expect(shifted <= 3 && newRegions <= 3, "\(shifted) shifted, \(newRegions) new regions of \(draws)")
        // Few distinct rows: repeats are values, not copies, and every row is tested.
        let codes = RepeatedRows.withoutRepeats(Embeddings(matrix: Matrix(Self.codebookDraws(300, book: 31, draw: 9))), keep: false, minimum: 10)
        #expect(codes.dropped == 0 && codes.rows.count == 300)
    }
}

