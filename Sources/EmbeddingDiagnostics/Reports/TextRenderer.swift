import Foundation

/// Aligned plain text for people (stdout, report.txt).
public enum TextRenderer {
    /// Width of the text report: tables wider than this are narrowed or split (the CSV keeps
    /// every column and the whole cell).
    public static let lineWidth = 100

    /// - Parameter csvWritten: whether the report's tables are also written as CSV files next to
    ///   it (`--output DIR`): a cut table then points to its CSV, otherwise to `--output`.
    public static func render(_ report: Report, csvWritten: Bool = false) -> String {
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
        for t in report.tables where !t.rows.isEmpty {
            out += "\n" + table(t, csvWritten: csvWritten)
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

    /// One table, columns aligned (numbers right, text left), long text cut at 60 characters and
    /// narrowed further (never below 16) when the table is wider than `lineWidth`; a table still
    /// too wide is printed in column groups, each repeating the first column.
    public static func table(_ t: ReportTable, csvWritten: Bool = false) -> String {
        let shown = t.textRowLimit.map { Array(t.rows.prefix($0)) } ?? t.rows
        let numeric = t.columns.indices.map { c in
            shown.allSatisfy { row in
                guard c < row.count else { return true }
                switch row[c] { case .int, .double, .null: return true; default: return false }
            }
        }
        let full = shown.map { r in r.map { ReportFormatting.text($0).replacingOccurrences(of: "\n", with: " ") } }
        func width(_ c: Int, cap: Int) -> Int {
            max(t.columns[c].count, full.map { c < $0.count ? min($0[c].count, cap) : 0 }.max() ?? 0)
        }
        // Text columns share what is left after the numeric ones; the widest shrink first.
        var caps = t.columns.indices.map { numeric[$0] ? Int.max : 60 }
        func total() -> Int { 2 + t.columns.indices.reduce(0) { $0 + 1 + width($1, cap: caps[$1]) } }
        while total() > lineWidth {
            // A column never shrinks below its header (nor 16): a header-wide column cannot shrink
            // further, and picking it again would loop forever.
            guard let c = t.columns.indices.filter({ !numeric[$0] && width($0, cap: caps[$0]) > max(16, t.columns[$0].count) })
                .max(by: { width($0, cap: caps[$0]) < width($1, cap: caps[$1]) }) else { break }
            caps[c] = max(16, t.columns[c].count, width(c, cap: caps[c]) - (total() - lineWidth))
        }
        func cell(_ s: String, _ cap: Int) -> String { s.count > cap ? String(s.prefix(max(1, cap - 1))) + "…" : s }
        let widths = t.columns.indices.map { width($0, cap: caps[$0]) }
        // Column groups that fit the line (the first column repeated as the row key).
        var groups: [[Int]] = []
        var current: [Int] = [], used = 2
        for c in t.columns.indices {
            let w = 1 + widths[c]
            if !current.isEmpty && used + w > lineWidth {
                groups.append(current)
                current = c == 0 ? [] : [0]
                used = 2 + (c == 0 ? 0 : 1 + widths[0])
            }
            current.append(c)
            used += w
        }
        if !current.isEmpty { groups.append(current) }

        var out = t.title + "\n"
        for (g, columns) in groups.enumerated() {
            if g > 0 { out += "  (continued)\n" }
            let header = columns.map { t.columns[$0] }
            for (i, row) in ([header] + full.map { r in columns.map { $0 < r.count ? cell(r[$0], caps[$0]) : "" } }).enumerated() {
                var line = " "
                for (p, c) in columns.enumerated() {
                    let s = i == 0 ? row[p] : row[p]
                    let pad = String(repeating: " ", count: max(0, widths[c] - s.count))
                    line += " " + (numeric[c] && i > 0 ? pad + s : s + pad)
                }
                while line.hasSuffix(" ") { line.removeLast() }
                out += line + "\n"
                if i == 0 { out += "  " + columns.map { String(repeating: "-", count: widths[$0]) }.joined(separator: " ") + "\n" }
            }
        }
        if shown.count < t.rows.count {
            out += csvWritten ? "  (\(t.rows.count - shown.count) more rows in \(t.name).csv)\n"
                : "  (\(t.rows.count - shown.count) more rows; --output DIR writes every row to \(t.name).csv)\n"
        }
        return out
    }
}
