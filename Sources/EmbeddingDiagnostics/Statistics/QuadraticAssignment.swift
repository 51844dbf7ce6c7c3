import Foundation

/// A quadratic assignment problem between two small weighted graphs of the same size: find the
/// permutation π maximising Σ_ab A_ab · B_{π(a) π(b)} (node a of A matched to node π(a) of B).
/// Used to match two sets of cluster centroids by their similarity structure alone.
public enum QuadraticAssignment {
    /// Local search by pair swaps (2-opt) from several seeded random permutations, the best end
    /// point kept. Each step applies the swap with the largest gain (ties: the lowest (a, b) pair
    /// in row order) and stops when no swap gains more than 1e-12 of the objective's scale; among
    /// starts the highest objective wins (ties: the earlier start). Every start's permutation comes
    /// from `seed`, so the answer is the same on every CPU (sums in a fixed order, Float64).
    ///
    /// - Parameters:
    ///   - a: n × n row-major weights of the first graph; `b` the same for the second.
    ///   - starts: random starting permutations tried (≥ 1).
    /// - Returns: π with π[a] = the node of B matched to node a of A, and its objective.
    /// - Complexity: O(starts · steps · n³) — each step scores n(n−1)/2 swaps in O(n) each; n is
    ///   the number of clusters (tens).
    public static func twoOpt(_ a: [Double], _ b: [Double], size n: Int, starts: Int, seed: UInt64) -> (permutation: [Int], objective: Double) {
        precondition(a.count == n * n && b.count == n * n)
        if n <= 1 { return (Array(0..<n), n == 1 ? a[0] * b[0] : 0) }
        func objective(_ p: [Int]) -> Double {
            var s = 0.0
            for i in 0..<n { for j in 0..<n { s += a[i * n + j] * b[p[i] * n + p[j]] } }
            return s
        }
        let scale = max(1e-300, a.reduce(0) { $0 + abs($1) } * b.reduce(0) { max($0, abs($1)) })
        var rng = SeededGenerator(seed: seed)
        var best: (permutation: [Int], objective: Double)?
        for _ in 0..<max(1, starts) {
            var p = Array(0..<n)
            for t in stride(from: n - 1, to: 0, by: -1) { p.swapAt(t, rng.nextIndex(t + 1)) }
            while true {
                var gainBest = 1e-12 * scale, pick: (Int, Int)?
                for i in 0..<(n - 1) {
                    for j in (i + 1)..<n {
                        let pi = p[i], pj = p[j]
                        // Change of the objective when π(i) and π(j) trade places: only terms with
                        // an index i or j change.
                        var g = 0.0
                        for l in 0..<n where l != i && l != j {
                            let pl = p[l]
                            g += a[i * n + l] * (b[pj * n + pl] - b[pi * n + pl])
                            g += a[l * n + i] * (b[pl * n + pj] - b[pl * n + pi])
                            g += a[j * n + l] * (b[pi * n + pl] - b[pj * n + pl])
                            g += a[l * n + j] * (b[pl * n + pi] - b[pl * n + pj])
                        }
                        g += a[i * n + i] * (b[pj * n + pj] - b[pi * n + pi]) + a[j * n + j] * (b[pi * n + pi] - b[pj * n + pj])
                        g += a[i * n + j] * (b[pj * n + pi] - b[pi * n + pj]) + a[j * n + i] * (b[pi * n + pj] - b[pj * n + pi])
                        if g > gainBest { gainBest = g; pick = (i, j) }
                    }
                }
                guard let (i, j) = pick else { break }
                p.swapAt(i, j)
            }
            let f = objective(p)
            if best == nil || f > best!.objective { best = (p, f) }
        }
        return best!
    }
}
