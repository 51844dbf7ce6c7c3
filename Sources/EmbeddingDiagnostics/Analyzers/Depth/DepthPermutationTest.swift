import Foundation

/// The permutation version of the depth rank-sum test (cosine TTE depth in the reference, W =
/// `scipy.stats.ranksums` z of reference vs other depths), used by `embdiag depth` (any
/// alternative) and by `embdiag shift` (two-sided). The reference's depths are leave-one-out and
/// the other corpus's are not, so the two depth samples are not exchangeable and the normal
/// p-value is approximate (measured: 10 % of p < 0.05 at 30 + 30 rows, `less`; 13.5 % two-sided at
/// 10 + 10). Relabelling the pooled rows into a reference of m rows and an other corpus of n rows,
/// and recomputing the depth of every row under each labelling (leave-one-out for the rows
/// labelled reference), makes the test exact: p = (1 + #{b : T_b ≥ T})/(B + 1), T the oriented
/// statistic (W for `greater`, −W for `less`, |W| for `two-sided`).
///
/// Cosine TTE depth needs only S_c = Σ_{i ∈ REF_c} ẑ_i: D_ic = 1 + (ẑ_i·S_c − [left out] ẑ_i·ẑ_i)/(m − [left out]).
/// A row labelled reference leaves itself out; a row labelled other leaves out one row labelled
/// reference that equals it (the single run's rule for copies, `DepthAnalysis.leftOutRows`): the
/// first such row, exactly equal or linked by `nearCopies` (pooled rows (i, j) within
/// 1 − cos ≤ d·2⁻²⁴, `CrossCorpusDuplicates`), removing ẑ_i·ẑ_i for an exact copy and the Float64
/// ẑ_i·ẑ_j for a near-exact one.
/// S_c and every dot product are Float64 in a fixed order (the Float32 unit rows widened), so
/// equal rows get equal depths bit for bit and the ranking, ties included, does not depend on the
/// BLAS kernel, the thread count or the row's place: no BLAS is called.
///
/// - Complexity: O(B·(N·d + N log N)) time for N pooled rows, O(N·B) memory for the labellings.
public func depthPermutationTest(unitRows z: Matrix, permutations: TwoSamplePermutations, alternative: Alternative = .twoSided,
                                 nearCopies: [(Int, Int)] = []) -> PermutationTestResult {
    let deviations = depthRankSumDeviations(unitRows: z, permutations: permutations, nearCopies: nearCopies)
    let oriented = deviations.map { orientedDepthStatistic($0, alternative: alternative) }
    let permuted = Array(oriented.dropFirst())
    let b = permuted.count
    let mean = b > 0 ? permuted.reduce(0, +) / Double(b) : .nan
    let sd = b > 1 ? (permuted.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(b - 1)).squareRoot() : .nan
    // Rank-sum deviations are multiples of ½ (exact in Float64): "at least as extreme" is decided exactly.
    let count = permuted.filter { $0 >= oriented[0] }.count
    let scale = depthRankSumScale(permutations)
    return PermutationTestResult(statistic: oriented[0] / scale, pValue: Double(1 + count) / Double(b + 1), alternative: alternative,
                                 permutations: b, seed: permutations.seed, atLeastAsExtreme: count,
                                 nullMean: mean / scale, nullStandardDeviation: sd / scale, nullDistribution: permuted.map { $0 / scale })
}

/// |W| of every labelling (column 0 observed), the depths recomputed under each (see
/// `depthPermutationTest`); the two-sided statistics `embdiag shift` combines with its other tests.
/// Up to `exactRowLimit` pooled rows every dot product is Float64 in a fixed order; above it
/// (where the Float64 products would be most of a shift run: +45 % at 2 × 10,000 × 384) the
/// products come from two SGEMMs, as the kernel tests' do, and equal rows still share one value
/// (their group's), so ties between equal rows stay exact; depths of different rows that agree to
/// Float32 round-off may then rank differently on another BLAS kernel (documented float noise).
/// - Complexity: O(B·(N·d + N log N)) time (O(N·d·B) as BLAS above the limit), O(N·B) memory.
public func depthPermutationStatistics(unitRows z: Matrix, permutations: TwoSamplePermutations) -> [Double] {
    let scale = depthRankSumScale(permutations)
    let deviations = z.rows <= depthExactRowLimit
        ? depthRankSumDeviations(unitRows: z, permutations: permutations)
        : depthRankSumDeviationsByGEMM(unitRows: z, permutations: permutations)
    return deviations.map { abs($0) / scale }
}

