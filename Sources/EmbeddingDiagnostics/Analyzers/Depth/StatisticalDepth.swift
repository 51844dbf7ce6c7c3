import COpenBLAS
import Foundation

/// Which statistical depth to compute. Guide: Guides/Depth.md.
public enum DepthKind: String, Sendable, CaseIterable, Codable {
    /// Transformer-based text embedding depth (Seegmiller & Preum 2023): sup δ − E δ(x, F), δ a
    /// distance on the sphere, sup δ = 2.
    case tte
    /// Spatial depth (Serfling 2002) of unit vectors: 1 − ‖E[(x − F)/‖x − F‖]‖.
    case spatial
    /// Mahalanobis depth 1/(1 + d²) in the top-k principal subspace of the reference.
    case mahalanobis
}

/// The distance inside TTE depth.
public enum DepthDistance: String, Sendable, CaseIterable, Codable {
    /// δ = 1 − cos(x, y) ∈ [0, 2].
    case cosine
    /// δ = ‖x̂ − ŷ‖ = √(2 − 2 cos(x, y)) ∈ [0, 2] (rows normalised first).
    case chord
}

/// A reference row left out of one query row's depth (`DepthReference.depths(of:rowOffset:leaving:)`).
public struct LeftOutReferenceRow: Sendable, Equatable {
    /// Its place in the depth reference.
    public let position: Int
    /// Its cosine with the query row in Float64, or nil when its unit row equals the query's
    /// (the row itself, or an exact copy): the query's own x̂·x̂ is removed then.
    public let cosine: Double?

    public init(position: Int, cosine: Double? = nil) {
        self.position = position
        self.cosine = cosine
    }
}

/// The reference a depth is measured against: unit rows of the reference corpus, and what the
/// depth of a query needs from them, computed once.
public struct DepthReference: @unchecked Sendable {
    public let kind: DepthKind
    public let distance: DepthDistance
    /// Unit rows of the reference set.
    public let unitRows: Matrix
    /// Σ_j û_j (cosine TTE depth needs only this: mean cos(x, F) = x̂ · S / m).
    let unitSum: [Float]
    /// Mahalanobis: mean, top-k eigenvectors (rows) and their (floored) eigenvalues.
    let mean: [Double]
    let components: Matrix
    let componentVariances: [Double]
    /// Rows of the reference set.
    public let size: Int
    /// Principal components used by Mahalanobis depth.
    public var mahalanobisComponents: Int { components.rows }

    public init(_ reference: Matrix, kind: DepthKind, distance: DepthDistance = .cosine, mahalanobisComponents: Int = 50) throws {
        self.kind = kind
        self.distance = distance
        size = reference.rows
        if kind == .tte && distance == .cosine {
            // Only Σ û_j is needed: no normalised copy of a possibly huge (mapped) reference.
            unitRows = Matrix(rows: 0, cols: reference.cols)
            unitSum = UnitVectorSums(reference).unitSum.map { Float($0) }
        } else {
            unitRows = Matrix.normalizedRows(reference)
            unitSum = Matrix.columnSums(unitRows).map { Float($0) }
        }
        if kind == .mahalanobis {
            let d = reference.cols
            let unitRows = self.unitRows
            let k = Self.mahalanobisComponentCount(mahalanobisComponents, dimension: d, rows: reference.rows)
            mean = Matrix.columnMeans(unitRows)
            let eig = try LAPACK.symmetricEigen(Matrix.covariance(unitRows, mean: mean), dimension: d)
            // Floor tiny eigenvalues (singular covariance when m ≤ d): 1e-6 of the largest.
            let floor = max(eig.values[0], 1e-12) * 1e-6
            // The top k directions must not split a cluster of (nearly) equal eigenvalues: the
            // kept ones would be LAPACK's arbitrary basis of the cluster's span, and the depths a
            // different number on every BLAS kernel. Refused (exit 2) with the counts that keep
            // the cluster whole; eigenvalues under the floor count as equal (they are used so).
            let floored = eig.values.map { max($0, floor) }
            if let cluster = EigenClusters.split(floored, keeping: k) {
                throw EmbdiagError.usage(EigenClusters.splitMessage("--components \(k)", values: floored, cluster: cluster,
                                                                    allowed: 1...Self.mahalanobisComponentCount(d, dimension: d, rows: reference.rows)))
            }
            componentVariances = floored.prefix(k).map { $0 }
            components = Matrix(rows: k, cols: d, values: (0..<(k * d)).map { Float(eig.vectors[$0]) })
        } else {
            mean = []
            components = Matrix(rows: 0, cols: reference.cols)
            componentVariances = []
        }
    }

    /// The depth reference of a `DepthConfiguration` (kind, distance, Mahalanobis components).
    public init(_ reference: Matrix, configuration c: DepthConfiguration) throws {
        try self.init(reference, kind: c.kind, distance: c.distance, mahalanobisComponents: c.mahalanobisComponents)
    }

    /// Principal components Mahalanobis depth keeps: the asked number, at most min(d, m − 1).
    static func mahalanobisComponentCount(_ asked: Int, dimension d: Int, rows m: Int) -> Int { max(1, min(asked, d, m - 1)) }

