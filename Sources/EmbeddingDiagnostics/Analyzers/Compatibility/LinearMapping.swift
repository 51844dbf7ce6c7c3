import Foundation

/// How to fit a map from the NEW space into the OLD space (`--fit`). Guide: Guides/Compatibility.md.
/// Each case belongs to one `MappingFamily`, which owns its name and the syntax of its parameter.
public enum MappingFit: Equatable, Sendable, CustomStringConvertible {
    case none
    /// Orthogonal Procrustes with centring, no scale: y ≈ (x − μx)R + μy, R = UVᵀ from the SVD of
    /// the centred cross-covariance X_cᵀY_c (semi-orthogonal when the dimensions differ).
    case procrustes
    /// As `procrustes` plus the least-squares global scale s: y ≈ s·(x − μx)R + μy.
    case procrustesScaled
    /// Orthogonal Procrustes without centring, scale or bias: y ≈ xR (aecp's
    /// OrthogonalProcrustesMapping; semi-orthogonal when the dimensions differ).
    case rotation
    /// Ordinary least squares with an (unpenalised) intercept: y ≈ xW + b.
    case linear
    /// Ordinary least squares through the origin: y ≈ xW (sklearn fit_intercept=False).
    case linearNoIntercept
    /// Ridge regression, penalty λ‖W‖²_F, intercept not penalised (sklearn Ridge(alpha=λ)).
    case ridge(Double)
    /// Ridge with λ chosen on a grid by the exact leave-one-out error (sklearn RidgeCV's GCV mode).
    case ridgeAuto
    /// Drift-Adapter's low-rank affine map plus a diagonal scaling, trained by Adam:
    /// y ≈ x·diag(s) + (x·U)·V + b, U: dx × R, V: R × dy (the diagonal only when dx = dy).
    case lowRank(Int)
    /// Drift-Adapter's residual MLP, trained by Adam: y ≈ x·A + ReLU(x·W₁ + b₁)·W₂ + b₂, hidden width H.
    case mlp(Int)
    /// Every family of `MappingFamily.autoCandidates` fitted on the same rows, the best by
    /// validation MRR kept; all of them reported side by side.
    case auto
    /// A rotation (with each side's centring and scale) found without paired rows, from the rows
    /// of OLD and NEW that have no partner (`UnpairedAlignment`); rows shared by both files only
    /// judge it.
    case unpaired

    public static let defaultRidgeLambda = 1.0
    /// λ grid of `ridge:auto`: 10^-3 … 10^3, 25 values (aecp's RidgeCV grid).
    public static let defaultRidgeGrid: [Double] = (0..<25).map { Foundation.pow(10, -3 + Double($0) * 0.25) }

    /// "none", "procrustes", "procrustes-scaled", "rotation", "linear", "linear-no-intercept",
    /// "ridge", "ridge:λ", "ridge:auto", "low-rank[:R]", "mlp[:H]", "auto" or "unpaired" (aliases in
    /// `MappingFamily.aliases`).
    public init(parsing text: String) throws {
        self = try MappingFamily.parse(text)
    }

    /// The family this fit belongs to (the case without its parameter).
    public var family: MappingFamily {
        switch self {
        case .none: return .none
        case .procrustes: return .procrustes
        case .procrustesScaled: return .procrustesScaled
        case .rotation: return .rotation
        case .linear: return .linear
        case .linearNoIntercept: return .linearNoIntercept
        case .ridge, .ridgeAuto: return .ridge
        case .lowRank: return .lowRank
        case .mlp: return .mlp
        case .auto: return .auto
        case .unpaired: return .unpaired
        }
    }

    public var name: String {
        switch self {
        case .ridgeAuto: return "ridge:auto"
        default: return family.rawValue
        }
    }

    public var description: String {
        switch self {
        case .ridge(let l): return "ridge:\(l)"
        case .lowRank(let r): return "low-rank:\(r)"
        case .mlp(let h): return "mlp:\(h)"
        default: return name
        }
    }

    public var lambda: Double? { if case .ridge(let l) = self { return l }; return nil }

    /// Trained by gradient descent (an `AdapterMap`), not solved in closed form.
    public var isAdapter: Bool { family.isAdapter }
}

/// Numerical settings of `LinearMap.fit`.
public struct MappingFitOptions: Sendable {
    /// λ values tried by `ridge:auto`.
    public var ridgeGrid: [Double]
    /// Least-squares rank cut-off relative to σ_max (numpy's `rcond`); nil = the Float32 rounding
    /// level of the inputs, σ ≤ ε_Float32·‖X‖_F (see `minimumNormLeastSquares`).
    public var rcond: Double?

