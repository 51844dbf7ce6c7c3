import Foundation

extension CompatibilityAnalysis {
    /// Can NEW's queries search OLD's index (Shen et al.'s criterion on recall@1, whatever `--k`
    /// asked for), and at what cost.
    var verdict: ReportVerdict {
        let text = ReportVerdict.text
        let question = "Can the NEW model's queries search the OLD index without re-embedding it?"
        var keys = ["recall_at_1_cross", "recall_at_1_old", "compatibility_margin", "negative_flip_rate"]
        var answer: String
        if let cross = cross?.recallAtOne.reportedNumber, let old = old.recallAtOne.reportedNumber, let margin = margin?.reportedNumber {
            answer = (compatible ?? (margin > 0))
                ? "Yes: cross-model recall@1 is \(text(cross)), above OLD's own \(text(old)) (margin \(text(margin)))."
                : (noWorse ?? (margin >= 0))
                ? "Not by Shen et al.'s strict criterion, but no worse: cross-model recall@1 is \(text(cross)) against OLD's own \(text(old)) (margin \(text(margin)))."
                : "No: cross-model recall@1 is \(text(cross)) against OLD's own \(text(old)) (margin \(text(margin))); \(text((flipsCross?.rate.reportedNumber ?? 0) * 100))% of queries OLD answered correctly are lost."
        } else {
            answer = "Not directly: the two models' dimensions differ, so NEW's queries cannot search OLD's index without a fitted map (--fit)."
            keys = ["recall_at_1_old", "recall_at_1_new", "negative_flip_rate_new"]
        }
        if let m = mapping, let mapped = m.mapped.recallAtOne.reportedNumber {
            let state = m.compatible ? "compatible" : m.noWorse(tolerance: configuration.noWorseTolerance) ? "no worse, not better" : "still not compatible"
            answer += " With the fitted map: held-out recall@1 \(text(mapped)) (\(state))."
            keys.append("recall_at_1_mapped")
        }
        // One carried threshold has an unsuffixed metric the sentence can point to; several are in
        // the thresholds table.
        if let thresholds = agreement?.thresholds, thresholds.count == 1, let q = thresholds[0].quantileMatched?.reportedNumber {
            answer += " A similarity cut-off carries over as \(text(q))."
            keys.append("threshold_quantile_matched")
        }
        return ReportVerdict(question: question, answer: answer, decidingMetrics: keys)
    }
}
