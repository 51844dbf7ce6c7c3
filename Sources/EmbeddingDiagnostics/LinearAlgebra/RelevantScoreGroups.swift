import Foundation

/// A query's relevant gallery rows grouped by their exact (Float64, `ExactScores`) score: the
/// distinct values in descending order and how many relevant rows share each. With the counts of
/// the non-relevant rows around each group (`ExactScores.countAroundGroups`) they give the tied
/// ranks and average precision of `Retrieval.retrievalRanks` (`RetrievalRanks.rankedGroups`). The
/// groups may come from the whole gallery at once (a single run) or be merged from the shards of a
/// gallery (`compat --partial`, Guides/Scale.md): the counts add up across shards.
public struct RelevantScoreGroups: Sendable, Equatable {
    /// Distinct relevant scores, descending.
    public internal(set) var values: [Double]
    /// Relevant rows per value.
    public internal(set) var sizes: [Int]

    /// Groups as stored (a merged `compat --partial` state): `values` distinct and descending.
    ///
    /// - Complexity: O(1).
    public init(values: [Double], sizes: [Int]) {
        precondition(values.count == sizes.count, "RelevantScoreGroups: one size per value")
        self.values = values
        self.sizes = sizes
    }

    /// Groups the relevant rows' scores (any order; equal Float64 values share a group).
    ///
    /// - Complexity: O(R log R).
    public init(scores: [Double]) {
        let sorted = scores.sorted(by: >)
        var values: [Double] = [], sizes: [Int] = []
        for x in sorted {
            if let last = values.last, last == x { sizes[sizes.count - 1] += 1 } else { values.append(x); sizes.append(1) }
        }
        self.init(values: values, sizes: sizes)
    }

    public static let empty = RelevantScoreGroups(values: [], sizes: [])

    /// R, the relevant rows of the query.
    public var relevantCount: Int { sizes.reduce(0, +) }
}

extension ExactScores {
    /// A raw Float32 GEMM value below this is below `lowestValue` by more than `tolerance`
    /// (rounded down, so it never decides a row the Float64 rule would not); −∞ with scales.
    func rawFloor(below lowestValue: Double) -> Float {
        guard queryScale == nil, galleryScale == nil else { return -.infinity }
        let lowest = lowestValue - tolerance
        var f = Float(lowest)
        if Double(f) > lowest { f = f.nextDown }
        return f
    }

    /// Adds one tile row of query q to its group counts. Every gallery row j of `columns` that is
    /// not relevant (`galleryClass[j] != queryClass`) and not `excluded` is counted in `tied[g]`
    /// when its Float64 score equals `values[g]`, else in `above[g]` where g is the number of group
    /// values above it (`above[values.count]`: below every group). Screened by the GEMM value
    /// (`raws`), decided in Float64 within `tolerance` of a group value — the rule of `compare`, so
    /// the counts are those of the Float64 scores on every CPU, kernel, thread count and tiling.
    /// `floorRaw` is `rawFloor(below: values.last!)`; `above` holds values.count + 1 entries;
    /// `galleryClass` one class per gallery row.
    ///
    /// - Complexity: O(width) plus O(log G) per row near a group and O(d) per row within
    ///   `tolerance` of one.
    @inline(__always)
    func countAroundGroups(_ raws: UnsafePointer<Float>, columns: Range<Int>, query q: Int, queryClass c: Int32, galleryClass: UnsafePointer<Int32>,
                           excluded ex: Int, values: UnsafeBufferPointer<Double>, floorRaw: Float,
                           above: UnsafeMutablePointer<Int>, tied: UnsafeMutablePointer<Int>) {
        let groups = values.count, eps = tolerance
        let value = values.baseAddress!
        let lowest = value[groups - 1] - eps
        // Number of groups whose value is > x (binary search on descending values).
        @inline(__always) func groupsAbove(_ x: Double) -> Int {
            var lo = 0, hi = groups
            while lo < hi { let mid = (lo + hi) >> 1; if value[mid] > x { lo = mid + 1 } else { hi = mid } }
            return lo
        }
        let g0 = columns.lowerBound
        for jj in 0..<columns.count {
            let j = g0 + jj
            let raw = raws[jj]
            if raw < floorRaw {
                if galleryClass[j] != c && j != ex { above[groups] += 1 }
                continue
            }
            if galleryClass[j] == c || j == ex { continue }
            let v = screened(raw, q, j)
            if v < lowest { above[groups] += 1; continue }
            // Certain when no group value lies within eps of v.
            let a = groupsAbove(v + eps), b = groupsAbove((v - eps).nextDown)
            if a == b { above[a] += 1; continue }
            let e = exact(q, j)
            let k = groupsAbove(e)
            if k < groups && value[k] == e { tied[k] += 1 } else { above[k] += 1 }
        }
    }
}

extension RetrievalRanks {
    /// The tied block of the first relevant row and the expected average precision of a query
    /// from its relevant groups and, per group, the non-relevant rows strictly above it (below the
    /// previous group: `above[g]`) and tied with it (`tied[g]`); entries past the groups are unused.
    ///
    /// - Complexity: O(Σ block sizes) (`TiedFirstRank.averagePrecisionContribution`).
    public static func rankedGroups(_ groups: RelevantScoreGroups, above: [Int], tied: [Int]) -> (first: TiedFirstRank, averagePrecision: Double) {
        precondition(!groups.values.isEmpty && above.count >= groups.values.count && tied.count >= groups.values.count)
        var precedingItems = 0, precedingRelevant = 0, sum = 0.0
        var first: TiedFirstRank?
        for g in 0..<groups.values.count {
            precedingItems += above[g]
            let blockSize = groups.sizes[g] + tied[g]
            if g == 0 { first = TiedFirstRank(before: precedingItems, blockSize: blockSize, relevantInBlock: groups.sizes[g]) }
            sum += TiedFirstRank.averagePrecisionContribution(precedingItems: precedingItems, precedingRelevant: precedingRelevant,
                                                              blockSize: blockSize, relevantInBlock: groups.sizes[g])
            precedingItems += blockSize
            precedingRelevant += groups.sizes[g]
        }
        return (first!, sum / Double(precedingRelevant))
    }

    /// The same for a query with one relevant row (`RetrievalRelevance.index`): `better` rows score
    /// above it, `equal` rows tie with it; average precision is the expected reciprocal rank.
    ///
    /// - Complexity: O(equal) (`TiedFirstRank.expectedReciprocalRank`).
    public static func rankedTarget(better: Int, equal: Int) -> (first: TiedFirstRank, averagePrecision: Double) {
        let block = TiedFirstRank(before: better, blockSize: equal + 1, relevantInBlock: 1)
        return (block, block.expectedReciprocalRank)
    }
}
