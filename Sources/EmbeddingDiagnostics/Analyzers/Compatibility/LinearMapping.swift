import Foundation

/// How to fit a map from the NEW space into the OLD space (`--fit`). Guide: Guides/Compatibility.md.
public enum MappingFit: Equatable, Sendable, CustomStringConvertible {
    case none
    /// Orthogonal Procrustes with centring and a global scale: y ≈ s·(x − μx)R + μy (equal dims).
    case procrustes
    /// Orthogonal Procrustes without centring, scale or bias: y ≈ xR (aecp's
    /// OrthogonalProcrustesMapping; equal dims).
    case rotation
    /// Ordinary least squares with an (unpenalised) intercept: y ≈ xW + b.
    case linear
    /// Ridge regression, penalty λ‖W‖²_F, intercept not penalised (sklearn Ridge(alpha=λ)).
    case ridge(Double)

    public static let defaultRidgeLambda = 1.0

    /// "none", "procrustes", "linear", "ridge" or "ridge:λ".
    public init(parsing text: String) throws {
        let s = text.trimmingCharacters(in: .whitespaces).lowercased()
        switch s {
        case "none": self = .none
        case "procrustes": self = .procrustes
        case "rotation", "procrustes-uncentered", "procrustes-uncentred": self = .rotation
        case "linear", "lstsq", "least-squares": self = .linear
        case "ridge": self = .ridge(Self.defaultRidgeLambda)
        default:
            if s.hasPrefix("ridge:"), let l = Double(s.dropFirst(6)), l.isFinite, l > 0 {
                self = .ridge(l)
            } else {
                throw EmbdiagError.usage("--fit '\(text)': use none, procrustes, rotation, linear, ridge or ridge:λ (λ > 0)")
            }
        }
    }

    public var name: String {
        switch self {
        case .none: return "none"
        case .procrustes: return "procrustes"
        case .rotation: return "rotation"
        case .linear: return "linear"
        case .ridge: return "ridge"
        }
    }

    public var description: String {
        if case .ridge(let l) = self { return "ridge:\(l)" }
        return name
    }

    public var lambda: Double? { if case .ridge(let l) = self { return l }; return nil }
}

/// An affine map y = x·W + b from an input space (dimension `inputDimension`) to an output space:
/// W is `inputDimension × outputDimension`, row-major Float64.
public struct LinearMap: Sendable, Equatable {
    public var inputDimension: Int
    public var outputDimension: Int
    public var weights: [Double]
    public var bias: [Double]
    public var fit: MappingFit

    public init(inputDimension: Int, outputDimension: Int, weights: [Double], bias: [Double], fit: MappingFit) {
        precondition(weights.count == inputDimension * outputDimension && bias.count == outputDimension)
        self.inputDimension = inputDimension
        self.outputDimension = outputDimension
        self.weights = weights
        self.bias = bias
        self.fit = fit
    }

