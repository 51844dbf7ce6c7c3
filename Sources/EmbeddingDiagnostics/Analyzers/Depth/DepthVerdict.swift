import Foundation

extension DepthAnalysis {
    /// Is the other corpus distributed like the reference (first other corpus; the tests table
    /// has every corpus with multiplicity-corrected p-values)? Nil without a test.
    var verdict: ReportVerdict? {
        guard let test = tests.first, let p = test.pValue.reportedNumber else { return nil }
        let text = ReportVerdict.text
        let q = test.q.reportedNumber
        let found = crossDuplicates?.first.flatMap { $0.count > 0 ? $0 : nil }
        let copies = found?.count ?? 0, share = found?.otherShare.reportedNumber ?? 0
        let shared = "\(copies) of its rows (\(text(100 * share)) %) duplicate reference rows"
        // Repeated values (quantised data, d = 1) are shared by chance: a copy pairs rows one to one.
        let repeated = found?.repeatedValueMatches ?? 0
        // Each shared row is measured without the reference row it equals, as reference rows are
        // without themselves: copies sit exactly at their reference row's depth.
        let sharedReading = 2 * repeated >= copies
            ? " — repeated values that independent samples of data with few distinct rows share by chance; each is measured without one reference row equal to it, as reference rows are without themselves"
            : " (synthetic or copied data); each is measured without the reference row it copies, so copies cannot make it look closer, only dilute a difference — `embdiag shift` tests the independent rows"
        if copies > 0 && share >= 1 && 2 * repeated < copies {
            // Not a shift: the test assumes independent samples, and a copy is the opposite.
            let answer = "It is a copy of reference rows: every one of its rows duplicates a reference row. The depth test assumes independent samples, so its p-value (p = \(text(p))) says nothing about a shift; `embdiag shift` reports the copies and tests only the independent rows."
            return ReportVerdict(question: "Is the other corpus distributed like the reference (TTE depth rank-sum test)?", answer: answer,
                                 decidingMetrics: ["cross_duplicate_share", "cross_duplicates", "p_value", "q"])
        }
        var answer: String
        if p < 0.05 {
            answer = "It differs (p = \(text(p)) < 0.05): Q = \(text(q))"
            if let q, q < 0.5 { answer += ", its texts sit more at the periphery of the reference" }
            if let q, q > 0.5 { answer += ", its texts sit closer to the centre of the reference than the reference's own texts (too typical)" }
            answer += "."
            if copies > 0 { answer += " Note: \(shared)\(sharedReading)." }
        } else {
            answer = "No evidence that it differs (p = \(text(p)) ≥ 0.05). The depth test compares depth in the reference only: run `embdiag shift` for shifts it cannot see (too-typical or narrowed corpora)."
            if copies > 0 { answer += " Note: \(shared)\(sharedReading)." }
        }
        return ReportVerdict(question: "Is the other corpus distributed like the reference (TTE depth rank-sum test)?", answer: answer,
                             decidingMetrics: ["p_value", "q", "effect_size", "depth_mean_reference", "depth_mean_other", "cross_duplicate_share"])
    }
}
