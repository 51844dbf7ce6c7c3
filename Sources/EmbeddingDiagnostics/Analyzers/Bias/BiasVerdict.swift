import Foundation

extension BiasAnalysis {
    /// How strongly neutral words lie along the bias direction (DirectBias, WEAT) and what hard
    /// debias left. Nil when neither was computed.
    var verdict: ReportVerdict? {
        let text = ReportVerdict.text
        var parts: [String] = [], keys: [String] = []
        if let b = directBias?.value.reportedNumber {
            parts.append("DirectBias \(text(b)) (mean |cos| of the neutral words with the direction)")
            keys.append("direct_bias")
            if let after = directBias?.valueAfter?.reportedNumber { parts.append("\(text(after)) after hard debias"); keys.append("direct_bias_after") }
        }
        if let w = weat.first, let e = w.effectSize.reportedNumber {
            parts.append("WEAT effect size \(text(e)) (p = \(text(w.pValue.reportedNumber)))")
            keys += ["weat_effect_size", "weat_p_value"]
        }
        guard !parts.isEmpty else { return nil }
        keys.append("direction_cos_ends")
        return ReportVerdict(question: "How strongly do the neutral words align with the bias direction?",
                             answer: parts.joined(separator: "; ") + ".", decidingMetrics: keys)
    }
}
