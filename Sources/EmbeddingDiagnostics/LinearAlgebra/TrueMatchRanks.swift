import COpenBLAS
import Foundation

extension Retrieval {
    /// For each query q, the 1-based rank of gallery row `trueIndices[q]` among all gallery rows by
    /// inner product with query q (use unit rows for cosine): 1 + #{j : s_qj > s_q,t} + #{j < t : s_qj
    /// = s_q,t} — exact ties go to the smaller index, as in `nearestNeighbors`, and comparisons closer
    /// than the GEMM's error bound are decided in Float64 (`ExactScores`), so the ranks are the same on
    /// every CPU. Blocked GEMM; the q × n score matrix is never stored whole. Cross-space retrieval.
    ///
    /// - Complexity: O(q·n·d).
    public static func trueMatchRanks(queries: Matrix, gallery: Matrix, trueIndices: [Int]) -> [Int] {
        precondition(queries.rows == trueIndices.count && queries.cols == gallery.cols)
        // The `.index` case of `retrievalRanks` with ties broken by index instead of averaged.
        var ranks = [Int](repeating: 0, count: queries.rows)
        let scores = ExactScores(queries: queries, gallery: gallery)
        ranks.withUnsafeMutableBufferPointer { out in
            let outBase = out.baseAddress!
            forEachScoreBlock(queries: queries, gallery: gallery) { rows, tiles in
                var count = [TargetRankCount](repeating: TargetRankCount(), count: rows.count)
                let target = rows.map { scores.exact($0, trueIndices[$0]) }
                let cuts = target.map { scores.screeningCuts(around: $0) }
                tiles.forEach { columns, tile in
                    for r in 0..<rows.count {
                        let q = rows.lowerBound + r
                        scores.countAgainstTarget(tile + r * columns.count, columns: columns, query: q, target: trueIndices[q],
                                                  targetScore: target[r], cuts: cuts[r], excluded: -1, into: &count[r])
                    }
                }
                for r in 0..<rows.count { outBase[rows.lowerBound + r] = count[r].better + count[r].equalBefore + 1 }
            }
        }
        return ranks
    }
}
