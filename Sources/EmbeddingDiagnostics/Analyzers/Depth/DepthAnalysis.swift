import Foundation

/// Settings of `embdiag depth`.
public struct DepthConfiguration: Sendable {
    public var kind: DepthKind = .tte
    public var distance: DepthDistance = .cosine
    public var alternative: Alternative = .greater
    /// Use a seeded subsample of this many reference rows as the depth reference (nil = all).
    public var referenceSample: Int?
    public var seed: UInt64 = 42
    /// Rows listed as most central / most outlying per corpus.
    public var top: Int = 10
    public var mahalanobisComponents: Int = 50
    /// With several corpora, test every pair (each pair's first corpus as the reference).
    public var allPairs: Bool = true
    /// Select the K deepest reference rows (`--select-central`), overall or per label.
    public var selectCentral: Int?
    public var selectCentralByLabel = false
    /// B, seeded relabellings of the permutation p-value (cosine TTE depth, at most
    /// `permutationRowLimit` pooled rows, no `referenceSample`); 0 = the normal approximation only.
    public var permutations: Int = 999
    /// Keep the rows a corpus repeats itself (`RepeatedRows`) in the test; default false: each
    /// repeated row is tested once where the repeats are copies (the rule of `shift`).
    public var keepRepeats = false
    public init() {}

    /// Pooled rows (reference + other) up to which the permutation p-value is computed: its cost is
    /// O(B·N·d); above, the normal approximation holds and is used.
    public static let permutationRowLimit = 4000
}

extension DepthConfiguration {
    /// The rows of the reference's seeded sample (`referenceSample` rows of `total`, sorted: the
    /// order of the depth reference), or nil when there is no sample (option unset, or at least
    /// `total` rows asked for). Only the total row count is needed, so every shard of
    /// `depth --partial` draws the single run's sample itself.
    ///
    /// - Complexity: O(s log s) for s sampled rows.
    public func referenceSampleRows(total: Int) throws -> [Int]? {
        guard let n = referenceSample else { return nil }
        guard n >= 2 else { throw EmbdiagError.usage("\(Setting.referenceSample) must be at least 2 (got \(n))") }
        guard n < total else { return nil }
        var rng = SeededGenerator(seed: seed)
        return rng.sampleIndices(total, count: n)
    }
}

/// One corpus's depths with respect to the reference.
public struct CorpusDepths: Sendable {
    public internal(set) var source: Source
    public internal(set) var labels: [String]?
    public internal(set) var depths: [Double]
    /// Source row number of each row when the corpus is a subset of its file (`Embeddings.sourceRows`).
    public internal(set) var sourceRows: [Int]?
    /// 1 = deepest (most central); ties share the smaller rank order by row.
    public internal(set) var ranks: [Int]

    init(source: Source, labels: [String]?, depths: [Double], sourceRows: [Int]? = nil) {
        self.source = source
        self.sourceRows = sourceRows
        self.labels = labels
        self.depths = depths
        let order = depths.indices.sorted { depths[$0] > depths[$1] || (depths[$0] == depths[$1] && $0 < $1) }
        var r = [Int](repeating: 0, count: depths.count)
        for (k, i) in order.enumerated() { r[i] = k + 1 }
        ranks = r
    }

    /// Rows by decreasing depth.
    public var rowsByDepth: [Int] { depths.indices.sorted { ranks[$0] < ranks[$1] } }
    public func sourceRow(_ i: Int) -> Int { sourceRows?[i] ?? i }
    public func label(_ i: Int) -> String { labels?[i] ?? String(sourceRow(i)) }
}

/// The depth-based two-sample test of Liu & Singh (1993) as used by Seegmiller & Preum (2023):
/// are the depths of OTHER (measured in REFERENCE) like the reference's own depths?
public struct DepthRankTest: Sendable {
    public internal(set) var reference: String
    public internal(set) var other: String
    /// scipy.stats.ranksums(reference depths, other depths) — "W" of tte-depth, a z-score.
    public internal(set) var rankSum: RankSumTestResult
    public internal(set) var mannWhitney: MannWhitneyResult
    /// Liu–Singh Q = mean over other rows of the fraction of reference depths ≤ its depth (ties ½).
    /// 1/2 under H₀; → 0 when the other corpus is more outlying.
    public internal(set) var q: Double
    /// tte-depth's `q_score`: fraction of all pooled ranks below each other row's rank.
    public internal(set) var qPooled: Double
    public internal(set) var referenceSize: Int
    public internal(set) var otherSize: Int
    /// The permutation p-value (`depthPermutationTest`, this test's alternative), when it ran.
    public internal(set) var permutation: PermutationTestResult? = nil

