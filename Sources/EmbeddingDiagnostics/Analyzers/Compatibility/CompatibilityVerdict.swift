import Foundation

extension CompatibilityAnalysis {
    /// Can NEW's queries search OLD's index (Shen et al.'s criterion on recall@1, whatever `--k`
    /// asked for), and at what cost.
    var verdict: ReportVerdict {
        let text = ReportVerdict.text
        let question = Self.verdictQuestion
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
        if let m = mapping {
            // --fit unpaired: a map found without pairs is only as good as the shared rows say.
            let unpaired = m.unpaired != nil
            let atK = "recall_at_\(m.shareK)_mapped"
            if m.mapFound == false {
                answer += " No map better than chance could be found without pairs: held-out recall@\(m.shareK) \(text(m.mappedAtShareK?.reportedNumber)) is not clearly above no map or chance (\(text(m.chanceAtShareK.reportedNumber))). Embed a few hundred texts with both models and use --fit procrustes."
                keys += ["map_found", atK]
            } else if let mapped = m.mapped.recallAtOne.reportedNumber {
                let state = m.compatible ? "compatible" : m.noWorse(tolerance: configuration.noWorseTolerance) ? "no worse, not better" : "still not compatible"
                let which = unpaired
                    ? "the map found without pairs (map_found: held-out recall@\(m.shareK) \(text(m.mappedAtShareK?.reportedNumber)) against \(text(m.chanceAtShareK.reportedNumber)) by chance)"
                    : "the fitted map"
                answer += " With \(which): held-out recall@1 \(text(mapped)) (\(state))."
                keys.append("recall_at_1_mapped")
                if unpaired { keys.append("map_found") }
            }
        }
        // One carried threshold has an unsuffixed metric the sentence can point to; several are in
        // the thresholds table.
        if let thresholds = agreement?.thresholds, thresholds.count == 1, let q = thresholds[0].quantileMatched?.reportedNumber {
            answer += " A similarity cut-off carries over as \(text(q))."
            keys.append("threshold_quantile_matched")
        }
        return ReportVerdict(question: question, answer: answer, decidingMetrics: keys)
    }

    static let verdictQuestion = "Can the NEW model's queries search the OLD index without re-embedding it?"
}

extension UnpairedAlignment {
    /// `--fit unpaired` without shared rows: nothing can say whether the map works.
    var unjudgedVerdict: ReportVerdict {
        ReportVerdict(question: CompatibilityAnalysis.verdictQuestion,
                      answer: "Cannot be judged: OLD and NEW share no rows, so the map found without pairs could not be checked (compatible_mapped is null; alignment_criterion \(ReportVerdict.text(criterion.reportedNumber)) only ranks restarts). Embed a few hundred texts with both models: pass their ids to judge this map (--pair-by label), or use them with --fit procrustes.",
                      decidingMetrics: ["shared_rows", "alignment_criterion", "map_found"])
    }
}
