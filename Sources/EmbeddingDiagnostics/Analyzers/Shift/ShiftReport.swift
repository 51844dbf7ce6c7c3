import Foundation

extension ShiftAnalysis: ReportConvertible {
    /// How the shift reports name an input: a file by its name, a PostgreSQL source by its
    /// redacted URL or connection string (its last path component is the database's name, which
    /// would read as a file name).
    static func fileName(_ s: Source) -> String {
        s.format == .postgresql ? s.path : URL(fileURLWithPath: s.path).lastPathComponent
    }
    static func percent(_ x: Double) -> String { String(format: "%.1f %%", x * 100) }

    /// A short quotation of row labels for the verdict sentence.
    static func quote(_ rows: ArraySlice<Int>, _ e: Embeddings) -> String {
        rows.map { i -> String in
            let l = e.label(i).replacingOccurrences(of: "\n", with: " ")
            return "“" + (l.count > 50 ? String(l.prefix(47)) + "…" : l) + "”"
        }.joined(separator: ", ")
    }

    /// What the rows OTHER shares with REF mean for the verdict, one sentence (empty without any).
    func crossDuplicateSentence(_ index: Int) -> String {
        let c = comparisons[index], dup = c.crossDuplicates
        guard dup.count > 0 else { return "" }
        let name = Self.fileName(c.other), refName = Self.fileName(c.reference)
        var kinds = "\(dup.exactCount) exact"
        if dup.nearCount > 0, let tau = dup.tolerance {
            kinds += ", \(dup.nearCount) within 1 − cos ≤ \(ReportFormatting.number(tau, significant: 3))"
        }
        var s = dup.count == dup.otherCount && dup.areCopies
            ? "\(name) is a copy of \(refName) rows: all \(dup.otherCount) of its rows duplicate rows of \(refName) (\(kinds); they copy \(Self.percent(dup.referenceShare)) of \(refName))"
            : dup.count == dup.otherCount
            ? "All \(dup.otherCount) of \(name)'s rows occur in \(refName) (\(kinds))"
            : "\(dup.count) of \(name)'s \(dup.otherCount) rows (\(Self.percent(dup.otherShare))) duplicate rows of \(refName) (\(kinds))"
                + (dup.referenceInternalDuplicates > 0
                    ? " — \(refName) repeats rows itself (\(dup.referenceInternalDuplicates) equal an earlier row), so on such data shared rows can be chance rather than copies"
                    : ": data that copies its reference")
        if !c.crossDuplicatesDropped && !configuration.keepCrossDuplicates {
            s += ". They are not read as copies: \(dup.repeatedValueMatches) of the \(dup.count) share a value that \(refName) repeats or that several of \(name)'s rows share, as independent samples of data with few distinct rows do by chance; the tests ran on all \(c.otherCount) rows as given (their relabellings are exact for such ties), and their verdict decides."
        } else if !c.crossDuplicatesDropped {
            s += ". They were kept (--keep-cross-duplicates): the tests assume independent samples, which shared rows violate — a copy sits closer to the reference than any independent sample, so the p-values below are not valid."
        } else if !c.tested {
            s += c.otherCount == 0
                ? ". No test ran: the two-sample tests assume independent samples, and no row of \(name) is independent of \(refName)."
                : ". No test ran: the two-sample tests assume independent samples, and only \(c.otherCount) rows of \(name) are not copies (the tests need at least \(configuration.minimumRows))."
        } else {
            s += ". The tests ran on its \(c.otherCount) other rows (they assume independent samples; --keep-cross-duplicates keeps the copies)."
        }
        return s
    }

    /// How sure, in words, from the combined p-value below α.
    static func strength(_ p: Double) -> String {
        p < 1e-6 ? "overwhelming evidence" : p < 1e-3 ? "very strong evidence" : p < 1e-2 ? "strong evidence" : "some evidence"
    }