    /// The p-value the report, the verdict and the gates use: the permutation p-value when it
    /// ran, else scipy's normal approximation (`rankSum`).
    public var pValue: Double { permutation?.pValue ?? rankSum.pValue }
}

/// The result of `embdiag depth`.
public struct DepthAnalysis: Sendable {
    public let configuration: DepthConfiguration
    /// Depths of the reference corpus (leave-one-out) and of each other corpus, w.r.t. the reference.
    public internal(set) var corpora: [CorpusDepths]
    /// Reference vs each other corpus (in input order), then, with ≥ 2 others, every other pair.
    public internal(set) var tests: [DepthRankTest]
    public internal(set) var holmAdjusted: [Double]
    public internal(set) var benjaminiHochbergAdjusted: [Double]
    /// Rows of the reference used as the depth reference (nil = all).
    public internal(set) var referenceSampleRows: [Int]?
    public internal(set) var mahalanobisComponents: Int?
    /// Per other corpus: its rows that duplicate a unit-normalised reference row, exactly or within
    /// 1 − cos ≤ d·2⁻²⁴ (`CrossCorpusDuplicates`, no all-pairs pass). The rank-sum test assumes
    /// independent samples: copies sit deeper than any independent row.
    /// nil for a merged `--partial` run (the rows are not at hand).
    public internal(set) var crossDuplicates: [CrossCorpusDuplicates]? = nil
    /// Rows left out because they repeat an earlier row of their own corpus (`RepeatedRows`, the
    /// rule of `shift`): the reference's first, then each other corpus's. nil for a merged
    /// `--partial` run (the rows are not at hand).
    public internal(set) var repeatedRowsDropped: [Int]? = nil
    /// Rows repeating an earlier row of their own corpus, dropped or not, in the same order.
    public internal(set) var repeatedRowsFound: [Int]? = nil
    /// The reference's input rows measured (nil: every row), for `centralRows` on the input.
    public internal(set) var referenceRowsKept: [Int]? = nil
    /// Why the permutation p-value did not run (nil when it ran for every test, or B = 0).
    public internal(set) var permutationSkipped: String? = nil

