import Foundation

/// Settings of `embdiag shift`.
public struct ShiftConfiguration: Sendable {
    public var tests: [ShiftTestKind] = ShiftTestKind.defaults
    /// B, random relabellings of the permutation tests.
    public var permutations: Int = 1000
    public var seed: UInt64 = 42
    /// σ of the Gaussian kernel (nil = median heuristic).
    public var bandwidth: Double?
    /// The MMD test's bandwidths as multiples of σ: one value = the plain MMD test at that σ;
    /// several = MMD aggregated over them (min-p over the bandwidths on the same relabellings,
    /// Schrab et al. 2023's MMDAgg with uniform weights and a permutation-calibrated threshold).
    /// The witness always uses σ itself.
    public var bandwidthScales: [Double] = [1]
    /// Compute MAUVE (opt-in: its k-means costs O(restarts·iterations·N·k·d′) with k = min(m, n)/10).
    public var mauve: Bool = false
    /// w, the classifier's share of α in the overall verdict (`CombinedVerdict`).
    public var classifierWeight: Double = CombinedVerdict.defaultClassifierWeight
    /// Pooled rows sampled for the median heuristic.
    public var bandwidthSample: Int = 2000
    /// Folds and λ of the classifier test (2: Lopez-Paz & Oquab's half/half split, cross-fitted).
    public var folds: Int = 2
    public var penalty: Double = 1
    /// k of the k-NN balls (precision/recall/density/coverage, uncovered rows).
    public var neighbors: Int = 5
    /// Rows listed as over-represented / uncovered.
    public var top: Int = 10
    /// Level of the verdict sentence and of the `shifted` metric.
    public var alpha: Double = 0.05
    /// Each corpus with more rows is replaced by a seeded sample of this many (its rows in file
    /// order; seed `seed` + 7919 + the corpus' position): the permutation tests and the k-NN
    /// numbers cost O(N²) and do not shard, so corpora of millions of rows run on a sample, and
    /// the report says so. nil = every row.
    public var maxRows: Int?
    /// Keep OTHER's rows that duplicate a REF row (exactly or near-exactly, `CrossCorpusDuplicates`)
    /// and the rows a corpus repeats itself (`RepeatedRows`) in the tests. Default false: the tests
    /// assume independent samples and run on OTHER's other rows, each repeated row once; both are
    /// reported either way.
    public var keepCrossDuplicates: Bool = false
    /// k of the reference's regions (k-means clusters, `ReferenceRegions`); nil = the documented rule.
    public var clusters: Int?
    /// How the MMD test is computed: `.exact` (permutations over the full pooled kernel, O(N²)) or
    /// `.block` (the block test on every row in O(N·b) time and bounded memory, for corpora of
    /// millions of rows; MMD alone, see `BlockMMDTest`).
    public var mmdEstimator: MMDEstimator = .exact
    /// Rows of the smaller corpus per block of the block MMD test (nil: `BlockMMDTest.defaultBlockRows`).
    public var mmdBlockRows: Int?
    public init() {}

    /// `bandwidthScales` as the report's parameters record it ("0.5,1,2").
    public var bandwidthScalesText: String {
        bandwidthScales.map { $0 == $0.rounded() && abs($0) < 1e15 ? String(Int($0)) : "\($0)" }.joined(separator: ",")
    }

    /// Rows each corpus needs for the tests: k + 1 for the k-NN balls, one per fold, and 3.
    public var minimumRows: Int { max(neighbors + 1, folds, 3) }
}

