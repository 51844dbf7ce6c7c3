import Foundation

/// The labellings of a two-sample permutation test, as the weight matrix that turns every
/// permuted statistic of a kernel two-sample test into a quadratic form: column c holds
/// w_c(i) = +1/m when pooled row i belongs to the first sample under labelling c, −1/n otherwise.
/// Column 0 is the observed labelling (the first m pooled rows are the first sample); columns
/// 1…B are seeded random relabellings. Guide: Guides/Shift.md.
public struct TwoSamplePermutations: @unchecked Sendable {
    /// Size m of the first sample (the reference).
    public let firstCount: Int
    /// Size n of the second sample.
    public let secondCount: Int
    /// B, the number of random relabellings (the observed labelling is not counted).
    public let count: Int
    public let seed: UInt64
    /// N × (B + 1), row-major, Float32: ±1/m, −1/n as above.
    public let weights: Matrix
    /// N × (B + 1), row-major: 1 where pooled row i is in the first sample under labelling c.
    public let inFirst: [UInt8]
    /// Σ_i w_c(i) in Float64 for every column (0 up to the rounding of 1/m and 1/n to Float32).
    public let columnSums: [Double]

    public var pooledCount: Int { firstCount + secondCount }
    public var columns: Int { count + 1 }

    /// Draws B relabellings: each is a uniformly random subset of min(m, n) pooled rows for the
    /// smaller sample (partial Fisher–Yates with `SeededGenerator`).
    /// - Complexity: O(N · B) time and memory.
    public init(firstCount m: Int, secondCount n: Int, permutations b: Int, seed: UInt64) {
        precondition(m >= 1 && n >= 1 && b >= 0)
        firstCount = m
        secondCount = n
        count = b
        self.seed = seed
        let total = m + n, cols = b + 1
        var member = [UInt8](repeating: 0, count: total * cols)
        for i in 0..<m { member[i * cols] = 1 }
        var rng = SeededGenerator(seed: seed)
        var index = Array(0..<total)
        let small = min(m, n)
        let smallIsFirst = m <= n
        if b > 0 {
            for c in 1...b {
                if !smallIsFirst { for i in 0..<total { member[i * cols + c] = 1 } }
                for t in 0..<small {
                    let j = t + rng.nextIndex(total - t)
                    index.swapAt(t, j)
                    member[index[t] * cols + c] = smallIsFirst ? 1 : 0
                }
            }
        }
        (weights, columnSums) = Self.signedWeights(member: member, columns: cols, firstCount: m, secondCount: n)
        inFirst = member
    }

    /// The weight matrix of a membership table (1 = first sample): +1/m where a row is in the
    /// first sample under a labelling, −1/n elsewhere, and each column's sum in Float64.
    ///
    /// - Complexity: O(N · columns).
    static func signedWeights(member: [UInt8], columns cols: Int, firstCount m: Int, secondCount n: Int) -> (Matrix, [Double]) {
        let total = m + n
        let plus = Float(1 / Double(m)), minus = Float(-1 / Double(n))
        let w = Matrix(rows: total, cols: cols)
        let wp = w.mutablePointer
        var sums = [Double](repeating: 0, count: cols)
        for i in 0..<total {
            for c in 0..<cols {
                let v = member[i * cols + c] == 1 ? plus : minus
                wp[i * cols + c] = v
                sums[c] += Double(v)
            }
        }
        return (w, sums)
    }
}
