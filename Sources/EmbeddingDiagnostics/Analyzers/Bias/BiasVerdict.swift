import Foundation

extension ReportVerdict {
    /// bias: how strongly neutral words lie along the bias direction (DirectBias, WEAT) and what
    /// hard debias left.
    static func bias(_ value: (String) -> Double?) -> ReportVerdict? {
        var parts: [String] = [], keys: [String] = []
        if let b = value("direct_bias") {
            parts.append("DirectBias \(text(b)) (mean |cos| of the neutral words with the direction)")
            keys.append("direct_bias")
            if let after = value("direct_bias_after") { parts.append("\(text(after)) after hard debias"); keys.append("direct_bias_after") }
        }
        if let e = value("weat_effect_size") {
            parts.append("WEAT effect size \(text(e)) (p = \(text(value("weat_p_value"))))")
            keys += ["weat_effect_size", "weat_p_value"]
        }
        guard !parts.isEmpty else { return nil }
        keys.append("direction_cos_ends")
        return ReportVerdict(question: "How strongly do the neutral words align with the bias direction?",
                             answer: parts.joined(separator: "; ") + ".", decidingMetrics: keys)
    }
}
