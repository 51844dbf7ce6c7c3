import Foundation

/// The reference's own variation at one window size: the reference sample is cut into seeded
/// chunks of `chunkSize` rows, and each chunk is scored against the rest of the sample with the
/// chunk left out (MMD²_u with the windows' Gaussian kernel) — the score a window of that size
/// drawn from the reference itself gets. NannyML scores reference chunks against a reference
/// that contains them, which biases them low; leaving the chunk out does not.
///
/// The band's upper limit is the k-th smallest of the R chunk scores, k = min(R, ⌈0.99·(R + 1)⌉).
/// A window drawn like the reference, whose score is exchangeable with the R chunk scores, lies
/// above it with probability (R + 1 − k)/(R + 1) (`falseAlarmRate`; 1 % for the default R = 99,
/// where the limit is the largest chunk score). The window is scored against the whole sample
/// (S rows) and a chunk against S − w rows: the same expectation, and a slightly smaller spread
/// for the window, so the rate is if anything below the nominal one (measured in Guides/Shift.md).
/// Guide: Guides/Shift.md ("The reference's own variation").
public struct ReferenceVariationBand: Sendable, Equatable {
    public static let quantile = 0.99

    /// w, rows per chunk (the windows' size).
    public internal(set) var chunkSize: Int
    /// MMD²_u of each chunk against the rest of the sample, in the order drawn.
    public internal(set) var scores: [Double]

    public init(chunkSize: Int, scores: [Double]) {
        self.chunkSize = chunkSize
        self.scores = scores
    }

    /// k, the rank (1-based, ascending) of the upper limit among the R scores.
    public var upperRank: Int { min(scores.count, Int((Self.quantile * Double(scores.count + 1)).rounded(.up))) }
    /// The upper limit of normal variation.
    public var upper: Double { scores.sorted()[upperRank - 1] }
    public var median: Double {
        let s = scores.sorted(), c = s.count
        return c % 2 == 1 ? s[c / 2] : (s[c / 2 - 1] + s[c / 2]) / 2
    }
    public var lower: Double { scores.min() ?? .nan }
    /// P(a window exchangeable with the chunks scores above `upper`) = (R + 1 − k)/(R + 1).
    public var falseAlarmRate: Double { Double(scores.count + 1 - upperRank) / Double(scores.count + 1) }

    /// Chunks a band can be drawn from at size `w` out of `sampleRows`: each chunk and its rest
    /// need `minimumRows` rows.
    public static func fits(chunkSize w: Int, sampleRows s: Int, minimumRows: Int) -> Bool {
        w >= minimumRows && s - w >= minimumRows
    }

    /// Draws R chunks of w rows of the unit-normalised sample (R/⌊S/w⌋ seeded shuffles, each cut
    /// into ⌊S/w⌋ disjoint chunks) and scores every chunk against its rest in one kernel pass
    /// (`kernelQuadraticForms` with the chunks as the labellings).
    ///
    /// - Complexity: O(S²·d + S²·R) time through blocked GEMMs, O(S·R) memory.
    public static func compute(referenceUnit z: Matrix, bandwidth: Double, chunkSize w: Int, chunks r: Int, seed: UInt64) -> ReferenceVariationBand {
        let s = z.rows
        precondition(w >= 2 && s - w >= 2 && r >= 1, "ReferenceVariationBand: chunk size \(w) does not fit \(s) rows")
        let memberships = chunks(sampleRows: s, chunkSize: w, count: r, seed: seed)
        let design = TwoSamplePermutations(firstCount: w, secondCount: s - w, chunks: memberships, seed: seed)
        let forms = kernelQuadraticForms(unitRows: z, kernels: [.gaussian(bandwidth: bandwidth)], permutations: design)[0]
        return ReferenceVariationBand(chunkSize: w, scores: (0..<r).map { forms.unbiasedMMD($0) })
    }
}

extension ReferenceVariationBand {
    /// The R chunks (row indices of the sample): seeded shuffles of the S rows, each cut into
    /// ⌊S/w⌋ disjoint chunks of w rows, as many shuffles as R needs.
    ///
    /// - Complexity: O(S · ⌈R/⌊S/w⌋⌉).
    static func chunks(sampleRows s: Int, chunkSize w: Int, count r: Int, seed: UInt64) -> [[Int]] {
        var rng = SeededGenerator(seed: seed ^ 0x6261_6E64 ^ (UInt64(w) &* 0x9E37_79B9_7F4A_7C15))
        var memberships: [[Int]] = []
        let perShuffle = s / w
        while memberships.count < r {
            var order = Array(0..<s)
            for t in 0..<(s - 1) { order.swapAt(t, t + rng.nextIndex(s - t)) }
            for c in 0..<perShuffle where memberships.count < r { memberships.append(Array(order[(c * w)..<((c + 1) * w)])) }
        }
        return memberships
    }
}

extension TwoSamplePermutations {
    /// A design whose R columns are given subsets (each of `firstCount` rows) as the first
    /// sample — no observed column: column c is chunk c.
    ///
    /// - Complexity: O(N · R).
    init(firstCount m: Int, secondCount n: Int, chunks: [[Int]], seed: UInt64) {
        firstCount = m
        secondCount = n
        count = chunks.count - 1
        self.seed = seed
        let total = m + n, cols = chunks.count
        var member = [UInt8](repeating: 0, count: total * cols)
        for (c, rows) in chunks.enumerated() {
            precondition(rows.count == m)
            for i in rows { member[i * cols + c] = 1 }
        }
        (weights, columnSums) = Self.signedWeights(member: member, columns: cols, firstCount: m, secondCount: n)
        inFirst = member
    }
}
