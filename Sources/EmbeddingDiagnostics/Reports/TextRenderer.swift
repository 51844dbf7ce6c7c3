import Foundation

/// Aligned plain text for people (stdout, report.txt).
public enum TextRenderer {
    public static func render(_ report: Report) -> String {
        var out = ""
        out += report.title + "\n" + String(repeating: "=", count: report.title.count) + "\n"
        out += verdict(report)
        for s in report.inputs {
            out += "input: \(s.path) (\(s.format.rawValue), \(s.dtype), \(s.rows) × \(s.dim)"
            if let k = s.key { out += ", key \(k)" }
            out += ")\n"
        }
        if !report.parameters.isEmpty {
            out += "parameters: " + report.parameters.map { "\($0.key)=\(ReportFormatting.text($0.value))" }.joined(separator: " ") + "\n"
        }
        if !report.metrics.isEmpty {
            out += "\n"
            let width = report.metrics.map { $0.label.count }.max() ?? 0
            let texts = report.metrics.map { ReportFormatting.text($0.value) }
            // Values aligned in one column; very long values (checksums) do not widen it.
            let valueWidth = min(16, texts.map(\.count).max() ?? 0)
            for (m, v) in zip(report.metrics, texts) {
                out += "  " + m.label.padding(toLength: width, withPad: " ", startingAt: 0) + "  "
                let pad = String(repeating: " ", count: max(0, valueWidth - v.count))
                out += (m.value.number != nil ? pad + v : v + pad) + "  [\(m.key)]\n"
            }
        }
        for t in report.tables {
            out += "\n" + table(t)
        }
        if !report.notes.isEmpty {
            out += "\nNotes:\n"
            for n in report.notes { out += "  - \(n)\n" }
        }
        out += "\nembdiag \(report.toolVersion), \(report.analyzer), \(ReportFormatting.number(report.elapsedSeconds, significant: 3)) s\n"
        return out
    }

    /// The verdict block: question, answer, deciding metrics, gates (empty when there is no verdict
    /// and no gate).
    public static func verdict(_ report: Report) -> String {
        var out = ""
        if let v = report.verdict {
            out += "\n\(v.question)\n" + wrapped(v.answer, indent: "  ", width: 100)
            let deciding = report.verdictMetrics
            let width = deciding.map { $0.label.count }.max() ?? 0
            for m in deciding {
                out += "    " + m.label.padding(toLength: width, withPad: " ", startingAt: 0) + "  " + ReportFormatting.text(m.value) + "  [\(m.key)]\n"
            }
        }
        let gates = report.gateRows
        if !gates.isEmpty {
            out += report.verdict == nil ? "\n" : ""
            out += "  gates: " + gates.map { r in "\(ReportFormatting.text(r[0])) → \(ReportFormatting.text(r[2]))" }.joined(separator: "; ") + "\n"
        }
        return out.isEmpty ? "" : out + "\n"
    }

    /// Words of `text` in lines of at most `width` columns, each starting with `indent`.
    static func wrapped(_ text: String, indent: String, width: Int) -> String {
        var lines: [String] = [], line = indent
        for word in text.split(separator: " ") {
            if line.count > indent.count && line.count + 1 + word.count > width { lines.append(line); line = indent }
            line += (line.count > indent.count ? " " : "") + word
        }
        lines.append(line)
        return lines.joined(separator: "\n") + "\n"
    }

    /// One table, columns aligned (numbers right, text left), long text cut at 60 characters.
    public static func table(_ t: ReportTable) -> String {
        let shown = t.textRowLimit.map { Array(t.rows.prefix($0)) } ?? t.rows
        var cells = [t.columns]
        for r in shown {
            cells.append(r.map { v in
                let s = ReportFormatting.text(v).replacingOccurrences(of: "\n", with: " ")
                return s.count > 60 ? String(s.prefix(57)) + "..." : s
            })
        }
        let numeric = t.columns.indices.map { c in
            shown.allSatisfy { row in
                guard c < row.count else { return true }
                switch row[c] { case .int, .double, .null: return true; default: return false }
            }
        }
        let widths = t.columns.indices.map { c in cells.map { c < $0.count ? $0[c].count : 0 }.max() ?? 0 }
        var out = t.title + "\n"
        for (i, row) in cells.enumerated() {
            var line = " "
            for c in t.columns.indices {
                let s = c < row.count ? row[c] : ""
                let pad = String(repeating: " ", count: max(0, widths[c] - s.count))
                line += " " + (numeric[c] && i > 0 ? pad + s : s + pad)
            }
            while line.hasSuffix(" ") { line.removeLast() }
            out += line + "\n"
            if i == 0 { out += "  " + widths.map { String(repeating: "-", count: $0) }.joined(separator: " ") + "\n" }
        }
        if shown.count < t.rows.count {
            out += "  (\(t.rows.count - shown.count) more rows in \(t.name).csv)\n"
        }
        return out
    }
}