/// REF against one OTHER corpus: the rows they share, every selected test, the verdict, and where
/// it shifted. The test fields are nil when no test ran (fewer independent OTHER rows than the
/// tests need once the rows duplicating REF are dropped — OTHER is a copy of REF rows).
public struct ShiftComparison: Sendable {
    public internal(set) var reference: Source
    public internal(set) var other: Source
    public internal(set) var referenceCount: Int
    /// OTHER rows the tests ran on (without the dropped cross duplicates).
    public internal(set) var otherCount: Int
    /// OTHER rows given (after `maxRows` sampling), before cross duplicates were dropped.
    public internal(set) var otherInputCount: Int
    /// OTHER's rows that duplicate REF rows, searched on every row given before `maxRows`
    /// sampling (indices into `ShiftAnalysis.searchedReference` / `searchedOthers`).
    public internal(set) var crossDuplicates: CrossCorpusDuplicates
    /// Whether those rows were dropped before the tests (`keepCrossDuplicates` false and the
    /// shared rows are copies, `CrossCorpusDuplicates.areCopies`).
    public internal(set) var crossDuplicatesDropped: Bool
    public internal(set) var mmd: MMDTest?
    public internal(set) var mmdCosine: MMDTest?
    public internal(set) var energy: EnergyTest?
    public internal(set) var classifier: ClassifierTest?
    /// The depth test's W as `depth` computes it (normal p-value in `rankSum`)…
    public internal(set) var depth: DepthRankTest?
    /// …and its two-sided permutation p-value (the one the verdict uses).
    public internal(set) var depthPermutation: PermutationTestResult?
    /// nil when no test ran.
    public internal(set) var verdict: CombinedVerdict?
    public internal(set) var quality: PrecisionRecallCoverage?
    /// MAUVE (with `configuration.mauve`).
    public internal(set) var mauve: MauveResult?
    public internal(set) var location: ShiftLocation?
    /// Shares of the reference's clusters and the new rows (nil when no test ran).
    public internal(set) var regions: RegionShift?
    /// The 2-D map of the reference and this corpus (nil when no test ran).
    public internal(set) var map: ShiftMap?
    /// σ of the Gaussian kernel used for the witness (and the MMD test).
    public internal(set) var bandwidth: Double?
    /// Whether the tests ran.
    public var tested: Bool { verdict != nil }
    /// The verdict's `shifted`: p < α (false when no test ran).
    public func shifted(alpha: Double) -> Bool { (verdict?.pValue).map { $0 < alpha } ?? false }
}

/// The result of `embdiag shift REF OTHER [OTHER…]`. Guide: Guides/Shift.md.
public struct ShiftAnalysis: Sendable {
    public let configuration: ShiftConfiguration
    /// The reference rows tested and each OTHER's, as identities (count, file rows, labels,
    /// source) without their values (`Embeddings.withoutValues`): the result keeps no input matrix.
    public internal(set) var reference: Embeddings
    public internal(set) var others: [Embeddings]
    /// REF against each OTHER, in input order.
    public internal(set) var comparisons: [ShiftComparison]
    /// Each OTHER as given (after `maxRows` sampling); `others` holds the rows tested.
    public internal(set) var otherInputs: [Embeddings]
    /// Rows each corpus had before `maxRows` sampling (reference first), nil where it was not sampled.
    public internal(set) var rowsBeforeSampling: [Int?]
    /// The reference's clusters (regions without labels), shared by every comparison.
    public internal(set) var referenceRegions: ReferenceRegions
    /// The inputs the cross-duplicate search ran on: every row given, before `maxRows` sampling
    /// (`comparisons[i].crossDuplicates` indexes their rows).
    public internal(set) var searchedReference: Embeddings
    public internal(set) var searchedOthers: [Embeddings]

    /// Rows left out of the tests because they repeat an earlier row of their own corpus
    /// (`RepeatedRows`): the reference's first, then each other corpus's.
    public internal(set) var repeatedRowsDropped: [Int] = []
    /// Rows repeating an earlier row of their own corpus, dropped or not (kept when the corpora
    /// share values by chance, or with `keepCrossDuplicates`), in the same order.
    public internal(set) var repeatedRowsFound: [Int] = []

