import Foundation

extension RelativeRepresentationsConfiguration {
    func reportParameters(includeComparison: Bool) -> [ReportParameter] {
        var p: [ReportParameter] = [
            ReportParameter("anchors", hasExplicitAnchors ? "explicit" : .int(anchorCount)),
            ReportParameter("anchor_strategy", hasExplicitAnchors ? "explicit" : .string(anchorStrategy.rawValue)),
            ReportParameter("center", .string(center.rawValue)),
            ReportParameter("seed", .int(Int(truncatingIfNeeded: seed))),
        ]
        if includeComparison {
            p += [ReportParameter("pair_by", .string(pairing.rawValue)), ReportParameter("k", ks.count == 1 ? .int(ks[0]) : .string(ks.map(String.init).joined(separator: ","))),
                  ReportParameter("max_queries", .int(maxQueries)),
                  ReportParameter("sweep", .string(sweepCounts.map(String.init).joined(separator: ",")))]
        }
        return p
    }
}

private func anchorTable(_ rows: [Int], _ labels: [String]) -> ReportTable {
    ReportTable(name: "anchors", title: "Anchors", columns: ["anchor", "row", "label"],
                rows: rows.enumerated().map { [.int($0.offset), .int($0.element), .string(labels[$0.offset])] },
                textRowLimit: 10, isPerRow: true)
}

extension RelativeRepresentation: ReportConvertible {
    public func report() -> Report {
        var tables = [anchorTable(anchorFileRows, anchorLabels)]
        if !dropped.isEmpty { tables.append(dropped.reportTable(input: input.path)) }
        return Report(
            analyzer: "relrep", title: "Relative representation (\(anchorRows.count) anchors)", inputs: [input],
            parameters: configuration.reportParameters(includeComparison: false),
            metrics: [
                ReportMetric("rows", "rows", .int(rowCount)),
                ReportMetric("anchor_count", "anchors (relative dimension)", .int(anchorRows.count)),
                ReportMetric("relative_mean", "mean relative entry (cosine to an anchor)", ReportValue(meanRelativeCosine)),
                ReportMetric("relative_std", "standard deviation of relative entries", ReportValue(stdRelativeCosine)),
                ReportMetric("mean_max_anchor_cosine", "mean cosine to the nearest anchor (coverage)", ReportValue(meanMaxAnchorCosine)),
                ReportMetric("anchor_mean_pair_cosine", "mean cosine between anchors", ReportValue(meanAnchorPairCosine)),
                ReportMetric("anchor_effective_rank", "participation ratio of the anchor Gram spectrum", ReportValue(anchorEffectiveRank)),
                ReportMetric("mean_cosine", "mean pairwise cosine of the space", ReportValue(meanCosine)),
                ReportMetric("centered", "relative projection centred on the anchor mean", .bool(centered)),
            ],
            tables: tables,
            notes: caps.map { Report.warningPrefix + $0.message }
                + centeringNotes(configuration, centered: centered, meanCosines: [(input.path, meanCosine)])
                + relativeNotes(centering: centered, meanRelative: meanRelativeCosine))
    }
}

private func relativeNotes(centering: Bool, meanRelative: Double) -> [String] {
    var notes: [String] = []
    if !centering && meanRelative > 0.3 {
        notes.append("Relative entries are mostly large and positive (anisotropic space): --center anchors subtracts the anchor mean first, as latentis' Centering does, and spreads them out.")
    }
    return notes
}

/// What `--center` decided and why (every report says it).
private func centeringNotes(_ c: RelativeRepresentationsConfiguration, centered: Bool, meanCosines: [(String, Double)]) -> [String] {
    let cosines = meanCosines.map { "\(URL(fileURLWithPath: $0.0).lastPathComponent) \(ReportFormatting.number($0.1, significant: 3))" }.joined(separator: ", ")
    let level = ReportFormatting.number(c.autoCenterThreshold)
    switch c.center {
    case .auto:
        return [centered
            ? "--center auto centred the projection on the anchor mean: mean pairwise cosine (\(cosines)) exceeds \(level) in at least one space (a narrow cone, where raw cosines to the anchors barely differ). --center none gives Moschella et al.'s literal projection."
            : "--center auto left the projection uncentred (Moschella et al.'s literal projection): mean pairwise cosine (\(cosines)) is at most \(level) in every space."]
    case .anchors:
        return ["Projection centred on the anchor mean (--center anchors; mean pairwise cosine \(cosines))."]
    case .none:
        return ["Literal Moschella et al. projection (--center none; mean pairwise cosine \(cosines))."]
    }
}

