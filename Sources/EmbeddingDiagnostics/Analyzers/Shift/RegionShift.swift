import Foundation

/// One reference cluster seen from one comparison set: shares, the test, and whether it changed.
public struct ClusterShift: Sendable, Equatable {
    /// Index into `ReferenceRegions` (0 = the largest REF cluster).
    public internal(set) var cluster: Int
    public internal(set) var name: String
    public internal(set) var referenceCount: Int
    public internal(set) var otherCount: Int
    public internal(set) var referenceShare: Double
    public internal(set) var otherShare: Double
    /// otherShare − referenceShare.
    public var shareChange: Double { otherShare - referenceShare }
    public internal(set) var test: TwoProportionTest
    /// Benjamini–Hochberg adjusted over the clusters of this comparison set.
    public internal(set) var adjustedPValue: Double
    /// adjustedPValue < α.
    public internal(set) var changed: Bool
    /// Comparison-set rows of this cluster nearest its centroid (at most `ReferenceRegions.exemplarCount`).
    public internal(set) var otherExemplars: [Int]

    public enum Direction: String, Sendable { case grew, shrank, vanished, unchanged }
    /// grew / shrank when changed; vanished when changed and the set keeps at most a tenth of REF's share.
    public var direction: Direction {
        guard changed else { return .unchanged }
        if otherShare > referenceShare { return .grew }
        return otherShare <= referenceShare / 10 ? .vanished : .shrank
    }
}

/// A group of comparison-set rows that lie outside every REF k-NN ball (k-means of those rows).
public struct NewRegion: Sendable, Equatable {
    /// Rows of the comparison set in this group, nearest its centre first.
    public internal(set) var rows: [Int]
    public internal(set) var name: String
    /// The REF cluster most of the group's rows are nearest to (ties: the lower cluster).
    public internal(set) var nearestCluster: Int
    public internal(set) var share: Double
}

/// Where a comparison set (another corpus or one window) moved between REF's regions, and what is
/// new: the result of `ReferenceRegions.compare`. Guide: Guides/Shift.md ("Regions").
public struct RegionShift: Sendable {
    public internal(set) var rows: Int
    public internal(set) var alpha: Double
    /// Per cluster, sorted by |share change| (largest first; ties: the lower cluster).
    public internal(set) var clusters: [ClusterShift]
    /// Cluster of each comparison-set row.
    public internal(set) var assignment: [Int]
    /// Rows outside every REF k-NN ball (shift's precision criterion) and their share, against
    /// REF's own leave-one-out rate (`ReferenceRegions.referenceNewShare`) with the same test.
    public internal(set) var newRows: [Int]
    public var newShare: Double { Double(newRows.count) / Double(max(1, rows)) }
    public internal(set) var referenceNewShare: Double
    public internal(set) var newRegionTest: TwoProportionTest
    /// The new rows grouped (largest group first).
    public internal(set) var newRegions: [NewRegion]
    /// Clusters whose adjusted p < α.
    public var changedCount: Int { clusters.filter(\.changed).count }
    /// More new rows than REF's own rate at level α.
    public var newRegionFound: Bool { newRegionTest.pValue < alpha && newShare > referenceNewShare }
}

extension ReferenceRegions {
    /// New rows are grouped into round(√(count / 10)) groups, at least 1, at most this many.
    public static let newRegionGroupLimit = 5

