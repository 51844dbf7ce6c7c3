import Foundation

extension DepthAnalysis: ReportConvertible {
    public func report() -> Report {
        let c = configuration
        var parameters: [ReportParameter] = [
            ReportParameter("depth", .string(c.kind.rawValue)),
            ReportParameter("distance", .string(c.kind == .tte ? c.distance.rawValue : "cosine (unit rows)")),
            ReportParameter("alternative", .string(c.alternative.rawValue)),
            ReportParameter("seed", .int(Int(truncatingIfNeeded: c.seed))),
        ]
        if !tests.isEmpty {
            let permuted = tests.first?.permutation != nil
            parameters.append(ReportParameter("permutations", .int(permuted ? c.permutations : 0)))
            parameters.append(ReportParameter("p_value_method", .string(permuted ? "permutation" : "normal approximation")))
        }
        if let rows = referenceSampleRows { parameters.append(ReportParameter("reference_sample", .int(rows.count))) }
        if let k = mahalanobisComponents { parameters.append(ReportParameter("mahalanobis_components", .int(k))) }

        var metrics: [ReportMetric] = [ReportMetric("n_reference", "reference rows", .int(reference.depths.count))]
        let refStats = Statistics.meanAndStandardDeviation(reference.depths)
        metrics.append(ReportMetric("depth_mean_reference", "mean depth of the reference", ReportValue(refStats.mean)))
        if let t = tests.first {
            let other = corpora[1]
            metrics += [
                ReportMetric("n_other", "other rows", .int(t.otherSize)),
                ReportMetric("depth_mean_other", "mean depth of the other corpus", ReportValue(Statistics.meanAndStandardDeviation(other.depths).mean)),
                ReportMetric("w", "rank-sum statistic W (z, scipy ranksums)", ReportValue(t.rankSum.statistic)),
                ReportMetric("p_value", t.permutation.map { "p-value (\(c.alternative.rawValue), \($0.permutations) relabellings of the pooled rows)" }
                             ?? "p-value (\(c.alternative.rawValue), normal approximation)", ReportValue(t.pValue)),
                ReportMetric("p_value_ranksums", "p-value, normal approximation (scipy ranksums)", ReportValue(t.rankSum.pValue)),
            ]
            // A permutation p is at least 1/(B + 1): reported, so that a gate below it is refused
            // as one that can never fail (`Report.evaluate`, `<key>_floor`).
            if let perm = t.permutation {
                metrics.append(ReportMetric("p_value_floor", "smallest p-value the permutation test can give, 1/(B + 1)",
                                            ReportValue(1 / Double(perm.permutations + 1))))
            }
            metrics += [
                ReportMetric("u", "Mann–Whitney U", ReportValue(t.mannWhitney.statistic)),
                ReportMetric("p_value_mann_whitney", "p-value, Mann–Whitney (tie + continuity corrected)", ReportValue(t.mannWhitney.pValue)),
                ReportMetric("p_value_exact", "exact p-value (no ties, small samples)", t.mannWhitney.pValueExact.map { ReportValue($0) } ?? .null),
                ReportMetric("q", "Liu–Singh Q (0.5 = same distribution)", ReportValue(t.q)),
                ReportMetric("q_pooled", "Q as tte-depth's q_score (pooled ranks)", ReportValue(t.qPooled)),
                ReportMetric("effect_size", "effect size (rank-biserial)", ReportValue(t.mannWhitney.rankBiserial)),
            ]
            // Only when some are found: a merged `--partial` run cannot search them, and its report
            // must equal the single run's on data without copies.
            if let shared = crossDuplicates?.first, shared.count > 0 {
                metrics += [
                    ReportMetric("cross_duplicates", "other rows equal to a unit-normalised reference row", .int(shared.count)),
                    ReportMetric("cross_duplicate_share", "share of the other rows that duplicate a reference row", ReportValue(shared.otherShare)),
                    ReportMetric("cross_duplicates_repeated", "of which share a value the reference repeats (or other rows share): chance on data with few distinct rows, not copies",
                                 .int(shared.repeatedValueMatches)),
                ]
            }
        }
        // Only when some are found: a merged `--partial` run cannot search them, and its report
        // must equal the single run's on data without repeats.
        if let dropped = repeatedRowsDropped, let found = repeatedRowsFound, found.contains(where: { $0 > 0 }) {
            metrics += [
                ReportMetric("repeated_rows_reference", "reference rows left out because they repeat an earlier reference row (copies within the corpus)", .int(dropped[0])),
                ReportMetric("repeated_rows_other", "other rows left out because they repeat an earlier row of the other corpus", .int(dropped.count > 1 ? dropped[1] : 0)),
            ]
            if found != dropped {
                metrics.append(ReportMetric("repeated_rows_kept", "rows repeating an earlier row of their corpus, kept in the test (values shared by chance)",
                                            .int(zip(found, dropped).map { $0 - $1 }.reduce(0, +))))
            }
        }
        var tables: [ReportTable] = []
        if !tests.isEmpty {
            tables.append(ReportTable(
                name: "tests", title: "Depth rank-sum tests (depth measured in the first corpus of each pair)",
                columns: ["reference", "other", "n_reference", "n_other", "w", "p_value", "p_value_ranksums", "p_holm", "p_bh", "u", "p_value_exact", "q", "q_pooled", "effect_size"],
                rows: tests.enumerated().map { i, t in
                    [.string(t.reference), .string(t.other), .int(t.referenceSize), .int(t.otherSize), ReportValue(t.rankSum.statistic),
                     ReportValue(t.pValue), ReportValue(t.rankSum.pValue), ReportValue(holmAdjusted[i]), ReportValue(benjaminiHochbergAdjusted[i]),
                     ReportValue(t.mannWhitney.statistic), t.mannWhitney.pValueExact.map { ReportValue($0) } ?? .null, ReportValue(t.q),
                     ReportValue(t.qPooled), ReportValue(t.mannWhitney.rankBiserial)]
                }))
        }
        let top = max(0, c.top)
        for (index, corpus) in corpora.enumerated() {
            let name = index == 0 ? "reference" : (corpora.count == 2 ? "other" : "other\(index)")
            let order = corpus.rowsByDepth
            let pick = { (rows: ArraySlice<Int>) -> [[ReportValue]] in rows.map { [.int(corpus.sourceRow($0)), .string(corpus.label($0)), ReportValue(corpus.depths[$0]), .int(corpus.ranks[$0])] } }
            tables.append(ReportTable(name: "central_\(name)", title: "Most central rows of \(corpus.source.path)", columns: ["row", "label", "depth", "rank"],
                                      rows: pick(order.prefix(top))))
            tables.append(ReportTable(name: "outlying_\(name)", title: "Most outlying rows of \(corpus.source.path)", columns: ["row", "label", "depth", "rank"],
                                      rows: pick(order.suffix(top).reversed()[...])))
        }
        tables.append(ReportTable(
            name: "depths", title: "Depth of every row", columns: ["input", "row", "label", "depth", "rank"],
            rows: corpora.flatMap { corpus in corpus.depths.indices.map { i in
                [.string(corpus.source.path), .int(corpus.sourceRow(i)), .string(corpus.label(i)), ReportValue(corpus.depths[i]), .int(corpus.ranks[i])] } },
            textRowLimit: 0, isPerRow: true))

        // Histograms of depths on a shared grid, reference against each other corpus.
        let all = corpora.flatMap(\.depths).filter(\.isFinite)
        var charts: [ReportChart] = []
        if let lo = all.min(), let hi = all.max(), hi > lo {
            let bins = 30
            let width = (hi - lo) / Double(bins)
            let series = corpora.enumerated().map { index, corpus -> ReportChart.Series in
                var counts = [Double](repeating: 0, count: bins)
                for d in corpus.depths where d.isFinite { counts[min(bins - 1, Int((d - lo) / width))] += 1 }
                let n = Double(max(1, corpus.depths.count))
                return ReportChart.Series(name: (index == 0 ? "reference: " : "") + URL(fileURLWithPath: corpus.source.path).lastPathComponent,
                                          points: (0..<bins).map { ChartPoint(x: lo + (Double($0) + 0.5) * width, y: counts[$0] / n) })
            }
            let caption = tests.first.map { t in
                "W = \(ReportFormatting.number(t.rankSum.statistic, significant: 4)), p = \(ReportFormatting.number(t.pValue, significant: 3)) (\(c.alternative.rawValue)\(t.permutation == nil ? "" : ", permutation")), Q = \(ReportFormatting.number(t.q, significant: 3)); depths measured in the reference."
            } ?? ""
            charts.append(ReportChart(name: "depth_histogram", title: "Depth distributions (fraction of rows)", kind: .histogram,
                                      xLabel: "\(c.kind.rawValue) depth", yLabel: "fraction of rows", series: series, caption: caption))
        }
        var notes: [String] = []
        if let t = tests.first {
            let q = ReportFormatting.number(t.q, significant: 3)
            let direction = t.q < 0.5 ? "Q = \(q) < 0.5: its texts sit more at the periphery of the reference."
                : t.q > 0.5 ? "Q = \(q) > 0.5: its texts sit closer to the centre of the reference than the reference's own texts (too typical — or rows shared with the reference)."
                : "Q = \(q)."
            let verdict = t.pValue < 0.05
                ? "the other corpus differs from the reference in embedding space (p < 0.05, \(c.alternative.rawValue)); " + direction
                : "no evidence at the 5% level that the other corpus is distributed differently from the reference."
            notes.append("Reading: " + verdict)
        }
        if let all = crossDuplicates, all.contains(where: { $0.count > 0 }) {
            notes.append("The rank-sum test assumes that the reference and the other corpus are independent samples. Rows present in both break that. Other rows equal to a unit-normalised reference row, or within 1 − cos ≤ d·2⁻²⁴ of one (the Float32 resolution of a cosine), are counted as `cross_duplicates`, and each is measured without one reference row equal to it, as every reference row is measured without itself: a copy then sits exactly at the depth of the row it copies (it would sit deeper than any independent row otherwise). Copies can dilute a difference but not create one; `embdiag shift` leaves them out of its tests.")
            for (i, shared) in all.enumerated() where shared.count > 0 {
                let chance = 2 * shared.repeatedValueMatches >= shared.count
                notes.append("\(corpora[i + 1].source.path): \(shared.count) of its \(shared.otherCount) rows (\(ReportFormatting.number(100 * shared.otherShare, significant: 3)) %) duplicate reference rows — " + (chance
                    ? "most share a value the reference repeats, as independent samples of data with few distinct rows do by chance."
                    : "synthetic or copied data."))
            }
        }
        if crossDuplicates == nil && c.referenceSample == nil && c.kind != .mahalanobis && !tests.isEmpty {
            notes.append("Rows shared with the reference were not searched: a merged --partial run keeps only Σû of the reference, so a row of the other corpus that copies a reference row is measured against all reference rows and sits deeper than an independent row (a single run leaves one equal row out).")
        }
        if let t = tests.first, let perm = t.permutation {
            notes.append("p_value is a permutation p-value: the pooled rows were relabelled \(perm.permutations) times (seed \(c.seed)) into a reference of \(t.referenceSize) and an other corpus of \(t.otherSize) rows, every depth recomputed under each labelling (leave-one-out for the rows labelled reference), p = (1 + #{relabellings with a rank-sum statistic at least as extreme})/(B + 1) (\(c.alternative.rawValue)). The reference's depths are leave-one-out and the other corpus's are not, so the normal approximation (p_value_ranksums, as scipy's ranksums) is not exact at small sizes or on tied depths.")
        }
        if let reason = permutationSkipped, !tests.isEmpty {
            notes.append("No permutation p-value: " + reason + ".")
        }
        if let dropped = repeatedRowsDropped, let found = repeatedRowsFound, found.contains(where: { $0 > 0 }) {
            let names = corpora.map(\.source.path)
            let removed = zip(names, dropped).filter { $0.1 > 0 }.map { "\($0.0): \($0.1)" }
            if !removed.isEmpty {
                notes.append("Rows that repeat an earlier row of their own corpus were measured once (copies within a corpus are not independent draws, and a relabelling would split them): " + removed.joined(separator: ", ") + " rows left out (repeated_rows_reference, repeated_rows_other). The rule is the one of `embdiag shift`.")
            }
            let kept = zip(names, zip(found, dropped)).filter { $0.1.0 > $0.1.1 }.map { "\($0.0): \($0.1.0 - $0.1.1)" }
            if !kept.isEmpty {
                notes.append(c.keepRepeats
                    ? "Rows that repeat an earlier row of their own corpus were kept (as asked): " + kept.joined(separator: ", ") + "."
                    : "Rows that repeat an earlier row of their own corpus were kept: " + kept.joined(separator: ", ") + " — the corpora share such values by chance (data with few distinct rows, e.g. quantised), so repeats are draws of the same values, not copies.")
            }
        }
        if repeatedRowsDropped == nil && !tests.isEmpty {
            notes.append("Rows a corpus repeats were not searched: a merged --partial run does not hold the rows, so every row counts once per occurrence.")
        }
        if let rows = referenceSampleRows {
            notes.append("Depths were measured against a seeded sample of \(rows.count) reference rows (--reference-sample, seed \(c.seed)), not the whole reference.")
        }
        if c.kind == .mahalanobis {
            notes.append("Mahalanobis depth uses the top \(mahalanobisComponents ?? 0) principal components of the unit-normalised reference; reference rows are not left out of the fit.")
        }
        if tests.count > 1 {
            notes.append("\(tests.count) tests: use p_holm (family-wise) or p_bh (false discovery rate) in the tests table.")
        }
        var selectionWarnings: [String] = []
        if let selection = centralSelection {
            tables.insert(centralSelectionTable(selection.rows, k: selection.k, byLabel: c.selectCentralByLabel), at: 0)
            parameters.append(ReportParameter("select_central", .int(selection.k)))
            selectionWarnings = selection.warnings
        }
        return Report(analyzer: "depth", title: "Statistical depth (\(c.kind.rawValue)) and rank-sum test",
                      inputs: corpora.map(\.source), parameters: parameters, metrics: metrics, tables: tables, charts: charts,
                      notes: (caps.map(\.message) + selectionWarnings).map { Report.warningPrefix + $0 } + notes, verdict: verdict)
    }

