import Foundation

extension ShiftWindows: ReportConvertible {
    static func short(_ s: String, _ limit: Int = 60) -> String {
        let l = s.replacingOccurrences(of: "\n", with: " ")
        return l.count > limit ? String(l.prefix(limit - 1)) + "…" : l
    }

    /// The labels of a window's most over-represented rows, for the windows table and the verdict.
    func topRows(_ w: ShiftWindowResult, count: Int) -> [String] {
        guard let location = w.comparison?.location else { return [] }
        return location.overRepresented.prefix(count).map { Self.short(w.rows.label($0)) }
    }

    /// The cluster with the largest share change in one window, in words ("C2 fonts: 8.0 % → 31.5 %,
    /// grew"; "" when no cluster changed).
    static func largestChange(_ r: RegionShift) -> String {
        guard let top = r.clusters.first(where: \.changed) else { return "" }
        return "C\(top.cluster + 1) \(short(top.name, 40)): \(RegionShift.percent(top.referenceShare)) → \(RegionShift.percent(top.otherShare)), \(top.direction.rawValue)"
    }

    /// The verdict: the window with the largest shift first, then how many windows differ.
    func answer() -> String {
        let c = configuration
        let refName = ShiftAnalysis.fileName(reference.source)
        let tested = windows.filter { $0.pValue != nil }.count
        let alpha = ReportFormatting.number(c.alpha, significant: 3)
        var s = ""
        if let i = largestShift {
            let w = windows[i]
            s += "The largest shift is window \(w.name) (\(i + 1) of \(windows.count), \(w.rows.count) rows): MMD² = \(ReportFormatting.number(w.effect!, significant: 3))"
            if let band = w.band, let excess = w.effectExcess {
                s += excess > 0
                    ? ", \(ReportFormatting.number(excess, significant: 3)) beyond the reference's normal variation (upper limit \(ReportFormatting.number(band.upper, significant: 3)) for \(band.chunkSize)-row chunks of \(refName))"
                    : ", within the reference's normal variation (upper limit \(ReportFormatting.number(band.upper, significant: 3)) for \(band.chunkSize)-row chunks of \(refName))"
            }
            if let p = w.pValue { s += "; p = \(ReportFormatting.number(p, significant: 3)), Holm \(ReportFormatting.number(w.pHolm ?? p, significant: 3))" }
            let top = topRows(w, count: 3)
            if (w.pHolm ?? 1) < c.alpha, !top.isEmpty { s += "; it over-represents rows like " + top.map { "“\($0)”" }.joined(separator: ", ") }
            if let q = w.comparison?.quality { s += "; it misses \(ShiftAnalysis.percent(1 - q.coverage)) of the reference sample" }
            s += ". "
            if (w.pHolm ?? 1) < c.alpha, let r = w.comparison?.regions {
                s += r.summary(setName: "window \(w.name)", referenceName: refName) { j in ShiftAnalysis.quote([j][...], w.rows) } + " "
            }
        }
        if !holmCanReject, let floor = smallestPossibleWindowPValue {
            // Too few relabellings for this many windows: say so instead of "0 differ".
            // W·floor < α needs (B + 1) > W·floor·(B₀ + 1)/α relabellings.
            let needed = Int((Double(tested) * floor * Double(c.permutations + 1) / c.alpha).rounded(.down))
            s += "Cannot tell which of the \(tested) windows tested differ from \(refName): a window's p-value cannot go below \(ReportFormatting.number(floor, significant: 3)), so no Holm-adjusted p over \(tested) windows can reach α = \(alpha)\(benjaminiHochbergCanReject ? " (Benjamini–Hochberg: \(shiftedCountBenjaminiHochberg))" : ""); raise --permutations to at least \(needed)"
        } else {
            s += "\(shiftedCount) of \(tested) windows tested differ from \(refName) (Holm across the windows, α = \(alpha); Benjamini–Hochberg: \(shiftedCountBenjaminiHochberg))"
        }
        s += "; \(beyondBandCount) lie beyond the reference's normal variation."
        let small = windows.filter(\.tooSmall).count
        if small > 0 { s += " \(small) window\(small == 1 ? " was" : "s were") too small to test (fewer than \(c.minimumRows) rows)." }
        let copies = windows.filter { !$0.tooSmall && $0.pValue == nil }.count
        if copies > 0 { s += " \(copies) window\(copies == 1 ? " is a copy" : "s are copies") of reference rows (no test ran)." }
        return s
    }

