import Foundation

/// The block MMD test (the "B-test": Zaremba, Gretton & Blaschko, NeurIPS 2013; the linear-time
/// MMD of Gretton et al., JMLR 2012 §6, is its block size 2): both samples are split, in a seeded
/// random order, into L disjoint blocks; each block's unbiased MMD²_u (Gaussian kernel on unit rows)
/// is an independent, under H₀ mean-zero estimate, and their mean is tested against 0 with the
/// Student t distribution on L − 1 degrees of freedom (the blocks' own spread estimates the
/// variance). Time O(N·b·d) and memory O(b² + b·d) beyond the input rows (b: rows per block), so it
/// runs on millions of rows, where the exact permutation test (O(N²·(d + B))) cannot; it has less
/// power at equal N (its statistic's null spread shrinks as 1/√(N·b), the full test's as 1/N).
/// Guide: Guides/Shift.md ("Large corpora").
public struct BlockMMDTest: Sendable, Equatable, HypothesisTestResult {
    /// σ of the Gaussian kernel.
    public internal(set) var bandwidth: Double
    /// L, the number of blocks.
    public internal(set) var blocks: Int
    /// Rows of the first / second sample per block (the first blocks take one more where the
    /// sample does not divide evenly).
    public internal(set) var firstBlockRows: Int
    public internal(set) var secondBlockRows: Int
    /// The mean of the blocks' MMD²_u (an unbiased estimate of MMD²).
    public internal(set) var statistic: Double
    /// The standard error of that mean: sd(block MMD²_u)/√L.
    public internal(set) var standardError: Double
    /// t = statistic / standardError.
    public internal(set) var t: Double
    /// P(T_{L−1} ≥ t): one-sided, large MMD² is evidence of a shift.
    public internal(set) var pValue: Double
    public internal(set) var seed: UInt64
    public var alternative: Alternative { .greater }
    public var method: String { "block MMD² test (\(blocks) blocks, Student t; Gaussian kernel)" }

    /// The smallest number of blocks the test accepts: its p-value rests on a central limit over
    /// the blocks, and each block's MMD²_u is skewed under H₀.
    public static let minimumBlocks = 20

    /// The most rows (of both samples) one block may hold: its Float32 Gram matrix is then at most
    /// 256 MB. With the default block size, unequal corpora get more blocks to stay within it.
    public static let maximumPooledBlockRows = 8192

    /// The default rows per block for the smaller sample: ⌊√min(m, n)⌋ (Zaremba et al.'s choice,
    /// L ≈ √n blocks of √n rows), at least 2, and small enough to leave `minimumBlocks` blocks.
    public static func defaultBlockRows(firstCount m: Int, secondCount n: Int) -> Int {
        let small = min(m, n)
        return max(2, min(Int(Double(small).squareRoot()), small / minimumBlocks))
    }
}

