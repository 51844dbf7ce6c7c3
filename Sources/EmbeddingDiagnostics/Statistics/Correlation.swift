import Foundation

extension Statistics {
    /// Spearman rank correlation (Pearson correlation of average ranks).
    public static func spearmanCorrelation(_ x: [Double], _ y: [Double]) -> Double {
        precondition(x.count == y.count)
        return Statistics.pearsonCorrelation(Statistics.averageRanks(x).ranks, Statistics.averageRanks(y).ranks)
    }

    /// Pearson correlation, Float64; NaN when either side is constant.
    public static func pearsonCorrelation(_ x: [Double], _ y: [Double]) -> Double {
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
}