    public init(ridgeGrid: [Double] = MappingFit.defaultRidgeGrid, rcond: Double? = nil) {
        self.ridgeGrid = ridgeGrid
        self.rcond = rcond
    }
}

/// An affine map y = x·W + b from an input space (dimension `inputDimension`) to an output space:
/// W is `inputDimension × outputDimension`, row-major Float64.
public struct LinearMap: Sendable, Equatable {
    public internal(set) var inputDimension: Int
    public internal(set) var outputDimension: Int
    public internal(set) var weights: [Double]
    public internal(set) var bias: [Double]
    public internal(set) var fit: MappingFit
    /// Ridge penalty used (`ridge:λ`, or the one `ridge:auto` chose).
    public internal(set) var lambda: Double?
    /// `ridge:auto`: the mean squared leave-one-out error of every λ of the grid (grid order).
    public internal(set) var ridgeSelection: [RidgeCandidate]?
    /// Least squares: singular values kept and the absolute cut-off applied; Procrustes: the
    /// directions the cross-covariance determines (min(dx, dy) unless it is rank-deficient; R
    /// itself always has rank min(dx, dy)).
    public internal(set) var rank: Int?
    public internal(set) var rankCutoff: Double?
    /// `procrustes-scaled`: the fitted scale (1 for the other Procrustes fits).
    public internal(set) var scale: Double?
    /// Procrustes fits: directions of R the training data leave free (min(dx, dy) − `rank`),
    /// completed so that R stays (semi-)orthogonal; > 0 means the solution is not unique.
    public internal(set) var completedDirections: Int?

    public struct RidgeCandidate: Sendable, Equatable {
        public internal(set) var lambda: Double
        public internal(set) var leaveOneOutError: Double
    }

    public init(inputDimension: Int, outputDimension: Int, weights: [Double], bias: [Double], fit: MappingFit) {
        precondition(weights.count == inputDimension * outputDimension && bias.count == outputDimension)
        self.inputDimension = inputDimension
        self.outputDimension = outputDimension
        self.weights = weights
        self.bias = bias
        self.fit = fit
        lambda = fit.lambda
    }