    /// - Parameters:
    ///   - reference: the corpus depth is measured in (F).
    ///   - others: corpora to compare with it (G₁, G₂, …).
    public init(reference: Embeddings, others: [Embeddings], configuration: DepthConfiguration = DepthConfiguration()) throws {
        self.configuration = configuration
        let all = [reference] + others
        for e in all where e.count < 2 {
            throw EmbdiagError.invalid(e.source.path, "depth needs at least 2 rows (has \(e.count))")
        }
        for e in others where e.dimension != reference.dimension {
            throw EmbdiagError.mismatch(e.source.path, "dimension \(e.dimension) differs from the reference \(reference.source.path)'s \(reference.dimension)")
        }
        try configuration.validate()
        if configuration.selectCentral != nil && configuration.selectCentralByLabel && reference.labels == nil {
            throw EmbdiagError.usage("--by-label needs labels for the reference (--labels FILE)")
        }
        try MemoryBudget.installed.value.check(configuration.memoryEstimates(referenceRows: reference.count, dimension: reference.dimension,
                                                                             otherRows: others.map(\.count).max() ?? 0))
        // Rows a corpus repeats itself are measured once, by `shift`'s rule (`RepeatedRows`): where
        // the corpora share values by chance (few distinct rows), repeats are values and stay.
        let inputShared = others.map { CrossCorpusDuplicates.find(reference: Matrix.normalizedRows(reference.matrix), other: Matrix.normalizedRows($0.matrix)) }
        let chanceCollisions = inputShared.map { $0.count > 0 && !$0.areCopies }
        let ownRepeats = RepeatedRows.repeatsRemoved(reference, keep: configuration.keepRepeats || chanceCollisions.contains(true),
                                                     comparedWithAnotherCorpus: !others.isEmpty, minimum: 2)
        var dropped = [ownRepeats.dropped], found = [ownRepeats.found]
        let reference = ownRepeats.rows
        referenceRowsKept = ownRepeats.kept
        let others = others.enumerated().map { k, o in
            let r = RepeatedRows.withoutRepeats(o, keep: configuration.keepRepeats || chanceCollisions[k], comparedWithAnotherCorpus: true, minimum: 2)
            dropped.append(r.dropped)
            found.append(r.found)
            return r.rows
        }
        repeatedRowsDropped = dropped
        repeatedRowsFound = found
        let referenceUnit = Matrix.normalizedRows(reference.matrix)
        let othersUnit = others.map { Matrix.normalizedRows($0.matrix) }
        let shared = dropped.contains { $0 > 0 } ? othersUnit.map { CrossCorpusDuplicates.find(reference: referenceUnit, other: $0) } : inputShared
        crossDuplicates = shared
        // Optional seeded subsample of the reference as the depth reference set.
        let sampleRows = try configuration.referenceSampleRows(total: reference.count)
        referenceSampleRows = sampleRows
        let dr = try DepthReference(sampleRows.map { reference.matrix.gather(rows: $0) } ?? reference.matrix, configuration: configuration)
        mahalanobisComponents = configuration.kind == .mahalanobis ? dr.mahalanobisComponents : nil
        // Every row is measured against the depth reference without one row equal to it: itself
        // for a reference row (leave-one-out), a copy for any other row. Mahalanobis depth leaves
        // nothing out (its fit uses all rows; documented).
        let leaves = configuration.kind != .mahalanobis
        let sampleUnit = sampleRows.map { referenceUnit.gather(rows: $0) }
        var corpora: [CorpusDepths] = []
        let refDepths = dr.depths(of: reference.matrix, leaving: !leaves ? nil
            : Self.leftOutRows(own: DepthReference.referencePosition(sampleRows: sampleRows), ownCount: sampleRows?.count ?? reference.count,
                               queryCount: reference.count, copies: { sampleUnit.map { CrossCorpusDuplicates.find(reference: $0, other: referenceUnit) } }))
        corpora.append(CorpusDepths(source: reference.source, labels: reference.labels, depths: refDepths, sourceRows: reference.sourceRows))
        for (k, o) in others.enumerated() {
            let leaving = !leaves ? nil : Self.leftOutRows(own: nil, ownCount: 0, queryCount: o.count,
                                                           copies: { sampleUnit.map { CrossCorpusDuplicates.find(reference: $0, other: othersUnit[k]) } ?? shared[k] })
            corpora.append(CorpusDepths(source: o.source, labels: o.labels, depths: dr.depths(of: o.matrix, leaving: leaving), sourceRows: o.sourceRows))
        }
        var tests: [DepthRankTest] = corpora.dropFirst().map {
            DepthRankTest.depthRankTest(referenceDepths: refDepths, otherDepths: $0.depths, alternative: configuration.alternative,
                          reference: reference.source.path, other: $0.source.path)
        }
        let permute = Self.permutationSkipReason(configuration, sampled: sampleRows != nil, pooledRows: nil)
        for k in tests.indices where permute == nil {
            tests[k].permutation = Self.permutationTest(referenceUnit, othersUnit[k], configuration, copies: shared[k])
        }
        if configuration.allPairs && others.count >= 2 {
            for a in 0..<others.count {
                for b in (a + 1)..<others.count {
                    let pairReference = try DepthReference(others[a].matrix, configuration: configuration)
                    let own = pairReference.depths(of: others[a].matrix, leaving: leaves ? { LeftOutReferenceRow(position: $0) } : nil)
                    let theirs = pairReference.depths(of: others[b].matrix, leaving: !leaves ? nil
                        : Self.leftOutRows(own: nil, ownCount: 0, queryCount: others[b].count,
                                           copies: { CrossCorpusDuplicates.find(reference: othersUnit[a], other: othersUnit[b]) }))
                    var pair = DepthRankTest.depthRankTest(referenceDepths: own, otherDepths: theirs, alternative: configuration.alternative,
                                                           reference: others[a].source.path, other: others[b].source.path)
                    if permute == nil {
                        pair.permutation = Self.permutationTest(othersUnit[a], othersUnit[b], configuration,
                                                                copies: CrossCorpusDuplicates.find(reference: othersUnit[a], other: othersUnit[b]))
                    }
                    tests.append(pair)
                }
            }
        }
        self.corpora = corpora
        self.tests = tests
        permutationSkipped = permute ?? tests.compactMap { t in
            t.permutation == nil ? Self.permutationSkipReason(configuration, sampled: false, pooledRows: t.referenceSize + t.otherSize) : nil
        }.first
        let p = tests.map(\.pValue)
        holmAdjusted = MultipleTesting.holmAdjusted(p)
        benjaminiHochbergAdjusted = MultipleTesting.benjaminiHochbergAdjusted(p)
    }

