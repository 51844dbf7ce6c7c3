import Foundation

extension MultipleTesting {
    /// Holm's step-down adjustment (family-wise error rate): p₍ᵢ₎ · (m − i + 1), made monotone, capped at 1.
    public static func holmAdjusted(_ p: [Double]) -> [Double] {
        let m = p.count
        let order = p.indices.sorted { p[$0] < p[$1] }
        var adjusted = [Double](repeating: 0, count: m)
        var running = 0.0
        for (i, idx) in order.enumerated() {
            running = max(running, min(1, p[idx] * Double(m - i)))
            adjusted[idx] = running
        }
        return adjusted
    }

    /// Benjamini–Hochberg (false discovery rate), as `scipy.stats.false_discovery_control(p, method="bh")`:
    /// p₍ᵢ₎ · m / i, made monotone from the largest down, capped at 1.
    public static func benjaminiHochbergAdjusted(_ p: [Double]) -> [Double] {
        let m = p.count
        let order = p.indices.sorted { p[$0] < p[$1] }
        var adjusted = [Double](repeating: 0, count: m)
        var running = 1.0
        for i in stride(from: m - 1, through: 0, by: -1) {
            let idx = order[i]
            running = min(running, p[idx] * Double(m) / Double(i + 1))
            adjusted[idx] = min(1, running)
        }
        return adjusted
    }
}
