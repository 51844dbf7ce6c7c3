import Foundation

extension ReportVerdict {
    /// info: is every row usable (finite, non-zero)?
    static func info(_ value: (String) -> Double?) -> ReportVerdict? {
        guard let rows = value("rows") else { return nil }
        let bad = (value("null_rows") ?? 0) + (value("nan_rows") ?? 0) + (value("inf_rows") ?? 0) + (value("zero_rows") ?? 0)
        return ReportVerdict(question: "Is every row a usable embedding?",
                             answer: bad == 0 ? "Yes: \(Int(rows)) rows, none missing (null), NaN, infinite or all-zero."
                                              : "No: \(Int(bad)) of \(Int(rows)) rows are missing (null), NaN, infinite or all-zero (--on-invalid drop removes them).",
                             decidingMetrics: ["rows", "dim", "null_rows", "nan_rows", "inf_rows", "zero_rows"])
    }
}
