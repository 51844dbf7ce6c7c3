import Foundation

extension CompatibilityConfiguration {
    func reportParameters(relevance: String, ks: [Int]) -> [ReportParameter] {
        var p: [ReportParameter] = [
            ReportParameter("k", .string(ks.map(String.init).joined(separator: ","))),
            ReportParameter("relevance", .string(relevance)),
            ReportParameter("fit", .string(fit.isAdapter ? fit.description : fit.name)),
            ReportParameter("max_queries", .int(maxQueries)),
            ReportParameter("seed", .int(Int(truncatingIfNeeded: seed))),
        ]
        if retrievalOnly {
            p.append(ReportParameter("retrieval_only", .bool(true)))
        } else {
            p += [ReportParameter("neighbor_k", .int(neighborK)), ReportParameter("max_pairs", .int(maxPairs)),
                  ReportParameter("sampled_pairs", .int(sampledPairs))]
        }
        if let u = unpairedAlignment {
            p += u.alignmentParameters()
        } else if fit != .none {
            if let rows = trainRows {
                p.append(ReportParameter("train_rows", .string("explicit (\(rows.count) rows)")))
            } else {
                p.append(ReportParameter("train_fraction", .double(trainFraction)))
            }
        }
        if let l = fit.lambda { p.append(ReportParameter("lambda", .double(l))) }
        if fit == .ridgeAuto {
            p.append(ReportParameter("ridge_grid", .string("\(ridgeGrid.count) values, \(ReportFormatting.number(ridgeGrid.min() ?? .nan))…\(ReportFormatting.number(ridgeGrid.max() ?? .nan))")))
        }
        if let r = rcond { p.append(ReportParameter("rcond", .double(r))) }
        if fit.isAdapter || fit == .auto {
            p.append(ReportParameter("adapter_learning_rate", .double(adapterSettings.learningRate)))
            p.append(ReportParameter("adapter_max_steps", .int(adapterSettings.maxSteps)))
            p.append(ReportParameter("adapter_patience", .int(adapterSettings.patience)))
            p.append(ReportParameter("adapter_validation_fraction", .double(adapterSettings.validationFraction)))
        }
        if !fitCurve.isEmpty { p.append(ReportParameter("fit_curve", .string(fitCurve.map(String.init).joined(separator: ",")))) }
        p.append(ReportParameter("no_worse_tolerance", .double(noWorseTolerance)))
        // The thresholds carried and their bootstrap: they change the thresholds table's numbers.
        if !thresholds.isEmpty {
            p.append(ReportParameter("thresholds", .string(thresholds.map { ReportFormatting.number($0, significant: 6) }.joined(separator: ","))))
            p.append(ReportParameter("threshold_bootstrap", .int(thresholdBootstrap)))
        }
        return p
    }
}

/// Recall at each asked k: the key keeps the asked k, the value is at min(k, candidates)
/// (`candidates_per_query` says which); a capped k is named in the label.
private func retrievalMetrics(_ s: RetrievalSummary, asked: [Int], suffix: String, what: String) -> [ReportMetric] {
    var m: [ReportMetric] = []
    for k in asked {
        let used = effectiveK(k, s)
        m.append(ReportMetric("recall_at_\(k)_\(suffix)", "recall@\(k)\(used == k ? "" : " (at k = \(used): capped)"), \(what)", ReportValue(s.recall(at: used))))
    }
    m.append(ReportMetric("mrr_\(suffix)", "mean reciprocal rank, \(what)", ReportValue(s.mrr)))
    m.append(ReportMetric("map_\(suffix)", "mean average precision, \(what)", ReportValue(s.map)))
    return m
}