    /// Fits the map from paired rows x_i → y_i (same row count; dimensions may differ for every
    /// fit). Float64 throughout: second moments of the centred spaces (`pairedCenteredMoments`, so
    /// an intercept is never penalised), SVD (dgesdd) for Procrustes and least squares, Cholesky
    /// (dposv) for ridge.
    /// - Complexity: O(n·(dx + dy)²) for the moments, O(dx²·dy + dx³) for the decompositions;
    ///   least squares O(n·dx²) (thin SVD of X); `ridge:auto` adds O(n·dx·(dx + dy)) per λ.
    public static func fit(_ kind: MappingFit, from x: Matrix, to y: Matrix, options: MappingFitOptions = MappingFitOptions()) throws -> LinearMap {
        precondition(x.rows == y.rows, "LinearMap.fit: row counts differ")
        let dx = x.cols, dy = y.cols
        let muX = Matrix.columnMeans(x), muY = Matrix.columnMeans(y)
        var weights: [Double]
        var extra: (lambda: Double?, selection: [RidgeCandidate]?, rank: Int?, cutoff: Double?, scale: Double?, completed: Int?) = (kind.lambda, nil, nil, nil, nil, nil)
        switch kind {
        case .none:
            throw EmbdiagError.usage("no mapping to fit (\(Setting.fit) none)")
        case .lowRank, .mlp, .auto:
            throw EmbdiagError.usage("\(Setting.fit) \(kind) is not a closed-form map (use MappingSelection.fit)")
        case .unpaired:
            throw EmbdiagError.usage("\(Setting.fit) unpaired is found from rows without a partner, not fitted on pairs (use UnpairedAlignment.fit)")
        case .procrustes, .procrustesScaled:
            let m = SpaceComparison.pairedCenteredMoments(x, y)
            guard m.sumSquaredNormX > 0, m.sumSquaredNormY > 0 else {
                throw EmbdiagError.invalid(nil, "Procrustes: a training space has zero variance")
            }
            let p = try semiOrthogonalProcrustes(m.xy, rows: dx, cols: dy)
            weights = p.rotation
            var s = 1.0
            if kind == .procrustesScaled {
                // Least-squares scale for this R: s = tr(RᵀX_cᵀY_c) / ‖X_c R‖²_F (= Σσ / tr(Rᵀ
                // X_cᵀX_c R) up to the free directions' σ ≤ cut-off; the denominator counts the
                // completed directions' variance, which a truncated R would drop).
                let xxr = BLAS.matmul(m.xx, rows: dx, inner: dx, p.rotation, cols: dy)
                let den = zip(xxr, p.rotation).reduce(0.0) { $0 + $1.0 * $1.1 }
                let num = zip(m.xy, p.rotation).reduce(0.0) { $0 + $1.0 * $1.1 }
                s = den > 0 ? num / den : 1
                weights = weights.map { $0 * s }
            }
            extra.scale = s
            extra.rank = p.rank
            extra.completed = p.completed
        case .rotation:
            // XᵀY uncentred, accumulated in Float64 over row blocks; R = UVᵀ.
            let xy = uncentredCrossProduct(x, y)
            let p = try semiOrthogonalProcrustes(xy, rows: dx, cols: dy)
            var map = LinearMap(inputDimension: dx, outputDimension: dy, weights: p.rotation,
                                bias: [Double](repeating: 0, count: dy), fit: kind)
            map.scale = 1
            map.rank = p.rank
            map.completedDirections = p.completed
            return map
        case .linearNoIntercept:
            let ls = try minimumNormLeastSquares(x, y, centred: false, rcond: options.rcond)
            var map = LinearMap(inputDimension: dx, outputDimension: dy, weights: ls.weights,
                                bias: [Double](repeating: 0, count: dy), fit: kind)
            map.rank = ls.rank; map.rankCutoff = ls.cutoff
            return map
        case .linear where x.rows * dx <= 32_000_000:
            let ls = try minimumNormLeastSquares(x, y, centred: true, rcond: options.rcond)
            weights = ls.weights
            extra.rank = ls.rank; extra.cutoff = ls.cutoff
        case .ridgeAuto:
            let m = SpaceComparison.pairedCenteredMoments(x, y)
            let selection = try ridgeLeaveOneOut(x, y, moments: m, grid: options.ridgeGrid)
            // Smallest error; ties to the smaller λ (grid order after sorting).
            let best = selection.min { $0.leaveOneOutError < $1.leaveOneOutError || ($0.leaveOneOutError == $1.leaveOneOutError && $0.lambda < $1.lambda) }!
            weights = try ridgeWeights(m, lambda: best.lambda)
            extra.lambda = best.lambda
            extra.selection = selection
        case .linear, .ridge:
            let m = SpaceComparison.pairedCenteredMoments(x, y)
            do {
                weights = try ridgeWeights(m, lambda: kind.lambda ?? 0)
            } catch {
                throw EmbdiagError.invalid(nil, "least squares is singular (\(x.rows) training rows for \(dx) dimensions, or collinear columns); use \(Setting.fit) ridge or ridge:λ")
            }
        }
        // b = μy − μx·W
        var bias = muY
        for i in 0..<dx where muX[i] != 0 {
            let w = i * dy
            for j in 0..<dy { bias[j] -= muX[i] * weights[w + j] }
        }
        var map = LinearMap(inputDimension: dx, outputDimension: dy, weights: weights, bias: bias, fit: kind)
        map.lambda = extra.lambda
        map.ridgeSelection = extra.selection
        map.rank = extra.rank
        map.rankCutoff = extra.cutoff
        map.scale = extra.scale
        map.completedDirections = extra.completed
        return map
    }

    /// R = UVᵀ from the SVD of a dx × dy cross-product (dx ≠ dy allowed: R is then
    /// semi-orthogonal, orthonormal rows when dx ≤ dy, orthonormal columns otherwise), and Σσ.
    /// Directions the data do not determine (σ_k ≤ ε_Float32·‖M‖_F, e.g. a direction in which one
    /// space has no variance) are completed canonically (`SpaceComparison.semiOrthogonalFactor`):
    /// the map stays orthogonal — no vector is shrunk — and is the same on every BLAS kernel,
    /// but it is not the only solution there (`LinearMap.completedDirections`).
    static func semiOrthogonalProcrustes(_ m: [Double], rows dx: Int, cols dy: Int) throws -> (rotation: [Double], nuclearNorm: Double, rank: Int, completed: Int) {
        let f = try SpaceComparison.semiOrthogonalFactor(m, rows: dx, cols: dy)
        return (f.rotation, f.nuclearNorm, f.determinedRank, f.completedDirections)
    }

