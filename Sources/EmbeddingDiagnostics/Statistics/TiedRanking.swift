import Foundation

/// Where a query's first relevant item sits in a ranking whose scores may tie exactly.
///
/// A ranking with ties is a sequence of tied blocks; every ordering inside a block is equally
/// valid, so each metric is reported as its expected value over all those orderings (McSherry &
/// Najork, "Computing information retrieval performance measures efficiently in the presence of
/// tied scores", ECIR 2008). Without ties (`blockSize == 1`) every value is the usual one.
/// Guide: Guides/Compatibility.md, "Ties".
public struct TiedFirstRank: Sendable, Equatable {
    /// Items ranked strictly before the block that holds the first relevant item.
    public internal(set) var before: Int
    /// Size m of that block (relevant and non-relevant items), m ≥ 1.
    public internal(set) var blockSize: Int
    /// Relevant items r in that block, 1 ≤ r ≤ m.
    public internal(set) var relevantInBlock: Int

    public init(before: Int, blockSize: Int, relevantInBlock: Int) {
        precondition(blockSize >= 1 && relevantInBlock >= 1 && relevantInBlock <= blockSize)
        self.before = before
        self.blockSize = blockSize
        self.relevantInBlock = relevantInBlock
    }

    /// P(rank of the first relevant item ≤ k): 1 − C(m − j, r) / C(m, r), j = k − before.
    ///
    /// - Complexity: O(r).
    public func probabilityWithin(_ k: Int) -> Double {
        let j = k - before, m = blockSize, r = relevantInBlock
        if j <= 0 { return 0 }
        if j > m - r { return 1 }
        var none = 1.0  // no relevant item among the block's first j places
        for t in 0..<r { none *= Double(m - j - t) / Double(m - t) }
        return 1 - none
    }

    /// E[1 / rank]: Σᵢ P(first relevant at block place i) / (before + i), with P(1) = r/m and
    /// P(i + 1) = P(i)·(m − i − r + 1)/(m − i).
    ///
    /// - Complexity: O(m − r).
    public var expectedReciprocalRank: Double {
        let m = blockSize, r = relevantInBlock
        var p = Double(r) / Double(m), sum = 0.0
        for i in 1...(m - r + 1) {
            sum += p / Double(before + i)
            if i < m { p *= Double(m - i - r + 1) / Double(m - i) }
        }
        return sum
    }

    /// E[1 / rank · 1(rank ≤ k)] (MRR counting only ranks ≤ k): the terms of
    /// `expectedReciprocalRank` with before + i ≤ k.
    ///
    /// - Complexity: O(m − r).
    public func expectedReciprocalRank(within k: Int) -> Double {
        let m = blockSize, r = relevantInBlock
        var p = Double(r) / Double(m), sum = 0.0
        for i in 1...(m - r + 1) {
            if before + i > k { break }
            sum += p / Double(before + i)
            if i < m { p *= Double(m - i - r + 1) / Double(m - i) }
        }
        return sum
    }

    /// E[rank] = before + (m + 1)/(r + 1).
    public var expectedRank: Double { Double(before) + Double(blockSize + 1) / Double(relevantInBlock + 1) }

    /// P(rank = 1).
    public var probabilityFirst: Double { probabilityWithin(1) }

    /// Expected contribution of one tied block to Σ precision@(relevant positions) for average
    /// precision: Σᵢ (r/m)·(R₀ + 1 + (i − 1)(r − 1)/(m − 1)) / (N + i), where N items and R₀
    /// relevant items precede the block (linearity of expectation over the block's orderings).
    ///
    /// - Complexity: O(m).
    public static func averagePrecisionContribution(precedingItems n: Int, precedingRelevant r0: Int,
                                                    blockSize m: Int, relevantInBlock r: Int) -> Double {
        guard r > 0 else { return 0 }
        if m == 1 { return Double(r0 + 1) / Double(n + 1) }
        let share = Double(r) / Double(m), slope = Double(r - 1) / Double(m - 1)
        var sum = 0.0
        for i in 1...m { sum += (Double(r0 + 1) + Double(i - 1) * slope) / Double(n + i) }
        return share * sum
    }
}
