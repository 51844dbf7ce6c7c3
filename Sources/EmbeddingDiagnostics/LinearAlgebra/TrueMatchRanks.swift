import COpenBLAS
import Foundation

extension Retrieval {
    /// For each query q, where gallery row t = `trueIndices[q]` ranks among all gallery rows by
    /// inner product with query q (use unit rows for cosine), as a tied block: #{j : s_qj > s_q,t}
    /// rows before it and a block of 1 + #{j ≠ t : s_qj = s_q,t} rows tied with it. Metrics take the
    /// expected value over the block's orderings (`TiedFirstRank`, the project's one tie rule,
    /// Guides/Architecture.md "Ranking and ties"), as compat's retrieval does. Comparisons closer
    /// than the GEMM's error bound are decided in Float64 (`ExactScores`), so the blocks are the
    /// same on every CPU. Blocked GEMM; the q × n score matrix is never stored whole. Cross-space
    /// retrieval.
    ///
    /// - Complexity: O(q·n·d).
    public static func trueMatchRanks(queries: Matrix, gallery: Matrix, trueIndices: [Int]) -> [TiedFirstRank] {
        precondition(queries.rows == trueIndices.count && queries.cols == gallery.cols)
        // The `.index` case of `retrievalRanks`, one relevant row per query.
        var ranks = [TiedFirstRank](repeating: TiedFirstRank(before: 0, blockSize: 1, relevantInBlock: 1), count: queries.rows)
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
                for r in 0..<rows.count {
                    outBase[rows.lowerBound + r] = TiedFirstRank(before: count[r].better, blockSize: count[r].equal + 1, relevantInBlock: 1)
                }
            }
        }
        return ranks
    }
}