    public func report() -> Report {
        let c = configuration
        let largest = largestShift
        var parameters: [ReportParameter] = [
            ReportParameter("tests", .string(c.tests.map(\.rawValue).joined(separator: ","))),
            ReportParameter("permutations", .int(c.permutations)),
            ReportParameter("seed", .int(Int(truncatingIfNeeded: c.seed))),
            ReportParameter("bandwidth", reference.bandwidthGiven ? .double(reference.bandwidth) : .string("median heuristic of the reference sample")),
            ReportParameter("folds", .int(c.folds)),
            ReportParameter("penalty", .double(c.penalty)),
            ReportParameter("k", .int(c.neighbors)),
            ReportParameter("alpha", .double(c.alpha)),
            // Both change the p-values: the kernels MMD aggregates, and the classifier's share of the combined test.
            ReportParameter("bandwidth_scales", .string(c.bandwidthScalesText)),
            ReportParameter("classifier_weight", .double(c.classifierWeight)),
            ReportParameter("band_chunks", .int(reference.bandChunks)),
            ReportParameter("band_quantile", .double(ReferenceVariationBand.quantile)),
            ReportParameter("minimum_window_rows", .int(c.minimumRows)),
            ReportParameter("rows", .string("unit-normalised")),
        ]
        if let cap = c.maxRows { parameters.append(ReportParameter("max_rows", .int(cap))) }
        if let state = referenceFromState { parameters.append(ReportParameter("reference_state", .string(state))) }
        let tested = windows.filter { $0.pValue != nil }
        let excesses = windows.compactMap(\.effectExcess)
        // Counts over tested windows are null when no window was tested: a gate such as
        // windows_shifted<=0 must not pass on a run that tested nothing.
        func countOverTested(_ n: Int) -> ReportValue { tested.isEmpty ? .null : .int(n) }
        var metrics: [ReportMetric] = [
            ReportMetric("windows", "windows", .int(windows.count)),
            ReportMetric("windows_tested", "windows with a p-value", .int(tested.count)),
            ReportMetric("windows_too_small", "windows with fewer than \(c.minimumRows) rows (not tested)", .int(windows.filter(\.tooSmall).count)),
            // Null too when the permutation floor keeps every adjusted p at or above α: 0 would
            // pass windows_shifted<=0 on windows the tests could not have flagged.
            ReportMetric("windows_shifted", "windows that differ from the reference (Holm-adjusted p < \(ReportFormatting.number(c.alpha, significant: 3)))",
                         holmCanReject ? countOverTested(shiftedCount) : .null),
            ReportMetric("windows_shifted_bh", "windows that differ (Benjamini–Hochberg-adjusted p < \(ReportFormatting.number(c.alpha, significant: 3)))",
                         benjaminiHochbergCanReject ? countOverTested(shiftedCountBenjaminiHochberg) : .null),
            ReportMetric("windows_beyond_band", "windows whose MMD² lies above the reference's normal variation", countOverTested(beyondBandCount)),
            ReportMetric("windows_clusters_changed", "windows in which some reference cluster's share changed (Benjamini–Hochberg within the window, p < α)",
                         reference.regions == nil ? .null : countOverTested(windowsWithChangedClusters)),
            ReportMetric("windows_new_region", "windows with more new rows (outside every reference row's k-NN ball) than the reference's own rate",
                         reference.regions == nil ? .null : countOverTested(windowsWithNewRegion)),
            ReportMetric("max_effect_window", "the window with the largest MMD² (1-based position in the windows table)", largest.map { .int($0 + 1) } ?? .null),
            ReportMetric("max_effect_window_name", "its name", largest.map { .string(windows[$0].name) } ?? .null),
            ReportMetric("max_effect", "its MMD²_u (Gaussian kernel, the reference's σ)", largest.map { ReportValue(windows[$0].effect!) } ?? .null),
            ReportMetric("max_effect_excess", "largest MMD² beyond the band's upper limit over the windows (≤ 0: every window within normal variation)",
                         excesses.max().map { ReportValue($0) } ?? .null),
            ReportMetric("min_p_holm", "smallest Holm-adjusted p-value over the windows", tested.compactMap(\.pHolm).min().map { ReportValue($0) } ?? .null),
            ReportMetric("n_reference", "reference rows the tests use", .int(reference.sample.count)),
            ReportMetric("n_reference_total", "reference rows", .int(reference.totalRows)),
            ReportMetric("mmd_bandwidth", "Gaussian kernel σ (\(reference.bandwidthGiven ? "given" : "median heuristic of the reference sample"), the same for every window)", ReportValue(reference.bandwidth)),
        ]
        if let b = windows.compactMap(\.band).first {
            metrics.append(ReportMetric("band_false_alarm", "P(a window drawn like the reference lies above the band's upper limit) = (R + 1 − k)/(R + 1)", ReportValue(b.falseAlarmRate)))
        }

        var tables: [ReportTable] = []
        if let i = largest, let comp = windows[i].comparison, let loc = comp.location, let quality = comp.quality {
            let w = windows[i]
            let probability = comp.classifier?.outOfFoldProbability
            tables.append(ReportTable(
                name: "largest_shift", title: "Window \(w.name), the largest shift: its rows in regions it over-represents (largest witness first)",
                columns: ["row", "label", "witness", "classifier_probability", "inside_reference"],
                rows: loc.overRepresented.prefix(max(0, c.top)).map { j in
                    [.int(w.rows.sourceRow(j)), .string(w.rows.label(j)), ReportValue(loc.otherWitness[j]),
                     probability.map { ReportValue($0[comp.referenceCount + j]) } ?? .null, .bool(quality.otherInsideReference[j])]
                }))
            tables.append(ReportTable(
                name: "largest_shift_uncovered", title: "Reference rows window \(w.name) does not cover (\(loc.uncovered.count) of \(comp.referenceCount); farthest first)",
                columns: ["row", "label", "nearest_other_distance", "knn_radius", "witness"],
                rows: loc.uncovered.prefix(max(0, c.top)).map { r in
                    [.int(reference.sample.sourceRow(r)), .string(reference.sample.label(r)), ReportValue(quality.referenceNearestOther[r]),
                     ReportValue(quality.referenceRadius[r]), ReportValue(loc.referenceWitness[r])]
                }))
            if let regions = reference.regions, let r = comp.regions {
                tables += r.tables(regions: regions, reference: reference.sample, other: w.rows, referencePath: reference.source.path,
                                   otherPath: "window \(w.name)", clustersName: "largest_shift_clusters", newRegionsName: "largest_shift_new_regions")
            }
        }
        tables.append(ReportTable(
            name: "windows", title: "Each window against the reference (p: overall p-value; p_holm, p_bh: adjusted across the windows; mmd: MMD²_u with the reference's σ; effect_excess: mmd − the band's upper limit)",
            columns: ["window", "start", "n_input", "n", "status", "p_value", "p_holm", "p_bh", "shifted", "mmd", "band_upper", "effect_excess",
                      "p_value_mmd", "energy", "energy_homogeneity", "auc", "depth_q", "uncovered_share", "cross_duplicates",
                      "clusters_changed", "largest_cluster_change", "new_region_share", "top_over_represented"],
            rows: windows.map { w in
                let comp = w.comparison
                let status = w.tooSmall ? "too small" : (w.pValue == nil ? "copy of reference rows" : "tested")
                return [.string(w.name), w.start.map { .string(WindowTimestamp.format($0, dateOnly: false)) } ?? .null, .int(w.inputCount), .int(w.rows.count),
                        .string(status), ReportValue(w.pValue), ReportValue(w.pHolm), ReportValue(w.pBenjaminiHochberg),
                        .bool((w.pHolm ?? 1) < c.alpha), ReportValue(w.effect), ReportValue(w.band?.upper), ReportValue(w.effectExcess),
                        ReportValue(comp?.mmd?.result.pValue), ReportValue(comp?.energy?.result.statistic), ReportValue(comp?.energy?.homogeneity),
                        ReportValue(comp?.classifier?.auc), ReportValue(comp?.depth?.q), ReportValue(comp?.quality.map { 1 - $0.coverage }),
                        comp.map { .int($0.crossDuplicates.count) } ?? .null,
                        comp?.regions.map { .int($0.changedCount) } ?? .null, comp?.regions.map { .string(Self.largestChange($0)) } ?? .null,
                        ReportValue(comp?.regions?.newShare), .string(topRows(w, count: 3).joined(separator: " | "))]
            }))
        let bandSizes = reference.bands.keys.sorted()
        if !bandSizes.isEmpty {
            tables.append(ReportTable(
                name: "band", title: "The reference's own variation: MMD²_u of each chunk of the sample against the rest (chunk left out)",
                columns: ["chunk_size", "chunks", "lower", "median", "upper", "upper_rank", "false_alarm"],
                rows: bandSizes.map { s in
                    let b = reference.bands[s]!
                    return [.int(s), .int(b.scores.count), ReportValue(b.lower), ReportValue(b.median), ReportValue(b.upper), .int(b.upperRank), ReportValue(b.falseAlarmRate)]
                }))
        }

        var charts: [ReportChart] = []
        let effectPoints = windows.enumerated().compactMap { i, w in w.effect.map { ChartPoint(x: Double(i + 1), y: $0, label: w.name) } }
        if !effectPoints.isEmpty {
            var series = [ReportChart.Series(name: "window MMD²", points: effectPoints)]
            let upper = windows.enumerated().compactMap { i, w in w.band.map { ChartPoint(x: Double(i + 1), y: $0.upper, label: w.name) } }
            let median = windows.enumerated().compactMap { i, w in w.band.map { ChartPoint(x: Double(i + 1), y: $0.median, label: w.name) } }
            if !upper.isEmpty {
                series.append(ReportChart.Series(name: "normal variation: upper limit", points: upper))
                series.append(ReportChart.Series(name: "normal variation: median", points: median))
            }
            if let i = largest {
                series.append(ReportChart.Series(name: "largest shift: \(Self.short(windows[i].name, 30))", points: [ChartPoint(x: Double(i + 1), y: windows[i].effect!, label: windows[i].name)]))
            }
            charts.append(ReportChart(
                name: "windows", title: "MMD² of each window against the reference, and the reference's own variation", kind: .line,
                xLabel: "window (position in the windows table, in time order)", yLabel: "MMD²_u",
                series: series,
                caption: "Each window's MMD² against the reference sample (same σ for all). The band: MMD² of \(reference.bandChunks) chunks of the reference sample of the window's size, each against the rest of the sample; a window above the upper limit varies more than the reference does from itself."))
        }

        var notes: [String] = []
        let repeated = windows.filter { $0.repeatedRowsDropped > 0 }
        if !repeated.isEmpty || reference.repeatedRowsDropped > 0 {
            let parts = (reference.repeatedRowsDropped > 0 ? ["the reference sample \(reference.repeatedRowsDropped)"] : [])
                + repeated.prefix(10).map { "\($0.name) \($0.repeatedRowsDropped)" }
            notes.append("Rows a window (or the reference sample) repeats itself were tested once (repeats left out: \(parts.joined(separator: ", "))\(repeated.count > 10 ? ", …" : "")): relabelling rows one by one is exact only for rows drawn independently (Guides/Shift.md, \"Rows a corpus repeats\"). --keep-cross-duplicates keeps every row.")
        }
        let small = windows.enumerated().filter { $0.element.tooSmall }
        if !small.isEmpty {
            let names = small.prefix(10).map { "\($0.element.name) (\($0.element.rows.count) row\($0.element.rows.count == 1 ? "" : "s"))" }.joined(separator: ", ")
            notes.append("\(small.count) window\(small.count == 1 ? " has" : "s have") fewer than \(c.minimumRows) rows (the tests need \(Setting.k) + 1, \(Setting.folds) and 3) and \(small.count == 1 ? "was" : "were") not tested: \(names)\(small.count > 10 ? ", …" : ""). They are listed in the windows table with status \"too small\" and take no share of α.")
        }
        if reference.isSampled {
            notes.append("\(reference.source.path) has \(reference.totalRows) rows: every window is tested against a seeded sample of \(reference.sample.count) of them (seed \(reference.seed) + 7919)\(referenceFromState != nil ? ", kept in the saved reference" : ""). Row numbers are its file rows.")
        }
        if let cap = c.maxRows, windows.contains(where: { $0.inputCount > cap }) {
            notes.append("Windows with more than \(cap) rows were tested on a seeded sample of \(cap) rows (\(Setting.maxRows), seed \(c.seed) + 7920, the same for every window).")
        }
        if let g = reference.regions {
            notes.append("Regions: \(g.count) k-means clusters of the reference sample (seed \(reference.seed), \(g.countFromRule ? "k = round(√(m/10)) in [2, 12]" : "k given"), fitted on \(g.fitRows) rows)\(referenceFromState != nil ? ", kept in the saved reference" : ""). In each window a cluster's share is compared with its share in the sample (χ² when every expected count is ≥ 5, else Fisher's exact test; Benjamini–Hochberg across the clusters of that window, not across windows), and the window's new rows — outside every sample row's \(g.neighbors)-NN ball — with the sample's own rate: columns clusters_changed, largest_cluster_change and new_region_share; the largest shift's clusters are the table largest_shift_clusters.")
        } else {
            notes.append("The saved reference holds no clusters (it was saved by an earlier embdiag): the windows are tested without regions. Save the reference again to get them.")
        }
        notes.append("Every window is tested with the same σ (\(reference.bandwidthGiven ? "given" : "the median heuristic of the reference sample"), σ = \(ReportFormatting.number(reference.bandwidth, significant: 4))) and the same seed-derived relabellings, so windows compare with each other and with the band. σ comes from the reference alone, not from the pooled rows of each window; the level this gives is measured in Guides/Shift.md.")
        if windows.contains(where: { !$0.tooSmall && $0.effect != nil && $0.band == nil }) {
            notes.append("Some windows have no band (effect_excess is empty): the reference sample (\(reference.sample.count) rows) cannot be cut into chunks of their size with \(c.minimumRows) rows left over. Keep a larger sample (\(Setting.maxRows)) to get one.")
        }
        if let b = windows.compactMap(\.band).first {
            notes.append("The band's upper limit is the \(b.upperRank)-th smallest of \(b.scores.count) chunk scores: a window drawn like the reference lies above it with probability \(ReportFormatting.number(b.falseAlarmRate, significant: 3)) (Guides/Shift.md).")
        }
        if Set(windows.map(\.rows.count)).count > 16 {
            notes.append("The windows have more than 16 sizes: each is compared with the band of the largest size ⌊2^(j/4)⌋ not above its own (a smaller chunk varies more, so the band errs towards normal).")
        }
        var report = Report(analyzer: "shift", title: "Corpus shift over windows: is each window distributed like the reference?",
                            inputs: [reference.source] + (other.map { [$0] } ?? windows.map(\.rows.source)), parameters: parameters, metrics: metrics,
                            tables: tables, charts: charts, notes: notes)
        report.verdict = ReportVerdict(
            question: "Is each window of \(other.map { ShiftAnalysis.fileName($0) } ?? "the other corpus") distributed like \(ShiftAnalysis.fileName(reference.source)), and which differs most?",
            answer: answer(),
            decidingMetrics: ["windows_shifted", "max_effect_window_name", "max_effect_excess", "min_p_holm"])
        return report
    }
}
