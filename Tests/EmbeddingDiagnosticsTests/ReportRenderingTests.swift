import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// The shared renderers: every number of the report reaches text, JSON, CSV and HTML.
@Suite struct ReportRenderingTests {
    static let sample = Report(
        analyzer: "demo", title: "A <demo> & report",
        inputs: [Source(path: "a.npy", format: .npy, dtype: "float32", rows: 3, dim: 2, sha256: String(repeating: "ab", count: 32))],
        parameters: [ReportParameter("seed", 42), ReportParameter("distance", "cosine")],
        metrics: [ReportMetric("p_value", "p-value", 0.000123456789), ReportMetric("n", "rows", 3),
                  ReportMetric("missing", "missing value", .null), ReportMetric("ok", "passed", true)],
        tables: [ReportTable(name: "rows", title: "Rows", columns: ["row", "label", "depth"],
                             rows: [[0, "a,b \"quoted\"", 1.5], [1, "line\nbreak", 0.25], [2, "c", .null]], textRowLimit: 2, isPerRow: true)],
        charts: [ReportChart(name: "spectrum", title: "Spectrum", kind: .line, xLabel: "component", yLabel: "eigenvalue", logY: true,
                             series: [.init(name: "before", points: [ChartPoint(x: 1, y: 10), ChartPoint(x: 2, y: 1), ChartPoint(x: 3, y: 0.1)])]),
                 ReportChart(name: "bars", title: "Projections", kind: .bar, xLabel: "", yLabel: "projection",
                             series: [.init(name: "before", points: [ChartPoint(x: 0, y: -0.3, label: "he"), ChartPoint(x: 1, y: 0.4, label: "she")]),
                                      .init(name: "after", points: [ChartPoint(x: 0, y: 0, label: "he"), ChartPoint(x: 1, y: 0, label: "she")])]),
                 ReportChart(name: "hist", title: "Depths", kind: .histogram, xLabel: "depth", yLabel: "rows",
                             series: [.init(name: "reference", points: [ChartPoint(x: 0.1, y: 3), ChartPoint(x: 0.2, y: 5)])])],
        notes: ["a note"], elapsedSeconds: 1.25)

    @Test func textShowsMetricsAlignedAndLimitsTables() {
        let text = TextRenderer.render(Self.sample)
        #expect(text.contains("0.000123457  [p_value]"))
        // The CSV exists only with --output DIR: without it the cut table says how to get it.
        #expect(text.contains("(1 more rows; --output DIR writes every row to rows.csv)"))
        #expect(TextRenderer.render(Self.sample, csvWritten: true).contains("(1 more rows in rows.csv)"))
        #expect(text.contains("input: a.npy (npy, float32, 3 × 2)"))
        #expect(text.contains("seed=42"))
        #expect(!text.contains("line\nbreak"))
    }

    @Test func textTablesFitTheLineWidthAndEmptyTablesAreLeftOut() {
        // 12 numeric columns and two long text columns: narrowed text, then column groups.
        let columns = ["item", "description"] + (1...12).map { "metric_\($0)" }
        let rows: [[ReportValue]] = (0..<3).map { r in
            [.string("row-\(r)-" + String(repeating: "x", count: 40)), .string(String(repeating: "long text ", count: 10))]
                + (1...12).map { ReportValue(Double($0) * 1234.5678 + Double(r)) }
        }
        var report = Self.sample
        report.tables = [ReportTable(name: "wide", title: "Wide", columns: columns, rows: rows),
                         ReportTable(name: "empty", title: "Nothing here", columns: ["a"], rows: [])]
        let text = TextRenderer.render(report)
        let tableLines = text.components(separatedBy: "\n").drop { $0 != "Wide" }.prefix { !$0.hasPrefix("Notes") }
        #expect(tableLines.count > 5 && tableLines.allSatisfy { $0.count <= TextRenderer.lineWidth }, "\(tableLines.map(\.count))")
        #expect(text.contains("(continued)") && text.contains("metric_12") && text.contains("…"))
        #expect(!text.contains("Nothing here"))
        #expect(!HTMLRenderer.render(report).contains("Nothing here"))
        // The CSV keeps every column and whole cells.
        #expect(CSVRenderer.render(report.tables[0]).contains(String(repeating: "long text ", count: 10).trimmingCharacters(in: .whitespaces)))
    }