extension RelativeComparison: ReportConvertible {
    public func report() -> Report {
        let n = pairedRows
        var metrics: [ReportMetric] = [
            ReportMetric("paired_rows", "paired rows", .int(n)),
            ReportMetric("anchor_count", "anchors", .int(anchorRows.count)),
            ReportMetric("queries", "query rows for k-NN and retrieval (non-anchor rows)", .int(queryRows.count)),
        ]
        if hasAnchors {
            metrics += [
                ReportMetric("relative_cosine_mean", "mean cosine between a row's two relative vectors", ReportValue(relativeCosineMean)),
                ReportMetric("relative_top1", "cross-space top-1 retrieval through relative vectors", ReportValue(relativeTop1)),
                ReportMetric("relative_top1_ceiling", "the most top-1 these rows allow: each space retrieving its own rows (ties between rows cap it below 1)",
                             ReportValue(relativeTop1Ceiling)),
                ReportMetric("relative_topk", "cross-space top-\(ks[0]) hit rate through relative vectors", ReportValue(relativeTopK)),
                ReportMetric("relative_mrr", "cross-space mean reciprocal rank (full ranking)", ReportValue(relativeMRR)),
                ReportMetric("relative_top1_stderr", "standard error of relative_top1 (query sampling)", ReportValue(relativeTop1StandardError)),
                ReportMetric("relative_mrr_stderr", "standard error of relative_mrr (query sampling)", ReportValue(relativeMRRStandardError)),
                ReportMetric("relative_mrr_at_k", "MRR counting only ranks ≤ \(ks[0]) (relreps protocol)", ReportValue(relativeMRRAtK)),
            ]
        }
        metrics += [
            ReportMetric("chance_top1", "top-1 expected by chance (1 / non-anchor rows)", ReportValue(chanceTop1)),
            ReportMetric("evaluation_rows", "non-anchor rows (queries and gallery of every retrieval and k-NN metric)", .int(evaluationRows.count)),
            ReportMetric("mean_cosine_reference", "mean pairwise cosine, \(URL(fileURLWithPath: inputs[0].path).lastPathComponent)", ReportValue(meanCosines.0)),
            ReportMetric("mean_cosine_other", "mean pairwise cosine, \(URL(fileURLWithPath: inputs[1].path).lastPathComponent)", ReportValue(meanCosines.1)),
            ReportMetric("centered", "relative projections centred on the anchor mean", hasAnchors ? .bool(centered) : .null),
            ReportMetric("knn_jaccard", "mean Jaccard of \(ks[0])-NN sets, absolute spaces", knnValue(Self.mean(knnJaccardAbsolute), knnTiedPlaceShareAbsoluteByK[0])),
        ]
        if hasAnchors {
            metrics.append(ReportMetric("knn_jaccard_relative", "mean Jaccard of \(ks[0])-NN sets, relative spaces", knnValue(Self.mean(knnJaccardRelative), knnTiedPlaceShareRelativeByK[0])))
        }
        metrics += [
            ReportMetric("mutual_knn", "mutual \(ks[0])-NN overlap |A∩B|/k (Huh et al. 2024)", knnValue(Self.mean(mutualKNN), knnTiedPlaceShareAbsoluteByK[0])),
            ReportMetric("cka_linear", "linear CKA (biased HSIC)", ReportValue(ckaLinear)),
            ReportMetric("cka_debiased", "linear CKA, unbiased HSIC (Song et al. 2012)", ReportValue(ckaDebiased)),
        ]
        if ks.count > 1 {
            for (i, k) in ks.enumerated() {
                if hasAnchors {
                    metrics.append(ReportMetric("relative_top_at_\(k)", "relative retrieval hit rate within the top \(k)", ReportValue(relativeHitRateByK[i])))
                    metrics.append(ReportMetric("knn_jaccard_relative_at_\(k)", "mean Jaccard of \(k)-NN sets, relative spaces", knnValue(knnJaccardRelativeByK[i], knnTiedPlaceShareRelativeByK[i])))
                }
                metrics.append(ReportMetric("knn_jaccard_at_\(k)", "mean Jaccard of \(k)-NN sets, absolute spaces", knnValue(knnJaccardAbsoluteByK[i], knnTiedPlaceShareAbsoluteByK[i])))
                metrics.append(ReportMetric("mutual_knn_at_\(k)", "mutual \(k)-NN overlap", knnValue(mutualKNNByK[i], knnTiedPlaceShareAbsoluteByK[i])))
            }
        }
        if let p = procrustesDisparity {
            metrics.append(ReportMetric("procrustes_residual", "orthogonal Procrustes disparity (scipy), 0 = rotated copy", ReportValue(p)))
        }
        if let t = absoluteTop1, let m = absoluteMRR {
            metrics.append(ReportMetric("absolute_top1", "top-1 retrieval in the raw spaces (baseline, unaligned)", ReportValue(t)))
            metrics.append(ReportMetric("absolute_mrr", "MRR in the raw spaces (baseline, unaligned)", ReportValue(m)))
        }

        // Distribution of the per-row relative cosines.
        let evaluation = evaluationCosines
        let sorted = evaluation.sorted()
        let qs: [(String, Double)] = [("min", 0), ("p01", 0.01), ("p05", 0.05), ("p25", 0.25), ("median", 0.5),
                                      ("p75", 0.75), ("p95", 0.95), ("max", 1)]
        let quantiles = qs.map { ($0.0, Statistics.quantile(sorted, $0.1)) }
        let ms = Statistics.meanAndStandardDeviation(evaluation)
        var distributionRows: [[ReportValue]] = quantiles.map { [.string($0.0), ReportValue($0.1)] }
        distributionRows.insert([.string("mean"), ReportValue(ms.mean)], at: 0)
        distributionRows.insert([.string("std"), ReportValue(ms.std)], at: 1)

        let isAnchor = Set(anchorRows)
        let perRow = (hasAnchors ? 0..<n : 0..<0).map { i -> [ReportValue] in
            [.int(referenceRows[i]), .int(otherRows[i]), .string(labels[i]), ReportValue(relativeCosines[i]), .bool(isAnchor.contains(i))]
        }
        let worst = (hasAnchors ? evaluationRows : []).sorted { relativeCosines[$0] < relativeCosines[$1] || (relativeCosines[$0] == relativeCosines[$1] && $0 < $1) }.prefix(20)
        var tables: [ReportTable] = []
        if ks.count > 1 {
            tables.append(ReportTable(name: "by_k", title: "Neighbourhood metrics per k (non-anchor rows)",
                                      columns: ["k", "relative_top_k", "knn_jaccard_relative", "knn_jaccard", "mutual_knn"],
                                      rows: ks.indices.map { i in
                                          [.int(ks[i]), hasAnchors ? ReportValue(relativeHitRateByK[i]) : .null,
                                           hasAnchors ? knnValue(knnJaccardRelativeByK[i], knnTiedPlaceShareRelativeByK[i]) : .null,
                                           knnValue(knnJaccardAbsoluteByK[i], knnTiedPlaceShareAbsoluteByK[i]),
                                           knnValue(mutualKNNByK[i], knnTiedPlaceShareAbsoluteByK[i])]
                                      }))
        }
        if hasAnchors { tables += [
            ReportTable(name: "relative_cosine_distribution", title: "Per-row relative cosine (how much each row's relations to the anchors agree)",
                        columns: ["statistic", "value"], rows: distributionRows),
            ReportTable(name: "least_agreeing_rows", title: "Rows whose relations to the anchors change most",
                        columns: ["row", "other_row", "label", "relative_cosine", "anchor"], rows: worst.map { perRow[$0] }, textRowLimit: 10),
        ] }
        if !sweep.isEmpty {
            tables.append(ReportTable(
                name: "anchor_sweep", title: "Anchor-count sweep (\(configuration.anchorStrategy.rawValue) anchors, same seed)",
                columns: ["anchors", "relative_cosine_mean", "relative_top1", "relative_mrr", "seconds"],
                rows: sweep.map { [.int($0.anchors), ReportValue($0.relativeCosineMean), ReportValue($0.relativeTop1),
                                   ReportValue($0.relativeMRR), ReportValue($0.seconds)] }))
        }
        if hasAnchors {
            tables.append(ReportTable(name: "relative_cosine_per_row", title: "Relative cosine per paired row",
                                      columns: ["row", "other_row", "label", "relative_cosine", "anchor"], rows: perRow, textRowLimit: 5, isPerRow: true))
            tables.append(anchorTable(anchorRows.map { referenceRows[$0] }, anchorLabels))
        }
        for d in dropped { tables.append(d.rows.reportTable(name: "dropped_rows_\(tables.count)", input: d.input)) }

        var charts: [ReportChart] = []
        if !sweep.isEmpty {
            charts.append(ReportChart(
                name: "anchor_sweep", title: "Cross-space agreement vs number of anchors", kind: .line,
                xLabel: "anchors", yLabel: "value",
                series: [
                    ReportChart.Series(name: "relative_cosine_mean", points: sweep.map { ChartPoint(x: Double($0.anchors), y: $0.relativeCosineMean) }),
                    ReportChart.Series(name: "relative_top1", points: sweep.map { ChartPoint(x: Double($0.anchors), y: $0.relativeTop1) }),
                    ReportChart.Series(name: "relative_mrr", points: sweep.map { ChartPoint(x: Double($0.anchors), y: $0.relativeMRR) }),
                ],
                caption: "More anchors make relative vectors more distinctive (retrieval rises) until the anchors span the space."))
        }
        if hasAnchors { charts.append(ReportChart(
            name: "relative_cosine_histogram", title: "Per-row relative cosine", kind: .histogram,
            xLabel: "cosine between the two relative vectors of a row", yLabel: "rows",
            series: [ReportChart.Series(name: "rows", points: histogram(evaluation, bins: 40))],
            caption: "1 = the row relates to the anchors identically in both spaces.")) }

        var notes: [String] = hasAnchors
            ? ["Relative metrics, retrieval and k-NN use only the \(evaluationRows.count) non-anchor rows, as queries and as the gallery (an anchor trivially matches itself)."]
                + centeringNotes(configuration, centered: centered, meanCosines: [(inputs[0].path, meanCosines.0), (inputs[1].path, meanCosines.1)])
            : ["No anchors (--anchors 0): CKA, k-NN overlap, Procrustes and absolute retrieval only."]
        if queryRows.count < evaluationRows.count {
            notes.append("k-NN and retrieval metrics use \(queryRows.count) sampled non-anchor query rows (seeded) against the \(evaluationRows.count) non-anchor rows; --queries 0 uses every non-anchor row.")
        }
        if absoluteRanks != nil {
            notes.append("absolute_top1/absolute_mrr compare raw coordinates across spaces: high only if the spaces are already aligned; relative_* need no alignment.")
        } else {
            notes.append("Dimensions differ (\(dimensions.0) vs \(dimensions.1)): procrustes_residual and absolute retrieval are not defined.")
        }
        if let idPairing {
            notes.append(idPairing.summary(nameA: inputs[0].path, nameB: inputs[1].path, rowsInA: inputs[0].rows, rowsInB: inputs[1].rows)
                         + (pairedRows != idPairing.rowsA.count ? " \(pairedRows) pairs after validation." : ""))
        }
        let tiedPlaces = (knnTiedPlaceShareAbsoluteByK + knnTiedPlaceShareRelativeByK).max() ?? 0
        if tiedPlaces > 0 {
            let share = ReportFormatting.number(100 * tiedPlaces, significant: 3)
            notes.append(tiedPlaces > SpaceComparison.tiedPlaceShareLimit
                ? "Ties fill up to \(share) % of the k-NN places (rows tied at a query's k-th neighbour; few distinct rows or directions): the sets are not determined by the data, so a k-NN overlap where ties fill more than \(ReportFormatting.number(100 * SpaceComparison.tiedPlaceShareLimit)) % of the places is not reported (null) — the expected overlap over tie orders is near chance even for one space against itself, and breaking ties by row number would make unrelated spaces agree."
                : "Ties fill up to \(share) % of the k-NN places: k-NN overlaps count each tied row with its chance of being chosen (the expected value over tie orders).")
        }
        if ckaLinear - ckaDebiased > 0.1 {
            notes.append("cka_linear exceeds cka_debiased by \(ReportFormatting.number(ckaLinear - ckaDebiased, significant: 2)): the biased estimator is inflated at this n/d; trust cka_debiased.")
        }
        return Report(
            analyzer: "relrep", title: "Relative representations: \(URL(fileURLWithPath: inputs[0].path).lastPathComponent) vs \(URL(fileURLWithPath: inputs[1].path).lastPathComponent)",
            inputs: inputs, parameters: configuration.reportParameters(includeComparison: true),
            metrics: metrics, tables: tables, charts: charts, notes: caps.map { Report.warningPrefix + $0.message } + notes, verdict: verdict)
    }
}