    /// Fits the map from paired rows x_i → y_i (same row count; dims may differ except for
    /// Procrustes). Float64 normal equations on the centred spaces (`pairedCenteredMoments`), so
    /// the intercept is never penalised; Cholesky (`dposv`) for least squares and ridge.
    public static func fit(_ kind: MappingFit, from x: Matrix, to y: Matrix) throws -> LinearMap {
        precondition(x.rows == y.rows, "LinearMap.fit: row counts differ")
        let dx = x.cols, dy = y.cols
        let muX = columnMeans(x), muY = columnMeans(y)
        let weights: [Double]
        switch kind {
        case .none:
            throw EmbdiagError.usage("no mapping to fit (--fit none)")
        case .procrustes:
            guard dx == dy else {
                throw EmbdiagError.usage("--fit procrustes needs equal dimensions (NEW has \(dx), OLD has \(dy)); use --fit linear or ridge")
            }
            let p = try orthogonalProcrustes(pairedCenteredMoments(x, y), meanX: muX, meanY: muY)
            weights = p.rotation.map { $0 * p.scale }
        case .rotation:
            guard dx == dy else {
                throw EmbdiagError.usage("--fit rotation needs equal dimensions (NEW has \(dx), OLD has \(dy)); use --fit linear or ridge")
            }
            // XᵀY uncentred, accumulated in Float64 over row blocks; R = UVᵀ.
            var xy = [Double](repeating: 0, count: dx * dy)
            let block = max(1, min(x.rows, blockRowsFor(cols: 2 * dx)))
            var start = 0
            while start < x.rows {
                let end = min(x.rows, start + block), m = end - start
                let xb = (0..<(m * dx)).map { Double(x.pointer[start * dx + $0]) }
                let yb = (0..<(m * dy)).map { Double(y.pointer[start * dy + $0]) }
                let part = matmul(xb, rows: dx, inner: m, yb, cols: dy, transposeA: true)
                for t in 0..<xy.count { xy[t] += part[t] }
                start = end
            }
            let svd = try singularValueDecomposition(xy, rows: dx, cols: dy)
            let rotation = matmul(svd.u, rows: dx, inner: svd.rank, svd.vt, cols: dy)
            return LinearMap(inputDimension: dx, outputDimension: dy, weights: rotation,
                             bias: [Double](repeating: 0, count: dy), fit: kind)
        case .linear where x.rows * dx <= 32_000_000:
            weights = try minimumNormLeastSquares(x, y)
        case .linear, .ridge:
            let m = pairedCenteredMoments(x, y)
            var a = m.xx
            let lambda = kind.lambda ?? 0
            for i in 0..<dx { a[i * dx + i] += lambda }
            do {
                weights = try solveSymmetricPositiveDefinite(a, m.xy, n: dx, rhs: dy)
            } catch {
                throw EmbdiagError.invalid(nil, "least squares is singular (\(x.rows) training rows for \(dx) dimensions, or collinear columns); use --fit ridge or ridge:λ")
            }
        }
        // b = μy − μx·W
        var bias = muY
        for i in 0..<dx where muX[i] != 0 {
            let w = i * dy
            for j in 0..<dy { bias[j] -= muX[i] * weights[w + j] }
        }
        return LinearMap(inputDimension: dx, outputDimension: dy, weights: weights, bias: bias, fit: kind)
    }

    /// Minimum-norm least squares on the centred spaces through the SVD of X_c (Float64):
    /// W = V Σ⁺ Uᵀ Y_c, singular values below σ_max·max(n, d)·ε_Float32 treated as zero — the
    /// minimum-norm solution, also for rank-deficient X (sklearn's LinearRegression on the bundled data).
    static func minimumNormLeastSquares(_ x: Matrix, _ y: Matrix) throws -> [Double] {
        let n = x.rows, dx = x.cols, dy = y.cols
        func centred(_ m: Matrix) -> [Double] {
            let d = m.cols
            var mean = [Double](repeating: 0, count: d)
            for i in 0..<n { let r = m.pointer + i * d; for j in 0..<d { mean[j] += Double(r[j]) } }
            for j in 0..<d { mean[j] /= Double(n) }
            var out = [Double](repeating: 0, count: n * d)
            for i in 0..<n { let r = m.pointer + i * d; for j in 0..<d { out[i * d + j] = Double(r[j]) - mean[j] } }
            return out
        }
        let xc = centred(x), yc = centred(y)
        let svd = try singularValueDecomposition(xc, rows: n, cols: dx)
        let r = svd.rank
        // The inputs are Float32: directions with σ < σ_max·max(n, d)·ε_Float32 are at the level of
        // their rounding (numpy's matrix_rank rule with Float32's ε) and are dropped. On the bundled
        // data this keeps rank 381 of 384, as sklearn's LinearRegression does; keeping a 1e−8
        // relative direction instead inflates ‖W‖ from 123 to 1e8.
        let cutoff = Double(Float.ulpOfOne) * Double(max(n, dx)) * (svd.singularValues.max() ?? 0)
        // T = Uᵀ Y_c (r × dy), rows scaled by 1/σ_k (0 below the cutoff).
        var t = matmul(svd.u, rows: r, inner: n, yc, cols: dy, transposeA: true)
        for k in 0..<r {
            let sk = svd.singularValues[k]
            let f = sk > cutoff ? 1 / sk : 0
            for j in 0..<dy { t[k * dy + j] *= f }
        }
        return matmul(svd.vt, rows: dx, inner: r, t, cols: dy, transposeA: true)
    }

