import Foundation

/// Pairs of rows of two spaces that are each other's nearest neighbour under CSLS (cross-domain
/// similarity local scaling, Conneau et al. 2018): CSLS(a_i, b_j) = 2·cos(a_i, b_j) − r_b(a_i) −
/// r_a(b_j), where r_b(a_i) is a_i's mean cosine to its k nearest rows of B (and r_a(b_j) the
/// same the other way). Subtracting the neighbourhood densities keeps "hub" rows, close to
/// everything, from becoming everyone's neighbour.
public struct CSLSMutualNeighbors: Sendable {
    /// Row of A and row of B of each mutual pair, in A's row order.
    public internal(set) var rowsA: [Int]
    public internal(set) var rowsB: [Int]
    /// CSLS score of each pair.
    public internal(set) var scores: [Double]

    public var count: Int { rowsA.count }
    /// Mean CSLS of the pairs (−∞ when there is none).
    public var meanScore: Double { scores.isEmpty ? -.infinity : scores.reduce(0, +) / Double(scores.count) }

    /// Mutual CSLS nearest neighbours of the unit rows of `a` (na × d) and `b` (nb × d), row-major
    /// Float64. Each row's nearest neighbour is the largest CSLS, ties to the lower row index.
    /// Three blocked passes over the na × nb cosines (one GEMM per block of `blockRows` rows):
    /// r_b(a_i); then r_a(b_j) and every b_j's best a_i; then every a_i's best b_j. For fixed j,
    /// r_a(b_j) is a constant, so b_j's best a_i maximises 2·cos − r_b(a_i) and needs only the first
    /// pass (the same for a_i's best b_j), which is why three passes suffice.
    ///
    /// - Complexity: O(na·nb·d) flops in three GEMM passes, O(blockRows·max(na, nb)) memory.
    public static func find(_ a: [Double], rows na: Int, _ b: [Double], rows nb: Int, dimension d: Int, k: Int,
                            blockRows: Int = 1024) -> CSLSMutualNeighbors {
        precondition(a.count == na * d && b.count == nb * d)
        guard na > 0, nb > 0 else { return CSLSMutualNeighbors(rowsA: [], rowsB: [], scores: []) }
        let densityA = Self.blocks(a, rows: na, b, rows: nb, dimension: d, blockRows: blockRows) { _, row, count in
            (LargestEntries.mean(row, count: count, k: k), 0)
        }.map(\.0)
        var densityB = [Double](repeating: 0, count: nb)
        let bestAOfB = densityA.withUnsafeBufferPointer { ra in
            Self.blocks(b, rows: nb, a, rows: na, dimension: d, blockRows: blockRows) { _, row, count in
                var best = 0, value = -Double.infinity
                for i in 0..<count { let v = 2 * row[i] - ra[i]; if v > value { value = v; best = i } }
                return (LargestEntries.mean(row, count: count, k: k), best)
            }
        }
        for j in 0..<nb { densityB[j] = bestAOfB[j].0 }
        let bestBOfA = densityB.withUnsafeBufferPointer { rb in
            Self.blocks(a, rows: na, b, rows: nb, dimension: d, blockRows: blockRows) { i, row, count in
                var best = 0, value = -Double.infinity
                for j in 0..<count { let v = 2 * row[j] - rb[j]; if v > value { value = v; best = j } }
                return (value - densityA[i], best)
            }
        }
        var rowsA: [Int] = [], rowsB: [Int] = [], scores: [Double] = []
        for i in 0..<na {
            let j = bestBOfA[i].1
            if bestAOfB[j].1 == i { rowsA.append(i); rowsB.append(j); scores.append(bestBOfA[i].0) }
        }
        return CSLSMutualNeighbors(rowsA: rowsA, rowsB: rowsB, scores: scores)
    }

    /// Runs `body(i, cosines of row i of x with every row of y, ny)` for every row i of x, blocks
    /// of `blockRows` rows at a time (one Float64 GEMM each; rows of a block split between the
    /// cores, each row decided alone, so the result does not depend on the thread count).
    static func blocks(_ x: [Double], rows nx: Int, _ y: [Double], rows ny: Int, dimension d: Int, blockRows: Int,
                       _ body: (Int, UnsafePointer<Double>, Int) -> (Double, Int)) -> [(Double, Int)] {
        var out = [(Double, Int)](repeating: (0, 0), count: nx)
        let step = max(1, blockRows)
        out.withUnsafeMutableBufferPointer { outBuf in
            let op = outBuf.baseAddress!
            var lo = 0
            while lo < nx {
                let hi = min(nx, lo + step)
                let tile = BLAS.matmul(Array(x[(lo * d)..<(hi * d)]), rows: hi - lo, inner: d, y, cols: ny, transposeB: true)
                tile.withUnsafeBufferPointer { t in
                    let tp = t.baseAddress!
                    parallelChunks(hi - lo, minimumChunk: 64) { range in
                        for r in range { op[lo + r] = body(lo + r, tp + r * ny, ny) }
                    }
                }
                lo = hi
            }
        }
        return out
    }
}