/// Equal-width histogram of values as chart points (bin centre, count).
private func histogram(_ values: [Double], bins: Int) -> [ChartPoint] {
    let finite = values.filter(\.isFinite)
    guard let lo = finite.min(), let hi = finite.max() else { return [] }
    if hi <= lo { return [ChartPoint(x: lo, y: Double(finite.count))] }
    let width = (hi - lo) / Double(bins)
    var counts = [Int](repeating: 0, count: bins)
    for v in finite { counts[min(bins - 1, Int((v - lo) / width))] += 1 }
    return counts.enumerated().map { ChartPoint(x: lo + (Double($0.offset) + 0.5) * width, y: Double($0.element)) }
}

extension RelativeRepresentationsConfiguration {
    /// The anchor count capped by the data (`ParameterCap`): fewer usable rows than anchors asked.
    /// Explicit anchors (rows or labels) are never capped: they are used as given.
    func anchorCaps(used: Int) -> [ParameterCap] {
        guard !hasExplicitAnchors, used < anchorCount else { return [] }
        return [ParameterCap(parameter: "\(Setting.anchors)", asked: anchorCount, used: used, reason: "there are only \(used) usable rows")]
    }
}

extension RelativeRepresentation {
    /// Parameters this data could not support, capped (each becomes a warning of the report).
    public var caps: [ParameterCap] { configuration.anchorCaps(used: anchorRows.count) }
}

