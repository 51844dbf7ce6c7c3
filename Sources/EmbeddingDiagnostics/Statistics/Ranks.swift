import Foundation

extension Statistics {
    /// Average ranks (1-based; ties get the mean of the ranks they span), as scipy.stats.rankdata's
    /// default "average" method. Also returns the tie-group sizes for tie corrections.
    public static func averageRanks(_ values: [Double]) -> (ranks: [Double], tieGroupSizes: [Int]) {
        let n = values.count
        let order = (0..<n).sorted { values[$0] < values[$1] || (values[$0] == values[$1] && $0 < $1) }
        var ranks = [Double](repeating: 0, count: n)
        var ties: [Int] = []
        var i = 0
        while i < n {
            var j = i
            while j + 1 < n && values[order[j + 1]] == values[order[i]] { j += 1 }
            let r = Double(i + j) / 2 + 1
            for t in i...j { ranks[order[t]] = r }
            if j > i { ties.append(j - i + 1) }
            i = j + 1
        }
        return (ranks, ties)
    }
}
