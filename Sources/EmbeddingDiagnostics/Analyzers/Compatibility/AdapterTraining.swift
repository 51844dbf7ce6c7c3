import Foundation

/// Optimiser settings of adapter training (`AdapterTraining.train`).
public struct AdapterTrainingSettings: Sendable, Equatable {
    /// Adam step size and moment decay rates (torch.optim.Adam's defaults but the step size).
    public var learningRate: Double = 1e-3
    public var beta1: Double = 0.9
    public var beta2: Double = 0.999
    public var epsilon: Double = 1e-8
    /// Full-batch steps at most.
    public var maxSteps: Int = 2000
    /// Stop after this many steps without a new lowest validation loss.
    public var patience: Int = 50
    /// A step counts as an improvement when it lowers the best validation loss by more than this
    /// relative amount: far above Float64 noise, so kernels that differ in the last bits of the
    /// loss keep the same step.
    public var minimumRelativeImprovement: Double = 1e-7
    /// Share of the training rows held aside for early stopping (at least `minimumValidationRows`).
    public var validationFraction: Double = 0.2
    public static let minimumValidationRows = 2
    /// Fewest training rows an adapter accepts (fit rows + validation rows).
    public static let minimumTrainingRows = 10

    public init() {}
}

/// Trains an `AdapterMap` on paired rows x_i → y_i: mean squared error, full-batch Adam in
/// Float64, early stopping on a seeded validation split of the rows.
///
/// Same answer everywhere: every step is the same sequence of Float64 GEMMs (dgemm) and
/// fixed-order column sums; no minibatch order, no thread-dependent reduction outside BLAS. Kernels
/// and thread counts change only the last bits of a GEMM (≈ 1e-16 relative), which training
/// carries forward but does not amplify into a different kept step (`minimumRelativeImprovement`).
public enum AdapterTraining {
    /// Seeds derived from the compat seed (documented in Guides/Compatibility.md, reproduced by
    /// scripts/crosscheck/adapters_pytorch.py).
    static func initSeed(_ seed: UInt64) -> UInt64 { seed &+ 7 }
    static func splitSeed(_ seed: UInt64) -> UInt64 { seed &+ 5 }

    /// Positions (into the given training rows) held aside for validation, and the rest, both in
    /// increasing order. The order is the argsort of one seeded uniform per row (ties impossible in
    /// practice; broken by position), so any language with xoshiro256** reproduces it.
    /// - Complexity: O(n log n).
    public static func validationSplit(count n: Int, seed: UInt64, settings: AdapterTrainingSettings = AdapterTrainingSettings()) throws -> (fit: [Int], validation: [Int]) {
        guard n >= AdapterTrainingSettings.minimumTrainingRows else {
            throw EmbdiagError.usage("an adapter needs at least \(AdapterTrainingSettings.minimumTrainingRows) training rows to hold \(Int((settings.validationFraction * 100).rounded()))% aside for early stopping (got \(n)); raise \(Setting.trainFraction) or use a closed-form \(Setting.fit)")
        }
        let nVal = max(AdapterTrainingSettings.minimumValidationRows, Int((Double(n) * settings.validationFraction).rounded()))
        var rng = SeededGenerator(seed: splitSeed(seed))
        let keys = (0..<n).map { _ in rng.nextUniform() }
        let order = (0..<n).sorted { keys[$0] < keys[$1] || (keys[$0] == keys[$1] && $0 < $1) }
        return (Array(order[nVal...]).sorted(), Array(order[..<nVal]).sorted())
    }

    /// Starting parameters (seeded): low-rank U ~ N(0, 1/dx), V = 0, s = 1, b = 0 (the map starts
    /// at the identity when dx = dy); MLP W₁ ~ N(0, 2/dx) (He), b₁ = 0, W₂ = 0 and its linear part
    /// A, b₂ = `linearStart` (the centred Procrustes map of the fit rows in `train`; the dx × dy
    /// identity and 0 without one), so the MLP starts where Procrustes ends and early stopping
    /// keeps it there unless the hidden layer lowers the validation loss. Gaussians in row-major
    /// order from `SeededGenerator(seed + 7)`'s Box–Muller draws.
    public static func initialParameters(_ a: AdapterMap.Architecture, input dx: Int, output dy: Int, seed: UInt64,
                                         linearStart: LinearMap? = nil) -> [AdapterParameter] {
        var rng = SeededGenerator(seed: initSeed(seed))
        return AdapterMap.layout(a, input: dx, output: dy).map { spec in
            var v = [Double](repeating: 0, count: spec.rows * spec.cols)
            switch spec.name {
            case "s": v = [Double](repeating: 1, count: v.count)
            case "U": let sd = 1 / Double(dx).squareRoot(); for i in v.indices { v[i] = sd * rng.nextGaussian() }
            case "W1": let sd = (2 / Double(dx)).squareRoot(); for i in v.indices { v[i] = sd * rng.nextGaussian() }
            case "A":
                if let l = linearStart { v = l.weights } else { for i in 0..<min(dx, dy) { v[i * dy + i] = 1 } }
            case "b2": if let l = linearStart { v = l.bias }
            default: break
            }
            return AdapterParameter(name: spec.name, rows: spec.rows, cols: spec.cols, values: v)
        }
    }

