import Foundation

extension BiasAnalysis: ReportConvertible {
    public func report() -> Report {
        let c = configuration
        var parameters: [ReportParameter] = [
            ReportParameter("components", .int(c.components)),
            ReportParameter("direction", .string(c.directionMethod.rawValue)),
            ReportParameter("strictness", .double(c.strictness)),
            ReportParameter("case_insensitive", .bool(c.caseInsensitive)),
            ReportParameter("top", .int(c.top)),
            ReportParameter("seed", .int(Int(truncatingIfNeeded: c.weatOptions.seed))),
        ]
        if let g = c.definitional { parameters.append(ReportParameter("definitional", .string("\(g.name) — \(g.provenance)"))) }
        if let n = c.neutral { parameters.append(ReportParameter("neutral", .string("\(n.name) — \(n.provenance)"))) }
        if !c.weat.isEmpty {
            parameters.append(ReportParameter("weat", .string(c.weat.map { "\($0.id) (\($0.provenance))" }.joined(separator: "; "))))
            parameters.append(ReportParameter("permutations", .int(c.weatOptions.permutations)))
            parameters.append(ReportParameter("exact_limit", .int(c.weatOptions.exactLimit)))
        }
        if c.debias {
            parameters.append(ReportParameter("debias", "hard"))
            if let e = c.equalize { parameters.append(ReportParameter("equalize", .string("\(e.name) — \(e.provenance)"))) }
            if let s = c.specific { parameters.append(ReportParameter("specific", .string("\(s.name) — \(s.provenance)"))) }
            parameters.append(ReportParameter("neighbors", .int(c.neighbors)))
            parameters.append(ReportParameter("neighbor_vocabulary", .int(debias?.neighborGallery ?? c.neighborVocabulary)))
        }

        var metrics: [ReportMetric] = [ReportMetric("n_rows", "rows", .int(rowCount))]
        var tables: [ReportTable] = []
        var charts: [ReportChart] = []
        var notes: [String] = []
        var missing: [[ReportValue]] = []

        if let s = subspace {
            metrics += [
                ReportMetric("n_definitional", "definitional groups used", .int(s.groupsUsed.count)),
                ReportMetric("pc1_explained", "explained-variance ratio of PC1 of the centred definitional groups", ReportValue(s.explainedRatio.first ?? .nan)),
                ReportMetric("pc2_explained", "explained-variance ratio of PC2", ReportValue(s.explainedRatio.count > 1 ? s.explainedRatio[1] : .nan)),
                ReportMetric("subspace_explained", "explained-variance ratio of the \(s.components) component(s) used", ReportValue(s.explainedRatio.prefix(s.components).reduce(0, +))),
                ReportMetric("direction_cos_ends", "cos(\(s.method == .pca ? "PC1" : "the \(s.method.rawValue) direction"), \(s.ends.0) − \(s.ends.1))", ReportValue(s.endsCosine)),
            ]
            var cumulative = 0.0
            tables.append(ReportTable(name: "pca", title: "Principal components of the centred definitional groups", columns: ["component", "explained_ratio", "cumulative"],
                                      rows: s.explainedRatio.prefix(10).enumerated().map { i, r in
                                          cumulative += r
                                          return [.int(i + 1), ReportValue(r), ReportValue(cumulative)]
                                      }))
            missing += s.groupsDropped.map { [.string("definitional"), .string($0.joined(separator: " / "))] }
            if (s.explainedRatio.first ?? 0) < 0.5 {
                notes.append("PC1 explains less than half of the variance of the definitional groups (responsibly refuses below 0.5): the pairs may not share one direction; consider --components K.")
            }
            notes.append("Sign convention: the direction points from \"\(s.ends.1)\" to \"\(s.ends.0)\" (positive projection = the \(s.ends.0) side), as responsibly fixes it.")
        }
        if let db = directBias {
            metrics += [
                ReportMetric("n_neutral", "neutral words used", .int(db.words.count)),
                ReportMetric("direct_bias", "DirectBias_\(ReportFormatting.number(c.strictness, significant: 3)) over the neutral words", ReportValue(db.value)),
            ]
            if let a = db.valueAfter { metrics.append(ReportMetric("direct_bias_after", "DirectBias after hard debias", ReportValue(a))) }
            missing += db.missing.map { [.string("neutral"), .string($0)] }
            let order = db.projections.indices.sorted { db.projections[$0] > db.projections[$1] || (db.projections[$0] == db.projections[$1] && $0 < $1) }
            func rows(_ idx: [Int], side: String) -> [[ReportValue]] {
                idx.enumerated().map { r, i in
                    [.string(side), .int(r + 1), .string(db.words[i]), ReportValue(db.projections[i]), db.projectionsAfter.map { ReportValue($0[i]) } ?? .null]
                }
            }
            let top = max(0, min(c.top, order.count))
            if c.components == 1, let s = subspace {
                tables.append(ReportTable(name: "direct_bias_extremes", title: "Neutral words projecting most strongly to each side",
                                          columns: ["side", "rank", "word", "projection", "projection_after"],
                                          rows: rows(Array(order.prefix(top)), side: s.ends.0) + rows(Array(order.reversed().prefix(top)), side: s.ends.1)))
            } else {
                tables.append(ReportTable(name: "direct_bias_extremes", title: "Neutral words with the largest projection on the subspace",
                                          columns: ["side", "rank", "word", "projection", "projection_after"], rows: rows(Array(order.prefix(top)), side: "subspace")))
            }
            let after = db.projectionsAfter
            tables.append(ReportTable(name: "projections", title: "Projection of every neutral word", columns: ["word", "projection", "projection_after"],
                                      rows: db.words.indices.map { i in [.string(db.words[i]), ReportValue(db.projections[i]), after.map { ReportValue($0[i]) } ?? .null] },
                                      textRowLimit: 0, isPerRow: true))
            // Chart: the most biased neutral words (largest |projection|), before and after.
            let extreme = db.projections.indices.sorted { abs(db.projections[$0]) > abs(db.projections[$1]) || (abs(db.projections[$0]) == abs(db.projections[$1]) && $0 < $1) }
                .prefix(max(2, min(2 * c.top, 30))).sorted { db.projections[$0] > db.projections[$1] }
            var series = [ReportChart.Series(name: "before", points: extreme.enumerated().map { ChartPoint(x: Double($0.offset), y: db.projections[$0.element], label: db.words[$0.element]) })]
            if let after = db.projectionsAfter {
                series.append(ReportChart.Series(name: "after hard debias", points: extreme.enumerated().map { ChartPoint(x: Double($0.offset), y: after[$0.element], label: db.words[$0.element]) }))
            }
            charts.append(ReportChart(name: "projections", title: "Most biased neutral words: projection on the bias direction", kind: .bar,
                                      xLabel: "word", yLabel: c.components == 1 ? "cos(w, g)" : "‖P_B w‖", series: series,
                                      caption: "DirectBias = \(ReportFormatting.number(db.value, significant: 4))" + (db.valueAfter.map { " before, \(ReportFormatting.number($0, significant: 3)) after hard debias" } ?? "") + "."))
        }
        if !indirect.isEmpty {
            tables.append(ReportTable(name: "indirect_bias", title: "Indirect bias β(w, v) = (w·v − cos(w⊥, v⊥)) / w·v",
                                      columns: ["source", "w", "v", "cosine", "beta", "cosine_after", "beta_after"],
                                      rows: indirect.map { [.string($0.source), .string($0.w), .string($0.v), ReportValue($0.cosine), ReportValue($0.beta),
                                                            $0.cosineAfter.map { ReportValue($0) } ?? .null, $0.betaAfter.map { ReportValue($0) } ?? .null] }))
            if let first = indirect.first(where: { $0.source == "requested" }) {
                metrics.append(ReportMetric("indirect_bias", "β(\(first.w), \(first.v))", ReportValue(first.beta)))
                if let a = first.betaAfter { metrics.append(ReportMetric("indirect_bias_after", "β(\(first.w), \(first.v)) after hard debias", ReportValue(a))) }
            }
        }
        missing += indirectMissing.map { [.string("indirect"), .string($0.joined(separator: ","))] }
        if !weat.isEmpty {
            let w = weat[0]
            metrics += [
                ReportMetric("weat_effect_size", "WEAT effect size d (\(w.test.id))", ReportValue(w.effectSize)),
                ReportMetric("weat_statistic", "WEAT statistic S", ReportValue(w.statistic)),
                ReportMetric("weat_p_value", "WEAT one-sided p-value (\(w.permutationTest.exact ? "exact" : "\(w.permutationTest.permutations) seeded permutations"))", ReportValue(w.pValue)),
                ReportMetric("weat_p_exact", "p-value is exact", .bool(w.permutationTest.exact)),
                ReportMetric("weat_p_value_floor", "smallest p-value the test can give (1/partitions enumerated, 1/(B + 1) sampled)",
                             ReportValue(w.permutationTest.exact ? 1 / Double(max(1, w.permutationTest.permutations)) : 1 / Double(w.permutationTest.permutations + 1))),
            ]
            if let a = weatAfter.first {
                metrics.append(ReportMetric("weat_effect_size_after", "WEAT effect size after hard debias", ReportValue(a.effectSize)))
                metrics.append(ReportMetric("weat_p_value_after", "WEAT p-value after hard debias", ReportValue(a.pValue)))
            }
            tables.append(ReportTable(name: "weat", title: "WEAT (Caliskan et al. 2017): effect size d (ddof = 0) and one-sided permutation p",
                                      columns: ["test", "x", "y", "a", "b", "n_x", "n_y", "n_a", "n_b", "statistic", "effect_size", "p_value", "p_method", "permutations",
                                                "effect_size_after", "p_value_after", "n_missing"],
                                      rows: weat.enumerated().map { i, r in
                                          let after = i < weatAfter.count ? weatAfter[i] : nil
                                          let names = (r.test.targets + r.test.attributes).map { ReportValue.string($0.name) }
                                          return [.string(r.test.id)] + names + r.used.map { .int($0.count) } + [
                                              ReportValue(r.statistic), ReportValue(r.effectSize), ReportValue(r.pValue),
                                              .string(r.permutationTest.exact ? "exact" : "monte-carlo (seed \(r.permutationTest.seed ?? 0))"),
                                              .int(r.permutationTest.permutations),
                                              after.map { ReportValue($0.effectSize) } ?? .null, after.map { ReportValue($0.pValue) } ?? .null,
                                              .int(r.missing.reduce(0) { $0 + $1.count })]
                                      }))
            tables.append(ReportTable(name: "weat_associations", title: "s(w, A, B) of every target word", columns: ["test", "set", "word", "association", "association_after"],
                                      rows: weat.enumerated().flatMap { i, r -> [[ReportValue]] in
                                          let words = r.used[0].map { (r.test.targets[0].name, $0) } + r.used[1].map { (r.test.targets[1].name, $0) }
                                          return words.enumerated().map { j, w in
                                              [.string(r.test.id), .string(w.0), .string(w.1), ReportValue(r.associations[j]),
                                               i < weatAfter.count ? ReportValue(weatAfter[i].associations[j]) : .null]
                                          }
                                      }, textRowLimit: 0, isPerRow: true))
            for r in weat {
                let sets = r.test.targets + r.test.attributes
                for (k, m) in r.missing.enumerated() { missing += m.map { [.string("weat \(r.test.id) \(sets[k].name)"), .string($0)] } }
                if !r.permutationTest.exact {
                    notes.append("WEAT \(r.test.id): C(\(r.used[0].count + r.used[1].count), \(r.used[0].count)) splits exceed the exact limit; p from \(r.permutationTest.permutations) seeded random splits (seed \(r.permutationTest.seed ?? 0)), p = (count + 1)/(N + 1).")
                }
            }
        }
        for (id, reason) in weatSkipped { notes.append("WEAT \(id) skipped: \(reason)") }
        if let h = debias {
            metrics += [
                ReportMetric("n_neutralized", "rows neutralized", .int(h.neutralizedRows)),
                ReportMetric("n_specific", "rows left alone (gender-specific, definitional, equalize words)", .int(h.specificRows)),
                ReportMetric("n_equalized", "groups equalized", .int(h.equalizedGroups.count)),
                ReportMetric("equalize_max_gap", "max |cos(n, a) − cos(n, b)| over equalized groups and neutral words", ReportValue(h.equalizeMaxGap)),
                ReportMetric("direct_bias_vocabulary", "mean |projection| over the neutralized rows", ReportValue(h.vocabularyDirectBias)),
                ReportMetric("direct_bias_vocabulary_after", "the same after hard debias", ReportValue(h.vocabularyDirectBiasAfter)),
                ReportMetric("neighbor_cosine_change", "mean |Δ cos| of neutral words to their \(c.neighbors) nearest neighbours", ReportValue(h.neighborCosineChange)),
                ReportMetric("neighbor_cosine_shift", "mean signed Δ cos of the same pairs", ReportValue(h.neighborCosineShift)),
                ReportMetric("neighbor_overlap", "fraction of the \(c.neighbors) nearest neighbours kept", ReportValue(h.neighborOverlap)),
            ]
            tables.append(ReportTable(name: "equalized", title: "Equalized groups", columns: ["group"],
                                      rows: h.equalizedGroups.map { [.string($0.joined(separator: " / "))] }, textRowLimit: 10))
            tables.append(ReportTable(name: "neighbor_changes", title: "Neutral words and their nearest neighbours: cosine before and after",
                                      columns: ["word", "neighbor", "cosine", "cosine_after"],
                                      rows: h.neighborChanges.map { [.string($0.0), .string($0.1), ReportValue($0.2), ReportValue($0.3)] }, textRowLimit: 0, isPerRow: true))
            notes.append("Hard debias (Bolukbasi et al. 2016, responsibly's semantics): every row not in the specific list (nor a definitional/equalize word, in lower/UPPER/Title forms) loses its projection on the direction and is renormalised; equalize pairs are then made symmetric about it. Metrics after use the same (fit-time) direction.")
        }
        // Word-list coverage: a list mostly missing from the vocabulary measures something else
        // than the list claims (4 of 303 neutral words). Gateable, and a warning below one half.
        var coverage: [(list: String, found: Int, total: Int)] = []
        if let s = subspace { coverage.append(("definitional", s.groupsUsed.count, s.groupsUsed.count + s.groupsDropped.count)) }
        if let db = directBias { coverage.append(("neutral", db.words.count, db.words.count + db.missing.count)) }
        for r in weat {
            let sets = r.test.targets + r.test.attributes
            for k in sets.indices where k < r.used.count && k < r.missing.count {
                coverage.append(("WEAT \(r.test.id) \(sets[k].name)", r.used[k].count, r.used[k].count + r.missing[k].count))
            }
        }
        let fractions = coverage.filter { $0.total > 0 }.map { Double($0.found) / Double($0.total) }
        metrics.append(ReportMetric("word_list_coverage_min", "lowest share of a word list found in the vocabulary", fractions.min().map { ReportValue($0) } ?? .null))
        let poor = coverage.filter { $0.total > 0 && 2 * $0.found < $0.total }
        if !missing.isEmpty || !coverage.isEmpty {
            metrics.append(ReportMetric("n_missing", "words not found", .int(missing.count)))
        }
        if !missing.isEmpty {
            tables.append(ReportTable(name: "missing_words", title: "Words not found in the vocabulary\(c.caseInsensitive ? " (case-insensitive)" : " (case-sensitive; try --case-insensitive)")",
                                      columns: ["list", "word"], rows: missing, textRowLimit: 20))
        }
        var report = Report(analyzer: "bias", title: "Bias direction, bias metrics\(c.debias ? " and hard debias" : "")",
                            inputs: [source], parameters: parameters, metrics: metrics, tables: tables, charts: charts, notes: notes, verdict: verdict)
        for p in poor {
            report.warn("only \(p.found) of \(p.total) words of the \(p.list) list are in the vocabulary (less than half): the metrics on this list describe a different list\(c.caseInsensitive ? "" : "; try --case-insensitive") (gate: word_list_coverage_min)")
        }
        return report
    }
}
