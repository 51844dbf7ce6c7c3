import Foundation

/// One self-contained HTML page per report: inline CSS and SVG charts, no scripts, no network;
/// readable on a laptop and printable. Every number of the text report is in it.
public enum HTMLRenderer {
    /// Rows of a table shown in the page (the CSV has them all).
    public static let tableRowLimit = 200

    /// - Parameter csvWritten: the tables are also CSV files next to the page (`--output DIR`).
    public static func render(_ report: Report, csvWritten: Bool = false) -> String {
        var h = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        h += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        h += "<meta name=\"generator\" content=\"embdiag \(escape(report.toolVersion))\">"
        h += "<title>\(escape(report.title))</title><style>\(css)</style></head><body>\n"
        h += "<header><h1>\(escape(report.title))</h1>"
        h += "<p class=\"meta\">embdiag \(escape(report.toolVersion)) · analyzer <code>\(escape(report.analyzer))</code> · \(ReportFormatting.number(report.elapsedSeconds, significant: 3)) s</p></header>\n"
        h += body(report, csvWritten: csvWritten)
        h += "</body></html>\n"
        return h
    }

    /// The report's sections without the page frame (the audit index embeds several).
    public static func body(_ report: Report, csvWritten: Bool = false) -> String {
        var h = ""
        if report.verdict != nil || !report.gateRows.isEmpty {
            h += "<section class=\"verdict\">"
            if let v = report.verdict {
                h += "<p class=\"question\">\(escape(v.question))</p><p class=\"answer\">\(escape(v.answer))</p>"
                let deciding = report.verdictMetrics
                if !deciding.isEmpty {
                    h += "<table class=\"metrics\"><tbody>"
                    for m in deciding {
                        h += "<tr><td>\(escape(m.label))</td><td class=\"num\">\(escape(ReportFormatting.text(m.value)))</td><td><code>\(escape(m.key))</code></td></tr>"
                    }
                    h += "</tbody></table>"
                }
            }
            let gates = report.gateRows
            if !gates.isEmpty {
                h += "<p class=\"gates\">" + gates.map { r in
                    let pass = ReportFormatting.text(r[2]) == "pass"
                    return "<span class=\"\(pass ? "pass" : "fail")\"><code>\(escape(ReportFormatting.text(r[0])))</code> \(pass ? "pass" : "FAIL")</span>"
                }.joined(separator: " ") + "</p>"
            }
            h += "</section>\n"
        }
        if !report.inputs.isEmpty {
            h += "<section><h2>Inputs</h2><table class=\"inputs\"><thead><tr><th>path</th><th>format</th><th>dtype</th><th class=\"num\">rows</th><th class=\"num\">dim</th><th>SHA-256</th></tr></thead><tbody>"
            for s in report.inputs {
                h += "<tr><td><code>\(escape(s.path))</code>\(s.key.map { " [\(escape($0))]" } ?? "")</td><td>\(escape(s.format.rawValue))</td><td>\(escape(s.dtype))</td>"
                h += "<td class=\"num\">\(s.rows)</td><td class=\"num\">\(s.dim)</td><td><code title=\"\(escape(s.sha256 ?? ""))\">\(escape(String((s.sha256 ?? "—").prefix(16))))</code></td></tr>"
            }
            h += "</tbody></table></section>\n"
        }
        if !report.parameters.isEmpty {
            h += "<section><h2>Parameters</h2><p class=\"params\">"
            h += report.parameters.map { "<code>\(escape($0.key))=\(escape(ReportFormatting.text($0.value)))</code>" }.joined(separator: " ")
            h += "</p></section>\n"
        }
        if !report.metrics.isEmpty {
            h += "<section><h2>Metrics</h2><table class=\"metrics\"><thead><tr><th>metric</th><th class=\"num\">value</th><th>key</th></tr></thead><tbody>"
            for m in report.metrics {
                h += "<tr><td>\(escape(m.label))</td><td class=\"num\">\(escape(ReportFormatting.text(m.value)))</td><td><code>\(escape(m.key))</code></td></tr>"
            }
            h += "</tbody></table></section>\n"
        }
        if !report.charts.isEmpty {
            h += "<section><h2>Charts</h2>"
            for c in report.charts { h += "<figure>\(SVGChart.render(c))</figure>" }
            h += "</section>\n"
        }
        for t in report.tables where !t.rows.isEmpty { h += table(t, csvWritten: csvWritten) }
        if !report.notes.isEmpty {
            h += "<section><h2>Notes</h2><ul>" + report.notes.map { "<li>\(escape($0))</li>" }.joined() + "</ul></section>\n"
        }
        return h
    }

    static func table(_ t: ReportTable, csvWritten: Bool) -> String {
        let shown = t.rows.prefix(tableRowLimit)
        var h = "<section><h2>\(escape(t.title))</h2><div class=\"scroll\"><table class=\"data\" data-table=\"\(escape(t.name))\"><thead><tr>"
        let numeric = t.columns.indices.map { c in shown.allSatisfy { r in c >= r.count || r[c].number != nil || r[c] == .null } }
        for (i, c) in t.columns.enumerated() { h += "<th\(numeric[i] ? " class=\"num\"" : "")>\(escape(c))</th>" }
        h += "</tr></thead><tbody>"
        for r in shown {
            h += "<tr>"
            for (i, v) in r.enumerated() { h += "<td\(i < numeric.count && numeric[i] ? " class=\"num\"" : "")>\(escape(ReportFormatting.text(v)))</td>" }
            h += "</tr>"
        }
        h += "</tbody></table></div>"
        if t.rows.count > shown.count {
            h += "<p class=\"more\">\(t.rows.count - shown.count) more rows " + (csvWritten ? "in <a href=\"\(escape(t.name)).csv\"><code>\(escape(t.name)).csv</code></a>"
                : "(<code>--output DIR</code> writes every row to <code>\(escape(t.name)).csv</code>)") + "</p>"
        }
        return h + "</section>\n"
    }

    public static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.count)
        for c in s {
            switch c {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(c)
            }
        }
        return out
    }

    public static let css = """
    .verdict{border:1px solid #bcd;background:#f4f8fc;border-radius:6px;padding:.3rem 1rem;margin-top:1rem}.verdict .question{color:#555;margin:.4rem 0 0}.verdict .answer{font-size:1.1rem;font-weight:600;margin:.2rem 0 .4rem}
    .gates .pass{color:#176b2c;margin-right:1rem}.gates .fail{color:#b00020;font-weight:600;margin-right:1rem}
    body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:1040px;margin:1.5rem auto;padding:0 1rem;color:#222;line-height:1.4}
    h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.1rem;border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:1.6rem}
    .meta{color:#666;margin-top:0}table{border-collapse:collapse;font-size:.85rem;margin:.4rem 0}
    th,td{padding:.2rem .55rem;border-bottom:1px solid #eee;text-align:left;vertical-align:top}th{background:#f6f6f6}
    td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}code{font-size:.85em}
    figure{margin:.8rem 0}svg.chart{max-width:100%;height:auto;font-family:inherit}
    svg .title{font-size:13px;font-weight:600}svg .tick{font-size:10px;fill:#444}svg .axis{font-size:11px;fill:#222}svg .legend{font-size:11px}
    .scroll{overflow-x:auto;max-width:100%}
    .caption{font-size:.85rem;color:#444;margin:.2rem 0 0}.more{color:#666;font-size:.8rem}
    .pass{color:#176f2c;font-weight:600}.fail{color:#b00020;font-weight:600}
    @media print{body{max-width:none}section{break-inside:avoid}}
    """
}