    /// - Complexity: per OTHER, O(N²·d + N²·B·kernels) for the permutation tests (blocked GEMMs),
    ///   O(folds·iterations·(N·d² + d³)) for the classifier, O(N²·d) for the k-NN quality numbers
    ///   and the cross-duplicate search (`CrossCorpusDuplicates`).
    public init(reference: Embeddings, others: [Embeddings], configuration: ShiftConfiguration = ShiftConfiguration()) throws {
        let c = configuration
        guard !others.isEmpty else { throw EmbdiagError.usage("shift needs a reference and at least one other corpus") }
        guard c.permutations >= 1 else { throw EmbdiagError.usage("\(Setting.permutations) must be at least 1 (got \(c.permutations))") }
        guard c.folds >= 2 else { throw EmbdiagError.usage("\(Setting.folds) must be at least 2 (got \(c.folds))") }
        guard c.penalty > 0 && c.penalty.isFinite else { throw EmbdiagError.usage("\(Setting.penalty) must be positive (got \(c.penalty))") }
        guard c.neighbors >= 1 else { throw EmbdiagError.usage("\(Setting.k) must be at least 1 (got \(c.neighbors))") }
        if let s = c.bandwidth, !(s > 0 && s.isFinite) { throw EmbdiagError.usage("\(Setting.bandwidth) must be positive (got \(s))") }
        guard !c.bandwidthScales.isEmpty, c.bandwidthScales.allSatisfy({ $0 > 0 && $0.isFinite }) else {
            throw EmbdiagError.usage("\(Setting.bandwidthScales) needs positive numbers (got \(c.bandwidthScales))")
        }
        guard c.classifierWeight > 0 && c.classifierWeight < 1 else {
            throw EmbdiagError.usage("\(Setting.classifierWeight) must lie strictly between 0 and 1 (got \(c.classifierWeight))")
        }
        guard !c.tests.isEmpty else { throw EmbdiagError.usage("\(Setting.tests) selects no test") }
        let minimum = c.minimumRows
        for e in [reference] + others where e.count < minimum {
            throw EmbdiagError.invalid(e.source.path, "shift needs at least \(minimum) rows (has \(e.count); at least \(Setting.k) + 1 and \(Setting.folds))")
        }
        for e in others where e.dimension != reference.dimension {
            throw EmbdiagError.mismatch(e.source.path, "dimension \(e.dimension) differs from the reference \(reference.source.path)'s \(reference.dimension)")
        }
        if let cap = c.maxRows, cap < minimum {
            throw EmbdiagError.usage("\(Setting.maxRows) must be at least \(minimum) (got \(cap))")
        }
        try c.validate()
        try MemoryBudget.installed.value.check(c.memoryEstimates(rows: ([reference] + others).map(\.count), dimension: reference.dimension))
        let corpora = ([reference] + others).enumerated().map { i, e in Self.sampled(e, maxRows: c.maxRows, seed: c.seed &+ 7919 &+ UInt64(i)) }
        rowsBeforeSampling = corpora.map(\.before)
        // Exact cross duplicates are searched on every row given (a hashing pass, O((m + n)·d)), so a
        // sample never understates an exact copy; near-exact ones for the sampled OTHER rows against
        // every REF row (over all OTHER rows the grid search would cost far more than the tests).
        let sampledAny = corpora.contains { $0.before != nil }
        // The result keeps the rows' identities (file rows, labels, source), not their values:
        // reports quote rows, and a caller holding the result does not hold the matrices twice.
        searchedReference = reference.withoutValues()
        searchedOthers = others.map { $0.withoutValues() }
        let searchedReferenceUnit = Matrix.normalizedRows(reference.matrix)
        let fullOthers = others
        let inputs = corpora.dropFirst().map(\.rows)
        // Rows shared with REF break the tests' independence assumption: found first (indices into
        // the rows given), dropped by default when they are copies (not repeated values shared by
        // chance, `areCopies`).
        let shared = inputs.indices.map { index in
            CrossCorpusDuplicates.find(reference: searchedReferenceUnit,
                                       other: Matrix.normalizedRows(sampledAny ? fullOthers[index].matrix : inputs[index].matrix),
                                       nearExactRows: sampledAny ? corpora[index + 1].indices : nil)
        }
        // Rows a corpus repeats itself are tested once (`RepeatedRows`) — unless the corpora also
        // share values by chance (data with few distinct rows), where repeats are values too.
        let chanceCollisions = shared.map { $0.count > 0 && !$0.areCopies }
        let (reference, referenceRepeats, referenceRepeatsFound) = RepeatedRows.withoutRepeats(
            corpora[0].rows, unitRows: corpora[0].before == nil ? searchedReferenceUnit : nil,
            keep: c.keepCrossDuplicates || chanceCollisions.contains(true), comparedWithAnotherCorpus: true, minimum: minimum)
        repeatedRowsDropped = [referenceRepeats]
        repeatedRowsFound = [referenceRepeatsFound]
        self.configuration = c
        self.reference = reference.withoutValues()
        otherInputs = inputs.map { $0.withoutValues() }
        let referenceUnit = referenceRepeats == 0 && corpora[0].before == nil ? searchedReferenceUnit : Matrix.normalizedRows(reference.matrix)
        if let sigma = c.bandwidth { try checkGivenBandwidth(sigma, scales: c.bandwidthScales, unitRows: referenceUnit, sampleSize: c.bandwidthSample, seed: c.seed) }
        // REF's k-NN graph, once: the regions' new-row rate and every comparison's precision,
        // recall, density and coverage read the same graph.
        let referenceGraph = c.neighbors >= 1 && c.neighbors < reference.count
            ? nearestNeighborsWithinRows(referenceUnit, k: c.neighbors) : nil
        let regions = try ReferenceRegions(referenceUnit: referenceUnit, labels: reference.labels, sourceRows: reference.sourceRows,
                                           clusters: c.clusters, neighbors: c.neighbors, seed: c.seed, graph: referenceGraph)
        referenceRegions = regions
        var tested: [Embeddings] = []
        var comparisons: [ShiftComparison] = []
        for (index, other) in inputs.enumerated() {
            let duplicates = shared[index]
            let drop = !c.keepCrossDuplicates && duplicates.areCopies
            var rows = other
            if drop {
                // Indices of the searched rows: the sample's positions in the full input when sampled.
                let copied = Set(duplicates.matches.map(\.otherRow))
                let positions = corpora[index + 1].indices ?? Array(0..<other.count)
                rows = other.selecting(rows: positions.indices.filter { !copied.contains(positions[$0]) })
            }
            let (distinct, repeats, found) = RepeatedRows.withoutRepeats(rows, keep: c.keepCrossDuplicates || chanceCollisions[index],
                                                                 comparedWithAnotherCorpus: true, minimum: minimum)
            rows = distinct
            repeatedRowsDropped.append(repeats)
            repeatedRowsFound.append(found)
            var comparison: ShiftComparison
            if rows.count >= minimum {
                comparison = try Self.compare(reference, referenceUnit, rows, c, referenceNeighbors: referenceGraph)
            } else {
                comparison = ShiftComparison(reference: reference.source, other: other.source, referenceCount: reference.count, otherCount: rows.count,
                                             otherInputCount: other.count, crossDuplicates: duplicates, crossDuplicatesDropped: drop)
            }
            comparison.otherInputCount = other.count
            comparison.crossDuplicates = duplicates
            comparison.crossDuplicatesDropped = drop
            try comparison.addRegions(regions, referenceUnit: referenceUnit, other: rows, alpha: c.alpha)
            tested.append(rows.withoutValues())
            comparisons.append(comparison)
        }
        self.others = tested
        self.comparisons = comparisons
    }

