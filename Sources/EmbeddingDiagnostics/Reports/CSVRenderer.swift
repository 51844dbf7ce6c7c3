import Foundation

/// One CSV file per table (RFC 4180 quoting), full precision.
///
/// Text cells come from users' data (labels, window keys, cluster names), and spreadsheets run a
/// cell that starts with `=`, `+`, `-` or `@` as a formula (CSV injection). Such a text cell is
/// written with a leading `'`, as OWASP advises, unless it is a plain number ("-3", "+0.5"),
/// which a spreadsheet reads as that number. Numbers the report computes are never prefixed.
public enum CSVRenderer {
    public static func render(_ table: ReportTable) -> String {
        var out = table.columns.map(field).joined(separator: ",") + "\n"
        for r in table.rows {
            out += r.map { value in
                if case .string(let s) = value { return field(neutralizingFormula(s)) }
                return field(ReportFormatting.plain(value))
            }.joined(separator: ",") + "\n"
        }
        return out
    }

    /// Quoted when the text holds a comma, a quote, a line feed or a carriage return (tested per
    /// Unicode scalar: "\r\n" is one Swift Character, equal to neither "\r" nor "\n").
    static func field(_ s: String) -> String {
        if s.unicodeScalars.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return s
    }

    /// `s` with a leading `'` when a spreadsheet would read it as a formula: it starts with `=`,
    /// `+`, `-`, `@`, a tab or a carriage return and is not a plain decimal number.
    static func neutralizingFormula(_ s: String) -> String {
        guard let first = s.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) else { return s }
        if isPlainNumber(s) { return s }
        return "'" + s
    }

    /// An optional sign, digits with at most one decimal point, an optional exponent: nothing a
    /// spreadsheet could evaluate.
    static func isPlainNumber(_ s: String) -> Bool {
        var scalars = Substring(s).unicodeScalars[...]
        if let f = scalars.first, f == "+" || f == "-" { scalars = scalars.dropFirst() }
        var digits = 0, point = false
        while let c = scalars.first, c == "." || ("0"..."9").contains(c) {
            if c == "." { if point { return false }; point = true } else { digits += 1 }
            scalars = scalars.dropFirst()
        }
        guard digits > 0 else { return false }
        if let e = scalars.first, e == "e" || e == "E" {
            scalars = scalars.dropFirst()
            if let f = scalars.first, f == "+" || f == "-" { scalars = scalars.dropFirst() }
            var exponentDigits = 0
            while let c = scalars.first, ("0"..."9").contains(c) { exponentDigits += 1; scalars = scalars.dropFirst() }
            if exponentDigits == 0 { return false }
        }
        return scalars.isEmpty
    }
}