    public var reference: CorpusDepths { corpora[0] }

    /// Why the permutation p-value cannot run with `c` (nil: it can): B = 0, a depth other than
    /// cosine TTE, depths against a reference sample (`sampled`), more than `permutationRowLimit`
    /// `pooledRows` (when given).
    ///
    /// - Complexity: O(1).
    static func permutationSkipReason(_ c: DepthConfiguration, sampled: Bool, pooledRows: Int?) -> String? {
        if c.permutations == 0 { return "\(Setting.permutations) 0: the p-value is the normal approximation of scipy's ranksums" }
        if c.kind != .tte || c.distance != .cosine {
            return "the permutation p-value is computed for cosine TTE depth (the default) only; \(c.kind.rawValue)\(c.kind == .tte ? "/\(c.distance.rawValue)" : "") depth uses the normal approximation of scipy's ranksums"
        }
        if sampled {
            return "with \(Setting.referenceSample) the depths are measured against a sample of the reference, which a relabelling of the pooled rows cannot redraw: the p-value is the normal approximation of scipy's ranksums"
        }
        if let n = pooledRows, n > DepthConfiguration.permutationRowLimit {
            return "\(n) pooled rows, above the permutation test's \(DepthConfiguration.permutationRowLimit) (O(B·N·d)): the p-value is the normal approximation of scipy's ranksums, which holds at this size"
        }
        return nil
    }

    /// The permutation test of reference rows `a` against `b` (unit rows), or nil above the row
    /// limit. `copies`: `b`'s rows that duplicate `a`'s; the near-exact ones link the pair for the
    /// leave-a-copy-out rule of every labelling (exact copies are found by the test itself).
    ///
    /// - Complexity: O(B·(N·d + N log N)) for N = m + n pooled rows.
    static func permutationTest(_ a: Matrix, _ b: Matrix, _ c: DepthConfiguration, copies: CrossCorpusDuplicates) -> PermutationTestResult? {
        let total = a.rows + b.rows
        guard total <= DepthConfiguration.permutationRowLimit, a.rows >= 2, b.rows >= 1 else { return nil }
        let pooled = Matrix(rows: total, cols: a.cols)
        pooled.mutablePointer.update(from: a.pointer, count: a.rows * a.cols)
        (pooled.mutablePointer + a.rows * a.cols).update(from: b.pointer, count: b.rows * b.cols)
        let labellings = TwoSamplePermutations(firstCount: a.rows, secondCount: b.rows, permutations: c.permutations, seed: c.seed)
        let near = copies.matches.filter { $0.kind == .near }.map { ($0.referenceRow, a.rows + $0.otherRow) }
        return depthPermutationTest(unitRows: pooled, permutations: labellings, alternative: c.alternative, nearCopies: near)
    }

    /// The reference row each query row leaves out of its depth: its own place in the depth
    /// reference when `own` has one, else the reference row it duplicates (`copies`, searched only
    /// when some query row has no place of its own: an exact copy leaves out a row equal to it, a
    /// near-exact copy one within 1 − cos ≤ d·2⁻²⁴ with its Float64 cosine). So a reference row
    /// and its copy in another corpus are measured against the same m − 1 rows and get the same
    /// depth; without that, on data with repeated rows (quantised, codebook, d = 1) every other
    /// row would sit deeper than every reference row equal to it, and the rank-sum test would
    /// find a difference between two samples of one distribution. Rows that copy nothing are
    /// measured against all m rows, as before.
    ///
    /// - Complexity: O(1) per lookup after `copies` (hashing, `CrossCorpusDuplicates.find`).
    static func leftOutRows(own: ((Int) -> LeftOutReferenceRow?)?, ownCount: Int, queryCount: Int,
                            copies: () -> CrossCorpusDuplicates?) -> (Int) -> LeftOutReferenceRow? {
        var copyOf: [Int: LeftOutReferenceRow] = [:]
        if ownCount < queryCount || own == nil, let found = copies() {
            for match in found.matches {
                copyOf[match.otherRow] = LeftOutReferenceRow(position: match.referenceRow, cosine: match.kind == .exact ? nil : 1 - match.oneMinusCosine)
            }
        }
        return { i in own?(i) ?? copyOf[i] }
    }

