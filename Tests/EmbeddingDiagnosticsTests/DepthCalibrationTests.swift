import Foundation
import Testing
@testable import EmbeddingDiagnostics
import EmbeddingDiagnosticsTestSupport

/// The depth test's p-value under H₀: the permutation p-value (relabelled pooled rows, depths
/// recomputed under each labelling) at small sizes, on rows a corpus repeats and on codebook rows;
/// copies and near copies of the reference are no finding; power on a real shift; determinism.
@Suite struct DepthCalibrationTests {
    /// Gaussian rows around a common direction (a typical embedding cloud), d dimensions.
    static func cloud(_ n: Int, d: Int = 8, spread: Float = 1, rng: inout SeededGenerator) -> [[Float]] {
        (0..<n).map { _ in (0..<d).map { t in (t == 0 ? 3 : 0) + spread * Float(rng.nextGaussian()) } }
    }

    static func pValue(_ a: [[Float]], _ b: [[Float]], alternative: Alternative = .greater, permutations: Int = 199,
                       seed: UInt64 = 42) throws -> (permutation: Double, normal: Double, analysis: DepthAnalysis) {
        var c = DepthConfiguration()
        c.alternative = alternative
        c.permutations = permutations
        c.seed = seed
        let analysis = try DepthAnalysis(reference: Embeddings(matrix: Matrix(a), name: "ref.npy"),
                                         others: [Embeddings(matrix: Matrix(b), name: "other.npy")], configuration: c)
        return (analysis.tests[0].pValue, analysis.tests[0].rankSum.pValue, analysis)
    }

    /// H₀ trials: `make` draws a reference and an other corpus of one distribution per trial.
    static func nullPValues(trials: Int, seed: UInt64, alternative: Alternative,
                            _ make: (inout SeededGenerator) -> ([[Float]], [[Float]])) throws -> (permutation: [Double], normal: [Double]) {
        var rng = SeededGenerator(seed: seed)
        var permuted: [Double] = [], normal: [Double] = []
        for t in 0..<trials {
            let (a, b) = make(&rng)
            let p = try pValue(a, b, alternative: alternative, seed: UInt64(t))
            permuted.append(p.permutation)
            normal.append(p.normal)
        }
        return (permuted, normal)
    }

    static func expectCalibrated(_ p: [Double], _ what: String, uniform: Bool = true) {
        let rate = Calibration.rejectionRate(p)
        #expect(rate <= 0.08, "\(what): fraction p < 0.05 = \(rate)")
        if uniform {
            let fit = Calibration.uniformity(p)
            #expect(fit.pValue > 0.001, "\(what): p-values not uniform, bins \(fit.counts)")
        }
    }

