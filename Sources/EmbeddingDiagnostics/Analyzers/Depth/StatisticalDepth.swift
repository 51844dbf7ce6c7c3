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
            unitRows = normalizedRows(reference)
            unitSum = columnSums(unitRows).map { Float($0) }
        }
        if kind == .mahalanobis {
            let d = reference.cols
            let unitRows = self.unitRows
            let k = max(1, min(mahalanobisComponents, d, reference.rows - 1))
            mean = columnMeans(unitRows)
            let eig = try symmetricEigen(covariance(unitRows, mean: mean), dimension: d)
            // Floor tiny eigenvalues (singular covariance when m ≤ d): 1e-6 of the largest.
            let floor = max(eig.values[0], 1e-12) * 1e-6
            componentVariances = eig.values.prefix(k).map { max($0, floor) }
            components = Matrix(rows: k, cols: d, values: (0..<(k * d)).map { Float(eig.vectors[$0]) })
        } else {
            mean = []
            components = Matrix(rows: 0, cols: reference.cols)
            componentVariances = []
        }
    }

    /// Depth of every row of `queries` with respect to the reference. `selfIndex` maps query row
    /// i to its own row in the reference (excluded from its own depth: leave-one-out), or nil.
    public func depths(of queries: Matrix, selfIndex: ((Int) -> Int?)? = nil) -> [Double] {
        // Queries go through in row blocks, each normalised into a small copy: memory stays
        // O(block · (d + m)) however large (and memory-mapped) the query file is.
        let blockRows = 16_384
        var out: [Double] = []
        out.reserveCapacity(queries.rows)
        let progress = ProgressReporter.current.task("depth", total: queries.rows, minimum: 4 * blockRows)
        defer { progress?.finish() }
        var start = 0
        while start < queries.rows {
            progress?.update(start)
            let end = min(queries.rows, start + blockRows)
            let unit = normalizedRows(queries.rows(start..<end))
            let offset = start
            let blockSelf = selfIndex.map { f in { (i: Int) in f(offset + i) } }
            switch kind {
            case .tte:
                out += distance == .cosine ? cosineTTE(unit, selfIndex: blockSelf) : pairwiseDepth(unit, selfIndex: blockSelf, spatial: false)
            case .spatial:
                out += pairwiseDepth(unit, selfIndex: blockSelf, spatial: true)
            case .mahalanobis:
                out += mahalanobis(unit)
            }
            start = end
        }
        return out
    }

    /// O(n·d): D = 2 − (1 − mean cos) = 1 + (x̂·S − [self])/(m − [self]).
    private func cosineTTE(_ q: Matrix, selfIndex: ((Int) -> Int?)?) -> [Double] {
        let m = Double(size)
        // x̂·S in Float64 in a fixed order (`fixedOrderDot`), not SGEMV: a BLAS kernel's result for a
        // row can depend on the row's place in the block, and depths must not change when the rows
        // come in other blocks or shards (`depth --partial`, Guides/Scale.md). O(n·d) either way.
        let dots: [Double] = unitSum.withUnsafeBufferPointer { s in
            (0..<q.rows).map { fixedOrderDot(UnsafeRawPointer(q.pointer + $0 * q.cols), UnsafeRawPointer(s.baseAddress!), count: q.cols) }
        }
        return (0..<q.rows).map { i in
            if selfIndex?(i) != nil {
                // Leave-one-out: remove the row's own cosine with itself (1 up to rounding).
                let own = (0..<q.cols).reduce(0.0) { $0 + Double(q[i, $1]) * Double(q[i, $1]) }
                return 1 + (Double(dots[i]) - own) / (m - 1)
            }
            return 1 + Double(dots[i]) / m
        }
    }

    /// Chord TTE depth and spatial depth need every pair: blocked GEMM of cosines, then per block
    /// the sums (chord) or the weighted mean direction (spatial, one more GEMM).
    private func pairwiseDepth(_ q: Matrix, selfIndex: ((Int) -> Int?)?, spatial: Bool) -> [Double] {
        var out = [Double](repeating: 0, count: q.rows)
        let m = size, d = q.cols
        pairwiseDotBlocks(q, unitRows) { start, block in
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
                        for r in range {
                            let own = selfIndex?(start + r)
                            var s = 0.0, ws = 0.0
                            let row = bp + r * m
                            for j in 0..<m where j != own {
                                let chord = Double(max(0, 2 - 2 * row[j])).squareRoot()
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
                let wf = matmul(weights, unitRows)
                for r in 0..<rows {
                    let i = start + r
                    let count = Double(m - (selfIndex?(i) == nil ? 0 : 1))
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
                    let count = Double(m - (selfIndex?(i) == nil ? 0 : 1))
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
        let z = matmul(centred, components, transposeB: true)
        return (0..<q.rows).map { i in
            var d2 = 0.0
            for k in 0..<components.rows { let v = Double(z[i, k]); d2 += v * v / componentVariances[k] }
            return 1 / (1 + d2)
        }
    }
}
