import Foundation

extension UnpairedAlignment {
    /// What the alignment itself reports, judged or not: the rows it used and its unsupervised
    /// criterion (a number to compare restarts with, never a verdict).
    func alignmentMetrics() -> [ReportMetric] {
        [
            ReportMetric("unpaired_rows_old", "OLD rows without a partner the map was found from", .int(rowsOld)),
            ReportMetric("unpaired_rows_new", "NEW rows without a partner the map was found from", .int(rowsNew)),
            ReportMetric("unpaired_held_back_old", "of those, OLD rows held back for the criterion", .int(heldBackOld)),
            ReportMetric("unpaired_held_back_new", "of those, NEW rows held back for the criterion", .int(heldBackNew)),
            ReportMetric("alignment_criterion", "mean CSLS of mutual nearest neighbours between held-back rows under the map (ranks restarts; not a retrieval rate)", ReportValue(criterion)),
            ReportMetric("alignment_criterion_pairs", "mutual nearest-neighbour pairs among the held-back rows", .int(restarts[kept].heldBackPairs)),
            ReportMetric("alignment_restarts", "seeded restarts (the best criterion kept)", .int(restarts.count)),
            ReportMetric("alignment_seconds_per_restart", "mean seconds per restart", ReportValue(restarts.map(\.seconds).reduce(0, +) / Double(max(1, restarts.count)))),
        ]
    }

    /// One row per restart: its criterion, pairs and time; the kept one marked.
    func restartsTable() -> ReportTable {
        ReportTable(name: "unpaired_restarts", title: "Restarts of --fit unpaired (kept: best criterion on held-back rows)",
                    columns: ["restart", "criterion", "held_back_pairs", "pseudo_pairs", "seconds", "kept"],
                    rows: restarts.map { r in
                        [.int(r.index), ReportValue(r.criterion), .int(r.heldBackPairs), .int(r.pseudoPairs), ReportValue(r.seconds), .bool(r.index == kept)]
                    })
    }

    func alignmentParameters() -> [ReportParameter] {
        [
            ReportParameter("unpaired_restarts", .int(settings.restarts)),
            ReportParameter("unpaired_rounds", .int(settings.rounds)),
            ReportParameter("unpaired_clusters", .int(settings.clusters)),
            ReportParameter("unpaired_held_back_fraction", .double(settings.heldBackFraction)),
            ReportParameter("unpaired_subspaces", .string((settings.subspaces.filter { $0 < map.inputDimension } + [map.inputDimension]).map(String.init).joined(separator: ","))),
        ]
    }

    /// How the map was found, in a sentence.
    func alignmentNote() -> String {
        "Map found without pairs (--fit unpaired) from \(rowsNew) NEW and \(rowsOld) OLD rows that have no partner: k-means anchors matched by their similarity structure, relative representations, then mutual nearest neighbours under CSLS and Procrustes in widening principal subspaces; \(restarts.count) seeded restart(s), the one with the best criterion on \(heldBackNew) + \(heldBackOld) held-back rows kept (alignment_criterion \(ReportFormatting.number(criterion, significant: 3)))."
    }

    /// The report when OLD and NEW share no row: the map exists but nothing can say whether it
    /// works, so `compatible_mapped` and `map_found` are null and the verdict says so.
    /// - Complexity: O(restarts).
    public func unjudgedReport(inputs: [Source], sharedRows: Int, seed: UInt64, notes extraNotes: [String] = []) -> Report {
        var metrics: [ReportMetric] = [
            ReportMetric("shared_rows", "rows embedded by both models (ids in both files) that could judge the map", .int(sharedRows)),
            ReportMetric("dim_old", "OLD dimension", .int(map.outputDimension)),
            ReportMetric("dim_new", "NEW dimension", .int(map.inputDimension)),
        ]
        metrics += alignmentMetrics()
        metrics.append(ReportMetric("map_found", "a map better than chance was found (needs shared rows to judge)", .null))
        metrics.append(ReportMetric("compatible_mapped", "compatible after mapping (needs shared rows to judge)", .null))
        var notes = extraNotes + [alignmentNote()]
        notes.append("The map cannot be judged: \(sharedRows == 0 ? "no row" : "only \(sharedRows) row") of OLD and NEW embeds the same text (ids in both files, --pair-by label), so no held-out retrieval was measured. alignment_criterion ranks this run's restarts; it does not say whether NEW's queries will find OLD's rows. On a real pair of small models the maps it found were at chance (Guides/Compatibility.md).")
        notes.append("To judge the map, embed a few hundred texts with both models and pass their ids (--pair-by label --old-ids --new-ids): shared ids judge, the other rows align. To get a map that works, use those texts with --fit procrustes.")
        let title = "Backward compatibility without pairs: \(URL(fileURLWithPath: inputs.count > 1 ? inputs[1].path : "NEW").lastPathComponent) vs \(URL(fileURLWithPath: inputs.first?.path ?? "OLD").lastPathComponent)"
        return Report(analyzer: "compat", title: title, inputs: inputs,
                      parameters: [ReportParameter("fit", .string("unpaired")), ReportParameter("seed", .int(Int(truncatingIfNeeded: seed)))] + alignmentParameters(),
                      metrics: metrics, tables: [restartsTable()], notes: notes, verdict: unjudgedVerdict)
    }
}

extension UnpairedAlignment {
    /// What a saved mapping's metadata records about how it was found (`--save-mapping`).
    /// - Complexity: O(1).
    public func savedMetadata() -> [String: Any] {
        ["unpaired_rows_old": rowsOld, "unpaired_rows_new": rowsNew, "alignment_criterion": criterion.isFinite ? criterion : NSNull(),
         "alignment_restarts": restarts.count, "alignment_kept_restart": kept]
    }
}
