import COpenBLAS
import Foundation

/// Is the space a narrow cone? Every anisotropy measure of `embdiag anisotropy`, computed in one
/// streamed pass over the rows (unit-vector sums and the covariance by blocked SSYRK) plus one
/// blocked GEMM for the partition function. Guide: Guides/Anisotropy.md.
public struct AnisotropyMetrics: Sendable {
    public internal(set) var rows: Int
    public internal(set) var dimension: Int
    /// Mean cosine over all distinct pairs, exactly: (‖Σ û_i‖² − n) / (n(n − 1)).
    public internal(set) var meanCosine: Double
    /// Standard deviation of the cosine over a seeded sample of distinct pairs (nil if not sampled).
    public internal(set) var cosineStandardDeviation: Double?
    public internal(set) var sampledPairs: Int
    /// ‖mean vector‖ / mean ‖x_i‖.
    public internal(set) var meanVectorRatio: Double
    /// ‖(1/n) Σ û_i‖: the length of the mean unit vector (0 isotropic, 1 all rows parallel).
    public internal(set) var meanUnitVectorNorm: Double
    /// Covariance eigenvalues (ddof 1), descending.
    public internal(set) var spectrum: [Double]
    /// IsoScore (Rudman et al. 2022) as the IsoScore 2.x package computes it: (PR − 1)/(d − 1).
    public internal(set) var isoScore: Double
    /// The IsoScore an isotropic Gaussian sample of the same n and d would get (finite-n baseline).
    public internal(set) var isoScoreNullBaseline: Double
    /// Mu & Viswanath's I(W) = min_c Z(c) / max_c Z(c), c over ± the eigenvectors of XᵀX. NaN
    /// (reported as null) when it is ill-conditioned: see `partitionDegeneracy`.
    public internal(set) var partitionIsotropy: Double
    /// Set when I(W) is not reported because the direction attaining min Z or max Z lies in a
    /// degenerate eigenspace (relative eigen-gaps below `degenerateGapTolerance`) over whose
    /// eigenvector basis log Z varies by more than `partitionBasisTolerance`: any basis of such a
    /// space is a valid set of principal directions, so the value would be LAPACK's arbitrary
    /// choice (it changes with the BLAS kernel and thread count). E.g. every whitened space.
    public internal(set) var partitionDegeneracy: PartitionDegeneracy?
    /// Rows the partition function was computed on (all, or a seeded sample).
    public internal(set) var partitionFunctionRows: Int
    /// exp(entropy of λ/Σλ) (Roy & Vetterli 2007, on the covariance spectrum).
    public internal(set) var effectiveRank: Double
    /// (Σλ)² / Σλ².
    public internal(set) var participationRatio: Double
    /// Per-dimension contribution to the mean cosine (Timkey & van Schijndel 2021); sums to meanCosine.
    public internal(set) var cosineContributions: [Double]
    /// Variance of each dimension (diagonal of the covariance).
    public internal(set) var dimensionVariances: [Double]
    public internal(set) var meanNorm: Double

    public func explainedVariance(top k: Int) -> Double {
        let total = spectrum.reduce(0, +)
        guard total > 0 else { return .nan }
        return spectrum.prefix(max(0, k)).reduce(0, +) / total
    }

    /// The standard deviation of the mean cosine of n independent uniformly distributed
    /// directions in d dimensions: Σ_{i≠j} ûᵢ·ûⱼ has variance 2n(n − 1)/d, so
    /// sd = √(2/(d·n(n − 1))). A mean cosine within 3 of these of 0 is noise.
    public var meanCosineNoise: Double {
        guard rows > 1, dimension > 0 else { return .nan }
        return (2 / (Double(dimension) * Double(rows) * Double(rows - 1))).squareRoot()
    }

    /// The top rogue dimension's contribution / the mean cosine (Timkey & van Schijndel 2021), or
    /// nil when the mean cosine is within 3 × `meanCosineNoise` of 0: a ratio of noise to noise
    /// (isotropic data gave 3,327 %), ill-conditioned, so not reported.
    public var topDimensionShare: Double? {
        guard let top = rogueDimensions.first, abs(meanCosine) > 3 * meanCosineNoise else { return nil }
        return cosineContributions[top] / meanCosine
    }