    /// The central rows `configuration.selectCentral` asks for (nil when it is unset), the K
    /// shown (never more rows than the reference has), and the warnings when a K or a label's
    /// rows fall short: every row of a short label is taken, visibly.
    public var centralSelection: (rows: [Int], k: Int, warnings: [String])? {
        guard let k = configuration.selectCentral else { return nil }
        let byLabel = configuration.selectCentralByLabel
        let rows = centralRows(k, byLabel: byLabel)
        var shownK = k, warnings: [String] = []
        if !byLabel && k > reference.depths.count {
            shownK = reference.depths.count
            warnings.append(ParameterCap(parameter: "--select-central", asked: k, used: shownK, reason: "the reference has \(shownK) rows").message)
        } else if byLabel, let labels = reference.labels {
            let sizes = Dictionary(labels.map { (LabelKey($0), 1) }, uniquingKeysWith: +)
            let short = sizes.filter { $0.value < k }
            if !short.isEmpty {
                warnings.append("--select-central \(k) --by-label: \(short.count) of \(sizes.count) labels have fewer than \(k) rows (all their rows are selected): \(short.sorted { $0.key < $1.key }.prefix(5).map { "\($0.key) \($0.value)" }.joined(separator: ", "))\(short.count > 5 ? ", …" : "")")
            }
        }
        return (rows, shownK, warnings)
    }

    /// The K deepest rows of the reference, overall or per label (the paper's prompt selection).
    public func centralRows(_ k: Int, byLabel: Bool) -> [Int] {
        let ref = reference
        let order = ref.rowsByDepth
        guard byLabel, let labels = ref.labels else { return Array(order.prefix(k)) }
        var taken: [LabelKey: Int] = [:]
        var rows: [Int] = []
        for i in order where taken[LabelKey(labels[i]), default: 0] < k {
            taken[LabelKey(labels[i]), default: 0] += 1
            rows.append(i)
        }
        return rows
    }
}

extension DepthRankTest {
    /// Liu–Singh Q̂ = (1/n) Σ_j (1/m) #{i : D(x_i) ≤ D(y_j)}, ties weighted ½ (O((m + n) log m)).
    public static func liuSinghQ(reference: [Double], other: [Double]) -> Double {
        let sorted = reference.sorted()
        let m = Double(sorted.count)
        guard m > 0, !other.isEmpty else { return .nan }
        func lowerBound(_ v: Double) -> Int { var lo = 0, hi = sorted.count; while lo < hi { let mid = (lo + hi) / 2; if sorted[mid] < v { lo = mid + 1 } else { hi = mid } }; return lo }
        func upperBound(_ v: Double) -> Int { var lo = 0, hi = sorted.count; while lo < hi { let mid = (lo + hi) / 2; if sorted[mid] <= v { lo = mid + 1 } else { hi = mid } }; return lo }
        let total = other.reduce(0.0) { acc, y in
            let below = Double(lowerBound(y)), equal = Double(upperBound(y) - lowerBound(y))
            return acc + (below + equal / 2) / m
        }
        return total / Double(other.count)
    }

    /// tte-depth 1.0.0's `q_score(x, y)`: average ranks of the pooled sample; for each y, the fraction
    /// of all N pooled ranks strictly below its rank; averaged over y. Reported as `q_pooled`.
    public static func pooledRankQ(reference: [Double], other: [Double]) -> Double {
        let ranks = Statistics.averageRanks(reference + other).ranks
        let sorted = ranks.sorted()
        let n = Double(ranks.count)
        guard !other.isEmpty else { return .nan }
        var total = 0.0
        for r in ranks[reference.count...] {
            var lo = 0, hi = sorted.count
            while lo < hi { let mid = (lo + hi) / 2; if sorted[mid] < r { lo = mid + 1 } else { hi = mid } }
            total += Double(lo) / n
        }
        return total / Double(other.count)
    }

    /// Runs the test on two depth samples.
    public static func depthRankTest(referenceDepths: [Double], otherDepths: [Double], alternative: Alternative,
                              reference: String = "reference", other: String = "other") -> DepthRankTest {
        DepthRankTest(reference: reference, other: other,
                      rankSum: RankTests.rankSumTest(referenceDepths, otherDepths, alternative: alternative),
                      mannWhitney: RankTests.mannWhitneyU(referenceDepths, otherDepths, alternative: alternative),
                      q: DepthRankTest.liuSinghQ(reference: referenceDepths, other: otherDepths),
                      qPooled: DepthRankTest.pooledRankQ(reference: referenceDepths, other: otherDepths),
                      referenceSize: referenceDepths.count, otherSize: otherDepths.count)
    }
}