    /// The leave-one-out map of a reference corpus's rows: row `rowOffset + i` of the reference
    /// is row `position` of the depth reference (its place in the seeded sample, or itself without
    /// a sample); nil = not in the depth reference. For `depths(of:rowOffset:leaving:)`.
    ///
    /// - Complexity: O(s) to build for s sampled rows, O(1) per lookup.
    static func referencePosition(sampleRows: [Int]?, rowOffset: Int = 0) -> (Int) -> LeftOutReferenceRow? {
        guard let rows = sampleRows else { return { LeftOutReferenceRow(position: rowOffset + $0) } }
        var position: [Int: Int] = [:]
        position.reserveCapacity(rows.count)
        for (k, r) in rows.enumerated() { position[r] = k }
        return { position[rowOffset + $0].map { LeftOutReferenceRow(position: $0) } }
    }

    /// Rows of the aligned query blocks of `depths(of:rowOffset:leaving:)` (the GEMM depths).
    static let alignedBlockRows = 512

    /// Depth of every row of `queries` with respect to the reference. `leaving` maps query row i
    /// to the reference row left out of its depth, or nil: the row itself for a row of the depth
    /// reference (leave-one-out), and for any other row one reference row identical to it, so
    /// that a row and its copy are measured against the same m − 1 rows (`DepthAnalysis`).
    ///
    /// Queries go through in blocks aligned to global row numbers: block k holds rows
    /// k·B..<(k + 1)·B of the corpus (B = 512; `rowOffset` is the global number of `queries`'
    /// first row; rows of the block outside `queries` are zero and dropped), normalised into a
    /// small copy. So every GEMM (chord, spatial, Mahalanobis) has the same shape and every row the
    /// same place in it whether the corpus comes in one file or in shards (`depth --partial`): a
    /// BLAS kernel's last bits cannot depend on how the input was split. Cosine TTE depth uses no
    /// BLAS (fixed-order dot products) and takes plain blocks of 16,384 rows. Memory stays
    /// O(B · (d + m)) however large (and memory-mapped) the query file is.
    ///
    /// - Complexity: O(n·d) for cosine TTE depth, O(n·m·d) for chord and spatial depth, O(n·k·d)
    ///   for Mahalanobis depth (n queries, m reference rows, k components), plus at most two
    ///   partly filled blocks.
    public func depths(of queries: Matrix, rowOffset: Int = 0, leaving: ((Int) -> LeftOutReferenceRow?)? = nil) -> [Double] {
        // Single-threaded GEMMs: OpenBLAS' SGEMM rounds differently with its thread split on AVX2
        // kernels, and its thread count is one process-wide setting that other threads' scopes
        // change, so only one thread per call keeps a sharded run equal to a single run bit for
        // bit (the per-row loops still use both cores through `parallelChunks`).
        BLAS.singleThreaded { alignedDepths(of: queries, rowOffset: rowOffset, leaving: leaving) }
    }

    private func alignedDepths(of queries: Matrix, rowOffset: Int, leaving: ((Int) -> LeftOutReferenceRow?)?) -> [Double] {
        let aligned = !(kind == .tte && distance == .cosine)
        let blockRows = aligned ? Self.alignedBlockRows : 16_384
        var out: [Double] = []
        out.reserveCapacity(queries.rows)
        let progress = ProgressReporter.current.task("depth", total: queries.rows, minimum: 65_536)
        defer { progress?.finish() }
        var start = 0
        while start < queries.rows {
            progress?.update(start)
            let lead = aligned ? (rowOffset + start) % blockRows : 0  // zero rows before this block's first query row
            let end = min(queries.rows, start + blockRows - lead)
            let live = lead..<(lead + end - start)
            let unit = Matrix(rows: aligned ? blockRows : live.count, cols: queries.cols)
            (unit.mutablePointer + lead * queries.cols).update(from: queries.pointer + start * queries.cols, count: live.count * queries.cols)
            Matrix.normalizeRowsInPlace(unit)
            let first = start
            let blockLeaving = leaving.map { f in { (i: Int) in live.contains(i) ? f(first + i - lead) : nil } }
            let depths: [Double]
            switch kind {
            case .tte:
                depths = distance == .cosine ? cosineTTE(unit, live: live, leaving: blockLeaving) : pairwiseDepth(unit, live: live, leaving: blockLeaving, spatial: false)
            case .spatial:
                depths = pairwiseDepth(unit, live: live, leaving: blockLeaving, spatial: true)
            case .mahalanobis:
                depths = mahalanobis(unit)
            }
            out += depths[live]
            start = end
        }
        return out
    }

