import Foundation

/// The answer a report leads with: the question the analysis answers, the answer in one sentence,
/// and the few metrics that decide it. Renderers print it first, before the inputs and the long
/// metric table, followed by the gates when `--require` was given.
public struct ReportVerdict: Sendable, Equatable {
    /// E.g. "Can NEW's queries search OLD's index?"
    public internal(set) var question: String
    /// One sentence, e.g. "No: cross recall@1 is 0.019 below OLD's own (0.888 vs 0.908)."
    public internal(set) var answer: String
    /// Keys of the 3–5 metrics that decide the answer, in reading order (looked up in the report).
    public internal(set) var decidingMetrics: [String]

    public init(question: String, answer: String, decidingMetrics: [String]) {
        self.question = question
        self.answer = answer
        self.decidingMetrics = decidingMetrics
    }
}

extension Report {
    /// The deciding metrics of the verdict that exist in this report, in the verdict's order.
    public var verdictMetrics: [ReportMetric] {
        (verdict?.decidingMetrics ?? []).compactMap { key in metrics.first { $0.key == key } }
    }

    /// Requirement outcomes recorded by `record(_:)` (the `gates` table), as (requirement, actual, result).
    public var gateRows: [[ReportValue]] { table("gates")?.rows ?? [] }
}

extension ReportVerdict {
    /// "0.1234" with 3 significant digits, "—" for nil. Verdicts quote the numbers the report
    /// prints, so a value the report shows as null (`reportedNumber` nil) reads "—" here too.
    static func text(_ x: Double?) -> String { x.map { ReportFormatting.number($0, significant: 3) } ?? "—" }
}

extension Double {
    /// The value as a report shows it: nil for NaN (a report's null), the value otherwise.
    var reportedNumber: Double? { isNaN ? nil : self }
}