/// Runs the block MMD test of `BlockMMDTest` on REF (`first`) and OTHER (`second`), rows of any
/// length (each is scaled to unit length in its block; a zero row is an error upstream).
/// - Parameters:
///   - bandwidth: σ; nil = the median heuristic on a seeded sample of `bandwidthSample` pooled rows.
///   - blockRows: rows of the smaller sample per block (default `BlockMMDTest.defaultBlockRows`,
///     with more blocks where the larger sample would put more than half of
///     `maximumPooledBlockRows` rows in one); the larger sample's rows are spread over the same
///     number of blocks. A block of more than `maximumPooledBlockRows` rows is an error.
/// - Complexity: O((m + n)·(b_m + b_n)·d) time (one SGEMM per block), O((b_m + b_n)·(b_m + b_n + d) + m + n) memory,
///   b_m + b_n ≤ 8,192 (≤ 256 MB for the block's Gram matrix).
public func blockMMDTest(first x: Matrix, second y: Matrix, bandwidth: Double? = nil, blockRows: Int? = nil,
                         bandwidthSample: Int = 2000, seed: UInt64) throws -> BlockMMDTest {
    let m = x.rows, n = y.rows, d = x.cols
    guard y.cols == d else { throw EmbdiagError.mismatch(nil, "the block MMD test needs samples of one dimension (\(d) and \(y.cols))") }
    let small = min(m, n)
    let perSmall = blockRows ?? BlockMMDTest.defaultBlockRows(firstCount: m, secondCount: n)
    guard perSmall >= 2 else { throw EmbdiagError.usage("\(Setting.mmdBlockRows) must be at least 2 (got \(perSmall))") }
    var blocks = small / perSmall
    let halfCap = BlockMMDTest.maximumPooledBlockRows / 2
    if blockRows == nil, (max(m, n) + halfCap - 1) / halfCap > blocks {
        // Unequal corpora: more (smaller) blocks, so that the larger corpus' share of a block stays
        // within half the cap (the report states the block sizes used).
        blocks = min(small / 2, (max(m, n) + halfCap - 1) / halfCap)
    }
    guard blocks >= BlockMMDTest.minimumBlocks else {
        throw EmbdiagError.usage("the block MMD test needs at least \(BlockMMDTest.minimumBlocks) blocks: \(small) rows in the smaller corpus "
                                 + "at \(perSmall) rows per block give \(blocks) (use fewer \(Setting.mmdBlockRows) or the exact test)")
    }
    let pooledRows = (m + blocks - 1) / blocks + (n + blocks - 1) / blocks
    guard pooledRows <= BlockMMDTest.maximumPooledBlockRows else {
        throw EmbdiagError.usage("the block MMD test would hold \(pooledRows) rows per block (\(m) and \(n) rows in \(blocks) blocks); at most "
                                 + "\(BlockMMDTest.maximumPooledBlockRows) keep its memory bounded: give fewer \(Setting.mmdBlockRows), or \(Setting.maxRows) to sample the larger corpus")
    }
    let sigma: Double
    if let s = bandwidth {
        sigma = s
    } else {
        // The median heuristic on a seeded sample of the pooled rows, drawn without regard to the labels.
        var rng = SeededGenerator(seed: seed ^ 0x6D65_6469_616E)
        let picks = rng.sampleIndices(m + n, count: min(m + n, bandwidthSample)).sorted()
        let sample = Matrix(rows: picks.count, cols: d)
        for (k, i) in picks.enumerated() {
            (sample.mutablePointer + k * d).update(from: i < m ? x.pointer + i * d : y.pointer + (i - m) * d, count: d)
        }
        sigma = medianHeuristicBandwidth(unitRows: Matrix.normalizedRows(sample), sampleSize: picks.count, seed: seed)
    }
    let (firstOrder, secondOrder) = blockMMDOrders(firstCount: m, secondCount: n, seed: seed)
    func bounds(_ count: Int, _ l: Int) -> Range<Int> { blockMMDRange(count, block: l, of: blocks) }
    let scale = Float(1 / (sigma * sigma))
    var estimates = [Double](repeating: 0, count: blocks)
    let largest = (m + blocks - 1) / blocks + (n + blocks - 1) / blocks
    let pooled = Matrix(rows: largest, cols: d), gramStorage = Matrix(rows: largest, cols: largest)
    for l in 0..<blocks {
        let xr = bounds(m, l), yr = bounds(n, l)
        let a = xr.count, b = yr.count, rows = a + b
        let z = Matrix(rows: rows, cols: d, storage: pooled.storage)
        let zp = z.mutablePointer
        for (k, i) in xr.enumerated() { unitRow(x.pointer + firstOrder[i] * d, d, into: zp + k * d) }
        for (k, i) in yr.enumerated() { unitRow(y.pointer + secondOrder[i] * d, d, into: zp + (a + k) * d) }
        let g = Matrix(rows: rows, cols: rows, storage: gramStorage.storage)
        BLAS.gemm(z, z, transposeB: true, into: g)
        resolveCosineTies(g, dimension: d)
        // Σ k over the pairs within each sample (diagonal left out) and across, rows in order.
        let gp = g.pointer
        var sxx = 0.0, syy = 0.0, sxy = 0.0
        for i in 0..<rows {
            let row = gp + i * rows
            let diagonal = Double(exponential((Swift.min(row[i], 1) - 1) * scale))
            let toFirst = gaussianRowSum(row, 0..<a, scale), toSecond = gaussianRowSum(row, a..<rows, scale)
            if i < a { sxx += toFirst - diagonal; sxy += toSecond } else { syy += toSecond - diagonal }
        }
        let ad = Double(a), bd = Double(b)
        estimates[l] = sxx / (ad * (ad - 1)) + syy / (bd * (bd - 1)) - 2 * sxy / (ad * bd)
    }
    let mean = estimates.reduce(0, +) / Double(blocks)
    let variance = estimates.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(blocks - 1)
    let standardError = (variance / Double(blocks)).squareRoot()
    let t = standardError > 0 ? mean / standardError : (mean > 0 ? .infinity : 0)
    let p = t.isInfinite ? 0 : Distributions.studentTSurvival(t, degreesOfFreedom: Double(blocks - 1))
    return BlockMMDTest(bandwidth: sigma, blocks: blocks, firstBlockRows: (m + blocks - 1) / blocks, secondBlockRows: (n + blocks - 1) / blocks,
                        statistic: mean, standardError: standardError, t: t, pValue: standardError > 0 ? p : (mean > 0 ? 0 : 1), seed: seed)
}