extension CompatibilityAnalysis: ReportConvertible {
    public func report() -> Report {
        var metrics: [ReportMetric] = [
            ReportMetric("gallery_rows", "gallery rows (items)", .int(galleryRows)),
            ReportMetric("queries", "queries evaluated (with at least one relevant row)", .int(old.evaluated)),
            ReportMetric("dim_old", "OLD dimension", .int(dimensions.old)),
            ReportMetric("dim_new", "NEW dimension", .int(dimensions.new)),
            ReportMetric("candidates_per_query", "gallery rows a query is ranked against (recall@k uses min(k, this))", .int(candidatesPerQuery)),
        ]
        if let cross {
            metrics += retrievalMetrics(cross, asked: askedKs, suffix: "cross", what: "new queries → old gallery")
        }
        metrics += retrievalMetrics(old, asked: askedKs, suffix: "old", what: "old → old (baseline)")
        metrics += retrievalMetrics(new, asked: askedKs, suffix: "new", what: "new → new (the upgrade itself)")
        metrics.append(ReportMetric("chance_recall_at_1", "recall@1 of a random ranking", ReportValue(chanceRecallAt1)))
        metrics.append(ReportMetric("compatible", "compatible: cross recall@1 > old/old recall@1 (Shen et al., strict)", compatible.map { ReportValue.bool($0) } ?? .null))
        metrics.append(ReportMetric("no_worse", "no worse: cross recall@1 ≥ old/old recall@1 − \(ReportFormatting.number(configuration.noWorseTolerance))", noWorse.map { ReportValue.bool($0) } ?? .null))
        metrics.append(ReportMetric("compatibility_margin", "cross − old/old recall@1", ReportValue(margin)))
        metrics.append(ReportMetric("compatibility_margin_map", "cross − old/old mAP", ReportValue(marginMAP)))
        if let f = flipsCross {
            metrics.append(ReportMetric("negative_flip_rate", "negative flips: old right, cross wrong (share of queries)", ReportValue(f.rate)))
            metrics.append(ReportMetric("negative_flip_index", "negative flips / cross errors (NFI)", ReportValue(f.index)))
        } else {
            metrics.append(ReportMetric("negative_flip_rate", "negative flips: old right, cross wrong (share of queries)", .null))
            metrics.append(ReportMetric("negative_flip_index", "negative flips / cross errors (NFI)", .null))
        }
        metrics.append(ReportMetric("negative_flip_rate_new", "negative flips: old right, new → new wrong", ReportValue(flipsNew.rate)))
        metrics.append(ReportMetric("negative_flip_index_new", "negative flips / new → new errors", ReportValue(flipsNew.index)))
        if let p = agreement?.positiveConstraint, let q = agreement?.negativeConstraint {
            let pf = p.pairs > 0 ? Double(p.satisfied) / Double(p.pairs) : .nan
            let nf = q.pairs > 0 ? Double(q.satisfied) / Double(q.pairs) : .nan
            metrics.append(ReportMetric("constraint_positive_fraction", "same-label pairs with d(new_i, old_j) ≤ d(old_i, old_j)", ReportValue(pf)))
            metrics.append(ReportMetric("constraint_negative_fraction", "different-label pairs with d(new_i, old_j) ≥ d(old_i, old_j)", ReportValue(nf)))
            metrics.append(ReportMetric("constraint_positive_pairs", "ordered same-label pairs checked", .int(p.pairs)))
            metrics.append(ReportMetric("constraint_negative_pairs", "ordered different-label pairs checked", .int(q.pairs)))
        }
        if let a = agreement {
            metrics.append(ReportMetric("knn_overlap_at_\(configuration.neighborK)", "mean Jaccard of the \(a.oldNeighbors.k)-NN sets in OLD and NEW (tied rows counted with their chance of being chosen)",
                                        a.knnOverlapIsDetermined ? ReportValue(a.meanJaccard) : .null))
            if a.knnUndeterminedShare > 0 {
                metrics.append(ReportMetric("knn_undetermined_share", "share of compared rows whose k-NN set in OLD or NEW is not determined (a tie straddles the k-th place)", ReportValue(a.knnUndeterminedShare)))
                metrics.append(ReportMetric("knn_tied_place_share", "share of the k-NN places (OLD and NEW) that ties fill: how far the data leave the overlap open", ReportValue(a.knnTiedPlaceShare)))
            }
            metrics.append(ReportMetric("knn_overlap_k_effective", "neighbours actually compared (--neighbor-k capped at rows − 1)", .int(a.oldNeighbors.k)))
            metrics.append(ReportMetric("similarity_spearman", "Spearman of pairwise cosines, OLD vs NEW", ReportValue(a.similaritySpearman)))
            metrics.append(ReportMetric("similarity_pairs", a.allPairs ? "pairs (all)" : "pairs (seeded sample)", .int(a.similarityPairs)))
        }
        if let m = mapping {
            metrics.append(ReportMetric("train_rows", "rows the mapping was fitted on", .int(m.trainRows.count)))
            metrics.append(ReportMetric("heldout_rows", "held-out rows (mapping evaluation)", .int(m.heldOutRows.count)))
            metrics.append(ReportMetric("candidates_per_query_heldout", "held-out gallery rows a query is ranked against", .int(m.candidatesPerQuery)))
            metrics += retrievalMetrics(m.mapped, asked: askedKs, suffix: "mapped", what: "mapped new → old, held-out rows")
            metrics += retrievalMetrics(m.old, asked: askedKs, suffix: "old_heldout", what: "old → old, held-out rows")
            if let c = m.cross { metrics += retrievalMetrics(c, asked: askedKs, suffix: "cross_heldout", what: "unmapped new → old, held-out rows") }
            metrics.append(ReportMetric("compatible_mapped", "compatible after mapping (held-out recall@1 > old/old)", .bool(m.compatible)))
            metrics.append(ReportMetric("no_worse_mapped", "no worse after mapping (held-out recall@1 ≥ old/old − \(ReportFormatting.number(configuration.noWorseTolerance)))", .bool(m.noWorse(tolerance: configuration.noWorseTolerance))))
            metrics.append(ReportMetric("compatibility_margin_mapped", "mapped − old/old recall@1, held-out rows", ReportValue(m.margin)))
            metrics.append(ReportMetric("negative_flip_rate_mapped", "negative flips after mapping, held-out rows", ReportValue(m.flips.rate)))
            metrics.append(ReportMetric("mapped_cosine_mean", "mean cosine(mapped new row, old row), held-out", ReportValue(m.pairedCosineMean)))
            metrics.append(ReportMetric("mapped_cosine_mean_train", "mean cosine(mapped new row, old row), training rows", ReportValue(m.trainCosineMean)))
            metrics.append(ReportMetric("mapped_cosine_gap", "training − held-out mean cosine (over-fitting when large)", ReportValue(m.trainCosineMean - m.pairedCosineMean)))
            if let u = m.unpaired {
                metrics.append(ReportMetric("shared_rows", "rows embedded by both models (ids in both files): every one judges the map", .int(galleryRows)))
                metrics += u.alignmentMetrics()
                metrics.append(ReportMetric("recall_at_\(m.shareK)_chance_heldout", "recall@\(m.shareK) of a random ranking of the held-out gallery", ReportValue(m.chanceAtShareK)))
                metrics.append(ReportMetric("recall_at_\(m.shareK)_mapped_lower_bound", "99 % Wilson lower bound of the held-out mapped recall@\(m.shareK)", ReportValue(m.mappedLowerBoundAtShareK)))
                metrics.append(ReportMetric("map_found", "a map better than chance was found: the lower bound above both no map and chance", ReportValue(m.mapFound)))
            }
            if let l = m.map.lambda { metrics.append(ReportMetric("ridge_lambda", m.map.fit == .ridgeAuto ? "ridge λ chosen by leave-one-out error" : "ridge λ", ReportValue(l))) }
            if let r = m.map.rank {
                let label = m.map.completedDirections == nil ? "least-squares rank (singular values above the cut-off)"
                    : "directions the training cross-covariance determines (singular values above the cut-off)"
                metrics.append(ReportMetric("mapping_rank", label, .int(r)))
            }
            if let free = m.map.completedDirections {
                metrics.append(ReportMetric("mapping_completed_directions", "directions the data leave free, completed so the map stays orthogonal", .int(free)))
            }
            if let s = m.map.scale, m.map.fit == .procrustesScaled { metrics.append(ReportMetric("mapping_scale", "Procrustes scale s", ReportValue(s))) }
            metrics += m.adapterMetrics()
        }

        metrics += thresholdMetrics(agreement?.thresholds ?? [], suffix: "", space: "NEW")
        if let m = mapping { metrics += thresholdMetrics(m.thresholds, suffix: "_mapped", space: "mapped NEW (held-out)") }
        for d in agreement?.scoreShift.distributions ?? [] {
            metrics.append(ReportMetric("score_shift_ks_\(d.name)", "KS distance OLD vs NEW, \(d.name.replacingOccurrences(of: "_", with: " ")) cosines (differences ≤ \(ReportFormatting.number(d.resolution)) count as equal)", ReportValue(d.ksDistance)))
        }

        // Tables.
        var tables: [ReportTable] = []
        var summaries: [RetrievalSummary] = [old, new]
        if let cross { summaries.insert(cross, at: 0) }
        var retrievalRows = summaries.map { s -> [ReportValue] in
            [.string(s.name), .string("all"), .int(s.evaluated)] + askedKs.map { ReportValue(s.recall(at: effectiveK($0, s))) } + [ReportValue(s.mrr), ReportValue(s.map)]
        }
        if let m = mapping {
            var held = [m.mapped, m.old]
            if let c = m.cross { held.append(c) }
            retrievalRows += held.map { s -> [ReportValue] in
                [.string(s.name), .string("held-out"), .int(s.evaluated)] + askedKs.map { ReportValue(s.recall(at: effectiveK($0, s))) } + [ReportValue(s.mrr), ReportValue(s.map)]
            }
        }
        if let m = mapping { tables += m.adapterTables() }
        if let u = mapping?.unpaired { tables.append(u.restartsTable()) }
        if let sel = mapping?.map.ridgeSelection {
            tables.append(ReportTable(name: "ridge_selection", title: "ridge:auto — mean squared leave-one-out error per λ (training rows)",
                                      columns: ["lambda", "loo_mse", "chosen"],
                                      rows: sel.map { [ReportValue($0.lambda), ReportValue($0.leaveOneOutError), .bool($0.lambda == mapping?.map.lambda)] }))
        }
        tables.append(ReportTable(name: "retrieval", title: "Retrieval (\(relevance == "labels" ? "relevant = same label" : "relevant = the same item"))",
                                  columns: ["direction", "rows", "queries"] + askedKs.map { "recall_at_\($0)" } + ["mrr", "map"], rows: retrievalRows))

        let label: (Int) -> ReportValue = { i in labels.map { .string($0[i]) } ?? .null }
        func neighbourText(_ nn: NearestNeighbors, _ q: Int) -> String {
            nn.neighbors(of: q).prefix(3).filter { $0 >= 0 }.map { names[Int($0)] }.joined(separator: " | ")
        }
        if let a = agreement {
            let order = (0..<a.knnJaccard.count).sorted { a.knnJaccard[$0] < a.knnJaccard[$1] || (a.knnJaccard[$0] == a.knnJaccard[$1] && a.rows[$0] < a.rows[$1]) }
            tables.append(ReportTable(
                name: "changed_neighborhoods", title: "Items whose neighbourhoods changed most (Jaccard of \(a.oldNeighbors.k)-NN, OLD vs NEW)",
                columns: ["row", "name", "label", "jaccard", "old_neighbors", "new_neighbors"],
                rows: order.prefix(configuration.changedRowsShown).map { q in
                    let i = a.rows[q]
                    return [.int(sourceRows?[i] ?? i), .string(names[i]), label(i), ReportValue(a.knnJaccard[q]), .string(neighbourText(a.oldNeighbors, q)), .string(neighbourText(a.newNeighbors, q))]
                }, textRowLimit: 10))
        }
        if let f = flipsCross ?? Optional(flipsNew), !f.flips.isEmpty {
            let other = flipsCross == nil ? new : cross!
            let rows: [[ReportValue]] = f.flips.prefix(200).enumerated().map { t, q in
                let i = queryRows.isEmpty || separateQueries ? q : queryRows[q]
                return [.int(separateQueries ? i : sourceRows?[i] ?? i), separateQueries ? .null : .string(names[i]), separateQueries ? .null : label(i),
                        ReportValue(other.firstRanks[q]?.expectedRank ?? .nan), ReportValue(f.probabilities[t])]
            }
            tables.append(ReportTable(name: "negative_flips", title: "Negative flips: old top-1 right, \(other.name) wrong (first 200)",
                                      columns: ["query", "name", "label", "expected_rank_after", "flip_probability"], rows: rows, textRowLimit: 5))
        }
        if let a = agreement {
            tables.append(ReportTable(
                name: "knn_overlap_per_row", title: "Neighbourhood overlap per item",
                columns: ["row", "name", "label", "jaccard"],
                rows: (0..<a.knnJaccard.count).map { q in let i = a.rows[q]; return [.int(sourceRows?[i] ?? i), .string(names[i]), label(i), ReportValue(a.knnJaccard[q])] },
                textRowLimit: 5, isPerRow: true))
        }

        // Charts.
        let kMax = ks.max() ?? 1
        func points(_ recall: [Double]) -> [ChartPoint] { recall.enumerated().map { ChartPoint(x: Double($0.offset + 1), y: $0.element) } }
        var series = summaries.map { ReportChart.Series(name: $0.name, points: points($0.recallCurve(upTo: kMax))) }
        if let m = mapping {
            series.append(ReportChart.Series(name: "mapped (held-out)", points: points(m.mapped.recallCurve(upTo: min(kMax, m.mapped.ks.max() ?? kMax)))))
        }
        // Score shift: quantiles of each distribution in OLD, NEW and mapped NEW.
        var shiftRows: [[ReportValue]] = []
        let mappedShift = mapping.map { Dictionary(uniqueKeysWithValues: $0.scoreShift.distributions.map { ($0.name, $0) }) } ?? [:]
        let shiftNames = (agreement?.scoreShift ?? mapping?.scoreShift)?.distributions.map(\.name) ?? []
        let ownShift = agreement.map { Dictionary(uniqueKeysWithValues: $0.scoreShift.distributions.map { ($0.name, $0) }) } ?? [:]
        for name in shiftNames {
            if let d = ownShift[name] {
                shiftRows.append([.string(d.name), .string("old")] + d.old.map { ReportValue($0) } + [.null])
                shiftRows.append([.string(d.name), .string("new")] + d.new.map { ReportValue($0) } + [ReportValue(d.ksDistance)])
            }
            if let m = mappedShift[name] {
                shiftRows.append([.string(name), .string("old (held-out)")] + m.old.map { ReportValue($0) } + [.null])
                shiftRows.append([.string(name), .string("mapped (held-out)")] + m.new.map { ReportValue($0) } + [ReportValue(m.ksDistance)])
            }
        }
        if !shiftRows.isEmpty {
            tables.append(ReportTable(name: "score_shift", title: "Score shift: cosine quantiles (random pairs, top-1, top-1 − top-2 margin)",
                                      columns: ["scores", "space"] + ScoreShift.levels.map { "q\(Int(($0 * 100).rounded()))" } + ["ks_vs_old"], rows: shiftRows))
        }
        let thresholds = agreement?.thresholds ?? []
        if !thresholds.isEmpty || !(mapping?.thresholds.isEmpty ?? true) {
            func row(_ t: ThresholdTransfer, _ space: String) -> [ReportValue] {
                [ReportValue(t.threshold), .string(space), ReportValue(t.oldAcceptedShare), t.quantileMatched.map { ReportValue($0) } ?? .null,
                 t.interval.map { ReportValue($0.low) } ?? .null, t.interval.map { ReportValue($0.high) } ?? .null,
                 t.quantileMatchedTopK.map { ReportValue($0) } ?? .null, t.bestAgreement.map { ReportValue($0) } ?? .null,
                 ReportValue(t.bestAgreementF1), t.reusePrecision.map { ReportValue($0) } ?? .null, t.reuseRecall.map { ReportValue($0) } ?? .null]
            }
            var rows = thresholds.map { row($0, "new") }
            if let m = mapping { rows += m.thresholds.map { row($0, "mapped") } }
            tables.append(ReportTable(name: "thresholds", title: "OLD thresholds carried to NEW",
                                      columns: ["old_threshold", "space", "old_accepted_share", "quantile_matched", "ci_low", "ci_high",
                                                "quantile_matched_topk", "best_agreement", "best_agreement_f1", "reuse_precision", "reuse_recall"],
                                      rows: rows))
        }
        // Calibration curve: OLD score → quantile-matched NEW score, over all pairs.
        let calibration = (agreement?.thresholdCalibration ?? []).map { ChartPoint(x: $0.old, y: $0.new) }
        var charts = [
            ReportChart(name: "recall_curves", title: "Recall@k", kind: .line, xLabel: "k", yLabel: "recall@k", series: series,
                        caption: "Compatible when the cross curve is at or above the old curve (Shen et al. 2020)."),
        ]
        if let a = agreement {
            charts.append(ReportChart(name: "knn_overlap_histogram", title: "Neighbourhood overlap OLD vs NEW", kind: .histogram,
                                      xLabel: "Jaccard of \(a.oldNeighbors.k)-NN sets", yLabel: "items",
                                      series: [ReportChart.Series(name: "items", points: compatHistogram(a.knnJaccard, bins: 20))],
                                      caption: "1 = the same neighbours in both models."))
        }
        if !calibration.isEmpty {
            charts.append(ReportChart(name: "threshold_calibration", title: "Threshold calibration: OLD cut-off → NEW cut-off accepting the same share of pairs",
                                      kind: .line, xLabel: "OLD cosine threshold", yLabel: "quantile-matched NEW threshold",
                                      series: [ReportChart.Series(name: "NEW", points: calibration),
                                               ReportChart.Series(name: "unchanged (y = x)", points: calibration.map { ChartPoint(x: $0.x, y: $0.x) })],
                                      caption: "Where the curve leaves the diagonal, an unchanged threshold accepts a different share of pairs in NEW."))
        }

        var notes: [String] = []
        if let m = margin, m == 0 {
            notes.append("Cross and old/old recall@1 are equal: not compatible by Shen et al.'s strict criterion (the new model must improve on the old one), but no worse (no_worse).")
        }
        if relevance == "identity" {
            notes.append("No --labels: each query's only relevant item is its own partner, so old → old and new → new are (near) 1 by construction and compatible means the new query finds its old item at rank 1 every time. Give --labels for class relevance (BCT protocol).")
        } else if !separateQueries {
            notes.append("Relevance = same label; each query's own row is excluded from its ranking in all directions.")
        }
        if cross == nil {
            notes.append("Dimensions differ (\(dimensions.old) vs \(dimensions.new)): no cross-model retrieval without a mapping; use --fit linear or ridge.")
        }
        if let c = compression { notes.append("NEW is OLD compressed (\(c)): the question is whether the cheaper index can replace the full one.") }
        if let m = mapping, let u = m.unpaired {
            notes.append(u.alignmentNote())
            notes.append("Every one of the \(m.heldOutRows.count) rows embedded by both models (shared ids) was hidden from the alignment and judges it: *_mapped, *_heldout metrics use them as queries and gallery.")
            let shown = { (x: Double?) in ReportFormatting.number(x ?? .nan, significant: 3) }
            if m.mapFound == true {
                notes.append("A map better than chance was found: held-out recall@\(m.shareK) \(shown(m.mappedAtShareK)) (99 % lower bound \(shown(m.mappedLowerBoundAtShareK))) against \(shown(m.cross?.recall(at: m.shareK))) without a map and \(shown(m.chanceAtShareK)) by chance.")
            } else {
                notes.append("No map better than chance could be found: held-out recall@\(m.shareK) \(shown(m.mappedAtShareK)) (99 % lower bound \(shown(m.mappedLowerBoundAtShareK))) is not clearly above \(shown(m.cross?.recall(at: m.shareK))) without a map and \(shown(m.chanceAtShareK)) by chance, so compatible_mapped is false. Embed a few hundred texts with both models and use --fit procrustes.")
            }
        } else if let m = mapping {
            let split = m.explicitSplit ? "the rows of --train-rows" : "a seeded split (seed \(configuration.seed))"
            notes.append("Mapping \(m.map.fit) NEW → OLD fitted on \(m.trainRows.count) rows (\(split)); *_mapped, *_heldout metrics use only the \(m.heldOutRows.count) held-out rows as queries and gallery.")
            notes += m.adapterNotes()
            if let free = m.map.completedDirections, free > 0, let r = m.map.rank {
                notes.append("The training cross-covariance determines \(r) of \(r + free) directions of the \(m.map.fit) map: the solution is not unique. The other \(free) are completed (paired as close to the identity as the data allow), so the map stays orthogonal and keeps every vector's length; any completion gives the same cosines with OLD rows that have no variance in those directions.")
            }
            if let sel = m.map.ridgeSelection, let l = m.map.lambda, let lo = sel.first?.lambda, let hi = sel.last?.lambda, l == lo || l == hi {
                notes.append("ridge:auto chose λ = \(ReportFormatting.number(l)), at the edge of the grid: the best λ may lie outside it.")
            }
        }
        if let a = agreement, !a.allPairs { notes.append("similarity_spearman and the thresholds use \(a.similarityPairs) seeded random pairs.") }
        if agreement == nil {
            notes.append("Retrieval metrics only (--retrieval-only): neighbourhood stability, pair similarities, thresholds and score shifts were not computed.")
        }
        for t in thresholds {
            let cut = ReportFormatting.number(t.threshold, significant: 3)
            if let q = t.quantileMatched {
                var sentence = "A \(cut) cut in OLD accepts \(ReportFormatting.number(100 * t.oldAcceptedShare, significant: 3))% of pairs; the same share in NEW is a cut of \(ReportFormatting.number(q, significant: 3))"
                if let r = t.reuseRecall { sentence += "; keeping \(cut) loses \(ReportFormatting.number(100 * (1 - r), significant: 3))% of the pairs OLD accepted" }
                if let p = t.reusePrecision { sentence += " and \(ReportFormatting.number(100 * (1 - p), significant: 3))% of what NEW then accepts OLD rejected" }
                notes.append(sentence + ".")
            }
            notes += t.notes.map { "Threshold \(cut): \($0)." }
        }
        // Rows that look misaligned: the two spaces agree on nothing pairwise (Spearman ≈ 0) and
        // share no neighbours, although each ranks its own items: the commonest real mistake
        // (rows in another order, or other items) — or models that are unrelated.
        var misaligned = false
        if let a = agreement {
            let rho = a.similaritySpearman, jaccard = a.meanJaccard
            misaligned = rho.isFinite && abs(rho) < 0.1 && jaccard.isFinite && jaccard < 0.05 && galleryRows >= 20
            metrics.append(ReportMetric("rows_look_misaligned", "paired similarities uncorrelated and no shared neighbours", .bool(misaligned)))
        }
        let title = "Backward compatibility: \(URL(fileURLWithPath: inputs[1].path).lastPathComponent) vs \(URL(fileURLWithPath: inputs[0].path).lastPathComponent)"
        var report = Report(analyzer: "compat", title: title, inputs: inputs,
                            parameters: configuration.reportParameters(relevance: relevance, ks: askedKs) + (compression.map { [ReportParameter("new", .string($0.description))] } ?? []),
                            metrics: metrics, tables: tables, charts: charts + (mapping?.adapterCharts() ?? []), notes: notes, verdict: verdict)
        if let a = agreement, a.knnUndeterminedShare > 0 {
            let share = ReportFormatting.number(100 * a.knnUndeterminedShare, significant: 3)
            let places = ReportFormatting.number(100 * a.knnTiedPlaceShare, significant: 3)
            report.notes.append(a.knnOverlapIsDetermined
                ? "\(share) % of the compared rows tie at their \(a.oldNeighbors.k)-th neighbour in OLD or NEW (ties fill \(places) % of the k-NN places): the overlap counts each tied row with its chance of being chosen (the expected value over tie orders)."
                : "knn_overlap_at_\(configuration.neighborK) is not reported: ties fill \(places) % of the \(a.oldNeighbors.k)-NN places in OLD or NEW (\(share) % of the rows tie at their \(a.oldNeighbors.k)-th neighbour; few distinct rows or directions), so the sets are not determined by the data — the expected overlap over tie orders (\(ReportFormatting.number(a.meanJaccard))) is near chance even for one space against itself, and breaking ties by row number would make unrelated spaces agree.")
        }
        if misaligned, let a = agreement {
            report.warn("OLD and NEW rows look misaligned: Spearman of paired similarities \(ReportFormatting.number(a.similaritySpearman)) and k-NN Jaccard \(ReportFormatting.number(a.meanJaccard)) are near 0. Check that row i is the same item in both files (order, filtering, --pair-by label with ids), or the models are unrelated.")
        }
        let cappedKs = askedKs.filter { $0 > candidatesPerQuery }
        if !cappedKs.isEmpty {
            report.warn(ParameterCap(parameter: "--k", asked: cappedKs.max()!, used: candidatesPerQuery, reason: "a query has \(candidatesPerQuery) candidate rows; recall_at_\(cappedKs.map(String.init).joined(separator: "/"))_* are computed at k = \(candidatesPerQuery) (candidates_per_query)").message)
        }
        if let a = agreement, a.oldNeighbors.k < configuration.neighborK {
            report.warn(ParameterCap(parameter: "--neighbor-k", asked: configuration.neighborK, used: a.oldNeighbors.k, reason: "\(galleryRows) rows leave \(a.oldNeighbors.k) neighbours (knn_overlap_k_effective)").message)
        }
        return report
    }
}