extension RelativeComparison {
    /// Parameters this data could not support, capped (each becomes a warning of the report): the
    /// anchors, and sweep points given beyond n/2, which are measured at n/2 (the default sweep
    /// is documented as capped by the row count).
    public var caps: [ParameterCap] {
        var caps: [ParameterCap] = []
        // Only the default is capped here (a count given that leaves too few rows is refused).
        if !configuration.hasExplicitAnchors, hasAnchors, anchorRows.count < configuration.anchorCount {
            caps.append(ParameterCap(parameter: "\(Setting.anchors)", asked: configuration.anchorCount, used: anchorRows.count,
                                     reason: "the default leaves at least half of the \(pairedRows) paired rows to evaluate (anchors are not evaluated); give \(Setting.anchors) N, at most \(pairedRows - 2), to choose"))
        }
        if configuration.sweepCounts != RelativeRepresentationsConfiguration.defaultSweepCounts, hasAnchors {
            for c in configuration.sweepCounts where c > pairedRows / 2 {
                caps.append(ParameterCap(parameter: "--sweep", asked: c, used: pairedRows / 2, reason: "a sweep point uses at most half of the \(pairedRows) paired rows as anchors (the others are evaluated)"))
            }
        }
        return caps
    }
}

extension RelativeComparison {
    /// A k-NN overlap for the report: null when ties fill more than
    /// `SpaceComparison.tiedPlaceShareLimit` of its places.
    func knnValue(_ value: Double, _ tiedPlaceShare: Double) -> ReportValue {
        tiedPlaceShare > SpaceComparison.tiedPlaceShareLimit ? .null : ReportValue(value)
    }
}