    /// Dimensions ordered by their contribution to the mean cosine.
    public var rogueDimensions: [Int] {
        cosineContributions.indices.sorted { abs(cosineContributions[$0]) > abs(cosineContributions[$1]) || (abs(cosineContributions[$0]) == abs(cosineContributions[$1]) && $0 < $1) }
    }

    /// - Parameters:
    ///   - pairSample: distinct pairs sampled (seeded) for the cosine's spread; 0 skips it.
    public init(_ m: Matrix, pairSample: Int = 100_000, partitionSample: Int = 100_000, seed: UInt64 = 42) throws {
        let n = m.rows, d = m.cols
        guard n >= 2 else { throw EmbdiagError.invalid(nil, "anisotropy needs at least 2 rows (has \(n))") }
        rows = n
        dimension = d
        // One read of the rows for the unit-vector sums and the covariance (a 1M × 768 file is 3 GB:
        // a second read costs more than the sums): rows are centred on a provisional shift, the
        // exact mean is applied afterwards (`Matrix.covariance(shiftedGram:…)`).
        let shift = Matrix.provisionalShift(m)
        var rowNorms = [Double](repeating: 0, count: n)
        let pass = rowNorms.withUnsafeMutableBufferPointer { normBuffer in
            let normOut = normBuffer.baseAddress!
            return Matrix.shiftedGram(m, shift: shift, statistics: Matrix.RowStatistics(count: 3 * d) { row, i, acc in
                normOut[i] = UnitVectorSums.accumulate(row, count: d, into: acc)
            })
        }
        let sums = UnitVectorSums(norms: rowNorms, totals: pass.statistics)
        meanNorm = sums.norms.reduce(0, +) / Double(n)
        let unitSumNorm2 = sums.unitSum.reduce(0) { $0 + $1 * $1 }
        meanCosine = (unitSumNorm2 - Double(n)) / (Double(n) * Double(n - 1))
        meanUnitVectorNorm = unitSumNorm2.squareRoot() / Double(n)
        let nn = Double(n) * Double(n - 1)
        cosineContributions = (0..<d).map { (sums.unitSum[$0] * sums.unitSum[$0] - sums.unitSquareSum[$0]) / nn }

        let mean = sums.columnSum.map { $0 / Double(n) }
        meanVectorRatio = mean.reduce(0) { $0 + $1 * $1 }.squareRoot() / meanNorm
        // A centred (or whitened) space has a mean of exactly zero; what remains is Float32
        // round-off that changes with the BLAS kernel. Report it as 0, not as a number.
        if meanVectorRatio < Self.meanRatioResolution { meanVectorRatio = 0 }
        let cov = Matrix.covariance(shiftedGram: pass.gram, shift: shift, mean: mean, rows: n, ddof: 1)
        let summary = try Self.covarianceSpectrum(cov, rows: n, dimension: d)
        (dimensionVariances, spectrum, participationRatio, isoScore, isoScoreNullBaseline, effectiveRank) =
            (summary.variances, summary.spectrum, summary.participationRatio, summary.isoScore, summary.nullBaseline, summary.effectiveRank)

        // Partition function over the eigenvectors of XᵀX = (n−1)C + n μμᵀ (uncentred, as Mu &
        // Viswanath), in log space (log-sum-exp) so large norms cannot overflow.
        var second = cov
        for i in 0..<d { for j in 0..<d { second[i * d + j] = (Double(n - 1) * cov[i * d + j] + Double(n) * mean[i] * mean[j]) / Double(n) } }
        let directions = try LAPACK.symmetricEigen(second, dimension: d)
        // Z(c)/n is a mean over rows: above `partitionSample` rows it is estimated on a seeded
        // sample, which keeps this step small next to the covariance pass.
        var partitionRows = m
        if n > partitionSample {
            var rng = SeededGenerator(seed: seed &+ 1)
            partitionRows = m.gather(rows: rng.sampleIndices(n, count: partitionSample))
        }
        partitionFunctionRows = partitionRows.rows
        // Both signs of every eigenvector: its sign is arbitrary (LAPACK's choice), and Z(c) ≠ Z(−c)
        // as soon as the data has a mean, so one sign alone would make the measure ill-defined.
        // Plus probe directions inside every degenerate eigenspace (`partitionDirections`), so the
        // conditioning check sees log Z over the span, not only at LAPACK's basis vectors.
        let probed = AnisotropyMetrics.partitionDirections(Matrix(rows: d, cols: d, values: directions.vectors.map { Float($0) }), eigenvalues: directions.values)
        let logZ = AnisotropyMetrics.partitionLogZ(partitionRows, directions: probed)
        (partitionIsotropy, partitionDegeneracy) = AnisotropyMetrics.conditionedPartitionIsotropy(logZ: logZ, eigenvalues: directions.values)

        if pairSample > 0 {
            var rng = SeededGenerator(seed: seed)
            let count = min(pairSample, n * (n - 1) / 2)
            let (first, second) = rng.pairSampleOrEveryPair(n, count: count)
            // Fixed-order Float64 dot products (both cores), the same on every kernel.
            let dots = Matrix.pairedDotProducts(m, first, m, second)
            let norms = sums.norms
            let cosines = (0..<count).map { t -> Double in
                let a = norms[first[t]], b = norms[second[t]]
                return a > 0 && b > 0 ? dots[t] / (a * b) : 0
            }
            cosineStandardDeviation = Statistics.meanAndStandardDeviation(cosines).std
            sampledPairs = count
        } else {
            cosineStandardDeviation = nil
            sampledPairs = 0
        }
    }

