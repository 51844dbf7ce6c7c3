import Foundation

/// One seeded restart of `UnpairedAlignment`.
public struct UnpairedRestart: Sendable, Equatable {
    /// 0-based; restart r draws every random choice from the seed and r.
    public internal(set) var index: Int
    /// Mean CSLS of the mutual nearest-neighbour pairs between the held-back rows of the two
    /// sides under this restart's map (−∞ when there is no mutual pair).
    public internal(set) var criterion: Double
    /// Mutual nearest-neighbour pairs among the held-back rows.
    public internal(set) var heldBackPairs: Int
    /// Pseudo-pairs (mutual nearest neighbours of the fit rows) the final rotation was fitted on.
    public internal(set) var pseudoPairs: Int
    public internal(set) var seconds: Double
}

/// A NEW → OLD map found without paired rows: OLD and NEW embed different texts, and the map is
/// the rotation (plus each side's centring and scale) that makes the two clouds coincide — when
/// the two spaces are related by a near-isometry at all. A port of the mini-vec2vec pipeline
/// (Dar 2025) with VecMap-style self-learning (Artetxe et al. 2018), as studied in
/// Guides/Compatibility.md ("Alignment without pairs (`--fit unpaired`)"):
///
/// 1. Each side is centred and its rows normalised with its own statistics (z = (x − μ)/‖x − μ‖);
///    s = mean ‖x − μ‖. A seeded `heldBackFraction` of each side is kept out of every fit.
/// 2. Seeding: `rounds` × (k-means with `clusters` centroids on each side; the two centroid sets
///    matched by their centred cosine kernels, a quadratic assignment solved by 2-opt). The
///    matched centroids are anchors; every row is described by its cosines to its side's anchors
///    (a relative representation, comparable across the sides); each NEW row's pseudo-partner is
///    the mean of its `pseudoPartners` nearest OLD rows in that description; orthogonal
///    Procrustes gives W₀, then `refinementSteps` of (map a sample, mean of nearest OLD rows,
///    Procrustes, W ← (W + W′)/2) and the nearest orthogonal matrix.
/// 3. Self-learning: mutual nearest neighbours under CSLS, Procrustes, repeated — first in each
///    side's top 16 principal directions, then 32, 64, … and the full dimension (few parameters
///    first, so a poor start cannot fit its own pseudo-pairs with an arbitrary rotation).
/// 4. `restarts` seeded restarts; the one whose map gives the best mean CSLS of mutual nearest
///    neighbours between the held-back rows (rows no fit saw) is kept (ties: the earlier).
///
/// The map is x ↦ (x − μ_new)·(s_old/s_new)·W + μ_old, a `LinearMap` of fit `.unpaired`, so it is
/// saved and applied like every other map. Nearest-neighbour choices break exact ties towards
/// the lower row index; sums run in a fixed order; the result is the same on every CPU up to
/// floating-point rounding of the BLAS products. Pure: no printing, no files.
public struct UnpairedAlignment: Sendable {
    public internal(set) var map: LinearMap
    /// W (d × d, row-major, orthogonal) between the two sides' normalised rows.
    public internal(set) var rotation: [Double]
    /// s_old / s_new.
    public internal(set) var scale: Double
    public internal(set) var rowsOld: Int
    public internal(set) var rowsNew: Int
    public internal(set) var heldBackOld: Int
    public internal(set) var heldBackNew: Int
    public internal(set) var restarts: [UnpairedRestart]
    /// Index into `restarts` of the restart kept.
    public internal(set) var kept: Int
    public internal(set) var settings: UnpairedAlignmentSettings
    public internal(set) var seed: UInt64

    /// The kept restart's criterion: mean CSLS of held-back mutual nearest neighbours. Higher is
    /// better, but it is not a retrieval rate and has no fixed scale: it ranks restarts of one
    /// run; only rows embedded by both models can say whether the map works.
    public var criterion: Double { restarts[kept].criterion }

