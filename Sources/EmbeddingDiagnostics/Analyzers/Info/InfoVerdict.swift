import Foundation

extension EmbeddingSummary {
    /// Is every row usable (finite, non-zero)?
    var verdict: ReportVerdict {
        let v = validation
        let bad = v.nullRows.count + v.nanRows.count + v.infinityRows.count + v.zeroRows.count
        return ReportVerdict(question: "Is every row a usable embedding?",
                             answer: bad == 0 ? "Yes: \(source.rows) rows, none missing (null), NaN, infinite or all-zero."
                                              : "No: \(bad) of \(source.rows) rows are missing (null), NaN, infinite or all-zero (--on-invalid drop removes them).",
                             decidingMetrics: ["rows", "dim", "null_rows", "nan_rows", "inf_rows", "zero_rows"])
    }
}