    @Test func csvQuotesAndKeepsFullPrecision() {
        let csv = CSVRenderer.render(Self.sample.tables[0])
        let lines = csv.components(separatedBy: "\n")
        #expect(lines[0] == "row,label,depth")
        #expect(lines[1] == "0,\"a,b \"\"quoted\"\"\",1.5")
        #expect(csv.contains("\"line\nbreak\""))
        #expect(CSVRenderer.render(ReportTable(name: "t", title: "", columns: ["x"], rows: [[ReportValue(0.1 + 0.2)]])).contains("0.30000000000000004"))
    }

    /// A carriage return (alone or in "\r\n", which is one Swift Character) is quoted like a line
    /// feed, so Python's csv module reads one record per row.
    @Test func csvQuotesCarriageReturns() {
        let table = ReportTable(name: "t", title: "", columns: ["key", "n"],
                                rows: [["x\r\ny", 1], ["a\rb", 2], ["line1\nline2", 3], ["tab\tsep", 4], ["q\"uo'te", 5]])
        let csv = CSVRenderer.render(table)
        #expect(csv.contains("\"x\r\ny\",1\n"))
        #expect(csv.contains("\"a\rb\",2\n"))
        #expect(csv.contains("\"line1\nline2\",3\n"))
        #expect(csv.contains("\ntab\tsep,4\n"))
        #expect(csv.contains("\"q\"\"uo'te\",5\n"))
    }

