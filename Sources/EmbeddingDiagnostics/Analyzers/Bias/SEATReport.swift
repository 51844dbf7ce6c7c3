import Foundation

extension SEATAnalysis: ReportConvertible {
    /// A metric-key-safe form of a test id ("wefe-1" → "wefe_1").
    public static func keyPart(_ test: String) -> String {
        String(test.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "_" })
    }

    public func report() -> Report {
        let c = configuration
        let variant = c.center ? "centred" : "raw"
        let otherVariant = c.center ? "raw" : "centred"
        var parameters: [ReportParameter] = [
            ReportParameter("sentences", .string(tablePath)),
            ReportParameter("alpha", .double(c.alpha)),
            ReportParameter("center", .bool(c.center)),
            ReportParameter("permutations", .int(c.permutation.permutations)),
            ReportParameter("exact_limit", .int(c.permutation.exactLimit)),
            ReportParameter("seed", .int(Int(truncatingIfNeeded: c.permutation.seed))),
        ]
        if let o = c.compare { parameters.append(ReportParameter("compare", .string(o.source.path))) }
        if let r = c.removeDirections { parameters.append(ReportParameter("removed_directions", .int(r.rows))) }

        var metrics: [ReportMetric] = [
            ReportMetric("n_rows", "sentences (rows)", .int(rowCount)),
            ReportMetric("n_tests", "tests", .int(tests.count)),
            ReportMetric("n_templates", "templates (bare words excluded)", .int(templateCount)),
            ReportMetric("seat_anisotropy", "mean cosine between template sentence vectors (raw)", ReportValue(anisotropy)),
            ReportMetric("seat_anisotropy_centered", "the same after subtracting their mean", ReportValue(anisotropyCentered)),
        ]
        for t in tests {
            let k = Self.keyPart(t.test)
            metrics.append(ReportMetric("seat_effect_size_\(k)", "SEAT effect size d (\(t.test), all templates, \(variant) vectors)", ReportValue(t.pooled.effectSize)))
            metrics.append(ReportMetric("seat_p_value_\(k)", "SEAT one-sided p-value (\(t.test), \(t.pooled.permutationTest.exact ? "exact" : "\(t.pooled.permutationTest.permutations) seeded permutations"))", ReportValue(t.pooled.pValue)))
            if let r = t.robust { metrics.append(ReportMetric("seat_robust_\(k)", "conclusion of \(t.test) the same under every template and leaving each out", .bool(r))) }
            metrics.append(ReportMetric("seat_centering_changes_\(k)", "centring changes the conclusion of \(t.test)", .bool(t.centeringChangesConclusion)))
            if let w = t.word { metrics.append(ReportMetric("weat_effect_size_\(k)", "word-level WEAT effect size (\(t.test), bare words)", ReportValue(w.effectSize))) }
            if let a = t.afterRemoval { metrics.append(ReportMetric("seat_effect_size_after_\(k)", "SEAT effect size after removing the directions (\(t.test))", ReportValue(a.effectSize))) }
            if let p = t.compared { metrics.append(ReportMetric("seat_effect_size_compare_\(k)", "SEAT effect size on the comparison pooling (\(t.test))", ReportValue(p.effectSize))) }
        }
        metrics.append(ReportMetric("seat_template_robust", "every test's conclusion is the same under every template and leaving each out", templateRobust.map { ReportValue.bool($0) } ?? .null))
        metrics.append(ReportMetric("seat_max_abs_effect", "largest |SEAT effect size| over the tests", ReportValue(maxAbsEffect)))
        metrics.append(ReportMetric("seat_centering_changes", "tests whose conclusion changes with centring", .int(tests.filter(\.centeringChangesConclusion).count)))
        if c.compare != nil {
            metrics.append(ReportMetric("seat_pooling_changes", "tests whose conclusion changes with the other pooling", .int(tests.filter { $0.poolingChangesConclusion == true }.count)))
        }

        var tables: [ReportTable] = []
        tables.append(ReportTable(
            name: "seat", title: "SEAT (May et al. 2019) per test: all templates pooled, \(variant) vectors",
            columns: ["test", "n_x", "n_y", "n_a", "n_b", "statistic", "effect_size", "effect_size_ddof1", "p_value", "p_method", "permutations",
                      "conclusion", "templates", "template_effect_min", "template_effect_max", "template_effect_sd", "verdict",
                      "effect_size_\(otherVariant)", "p_value_\(otherVariant)", "centering_changes_conclusion",
                      "word_effect_size", "word_p_value", "effect_size_after_removal", "p_value_after_removal"],
            rows: tests.map(Self.summaryRow)))
        tables.append(ReportTable(
            name: "seat_templates", title: "Per template: the test on one template's sentences, and on all but that template",
            columns: ["test", "template", "effect_size", "p_value", "p_method", "conclusion", "same_conclusion",
                      "effect_size_without", "p_value_without", "same_conclusion_without"],
            rows: tests.flatMap(Self.templateRows)))
        if let other = c.compare {
            tables.append(ReportTable(
                name: "seat_pooling", title: "The same sentences, another pooling (\(other.source.path))",
                columns: ["test", "effect_size", "p_value", "conclusion", "effect_size_compare", "p_value_compare", "conclusion_compare", "conclusion_changes"],
                rows: tests.compactMap { t -> [ReportValue]? in
                    guard let o = t.compared else { return nil }
                    var row: [ReportValue] = [.string(t.test), ReportValue(t.pooled.effectSize), ReportValue(t.pooled.pValue), .string(t.conclusion.text)]
                    row += [ReportValue(o.effectSize), ReportValue(o.pValue), .string(o.conclusion(alpha: c.alpha).text), .bool(t.poolingChangesConclusion == true)]
                    return row
                }))
        }

        var notes: [String] = []
        for t in tests {
            var line = "SEAT \(t.test): d = \(ReportFormatting.number(t.pooled.effectSize, significant: 3)), p = \(ReportFormatting.number(t.pooled.pValue, significant: 3)) (\(t.conclusion.text) at α = \(ReportFormatting.number(c.alpha))); "
            if let r = t.templateEffectRange {
                line += "per template d from \(ReportFormatting.number(r.min, significant: 3)) to \(ReportFormatting.number(r.max, significant: 3)); "
            }
            line += "verdict: \(t.verdict)"
            let differing = t.perTemplate.filter { !$0.sameConclusion }.map(\.template) + t.leaveOneOut.filter { !$0.sameConclusion }.map { "without \($0.template)" }
            if !differing.isEmpty { line += " (other conclusion: \(differing.joined(separator: ", ")))" }
            notes.append(line + ".")
            if t.centeringChangesConclusion {
                notes.append("SEAT \(t.test): centring changes the conclusion (\(variant): \(t.conclusion.text); \(otherVariant): \(t.otherCentering.conclusion(alpha: c.alpha).text)) — the shared direction of all sentences (anisotropy) carries part of the association.")
            }
            if t.poolingChangesConclusion == true, let o = t.compared {
                notes.append("SEAT \(t.test): the other pooling changes the conclusion (d \(ReportFormatting.number(t.pooled.effectSize, significant: 3)) → \(ReportFormatting.number(o.effectSize, significant: 3))).")
            }
            if !t.incompleteTemplates.isEmpty {
                notes.append("SEAT \(t.test): template\(t.incompleteTemplates.count == 1 ? "" : "s") \(t.incompleteTemplates.joined(separator: ", ")) lack one of X, Y, A, B and are left out of the per-template analysis (they stay in the pooled test).")
            }
            if !t.pooled.permutationTest.exact {
                notes.append("SEAT \(t.test): p from \(t.pooled.permutationTest.permutations) seeded random splits (seed \(t.pooled.permutationTest.seed ?? 0)), p = (count + 1)/(N + 1); the smallest reportable p is \(ReportFormatting.number(1 / Double(t.pooled.permutationTest.permutations + 1), significant: 2)).")
            }
        }
        notes.append("Anisotropy: the template sentences have mean cosine \(ReportFormatting.number(anisotropy, significant: 3)) (\(ReportFormatting.number(anisotropyCentered, significant: 3)) after centring). Cosines near a common offset compress every s(w, A, B); the effect sizes are recomputed on \(otherVariant) vectors in the seat table.")
        notes.append("Effect size d uses the population standard deviation (ddof = 0, as WEFE and embdiag's WEAT); effect_size_ddof1 is sent-bias's (sample standard deviation). Sentences of a role are pooled across templates as in May et al. (2019); p is one-sided (X with A, Y with B).")

        let judged = tests.filter { $0.robust != nil }
        let fragile = judged.filter { $0.robust == false }.map(\.test)
        let answer: String
        if judged.isEmpty {
            answer = "Not judged: no test has two complete templates."
        } else if fragile.isEmpty {
            answer = "Robust: every test's conclusion (sign, significance at α = \(ReportFormatting.number(c.alpha))) is the same under each of the \(templateCount) templates and leaving each out; largest |d| = \(ReportFormatting.number(maxAbsEffect, significant: 3))."
        } else {
            answer = "Depends on the template for \(fragile.joined(separator: ", ")): a single template, or leaving one out, changes the conclusion; largest |d| = \(ReportFormatting.number(maxAbsEffect, significant: 3))."
        }
        let verdict = ReportVerdict(question: "Does the sentence encoder show the tests' associations, whatever the template?", answer: answer,
                                    decidingMetrics: ["seat_template_robust", "seat_max_abs_effect", "seat_centering_changes", "seat_anisotropy"])
        return Report(analyzer: "bias", title: "SEAT: bias tests on sentence vectors, with template robustness",
                      inputs: [source] + (c.compare.map { [$0.source] } ?? []), parameters: parameters, metrics: metrics,
                      tables: tables, notes: notes, verdict: verdict)
    }

    /// One line of the `seat` table.
    static func summaryRow(_ t: SEATTestResult) -> [ReportValue] {
        let range = t.templateEffectRange
        var row: [ReportValue] = [.string(t.test)]
        row += t.pooled.counts.map { ReportValue.int($0) }
        row += [ReportValue(t.pooled.statistic), ReportValue(t.pooled.effectSize), ReportValue(t.pooled.effectSizeSample),
                ReportValue(t.pooled.pValue), method(t.pooled), .int(t.pooled.permutationTest.permutations)]
        row += [.string(t.conclusion.text), .int(t.perTemplate.count)]
        row += [optional(range?.min), optional(range?.max), optional(range?.sd), .string(t.verdict)]
        row += [ReportValue(t.otherCentering.effectSize), ReportValue(t.otherCentering.pValue), .bool(t.centeringChangesConclusion)]
        row += [optional(t.word?.effectSize), optional(t.word?.pValue)]
        row += [optional(t.afterRemoval?.effectSize), optional(t.afterRemoval?.pValue)]
        return row
    }

    /// The lines of the `seat_templates` table for one test.
    static func templateRows(_ t: SEATTestResult) -> [[ReportValue]] {
        t.templates.map { id -> [ReportValue] in
            let one = t.perTemplate.first { LabelKey.same($0.template, id) }
            let out = t.leaveOneOut.first { LabelKey.same($0.template, id) }
            var row: [ReportValue] = [.string(t.test), .string(id)]
            row += [optional(one?.score.effectSize), optional(one?.score.pValue), one.map { method($0.score) } ?? .null]
            row += [one.map { ReportValue.string($0.score.conclusion(alpha: t.alpha).text) } ?? .null, one.map { ReportValue.bool($0.sameConclusion) } ?? .null]
            row += [optional(out?.score.effectSize), optional(out?.score.pValue), out.map { ReportValue.bool($0.sameConclusion) } ?? .null]
            return row
        }
    }

    static func method(_ s: SEATScore) -> ReportValue { .string(s.permutationTest.exact ? "exact" : "monte-carlo") }
    static func optional(_ x: Double?) -> ReportValue { x.map { ReportValue($0) } ?? .null }
}
