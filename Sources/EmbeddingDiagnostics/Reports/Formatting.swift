import Foundation

/// Number formatting shared by the renderers.
public enum ReportFormatting {
    /// Text for people: integers as is, reals with 6 significant digits (scientific when tiny/huge).
    public static func text(_ v: ReportValue) -> String {
        switch v {
        case .int(let i): return String(i)
        case .double(let d): return number(d)
        case .string(let s): return s
        case .bool(let b): return b ? "yes" : "no"
        case .null: return "—"
        }
    }

    public static func number(_ d: Double, significant: Int = 6) -> String {
        if d.isNaN { return "nan" }
        if d.isInfinite { return d > 0 ? "inf" : "-inf" }
        if d == 0 { return "0" }
        let a = abs(d)
        if a >= 1e-4 && a < 1e7 {
            let decimals = max(0, significant - 1 - Int(floor(log10(a))))
            var s = String(format: "%.\(decimals)f", d)
            if s.contains(".") {
                while s.hasSuffix("0") { s.removeLast() }
                if s.hasSuffix(".") { s.removeLast() }
            }
            return s
        }
        return String(format: "%.\(significant - 1)e", d)
    }

    /// Machine-readable text (CSV): full precision, shortest round-trip representation.
    public static func plain(_ v: ReportValue) -> String {
        switch v {
        case .int(let i): return String(i)
        case .double(let d): return d.isNaN ? "nan" : (d.isInfinite ? (d > 0 ? "inf" : "-inf") : "\(d)")
        case .string(let s): return s
        case .bool(let b): return b ? "true" : "false"
        case .null: return ""
        }
    }
}
