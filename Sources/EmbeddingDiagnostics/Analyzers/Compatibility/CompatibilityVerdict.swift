import Foundation

extension ReportVerdict {
    /// compat: can NEW's queries search OLD's index (Shen et al.'s criterion), and at what cost.
    static func compatibility(_ value: (String) -> Double?, _ flag: (String) -> Bool?) -> ReportVerdict {
        let question = "Can the NEW model's queries search the OLD index without re-embedding it?"
        // --fit unpaired: a map found without pairs is only as good as the shared rows say.
        let unpaired = value("alignment_criterion") != nil
        if unpaired && flag("map_found") == nil {
            return ReportVerdict(question: question,
                                 answer: "Cannot be judged: OLD and NEW share no rows, so the map found without pairs could not be checked (compatible_mapped is null; alignment_criterion \(text(value("alignment_criterion"))) only ranks restarts). Embed a few hundred texts with both models: pass their ids to judge this map (--pair-by label), or use them with --fit procrustes.",
                                 decidingMetrics: ["shared_rows", "alignment_criterion", "map_found"])
        }
        let cross = value("recall_at_1_cross"), old = value("recall_at_1_old"), margin = value("compatibility_margin")
        var keys = ["recall_at_1_cross", "recall_at_1_old", "compatibility_margin", "negative_flip_rate"]
        var answer: String
        if let cross, let old, let margin {
            let compatible = flag("compatible") ?? (margin > 0)
            let noWorse = flag("no_worse") ?? (margin >= 0)
            answer = compatible
                ? "Yes: cross-model recall@1 is \(text(cross)), above OLD's own \(text(old)) (margin \(text(margin)))."
                : noWorse
                ? "Not by Shen et al.'s strict criterion, but no worse: cross-model recall@1 is \(text(cross)) against OLD's own \(text(old)) (margin \(text(margin)))."
                : "No: cross-model recall@1 is \(text(cross)) against OLD's own \(text(old)) (margin \(text(margin))); \(text((value("negative_flip_rate") ?? 0) * 100))% of queries OLD answered correctly are lost."
        } else {
            answer = "Not directly: the two models' dimensions differ, so NEW's queries cannot search OLD's index without a fitted map (--fit)."
            keys = ["recall_at_1_old", "recall_at_1_new", "negative_flip_rate_new"]
        }
        if unpaired, flag("map_found") == false {
            answer += " No map better than chance could be found without pairs: held-out recall@10 \(text(value("recall_at_10_mapped"))) is not clearly above no map or chance (\(text(value("recall_at_10_chance_heldout")))). Embed a few hundred texts with both models and use --fit procrustes."
            keys += ["map_found", "recall_at_10_mapped"]
        } else if let mapped = value("recall_at_1_mapped") {
            let ok = flag("compatible_mapped") ?? false, same = flag("no_worse_mapped") ?? false
            let which = unpaired ? "the map found without pairs (map_found: held-out recall@10 \(text(value("recall_at_10_mapped"))) against \(text(value("recall_at_10_chance_heldout"))) by chance)" : "the fitted map"
            answer += " With \(which): held-out recall@1 \(text(mapped)) (\(ok ? "compatible" : same ? "no worse, not better" : "still not compatible"))."
            keys.append("recall_at_1_mapped")
            if unpaired { keys.append("map_found") }
        }
        if let q = value("threshold_quantile_matched") {
            answer += " A similarity cut-off carries over as \(text(q))."
            keys.append("threshold_quantile_matched")
        }
        return ReportVerdict(question: question, answer: answer, decidingMetrics: keys)
    }
}
