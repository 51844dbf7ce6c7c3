import Foundation

/// Average ranks (1-based; ties get the mean of the ranks they span), as scipy.stats.rankdata's
/// default "average" method. Also returns the tie-group sizes for tie corrections.
public func averageRanks(_ values: [Double]) -> (ranks: [Double], tieGroupSizes: [Int]) {
    let n = values.count
    let order = (0..<n).sorted { values[$0] < values[$1] || (values[$0] == values[$1] && $0 < $1) }
    var ranks = [Double](repeating: 0, count: n)
    var ties: [Int] = []
    var i = 0
    while i < n {
        var j = i
        while j + 1 < n && values[order[j + 1]] == values[order[i]] { j += 1 }
        let r = Double(i + j) / 2 + 1
        for t in i...j { ranks[order[t]] = r }
        if j > i { ties.append(j - i + 1) }
        i = j + 1
    }
    return (ranks, ties)
}

/// Spearman rank correlation (Pearson correlation of average ranks).
public func spearmanCorrelation(_ x: [Double], _ y: [Double]) -> Double {
    precondition(x.count == y.count)
    return pearsonCorrelation(averageRanks(x).ranks, averageRanks(y).ranks)
}

/// Pearson correlation, Float64; NaN when either side is constant.
public func pearsonCorrelation(_ x: [Double], _ y: [Double]) -> Double {
    precondition(x.count == y.count)
    let n = Double(x.count)
    guard n > 1 else { return .nan }
    let mx = x.reduce(0, +) / n, my = y.reduce(0, +) / n
    var sxy = 0.0, sxx = 0.0, syy = 0.0
    for i in 0..<x.count {
        let a = x[i] - mx, b = y[i] - my
        sxy += a * b; sxx += a * a; syy += b * b
    }
    return sxx > 0 && syy > 0 ? sxy / (sxx * syy).squareRoot() : .nan
}

/// Mean and standard deviation (ddof as given) in Float64.
public func meanAndStandardDeviation(_ x: [Double], ddof: Int = 1) -> (mean: Double, std: Double) {
    let n = x.count
    guard n > 0 else { return (.nan, .nan) }
    let m = x.reduce(0, +) / Double(n)
    guard n > ddof else { return (m, .nan) }
    let ss = x.reduce(0) { $0 + ($1 - m) * ($1 - m) }
    return (m, (ss / Double(n - ddof)).squareRoot())
}

/// Quantile by linear interpolation between order statistics (numpy's default, "linear").
public func quantile(_ sorted: [Double], _ q: Double) -> Double {
    guard !sorted.isEmpty else { return .nan }
    let pos = q * Double(sorted.count - 1)
    let lo = Int(pos.rounded(.down)), hi = min(sorted.count - 1, lo + 1)
    return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - Double(lo))
}