    /// A seeded sample of `maxRows` rows in file order (their file row numbers kept), or `e` itself.
    /// `indices`: the sample's rows in `e` (nil when not sampled).
    static func sampled(_ e: Embeddings, maxRows: Int?, seed: UInt64) -> (rows: Embeddings, before: Int?, indices: [Int]?) {
        guard let cap = maxRows, e.count > cap else { return (e, nil, nil) }
        var rng = SeededGenerator(seed: seed)
        let indices = rng.sampleIndices(e.count, count: cap).sorted()
        return (e.selecting(rows: indices), e.count, indices)
    }

    static func compare(_ reference: Embeddings, _ referenceUnit: Matrix, _ other: Embeddings, _ c: ShiftConfiguration,
                        referenceNeighbors: NearestNeighbors? = nil) throws -> ShiftComparison {
        if c.mmdEstimator == .block { return try blockComparison(reference, referenceUnit, other, c) }
        let m = reference.count, n = other.count, total = m + n, d = reference.dimension
        let otherUnit = Matrix.normalizedRows(other.matrix)
        let pooled = Matrix(rows: total, cols: d)
        pooled.mutablePointer.update(from: referenceUnit.pointer, count: m * d)
        (pooled.mutablePointer + m * d).update(from: otherUnit.pointer, count: n * d)
        let selected = Set(c.tests)
        let needsPermutations = selected.contains(.mmd) || selected.contains(.energy) || selected.contains(.mmdCosine) || selected.contains(.depth)
        let permutations = TwoSamplePermutations(firstCount: m, secondCount: n, permutations: needsPermutations ? c.permutations : 0, seed: c.seed)
        let sigma = c.bandwidth ?? medianHeuristicBandwidth(unitRows: pooled, sampleSize: c.bandwidthSample, seed: c.seed)
        // The Gaussian pass always runs: it gives the witness function even when the MMD test is not selected.
        // Kernel 0: σ (witness); then the MMD test's other bandwidths; then the distance (energy).
        var kernels: [PooledKernel] = [.gaussian(bandwidth: sigma)]
        let scales = c.bandwidthScales
        var mmdKernelIndices: [Int] = []
        if selected.contains(.mmd) {
            for s in scales {
                if s == 1 { mmdKernelIndices.append(0) } else { mmdKernelIndices.append(kernels.count); kernels.append(.gaussian(bandwidth: sigma * s)) }
            }
        }
        let energyIndex = kernels.count
        if selected.contains(.energy) { kernels.append(.distance) }
        let gaussianPermutations = selected.contains(.mmd) || selected.contains(.energy)
            ? permutations : TwoSamplePermutations(firstCount: m, secondCount: n, permutations: 0, seed: c.seed)
        // Precision/recall/density/coverage read REF × OTHER cosines from the kernel pass: the REF rows'
        // blocks hold them in their columns m…N−1 (one m·n·d GEMM less than a pass of their own).
        var qualityScan = PrecisionRecallCoverage.CrossScan(reference: referenceUnit, other: otherUnit, k: c.neighbors,
                                                            referenceNeighbors: referenceNeighbors)
        let forms = kernelQuadraticForms(unitRows: pooled, kernels: kernels, permutations: gaussianPermutations) { start, cosines in
            guard start < m else { return }
            qualityScan.add(referenceRows: start..<Swift.min(m, start + cosines.rows), cosines: cosines.pointer + (m - start),
                            rowStride: cosines.cols)
        }
        var outcomes: [ShiftTestOutcome] = []
        var mmd: MMDTest?, mmdCosine: MMDTest?, energy: EnergyTest?, classifier: ClassifierTest?, depth: DepthRankTest?
        var depthPermutation: PermutationTestResult?
        var permutationStatistics: [(ShiftTestKind, [Double])] = []
        for kind in ShiftTestKind.allCases where selected.contains(kind) {
            switch kind {
            case .mmd:
                var t = gaussianMMDTest(forms[mmdKernelIndices[0]], seed: c.seed)
                let arrays = mmdKernelIndices.map { unbiasedMMDStatistics(forms[$0]) }
                if arrays.count > 1 {
                    // MMDAgg: the statistic reported is MMD² at the first bandwidth; p = min-p over all.
                    t.result.pValue = MinPCombination(statistics: arrays).pValue
                    t.aggregatedBandwidths = mmdKernelIndices.map { if case .gaussian(let b) = forms[$0].kernel { return b } else { return .nan } }
                }
                permutationStatistics += arrays.map { (.mmd, $0) }
                mmd = t
                outcomes.append(ShiftTestOutcome(kind: .mmd, statistic: t.result.statistic, pValue: t.result.pValue, adjustedPValue: t.result.pValue,
                                                 effectSize: t.result.standardizedEffect, effectName: "null SDs", permutations: t.result.permutations))
            case .mmdCosine:
                let statistics = cosineMMDStatistics(unitRows: pooled, permutations: permutations)
                let t = MMDTest(kernel: .cosine, bandwidth: nil,
                                result: permutationTestResult(observed: statistics[0], permuted: Array(statistics.dropFirst()), seed: c.seed))
                permutationStatistics.append((.mmdCosine, statistics))
                mmdCosine = t
                outcomes.append(ShiftTestOutcome(kind: .mmdCosine, statistic: t.result.statistic, pValue: t.result.pValue, adjustedPValue: t.result.pValue,
                                                 effectSize: t.result.standardizedEffect, effectName: "null SDs", permutations: t.result.permutations))
            case .energy:
                let t = energyTest(forms[energyIndex], seed: c.seed)
                permutationStatistics.append((.energy, energyStatistics(forms[energyIndex])))
                energy = t
                outcomes.append(ShiftTestOutcome(kind: .energy, statistic: t.result.statistic, pValue: t.result.pValue, adjustedPValue: t.result.pValue,
                                                 effectSize: t.homogeneity, effectName: "H", permutations: t.result.permutations))
            case .classifier:
                let folds = stratifiedFolds(firstCount: m, secondCount: n, folds: c.folds, seed: c.seed)
                let t = try classifierTwoSampleTest(features: standardizedColumns(pooled), firstCount: m, folds: folds,
                                                    foldCount: c.folds, penalty: c.penalty, seed: c.seed)
                classifier = t
                outcomes.append(ShiftTestOutcome(kind: .classifier, statistic: t.auc, pValue: t.pValue, adjustedPValue: t.pValue,
                                                 effectSize: t.auc, effectName: "AUC", permutations: nil))
            case .depth:
                var dc = DepthConfiguration()
                dc.alternative = .twoSided
                dc.seed = c.seed
                // The rows shift tests (its repeats rule already applied); the permutation p-value is shift's own below.
                dc.keepRepeats = true
                dc.permutations = 0
                let analysis = try DepthAnalysis(reference: reference, others: [other], configuration: dc)
                let t = analysis.tests[0]
                depth = t
                let statistics = depthPermutationStatistics(unitRows: pooled, permutations: permutations)
                let permuted = permutationTestResult(observed: statistics[0], permuted: Array(statistics.dropFirst()), seed: c.seed)
                permutationStatistics.append((.depth, statistics))
                depthPermutation = permuted
                outcomes.append(ShiftTestOutcome(kind: .depth, statistic: t.rankSum.statistic, pValue: permuted.pValue, adjustedPValue: permuted.pValue,
                                                 effectSize: t.q, effectName: "Q", permutations: permuted.permutations))
            }
        }
        let quality = qualityScan.result()
        let location = shiftLocation(witness: leaveOneOutWitness(forms[0]), referenceCount: m, prc: quality,
                                     referenceLabels: reference.labels, otherLabels: other.labels)
        let mauveResult = c.mauve ? try mauve(reference: referenceUnit, other: otherUnit, seed: c.seed) : nil
        return ShiftComparison(reference: reference.source, other: other.source, referenceCount: m, otherCount: n,
                               otherInputCount: n, crossDuplicates: CrossCorpusDuplicates(tolerance: nil, referenceCount: m, otherCount: n, matches: [],
                                                                                          referenceRowsMatched: 0, referenceInternalDuplicates: 0),
                               crossDuplicatesDropped: false, mmd: mmd, mmdCosine: mmdCosine, energy: energy, classifier: classifier, depth: depth, depthPermutation: depthPermutation,
                               verdict: CombinedVerdict(outcomes, permutationStatistics: permutationStatistics, classifierWeight: c.classifierWeight),
                               quality: quality, mauve: mauveResult, location: location, bandwidth: sigma)
    }
}