    /// Memory the alignment plans to use (score tiles, the normalised and rotated copies of both
    /// sides, the relative representations), checked against the budget before any work starts.
    /// - Complexity: O(1).
    public static func memoryEstimate(rowsOld: Int, rowsNew: Int, dimension d: Int,
                                      settings: UnpairedAlignmentSettings = UnpairedAlignmentSettings()) -> MemoryEstimate {
        let n = Double(max(rowsOld, rowsNew)), dd = Double(d)
        let anchors = Double(settings.rounds) * Double(settings.clusters)
        let bytes = 8 * (Double(blockRows) * n + 8 * n * dd + 2 * n * anchors + 6 * dd * dd)
        return MemoryEstimate(Setting.fit, "unpaired", bytes: bytes,
                              purpose: "aligning \(rowsNew) NEW rows with \(rowsOld) OLD rows without pairs (score tiles, rotated copies, relative representations)")
    }

    /// Rows of one score tile.
    static let blockRows = 1024

    /// Finds the map from the rows of `new` to those of `old` (different texts, same dimension).
    ///
    /// - Throws: a usage error for different dimensions, fewer than
    ///   `UnpairedAlignmentSettings.minimumRowsPerSide` rows on a side, settings it cannot run
    ///   with, or a memory estimate above the budget; an invalid-values error for NaN/Inf rows or
    ///   a side whose rows are all equal.
    /// - Complexity: per restart, O(rounds·(k-means + n·c·d)) for the seeding, O(n²·rounds·c) for
    ///   the relative representations, O(refinementSteps·sample·n·d) for the refinement and
    ///   O(steps·n²·p) for self-learning in a p-dimensional subspace (n rows per side, c clusters,
    ///   three GEMM passes per step); O(n·d + blockRows·n + n·rounds·c) memory.
    public static func fit(old: Matrix, new: Matrix, oldName: String = "OLD", newName: String = "NEW",
                           settings: UnpairedAlignmentSettings = UnpairedAlignmentSettings(), seed: UInt64 = 42) throws -> UnpairedAlignment {
        try settings.validate()
        guard old.cols == new.cols else {
            throw EmbdiagError.usage("\(Setting.fit) unpaired looks for a rotation, which needs equal dimensions: \(newName) has \(new.cols), \(oldName) has \(old.cols); embed a few hundred texts with both models and use \(Setting.fit) linear or ridge")
        }
        guard old.cols >= 2 else {
            // Centred, normalised 1-d rows are all ±1: only a sign could be found, and k-means,
            // CSLS and the criterion would tie everywhere.
            throw EmbdiagError.usage("\(Setting.fit) unpaired needs at least 2 dimensions (got \(old.cols)): a 1-d space has nothing to rotate")
        }
        let minimum = UnpairedAlignmentSettings.minimumRowsPerSide
        for (rows, name) in [(old.rows, oldName), (new.rows, newName)] where rows < minimum {
            throw EmbdiagError.usage("\(Setting.fit) unpaired needs at least \(minimum) rows without a partner on each side (\(name) has \(rows)); recovering even an exact rotation of 384-d vectors took about 2,000 per side (Guides/Compatibility.md)")
        }
        try MemoryBudget.installed.value.check([memoryEstimate(rowsOld: old.rows, rowsNew: new.rows, dimension: old.cols, settings: settings)])
        let d = old.cols
        let sideOld = try Side(old, name: oldName), sideNew = try Side(new, name: newName)
        // One split for all restarts, so their criteria are measured on the same rows.
        var splitter = SeededGenerator(seed: seed &+ 0x51)
        let heldOld = splitter.sampleIndices(sideOld.rows, count: max(1, Int((Double(sideOld.rows) * settings.heldBackFraction).rounded())))
        let heldNew = splitter.sampleIndices(sideNew.rows, count: max(1, Int((Double(sideNew.rows) * settings.heldBackFraction).rounded())))
        let fitOld = complement(heldOld, sideOld.rows), fitNew = complement(heldNew, sideNew.rows)
        let zFitOld = gather(sideOld.z, fitOld, d), zFitNew = gather(sideNew.z, fitNew, d)
        let zHeldOld = gather(sideOld.z, heldOld, d), zHeldNew = gather(sideNew.z, heldNew, d)
        let matrixFitOld = floatMatrix(zFitOld, rows: fitOld.count, cols: d)
        let matrixFitNew = floatMatrix(zFitNew, rows: fitNew.count, cols: d)
        let basisOld = try principalBasis(zFitOld, rows: fitOld.count, d), basisNew = try principalBasis(zFitNew, rows: fitNew.count, d)

        var restarts: [UnpairedRestart] = [], rotations: [[Double]] = []
        for r in 0..<settings.restarts {
            let start = Date()
            var rng = SeededGenerator(seed: seed &+ 0x9E37_79B9_7F4A_7C15 &* UInt64(r + 1))
            var w = try seeding(newFit: zFitNew, matrixNew: matrixFitNew, nNew: fitNew.count, oldFit: zFitOld, matrixOld: matrixFitOld,
                                nOld: fitOld.count, d: d, settings: settings, rng: &rng)
            w = try refinement(newFit: zFitNew, nNew: fitNew.count, oldFit: zFitOld, nOld: fitOld.count, d: d, w: w, settings: settings, rng: &rng)
            let learned = try selfLearning(newFit: zFitNew, nNew: fitNew.count, oldFit: zFitOld, nOld: fitOld.count, d: d, w: w,
                                           basisNew: basisNew, basisOld: basisOld, settings: settings)
            let check = CSLSMutualNeighbors.find(BLAS.matmul(zHeldNew, rows: heldNew.count, inner: d, learned.w, cols: d), rows: heldNew.count,
                                                 zHeldOld, rows: heldOld.count, dimension: d, k: settings.cslsNeighbors, blockRows: blockRows)
            restarts.append(UnpairedRestart(index: r, criterion: check.meanScore, heldBackPairs: check.count, pseudoPairs: learned.pairs,
                                            seconds: Date().timeIntervalSince(start)))
            rotations.append(learned.w)
        }
        var kept = 0
        for r in restarts.indices where restarts[r].criterion > restarts[kept].criterion { kept = r }
        let w = rotations[kept]
        let s = sideOld.scale / sideNew.scale
        let weights = w.map { $0 * s }
        var bias = sideOld.mean
        for u in 0..<d { for t in 0..<d { bias[t] -= sideNew.mean[u] * weights[u * d + t] } }
        let map = LinearMap(inputDimension: d, outputDimension: d, weights: weights, bias: bias, fit: .unpaired)
        return UnpairedAlignment(map: map, rotation: w, scale: s, rowsOld: old.rows, rowsNew: new.rows,
                                 heldBackOld: heldOld.count, heldBackNew: heldNew.count, restarts: restarts, kept: kept,
                                 settings: settings, seed: seed)
    }