    /// How much, in words, from the typed results: the classifier's AUC when the classifier itself
    /// tells the rows apart (its own p < α: an AUC at or below chance describes nothing), else the
    /// energy homogeneity, else the depth Q, else how far MMD² lies out in null standard deviations.
    static func size(_ c: ShiftComparison, _ name: String, _ refName: String, alpha: Double) -> String? {
        if let t = c.classifier, t.pValue < alpha {
            return "a classifier tells their rows apart with AUC \(ReportFormatting.number(t.auc, significant: 3)) (0.5: indistinguishable, 1: fully separable)"
        }
        if let e = c.energy {
            return "energy homogeneity H = \(ReportFormatting.number(e.homogeneity, significant: 3)) (0: the same distribution, 1: no overlap)"
        }
        if let t = c.depth {
            return "depth Q = \(ReportFormatting.number(t.q, significant: 3)) (0.5: as deep in \(refName) as its own rows)"
        }
        if let m = c.mmd ?? c.mmdCosine, m.result.standardizedEffect.isFinite {
            return "MMD² lies \(ReportFormatting.number(m.result.standardizedEffect, significant: 3)) null standard deviations above chance"
        }
        return nil
    }

    /// The verdict sentence of one comparison, in plain words: what differs, how much, how sure;
    /// how the tests were combined is in the notes and the tests table.
    public func verdict(_ index: Int) -> String {
        let c = comparisons[index], other = others[index]
        let shared = crossDuplicateSentence(index)
        guard let verdict = c.verdict, let quality = c.quality, let location = c.location else {
            guard let verdict = c.verdict, let block = c.mmd?.block else { return shared }
            // The block MMD test alone: no witness or k-NN numbers to say where.
            let answer = verdict.pValue < configuration.alpha ? "differs from" : "shows no evidence of differing from"
            return (shared.isEmpty ? "" : shared + " ") + "\(Self.fileName(c.other)) \(answer) \(Self.fileName(c.reference)): block MMD p = "
                + "\(ReportFormatting.number(verdict.pValue, significant: 3)) (\(block.blocks) blocks, t = \(ReportFormatting.number(block.t, significant: 3))), α = "
                + "\(ReportFormatting.number(configuration.alpha, significant: 3)); where it differs is not computed with --mmd block."
        }
        let prefix = shared.isEmpty ? "" : shared + " "
        let p = ReportFormatting.number(verdict.pValue, significant: 3)
        let name = Self.fileName(c.other), refName = Self.fileName(c.reference)
        guard verdict.canReject(at: configuration.alpha) else {
            let floor = ReportFormatting.number(verdict.smallestPossiblePValue, significant: 3)
            return prefix + "Cannot tell whether \(name) is distributed differently from \(refName): with \(configuration.permutations) relabellings the smallest p-value these tests can give is \(floor) ≥ α = \(ReportFormatting.number(configuration.alpha, significant: 3)); give more --permutations."
        }
        guard verdict.pValue < configuration.alpha else {
            return prefix + "No evidence that \(name) is distributed differently from \(refName) (p = \(p) ≥ α = \(ReportFormatting.number(configuration.alpha, significant: 3)))."
        }
        var s = prefix + "\(name) differs from \(refName), \(Self.strength(verdict.pValue)) (p = \(p))"
        if let size = Self.size(c, name, refName, alpha: configuration.alpha) { s += ": " + size }
        let top = location.overRepresented.prefix(3)
        if verdict.decidingTest == .depth, let t = c.depth {
            // The depth test sees one direction only: deeper (Q > ½) or shallower than REF's own rows.
            // Deeper is "too typical" (or shared rows), never an over-representation of some rows.
            let q = ReportFormatting.number(t.q, significant: 3)
            s += t.q > 0.5
                ? "; its rows lie closer to the centre of \(refName) than \(refName)'s own rows do (depth Q = \(q) > 0.5): too typical — or rows shared with \(refName), which an independent sample cannot be"
                : "; its rows lie more at the periphery of \(refName) than \(refName)'s own rows do (depth Q = \(q) < 0.5)"
        } else if let l = location.labels.first, l.otherShare > l.referenceShare {
            s += "; it over-represents \(l.label) (\(Self.percent(l.otherShare)) of its rows vs \(Self.percent(l.referenceShare)))"
        } else if !top.isEmpty {
            s += "; it over-represents rows like \(Self.quote(top, other))"
        }
        // A REF row whose k nearest REF rows are copies of it has a ball of radius 0, which no row
        // lies strictly inside (prdc's rule): "missed" by the tie rule, not by the data. Counted
        // among the rows with a ball only; none such, no claim.
        let withBall = quality.referenceRadius.indices.filter { quality.referenceRadius[$0] > 0 }
        guard !withBall.isEmpty else { return s + "." }
        let missed = withBall.filter { !quality.referenceCovered[$0] }.count
        let uncoveredShare = Double(missed) / Double(withBall.count)
        let among = withBall.count < quality.referenceRadius.count
            ? " among the \(withBall.count) whose \(quality.k)-NN radius is not 0" : ""
        s += "; it misses \(Self.percent(uncoveredShare)) of \(refName)\(among) (rows with no \(name) row within their \(quality.k)-NN radius"
        if !location.uncovered.isEmpty, missed > 0 { s += ", e.g. " + Self.quote(location.uncovered.prefix(2), reference) }
        return s + ")."
    }