/// Pooled rows up to which `depthPermutationStatistics` computes every product in Float64 (the
/// `depth` command's permutation limit).
public let depthExactRowLimit = 4_000

/// For each row, the first row of its group of exactly equal unit rows (−0 equals +0).
/// - Complexity: O(N·d) expected (hashing, `CrossCorpusDuplicates`).
func equalRowGroups(_ z: Matrix) -> [Int] {
    var first = Array(0..<z.rows)
    for match in CrossCorpusDuplicates.find(reference: z, other: z, nearExact: false).matches { first[match.otherRow] = match.referenceRow }
    return first
}

/// R_c − m(N + 1)/2 of one labelling c: the sum of the average ranks of the rows labelled
/// reference among all N depths, less its null mean `centre`.
/// - Complexity: O(N log N).
func rankSumDeviation(_ depths: [Double], labelling c: Int, of p: TwoSamplePermutations, centre: Double) -> Double {
    let ranks = Statistics.averageRanks(depths).ranks
    var rankSum = 0.0
    for i in 0..<depths.count where p.inFirst[i * p.columns + c] == 1 { rankSum += ranks[i] }
    return rankSum - centre
}

/// R_c − m(N + 1)/2 for every labelling, the products ẑ_i·S_c from two SGEMMs (Zᵀa_c, then Z·S):
/// each row labelled reference leaves itself out, and so does a row labelled other that equals a
/// row labelled reference (that copy left out, as `depthRankSumDeviations` without near-exact
/// links); the others are at 1 + ẑ_i·S_c/m. Rows in one group of equal unit rows take the group's
/// first row's product.
/// - Complexity: O(N·d·B) (BLAS) + O(B·N log N) time, O(N·B) memory.
func depthRankSumDeviationsByGEMM(unitRows z: Matrix, permutations p: TwoSamplePermutations) -> [Double] {
    let total = z.rows, cols = p.columns, m = p.firstCount
    let first = equalRowGroups(z)
    let indicator = Matrix(rows: total, cols: cols)
    let ip = indicator.mutablePointer
    for i in 0..<(total * cols) { ip[i] = Float(p.inFirst[i]) }
    let sums = BLAS.matmul(z, transposeA: true, indicator)  // d × C
    let dots = BLAS.matmul(z, sums)                          // N × C
    let selfDots = Matrix.rowNorms(z).map { Double($0) * Double($0) }
    let member = p.inFirst, dp = dots.pointer
    let md = Double(m), centre = Double(m) * Double(total + 1) / 2
    var out = [Double](repeating: 0, count: cols)
    out.withUnsafeMutableBufferPointer { outBuffer in
        let op = outBuffer.baseAddress!
        parallelChunks(cols, minimumChunk: 8) { range in
            var depths = [Double](repeating: 0, count: total)
            // Labelling at which a group last had a row labelled reference (-1: never).
            var referenceSeen = [Int](repeating: -1, count: total)
            for c in range {
                for i in 0..<total where member[i * cols + c] == 1 { referenceSeen[first[i]] = c }
                for i in 0..<total {
                    let raw = Double(dp[first[i] * cols + c])
                    // Labelled reference: leave-one-out; labelled other with an equal row labelled
                    // reference: that copy left out (the single run's rule, `DepthAnalysis.leftOutRows`).
                    let leavesOut = member[i * cols + c] == 1 || referenceSeen[first[i]] == c
                    depths[i] = leavesOut ? 1 + (raw - selfDots[first[i]]) / (md - 1) : 1 + raw / md
                }
                op[c] = rankSumDeviation(depths, labelling: c, of: p, centre: centre)
            }
        }
    }
    return out
}

/// √(m·n·(N + 1)/12): the rank sum's null standard deviation without ties (scipy's ranksums).
func depthRankSumScale(_ p: TwoSamplePermutations) -> Double {
    let m = Double(p.firstCount), n = Double(p.secondCount)
    return (m * n * (m + n + 1) / 12).squareRoot()
}

/// The statistic whose large values are evidence for `alternative`, from R − m(N + 1)/2.
func orientedDepthStatistic(_ deviation: Double, alternative: Alternative) -> Double {
    switch alternative {
    case .greater: return deviation
    case .less: return -deviation
    case .twoSided: return abs(deviation)
    }
}