    /// One side centred and normalised with its own statistics.
    struct Side {
        var z: [Double]
        var rows: Int
        var mean: [Double]
        /// Mean distance of a row from the mean.
        var scale: Double

        init(_ x: Matrix, name: String) throws {
            let n = x.rows, d = x.cols
            rows = n
            let p = x.pointer
            for i in 0..<(n * d) where !p[i].isFinite {
                throw EmbdiagError.invalid(name, "row \(i / d) holds NaN or Inf; \(Setting.fit) unpaired needs finite rows (drop them with --on-invalid drop)")
            }
            mean = Matrix.columnMeans(x)
            z = [Double](repeating: 0, count: n * d)
            var total = 0.0
            for i in 0..<n {
                var s = 0.0
                for t in 0..<d { let v = Double(p[i * d + t]) - mean[t]; z[i * d + t] = v; s += v * v }
                let norm = s.squareRoot()
                total += norm
                if norm > 0 { for t in 0..<d { z[i * d + t] /= norm } }
            }
            scale = n > 0 ? total / Double(n) : 0
            guard scale > 0, scale.isFinite else {
                throw EmbdiagError.invalid(name, "every row is the same vector: there is no cloud to align")
            }
        }
    }

    // MARK: - Steps

    /// k-means rounds, centroid matching, relative representations, pseudo-partners, Procrustes.
    static func seeding(newFit: [Double], matrixNew: Matrix, nNew: Int, oldFit: [Double], matrixOld: Matrix, nOld: Int, d: Int,
                        settings: UnpairedAlignmentSettings, rng: inout SeededGenerator) throws -> [Double] {
        let c = min(settings.clusters, nNew, nOld)
        var anchorsNew: [Double] = [], anchorsOld: [Double] = []
        for _ in 0..<settings.rounds {
            let cn = KMeans.cluster(matrixNew, k: c, restarts: 1, iterations: settings.kMeansIterations, seed: rng.next()).centroids
            let co = KMeans.cluster(matrixOld, k: c, restarts: 1, iterations: settings.kMeansIterations, seed: rng.next()).centroids
            let centroidsNew = (0..<cn.count).map { Double(cn.pointer[$0]) }, centroidsOld = (0..<co.count).map { Double(co.pointer[$0]) }
            let match = QuadraticAssignment.twoOpt(centredKernel(centroidsNew, c, d), centredKernel(centroidsOld, c, d), size: c,
                                                   starts: settings.matchingStarts, seed: rng.next())
            anchorsNew += centroidsNew
            for a in 0..<c { anchorsOld += centroidsOld[(match.permutation[a] * d)..<((match.permutation[a] + 1) * d)] }
        }
        let anchors = settings.rounds * c
        normalizeRows(&anchorsNew, rows: anchors, cols: d)
        normalizeRows(&anchorsOld, rows: anchors, cols: d)
        var relativeNew = BLAS.matmul(newFit, rows: nNew, inner: d, anchorsNew, cols: anchors, transposeB: true)
        var relativeOld = BLAS.matmul(oldFit, rows: nOld, inner: d, anchorsOld, cols: anchors, transposeB: true)
        normalizeRows(&relativeNew, rows: nNew, cols: anchors)
        normalizeRows(&relativeOld, rows: nOld, cols: anchors)
        let targets = meanOfNearest(relativeNew, rows: nNew, relativeOld, rows: nOld, dimension: anchors, k: settings.pseudoPartners,
                                    values: oldFit, valueDimension: d)
        return try procrustesRotation(newFit, targets, rows: nNew, d)
    }

