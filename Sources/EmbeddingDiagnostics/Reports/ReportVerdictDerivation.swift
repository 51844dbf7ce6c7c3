import Foundation

extension ReportVerdict {
    /// The verdict of a report, derived from its metrics by the analyzer's own rule (each in
    /// `Analyzers/<Name>/<Name>Verdict.swift`); nil for analyzers without one. `Report.init` calls
    /// it, so every report — from the CLI or a Swift caller — leads with its answer.
    static func derived(from report: Report) -> ReportVerdict? {
        let value: (String) -> Double? = { key in report.metric(key)?.number }
        let flag: (String) -> Bool? = { key in if case .bool(let b)? = report.metric(key) { return b } else { return nil } }
        switch report.analyzer {
        case "compat": return compatibility(value, flag)
        case "depth": return depth(value)
        case "anisotropy": return anisotropy(value)
        case "bias": return bias(value)
        case "relrep": return relativeRepresentations(value)
        case "info": return info(value)
        case "neighbors": return neighbors(value)
        default: return nil
        }
    }

    /// "0.1234" with 3 significant digits, "—" for nil.
    static func text(_ x: Double?) -> String { x.map { ReportFormatting.number($0, significant: 3) } ?? "—" }
}