    /// The architecture a fit asks for on these dimensions; a rank above min(dx, dy) is refused.
    public static func architecture(_ fit: MappingFit, input dx: Int, output dy: Int) throws -> AdapterMap.Architecture {
        switch fit {
        case .lowRank(let r):
            guard r <= min(dx, dy) else {
                throw EmbdiagError.usage("\(Setting.fit) low-rank:\(r): the rank cannot exceed the smaller dimension (NEW \(dx), OLD \(dy))")
            }
            return .lowRank(rank: r, diagonal: dx == dy)
        case .mlp(let h): return .mlp(hidden: h)
        default: throw EmbdiagError.usage("\(Setting.fit) \(fit) is not an adapter")
        }
    }

    /// Trains on rows `fit` of x/y, stopping early on rows `validation`.
    /// - Complexity: per step O(n·dx·R + n·R·dy) (low-rank) or O(n·(dx·dy + dx·H + H·dy)) (MLP),
    ///   n = fit + validation rows; at most `maxSteps` steps. Memory O(n·(dx + dy + H)).
    public static func train(_ kind: MappingFit, x: Matrix, y: Matrix, fit fitRows: [Int], validation valRows: [Int],
                             seed: UInt64, settings: AdapterTrainingSettings = AdapterTrainingSettings()) throws -> AdapterMap {
        precondition(x.rows == y.rows)
        let dx = x.cols, dy = y.cols
        let arch = try architecture(kind, input: dx, output: dy)
        guard fitRows.count >= 2, valRows.count >= AdapterTrainingSettings.minimumValidationRows else {
            throw EmbdiagError.usage("an adapter needs at least 2 rows to fit and \(AdapterTrainingSettings.minimumValidationRows) to validate (got \(fitRows.count) and \(valRows.count))")
        }
        func rows(_ m: Matrix, _ idx: [Int]) -> [Double] {
            let d = m.cols
            var out = [Double](repeating: 0, count: idx.count * d)
            for (k, i) in idx.enumerated() { for j in 0..<d { out[k * d + j] = Double(m.pointer[i * d + j]) } }
            return out
        }
        let xf = rows(x, fitRows), yf = rows(y, fitRows), xv = rows(x, valRows), yv = rows(y, valRows)
        let n = fitRows.count, nv = valRows.count
        var linearStart: LinearMap?
        if case .mlp = arch { linearStart = try LinearMap.fit(.procrustes, from: x.gather(rows: fitRows), to: y.gather(rows: fitRows)) }
        var params = initialParameters(arch, input: dx, output: dy, seed: seed, linearStart: linearStart)
        let network = AdapterNetwork(architecture: arch, dx: dx, dy: dy)

        var m = params.map { [Double](repeating: 0, count: $0.values.count) }
        var v = m
        let initialVal = network.loss(params, xv, yv, rows: nv)
        var best = (loss: initialVal, step: 0, params: params)
        var step = 0, sinceBest = 0, stoppedEarly = false
        let b1 = settings.beta1, b2 = settings.beta2
        while step < settings.maxSteps {
            step += 1
            let grads = network.gradients(params, xf, yf, rows: n)
            let bc1 = 1 - Foundation.pow(b1, Double(step)), bc2 = 1 - Foundation.pow(b2, Double(step))
            let stepSize = settings.learningRate / bc1, bc2Root = bc2.squareRoot()
            for p in params.indices {
                let g = grads[p]
                for t in g.indices {
                    m[p][t] = b1 * m[p][t] + (1 - b1) * g[t]
                    v[p][t] = b2 * v[p][t] + (1 - b2) * g[t] * g[t]
                    params[p].values[t] -= stepSize * m[p][t] / (v[p][t].squareRoot() / bc2Root + settings.epsilon)
                }
            }
            let val = network.loss(params, xv, yv, rows: nv)
            guard val.isFinite else {
                throw EmbdiagError.invalid(nil, "\(kind) training diverged at step \(step) (validation loss \(val)); the inputs may hold huge values")
            }
            if val < best.loss * (1 - settings.minimumRelativeImprovement) {
                best = (val, step, params)
                sinceBest = 0
            } else {
                sinceBest += 1
                if sinceBest >= settings.patience { stoppedEarly = true; break }
            }
        }
        var map = AdapterMap(architecture: arch, inputDimension: dx, outputDimension: dy, parameters: best.params)
        map.training = AdapterTrainingSummary(fitRows: n, validationRows: nv, steps: step, bestStep: best.step,
                                              trainLoss: network.loss(best.params, xf, yf, rows: n), validationLoss: best.loss,
                                              initialValidationLoss: initialVal, stoppedEarly: stoppedEarly, settings: settings)
        return map
    }
}

