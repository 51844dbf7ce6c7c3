import Foundation

/// Scores of the same item pairs in two spaces: what a similarity threshold decides in each.
/// `owners[p]` is the query row of pair p (for the bootstrap over queries).
public struct PairedScores: Sendable {
    public internal(set) var old: [Double]
    public internal(set) var new: [Double]
    public internal(set) var owners: [Int32]
    /// True when every distinct pair was scored, false for a seeded sample.
    public internal(set) var allPairs: Bool
    /// Pair indices by NEW score descending, ties by index: the one sort that thresholds, score
    /// quantiles and the calibration curve all read.
    public let newOrder: [Int]
    /// OLD and NEW scores ascending.
    public let sortedOld: [Double]
    public let sortedNew: [Double]

    /// - Complexity: O(P log P) for the two sorts.
    public init(old: [Double], new: [Double], owners: [Int32], allPairs: Bool) {
        precondition(old.count == new.count && owners.count == old.count, "PairedScores: one score per pair in each space")
        self.old = old
        self.new = new
        self.owners = owners
        self.allPairs = allPairs
        newOrder = (0..<new.count).sorted { new[$0] > new[$1] || (new[$0] == new[$1] && $0 < $1) }
        sortedOld = old.sorted()
        sortedNew = newOrder.reversed().map { new[$0] }
    }

    /// NEW scores descending.
    public var newDescending: [Double] { sortedNew.reversed() }
}

/// An OLD similarity threshold carried to NEW (Guides/Compatibility.md "Thresholds").
///
/// For an OLD cut-off t over the pairs P: K = #{p : old_p ≥ t};
/// - quantile-matched t′: the K-th largest NEW score, so NEW at t′ accepts the same share of pairs
///   (ties at t′ can add pairs; none when K = 0);
/// - agreement-maximising t′: the cut between two distinct NEW scores that maximises the share of
///   pairs on which "new ≥ t′" agrees with "old ≥ t" (and its F1 of the accepted sets); cuts that
///   agree equally often go to the higher F1 (for equal agreement, the cut accepting more pairs),
///   so accepting nothing is the answer only when no cut that accepts a pair agrees as often;
/// - reuse: precision and recall of NEW-at-t's accepted pairs against OLD-at-t's.
/// The quantile-matched t′ gets a seeded percentile bootstrap interval over query rows.
public struct ThresholdTransfer: Sendable {
    public internal(set) var threshold: Double
    public internal(set) var pairs: Int
    /// Share of pairs OLD accepts at t.
    public internal(set) var oldAcceptedShare: Double
    /// nil when t is above every OLD score (OLD accepts nothing; nothing to match).
    public internal(set) var quantileMatched: Double?
    /// Quantile-matched over each space's own top-k neighbour pairs.
    public internal(set) var quantileMatchedTopK: Double?
    public internal(set) var bestAgreement: Double?
    public internal(set) var bestAgreementF1: Double
    public internal(set) var bestAgreementAccuracy: Double
    /// nil when NEW accepts nothing at t.
    public internal(set) var reusePrecision: Double?
    /// nil when OLD accepts nothing at t.
    public internal(set) var reuseRecall: Double?
    public internal(set) var interval: (low: Double, high: Double)?
    public internal(set) var bootstrapReplicates: Int
    /// Plain-language notes on degenerate cases (no pair above t, constant scores, ties).
    public internal(set) var notes: [String]