    /// Above 4,000 pooled rows `shift` takes the products from SGEMMs: the rank sums agree with
    /// the Float64 ones up to a few rank swaps of depths equal to Float32 round-off, and rows
    /// that repeat keep their exact ties.
    @Test func gemmDepthsAgreeWithTheFloat64Ones() throws {
        var rng = SeededGenerator(seed: 77)
        var rows = Self.cloud(4_100, d: 16, rng: &rng)
        for i in stride(from: 0, to: 600, by: 3) { rows[i + 1] = rows[i] }
        let z = Matrix.normalizedRows(Matrix(rows))
        let labellings = TwoSamplePermutations(firstCount: 2_000, secondCount: 2_100, permutations: 12, seed: 5)
        let exact = depthRankSumDeviations(unitRows: z, permutations: labellings)
        let fast = depthRankSumDeviationsByGEMM(unitRows: z, permutations: labellings)
        #expect(exact.count == fast.count)
        for (a, b) in zip(exact, fast) { #expect(abs(a - b) <= 4, "rank sums \(a) vs \(b)") }
        #expect(depthPermutationStatistics(unitRows: z, permutations: labellings).count == 13)
    }

    @Test func thirtyAndThirtyLessIsCalibrated() throws {
        let p = try Self.nullPValues(trials: 400, seed: 301, alternative: .less) { rng in
            (Self.cloud(30, rng: &rng), Self.cloud(30, rng: &rng))
        }
        Self.expectCalibrated(p.permutation, "30 + 30, less")
        #expect(Calibration.rejectionRate(p.permutation) >= 0.02)
    }

    @Test func tenAndTenTwoSidedIsCalibrated() throws {
        let p = try Self.nullPValues(trials: 400, seed: 101, alternative: .twoSided) { rng in
            (Self.cloud(10, rng: &rng), Self.cloud(10, rng: &rng))
        }
        Self.expectCalibrated(p.permutation, "10 + 10, two-sided")
    }

    /// Every row twice in both corpora (nothing de-duplicated): each repeated row is measured once.
    @Test func duplicatedRowsAreMeasuredOnceAndCalibrated() throws {
        let p = try Self.nullPValues(trials: 200, seed: 202, alternative: .greater) { rng in
            let a = Self.cloud(40, rng: &rng), b = Self.cloud(40, rng: &rng)
            return (a + a, b + b)
        }
        Self.expectCalibrated(p.permutation, "duplicated rows")
        var rng = SeededGenerator(seed: 5)
        let a = Self.cloud(40, rng: &rng), b = Self.cloud(30, rng: &rng)
        let analysis = try Self.pValue(a + a, b + b + b).analysis
        #expect(analysis.repeatedRowsDropped == [40, 60])
        #expect(analysis.tests[0].referenceSize == 40 && analysis.tests[0].otherSize == 30)
        let report = analysis.report()
        #expect(report.metric("repeated_rows_reference")?.number == 40 && report.metric("repeated_rows_other")?.number == 60)
        #expect(report.notes.contains { $0.contains("repeat an earlier row of their own corpus were measured once") })
    }

    /// Rows drawn from 12 distinct vectors: the corpora share values by chance, repeats stay.
    @Test func codebookRowsStayAndAreCalibrated() throws {
        let p = try Self.nullPValues(trials: 200, seed: 303, alternative: .greater) { rng in
            let book = Self.cloud(12, rng: &rng)
            return ((0..<60).map { _ in book[rng.nextIndex(12)] }, (0..<60).map { _ in book[rng.nextIndex(12)] })
        }
        // Ties make the statistic discrete: the level holds, the p-values are not exactly uniform.
        Self.expectCalibrated(p.permutation, "codebook rows", uniform: false)
        var rng = SeededGenerator(seed: 9)
        let book = Self.cloud(12, rng: &rng)
        let a = (0..<60).map { _ in book[rng.nextIndex(12)] }, b = (0..<60).map { _ in book[rng.nextIndex(12)] }
        let analysis = try Self.pValue(a, b).analysis
        #expect(analysis.repeatedRowsDropped == [0, 0] && (analysis.repeatedRowsFound ?? []).allSatisfy { $0 > 0 })
        #expect(analysis.report().notes.contains { $0.contains("share such values by chance") })
        // Equal rows get equal depths bit for bit, and the permutation's observed W is the report's.
        for (i, j) in [(0, 1), (2, 7)] where a[i] == a[j] { #expect(analysis.reference.depths[i] == analysis.reference.depths[j]) }
        let t = analysis.tests[0]
        #expect(abs(try #require(t.permutation).statistic - t.rankSum.statistic) < 1e-9)
    }

    @Test func copiesAndNearCopiesOfTheReferenceAreNoFinding() throws {
        var rng = SeededGenerator(seed: 77)
        let a = Self.cloud(60, d: 16, rng: &rng)
        var shuffled = a
        shuffled.shuffle(using: &rng)
        // Noise at the Float32 resolution of the unit rows (near-exact copies).
        let near = a.map { row in row.map { $0 * (1 + 1e-7 * Float(rng.nextGaussian())) } }
        for (name, other) in [("same", a), ("shuffled", shuffled), ("near", near)] {
            for alternative in Alternative.allCases {
                let p = try Self.pValue(a, other, alternative: alternative)
                #expect(p.permutation >= 0.05, "\(name) \(alternative): p = \(p.permutation)")
            }
        }
        // Small noise (not a copy): no finding in the default direction.
        let noisy = a.map { row in row.map { $0 + 1e-3 * Float(rng.nextGaussian()) } }
        #expect(try Self.pValue(a, noisy).permutation >= 0.05)
    }

    @Test func powerOnARealShift() throws {
        var rng = SeededGenerator(seed: 11)
        let a = Self.cloud(40, rng: &rng), b = Self.cloud(40, spread: 2.5, rng: &rng)
        let p = try Self.pValue(a, b, permutations: 999)
        #expect(p.permutation < 0.01, "p = \(p.permutation)")
        #expect(p.analysis.report().metric("p_value")?.number == p.permutation)
        #expect(p.analysis.report().metric("p_value_ranksums")?.number == p.normal)
    }

    /// The same seed gives the same p and null; another seed other relabellings. The value is
    /// pinned: no BLAS kernel or thread count may move it (run by scripts/test-kernels).
    @Test func deterministicPerSeedAndAcrossKernels() throws {
        var rng = SeededGenerator(seed: 12)
        let a = Self.cloud(50, d: 24, rng: &rng), b = Self.cloud(45, d: 24, spread: 1.2, rng: &rng)
        let first = try #require(try Self.pValue(a, b, alternative: .twoSided, permutations: 499).analysis.tests[0].permutation)
        let again = try #require(try Self.pValue(a, b, alternative: .twoSided, permutations: 499).analysis.tests[0].permutation)
        #expect(first == again)
        let other = try #require(try Self.pValue(a, b, alternative: .twoSided, permutations: 499, seed: 43).analysis.tests[0].permutation)
        #expect(other.nullDistribution != first.nullDistribution)
        #expect(first.atLeastAsExtreme == Self.pinnedAtLeastAsExtreme, "atLeastAsExtreme \(first.atLeastAsExtreme)")
        let nullSum = (first.nullDistribution ?? []).reduce(0, +)
        #expect(nullSum.bitPattern == Self.pinnedNullSumBits, "null sum \(nullSum) bits \(nullSum.bitPattern)")
    }

    /// `shift` and `depth` apply one repeats rule: the same rows left out on duplicated rows, none
    /// on codebook rows (values shared by chance).
    @Test func shiftAndDepthAgreeOnRepeats() throws {
        var rng = SeededGenerator(seed: 21)
        let a = Self.cloud(40, rng: &rng), b = Self.cloud(30, rng: &rng)
        let book = Self.cloud(6, rng: &rng)
        let codes = { (n: Int) in (0..<n).map { _ in book[rng.nextIndex(6)] } }
        for (ref, other) in [(a + a, b + b + b), (codes(40), codes(40))] {
            var s = ShiftConfiguration()
            s.permutations = 19
            s.tests = [.depth]
            let shift = try ShiftAnalysis(reference: Embeddings(matrix: Matrix(ref), name: "r.npy"),
                                          others: [Embeddings(matrix: Matrix(other), name: "o.npy")], configuration: s)
            let depth = try Self.pValue(ref, other).analysis
            #expect(depth.repeatedRowsDropped == shift.repeatedRowsDropped && depth.repeatedRowsFound == shift.repeatedRowsFound,
                    "depth \(depth.repeatedRowsDropped ?? []) shift \(shift.repeatedRowsDropped)")
        }
    }

    static let pinnedAtLeastAsExtreme = 5
    static let pinnedNullSumBits: UInt64 = 4646326337953978817
}

/// `--permutations` and the paths where the permutation p-value does not run, through the CLI:
/// refused input exits 2 with one line naming the problem.
@Suite(.serialized) struct DepthPermutationOptionTests {
    static func json(_ path: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
    }

