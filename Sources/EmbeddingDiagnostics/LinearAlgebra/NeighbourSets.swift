import COpenBLAS
import Foundation

/// A query's k-NN set with its ties: the rows above the k-th score belong to it in every order of
/// the tied rows; the rows whose score equals the k-th score share the remaining `slots` places.
///
/// A k-NN *list* breaks such ties by row number (`nearestNeighbors`), which is a rule, not data:
/// two unrelated spaces with many ties (quantised codes, d = 1, duplicated rows) then agree on the
/// smallest row numbers of every tied block, and their lists overlap far beyond chance. Set
/// comparisons (`SpaceComparison.knnJaccard`, `knnOverlap`) therefore count each tied row with its
/// probability of being chosen, `slots / tied.count` — the expected value over the orders of the
/// tied rows, the project's one tie rule (Guides/Architecture.md, "Ranking and ties").
public struct NeighbourSet: Sendable, Equatable {
    /// Rows scored above the k-th score: in the set whatever the order of ties.
    public internal(set) var sure: [Int32]
    /// Rows scored exactly at the k-th score (Float64, `ExactScores`), when they outnumber the
    /// places left; empty when the set is determined.
    public internal(set) var tied: [Int32]
    /// Places of the set the tied rows share (k − sure.count when `tied` is not empty).
    public internal(set) var slots: Int

    /// Rows in the set.
    public var size: Int { sure.count + slots }
    /// Whether the data decide the set (no tie straddles the k-th place).
    public var isDetermined: Bool { tied.isEmpty }

    /// A set without ties (a list taken as it is).
    public init(_ rows: [Int32]) {
        sure = rows
        tied = []
        slots = 0
    }

    init(sure: [Int32], tied: [Int32], slots: Int) {
        self.sure = sure
        self.tied = tied
        self.slots = slots
    }

    /// Probability that each row is in the set when the tied rows are ordered at random.
    func memberships() -> [Int32: Double] {
        var p: [Int32: Double] = [:]
        p.reserveCapacity(sure.count + tied.count)
        for j in sure { p[j] = 1 }
        let share = tied.isEmpty ? 0 : Double(slots) / Double(tied.count)
        for j in tied { p[j] = share }
        return p
    }

    /// The k-NN sets (with ties) of gallery rows `rows` among all gallery rows but themselves.
    ///
    /// - Parameters:
    ///   - lists: `nearestNeighbors(ofRows: rows, in: gallery, k: K, scale: scale)` with K > k where
    ///     the gallery allows (the (k + 1)-th score shows whether the k-th is tied).
    ///   - k: the set size (at most `lists.k`).
    ///   - cosines: the gallery rows as given, whose `exactCosine`s decide (see `ExactScores`); pass
    ///     the same to `nearestNeighbors` for `lists`.
    /// - Complexity: O(K·d) per query to rescore its list; a query whose tie runs past the end of
    ///   its list is rescanned against the whole gallery (O(n·d) Float32 plus Float64 rescoring of
    ///   the near-ties): only on data with large tied blocks.
    public static func sets(ofRows rows: [Int], in gallery: Matrix, k: Int, scale: [Double]? = nil, cosines: CosineRows? = nil,
                            lists: NearestNeighbors) -> [NeighbourSet] {
        precondition(lists.queryCount == rows.count, "NeighbourSet.sets: one list per row")
        let exact = ExactScores(queries: gallery, gallery: gallery, queryScale: scale, galleryScale: scale, cosines: cosines.map { ($0, $0) })
        return rows.enumerated().map { q, row in
            let listed = lists.neighbors(of: q).filter { $0 >= 0 }
            let kk = min(k, listed.count)
            // The gallery has no row beyond these: every one of them is in the set.
            guard listed.count > kk else { return NeighbourSet(Array(listed.prefix(kk))) }
            let score = listed.map { exact.exact(row, Int($0)) }
            let s = score[kk - 1]
            guard score[kk] == s else { return NeighbourSet(Array(listed.prefix(kk))) }
            var before = kk - 1
            while before > 0 && score[before - 1] == s { before -= 1 }
            var end = kk
            while end < listed.count && score[end] == s { end += 1 }
            var tied = Array(listed[before..<end])
            if end == listed.count && listed.count == lists.k {
                // The tie may continue past the list: find every gallery row at exactly s.
                tied = tiedRows(row, at: s, in: gallery, exact: exact)
            }
            return NeighbourSet(sure: Array(listed.prefix(before)), tied: tied, slots: kk - before)
        }
    }

