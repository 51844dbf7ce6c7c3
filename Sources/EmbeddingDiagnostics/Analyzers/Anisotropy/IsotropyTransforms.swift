import COpenBLAS
import Foundation

/// A remedy for anisotropy, applied in order by `embdiag anisotropy --transform`.
public enum IsotropyStep: Equatable, Sendable, CustomStringConvertible {
    /// Subtract the mean vector.
    case center
    /// All-but-the-top (Mu & Viswanath 2018): centre, then remove the top D principal components;
    /// nil = d/100 rounded (at least 1), the paper's rule.
    case allButTheTop(components: Int?)
    /// PCA whitening keeping K components (K given) or ZCA whitening (K nil, dimension kept).
    case whiten(components: Int?)
    /// Scale every row to unit length.
    case normalize

    /// Parses "center", "abtt", "abtt:3", "whiten", "whiten:128", "normalize".
    public init(parsing text: String) throws {
        // Empty parts kept: 'abtt:' is a missing number, not 'abtt' (the default) in disguise.
        let parts = text.lowercased().split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let count: Int?
        if parts.count == 2 {
            if ["center", "centre", "normalize", "normalise", "l2"].contains(parts[0]) { throw EmbdiagError.usage("transform '\(text)' takes no number") }
            guard let k = Int(parts[1]), k >= 1 else {
                throw EmbdiagError.usage("transform '\(text)': the number after ':' must be a whole number ≥ 1 (write \(parts[0]):N with N ≥ 1, or \(parts[0]) alone for its default)")
            }
            count = k
        } else {
            count = nil
        }
        switch parts.first ?? "" {
        case "center", "centre": self = .center
        case "abtt", "all-but-the-top": self = .allButTheTop(components: count)
        case "whiten", "zca", "pca-whiten": self = .whiten(components: count)
        case "normalize", "normalise", "l2": self = .normalize
        default: throw EmbdiagError.usage("unknown transform '\(text)'; use center, abtt[:D], whiten[:K] or normalize")
        }
        if count != nil && (self == .center || self == .normalize) {
            throw EmbdiagError.usage("transform '\(text)' takes no number")
        }
    }

    public var description: String {
        switch self {
        case .center: return "center"
        case .allButTheTop(let d): return d.map { "abtt:\($0)" } ?? "abtt"
        case .whiten(let k): return k.map { "whiten:\($0)" } ?? "whiten"
        case .normalize: return "normalize"
        }
    }
}

/// One fitted step: x ↦ (x − mean) · matrix (matrix nil = identity), or row normalisation.
public struct FittedIsotropyStep: Sendable {
    public internal(set) var step: String
    /// Components kept or removed (abtt D, whiten K), if any.
    public internal(set) var components: Int?
    public internal(set) var mean: [Float]?
    /// d_in × d_out.
    public internal(set) var matrix: Matrix?
    public var normalizesRows: Bool { step == "normalize" }
    public var outputDimension: Int? { matrix?.cols }
}

/// A sequence of fitted steps: fitted once (e.g. on a corpus) and applied to any data of the same
/// dimension (e.g. queries), so both live in the same whitened space.
public struct IsotropyTransform: Sendable {
    public internal(set) var steps: [FittedIsotropyStep]
    public internal(set) var inputDimension: Int