/// R_c − m(N + 1)/2 for every labelling c (column 0 observed): R_c the sum of the average ranks of
/// the rows labelled reference among all N depths under labelling c. Multiples of ½, exact.
///
/// - Complexity: O(B·(N·d + N log N)) time, O(N·B) memory (the labellings), O(N + d) per thread.
func depthRankSumDeviations(unitRows z: Matrix, permutations p: TwoSamplePermutations, nearCopies: [(Int, Int)] = []) -> [Double] {
    let total = z.rows, d = z.cols, cols = p.columns
    let m = p.firstCount
    precondition(total == p.pooledCount && m >= 2, "depthRankSumDeviations: \(total) rows for \(p.pooledCount) labelled, m = \(m)")
    // Groups of exactly equal unit rows (−0 equals +0): the id of a row is its group's first row.
    let exact = equalRowGroups(z)
    // Near-exact copies join their groups (union–find on the exact groups' first rows).
    var parent = Array(0..<total)
    func root(_ i: Int) -> Int { var r = i; while parent[r] != r { r = parent[r] }; return r }
    for (i, j) in nearCopies {
        let a = root(exact[i]), b = root(exact[j])
        if a != b { parent[max(a, b)] = min(a, b) }
    }
    let group = (0..<total).map { root(exact[$0]) }
    let linked = !nearCopies.isEmpty
    // ẑ_i·ẑ_i as the single run's leave-one-out removes it (`DepthReference.cosineTTE`): in row order.
    let selfDots = (0..<total).map { i in (0..<d).reduce(0.0) { $0 + Double(z[i, $1]) * Double(z[i, $1]) } }
    let member = p.inFirst
    let md = Double(m), centre = Double(m) * Double(total + 1) / 2
    var out = [Double](repeating: 0, count: cols)
    out.withUnsafeMutableBufferPointer { outBuffer in
        let op = outBuffer.baseAddress!
        parallelChunks(cols, minimumChunk: 4) { range in
            var sum = [Double](repeating: 0, count: d)
            var depths = [Double](repeating: 0, count: total)
            // The first row labelled reference in each group (−1: none).
            var firstReference = [Int](repeating: -1, count: total)
            for c in range {
                for t in 0..<d { sum[t] = 0 }
                for i in 0..<total { firstReference[i] = -1 }
                // S_c in row order, each coordinate its own Float64 sum.
                for i in 0..<total where member[i * cols + c] == 1 {
                    let row = z.pointer + i * d
                    for t in 0..<d { sum[t] += Double(row[t]) }
                    if firstReference[group[i]] < 0 { firstReference[group[i]] = i }
                }
                sum.withUnsafeBufferPointer { s in
                    for i in 0..<total {
                        let dot = widenedDot(z.pointer + i * d, s.baseAddress!, count: d)
                        if member[i * cols + c] == 1 {
                            depths[i] = 1 + (dot - selfDots[i]) / (md - 1)
                        } else if case let j = firstReference[group[i]], j >= 0 {
                            // An exact copy removes ẑ_i·ẑ_i (so it sits at its twin's depth bit for bit), a near-exact one their cosine.
                            let own = !linked || exact[j] == exact[i] ? selfDots[i]
                                : fixedOrderDot(UnsafeRawPointer(z.pointer + i * d), UnsafeRawPointer(z.pointer + j * d), count: d)
                            depths[i] = 1 + (dot - own) / (md - 1)
                        } else {
                            depths[i] = 1 + dot / md
                        }
                    }
                }
                op[c] = rankSumDeviation(depths, labelling: c, of: p, centre: centre)
            }
        }
    }
    return out
}

/// Σ_t Float64(x_t)·y_t in a fixed order (eight lanes, then the lanes summed, then the tail), for
/// Float32 x and Float64 y: the same value for the same inputs on every CPU and at every address.
///
/// - Complexity: O(d).
@inline(__always)
func widenedDot(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Double>, count d: Int) -> Double {
    var acc = SIMD8<Double>()
    var t = 0
    let xr = UnsafeRawPointer(x), yr = UnsafeRawPointer(y)
    while t + 8 <= d {
        let u = xr.loadUnaligned(fromByteOffset: t * 4, as: SIMD8<Float>.self)
        let v = yr.loadUnaligned(fromByteOffset: t * 8, as: SIMD8<Double>.self)
        acc += SIMD8<Double>(u) * v
        t += 8
    }
    var s = acc.sum()
    while t < d { s += Double(x[t]) * y[t]; t += 1 }
    return s
}