    static func corpora(_ dir: String, m: Int = 40, n: Int = 40, d: Int = 8) throws -> (String, String) {
        var rng = SeededGenerator(seed: 3)
        try CLI.writeNpy(DepthCalibrationTests.cloud(m, d: d, rng: &rng), to: "\(dir)/ref.npy")
        try CLI.writeNpy(DepthCalibrationTests.cloud(n, d: d, rng: &rng), to: "\(dir)/other.npy")
        return ("\(dir)/ref.npy", "\(dir)/other.npy")
    }

    static func oneLineRefusal(_ r: CLI.Result, naming: String) -> Bool {
        r.status == 2 && r.stderr.contains(naming) && r.stderr.split(separator: "\n").count == 1
    }

    @Test func refusedValues() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (a, b) = try Self.corpora(dir)
        for bad in ["-1", "1000001", "99999999999999999999", "x"] {
            let r = try CLI.run(["depth", a, b, "--permutations", bad, "--json", "\(dir)/x.json"])
            #expect(r.status == 2 && r.stderr.contains("--permutations") && !FileManager.default.fileExists(atPath: "\(dir)/x.json"),
                    "\(bad): \(r.status) \(r.stderr)")
        }
        let negative = try CLI.run(["depth", a, b, "--permutations=-1"])
        #expect(Self.oneLineRefusal(negative, naming: "--permutations"), "\(negative.stderr)")
        // A labelling table beyond the memory budget is refused before any work.
        let huge = try CLI.run(["depth", a, b, "--permutations", "1000000", "--memory-budget", "100MiB"])
        #expect(huge.status == 2 && huge.stderr.contains("--permutations"), "\(huge.status) \(huge.stderr)")
    }

    @Test func zeroPermutationsAndSampleKeepTheNormalApproximation() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (a, b) = try Self.corpora(dir)
        for (options, note) in [(["--permutations", "0"], "--permutations 0"), (["--reference-sample", "20"], "--reference-sample"),
                                (["--depth", "spatial"], "cosine TTE depth")] {
            let r = try CLI.run(["depth", a, b, "--json", "\(dir)/r.json", "-q"] + options)
            #expect(r.status == 0, "\(options): \(r.stderr)")
            let report = try Self.json("\(dir)/r.json")
            let metrics = report["metrics"] as! [String: Any], parameters = report["parameters"] as! [String: Any]
            #expect((metrics["p_value"] as? Double) == (metrics["p_value_ranksums"] as? Double), "\(options)")
            #expect((parameters["permutations"] as? Int) == 0 && (parameters["p_value_method"] as? String) == "normal approximation")
            #expect((report["notes"] as! [String]).contains { $0.contains("No permutation p-value") && $0.contains(note) }, "\(options)")
        }
        let r = try CLI.run(["depth", a, b, "--json", "\(dir)/r.json", "-q", "--seed", "5"])
        #expect(r.status == 0)
        let parameters = try Self.json("\(dir)/r.json")["parameters"] as! [String: Any]
        #expect((parameters["permutations"] as? Int) == 999 && (parameters["seed"] as? Int) == 5 && (parameters["p_value_method"] as? String) == "permutation")
    }

    @Test func partialMergeKeepsTheNormalApproximationWithANote() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let (a, b) = try Self.corpora(dir)
        func run(_ args: [String]) throws {
            let r = try CLI.run(args)
            #expect(r.status == 0, "\(args.joined(separator: " ")): \(r.stderr)")
        }
        try run(["depth", a, "--partial", "\(dir)/r1.state", "--row-offset", "0", "-q"])
        try run(["merge", "\(dir)/r1.state", "--state-out", "\(dir)/ref.state", "-q"])
        try run(["depth", a, "--partial", "\(dir)/r2.state", "--row-offset", "0", "--partial-pass", "2", "--directions", "\(dir)/ref.state", "-q"])
        try run(["depth", b, "--partial", "\(dir)/o2.state", "--row-offset", "0", "--partial-pass", "2", "--other-corpus",
                 "--directions", "\(dir)/ref.state", "-q"])
        try run(["merge", "\(dir)/ref.state", "\(dir)/r2.state", "\(dir)/o2.state", "--json", "\(dir)/merged.json", "-q"])
        let merged = try Self.json("\(dir)/merged.json")
        let metrics = merged["metrics"] as! [String: Any]
        #expect((metrics["p_value"] as? Double) == (metrics["p_value_ranksums"] as? Double))
        #expect((merged["notes"] as! [String]).contains { $0.contains("cannot relabel rows across machines") })
        // The single run with --permutations 0 is the merged run.
        try run(["depth", a, b, "--json", "\(dir)/single.json", "--permutations", "0", "-q"])
        let single = try Self.json("\(dir)/single.json")["metrics"] as! [String: Any]
        #expect((single["p_value"] as? Double) == (metrics["p_value"] as? Double))
    }

    @Test func degenerateInputs() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        func depth(_ a: [[Float]], _ b: [[Float]], _ extra: [String] = []) throws -> (CLI.Result, [String: Any]?) {
            try CLI.writeNpy(a, to: "\(dir)/a.npy")
            try CLI.writeNpy(b, to: "\(dir)/b.npy")
            try? FileManager.default.removeItem(atPath: "\(dir)/r.json")
            let r = try CLI.run(["depth", "\(dir)/a.npy", "\(dir)/b.npy", "--json", "\(dir)/r.json", "-q"] + extra)
            return (r, FileManager.default.fileExists(atPath: "\(dir)/r.json") ? (try Self.json("\(dir)/r.json")["metrics"] as! [String: Any]) : nil)
        }
        // d = 1: every unit row is ±1 (two values, shared by chance): runs, no finding.
        var rng = SeededGenerator(seed: 4)
        let signs = { (n: Int) in (0..<n).map { _ in [Float(rng.nextIndex(2) == 0 ? -1 : 1)] } }
        let (d1, m1) = try depth(signs(30), signs(30), ["--alternative", "two-sided"])
        #expect(d1.status == 0, "\(d1.stderr)")
        #expect(((m1?["p_value"] as? Double) ?? 0) >= 0.05, "\(m1 ?? [:])")
        // Two rows each.
        let (two, m2) = try depth([[1, 0], [0.9, 0.1]], [[0.8, 0.3], [0.7, 0.2]])
        #expect(two.status == 0, "\(two.stderr)")
        #expect(((m2?["p_value"] as? Double) ?? 0) > 0)
        // All rows identical: every depth ties, p = 1.
        let same = [[Float]](repeating: [1, 2, 3], count: 6)
        let (tied, m3) = try depth(same, same)
        #expect(tied.status == 0, "\(tied.stderr)")
        #expect((m3?["p_value"] as? Double) == 1, "\(m3 ?? [:])")
        // One row: refused (depth needs 2 rows per corpus).
        let (one, _) = try depth([[1, 2]], [[1, 2], [2, 1]])
        #expect(Self.oneLineRefusal(one, naming: "at least 2 rows"), "\(one.stderr)")
        // A NaN row: refused, naming the row.
        let (nan, _) = try depth([[1, 2], [Float.nan, 1], [2, 1]], [[1, 2], [2, 1]])
        #expect(nan.status == 2 && nan.stderr.split(separator: "\n").count == 1 && nan.stderr.lowercased().contains("nan"), "\(nan.stderr)")
    }
}
