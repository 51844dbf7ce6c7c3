import Foundation

/// Rows of OTHER that duplicate a REF row, on the unit-normalised rows every two-sample test uses.
///
/// Every two-sample test (MMD, energy, classifier, depth, the k-NN numbers) assumes that REF and
/// OTHER are *independent* samples. A row present in both breaks that: OTHER then sits closer to
/// REF than any independent sample can (the depth test sees it at once), so a copy of the
/// reference looks "shifted". Shared rows are also a finding in themselves (synthetic data that
/// copies its source). Guide: Guides/Shift.md ("Rows shared with the reference").
///
/// - exact: the unit rows are equal value for value (`==`, so −0 equals +0), found by hashing;
/// - near-exact: 1 − cos ≤ `tolerance` = d·u (u = 2⁻²⁴), the worst-case error of a d-term Float32
///   dot product of unit rows (Higham, *Accuracy and Stability*, §3.1): the Float32 GEMMs the tests
///   run cannot tell such a pair from an exact copy. Found without an all-pairs pass
///   (`nearExactMatches`: projections screen, the pair's cosine is decided in Float64), so `depth`,
///   whose cosine depths cost O((m + n)·d), can afford it too.
public struct CrossCorpusDuplicates: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable { case exact, near }

    /// One OTHER row and the REF row it duplicates.
    public struct Match: Sendable, Equatable {
        /// Row of OTHER (index into the rows searched).
        public internal(set) var otherRow: Int
        /// The REF row it duplicates (exact: the first identical REF row; near: of the REF rows
        /// within the tolerance, the one of largest Float64 cosine, ties to the smaller row).
        public internal(set) var referenceRow: Int
        /// 1 − cos of the pair in Float64 (0 for an exact copy).
        public internal(set) var oneMinusCosine: Double
        public internal(set) var kind: Kind
    }

    /// 1 − cos ≤ tolerance counts as a near-exact copy (nil: near-exact copies were not searched).
    public internal(set) var tolerance: Double?
    public internal(set) var referenceCount: Int
    public internal(set) var otherCount: Int
    /// Every duplicating OTHER row, in OTHER's row order.
    public internal(set) var matches: [Match]
    /// REF rows that have a copy in OTHER (an exact match marks every identical REF row).
    public internal(set) var referenceRowsMatched: Int
    /// REF rows equal to an earlier REF row: on data with few distinct rows (quantised or
    /// integer-valued), independent samples share rows by chance, which this count makes visible.
    public internal(set) var referenceInternalDuplicates: Int
    /// Matches on a value that repeats: the REF row matched is equal to another REF row, or
    /// another OTHER row matches the same REF row(s). A copy pairs each copied row with a
    /// distinct REF row; data with few distinct rows (quantised, integer-valued, d = 1 after
    /// normalisation) shares its repeated values by chance.
    public internal(set) var repeatedValueMatches: Int = 0
    /// OTHER rows searched for near-exact copies when only some were (`shift --max-rows`: every
    /// row for exact copies, the sampled rows for near-exact ones); nil = every row.
    public internal(set) var nearExactSearchedRows: Int?

    public var count: Int { matches.count }
    /// Whether the shared rows are read as copies: most matches pair an OTHER row one-to-one with
    /// a REF row that REF does not repeat. Otherwise the shared rows are repeated values that
    /// independent samples of such data share by chance, and the tests run on the rows as given.
    public var areCopies: Bool { count > 0 && 2 * repeatedValueMatches < count }
    public var exactCount: Int { matches.filter { $0.kind == .exact }.count }
    public var nearCount: Int { count - exactCount }
    /// Share of OTHER's rows that duplicate a REF row.
    public var otherShare: Double { otherCount > 0 ? Double(count) / Double(otherCount) : 0 }
    /// Share of REF's rows that have a copy in OTHER.
    public var referenceShare: Double { referenceCount > 0 ? Double(referenceRowsMatched) / Double(referenceCount) : 0 }
    /// OTHER rows that duplicate no REF row, in order: the rows the tests run on by default.
    public var independentOtherRows: [Int] {
        let dup = Set(matches.map(\.otherRow))
        return (0..<otherCount).filter { !dup.contains($0) }
    }

    /// The near-exact tolerance for dimension d: d·2⁻²⁴.
    public static func tolerance(dimension d: Int) -> Double { Double(max(d, 1)) * 0x1p-24 }

    /// Below this dimension near-exact copies are not searched (exact ones still are): the
    /// tolerance is an angle of √(2d·2⁻²⁴) ≈ 5·10⁻⁴ at d = 2, which independent continuous draws
    /// fall within by chance (≈ 1.6·10⁻⁴ of all pairs at d = 2, so ~160 "copies" among 1,000 × 1,000
    /// rows); at d = 4 the chance is ~10⁻¹⁰ per pair.
    public static let nearExactMinimumDimension = 4

    /// Finds the OTHER rows that duplicate a REF row.
    /// - Parameters:
    ///   - reference, other: unit-normalised rows (as the tests see them), same dimension.
    ///   - nearExact: also search near-exact copies; false: exact copies only.
    /// - Complexity: exact O((m + n)·d) expected (hashing); near-exact see `nearExactMatches`.
    ///   - nearExactRows: the OTHER rows searched for near-exact copies (nil: every row); exact
    ///     copies are searched on every row whatever it says.
    public static func find(reference r: Matrix, other o: Matrix, nearExact: Bool = true, nearExactRows: [Int]? = nil) -> CrossCorpusDuplicates {
        precondition(r.cols == o.cols, "CrossCorpusDuplicates: dimensions differ")
        let m = r.rows, n = o.rows, d = r.cols
        // Exact: bucket REF rows by a hash of their values (−0 hashed as +0, so `==` rows collide).
        func rowHash(_ p: UnsafePointer<Float>) -> Int {
            var h = Hasher()
            for t in 0..<d { h.combine((p[t] + 0).bitPattern) }
            return h.finalize()
        }
        func equalRows(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>) -> Bool {
            for t in 0..<d where a[t] != b[t] { return false }
            return true
        }
        let rp = r.pointer, op = o.pointer
        // Groups of identical REF rows (members in row order), found through a hash of their values.
        var groups: [[Int]] = []
        var groupOf = [Int](repeating: 0, count: m)
        var buckets: [Int: [Int]] = [:]
        buckets.reserveCapacity(m)
        func group(of p: UnsafePointer<Float>, hash h: Int) -> Int? {
            buckets[h]?.first { equalRows(rp + groups[$0][0] * d, p) }
        }
        for i in 0..<m {
            let h = rowHash(rp + i * d)
            if let g = group(of: rp + i * d, hash: h) { groups[g].append(i); groupOf[i] = g } else {
                buckets[h, default: []].append(groups.count)
                groupOf[i] = groups.count
                groups.append([i])
            }
        }
        var matches: [Match] = []
        var matchedReference = [Bool](repeating: false, count: m)
        var withoutExact: [Int] = []
        for j in 0..<n {
            if let g = group(of: op + j * d, hash: rowHash(op + j * d)) {
                matches.append(Match(otherRow: j, referenceRow: groups[g][0], oneMinusCosine: 0, kind: .exact))
                for i in groups[g] { matchedReference[i] = true }
            } else {
                withoutExact.append(j)
            }
        }
        let internalDuplicates = m - groups.count
        var tolerance: Double?
        if nearExact && d >= Self.nearExactMinimumDimension {
            let tau = Self.tolerance(dimension: d)
            tolerance = tau
            let searched = nearExactRows.map { Set($0) }.map { allowed in withoutExact.filter { allowed.contains($0) } } ?? withoutExact
            for (j, i, gap) in nearExactMatches(reference: r, other: o, rows: searched, tolerance: tau) {
                matches.append(Match(otherRow: j, referenceRow: i, oneMinusCosine: gap, kind: .near))
                matchedReference[i] = true
            }
            matches.sort { $0.otherRow < $1.otherRow }
        }
        // A match is one-to-one when its REF row is unique in REF and no other OTHER row matches it.
        var matchesPerGroup = [Int](repeating: 0, count: groups.count)
        for match in matches { matchesPerGroup[groupOf[match.referenceRow]] += 1 }
        let repeated = matches.filter { groups[groupOf[$0.referenceRow]].count > 1 || matchesPerGroup[groupOf[$0.referenceRow]] > 1 }.count
        return CrossCorpusDuplicates(tolerance: tolerance, referenceCount: m, otherCount: n, matches: matches,
                                     referenceRowsMatched: matchedReference.filter { $0 }.count,
                                     referenceInternalDuplicates: internalDuplicates, repeatedValueMatches: repeated,
                                     nearExactSearchedRows: nearExactRows.map { Set($0).count })
    }
}