    /// The spectrum metrics of a d × d covariance (row-major): variances per dimension, eigenvalues
    /// (|λ|, descending: svdvals of a PSD matrix, tiny negative round-off made positive as in the
    /// IsoScore package), participation ratio, IsoScore, its isotropic-Gaussian baseline for n rows,
    /// and the effective rank exp(H(λ/Σλ)). Shared by the single run and `embdiag merge`.
    /// - Complexity: O(d³) (one symmetric eigen-decomposition).
    static func covarianceSpectrum(_ cov: [Double], rows n: Int, dimension d: Int) throws
        -> (variances: [Double], spectrum: [Double], participationRatio: Double, isoScore: Double, nullBaseline: Double, effectiveRank: Double) {
        let variances = (0..<d).map { cov[$0 * d + $0] }
        let eig = try LAPACK.symmetricEigen(cov, dimension: d)
        let spectrum = eig.values.map(abs).sorted(by: >)
        let total = spectrum.reduce(0, +), squares = spectrum.reduce(0) { $0 + $1 * $1 }
        let participationRatio = squares > 0 ? total * total / squares : .nan
        let isoScore = d > 1 ? (participationRatio - 1) / Double(d - 1) : .nan
        let p = spectrum.map { total > 0 ? $0 / total : 0 }
        let effectiveRank = Foundation.exp(-p.reduce(0) { $0 + ($1 > 0 ? $1 * Foundation.log($1) : 0) })
        return (variances, spectrum, participationRatio, isoScore, isotropicGaussianIsoScore(rows: n, dimension: d), effectiveRank)
    }

    /// E[IsoScore] of n draws from N(0, I_d), from E tr C = d and E tr C² = d(n + d)/(n − 1)
    /// for the ddof-1 sample covariance (Wishart moments): PR ≈ d(n − 1)/(n + d).
    public static func isotropicGaussianIsoScore(rows n: Int, dimension d: Int) -> Double {
        guard n > 1, d > 1 else { return .nan }
        let pr = Double(d) * Double(n - 1) / Double(n + d)
        return max(0, (pr - 1) / Double(d - 1))
    }

    /// ‖mean‖ / mean ‖x‖ below this is the round-off of a centred Float32 space (about √d·2⁻²⁴
    /// per row, averaged): reported as exactly 0.
    public static let meanRatioResolution = 1e-5

    /// Relative eigen-gap (λᵢ − λᵢ₊₁)/λᵢ below which two principal directions are treated as one
    /// degenerate eigenspace (`EigenClusters`, which also joins eigenvalues closer than 1e-6 of the
    /// largest). The second-moment matrix comes from Float32 rows, so its entries carry relative
    /// errors around 1e-6; eigenvectors whose eigenvalues are closer than ~1e-3 rotate freely
    /// inside their span under such errors.
    public static let degenerateGapTolerance = EigenClusters.relativeGapTolerance
    /// Spread of log Z over a degenerate eigenspace that makes I(W) basis-dependent beyond
    /// the documented float noise (1e-6 relative).
    public static let partitionBasisTolerance = 1e-6
    /// Probe directions per degenerate eigenspace (`partitionDirections`).
    static let probesPerCluster = 3

