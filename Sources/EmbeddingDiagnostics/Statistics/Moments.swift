import Foundation

extension Statistics {
    /// Mean and standard deviation (ddof as given) in Float64.
    public static func meanAndStandardDeviation(_ x: [Double], ddof: Int = 1) -> (mean: Double, std: Double) {
        let n = x.count
        guard n > 0 else { return (.nan, .nan) }
        let m = x.reduce(0, +) / Double(n)
        guard n > ddof else { return (m, .nan) }
        let ss = x.reduce(0) { $0 + ($1 - m) * ($1 - m) }
        return (m, (ss / Double(n - ddof)).squareRoot())
    }
}