    /// Fits each step on the output of the previous one.
    public static func fit(_ steps: [IsotropyStep], on data: Matrix) throws -> (transform: IsotropyTransform, output: Matrix) {
        var current = data
        var fitted: [FittedIsotropyStep] = []
        for step in steps {
            let d = current.cols
            switch step {
            case .normalize:
                fitted.append(FittedIsotropyStep(step: "normalize"))
            case .center:
                fitted.append(FittedIsotropyStep(step: "center", mean: Matrix.columnMeans(current).map { Float($0) }))
            case .allButTheTop(let requested):
                // An asked D outside 1…d − 1 is an error, not a silent cap: the user asked for
                // something this data cannot give.
                guard d >= 2 else { throw EmbdiagError.usage("transform '\(step)' needs at least 2 dimensions (the data has \(d))") }
                if let r = requested, r > d - 1 {
                    throw EmbdiagError.usage("transform '\(step)': D must be in 1…\(d - 1) (all-but-the-top keeps at least one of the \(d) dimensions)")
                }
                let components = min(d - 1, max(1, requested ?? Int((Double(d) / 100).rounded())))
                let mean = Matrix.columnMeans(current)
                let eig = try LAPACK.symmetricEigen(Matrix.covariance(current, mean: mean), dimension: d)
                // The removed directions must not split a cluster of (nearly) equal eigenvalues:
                // they would be LAPACK's arbitrary basis of its span (a different matrix per CPU).
                if let cluster = EigenClusters.split(eig.values, keeping: components) {
                    throw EmbdiagError.usage(EigenClusters.splitMessage("transform '\(step)' (D = \(components))", values: eig.values, cluster: cluster, allowed: 1...(d - 1)))
                }
                // P = I − Σ_{k<D} u_k u_kᵀ: removes the dominating directions.
                let top = Array(eig.vectors[0..<(components * d)])
                var p = BLAS.matmul(top, rows: d, inner: components, top, cols: d, transposeA: true).map { -$0 }
                for i in 0..<d { p[i * d + i] += 1 }
                fitted.append(FittedIsotropyStep(step: "abtt", components: components, mean: mean.map { Float($0) }, matrix: Matrix(rows: d, cols: d, values: p.map { Float($0) })))
            case .whiten(let requested):
                guard current.rows > 1 else { throw EmbdiagError.invalid(nil, "whitening needs at least 2 rows") }
                let mean = Matrix.columnMeans(current)
                let eig = try LAPACK.symmetricEigen(Matrix.covariance(current, mean: mean), dimension: d)
                // Eigenvalues floored at 1e-8 of the largest: a rank-deficient covariance (n ≤ d)
                // must not produce infinities.
                let floor = max(eig.values[0], 1e-30) * 1e-8
                let scale = eig.values.map { 1 / max($0, floor).squareRoot() }
                if let requestedK = requested {
                    guard requestedK <= d else {
                        throw EmbdiagError.usage("transform '\(step)': K must be in 1…\(d) (whitening keeps at most the \(d) dimensions)")
                    }
                    let k = requestedK
                    // The kept directions must not split a cluster of (nearly) equal eigenvalues
                    // (floored ones are scaled alike, so they count as equal). ZCA (no K) is
                    // U diag(λ^{-1/2}) Uᵀ = C^{-1/2}, the same matrix in any eigenbasis.
                    let floored = eig.values.map { max($0, floor) }
                    if let cluster = EigenClusters.split(floored, keeping: k) {
                        throw EmbdiagError.usage(EigenClusters.splitMessage("transform '\(step)'", values: floored, cluster: cluster, allowed: 1...d))
                    }
                    // PCA whitening: W = U_K diag(λ^{-1/2}), d × K, in a basis that does not
                    // depend on LAPACK's choices (`canonicalWhitening`).
                    let columns = IsotropyTransform.canonicalWhitening(eig, floored: floored, keeping: k)
                    var w = [Float](repeating: 0, count: d * k)
                    for c in 0..<k { for i in 0..<d { w[i * k + c] = Float(columns[c][i]) } }
                    fitted.append(FittedIsotropyStep(step: "whiten", components: k, mean: mean.map { Float($0) }, matrix: Matrix(rows: d, cols: k, values: w)))
                } else {
                    // ZCA: W = U diag(λ^{-1/2}) Uᵀ, d × d (closest whitened data to the input).
                    var scaled = eig.vectors
                    for c in 0..<d { for i in 0..<d { scaled[c * d + i] *= scale[c] } }
                    let w = BLAS.matmul(eig.vectors, rows: d, inner: d, scaled, cols: d, transposeA: true)
                    fitted.append(FittedIsotropyStep(step: "whiten", components: nil, mean: mean.map { Float($0) }, matrix: Matrix(rows: d, cols: d, values: w.map { Float($0) })))
                }
            }
            current = try fitted.last!.apply(to: current)
        }
        return (IsotropyTransform(steps: fitted, inputDimension: data.cols), current)
    }