    /// Parameters this data could not support, capped (each becomes a warning of the report):
    /// `--top` beyond a corpus' rows (the default 10 is documented as "at most" and not warned
    /// about), Mahalanobis depth's components, at most min(dimension, reference rows − 1).
    public var caps: [ParameterCap] {
        var caps: [ParameterCap] = []
        if let smallest = corpora.min(by: { $0.depths.count < $1.depths.count }), configuration.top > smallest.depths.count,
           configuration.top != DepthConfiguration().top {
            caps.append(ParameterCap(parameter: "\(Setting.top)", asked: configuration.top, used: smallest.depths.count,
                                     reason: "\(smallest.source.path) has \(smallest.depths.count) rows: its central and outlying tables list every row"))
        }
        guard let used = mahalanobisComponents, used < configuration.mahalanobisComponents else { return caps }
        return caps + [ParameterCap(parameter: "\(Setting.components)", asked: configuration.mahalanobisComponents, used: used,
                                    reason: "Mahalanobis depth uses at most min(dimension, reference rows − 1) principal components")]
    }
}

extension DepthAnalysis {
    /// The table of `--select-central K` (rows from `centralRows(_:byLabel:)`), for the report.
    public func centralSelectionTable(_ rows: [Int], k: Int, byLabel: Bool) -> ReportTable {
        ReportTable(name: "central_selection", title: "Selected central rows (\(k)\(byLabel ? " per label" : ""))",
                    columns: ["row", "label", "depth", "rank"],
                    rows: rows.map { [.int(reference.sourceRow($0)), .string(reference.label($0)), ReportValue(reference.depths[$0]), .int(reference.ranks[$0])] })
    }
}
