import Foundation

/// Draws a `ReportChart` as a self-contained inline SVG (no scripts, no external resources).
public enum SVGChart {
    static let palette = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf"]

    public static func render(_ chart: ReportChart, width: Double = 640, height: Double = 340) -> String {
        if chart.kind == .map, let map = chart.map { return SVGMap.render(chart, map, width: width) }
        let points = chart.series.flatMap(\.points)
        guard !points.isEmpty else { return "<p class=\"empty\">(no data for \(escape(chart.title)))</p>" }
        if chart.kind == .bar { return renderBars(chart, width: width) }
        let left = 64.0, right = 16.0, top = 28.0, bottom = 46.0
        let plotW = width - left - right, plotH = height - top - bottom
        let ys = points.map(\.y).filter { $0.isFinite && (!chart.logY || $0 > 0) }
        let xs = points.map(\.x).filter(\.isFinite)
        guard let x0 = xs.min(), let x1 = xs.max(), var y0 = ys.min(), var y1 = ys.max() else {
            return "<p class=\"empty\">(no finite data for \(escape(chart.title)))</p>"
        }
        if chart.kind == .histogram && !chart.logY { y0 = min(0, y0) }
        if chart.logY { y0 = log10(y0); y1 = log10(y1) }
        if y1 == y0 { y1 = y0 + 1; y0 -= chart.logY ? 1 : 0 }
        var xr0 = x0, xr1 = x1
        if chart.kind == .histogram, chart.series.first.map({ $0.points.count > 1 }) == true {
            let s = chart.series[0].points.map(\.x).sorted()
            let w = (s[1] - s[0]) / 2
            xr0 -= w; xr1 += w
        }
        if xr1 == xr0 { xr1 = xr0 + 1 }
        let yPad = (y1 - y0) * 0.05
        let ya = chart.kind == .histogram && !chart.logY ? y0 : y0 - yPad, yb = y1 + yPad
        func sx(_ x: Double) -> Double { left + (x - xr0) / (xr1 - xr0) * plotW }
        func sy(_ y: Double) -> Double {
            let v = chart.logY ? log10(max(y, 1e-300)) : y
            return top + plotH - (v - ya) / (yb - ya) * plotH
        }
        var svg = header(chart, width: width, height: height)
        // Axes and ticks.
        svg += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotW))\" height=\"\(f(plotH))\" fill=\"none\" stroke=\"#999\"/>"
        for t in ticks(xr0, xr1, count: 6) {
            svg += "<line x1=\"\(f(sx(t)))\" y1=\"\(f(top + plotH))\" x2=\"\(f(sx(t)))\" y2=\"\(f(top + plotH + 4))\" stroke=\"#666\"/>"
            svg += "<text x=\"\(f(sx(t)))\" y=\"\(f(top + plotH + 16))\" text-anchor=\"middle\" class=\"tick\">\(tickLabel(t))</text>"
        }
        let yTicks = chart.logY ? logTicks(ya, yb) : ticks(ya, yb, count: 5)
        for t in yTicks {
            let yy = chart.logY ? pow(10, t) : t
            svg += "<line x1=\"\(f(left - 4))\" y1=\"\(f(sy(yy)))\" x2=\"\(f(left + plotW))\" y2=\"\(f(sy(yy)))\" stroke=\"#eee\"/>"
            svg += "<text x=\"\(f(left - 6))\" y=\"\(f(sy(yy) + 4))\" text-anchor=\"end\" class=\"tick\">\(tickLabel(yy))</text>"
        }
        svg += "<text x=\"\(f(left + plotW / 2))\" y=\"\(f(height - 8))\" text-anchor=\"middle\" class=\"axis\">\(escape(chart.xLabel))</text>"
        svg += "<text transform=\"translate(14,\(f(top + plotH / 2))) rotate(-90)\" text-anchor=\"middle\" class=\"axis\">\(escape(chart.yLabel))\(chart.logY ? " (log)" : "")</text>"
        for (si, series) in chart.series.enumerated() {
            let color = palette[si % palette.count]
            let pts = series.points.filter { $0.x.isFinite && $0.y.isFinite && (!chart.logY || $0.y > 0) }
            switch chart.kind {
            case .line:
                let path = pts.map { "\(f(sx($0.x))),\(f(sy($0.y)))" }.joined(separator: " ")
                svg += "<polyline class=\"series\" points=\"\(path)\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"1.8\"/>"
                if pts.count <= 30 {
                    for p in pts { svg += "<circle cx=\"\(f(sx(p.x)))\" cy=\"\(f(sy(p.y)))\" r=\"2.5\" fill=\"\(color)\"><title>\(escape(series.name)): \(tickLabel(p.x)), \(tickLabel(p.y))</title></circle>" }
                }
            case .scatter:
                for p in pts { svg += "<circle class=\"series\" cx=\"\(f(sx(p.x)))\" cy=\"\(f(sy(p.y)))\" r=\"2\" fill=\"\(color)\" fill-opacity=\"0.6\"/>" }
            case .histogram:
                let sorted = pts.map(\.x).sorted()
                let w = sorted.count > 1 ? (sorted[1] - sorted[0]) : 1
                for p in pts {
                    let xa = sx(p.x - w / 2), xb = sx(p.x + w / 2)
                    let yTop = sy(p.y), yBase = chart.logY ? top + plotH : sy(0)
                    svg += "<rect class=\"series\" x=\"\(f(xa))\" y=\"\(f(min(yTop, yBase)))\" width=\"\(f(max(0.5, xb - xa)))\" height=\"\(f(abs(yBase - yTop)))\" fill=\"\(color)\" fill-opacity=\"0.45\" stroke=\"\(color)\" stroke-width=\"0.5\"/>"
                }
            case .bar, .map:
                break
            }
        }
        svg += legend(chart, x: left + 8, y: top + 8)
        return svg + "</svg>" + caption(chart)
    }

    /// Horizontal bars with category labels (e.g. words and their projections), grouped by series;
    /// diverging around zero when values are negative.
    static func renderBars(_ chart: ReportChart, width: Double) -> String {
        let labels = orderedLabels(chart)
        let groups = Double(max(1, chart.series.count))
        let barH = 12.0, rowH = barH * groups + 6
        let left = 150.0, right = 60.0, top = 28.0, bottom = 40.0
        let height = top + bottom + rowH * Double(labels.count)
        let values = chart.series.flatMap { $0.points.map(\.y) }.filter(\.isFinite)
        let lo = min(0, values.min() ?? 0), hi = max(0, values.max() ?? 1)
        let span = hi - lo == 0 ? 1 : hi - lo
        let plotW = width - left - right
        func sx(_ v: Double) -> Double { left + (v - lo) / span * plotW }
        var svg = header(chart, width: width, height: height)
        svg += "<line x1=\"\(f(sx(0)))\" y1=\"\(f(top))\" x2=\"\(f(sx(0)))\" y2=\"\(f(height - bottom))\" stroke=\"#666\"/>"
        for t in ticks(lo, hi, count: 5) {
            svg += "<text x=\"\(f(sx(t)))\" y=\"\(f(height - bottom + 14))\" text-anchor=\"middle\" class=\"tick\">\(tickLabel(t))</text>"
        }
        svg += "<text x=\"\(f(left + plotW / 2))\" y=\"\(f(height - 8))\" text-anchor=\"middle\" class=\"axis\">\(escape(chart.yLabel))</text>"
        for (li, label) in labels.enumerated() {
            let y = top + Double(li) * rowH
            svg += "<text x=\"\(f(left - 6))\" y=\"\(f(y + rowH / 2 + 4))\" text-anchor=\"end\" class=\"tick\">\(escape(String(label.prefix(24))))</text>"
            for (si, series) in chart.series.enumerated() {
                guard let p = series.points.first(where: { ($0.label ?? tickLabel($0.x)) == label }), p.y.isFinite else { continue }
                let x0 = sx(min(0, p.y)), x1 = sx(max(0, p.y))
                svg += "<rect class=\"series\" x=\"\(f(x0))\" y=\"\(f(y + 3 + Double(si) * barH))\" width=\"\(f(max(0.5, x1 - x0)))\" height=\"\(f(barH - 2))\" fill=\"\(palette[si % palette.count])\"><title>\(escape(series.name)) \(escape(label)): \(tickLabel(p.y))</title></rect>"
            }
        }
        svg += legend(chart, x: width - right - 120, y: top + 4)
        return svg + "</svg>" + caption(chart)
    }

    static func orderedLabels(_ chart: ReportChart) -> [String] {
        var seen = Set<String>(), out: [String] = []
        for s in chart.series { for p in s.points { let l = p.label ?? tickLabel(p.x); if seen.insert(l).inserted { out.append(l) } } }
        return out
    }

    static func header(_ chart: ReportChart, width: Double, height: Double) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" data-chart=\"\(escape(chart.name))\" viewBox=\"0 0 \(f(width)) \(f(height))\" width=\"\(f(width))\" height=\"\(f(height))\" role=\"img\" aria-label=\"\(escape(chart.title))\">"
            + "<text x=\"\(f(width / 2))\" y=\"16\" text-anchor=\"middle\" class=\"title\">\(escape(chart.title))</text>"
    }

    static func legend(_ chart: ReportChart, x: Double, y: Double) -> String {
        guard chart.series.count > 1 || !(chart.series.first?.name.isEmpty ?? true) else { return "" }
        var s = ""
        for (i, series) in chart.series.enumerated() {
            let yy = y + Double(i) * 14
            s += "<rect x=\"\(f(x))\" y=\"\(f(yy))\" width=\"10\" height=\"10\" fill=\"\(palette[i % palette.count])\"/>"
            s += "<text x=\"\(f(x + 14))\" y=\"\(f(yy + 9))\" class=\"legend\">\(escape(series.name))</text>"
        }
        return s
    }

    static func caption(_ chart: ReportChart) -> String {
        chart.caption.isEmpty ? "" : "<p class=\"caption\">\(escape(chart.caption))</p>"
    }

    /// "Nice" tick positions (1, 2, 5 × 10^k steps).
    static func ticks(_ a: Double, _ b: Double, count: Int) -> [Double] {
        guard b > a, a.isFinite, b.isFinite else { return [a] }
        let raw = (b - a) / Double(count)
        let mag = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * mag }.first { $0 >= raw } ?? 10 * mag
        var t = ceil(a / step) * step
        var out: [Double] = []
        while t <= b + step * 1e-9 { out.append(abs(t) < step * 1e-9 ? 0 : t); t += step }
        return out
    }

    static func logTicks(_ a: Double, _ b: Double) -> [Double] {
        let lo = Int(ceil(a)), hi = Int(floor(b))
        if hi < lo { return [a, b] }
        let stride = max(1, (hi - lo) / 6 + 1)
        return Swift.stride(from: lo, through: hi, by: stride).map(Double.init)
    }

    static func tickLabel(_ v: Double) -> String { ReportFormatting.number(v, significant: 3) }
    static func f(_ v: Double) -> String { String(format: "%.1f", v) }
    static func escape(_ s: String) -> String { HTMLRenderer.escape(s) }
}