    /// Every gallery row j ≠ `row` whose Float64 score with `row` equals `s` (GEMV screens, Float64 decides).
    static func tiedRows(_ row: Int, at s: Double, in gallery: Matrix, exact: ExactScores) -> [Int32] {
        let n = gallery.rows, d = gallery.cols
        var raw = [Float](repeating: 0, count: n)
        raw.withUnsafeMutableBufferPointer { out in
            cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(n), Int32(d), 1, gallery.pointer, Int32(d), gallery.pointer + row * d, 1, 0, out.baseAddress!, 1)
        }
        return (0..<n).filter { $0 != row && exact.compare(raw[$0], row, $0, to: s) == 0 }.map { Int32($0) }
    }
}

extension NearestNeighbors {
    /// The first k neighbours of every query (lists are best first, so a prefix is the k-NN list).
    ///
    /// - Complexity: O(queries·k).
    public func prefix(_ k: Int) -> NearestNeighbors {
        guard k < self.k else { return self }
        var indices = [Int32](), scores = [Float]()
        indices.reserveCapacity(queryCount * k); scores.reserveCapacity(queryCount * k)
        for q in 0..<queryCount {
            indices += neighbors(of: q).prefix(k)
            scores += self.scores(of: q).prefix(k)
        }
        return NearestNeighbors(k: k, indices: indices, scores: scores)
    }
}

extension SpaceComparison {
    /// Expected |A ∩ B| over the orders of both sets' tied rows (taken independently):
    /// Σ_j P(j ∈ A)·P(j ∈ B).
    ///
    /// Counted by kind of membership (sure or tied in each set) and weighted once per kind, so
    /// the value does not depend on an order of summation (a dictionary's iteration order changes
    /// from process to process).
    ///
    /// - Complexity: O(|A| + |B|) with their tied rows.
    public static func expectedIntersection(_ a: NeighbourSet, _ b: NeighbourSet) -> Double {
        let pa = a.memberships()
        let shareA = a.tied.isEmpty ? 0 : Double(a.slots) / Double(a.tied.count)
        let shareB = b.tied.isEmpty ? 0 : Double(b.slots) / Double(b.tied.count)
        var sureBoth = 0, tiedInAOnly = 0, tiedInBOnly = 0, tiedBoth = 0
        for j in b.sure { if let p = pa[j] { if p == 1 { sureBoth += 1 } else { tiedInAOnly += 1 } } }
        for j in b.tied { if let p = pa[j] { if p == 1 { tiedInBOnly += 1 } else { tiedBoth += 1 } } }
        return Double(sureBoth) + shareA * Double(tiedInAOnly) + shareB * Double(tiedInBOnly) + shareA * shareB * Double(tiedBoth)
    }

    /// Per query: Jaccard E|A ∩ B| / (|A| + |B| − E|A ∩ B|) of its k-NN sets in two spaces (the
    /// Jaccard of the expected intersection; exactly |A ∩ B| / |A ∪ B| when both sets are
    /// determined). 0 when both sets are empty.
    public static func knnJaccard(_ a: [NeighbourSet], _ b: [NeighbourSet]) -> [Double] {
        precondition(a.count == b.count, "knnJaccard: query counts differ")
        return zip(a, b).map { x, y in
            let shared = expectedIntersection(x, y)
            let union = Double(x.size + y.size) - shared
            return union <= 0 ? 0 : shared / union
        }
    }

    /// Per query: mutual k-NN overlap E|A ∩ B| / k (Huh et al. 2024) of its sets in two spaces.
    public static func knnOverlap(_ a: [NeighbourSet], _ b: [NeighbourSet], k: Int) -> [Double] {
        precondition(a.count == b.count && k > 0, "knnOverlap: shapes differ")
        return zip(a, b).map { expectedIntersection($0, $1) / Double(k) }
    }

    /// Share of queries whose set is not determined in either space (ties at the k-th place).
    public static func undeterminedShare(_ a: [NeighbourSet], _ b: [NeighbourSet]) -> Double {
        guard !a.isEmpty else { return 0 }
        return Double(zip(a, b).filter { !$0.isDetermined || !$1.isDetermined }.count) / Double(a.count)
    }

    /// Share of the places of all sets (both spaces) that ties fill: Σ slots of undetermined
    /// sets / Σ sizes. An overlap moves by at most about this share whatever the tie order, so it
    /// measures how far the data leave the overlap open (0.07 for 384-bit sign codes, where half of
    /// the rows tie somewhere at their 10th place; 1 for ±1 data in d = 1).
    public static func tiedPlaceShare(_ a: [NeighbourSet], _ b: [NeighbourSet]) -> Double {
        let sets = a + b
        let places = sets.reduce(0) { $0 + $1.size }
        guard places > 0 else { return 0 }
        return Double(sets.reduce(0) { $0 + ($1.isDetermined ? 0 : $1.slots) }) / Double(places)
    }

    /// Above this share of places filled by ties (`tiedPlaceShare`), set overlaps are reported as
    /// not determined (null, with a note) instead of a number that the tie rule, not the data, decides.
    public static let tiedPlaceShareLimit = 0.25
}
