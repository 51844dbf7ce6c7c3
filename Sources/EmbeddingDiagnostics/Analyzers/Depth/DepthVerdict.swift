import Foundation

extension ReportVerdict {
    /// depth: is the other corpus distributed like the reference (first other corpus; the tests
    /// table has every corpus with multiplicity-corrected p-values)?
    static func depth(_ value: (String) -> Double?) -> ReportVerdict? {
        guard let p = value("p_value") else { return nil }
        let q = value("q")
        let answer = p < 0.05
            ? "It differs (p = \(text(p)) < 0.05): Q = \(text(q))\((q ?? 0.5) < 0.5 ? ", its texts sit more at the periphery of the reference" : "")."
            : "No evidence that it differs (p = \(text(p)) ≥ 0.05). The depth test compares depth in the reference only: run `embdiag shift` for shifts it cannot see (too-typical or narrowed corpora)."
        return ReportVerdict(question: "Is the other corpus distributed like the reference (TTE depth rank-sum test)?", answer: answer,
                             decidingMetrics: ["p_value", "q", "effect_size", "depth_mean_reference", "depth_mean_other"])
    }
}