/// Σ_{j ∈ range} exp((min(g_j, 1) − 1)·scale) in Float64, four interleaved partial sums (a fixed
/// order, so the result does not depend on the machine's threads).
@inline(__always) private func gaussianRowSum(_ row: UnsafePointer<Float>, _ range: Range<Int>, _ scale: Float) -> Double {
    var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
    var j = range.lowerBound
    while j + 4 <= range.upperBound {
        s0 += Double(exponential((Swift.min(row[j], 1) - 1) * scale))
        s1 += Double(exponential((Swift.min(row[j + 1], 1) - 1) * scale))
        s2 += Double(exponential((Swift.min(row[j + 2], 1) - 1) * scale))
        s3 += Double(exponential((Swift.min(row[j + 3], 1) - 1) * scale))
        j += 4
    }
    while j < range.upperBound { s0 += Double(exponential((Swift.min(row[j], 1) - 1) * scale)); j += 1 }
    return (s0 + s1) + (s2 + s3)
}

/// The seeded random orders of the two samples' rows that `blockMMDTest` cuts into blocks.
/// - Complexity: O(m + n).
func blockMMDOrders(firstCount m: Int, secondCount n: Int, seed: UInt64) -> (first: [Int], second: [Int]) {
    var rng = SeededGenerator(seed: seed ^ 0x626C_6F63_6B)
    let first = shuffledIndices(m, &rng)
    return (first, shuffledIndices(n, &rng))
}

/// Block ℓ of L takes positions [ℓ·count/L, (ℓ+1)·count/L) of a sample's order.
func blockMMDRange(_ count: Int, block l: Int, of blocks: Int) -> Range<Int> {
    (l * count / blocks)..<((l + 1) * count / blocks)
}

/// 0..<n in a seeded uniformly random order (Fisher–Yates).
private func shuffledIndices(_ n: Int, _ rng: inout SeededGenerator) -> [Int] {
    var order = Array(0..<n)
    if n > 1 { for i in stride(from: n - 1, to: 0, by: -1) { order.swapAt(i, rng.nextIndex(i + 1)) } }
    return order
}

/// Copies row `source` (length d) scaled to unit length; a zero row stays zero.
private func unitRow(_ source: UnsafePointer<Float>, _ d: Int, into target: UnsafeMutablePointer<Float>) {
    var s = 0.0
    for t in 0..<d { s += Double(source[t]) * Double(source[t]) }
    let inverse = s > 0 ? Float(1 / s.squareRoot()) : 0
    for t in 0..<d { target[t] = source[t] * inverse }
}