    /// Map a seeded sample, average each mapped row's nearest OLD rows, Procrustes, average the
    /// rotations; then the nearest orthogonal matrix.
    static func refinement(newFit: [Double], nNew: Int, oldFit: [Double], nOld: Int, d: Int, w start: [Double],
                           settings: UnpairedAlignmentSettings, rng: inout SeededGenerator) throws -> [Double] {
        var w = start
        for _ in 0..<settings.refinementSteps {
            let rows = rng.sampleIndices(nNew, count: min(settings.refinementSample, nNew))
            let sample = gather(newFit, rows, d)
            let mapped = BLAS.matmul(sample, rows: rows.count, inner: d, w, cols: d)
            let targets = meanOfNearest(mapped, rows: rows.count, oldFit, rows: nOld, dimension: d, k: settings.pseudoPartners,
                                        values: oldFit, valueDimension: d)
            let step = try procrustesRotation(sample, targets, rows: rows.count, d)
            for t in 0..<w.count { w[t] = 0.5 * w[t] + 0.5 * step[t] }
        }
        return try SpaceComparison.semiOrthogonalFactor(w, rows: d, cols: d).rotation
    }

    /// Mutual CSLS nearest neighbours and Procrustes in widening principal subspaces; returns the
    /// full-dimension rotation fitted on the last pseudo-pairs.
    static func selfLearning(newFit: [Double], nNew: Int, oldFit: [Double], nOld: Int, d: Int, w: [Double],
                             basisNew: [Double], basisOld: [Double], settings: UnpairedAlignmentSettings) throws -> (w: [Double], pairs: Int) {
        let k = settings.cslsNeighbors
        let first = CSLSMutualNeighbors.find(BLAS.matmul(newFit, rows: nNew, inner: d, w, cols: d), rows: nNew, oldFit, rows: nOld,
                                             dimension: d, k: k, blockRows: blockRows)
        var rowsNew = first.rowsA, rowsOld = first.rowsB
        let stages = settings.subspaces.filter { $0 < d }.sorted() + [d]
        for p in stages {
            var a = BLAS.matmul(newFit, rows: nNew, inner: d, leadingColumns(basisNew, d, p), cols: p)
            var b = BLAS.matmul(oldFit, rows: nOld, inner: d, leadingColumns(basisOld, d, p), cols: p)
            normalizeRows(&a, rows: nNew, cols: p)
            normalizeRows(&b, rows: nOld, cols: p)
            var wp = try procrustesRotation(gather(a, rowsNew, p), gather(b, rowsOld, p), rows: rowsNew.count, p)
            for _ in 0..<settings.stepsPerSubspace {
                let m = CSLSMutualNeighbors.find(BLAS.matmul(a, rows: nNew, inner: p, wp, cols: p), rows: nNew, b, rows: nOld,
                                                 dimension: p, k: k, blockRows: blockRows)
                // Too few pairs to fit a rotation on: keep the previous ones.
                if m.count < 10 { break }
                let unchanged = m.rowsA == rowsNew && m.rowsB == rowsOld
                rowsNew = m.rowsA
                rowsOld = m.rowsB
                if unchanged { break }
                wp = try procrustesRotation(gather(a, rowsNew, p), gather(b, rowsOld, p), rows: rowsNew.count, p)
            }
        }
        let full = try procrustesRotation(gather(newFit, rowsNew, d), gather(oldFit, rowsOld, d), rows: rowsNew.count, d)
        return (full, rowsNew.count)
    }