    /// - Complexity: O(P log P) for the sorts plus O(B·P) for B bootstrap replicates.
    public static func compute(threshold t: Double, scores: PairedScores, oldTopK: [Double], newTopK: [Double],
                               bootstrap: Int, seed: UInt64) -> ThresholdTransfer {
        let n = scores.old.count
        var notes: [String] = []
        let accepted = scores.old.reduce(0) { $0 + ($1 >= t ? 1 : 0) }
        let newDescending = scores.newDescending
        var matched: Double? = nil
        if accepted == 0 {
            notes.append("no pair scores ≥ \(t) in OLD: there is no accepted share to carry over")
        } else {
            matched = newDescending[accepted - 1]
            let tiedBeyond = newDescending[accepted...].prefix { $0 == matched! }.count
            if tiedBeyond > 0 { notes.append("\(tiedBeyond) more pairs tie with the quantile-matched cut in NEW and are accepted too") }
        }
        if let lo = newDescending.last, let hi = newDescending.first, lo == hi {
            notes.append("every NEW pair has the same score (\(lo)): a threshold cannot separate pairs in NEW")
        }
        // Quantile match over each space's own top-k neighbour pairs.
        var topK: Double? = nil
        let acceptedTop = oldTopK.reduce(0) { $0 + ($1 >= t ? 1 : 0) }
        if acceptedTop > 0, !newTopK.isEmpty {
            let share = Double(acceptedTop) / Double(oldTopK.count)
            let k = max(1, Int((share * Double(newTopK.count)).rounded()))
            topK = newTopK.sorted(by: >)[min(k, newTopK.count) - 1]
        }
        // Agreement: sweep NEW scores descending; accepting the top i pairs agrees on
        // (old-positives among them) + (old-negatives among the rest). Cuts only between distinct scores.
        // Equal agreement: the higher F1 = 2·TP/(K + i). With agreement 2·TP − i + (n − K) fixed,
        // F1 = (c + i)/(K + i) for c = 2·TP − i ≤ K, which does not decrease in i: the later cut
        // (accepting more pairs) wins, and accepting nothing (F1 0) loses every tie.
        let order = scores.newOrder
        var bestAgree = n - accepted, bestCut = 0, positivesAbove = 0, bestPositives = 0
        var i = 0
        while i < n {
            var j = i
            while j < n && scores.new[order[j]] == scores.new[order[i]] {
                if scores.old[order[j]] >= t { positivesAbove += 1 }
                j += 1
            }
            let agree = positivesAbove + (n - j - (accepted - positivesAbove))
            if agree >= bestAgree { bestAgree = agree; bestCut = j; bestPositives = positivesAbove }
            i = j
        }
        let best: Double? = bestCut > 0 ? scores.new[order[bestCut - 1]] : nil
        let f1 = accepted + bestCut > 0 ? 2 * Double(bestPositives) / Double(accepted + bestCut) : .nan
        // Reuse t unchanged.
        var both = 0, newAccepted = 0
        for p in 0..<n where scores.new[p] >= t {
            newAccepted += 1
            if scores.old[p] >= t { both += 1 }
        }
        if newAccepted == 0 && accepted > 0 { notes.append("reusing \(t) in NEW accepts no pair at all") }
        // Bootstrap over query rows: weights = multiplicity of each pair's owner in the resample.
        var interval: (Double, Double)? = nil
        if bootstrap > 0, accepted > 0 {
            let rows = Int(scores.owners.max() ?? 0) + 1
            var rng = SeededGenerator(seed: seed)
            var weight = [Int](repeating: 0, count: rows)
            var replicates: [Double] = []
            replicates.reserveCapacity(bootstrap)
            for _ in 0..<bootstrap {
                for r in 0..<rows { weight[r] = 0 }
                for _ in 0..<rows { weight[rng.nextIndex(rows)] += 1 }
                var target = 0
                for p in 0..<n where scores.old[p] >= t { target += weight[Int(scores.owners[p])] }
                guard target > 0 else { continue }
                var acc = 0
                for p in order {
                    acc += weight[Int(scores.owners[p])]
                    if acc >= target { replicates.append(scores.new[p]); break }
                }
            }
            if !replicates.isEmpty {
                replicates.sort()
                interval = (Statistics.quantile(replicates, 0.025), Statistics.quantile(replicates, 0.975))
            }
        }
        return ThresholdTransfer(threshold: t, pairs: n, oldAcceptedShare: n > 0 ? Double(accepted) / Double(n) : .nan,
                                 quantileMatched: matched, quantileMatchedTopK: topK, bestAgreement: best,
                                 bestAgreementF1: f1, bestAgreementAccuracy: n > 0 ? Double(bestAgree) / Double(n) : .nan,
                                 reusePrecision: newAccepted > 0 ? Double(both) / Double(newAccepted) : nil,
                                 reuseRecall: accepted > 0 ? Double(both) / Double(accepted) : nil,
                                 interval: interval, bootstrapReplicates: bootstrap, notes: notes)
    }
}

/// How the score distributions moved between OLD and NEW (always reported by compat): quantiles of
/// random-pair cosines, top-1 cosines and top-1 − top-2 margins, and their two-sample KS distances
/// at the scores' resolution.
public struct ScoreShift: Sendable {
    public static let levels: [Double] = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99]

    public struct Distribution: Sendable {
        public internal(set) var name: String
        public internal(set) var old: [Double]
        public internal(set) var new: [Double]
        /// Kolmogorov–Smirnov distance at `resolution` (`Statistics.ksDistance(sorted:_:resolution:)`):
        /// scores closer than the resolution count as equal, so round-off of equal scores is no shift.
        public internal(set) var ksDistance: Double
        /// Scores that differ by at most this much count as equal in `ksDistance`.
        public internal(set) var resolution: Double
    }

    public internal(set) var distributions: [Distribution]

    /// The resolution of a cosine of unit rows of dimensions `d₁` (OLD) and `d₂` (NEW):
    /// (d₁ + d₂)·2⁻²⁴, the sum of the worst-case errors of a d-term Float32 dot product on each
    /// side (Higham, *Accuracy and Stability*, §3.1; the duplicate tolerance of
    /// `CrossCorpusDuplicates` is the one-sided d·2⁻²⁴). Float32 inputs cannot resolve two cosines
    /// closer than that, so their KS distance does not count such differences.
    public static func cosineResolution(oldDimension d1: Int, newDimension d2: Int) -> Double {
        Double(max(d1, 1) + max(d2, 1)) * 0x1p-24
    }

    /// - Complexity: O(m log m) per distribution of m values.
    public static func describe(_ name: String, old: [Double], new: [Double], resolution: Double = 0) -> Distribution {
        describe(name, sortedOld: old.sorted(), sortedNew: new.sorted(), resolution: resolution)
    }

    /// The same from ascending samples.
    ///
    /// - Complexity: O(m + n).
    public static func describe(_ name: String, sortedOld a: [Double], sortedNew b: [Double], resolution: Double = 0) -> Distribution {
        Distribution(name: name, old: levels.map { Statistics.quantile(a, $0) },
                     new: levels.map { Statistics.quantile(b, $0) },
                     ksDistance: Statistics.ksDistance(sorted: a, b, resolution: resolution), resolution: resolution)
    }
}