    /// x·W + b for every row (Float32 GEMM, then the bias).
    public func apply(_ x: Matrix) throws -> Matrix {
        guard x.cols == inputDimension else {
            throw EmbdiagError.mismatch(nil, "the mapping expects \(inputDimension) dimensions, the input has \(x.cols)")
        }
        let w = Matrix(rows: inputDimension, cols: outputDimension, values: weights.map { Float($0) })
        let out = matmul(x, w)
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

/// A mapping saved by `embdiag compat --save-mapping OUT.npy`: the weights as .npy plus OUT.json
/// (kind, fit, dimensions, bias, seed, inputs). `embdiag map` reads both.
public enum MappingFile {
    public static func metadataPath(_ npyPath: String) -> String {
        // String surgery, not URL: a relative path stays relative (reports must not record the
        // absolute path of the machine that wrote them).
        let ext = URL(fileURLWithPath: npyPath).pathExtension
        return ext.isEmpty ? npyPath + ".json" : String(npyPath.dropLast(ext.count)) + "json"
    }

    public static func write(_ map: LinearMap, to path: String, extra: [String: Any]) throws {
        guard URL(fileURLWithPath: path).pathExtension.lowercased() == "npy" else {
            throw EmbdiagError.usage("\(path): --save-mapping writes a .npy file (plus its .json metadata)")
        }
        try EmbeddingWriter.writeNpy(map.weightMatrix, to: path)
        var metadata = extra
        metadata["weights_sha256"] = try Checksum.sha256(ofFile: path)
        metadata["kind"] = "linear_map"
        metadata["fit"] = map.fit.name
        if let l = map.fit.lambda { metadata["lambda"] = l }
        metadata["input_dim"] = map.inputDimension
        metadata["output_dim"] = map.outputDimension
        metadata["bias"] = map.bias
        metadata["formula"] = "y = x · W + bias (W = the .npy matrix, input_dim × output_dim)"
        metadata["tool"] = "embdiag"
        metadata["version"] = embdiagVersion
        let data = try JSONSerialization.data(withJSONObject: metadata, options: [.prettyPrinted, .sortedKeys])
        try AtomicFile.write(data, to: metadataPath(path))
    }

    /// Reads the weights (.npy) and the bias from the JSON beside it (no JSON → zero bias is NOT
    /// assumed: the JSON is required, so a stray matrix is not applied by mistake).
    public static func read(_ path: String) throws -> LinearMap {
        let meta = metadataPath(path)
        guard FileManager.default.fileExists(atPath: meta) else {
            throw EmbdiagError.io(path, "no mapping metadata \(meta) beside it (written by embdiag compat --save-mapping)")
        }
        let e = try EmbeddingReader.read(path, options: ReadOptions(format: .npy, computeChecksum: false))
        let data = try Data(contentsOf: URL(fileURLWithPath: meta))
        guard let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
              (json["kind"] as? String) == "linear_map" else {
            throw EmbdiagError.malformed(meta, "not an embdiag mapping (kind linear_map expected)")
        }
        let inDim = json["input_dim"] as? Int ?? e.count, outDim = json["output_dim"] as? Int ?? e.dimension
        guard inDim == e.count, outDim == e.dimension else {
            throw EmbdiagError.mismatch(path, "matrix is \(e.count) × \(e.dimension) but \(meta) says \(inDim) × \(outDim)")
        }
        let bias = (json["bias"] as? [Any])?.compactMap { ($0 as? NSNumber)?.doubleValue } ?? []
        guard bias.count == outDim else {
            throw EmbdiagError.malformed(meta, "bias has \(bias.count) values for \(outDim) output dimensions")
        }
        // A mapping with NaN/Inf would write an all-NaN matrix: refuse it, and a weights file that
        // is not the one the fit wrote (checksum recorded by --save-mapping).
        if let recorded = json["weights_sha256"] as? String {
            let actual = try Checksum.sha256(ofFile: path)
            guard actual == recorded else {
                throw EmbdiagError.mismatch(path, "SHA-256 \(actual.prefix(12))… differs from the \(recorded.prefix(12))… recorded in \(meta): the weights were changed after the fit")
            }
        }
        let summary = ValidationSummary(e)
        guard summary.nonFiniteRows.isEmpty else {
            throw EmbdiagError.invalid(path, "mapping weights have NaN/Inf in row(s) \(ValidationSummary.describe(summary.nonFiniteRows)) (0-based input dimensions)")
        }
        if let i = bias.firstIndex(where: { !$0.isFinite }) {
            throw EmbdiagError.invalid(meta, "bias value \(i) is \(bias[i]), not a finite number")
        }
        let fitName = json["fit"] as? String ?? "linear"
        let fit: MappingFit = fitName == "ridge" ? .ridge((json["lambda"] as? Double) ?? MappingFit.defaultRidgeLambda)
            : ((try? MappingFit(parsing: fitName)) ?? .linear)
        let w = e.matrix.values.map(Double.init)
        return LinearMap(inputDimension: inDim, outputDimension: outDim, weights: w, bias: bias, fit: fit)
    }
}