    /// The directions whose log Z the partition isotropy needs: the d eigenvectors (rows of
    /// `vectors`, descending `eigenvalues`), then `probesPerCluster` unit vectors inside the span
    /// of every cluster of two or more nearly equal eigenvalues (`EigenClusters`), in cluster
    /// order. A probe is a fixed combination of the cluster's basis vectors (weights from a
    /// generator seeded by the cluster's position and size, the same in a single run and a
    /// merge). Every unit vector of such a span is a principal direction: with the basis vectors
    /// alone a symmetric data set (rows and their 90° rotations) shows the same log Z at LAPACK's
    /// two vectors although log Z varies over the rest of their plane.
    ///
    /// - Complexity: O(p·s·d) for p probes in clusters of s directions.
    static func partitionDirections(_ vectors: Matrix, eigenvalues: [Double]) -> Matrix {
        let d = vectors.cols
        var values = Array(UnsafeBufferPointer(start: vectors.pointer, count: vectors.rows * d))
        for cluster in EigenClusters.clusters(eigenvalues) where cluster.count >= 2 {
            var rng = SeededGenerator(seed: UInt64(cluster.lowerBound) &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(cluster.count))
            for _ in 0..<probesPerCluster {
                let weights = cluster.map { _ in rng.nextGaussian() }
                var probe = [Double](repeating: 0, count: d)
                for (w, k) in zip(weights, cluster) {
                    let row = vectors.pointer + k * d
                    for i in 0..<d { probe[i] += w * Double(row[i]) }
                }
                let norm = probe.reduce(0) { $0 + $1 * $1 }.squareRoot()
                values += probe.map { Float(norm > 0 ? $0 / norm : 0) }
            }
        }
        return Matrix(rows: values.count / max(d, 1), cols: d, values: values)
    }

    /// I(W) = exp(min log Z − max log Z) over ± every eigenvector, or NaN with the reason when the
    /// result depends on the basis LAPACK chose inside a degenerate eigenspace: the extreme is
    /// attained in such a space and log Z varies over it (its basis vectors and probes) by more
    /// than `partitionBasisTolerance`, or a probe of any such space reaches beyond the extremes
    /// (another basis of it would attain them). `eigenvalues` are descending, one per eigenvector;
    /// `logZ` holds the eigenvectors' values, then the probes' of `partitionDirections` (without
    /// probes, only the basis vectors are compared).
    ///
    /// - Complexity: O(d + probes).
    static func conditionedPartitionIsotropy(logZ: [(positive: Double, negative: Double)], eigenvalues: [Double]) -> (Double, PartitionDegeneracy?) {
        let d = eigenvalues.count
        guard d > 0, logZ.count >= d else { return (.nan, nil) }
        let clusters = EigenClusters.clusters(eigenvalues)
        // Probe values per cluster, in the order `partitionDirections` appends them.
        var probes = [[Double]](repeating: [], count: clusters.count)
        if logZ.count > d {
            var next = d
            for (c, cluster) in clusters.enumerated() where cluster.count >= 2 {
                guard next + probesPerCluster <= logZ.count else { return (.nan, nil) }
                probes[c] = (next..<(next + probesPerCluster)).flatMap { [logZ[$0].positive, logZ[$0].negative] }
                next += probesPerCluster
            }
        }
        var lo = Double.infinity, hi = -Double.infinity, argLo = 0, argHi = 0
        for i in 0..<d {
            for v in [logZ[i].positive, logZ[i].negative] {
                if v < lo { lo = v; argLo = i }
                if v > hi { hi = v; argHi = i }
            }
        }
        for (c, cluster) in clusters.enumerated() where cluster.count >= 2 {
            let values = cluster.flatMap { [logZ[$0].positive, logZ[$0].negative] } + probes[c]
            let spread = values.max()! - values.min()!
            let holdsExtreme = cluster.contains(argLo) || cluster.contains(argHi)
            let beyond = probes[c].contains { $0 < lo - partitionBasisTolerance || $0 > hi + partitionBasisTolerance }
            if (holdsExtreme && spread > partitionBasisTolerance) || beyond {
                return (.nan, PartitionDegeneracy(firstComponent: cluster.lowerBound + 1, lastComponent: cluster.upperBound, logZSpread: spread))
            }
        }
        return (Foundation.exp(lo - hi), nil)
    }