    /// CSV injection (OWASP): text cells a spreadsheet would evaluate get a leading "'"; plain
    /// numbers in text cells and computed numbers stay as they are.
    @Test func csvNeutralisesFormulasInTextCells() {
        let texts = ["=cmd|' /C calc'!A0", "+SUM(1)", "-2+3", "@x", "\t=1", "=1", "-", "+", "-e5", "--1", "1-2"]
        let expected = ["'=cmd|' /C calc'!A0", "'+SUM(1)", "'-2+3", "'@x", "'\t=1", "'=1", "'-", "'+", "'-e5", "'--1", "1-2"]
        for (t, e) in zip(texts, expected) {
            #expect(CSVRenderer.neutralizingFormula(t) == e, "\(t)")
        }
        for plain in ["-3", "+0.5", "-1.25e-7", "-.5", "12"] { #expect(CSVRenderer.neutralizingFormula(plain) == plain) }
        let table = ReportTable(name: "t", title: "", columns: ["label", "value"],
                                rows: [["=HYPERLINK(\"http://x\")", -1.5], ["@SUM(A1)", .int(-3)]])
        let lines = CSVRenderer.render(table).components(separatedBy: "\n")
        #expect(lines[1] == "\"'=HYPERLINK(\"\"http://x\"\")\",-1.5")
        #expect(lines[2] == "'@SUM(A1),-3")
    }

    @Test func jsonIsValidAndFollowsTheEnvelope() throws {
        let json = JSONRenderer.render(Self.sample, tables: .all)
        let o = try JSONSerialization.jsonObject(with: Data(json.utf8)) as! [String: Any]
        #expect(o["tool"] as? String == "embdiag")
        #expect(o["analyzer"] as? String == "demo")
        let metrics = o["metrics"] as! [String: Any]
        #expect(metrics["p_value"] as? Double == 0.000123456789)
        #expect(metrics["missing"] is NSNull)
        #expect(metrics["ok"] as? Bool == true)
        let params = o["parameters"] as! [String: Any]
        #expect(params["seed"] as? Int == 42)
        let inputs = o["inputs"] as! [[String: Any]]
        #expect(inputs[0]["sha256"] as? String == String(repeating: "ab", count: 32))
        let rows = ((o["tables"] as! [String: Any])["rows"] as! [String: Any])["rows"] as! [[Any]]
        #expect(rows.count == 3 && rows[1][1] as? String == "line\nbreak")
        // Per-row tables are left out of the summary form; key order is stable.
        let summary = try JSONSerialization.jsonObject(with: Data(JSONRenderer.render(Self.sample).utf8)) as! [String: Any]
        #expect((summary["tables"] as! [String: Any]).isEmpty)
        #expect(json.range(of: "\"tool\"")!.lowerBound < json.range(of: "\"metrics\"")!.lowerBound)
        // NaN and infinities are not JSON: they become null.
        let nan = JSONRenderer.render(Report(analyzer: "x", title: "x", metrics: [ReportMetric("v", "v", .double(.infinity))]))
        #expect(nan.contains("\"v\": null"))
    }

    @Test func htmlIsSelfContainedWithEveryNumberAndChart() {
        let html = HTMLRenderer.render(Self.sample)
        #expect(html.hasPrefix("<!DOCTYPE html>"))
        #expect(!html.contains("<script"))
        // No network: the only URL is the SVG namespace.
        let urls = html.components(separatedBy: "http").count - 1
        let namespaces = html.components(separatedBy: "http://www.w3.org/2000/svg").count - 1
        #expect(urls == namespaces)
        #expect(html.contains("A &lt;demo&gt; &amp; report"))
        for m in Self.sample.metrics { #expect(html.contains(HTMLRenderer.escape(ReportFormatting.text(m.value)))) }
        for c in Self.sample.charts { #expect(html.contains("data-chart=\"\(c.name)\"")) }
        #expect(html.components(separatedBy: "<svg").count - 1 == 3)
        #expect(html.contains("line break") || html.contains("line\nbreak"))
        // Bars are drawn for both series and both words.
        let bars = SVGChart.render(Self.sample.charts[1])
        #expect(bars.components(separatedBy: "class=\"series\"").count - 1 == 4)
    }

    @Test func niceTicks() {
        #expect(SVGChart.ticks(0, 1, count: 5) == [0, 0.2, 0.4, 0.6000000000000001, 0.8, 1.0])
        #expect(SVGChart.ticks(3, 97, count: 5) == [20, 40, 60, 80])
    }

    @Test func numberFormatting() {
        #expect(ReportFormatting.number(0.000123456789) == "0.000123457")
        #expect(ReportFormatting.number(1234.5) == "1234.5")
        #expect(ReportFormatting.number(1e-9) == "1.00000e-09")
        #expect(ReportFormatting.number(.nan) == "nan")
        #expect(ReportFormatting.number(-2) == "-2")
    }

    @Test func everyFormatLeadsWithTheVerdictAndTheGates() throws {
        // A compat report whose NEW is OLD rotated: not compatible without a map (cross retrieval fails).
        var rng = SeededGenerator(seed: 5)
        let old = rng.gaussianMatrix(rows: 60, cols: 6)
        let new = BLAS.matmul(old, rng.orthogonalMatrix(6))
        var report = try CompatibilityAnalysis(CompatibilityInputs(old: Embeddings(matrix: old, name: "old"), new: Embeddings(matrix: new, name: "new"))).report()
        let verdict = try #require(report.verdict)
        #expect(verdict.question.contains("OLD index") && report.verdictMetrics.map(\.key).first == "recall_at_1_cross")
        report.record(try report.evaluate([try Requirement(parsing: "recall_at_1_old>=0.5")]))
        let text = TextRenderer.render(report)
        let lines = text.split(separator: "\n").map(String.init)
        // Title, underline, then the question and the answer before any input or metric line.
        #expect(lines[2] == verdict.question && lines[3].hasPrefix("  "))
        let firstInput = try #require(lines.firstIndex { $0.hasPrefix("input:") })
        let gates = try #require(lines.firstIndex { $0.contains("gates: ") && $0.contains("recall_at_1_old") && $0.hasSuffix("→ pass") })
        #expect(gates < firstInput)
        #expect(lines[2..<gates].allSatisfy { $0.count <= 100 || $0.contains("[") }, "the answer wraps at 100 columns")
        let html = HTMLRenderer.render(report)
        let box = try #require(html.range(of: "class=\"verdict\""))
        let inputs = try #require(html.range(of: "<h2>Inputs</h2>"))
        #expect(box.lowerBound < inputs.lowerBound)
        let json = try JSONSerialization.jsonObject(with: Data(JSONRenderer.render(report).utf8)) as! [String: Any]
        let v = try #require(json["verdict"] as? [String: Any])
        #expect(v["answer"] as? String == verdict.answer && (v["deciding_metrics"] as? [String])?.first == "recall_at_1_cross")
        // Every analyzer with a rule gives one; an unknown analyzer none.
        #expect(Report(analyzer: "unknown", title: "t").verdict == nil)
    }
}
