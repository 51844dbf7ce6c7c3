import Foundation

extension ReportVerdict {
    /// compat: can NEW's queries search OLD's index (Shen et al.'s criterion), and at what cost.
    static func compatibility(_ value: (String) -> Double?, _ flag: (String) -> Bool?) -> ReportVerdict {
        let question = "Can the NEW model's queries search the OLD index without re-embedding it?"
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
        if let mapped = value("recall_at_1_mapped") {
            let ok = flag("compatible_mapped") ?? false, same = flag("no_worse_mapped") ?? false
            answer += " With the fitted map: held-out recall@1 \(text(mapped)) (\(ok ? "compatible" : same ? "no worse, not better" : "still not compatible"))."
            keys.append("recall_at_1_mapped")
        }
        if let q = value("threshold_quantile_matched") {
            answer += " A similarity cut-off carries over as \(text(q))."
            keys.append("threshold_quantile_matched")
        }
        return ReportVerdict(question: question, answer: answer, decidingMetrics: keys)
    }
}