    /// The K columns of PCA whitening, each the whitening map of its cluster of (nearly) equal
    /// eigenvalues (`EigenClusters` of the `floored` eigenvalues, which give the scales λ^{−1/2}) applied to a basis of the
    /// cluster's span that LAPACK's arbitrary choices do not change:
    /// - a lone eigenvector, with the sign that makes its largest loading positive (ties: the
    ///   first), as LAPACK's sign is arbitrary;
    /// - for a cluster of s directions, whose eigenvectors are any basis of their span, the
    ///   projections P e_j of the coordinate axes (P = U_c U_cᵀ, basis-independent) in index
    ///   order, orthonormalised, each kept when its remaining length² exceeds 1/(2d) (some axis
    ///   always has ≥ 1/d of what is left, so s are found), mapped by U_c diag(λ_c^{−1/2}) U_cᵀ
    ///   (the cluster's own ZCA whitening, also basis-independent). The columns stay orthogonal
    ///   directions of unit variance.
    /// Call only with a K that does not split a cluster.
    ///
    /// - Complexity: O(K·d²) at most (O(s·d²) per cluster of s directions).
    static func canonicalWhitening(_ eig: SymmetricEigen, floored: [Double], keeping k: Int) -> [[Double]] {
        let d = eig.dimension
        let scale = floored.map { 1 / $0.squareRoot() }
        var columns: [[Double]] = []
        for cluster in EigenClusters.clusters(floored) where cluster.lowerBound < k {
            let vectors = cluster.map { eig.vector($0) }
            if cluster.count == 1 {
                var u = vectors[0]
                var big = 0
                for t in 1..<max(1, d) where abs(u[t]) > abs(u[big]) { big = t }
                if u[big] < 0 { u = u.map { -$0 } }
                columns.append(u.map { $0 * scale[cluster.lowerBound] })
                continue
            }
            var basis: [[Double]] = []
            let threshold = 0.5 / Double(d)
            for j in 0..<d where basis.count < cluster.count {
                // P e_j = Σ_k u_k (u_k)_j, then Gram–Schmidt against the accepted vectors (twice).
                var v = [Double](repeating: 0, count: d)
                for u in vectors { let c = u[j]; for t in 0..<d { v[t] += c * u[t] } }
                for _ in 0..<2 {
                    for b in basis {
                        let dot = zip(b, v).reduce(0) { $0 + $1.0 * $1.1 }
                        for t in 0..<d { v[t] -= dot * b[t] }
                    }
                }
                let norm2 = v.reduce(0) { $0 + $1 * $1 }
                if norm2 > threshold { basis.append(v.map { $0 / norm2.squareRoot() }) }
            }
            for b in basis {
                // U_c diag(λ^{-1/2}) U_cᵀ b.
                var column = [Double](repeating: 0, count: d)
                for (u, index) in zip(vectors, cluster) {
                    let c = zip(u, b).reduce(0) { $0 + $1.0 * $1.1 } * scale[index]
                    for t in 0..<d { column[t] += c * u[t] }
                }
                columns.append(column)
            }
        }
        return Array(columns.prefix(k))
    }

    /// Applies every step (blocked: one GEMM per affine step).
    public func apply(to data: Matrix) throws -> Matrix {
        guard data.cols == inputDimension else {
            throw EmbdiagError.mismatch(nil, "the transform expects dimension \(inputDimension), the data has \(data.cols)")
        }
        var current = data
        for s in steps { current = try s.apply(to: current) }
        return current
    }
}

extension FittedIsotropyStep {
    func apply(to data: Matrix) throws -> Matrix {
        if normalizesRows { return Matrix.normalizedRows(data) }
        let d = data.cols
        let centred = data.copy()
        if let mean {
            let p = centred.mutablePointer
            parallelChunks(data.rows, minimumChunk: 4096) { range in
                for i in range { for j in 0..<d { p[i * d + j] -= mean[j] } }
            }
        }
        guard let matrix else { return centred }
        return BLAS.matmul(centred, matrix)
    }
}

extension IsotropyTransform {
    /// Steps whose asked component count was capped by the data (abtt:D above d − 1, whiten:K
    /// above d), for the report's warnings (caps rule, Guides/Architecture.md).
    public static func caps(requested: [IsotropyStep], fitted: [FittedIsotropyStep], dimension: Int) -> [ParameterCap] {
        zip(requested, fitted).compactMap { r, f in
            switch r {
            case .allButTheTop(let asked?) where (f.components ?? asked) < asked:
                return ParameterCap(parameter: "abtt", asked: asked, used: f.components ?? 0, reason: "all-but-the-top removes at most dimension − 1 directions")
            case .whiten(let asked?) where (f.components ?? asked) < asked:
                return ParameterCap(parameter: "whiten", asked: asked, used: f.components ?? 0, reason: "whitening keeps at most the dimension")
            default:
                return nil
            }
        }
    }
}