    /// log Z(c) and log Z(−c), Z(c) = Σ_i exp(cᵀx_i), c = rows of `directions`: blocked GEMM of
    /// the rows against all directions, then per direction an online log-sum-exp in Float64
    /// (columns split across the cores; each column's sum runs in row order, so the result does
    /// not depend on the thread count).
    static func partitionLogZ(_ m: Matrix, directions: Matrix) -> [(positive: Double, negative: Double)] {
        // Column c accumulates Z(c) and, from the same projection, Z(−c): log Z = shift + log Σ
        // exp(v − shift), shift = the running maximum. Per block: column maxima and minima first,
        // rescale the running sums if the maximum grew, then a branch-free pass of exponentials
        // (Float64 sums per column, in row order), columns split across the cores.
        let k = directions.rows
        var shiftPos = [Double](repeating: -.infinity, count: k), shiftNeg = shiftPos
        var sumPos = [Double](repeating: 0, count: k), sumNeg = sumPos
        shiftPos.withUnsafeMutableBufferPointer { spBuf in
        shiftNeg.withUnsafeMutableBufferPointer { snBuf in
        sumPos.withUnsafeMutableBufferPointer { zpBuf in
        sumNeg.withUnsafeMutableBufferPointer { znBuf in
            let sp = spBuf.baseAddress!, sn = snBuf.baseAddress!, zp = zpBuf.baseAddress!, zn = znBuf.baseAddress!
            Matrix.pairwiseDotBlocks(m, directions) { _, block in
                let bp = block.pointer, rows = block.rows
                parallelChunks(k, minimumChunk: 64) { columns in
                    let width = columns.count, c0 = columns.lowerBound
                    var hi = [Float](repeating: -.infinity, count: width), lo = [Float](repeating: .infinity, count: width)
                    for r in 0..<rows {
                        let row = bp + r * k + c0
                        for t in 0..<width { hi[t] = max(hi[t], row[t]); lo[t] = min(lo[t], row[t]) }
                    }
                    var shiftP = [Float](repeating: 0, count: width), shiftN = shiftP
                    for t in 0..<width {
                        let c = c0 + t
                        let newP = max(sp[c], Double(hi[t])), newN = max(sn[c], Double(-lo[t]))
                        if zp[c] > 0 { zp[c] *= Foundation.exp(sp[c] - newP) }
                        if zn[c] > 0 { zn[c] *= Foundation.exp(sn[c] - newN) }
                        sp[c] = newP
                        sn[c] = newN
                        shiftP[t] = Float(newP)
                        shiftN[t] = Float(newN)
                    }
                    // Exponentials by `exponential` in a plain loop over the chunk's columns,
                    // which LLVM vectorizes; Float64 sums per column in row order.
                    var accP = [Double](repeating: 0, count: width), accN = accP
                    shiftP.withUnsafeBufferPointer { spV in shiftN.withUnsafeBufferPointer { snV in
                    accP.withUnsafeMutableBufferPointer { apV in accN.withUnsafeMutableBufferPointer { anV in
                        let sPos = spV.baseAddress!, sNeg = snV.baseAddress!
                        let ap = apV.baseAddress!, an = anV.baseAddress!
                        for r in 0..<rows {
                            let row = UnsafePointer(bp + r * k + c0)
                            for t in 0..<width {
                                let v = row[t]
                                ap[t] += Double(exponential(v - sPos[t]))
                                an[t] += Double(exponential(-v - sNeg[t]))
                            }
                        }
                    }}}}
                    for t in 0..<width { zp[c0 + t] += accP[t]; zn[c0 + t] += accN[t] }
                }
            }
        }}}}
        return (0..<k).map { (shiftPos[$0] + Foundation.log(sumPos[$0]), shiftNeg[$0] + Foundation.log(sumNeg[$0])) }
    }
}

