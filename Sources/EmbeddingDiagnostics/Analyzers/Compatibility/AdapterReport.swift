import Foundation

/// The report parts of adapters, `--fit auto` and `--fit-curve`: metrics, the side-by-side table
/// of families, the training-size table and its chart.
extension MappingEvaluation {
    func adapterMetrics() -> [ReportMetric] {
        var metrics: [ReportMetric] = [
            ReportMetric("mapping_fit", "mapping family fitted (auto: the one chosen)", .string(map.fit.description)),
            ReportMetric("mapping_parameters", "trained values of the mapping", .int(map.parameterCount)),
        ]
        if let r = reembedded?.recall(at: shareK) {
            metrics.append(ReportMetric("recall_at_10_reembedded", "re-embedded (new → new) recall@\(shareK), held-out rows", ReportValue(r)))
        }
        if let s = shareOfReembedding {
            metrics.append(ReportMetric("recall_at_10_share_of_reembedding", "mapped recall@\(shareK) as a share of re-embedding, held-out rows", ReportValue(s)))
        }
        if let t = map.adapter?.training {
            metrics += [
                ReportMetric("adapter_fit_rows", "rows the adapter's gradient steps used", .int(t.fitRows)),
                ReportMetric("adapter_validation_rows", "training rows held aside for early stopping", .int(t.validationRows)),
                ReportMetric("adapter_steps", "full-batch Adam steps taken", .int(t.steps)),
                ReportMetric("adapter_best_step", "step whose parameters were kept (lowest validation loss)", .int(t.bestStep)),
                ReportMetric("adapter_validation_mse", "validation mean squared error at the kept step", ReportValue(t.validationLoss)),
                ReportMetric("adapter_train_mse", "fit-rows mean squared error at the kept step", ReportValue(t.trainLoss)),
            ]
        }
        if let chosen = candidates.first(where: \.chosen) {
            metrics.append(ReportMetric("auto_validation_mrr", "validation MRR of the family auto chose", ReportValue(chosen.validationMRR)))
        }
        return metrics
    }

    func adapterTables() -> [ReportTable] {
        var tables: [ReportTable] = []
        if !candidates.isEmpty {
            tables.append(ReportTable(
                name: "mapping_families", title: "--fit auto: every family on the same training rows (chosen = highest validation MRR)",
                columns: ["fit", "parameters", "validation_mrr", "recall_at_1_heldout", "recall_at_10_heldout", "mrr_heldout",
                          "share_of_reembedding", "fit_seconds", "chosen", "failure"],
                rows: candidates.map { c in
                    let r10 = c.heldOut?.recall(at: shareK)
                    let re = reembedded?.recall(at: shareK)
                    return [.string(c.fit.description), c.map.map { .int($0.parameterCount) } ?? .null, ReportValue(c.validationMRR),
                            c.heldOut.map { ReportValue($0.recallAtOne) } ?? .null, r10.map { ReportValue($0) } ?? .null,
                            c.heldOut.map { ReportValue($0.mrr) } ?? .null,
                            r10.flatMap { a in re.map { ReportValue($0 > 0 ? a / $0 : .nan) } } ?? .null,
                            ReportValue(c.fitSeconds), .bool(c.chosen), c.failure.map { .string($0) } ?? .null]
                }))
        }
        if !curve.isEmpty {
            tables.append(ReportTable(
                name: "fit_curve", title: "How many paired rows do I need? Held-out recall@\(shareK) by training-set size",
                columns: ["train_rows", "fit", "recall_at_10_mapped", "share_of_reembedding", "failure"],
                rows: curve.map { p in
                    [.int(p.trainRows), .string(p.fit.description), ReportValue(p.recallMapped), ReportValue(p.shareOfReembedding),
                     p.failure.map { .string($0) } ?? .null]
                }))
        }
        return tables
    }

    func adapterCharts() -> [ReportChart] {
        guard !curve.isEmpty else { return [] }
        var order: [String] = []
        for p in curve where !order.contains(p.fit.description) { order.append(p.fit.description) }
        let series = order.map { name in
            ReportChart.Series(name: name, points: curve.filter { $0.fit.description == name && !$0.shareOfReembedding.isNaN }
                .map { ChartPoint(x: Double($0.trainRows), y: $0.shareOfReembedding) })
        }
        return [ReportChart(name: "fit_curve", title: "How many paired rows do I need?", kind: .line,
                            xLabel: "paired training rows", yLabel: "recall@\(shareK) as a share of re-embedding", series: series,
                            caption: "Held-out rows only. 1 = the mapped NEW queries find as much in the OLD index as re-embedding the index with NEW would (Vejendla 2025 report 0.95–0.99).")]
    }

    func adapterNotes() -> [String] {
        var notes: [String] = []
        if let t = map.adapter?.training {
            notes.append("Adapter \(map.fit) trained by full-batch Adam (learning rate \(ReportFormatting.number(t.settings.learningRate))) on \(t.fitRows) rows, early stopping on \(t.validationRows) other training rows (patience \(t.settings.patience)): kept step \(t.bestStep) of \(t.steps)\(t.stoppedEarly ? "" : ", the step cap: the validation loss was still falling").")
        }
        if !candidates.isEmpty {
            let failed = candidates.filter { $0.map == nil }.map { $0.fit.description }
            notes.append("--fit auto fitted \(candidates.count) families on the same rows and kept \(map.fit) (highest validation MRR)\(failed.isEmpty ? "" : "; could not fit: \(failed.joined(separator: ", "))"). Every family's held-out numbers are in the mapping_families table.")
        }
        if reembedded != nil, shareOfReembedding == nil {
            notes.append("Share of re-embedding undefined: re-embedded recall@\(shareK) is 0 on the held-out rows.")
        }
        return notes
    }
}