    /// O(n·d): D = 2 − (1 − mean cos) = 1 + (x̂·S − [left out])/(m − [left out]).
    private func cosineTTE(_ q: Matrix, live: Range<Int>, leaving: ((Int) -> LeftOutReferenceRow?)?) -> [Double] {
        let m = Double(size)
        // x̂·S in Float64 in a fixed order (`fixedOrderDot`), not SGEMV: a BLAS kernel's result for a
        // row can depend on the row's place in the block, and depths must not change when the rows
        // come in other blocks or shards (`depth --partial`, Guides/Scale.md). O(n·d) either way.
        var dots = [Double](repeating: 0, count: q.rows)
        unitSum.withUnsafeBufferPointer { s in
            for i in live { dots[i] = fixedOrderDot(UnsafeRawPointer(q.pointer + i * q.cols), UnsafeRawPointer(s.baseAddress!), count: q.cols) }
        }
        return (0..<q.rows).map { i in
            if let left = leaving?(i) {
                // Leave the row (or its copy) out: remove its cosine with the row — x̂·x̂, 1 up to
                // rounding, for the row itself or an exact copy (so a copy's depth equals its
                // reference row's bit for bit), the Float64 cosine for a near-exact copy.
                let own = left.cosine ?? (0..<q.cols).reduce(0.0) { $0 + Double(q[i, $1]) * Double(q[i, $1]) }
                return 1 + (Double(dots[i]) - own) / (m - 1)
            }
            return 1 + Double(dots[i]) / m
        }
    }

    /// Chord TTE depth and spatial depth need every pair: blocked GEMM of cosines, then per block
    /// the sums (chord) or the weighted mean direction (spatial, one more GEMM).
    /// Padding rows of the block (outside `live`) get their GEMM rows but no sums.
    private func pairwiseDepth(_ q: Matrix, live: Range<Int>, leaving: ((Int) -> LeftOutReferenceRow?)?, spatial: Bool) -> [Double] {
        var out = [Double](repeating: 0, count: q.rows)
        let m = size, d = q.cols
        let copyTolerance = CrossCorpusDuplicates.tolerance(dimension: d)
        // q is always one aligned block of `alignedBlockRows` rows, so the GEMM sub-blocks (a
        // function of the block's and the reference's sizes only) are the same for every block.
        Matrix.pairwiseDotBlocks(q, unitRows) { start, block in
            let rows = block.rows
            let weights = spatial ? Matrix(rows: rows, cols: m) : Matrix(rows: 0, cols: 0)
            var sums = [Double](repeating: 0, count: rows)
            var weightSums = [Double](repeating: 0, count: rows)
            sums.withUnsafeMutableBufferPointer { sumBuf in
                weightSums.withUnsafeMutableBufferPointer { wsBuf in
                    let sumP = sumBuf.baseAddress!, wsP = wsBuf.baseAddress!
                    let bp = block.pointer
                    let wp = spatial ? weights.mutablePointer : nil
                    parallelChunks(rows, minimumChunk: 16) { range in
                        for r in range where live.contains(start + r) {
                            let own = leaving?(start + r)?.position
                            var s = 0.0, ws = 0.0
                            let row = bp + r * m
                            for j in 0..<m where j != own {
                                // A cosine within the Float32 resolution of 1 (1 − cos ≤ d·2⁻²⁴, the
                                // near-exact duplicate rule) is a copy: chord 0, not the √(round-off)
                                // ≈ 10⁻³ whose direction (spatial) would be noise.
                                let chord = 1 - Double(row[j]) <= copyTolerance ? 0 : Double(max(0, 2 - 2 * row[j])).squareRoot()
                                if spatial {
                                    // Unit vector (x − f_j)/‖x − f_j‖ = (x − f_j)·w_j with w_j = 1/chord.
                                    let w = chord > 1e-6 ? 1 / chord : 0
                                    wp![r * m + j] = Float(w)
                                    ws += w
                                } else {
                                    s += chord
                                }
                            }
                            sumP[r] = s
                            wsP[r] = ws
                        }
                    }
                }
            }
            if spatial {
                // Σ_j w_j (x − f_j) = x·Σw − W·F.
                let wf = BLAS.matmul(weights, unitRows)
                for r in 0..<rows {
                    let i = start + r
                    let count = Double(m - (leaving?(i) == nil ? 0 : 1))
                    var norm2 = 0.0
                    for t in 0..<d {
                        let v = (Double(q[i, t]) * weightSums[r] - Double(wf[r, t])) / count
                        norm2 += v * v
                    }
                    out[i] = 1 - norm2.squareRoot()
                }
            } else {
                for r in 0..<rows {
                    let i = start + r
                    let count = Double(m - (leaving?(i) == nil ? 0 : 1))
                    out[i] = 2 - sums[r] / count
                }
            }
        }
        return out
    }

    /// 1 / (1 + Σ_k z_k²/λ_k), z = V_kᵀ(x̂ − μ): Mahalanobis distance in the top-k subspace.
    private func mahalanobis(_ q: Matrix) -> [Double] {
        let centred = q.copy()
        let p = centred.mutablePointer
        let mu = mean.map { Float($0) }
        for i in 0..<q.rows { for j in 0..<q.cols { p[i * q.cols + j] -= mu[j] } }
        let z = BLAS.matmul(centred, components, transposeB: true)
        return (0..<q.rows).map { i in
            var d2 = 0.0
            for k in 0..<components.rows { let v = Double(z[i, k]); d2 += v * v / componentVariances[k] }
            return 1 / (1 + d2)
        }
    }
}