    // MARK: - Dense helpers (row-major Float64)

    /// The orthogonal W maximising tr(Wᵀ XᵀY) for paired rows x_i → y_i (no centring: the sides
    /// are centred already).
    /// - Complexity: O(rows·d²) for XᵀY, O(d³) for its SVD.
    static func procrustesRotation(_ x: [Double], _ y: [Double], rows: Int, _ d: Int) throws -> [Double] {
        let cross = BLAS.matmul(x, rows: d, inner: rows, y, cols: d, transposeA: true)
        return try SpaceComparison.semiOrthogonalFactor(cross, rows: d, cols: d).rotation
    }

    /// For every query row, the mean of the `values` rows of its k nearest gallery rows (largest
    /// dot product; ties: lower gallery row), averaged best first. Blocked: one GEMM per block of
    /// queries, rows of a block split between the cores.
    /// - Complexity: O(nq·ng·dimension) flops, O(nq·ng + nq·k·d) selection and averaging.
    static func meanOfNearest(_ queries: [Double], rows nq: Int, _ gallery: [Double], rows ng: Int, dimension: Int, k: Int,
                              values: [Double], valueDimension d: Int) -> [Double] {
        var out = [Double](repeating: 0, count: nq * d)
        out.withUnsafeMutableBufferPointer { outBuf in
            let op = outBuf.baseAddress!
            values.withUnsafeBufferPointer { vb in
                let vp = vb.baseAddress!
                var lo = 0
                while lo < nq {
                    let hi = min(nq, lo + blockRows)
                    let tile = BLAS.matmul(Array(queries[(lo * dimension)..<(hi * dimension)]), rows: hi - lo, inner: dimension,
                                           gallery, cols: ng, transposeB: true)
                    tile.withUnsafeBufferPointer { t in
                        let tp = t.baseAddress!
                        parallelChunks(hi - lo, minimumChunk: 64) { range in
                            for r in range {
                                let top = LargestEntries.indices(tp + r * ng, count: ng, k: k)
                                let target = op + (lo + r) * d
                                for j in top { for c in 0..<d { target[c] += vp[j * d + c] } }
                                let inv = 1 / Double(max(1, top.count))
                                for c in 0..<d { target[c] *= inv }
                            }
                        }
                    }
                    lo = hi
                }
            }
        }
        return out
    }