    /// XᵀY of the raw (uncentred) rows, Float64, accumulated over row blocks (dgemm per block).
    static func uncentredCrossProduct(_ x: Matrix, _ y: Matrix) -> [Double] {
        let dx = x.cols, dy = y.cols
        var xy = [Double](repeating: 0, count: dx * dy)
        let block = max(1, min(x.rows, Matrix.blockRowsFor(cols: dx + dy)))
        var start = 0
        while start < x.rows {
            let end = min(x.rows, start + block), m = end - start
            let xb = (0..<(m * dx)).map { Double(x.pointer[start * dx + $0]) }
            let yb = (0..<(m * dy)).map { Double(y.pointer[start * dy + $0]) }
            let part = BLAS.matmul(xb, rows: dx, inner: m, yb, cols: dy, transposeA: true)
            for t in 0..<xy.count { xy[t] += part[t] }
            start = end
        }
        return xy
    }

    /// (X_cᵀX_c + λI)⁻¹ X_cᵀY_c by Cholesky.
    static func ridgeWeights(_ m: PairedMoments, lambda: Double) throws -> [Double] {
        let dx = m.xDimension
        var a = m.xx
        for i in 0..<dx { a[i * dx + i] += lambda }
        return try LAPACK.solveSymmetricPositiveDefinite(a, m.xy, n: dx, rhs: m.yDimension)
    }

    /// Mean squared leave-one-out error of ridge with an unpenalised intercept for every λ of the
    /// grid, exactly (no refits): with X_cᵀX_c = VΛVᵀ and Z = X_cV, the hat matrix is
    /// H = 11ᵀ/n + Z diag(1/(Λ+λ)) Zᵀ, the LOO residual of row i is (y_i − ŷ_i)/(1 − h_ii), and the
    /// error is averaged over rows and output dimensions (sklearn RidgeCV's default "gcv" mode with
    /// alpha_per_target=False). Z is n × dx (Float64): memory O(n·(dx + dy)).
    static func ridgeLeaveOneOut(_ x: Matrix, _ y: Matrix, moments m: PairedMoments, grid: [Double]) throws -> [RidgeCandidate] {
        let lambdas = grid.filter { $0.isFinite && $0 > 0 }.sorted()
        guard !lambdas.isEmpty else { throw EmbdiagError.usage("ridge:auto needs at least one positive λ") }
        let n = x.rows, dx = x.cols, dy = y.cols
        guard n >= 3 else { throw EmbdiagError.usage("ridge:auto needs at least 3 training rows (got \(n))") }
        let eig = try LAPACK.symmetricEigen(m.xx, dimension: dx)
        let values = eig.values.map { max(0, $0) }
        let muX = Matrix.columnMeans(x), muY = Matrix.columnMeans(y)
        var xc = [Double](repeating: 0, count: n * dx), yc = [Double](repeating: 0, count: n * dy)
        for i in 0..<n {
            for j in 0..<dx { xc[i * dx + j] = Double(x.pointer[i * dx + j]) - muX[j] }
            for j in 0..<dy { yc[i * dy + j] = Double(y.pointer[i * dy + j]) - muY[j] }
        }
        // Z = X_c V: eig.vectors holds the eigenvectors as rows (= Vᵀ).
        let z = BLAS.matmul(xc, rows: n, inner: dx, eig.vectors, cols: dx, transposeB: true)
        // B = Vᵀ X_cᵀY_c (dx × dy).
        let b = BLAS.matmul(eig.vectors, rows: dx, inner: dx, m.xy, cols: dy)
        var z2 = z
        for t in 0..<z2.count { z2[t] *= z2[t] }
        var out: [RidgeCandidate] = []
        for lambda in lambdas {
            let inv = values.map { 1 / ($0 + lambda) }
            var scaledB = b
            for k in 0..<dx { for j in 0..<dy { scaledB[k * dy + j] *= inv[k] } }
            let fitted = BLAS.matmul(z, rows: n, inner: dx, scaledB, cols: dy)
            let h = BLAS.matmul(z2, rows: n, inner: dx, inv, cols: 1)
            var total = 0.0
            for i in 0..<n {
                let denom = 1 - (1 / Double(n) + h[i])
                var s = 0.0
                for j in 0..<dy { let e = (yc[i * dy + j] - fitted[i * dy + j]) / denom; s += e * e }
                total += s
            }
            out.append(RidgeCandidate(lambda: lambda, leaveOneOutError: total / Double(n * dy)))
        }
        return out
    }

