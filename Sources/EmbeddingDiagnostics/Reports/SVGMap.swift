import Foundation

/// Draws a map chart (`MapLayers`) as inline SVG: grey density cells, coloured points with hover
/// titles, labelled centres, a colour key. Coordinates are written with one decimal (0.1 px), so
/// float noise of the projection (≤ 1e-6 relative) does not change the bytes unless a coordinate
/// lies within that noise of a rounding boundary.
enum SVGMap {
    static func render(_ chart: ReportChart, _ map: MapLayers, width: Double = 640, height: Double = 480) -> String {
        let left = 20.0, right = 20.0, top = 28.0, bottom = 52.0
        let plotW = width - left - right, plotH = height - top - bottom
        let x0 = map.xRange.lowerBound, x1 = map.xRange.upperBound, y0 = map.yRange.lowerBound, y1 = map.yRange.upperBound
        let spanX = x1 > x0 ? x1 - x0 : 1, spanY = y1 > y0 ? y1 - y0 : 1
        func sx(_ x: Double) -> Double { left + (x - x0) / spanX * plotW }
        func sy(_ y: Double) -> Double { top + plotH - (y - y0) / spanY * plotH }
        let f = SVGChart.f, escape = SVGChart.escape
        var svg = SVGChart.header(chart, width: width, height: height)
        svg += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotW))\" height=\"\(f(plotH))\" fill=\"none\" stroke=\"#999\"/>"
        // Density: grey cells, opacity ∝ √(count / max) so sparse regions stay visible.
        let peak = Double(map.density.max() ?? 0)
        if peak > 0 {
            let cw = plotW / Double(map.gridColumns), ch = plotH / Double(map.gridRows)
            svg += "<g class=\"density\">"
            for r in 0..<map.gridRows {
                for c in 0..<map.gridColumns {
                    let v = map.density[r * map.gridColumns + c]
                    guard v > 0 else { continue }
                    let opacity = 0.08 + 0.6 * (Double(v) / peak).squareRoot()
                    svg += "<rect x=\"\(f(left + Double(c) * cw))\" y=\"\(f(top + plotH - Double(r + 1) * ch))\" width=\"\(f(cw))\" height=\"\(f(ch))\" fill=\"#555\" fill-opacity=\"\(String(format: "%.2f", opacity))\"><title>\(escape(map.densityName)): \(v) rows</title></rect>"
                }
            }
            svg += "</g>"
        }
        // Points: diverging blue (value < 0) – grey – red (value > 0), saturating at ±valueScale.
        let scale = map.valueScale > 0 && map.valueScale.isFinite ? map.valueScale : 1
        svg += "<g class=\"points\">"
        for p in map.points where p.x.isFinite && p.y.isFinite {
            let t = max(-1, min(1, p.value.isFinite ? p.value / scale : 0))
            svg += "<circle cx=\"\(f(sx(p.x)))\" cy=\"\(f(sy(p.y)))\" r=\"2.6\" fill=\"\(color(t))\" fill-opacity=\"0.85\"\(p.outlined ? " stroke=\"#000\" stroke-width=\"0.9\"" : "")><title>\(escape(p.title))</title></circle>"
        }
        svg += "</g>"
        // Centres: a cross and the name.
        for c in map.centres where c.x.isFinite && c.y.isFinite {
            let cx = sx(c.x), cy = sy(c.y)
            svg += "<path d=\"M\(f(cx - 5)),\(f(cy))h10M\(f(cx)),\(f(cy - 5))v10\" stroke=\"#000\" stroke-width=\"1.6\"/>"
            svg += "<text x=\"\(f(cx + 6))\" y=\"\(f(cy - 4))\" class=\"legend\" stroke=\"#fff\" stroke-width=\"3\" paint-order=\"stroke\">\(escape(c.label ?? ""))<title>\(escape(c.label ?? ""))</title></text>"
        }
        // Key.
        let ky = height - bottom + 16
        svg += "<rect x=\"\(f(left))\" y=\"\(f(ky - 9))\" width=\"10\" height=\"10\" fill=\"#555\" fill-opacity=\"0.5\"/>"
        svg += "<text x=\"\(f(left + 14))\" y=\"\(f(ky))\" class=\"legend\">\(escape(map.densityName)) (density)</text>"
        let kx = left + 250
        for (i, t) in [-1.0, -0.5, 0, 0.5, 1].enumerated() {
            svg += "<circle cx=\"\(f(kx + Double(i) * 14))\" cy=\"\(f(ky - 4))\" r=\"4\" fill=\"\(color(t))\"/>"
        }
        svg += "<text x=\"\(f(kx + 72))\" y=\"\(f(ky))\" class=\"legend\">\(escape(map.pointsName)): \(escape(map.valueName)) −\(SVGChart.tickLabel(scale)) … +\(SVGChart.tickLabel(scale))</text>"
        svg += "<text x=\"\(f(left + plotW / 2))\" y=\"\(f(height - 8))\" text-anchor=\"middle\" class=\"axis\">\(escape(chart.xLabel)); \(escape(chart.yLabel))</text>"
        return svg + "</svg>" + SVGChart.caption(chart)
    }

    /// Blue (t = −1) through light grey (0) to red (t = 1).
    static func color(_ t: Double) -> String {
        let (r0, g0, b0) = (0.85, 0.85, 0.85)
        let (r1, g1, b1) = t < 0 ? (0.12, 0.35, 0.75) : (0.80, 0.10, 0.12)
        let a = abs(t)
        func hex(_ v: Double) -> String { String(format: "%02x", Int((v * 255).rounded())) }
        return "#" + hex(r0 + (r1 - r0) * a) + hex(g0 + (g1 - g0) * a) + hex(b0 + (b1 - b0) * a)
    }
}
