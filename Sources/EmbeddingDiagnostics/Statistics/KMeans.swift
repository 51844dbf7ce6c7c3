import Foundation

/// Seeded k-means clustering (Lloyd's algorithm with restarts): general statistics used by MAUVE's
/// quantisation and by any analyzer that groups rows.
public enum KMeans {
    /// Seeded k-means (Lloyd) with restarts: each restart starts from k distinct rows drawn
    /// uniformly (as faiss does), iterates assignment (nearest centroid by squared Euclidean distance
    /// through one SGEMM; ties: the lowest centroid index) and mean update until no row changes or
    /// `iterations` passes; an empty cluster takes over half of the largest cluster (faiss's split:
    /// its centroid copied, moved by ±1/1024 in alternate coordinates; ties: lowest index). The
    /// restart with the lowest objective is kept (ties: the first).
    /// - Complexity: O(restarts · iterations · N·k·d).
    public static func cluster(_ x: Matrix, k requested: Int, restarts: Int = 5, iterations: Int = 500, seed: UInt64 = 0) -> (labels: [Int], objective: Double, centroids: Matrix) {
        let n = x.rows, d = x.cols
        let k = max(1, min(requested, n))
        let xp = x.pointer
        // ‖x_i‖² in Float64, each row in coordinate order (rows split between the cores).
        var rowNorm2 = [Double](repeating: 0, count: n)
        rowNorm2.withUnsafeMutableBufferPointer { buf in
            let out = buf.baseAddress!
            parallelChunks(n, minimumChunk: 1024) { range in
                for i in range {
                    let row = xp + i * d
                    var s = 0.0
                    for t in 0..<d { s += Double(row[t]) * Double(row[t]) }
                    out[i] = s
                }
            }
        }
        var best: (labels: [Int], objective: Double, centroids: Matrix)?
        for restart in 0..<max(1, restarts) {
            var rng = SeededGenerator(seed: seed &+ UInt64(restart) &* 0x9E37_79B9_7F4A_7C15)
            var order = Array(0..<n)
            for t in 0..<k { order.swapAt(t, t + rng.nextIndex(n - t)) }
            let centroids = x.gather(rows: Array(order[0..<k]))
            var labels = [Int](repeating: -1, count: n)
            var distance = [Double](repeating: 0, count: n)
            for pass in 0...max(1, iterations) {
                let dots = BLAS.matmul(x, centroids, transposeB: true)  // n × k
                let cn = (0..<k).map { j in (0..<d).reduce(0.0) { $0 + Double(centroids[j, $1]) * Double(centroids[j, $1]) } }
                // Nearest centroid of every row (rows split between the cores; each row decided alone).
                let previous = labels
                let dp = dots.pointer
                labels.withUnsafeMutableBufferPointer { labelBuf in
                    distance.withUnsafeMutableBufferPointer { distanceBuf in
                        let lp = labelBuf.baseAddress!, distP = distanceBuf.baseAddress!
                        rowNorm2.withUnsafeBufferPointer { normBuf in
                            let np = normBuf.baseAddress!
                            parallelChunks(n, minimumChunk: 2048) { range in
                                for i in range {
                                    var bestJ = 0, bestD = Double.infinity
                                    for j in 0..<k {
                                        let v = np[i] - 2 * Double(dp[i * k + j]) + cn[j]
                                        if v < bestD { bestD = v; bestJ = j }
                                    }
                                    lp[i] = bestJ
                                    distP[i] = max(0, bestD)
                                }
                            }
                        }
                    }
                }
                if labels == previous || pass == max(1, iterations) { break }  // labels are those of the final centroids
                // Mean update in Float64, rows in order for every coordinate (coordinates split between
                // the cores); empty clusters split the largest one.
                var sums = [Double](repeating: 0, count: k * d), counts = [Int](repeating: 0, count: k)
                for i in 0..<n { counts[labels[i]] += 1 }
                sums.withUnsafeMutableBufferPointer { sumBuf in
                    labels.withUnsafeBufferPointer { labelBuf in
                        let sp = sumBuf.baseAddress!, lp = labelBuf.baseAddress!
                        parallelChunks(d, minimumChunk: 64) { range in
                            for i in 0..<n {
                                let row = xp + i * d, target = sp + lp[i] * d
                                for t in range { target[t] += Double(row[t]) }
                            }
                        }
                    }
                }
                let cp = centroids.mutablePointer
                for j in 0..<k where counts[j] > 0 { for t in 0..<d { cp[j * d + t] = Float(sums[j * d + t] / Double(counts[j])) } }
                for j in 0..<k where counts[j] == 0 {
                    let big = counts.indices.max { counts[$0] < counts[$1] || (counts[$0] == counts[$1] && $0 > $1) }!
                    for t in 0..<d {
                        let v = cp[big * d + t]
                        let eps: Float = 1 / 1024
                        cp[j * d + t] = t % 2 == 0 ? v * (1 + eps) : v * (1 - eps)
                        cp[big * d + t] = t % 2 == 0 ? v * (1 - eps) : v * (1 + eps)
                    }
                    counts[j] = counts[big] / 2
                    counts[big] -= counts[j]
                }
            }
            let objective = distance.reduce(0, +)
            if best == nil || objective < best!.objective { best = (labels, objective, centroids) }
        }
        return best!
    }
}

/// The same as `KMeans.cluster`; kept so existing callers read unchanged.
/// - Complexity: O(restarts · iterations · N·k·d).
public func kMeansClusters(_ x: Matrix, k requested: Int, restarts: Int = 5, iterations: Int = 500, seed: UInt64 = 0) -> (labels: [Int], objective: Double, centroids: Matrix) {
    KMeans.cluster(x, k: requested, restarts: restarts, iterations: iterations, seed: seed)
}
