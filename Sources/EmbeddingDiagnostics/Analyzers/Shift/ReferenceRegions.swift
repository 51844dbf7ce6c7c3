import Foundation

/// Regions of the reference without labels: k-means clusters of REF's unit rows, each named by its
/// most central rows, and everything a later comparison set (another corpus, or one window of a
/// corpus) needs to say which regions grew, shrank or vanished and which of its rows are new.
/// Built once per reference; `compare(_:otherLabels:insideReference:alpha:)` is called per
/// comparison set. Guide: Guides/Shift.md ("Regions").
///
/// Clusters are the Voronoi cells of the k-means centroids: every row, REF's and a comparison
/// set's alike, belongs to its nearest centroid (squared Euclidean distance between the unit row
/// and the centroid), decided in Float64 (`ExactScores`; ties: the lower cluster), so the same row
/// lands in the same cluster on every BLAS kernel and thread count.
public struct ReferenceRegions: Sendable {
    /// Fitting draws at most this many REF rows (seeded); every REF row is then assigned.
    public static let fitRowLimit = 20_000
    /// k-means restarts and Lloyd iterations.
    public static let restarts = 3
    public static let iterations = 100
    /// Central rows quoted per cluster.
    public static let exemplarCount = 3

    /// The documented rule for k when none is given: round(√(m / 10)), at least 2, at most 12 —
    /// about 10·k² REF rows, so that each cluster holds enough rows for its share test to see a
    /// change of a few percentage points, and few enough clusters to read.
    public static func defaultClusterCount(referenceRows m: Int) -> Int {
        min(12, max(2, Int((Double(m) / 10).squareRoot().rounded())))
    }

    /// Clusters asked for (`--clusters` or the rule), and kept: clusters no REF row is nearest to
    /// (REF has fewer distinct rows than k) are removed, and the report says so.
    public internal(set) var requestedCount: Int
    public var count: Int { centroids.rows }
    /// Whether k came from the rule (false: given).
    public internal(set) var countFromRule: Bool
    /// k × d centroids (means of unit rows), in cluster order (largest REF cluster first; ties: k-means order).
    public internal(set) var centroids: Matrix
    /// Cluster of every REF row.
    public internal(set) var referenceAssignment: [Int]
    public internal(set) var referenceCounts: [Int]
    public var referenceRows: Int { referenceAssignment.count }
    /// REF rows the k-means was fitted on (all of them up to `fitRowLimit`).
    public internal(set) var fitRows: Int
    /// Per cluster: REF rows nearest the centroid first (at most `exemplarCount`).
    public internal(set) var exemplars: [[Int]]
    /// Per cluster: a short name from the labels (majority label and its share when labels repeat,
    /// the most central rows' texts when they do not, row numbers without labels).
    public internal(set) var names: [String]
    /// k of the k-NN balls of the new-region criterion, and REF rows that no other REF row has
    /// among its k nearest neighbours — the leave-one-out version of "outside every REF ball"
    /// (a REF row is inside another row's ball exactly when it is one of its k nearest
    /// neighbours, up to ties at the radius), i.e. REF's own rate of "new" rows.
    public internal(set) var neighbors: Int
    public internal(set) var referenceNewCount: Int
    public var referenceNewShare: Double { Double(referenceNewCount) / Double(max(1, referenceRows)) }
    public internal(set) var seed: UInt64