    /// Compares one set of rows with REF's regions.
    /// - Parameters:
    ///   - unit: the set's unit-normalised rows (same dimension as REF).
    ///   - labels, sourceRows: of the set's rows, for names.
    ///   - insideReference: per row, inside or on at least one REF k-NN ball (`PrecisionRecallCoverage.otherWithinReferenceBall`).
    /// - Complexity: O(n·k·d) for the assignment, O(clusters) tests, O(restarts·iterations·n_new·g·d) for grouping new rows.
    public func compare(_ unit: Matrix, labels: [String]?, sourceRows: [Int]? = nil, insideReference: [Bool], alpha: Double) -> RegionShift {
        let n = unit.rows
        precondition(n > 0 && insideReference.count == n && unit.cols == centroids.cols)
        let near = Self.nearest(unit, centroids)
        var counts = [Int](repeating: 0, count: count)
        var members = [[Int]](repeating: [], count: count)
        for (i, c) in near.cluster.enumerated() { counts[c] += 1; members[c].append(i) }
        let tests = (0..<count).map { twoProportionTest(referenceCounts[$0], of: referenceRows, counts[$0], of: n) }
        let adjusted = MultipleTesting.benjaminiHochbergAdjusted(tests.map(\.pValue))
        var clusters = (0..<count).map { c in
            ClusterShift(cluster: c, name: names[c], referenceCount: referenceCounts[c], otherCount: counts[c],
                         referenceShare: Double(referenceCounts[c]) / Double(referenceRows), otherShare: Double(counts[c]) / Double(n),
                         test: tests[c], adjustedPValue: adjusted[c], changed: adjusted[c] < alpha,
                         otherExemplars: Array(members[c].sorted { near.score[$0] > near.score[$1] || (near.score[$0] == near.score[$1] && $0 < $1) }
                             .prefix(Self.exemplarCount)))
        }
        clusters.sort { abs($0.shareChange) > abs($1.shareChange) || (abs($0.shareChange) == abs($1.shareChange) && $0.cluster < $1.cluster) }
        let newRows = (0..<n).filter { !insideReference[$0] }
        let newTest = twoProportionTest(referenceNewCount, of: referenceRows, newRows.count, of: n)
        // Group the new rows: seeded k-means on them, names as the clusters', each group's nearest REF cluster by majority.
        var regions: [NewRegion] = []
        if !newRows.isEmpty {
            let g = min(Self.newRegionGroupLimit, newRows.count, max(1, Int((Double(newRows.count) / 10).squareRoot().rounded())))
            let x = unit.gather(rows: newRows)
            let fitted = kMeansClusters(x, k: g, restarts: Self.restarts, iterations: Self.iterations, seed: seed &+ 0xA11)
            let grouped = Self.nearest(x, fitted.centroids)
            var groups = [[Int]](repeating: [], count: fitted.centroids.rows)
            for (t, c) in grouped.cluster.enumerated() { groups[c].append(t) }
            for local in groups where !local.isEmpty {
                let ordered = local.sorted { grouped.score[$0] > grouped.score[$1] || (grouped.score[$0] == grouped.score[$1] && $0 < $1) }
                let rows = ordered.map { newRows[$0] }
                var tally = [Int](repeating: 0, count: count)
                for r in rows { tally[near.cluster[r]] += 1 }
                let nearest = tally.indices.max { tally[$0] < tally[$1] || (tally[$0] == tally[$1] && $0 > $1) } ?? 0
                regions.append(NewRegion(rows: rows, name: Self.name(members: rows, central: Array(rows.prefix(Self.exemplarCount)), labels: labels, sourceRows: sourceRows),
                                         nearestCluster: nearest, share: Double(rows.count) / Double(n)))
            }
            regions.sort { $0.rows.count > $1.rows.count || ($0.rows.count == $1.rows.count && $0.rows[0] < $1.rows[0]) }
        }
        return RegionShift(rows: n, alpha: alpha, clusters: clusters, assignment: near.cluster, newRows: newRows,
                           referenceNewShare: referenceNewShare, newRegionTest: newTest, newRegions: regions)
    }
}

extension RegionShift {
    static func percent(_ x: Double) -> String { String(format: "%.1f %%", x * 100) }

    /// "What grew, what vanished, what is new" in one or two sentences (names as in the clusters table).
    /// `quote(row)` gives a comparison-set row's label for the new-region example.
    public func summary(setName: String, referenceName: String, quote: (Int) -> String) -> String {
        func item(_ c: ClusterShift) -> String {
            "C\(c.cluster + 1) \(c.name) \(Self.percent(c.referenceShare)) → \(Self.percent(c.otherShare))"
        }
        var parts: [String] = []
        let grew = clusters.filter { $0.direction == .grew }, vanished = clusters.filter { $0.direction == .vanished }
        let shrank = clusters.filter { $0.direction == .shrank }
        // At most three clusters per kind in the sentence (largest change first); the table has them all.
        func list(_ kind: String, _ c: [ClusterShift]) {
            guard !c.isEmpty else { return }
            parts.append(kind + ": " + c.prefix(3).map(item).joined(separator: "; ") + (c.count > 3 ? " and \(c.count - 3) more" : ""))
        }
        list("grew", grew)
        list("vanished", vanished)
        list("shrank", shrank)
        if newRegionFound {
            var s = "new: \(Self.percent(newShare)) of \(setName)'s rows lie outside every \(referenceName) row's neighbourhood (\(referenceName)'s own rate \(Self.percent(referenceNewShare)))"
            if let top = newRegions.first { s += ", largest group \(Self.percent(top.share)) near C\(top.nearestCluster + 1), e.g. " + top.rows.prefix(2).map(quote).joined(separator: ", ") }
            parts.append(s)
        }
        guard !parts.isEmpty else {
            return "No region of \(referenceName) changed its share in \(setName) (\(clusters.count) clusters, Benjamini–Hochberg at α = \(ReportFormatting.number(alpha, significant: 3))) and no more of its rows are new than \(referenceName)'s own (\(Self.percent(newShare)) vs \(Self.percent(referenceNewShare)))."
        }
        return "Regions of \(referenceName) in \(setName) — " + parts.joined(separator: "; ") + "."
    }
}