    /// Principal directions of the rows (covariance eigenvectors, largest variance first) as the
    /// columns of a d × d matrix.
    /// - Complexity: O(n·d²) for the covariance, O(d³) for its eigenvectors.
    static func principalBasis(_ z: [Double], rows n: Int, _ d: Int) throws -> [Double] {
        var mean = [Double](repeating: 0, count: d)
        for i in 0..<n { for t in 0..<d { mean[t] += z[i * d + t] } }
        for t in 0..<d { mean[t] /= Double(max(1, n)) }
        var centred = z
        for i in 0..<n { for t in 0..<d { centred[i * d + t] -= mean[t] } }
        let covariance = BLAS.matmul(centred, rows: d, inner: n, centred, cols: d, transposeA: true)
        let eigen = try LAPACK.symmetricEigen(covariance, dimension: d)
        var basis = [Double](repeating: 0, count: d * d)
        for c in 0..<d { for t in 0..<d { basis[t * d + c] = eigen.vectors[c * d + t] } }
        return basis
    }

    /// The first p columns of a d × d row-major matrix.
    static func leadingColumns(_ m: [Double], _ d: Int, _ p: Int) -> [Double] {
        if p == d { return m }
        var out = [Double](repeating: 0, count: d * p)
        for t in 0..<d { for c in 0..<p { out[t * p + c] = m[t * d + c] } }
        return out
    }

    /// The cosine kernel of the rows, double-centred (H·K·H with H = I − 11ᵀ/n).
    static func centredKernel(_ rows: [Double], _ n: Int, _ d: Int) -> [Double] {
        var unit = rows
        normalizeRows(&unit, rows: n, cols: d)
        var k = BLAS.matmul(unit, rows: n, inner: d, unit, cols: n, transposeB: true)
        var rowMean = [Double](repeating: 0, count: n), total = 0.0
        for i in 0..<n { for j in 0..<n { rowMean[i] += k[i * n + j] } ; total += rowMean[i]; rowMean[i] /= Double(n) }
        total /= Double(n * n)
        // K is symmetric: column means equal row means.
        for i in 0..<n { for j in 0..<n { k[i * n + j] += total - rowMean[i] - rowMean[j] } }
        return k
    }

    static func normalizeRows(_ a: inout [Double], rows n: Int, cols d: Int) {
        for i in 0..<n {
            var s = 0.0
            for t in 0..<d { s += a[i * d + t] * a[i * d + t] }
            let norm = s.squareRoot()
            if norm > 0 { for t in 0..<d { a[i * d + t] /= norm } }
        }
    }

    static func gather(_ a: [Double], _ rows: [Int], _ d: Int) -> [Double] {
        var out = [Double]()
        out.reserveCapacity(rows.count * d)
        for r in rows { out += a[(r * d)..<((r + 1) * d)] }
        return out
    }

    static func complement(_ sorted: [Int], _ n: Int) -> [Int] {
        let excluded = Set(sorted)
        return (0..<n).filter { !excluded.contains($0) }
    }

    static func floatMatrix(_ a: [Double], rows: Int, cols: Int) -> Matrix {
        Matrix(rows: rows, cols: cols, values: a.map { Float($0) })
    }
}