    /// Minimum-norm least squares through the SVD of X (centred for the intercept version),
    /// Float64: W = V Σ⁺ Uᵀ Y. Singular values at or below the cut-off count as zero. Default
    /// cut-off: ε_Float32·‖X‖_F — the inputs are Float32, and rounding each entry moves every
    /// singular value by at most ‖E‖₂ ≤ ‖E‖_F ≤ ε_Float32·‖X‖_F (Weyl), so smaller directions cannot
    /// be told from rounding; larger ones are kept however small relative to σ_max (the Float64
    /// solve resolves them). On the bundled data this drops a 1e−8-relative direction (a Float32
    /// artefact; keeping it inflates ‖W‖ from 123 to 1e8) and two exact zeros, and keeps the rest.
    /// `rcond` (numpy's meaning, relative to σ_max) overrides it.
    static func minimumNormLeastSquares(_ x: Matrix, _ y: Matrix, centred: Bool, rcond: Double?) throws -> (weights: [Double], rank: Int, cutoff: Double) {
        let n = x.rows, dx = x.cols, dy = y.cols
        func prepared(_ m: Matrix) -> [Double] {
            let d = m.cols
            var mean = [Double](repeating: 0, count: d)
            if centred {
                for i in 0..<n { let r = m.pointer + i * d; for j in 0..<d { mean[j] += Double(r[j]) } }
                for j in 0..<d { mean[j] /= Double(n) }
            }
            var out = [Double](repeating: 0, count: n * d)
            for i in 0..<n { let r = m.pointer + i * d; for j in 0..<d { out[i * d + j] = Double(r[j]) - mean[j] } }
            return out
        }
        let xc = prepared(x), yc = prepared(y)
        guard n * dx <= 64_000_000 else {
            throw EmbdiagError.usage("least squares without an intercept on \(n) × \(dx) training values: use \(Setting.fit) ridge:λ or fewer training rows")
        }
        let svd = try LAPACK.singularValueDecomposition(xc, rows: n, cols: dx)
        let r = svd.rank
        let sigmaMax = svd.singularValues.max() ?? 0
        let frobenius = svd.singularValues.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let cutoff = rcond.map { $0 * sigmaMax } ?? Double(Float.ulpOfOne) * frobenius
        // T = Uᵀ Y (r × dy), rows scaled by 1/σ_k (0 at or below the cut-off).
        var t = BLAS.matmul(svd.u, rows: r, inner: n, yc, cols: dy, transposeA: true)
        var kept = 0
        for k in 0..<r {
            let sk = svd.singularValues[k]
            let f = sk > cutoff ? 1 / sk : 0
            if sk > cutoff { kept += 1 }
            for j in 0..<dy { t[k * dy + j] *= f }
        }
        return (BLAS.matmul(svd.vt, rows: dx, inner: r, t, cols: dy, transposeA: true), kept, cutoff)
    }

/// x·W + b for every row (Float32 GEMM, then the bias).
    public func apply(_ x: Matrix) throws -> Matrix {
        guard x.cols == inputDimension else {
            throw EmbdiagError.mismatch(nil, "the mapping expects \(inputDimension) dimensions, the input has \(x.cols)")
        }
        let w = Matrix(rows: inputDimension, cols: outputDimension, values: weights.map { Float($0) })
        let out = BLAS.matmul(x, w)
        let b = bias.map { Float($0) }
        let p = out.mutablePointer
        let d = outputDimension
        parallelChunks(out.rows, minimumChunk: 4096) { range in
            for i in range {
                let r = p + i * d
                for j in 0..<d { r[j] += b[j] }
            }
        }
        return out
    }

    /// The weights as a Float32 matrix (what `--save-mapping` writes as .npy).
    public var weightMatrix: Matrix {
        Matrix(rows: inputDimension, cols: outputDimension, values: weights.map { Float($0) })
    }
}

extension MappingEvaluation {
    /// What `MappingFile.write` records beside the weights about this fit: direction, seed, split,
    /// held-out quality and the two inputs (path, SHA-256, dimension).
    public func savedMetadata(seed: UInt64, trainSplit: String, old: Source, new: Source) -> [String: Any] {
        var extra: [String: Any] = [:]
        if let s = shareOfReembedding { extra["heldout_recall_at_10_share_of_reembedding"] = s }
        if !candidates.isEmpty { extra["selected_by"] = "auto: highest validation MRR of \(candidates.map { $0.fit.description }.joined(separator: ", "))" }
        return extra.merging([
            "direction": "new_to_old", "seed": Int(truncatingIfNeeded: seed), "train_split": trainSplit,
            "train_rows": trainRows.count, "heldout_rows": heldOutRows.count,
            "heldout_recall_at_1_mapped": mapped.recallAtOne, "heldout_recall_at_1_old": self.old.recallAtOne,
            "old": ["path": old.path, "sha256": old.sha256 ?? NSNull(), "dim": old.dim] as [String: Any],
            "new": ["path": new.path, "sha256": new.sha256 ?? NSNull(), "dim": new.dim] as [String: Any],
        ]) { a, _ in a }
    }
}