/// The cut-off actually used for an asked k: summaries hold k capped at the candidates.
private func effectiveK(_ k: Int, _ s: RetrievalSummary) -> Int { min(k, s.ks.max() ?? k) }

private func compatHistogram(_ values: [Double], bins: Int) -> [ChartPoint] {
    let finite = values.filter(\.isFinite)
    guard !finite.isEmpty else { return [] }
    // Jaccard lives in [0, 1]: fixed bins so charts of different runs compare.
    var counts = [Int](repeating: 0, count: bins)
    for v in finite { counts[min(bins - 1, max(0, Int(v * Double(bins))))] += 1 }
    return counts.enumerated().map { ChartPoint(x: (Double($0.offset) + 0.5) / Double(bins), y: Double($0.element)) }
}

/// Metric keys of carried thresholds: as written for one threshold, `_at_<t>` per threshold for several.
private func thresholdMetrics(_ list: [ThresholdTransfer], suffix: String, space: String) -> [ReportMetric] {
    var m: [ReportMetric] = []
    for t in list {
        let at = list.count > 1 ? "_at_\(ReportFormatting.number(t.threshold, significant: 6))" : ""
        let cut = ReportFormatting.number(t.threshold, significant: 6)
        func key(_ base: String) -> String { base + at + suffix }
        m.append(ReportMetric(key("threshold_quantile_matched"), "\(space) cut accepting the share OLD accepts at \(cut)", t.quantileMatched.map { ReportValue($0) } ?? .null))
        m.append(ReportMetric(key("threshold_quantile_matched_ci_low"), "bootstrap 2.5% (\(t.bootstrapReplicates) replicates over queries)", t.interval.map { ReportValue($0.low) } ?? .null))
        m.append(ReportMetric(key("threshold_quantile_matched_ci_high"), "bootstrap 97.5%", t.interval.map { ReportValue($0.high) } ?? .null))
        m.append(ReportMetric(key("threshold_quantile_matched_topk"), "the same over top-k neighbour pairs", t.quantileMatchedTopK.map { ReportValue($0) } ?? .null))
        m.append(ReportMetric(key("threshold_best_agreement"), "\(space) cut agreeing most with OLD at \(cut)", t.bestAgreement.map { ReportValue($0) } ?? .null))
        m.append(ReportMetric(key("threshold_best_agreement_f1"), "F1 of the accepted pairs at that cut", ReportValue(t.bestAgreementF1)))
        m.append(ReportMetric(key("threshold_best_agreement_accuracy"), "share of pairs decided alike at that cut", ReportValue(t.bestAgreementAccuracy)))
        m.append(ReportMetric(key("reuse_precision"), "\(cut) reused in \(space): precision vs OLD's accepted pairs", t.reusePrecision.map { ReportValue($0) } ?? .null))
        m.append(ReportMetric(key("reuse_recall"), "\(cut) reused in \(space): recall of OLD's accepted pairs", t.reuseRecall.map { ReportValue($0) } ?? .null))
        m.append(ReportMetric(key("threshold_old_accepted_share"), "share of pairs OLD accepts at \(cut)", ReportValue(t.oldAcceptedShare)))
    }
    return m
}