    /// - Parameters:
    ///   - referenceUnit: REF's unit-normalised rows (m × d, m > neighbors).
    ///   - labels, sourceRows: for names (labels per row; file row numbers when no labels).
    ///   - clusters: k, or nil for `defaultClusterCount`; 2 ≤ k ≤ m.
    /// - Complexity: O(restarts·iterations·min(m, fitRowLimit)·k·d) for k-means (GEMM), O(m²·d) for
    ///   the k-NN graph of the new-region rate (blocked GEMM), O(m·k·d) for the assignment.
    /// - Parameter graph: REF's k-NN graph (`neighbors` nearest other rows of each row) when the
    ///   caller has it already (the shift tests' precision/recall need the same graph).
    public init(referenceUnit r: Matrix, labels: [String]?, sourceRows: [Int]? = nil, clusters: Int?, neighbors: Int, seed: UInt64,
                graph precomputed: NearestNeighbors? = nil) throws {
        let m = r.rows
        let requested = clusters ?? Self.defaultClusterCount(referenceRows: m)
        guard requested >= 2 else { throw EmbdiagError.usage("\(Setting.clusters) must be at least 2 (got \(requested))") }
        guard requested <= m else {
            throw EmbdiagError.usage("\(Setting.clusters) \(requested) exceeds the reference's \(m) rows (each cluster needs a reference row)")
        }
        guard neighbors >= 1 && neighbors < m else { throw EmbdiagError.usage("\(Setting.k) must lie between 1 and the reference's rows − 1 (got \(neighbors) with \(m) rows)") }
        requestedCount = requested
        countFromRule = clusters == nil
        self.neighbors = neighbors
        self.seed = seed
        // Fit on a seeded sample of large references (k-means needs all rows at once; the sample is stated).
        var rng = SeededGenerator(seed: seed &+ 0x5EED_C1)
        let fitIndices = m > Self.fitRowLimit ? rng.sampleIndices(m, count: Self.fitRowLimit) : Array(0..<m)
        fitRows = fitIndices.count
        let fit = fitIndices.count == m ? r : r.gather(rows: fitIndices)
        let fitted = kMeansClusters(fit, k: requested, restarts: Self.restarts, iterations: Self.iterations, seed: seed)
        // Voronoi cells of the fitted centroids, decided in Float64; empty cells removed.
        let raw = Self.nearest(r, fitted.centroids)
        var counts = [Int](repeating: 0, count: fitted.centroids.rows)
        for c in raw.cluster { counts[c] += 1 }
        let order = counts.indices.filter { counts[$0] > 0 }.sorted { counts[$0] > counts[$1] || (counts[$0] == counts[$1] && $0 < $1) }
        var renumber = [Int](repeating: -1, count: counts.count)
        for (new, old) in order.enumerated() { renumber[old] = new }
        centroids = fitted.centroids.gather(rows: order)
        referenceAssignment = raw.cluster.map { renumber[$0] }
        referenceCounts = order.map { counts[$0] }
        // Most central rows: highest score x·c − ‖c‖²/2 (= smallest distance) within each cluster; ties: smaller row.
        var members = [[Int]](repeating: [], count: order.count)
        for (i, c) in referenceAssignment.enumerated() { members[c].append(i) }
        exemplars = members.map { rows in
            Array(rows.sorted { raw.score[$0] > raw.score[$1] || (raw.score[$0] == raw.score[$1] && $0 < $1) }.prefix(Self.exemplarCount))
        }
        names = zip(members, exemplars).map { Self.name(members: $0, central: $1, labels: labels, sourceRows: sourceRows) }
        // REF's own new-row rate: rows with in-degree 0 in REF's k-NN graph.
        let graph = precomputed?.k == neighbors && precomputed?.queryCount == m
            ? precomputed! : nearestNeighborsWithinRows(r, k: neighbors)
        var pointedAt = [Bool](repeating: false, count: m)
        for j in graph.indices where j >= 0 { pointedAt[Int(j)] = true }
        referenceNewCount = Self.outsideEveryOtherBall(r, graph: graph, k: neighbors, pointedAt: pointedAt)
    }

    /// REF rows outside every *other* REF row's ball (distance > radius), the compared sets' "new"
    /// criterion applied to REF itself, leaving each row out of its own ball. A row in another
    /// row's k-NN list is inside that ball; a row in no list can still lie exactly on a ball's
    /// boundary when distances tie (a row REF repeats more than k times: every ball of its copies
    /// has radius 0, and only k of the copies make the lists), so those rows are checked against
    /// every ball with exact scores.
    /// - Complexity: O(u·m·d) for the u rows in no list (blocked GEMM), O(m·k) otherwise.
    static func outsideEveryOtherBall(_ r: Matrix, graph: NearestNeighbors, k: Int, pointedAt: [Bool]) -> Int {
        let m = r.rows
        let unlisted = (0..<m).filter { !pointedAt[$0] }
        guard !unlisted.isEmpty, k >= 1 else { return unlisted.count }
        let exact = ExactScores(queries: r, gallery: r)
        let radius = graph.kthNeighbourScores(exact)
        var onABall = [Bool](repeating: false, count: unlisted.count)
        Matrix.pairwiseDotBlocks(r.gather(rows: unlisted), r) { start, block in
            onABall.withUnsafeMutableBufferPointer { flags in
                let fp = flags.baseAddress!, bp = block.pointer
                parallelChunks(block.rows, minimumChunk: 16) { range in
                    for t in range {
                        let x = unlisted[start + t], values = bp + t * m
                        for y in 0..<m where y != x && exact.compare(values[y], x, y, to: radius[y]) >= 0 { fp[start + t] = true; break }
                    }
                }
            }
        }
        return onABall.filter { !$0 }.count
    }