/// Why partition isotropy is not reported: the principal directions (1-based components of XᵀX,
/// descending) `firstComponent…lastComponent` span a degenerate eigenspace over which log Z varies
/// by `logZSpread` (between its basis vectors and probe directions; the probes are combinations of
/// LAPACK's basis, so the spread, a lower bound of the variation over the span, is not printed).
public struct PartitionDegeneracy: Sendable, Equatable {
    public internal(set) var firstComponent: Int
    public internal(set) var lastComponent: Int
    public internal(set) var logZSpread: Double
}

/// Row norms, Σ û_i, Σ û_i² and Σ x_i per dimension in one parallel pass over the rows (one read
/// of a mapped file instead of three), SIMD with Float64 accumulation per chunk, chunks merged in
/// chunk order (deterministic for any thread count). Norms use the same arithmetic as `rowNorms`.
struct UnitVectorSums {
    var norms: [Double]
    var unitSum: [Double]
    var unitSquareSum: [Double]
    var columnSum: [Double]

    init(_ m: Matrix) {
        let n = m.rows, d = m.cols
        let chunkCount = max(1, min(64, n / 2048))
        let chunkSize = (n + chunkCount - 1) / chunkCount
        var partials = [[Double]](repeating: [], count: chunkCount)
        var rowNorm = [Double](repeating: 0, count: n)
        let lock = NSLock()
        let base = m.pointer
        rowNorm.withUnsafeMutableBufferPointer { normBuffer in
            let normOut = normBuffer.baseAddress!
            parallelIterations(chunkCount) { c in
                var s = [Double](repeating: 0, count: 3 * d)
                let lo = c * chunkSize, hi = min(n, lo + chunkSize)
                s.withUnsafeMutableBufferPointer { accBuffer in
                    for i in lo..<max(lo, hi) { normOut[i] = Self.accumulate(base + i * d, count: d, into: accBuffer.baseAddress!) }
                }
                lock.lock(); partials[c] = s; lock.unlock()
            }
        }
        var total = [Double](repeating: 0, count: 3 * d)
        for p in partials where !p.isEmpty { for j in 0..<(3 * d) { total[j] += p[j] } }
        self.init(norms: rowNorm, totals: total)
    }

    /// From the row norms and the 3·d totals laid out as `accumulate` adds them.
    init(norms: [Double], totals: [Double]) {
        let d = totals.count / 3
        self.norms = norms
        unitSum = Array(totals[0..<d])
        unitSquareSum = Array(totals[d..<(2 * d)])
        columnSum = Array(totals[(2 * d)...])
    }

    /// Adds one row to `acc` (3·d Float64 sums: û, û², x per dimension) and returns its norm
    /// (the arithmetic of `rowNorms`). SIMD, Float64.
    ///
    /// - Complexity: O(d).
    @inline(__always)
    static func accumulate(_ row: UnsafePointer<Float>, count d: Int, into sums: UnsafeMutablePointer<Double>) -> Double {
        let r = UnsafeRawPointer(row)
        let acc = UnsafeMutableRawPointer(sums)
        let unitAt = 0, squareAt = 8 * d, rawAt = 16 * d  // byte offsets of the three sums
        let wide = d / 8 * 8
        let norm = squaredNorm(r, count: d).squareRoot()
        let inv = norm > 0 ? 1 / norm : 0  // zero rows add nothing to the unit sums
        let invV = SIMD8<Double>(repeating: inv)
        var j = 0
        while j < wide {
            let x = SIMD8<Double>(r.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self))
            let u = x * invV
            let o = j * 8
            acc.storeBytes(of: acc.loadUnaligned(fromByteOffset: unitAt + o, as: SIMD8<Double>.self) + u, toByteOffset: unitAt + o, as: SIMD8<Double>.self)
            acc.storeBytes(of: acc.loadUnaligned(fromByteOffset: squareAt + o, as: SIMD8<Double>.self) + u * u, toByteOffset: squareAt + o, as: SIMD8<Double>.self)
            acc.storeBytes(of: acc.loadUnaligned(fromByteOffset: rawAt + o, as: SIMD8<Double>.self) + x, toByteOffset: rawAt + o, as: SIMD8<Double>.self)
            j += 8
        }
        while j < d {
            let x = Double(r.load(fromByteOffset: j * 4, as: Float.self))
            let u = x * inv
            sums[j] += u
            sums[d + j] += u * u
            sums[2 * d + j] += x
            j += 1
        }
        return norm
    }
}