/// Forward pass, loss and gradients of an adapter in Float64 (row-major, dgemm).
struct AdapterNetwork {
    let architecture: AdapterMap.Architecture
    let dx: Int, dy: Int

    /// Column sums of an n × c matrix in row order (fixed order: no thread-dependent reduction).
    static func columnSums(_ a: [Double], rows n: Int, cols c: Int) -> [Double] {
        var s = [Double](repeating: 0, count: c)
        for i in 0..<n { for j in 0..<c { s[j] += a[i * c + j] } }
        return s
    }

    /// Outputs and the intermediate values the backward pass needs (z = xU, or the MLP's pre-activations).
    func forward(_ p: [AdapterParameter], _ x: [Double], rows n: Int) -> (out: [Double], inner: [Double]) {
        switch architecture {
        case .lowRank(let r, let diagonal):
            let u = p.first { $0.name == "U" }!.values, vv = p.first { $0.name == "V" }!.values, b = p.first { $0.name == "b" }!.values
            let z = BLAS.matmul(x, rows: n, inner: dx, u, cols: r)
            var out = BLAS.matmul(z, rows: n, inner: r, vv, cols: dy)
            let s = diagonal ? p.first { $0.name == "s" }!.values : nil
            for i in 0..<n {
                if let s { for j in 0..<dy { out[i * dy + j] += s[j] * x[i * dx + j] } }
                for j in 0..<dy { out[i * dy + j] += b[j] }
            }
            return (out, z)
        case .mlp(let h):
            let a = p[0].values, w1 = p[1].values, b1 = p[2].values, w2 = p[3].values, b2 = p[4].values
            var pre = BLAS.matmul(x, rows: n, inner: dx, w1, cols: h)
            for i in 0..<n { for j in 0..<h { pre[i * h + j] += b1[j] } }
            let act = pre.map { max(0, $0) }
            let lin = BLAS.matmul(x, rows: n, inner: dx, a, cols: dy)
            let mlp = BLAS.matmul(act, rows: n, inner: h, w2, cols: dy)
            var out = [Double](repeating: 0, count: n * dy)
            for i in 0..<n { for j in 0..<dy { out[i * dy + j] = lin[i * dy + j] + mlp[i * dy + j] + b2[j] } }
            return (out, pre)
        }
    }

    /// Mean squared error per value (torch's MSELoss, reduction "mean").
    func loss(_ p: [AdapterParameter], _ x: [Double], _ y: [Double], rows n: Int) -> Double {
        let out = forward(p, x, rows: n).out
        var s = 0.0
        for t in out.indices { let e = out[t] - y[t]; s += e * e }
        return s / Double(n * dy)
    }

    /// Gradients of `loss` for every parameter, in parameter order.
    func gradients(_ p: [AdapterParameter], _ x: [Double], _ y: [Double], rows n: Int) -> [[Double]] {
        let (out, inner) = forward(p, x, rows: n)
        let scale = 2 / Double(n * dy)
        var g = [Double](repeating: 0, count: out.count)
        for t in out.indices { g[t] = scale * (out[t] - y[t]) }
        switch architecture {
        case .lowRank(let r, let diagonal):
            let vv = p.first { $0.name == "V" }!.values
            let dV = BLAS.matmul(inner, rows: r, inner: n, g, cols: dy, transposeA: true)
            let dZ = BLAS.matmul(g, rows: n, inner: dy, vv, cols: r, transposeB: true)
            let dU = BLAS.matmul(x, rows: dx, inner: n, dZ, cols: r, transposeA: true)
            let db = Self.columnSums(g, rows: n, cols: dy)
            if diagonal {
                var ds = [Double](repeating: 0, count: dy)
                for i in 0..<n { for j in 0..<dy { ds[j] += x[i * dx + j] * g[i * dy + j] } }
                return [ds, dU, dV, db]
            }
            return [dU, dV, db]
        case .mlp(let h):
            let w2 = p[3].values
            let act = inner.map { max(0, $0) }
            let dA = BLAS.matmul(x, rows: dx, inner: n, g, cols: dy, transposeA: true)
            let dW2 = BLAS.matmul(act, rows: h, inner: n, g, cols: dy, transposeA: true)
            let db2 = Self.columnSums(g, rows: n, cols: dy)
            var dPre = BLAS.matmul(g, rows: n, inner: dy, w2, cols: h, transposeB: true)
            for t in dPre.indices where inner[t] <= 0 { dPre[t] = 0 }
            let dW1 = BLAS.matmul(x, rows: dx, inner: n, dPre, cols: h, transposeA: true)
            let db1 = Self.columnSums(dPre, rows: n, cols: h)
            return [dA, dW1, db1, dW2, db2]
        }
    }
}