    /// Regions restored from their parts (a saved reference state): no k-means, no k-NN graph.
    /// - Complexity: O(1).
    public init(requestedCount: Int, countFromRule: Bool, centroids: Matrix, referenceAssignment: [Int], referenceCounts: [Int], fitRows: Int,
                exemplars: [[Int]], names: [String], neighbors: Int, referenceNewCount: Int, seed: UInt64) throws {
        guard centroids.rows >= 1, referenceCounts.count == centroids.rows, exemplars.count == centroids.rows, names.count == centroids.rows,
              referenceCounts.reduce(0, +) == referenceAssignment.count, referenceAssignment.allSatisfy({ $0 >= 0 && $0 < centroids.rows }),
              referenceNewCount >= 0, referenceNewCount <= referenceAssignment.count, neighbors >= 1 else {
            throw EmbdiagError.invalid("regions", "inconsistent parts (counts, names or assignments do not match the \(centroids.rows) centres)")
        }
        self.requestedCount = requestedCount
        self.countFromRule = countFromRule
        self.centroids = centroids
        self.referenceAssignment = referenceAssignment
        self.referenceCounts = referenceCounts
        self.fitRows = fitRows
        self.exemplars = exemplars
        self.names = names
        self.neighbors = neighbors
        self.referenceNewCount = referenceNewCount
        self.seed = seed
    }

    /// Cluster of each row of `unit` (rows of the same dimension).
    /// - Complexity: O(n·k·d) (GEMM) plus O(d) per near tie.
    public func assign(_ unit: Matrix) -> [Int] { Self.nearest(unit, centroids).cluster }

    /// Nearest centroid by squared distance ‖x‖² − 2x·c + ‖c‖², i.e. the largest x·c − ‖c‖²/2:
    /// one inner product of the augmented rows [x, 1] and [c, −‖c‖²/2], ranked by
    /// `nearestNeighbors` (Float64 decisions, ties: the lower cluster). Also returns that score.
    static func nearest(_ x: Matrix, _ centroids: Matrix) -> (cluster: [Int], score: [Double]) {
        let n = x.rows, d = x.cols, k = centroids.rows
        let ax = Matrix(rows: n, cols: d + 1), ac = Matrix(rows: k, cols: d + 1)
        let xp = ax.mutablePointer, cp = ac.mutablePointer
        for i in 0..<n {
            (xp + i * (d + 1)).update(from: x.pointer + i * d, count: d)
            xp[i * (d + 1) + d] = 1
        }
        for j in 0..<k {
            (cp + j * (d + 1)).update(from: centroids.pointer + j * d, count: d)
            let norm2 = fixedOrderDot(UnsafeRawPointer(centroids.pointer + j * d), UnsafeRawPointer(centroids.pointer + j * d), count: d)
            cp[j * (d + 1) + d] = Float(-norm2 / 2)
        }
        let nn = nearestNeighbors(queries: ax, gallery: ac, k: 1)
        return (nn.indices.map { Int($0) }, nn.scores.map { Double($0) })
    }

    /// A cluster's name (see `names`).
    static func name(members: [Int], central: [Int], labels: [String]?, sourceRows: [Int]?) -> String {
        func short(_ s: String) -> String {
            let t = s.replacingOccurrences(of: "\n", with: " ")
            return t.count > 40 ? String(t.prefix(37)) + "…" : t
        }
        guard let labels else { return "rows " + central.map { String(sourceRows?[$0] ?? $0) }.joined(separator: ", ") }
        if Set(labels.map(LabelKey.init)).count < labels.count {
            // Categories: the majority label of the cluster (ties: the one first in file order) and its share.
            var tally: [LabelKey: Int] = [:], first: [LabelKey] = []
            for i in members {
                let key = LabelKey(labels[i])
                if tally[key, default: 0] == 0 { first.append(key) }
                tally[key, default: 0] += 1
            }
            let top = first.max { tally[$0]! < tally[$1]! } ?? LabelKey("")
            let winner = first.first { tally[$0]! == tally[top]! } ?? top
            return "\(short(winner.string)) (\(Int((100 * Double(tally[winner] ?? 0) / Double(max(1, members.count))).rounded())) %)"
        }
        return central.prefix(2).map { "“" + short(labels[$0]) + "”" }.joined(separator: " / ")
    }
}