    public func report() -> Report {
        let c = configuration
        var parameters: [ReportParameter] = [
            ReportParameter("tests", .string(c.tests.map(\.rawValue).joined(separator: ","))),
            ReportParameter("permutations", .int(c.permutations)),
            ReportParameter("seed", .int(Int(truncatingIfNeeded: c.seed))),
            ReportParameter("bandwidth", c.bandwidth.map { ReportValue.double($0) } ?? ReportValue.string("median heuristic")),
            ReportParameter("folds", .int(c.folds)),
            ReportParameter("penalty", .double(c.penalty)),
            ReportParameter("k", .int(c.neighbors)),
            ReportParameter("alpha", .double(c.alpha)),
            // Both change the p-values: the kernels MMD aggregates, and the classifier's share of the combined test.
            ReportParameter("bandwidth_scales", .string(c.bandwidthScalesText)),
            ReportParameter("classifier_weight", .double(c.classifierWeight)),
            ReportParameter("rows", .string("unit-normalised")),
        ]
        if c.bandwidth == nil { parameters.append(ReportParameter("bandwidth_sample", .int(c.bandwidthSample))) }
        if let cap = c.maxRows { parameters.append(ReportParameter("max_rows", .int(cap))) }
        parameters.append(ReportParameter("cross_duplicates", .string(c.keepCrossDuplicates
            ? "kept in the tests (--keep-cross-duplicates)" : "other rows that duplicate a reference row are left out of the tests")))
        let first = comparisons[0]
        if let tau = first.crossDuplicates.tolerance {
            parameters.append(ReportParameter("cross_duplicate_tolerance", .double(tau)))
        }
        let dup = first.crossDuplicates
        var metrics: [ReportMetric] = [
            ReportMetric("n_reference", "reference rows", .int(first.referenceCount)),
            ReportMetric("n_other", "other rows tested\(first.crossDuplicatesDropped ? " (without the \(dup.count) that duplicate reference rows)" : "")", .int(first.otherCount)),
            ReportMetric("n_other_input", "other rows given", .int(first.otherInputCount)),
            ReportMetric("repeated_rows_reference", "reference rows left out because they repeat an earlier reference row (copies within the corpus)", .int(repeatedRowsDropped.first ?? 0)),
            ReportMetric("repeated_rows_other", "other rows left out because they repeat an earlier row of the other corpus", .int(repeatedRowsDropped.count > 1 ? repeatedRowsDropped[1] : 0)),
            ReportMetric("cross_duplicates", "other rows that duplicate a reference row (exact, or 1 − cos ≤ \(ReportFormatting.number(dup.tolerance ?? 0, significant: 3)))", .int(dup.count)),
            ReportMetric("cross_duplicates_exact", "of which exact copies of a unit-normalised reference row", .int(dup.exactCount)),
            ReportMetric("cross_duplicate_share", "share of the other rows that duplicate a reference row", ReportValue(dup.otherShare)),
            ReportMetric("cross_duplicate_reference_share", "share of the reference rows copied into the other corpus", ReportValue(dup.referenceShare)),
            ReportMetric("p_value", first.verdict.map { "overall p-value (\($0.correction))" } ?? "overall p-value (no test ran: too few other rows independent of the reference)",
                         first.verdict.map { ReportValue($0.pValue) } ?? .null),
            ReportMetric("shifted", "shift detected at α = \(ReportFormatting.number(c.alpha, significant: 3)) (null when the tests cannot reach α)",
                         first.verdict.map { $0.canReject(at: c.alpha) } == false ? .null : .bool(first.shifted(alpha: c.alpha))),
        ]
        var blockNote: String?
        if let t = first.mmd {
            metrics += [
                ReportMetric("mmd", "MMD²_u, Gaussian kernel (Gretton et al. 2012)", ReportValue(t.result.statistic)),
                ReportMetric("p_value_mmd", t.block.map { "p-value, block MMD (\($0.blocks) blocks, Student t)" } ?? "p-value, MMD (\(t.result.permutations) permutations)",
                             ReportValue(t.result.pValue)),
            ]
            if let b = t.block {
                metrics += [ReportMetric("mmd_blocks", "blocks of the block MMD test", .int(b.blocks)),
                            ReportMetric("mmd_standard_error", "standard error of the block MMD² mean", ReportValue(b.standardError))]
                blockNote = ("MMD by the block test (--mmd block; Zaremba, Gretton & Blaschko 2013): \(b.blocks) blocks of \(b.firstBlockRows) + \(b.secondBlockRows) rows in a seeded random order (seed \(c.seed)), the blocks' mean MMD²_u tested with Student's t on \(b.blocks - 1) degrees of freedom. Time O(N·b·d), memory of one block; less power than the exact test at equal size (Guides/Shift.md, \"Large corpora\"). The witness and the k-NN numbers (O(N²)) are not computed.")
            }
        }
        if let sigma = first.bandwidth {
            metrics.append(ReportMetric("mmd_bandwidth", "Gaussian kernel σ (\(c.bandwidth == nil ? "median heuristic" : "given"))", ReportValue(sigma)))
        }
        if let t = first.mmdCosine {
            metrics += [
                ReportMetric("mmd_cosine", "MMD²_u, cosine kernel", ReportValue(t.result.statistic)),
                ReportMetric("p_value_mmd_cosine", "p-value, cosine MMD", ReportValue(t.result.pValue)),
            ]
        }
        if let t = first.energy {
            metrics += [
                ReportMetric("energy", "energy distance E (Székely & Rizzo 2013)", ReportValue(t.result.statistic)),
                ReportMetric("p_value_energy", "p-value, energy (\(t.result.permutations) permutations)", ReportValue(t.result.pValue)),
                ReportMetric("energy_homogeneity", "homogeneity coefficient H = E / (2 mean cross distance)", ReportValue(t.homogeneity)),
            ]
        }
        if let t = first.classifier {
            metrics += [
                ReportMetric("auc", "classifier AUC, out-of-fold (Lopez-Paz & Oquab 2017)", ReportValue(t.auc)),
                ReportMetric("p_value_classifier", "p-value, classifier (per-fold Mann–Whitney \(t.exact ? "exact" : "normal"), Bonferroni over \(t.folds) folds)", ReportValue(t.pValue)),
            ]
        }
        if let t = first.depth {
            metrics += [
                ReportMetric("depth_w", "depth rank-sum statistic W (z)", ReportValue(t.rankSum.statistic)),
                ReportMetric("p_value_depth", "p-value, depth rank-sum (two-sided, \(first.depthPermutation?.permutations ?? 0) permutations)", ReportValue(first.depthPermutation?.pValue ?? t.rankSum.pValue)),
                ReportMetric("p_value_depth_normal", "p-value, depth rank-sum, normal approximation (as `depth`)", ReportValue(t.rankSum.pValue)),
                ReportMetric("depth_q", "Liu–Singh Q (0.5 = same distribution)", ReportValue(t.q)),
            ]
        }
        if let q = first.quality {
        metrics += [
            ReportMetric("precision", "precision: other rows inside the reference's \(q.k)-NN balls (Kynkäänniemi et al.)", ReportValue(q.precision)),
            ReportMetric("recall", "recall: reference rows inside the other's \(q.k)-NN balls", ReportValue(q.recall)),
            ReportMetric("density", "density (Naeem et al.; 1 = as dense as the reference)", ReportValue(q.density)),
            ReportMetric("coverage", "coverage: reference rows with an other row in their ball", ReportValue(q.coverage)),
            ReportMetric("uncovered_share", "share of reference rows not covered (1 − coverage)", ReportValue(1 - q.coverage)),
        ]
        }
        if let r = first.mauve {
            metrics += [
                ReportMetric("mauve", "MAUVE (Pillutla et al. 2021; 1 = indistinguishable; \(r.buckets) k-means buckets on \(r.components) PCA components)", ReportValue(r.mauve)),
                ReportMetric("mauve_star", "MAUVE* (Krichevsky–Trofimov smoothed histograms, Pillutla et al. 2023)", ReportValue(r.mauveStar)),
            ]
        }

        metrics += regionMetrics()
        var tables: [ReportTable] = []
        let multiple = comparisons.count > 1
        tables.append(ReportTable(
            name: "tests", title: "Tests (permutation p-values (1 + #{T_b ≥ T})/(B + 1); p_adjusted: the verdict's adjustment, whose smallest value is p_value)",
            columns: (multiple ? ["other"] : []) + ["test", "statistic", "p_value", "p_adjusted", "effect_size", "effect", "permutations"],
            rows: comparisons.flatMap { comp in (comp.verdict?.tests ?? []).map { t in
                (multiple ? [ReportValue.string(comp.other.path)] : []) +
                [.string(t.kind.rawValue), ReportValue(t.statistic), ReportValue(t.pValue), ReportValue(t.adjustedPValue),
                 ReportValue(t.effectSize), .string(t.effectName), t.permutations.map { ReportValue.int($0) } ?? ReportValue.null] } }))
        if multiple {
            // Holm over the corpora that were tested (a copy has no p-value and takes no share of α).
            let testedIndices = comparisons.indices.filter { comparisons[$0].tested }
            let holmTested = MultipleTesting.holmAdjusted(testedIndices.map { comparisons[$0].verdict!.pValue })
            var holm = [Double?](repeating: nil, count: comparisons.count)
            for (k, i) in testedIndices.enumerated() { holm[i] = holmTested[k] }
            tables.append(ReportTable(
                name: "comparisons", title: "Each other corpus against the reference (overall p; Holm across the corpora tested)",
                columns: ["other", "n_other", "cross_duplicates", "p_value", "p_holm", "shifted", "precision", "recall", "density", "coverage"],
                rows: comparisons.enumerated().map { i, comp in
                    [.string(comp.other.path), .int(comp.otherCount), .int(comp.crossDuplicates.count), ReportValue(comp.verdict?.pValue), ReportValue(holm[i]),
                     .bool(comp.shifted(alpha: c.alpha)), ReportValue(comp.quality?.precision), ReportValue(comp.quality?.recall),
                     ReportValue(comp.quality?.density), ReportValue(comp.quality?.coverage)]
                }))
        }
        let top = max(0, c.top)
        for (index, comp) in comparisons.enumerated() {
            let suffix = multiple ? "_\(index + 1)" : ""
            let other = others[index], input = searchedOthers[index], searched = searchedReference
            let shared = comp.crossDuplicates
            if shared.count > 0 {
            tables.append(ReportTable(
                name: "cross_duplicates\(suffix)", title: "Rows of \(comp.other.path) that duplicate a row of \(comp.reference.path) (\(shared.count) of \(shared.otherCount); \(comp.crossDuplicatesDropped ? "left out of the tests" : "kept in the tests"))",
                columns: ["row", "label", "reference_row", "reference_label", "kind", "one_minus_cosine"],
                rows: shared.matches.prefix(top).map { d in
                    [.int(input.sourceRow(d.otherRow)), .string(input.label(d.otherRow)), .int(searched.sourceRow(d.referenceRow)),
                     .string(searched.label(d.referenceRow)), .string(d.kind.rawValue), ReportValue(d.oneMinusCosine)]
                }))
            }
            tables += regionTables(index, suffix: suffix)
            guard let loc = comp.location, let quality = comp.quality else { continue }
            let probability = comp.classifier?.outOfFoldProbability
            tables.append(ReportTable(
                name: "over_represented\(suffix)", title: "Rows of \(comp.other.path) in regions it over-represents (largest witness first)",
                columns: ["row", "label", "witness", "classifier_probability", "inside_reference"],
                rows: loc.overRepresented.prefix(top).map { j in
                    [.int(other.sourceRow(j)), .string(other.label(j)), ReportValue(loc.otherWitness[j]),
                     probability.map { ReportValue($0[comp.referenceCount + j]) } ?? .null, .bool(quality.otherInsideReference[j])]
                }))
            tables.append(ReportTable(
                name: "uncovered\(suffix)", title: "Rows of \(comp.reference.path) that \(comp.other.path) does not cover (\(loc.uncovered.count) of \(comp.referenceCount); farthest first)",
                columns: ["row", "label", "nearest_other_distance", "knn_radius", "ratio", "nearest_other_row", "witness"],
                rows: loc.uncovered.prefix(top).map { i in
                    [.int(reference.sourceRow(i)), .string(reference.label(i)), ReportValue(quality.referenceNearestOther[i]), ReportValue(quality.referenceRadius[i]),
                     ReportValue(quality.referenceRadius[i] > 0 ? quality.referenceNearestOther[i] / quality.referenceRadius[i] : .infinity),
                     .int(other.sourceRow(quality.referenceNearestOtherRow[i])), ReportValue(loc.referenceWitness[i])]
                }))
            if !loc.labels.isEmpty {
                tables.append(ReportTable(
                    name: "labels\(suffix)", title: "Per label: shares in each corpus and in the drifted rows (largest gain in \(comp.other.path) first)",
                    columns: ["label", "n_reference", "n_other", "share_reference", "share_other", "novel_other", "share_of_novel", "uncovered_reference", "share_of_uncovered", "mean_witness"],
                    rows: loc.labels.map { l in
                        [.string(l.label), .int(l.referenceCount), .int(l.otherCount), ReportValue(l.referenceShare), ReportValue(l.otherShare),
                         .int(l.novelCount), ReportValue(l.novelShare), .int(l.uncoveredCount), ReportValue(l.uncoveredShare), ReportValue(l.meanWitness)]
                    }))
            }
            var rows: [[ReportValue]] = []
            for i in 0..<comp.referenceCount {
                rows.append([.string(comp.reference.path), .int(reference.sourceRow(i)), .string(reference.label(i)), ReportValue(loc.referenceWitness[i]),
                             probability.map { ReportValue($0[i]) } ?? .null, .bool(quality.referenceCovered[i])])
            }
            for j in 0..<comp.otherCount {
                rows.append([.string(comp.other.path), .int(other.sourceRow(j)), .string(other.label(j)), ReportValue(loc.otherWitness[j]),
                             probability.map { ReportValue($0[comp.referenceCount + j]) } ?? .null, .bool(quality.otherInsideReference[j])])
            }
            tables.append(ReportTable(
                name: "rows\(suffix)", title: "Every row: witness, out-of-fold classifier probability of OTHER, covered (reference) / inside the reference (other)",
                columns: ["input", "row", "label", "witness", "classifier_probability", "covered_or_inside"], rows: rows, textRowLimit: 0, isPerRow: true))
        }

        // Witness distributions of REF and OTHER rows on a shared grid.
        var charts: [ReportChart] = []
        let all = first.location.map { ($0.referenceWitness + $0.otherWitness).filter(\.isFinite) } ?? []
        if let location = first.location, let lo = all.min(), let hi = all.max(), hi > lo {
            let bins = 30
            let width = (hi - lo) / Double(bins)
            func histogram(_ values: [Double]) -> [ChartPoint] {
                var counts = [Double](repeating: 0, count: bins)
                for v in values where v.isFinite { counts[min(bins - 1, Int((v - lo) / width))] += 1 }
                let n = Double(max(1, values.count))
                return (0..<bins).map { ChartPoint(x: lo + (Double($0) + 0.5) * width, y: counts[$0] / n) }
            }
            charts.append(ReportChart(
                name: "witness_histogram", title: "MMD witness at every row (fraction of rows)", kind: .histogram,
                xLabel: "witness: mean k(·, other) − mean k(·, reference)", yLabel: "fraction of rows",
                series: [ReportChart.Series(name: "reference: " + Self.fileName(first.reference), points: histogram(location.referenceWitness)),
                         ReportChart.Series(name: Self.fileName(first.other), points: histogram(location.otherWitness))],
                caption: "Rows with witness > 0 lie where \(Self.fileName(first.other)) has more mass than the reference; < 0 where it has less. Equal distributions put both histograms on top of each other around 0."))
        }
        for index in comparisons.indices {
            if let map = regionMap(index, suffix: multiple ? "_\(index + 1)" : "") { charts.append(map) }
        }
        var notes: [String] = regionNotes()
        if let blockNote { notes.append(blockNote) }
        for (i, before) in rowsBeforeSampling.enumerated() {
            guard let before, let cap = c.maxRows else { continue }
            let e = i == 0 ? reference : others[i - 1]
            notes.append("\(e.source.path) has \(before) rows: every test used a seeded sample of \(cap) of them (--max-rows, seed \(c.seed) + \(7919 + i)); the permutation tests and k-NN numbers do not shard, so this is what a corpus of this size runs on. Row numbers are its file rows.")
        }
        if repeatedRowsDropped.contains(where: { $0 > 0 }) {
            let names = ([reference.source.path] + others.map(\.source.path))
            let parts = zip(names, repeatedRowsDropped).filter { $0.1 > 0 }.map { "\($0.0): \($0.1)" }
            notes.append("Rows a corpus repeats itself were tested once (\(parts.joined(separator: ", ")) repeats left out): the permutation tests relabel rows one by one, which is exact only for rows drawn independently, and a corpus that repeats its own rows (a batch ingested twice, boilerplate) keeps every repeat on its side — two corpora made the same way would look shifted. Repeats count as copies unless the corpora also share values by chance (data with few distinct rows, quantised or integer-valued, which is tested as given). --keep-cross-duplicates keeps every row.")
        }
        let keptRepeats = zip([reference.source.path] + others.map(\.source.path), zip(repeatedRowsFound, repeatedRowsDropped)).filter { $0.1.0 > $0.1.1 }
        if !keptRepeats.isEmpty {
            let parts = keptRepeats.map { "\($0.0): \($0.1.0)" }.joined(separator: ", ")
            notes.append(c.keepCrossDuplicates
                ? "Rows a corpus repeats itself were kept (\(parts) repeats; --keep-cross-duplicates): the permutation tests assume independent rows, so where the repeats are copies the p-values are not valid."
                : "Rows a corpus repeats itself were tested as given (\(parts) repeats): the corpora also share values by chance, as independent samples of data with few distinct rows (quantised, integer-valued) do, so the repeats are read as values, not copies.")
        }
        notes.append("The tests assume that the reference and each other corpus are independent samples. Rows shared by both break that: a copy sits closer to the reference than any independent sample can (the depth test sees it at once), so a copy of the reference would look shifted. Other rows equal to a unit-normalised reference row, or within 1 − cos ≤ d·2⁻²⁴ of one (the Float32 resolution of the tests' cosines), are counted as cross duplicates (`cross_duplicates`, table `cross_duplicates`) and \(c.keepCrossDuplicates ? "were kept in the tests (--keep-cross-duplicates): the p-values are not valid where some were found" : "left out of the tests (--keep-cross-duplicates keeps them)").")
        for comp in comparisons where comp.crossDuplicates.referenceInternalDuplicates > 0 && comp.crossDuplicates.count > 0 {
            notes.append("\(comp.reference.path) repeats rows itself (\(comp.crossDuplicates.referenceInternalDuplicates) equal an earlier row): on data with few distinct rows (quantised or integer-valued), independent samples share rows by chance, and dropping them would bias the tests. Shared rows are read as copies (and left out) only when most of them pair one other row with one reference row that the reference does not repeat; otherwise the tests run on the rows as given (Guides/Shift.md).")
            break
        }
        if rowsBeforeSampling.contains(where: { $0 != nil }) {
            let nearRows = comparisons.compactMap(\.crossDuplicates.nearExactSearchedRows)
            notes.append("Exact cross duplicates were searched on every row of the inputs, before --max-rows sampling: `cross_duplicates` and the shares count all of them. Near-exact ones (1 − cos ≤ d·2⁻²⁴) were searched for the sampled rows of each other corpus only\(nearRows.isEmpty ? "" : " (\(nearRows.map(String.init).joined(separator: ", ")) rows)"), against every reference row: a near copy's share is counted on those rows. The tests left out the sampled rows that copy a reference row.")
        }
        if let verdict = first.verdict, first.mmd?.block == nil {
        let deciding = verdict.tests.first { $0.kind == verdict.decidingTest }
        notes.append("Overall p-value: \(verdict.correction)\(deciding.map { "; smallest: \($0.kind.rawValue) p = \(ReportFormatting.number($0.pValue, significant: 3))" } ?? "") — exact level under H₀ whatever the dependence between the tests (Guides/Shift.md). Permutation p-values are (1 + #{T_b ≥ T})/(B + 1) with B = \(c.permutations), seed \(c.seed): never 0, smallest possible \(ReportFormatting.number(1 / Double(c.permutations + 1), significant: 3)).")
        }
        if let t = first.classifier, !t.converged {
            notes.append("The classifier's Newton iterations stopped before convergence in some fold (iterations \(t.iterations)); its AUC is still a valid out-of-fold score.")
        }
        if (first.location?.labels.isEmpty ?? false) && (reference.labels != nil || others[0].labels != nil) {
            notes.append("No per-label table: it needs --labels and --other-labels whose values repeat (categories, not one text per row).")
        }
        var report = Report(analyzer: "shift", title: "Corpus shift: is each other corpus distributed like the reference?",
                            inputs: [reference.source] + otherInputs.map(\.source), parameters: parameters, metrics: metrics,
                            tables: tables, charts: charts, notes: notes)
        report.verdict = ReportVerdict(
            question: "Is \(others.map { Self.fileName($0.source) }.joined(separator: ", ")) distributed like \(Self.fileName(reference.source)) in embedding space, and where does it differ?",
            answer: comparisons.indices.map { [verdict($0), regionSentence($0)].filter { !$0.isEmpty }.joined(separator: " ") }.joined(separator: " "),
            decidingMetrics: ["p_value", "cross_duplicate_share", "p_value_mmd", "p_value_energy", "p_value_classifier", "p_value_depth", "coverage"])
        return report
    }
}
