import COpenBLAS
import Foundation

/// An L2-regularised logistic regression: P(y = 1 | x) = σ(x·β + b).
public struct LogisticRegressionModel: Sendable, Equatable {
    public internal(set) var weights: [Double]
    public internal(set) var intercept: Double
    public internal(set) var iterations: Int
    public internal(set) var converged: Bool

    /// x·β + b for every row (the log-odds).
    /// - Complexity: O(n·d).
    public func decision(_ x: Matrix) -> [Double] {
        precondition(x.cols == weights.count)
        var out = [Double](repeating: intercept, count: x.rows)
        if x.rows == 0 { return out }
        let w = weights.map { Float($0) }
        var dots = [Float](repeating: 0, count: x.rows)
        cblas_sgemv(CblasRowMajor, CblasNoTrans, Int32(x.rows), Int32(x.cols), 1, x.pointer, Int32(x.cols), w, 1, 0, &dots, 1)
        for i in 0..<x.rows { out[i] += Double(dots[i]) }
        return out
    }
}

extension LogisticRegressionModel {
    /// Fits min_{β,b} Σ_i [log(1 + e^{η_i}) − y_i η_i] + (λ/2)‖β‖², η = Xβ + b, intercept not
    /// penalised — scikit-learn's `LogisticRegression(C = 1/λ)` objective — by Newton's method with
    /// step halving (the objective is strictly convex for λ > 0, so the minimiser is unique).
    /// - Complexity: O(iterations · (n·d² + d³)) (SSYRK for the Hessian, Cholesky for the step).
    public static func fit(_ x: Matrix, labels y: [Bool], penalty lambda: Double = 1,
                           maxIterations: Int = 100) throws -> LogisticRegressionModel {
        // Fewer rows than columns: the minimiser lies in the row space of X (the loss sees β only
        // through Xβ and the penalty is ‖β‖²), so with the thin SVD X = UΣVᵀ the same problem in
        // γ = Vᵀβ has features UΣ (n × r) and penalty ‖γ‖²; then β = Vγ. Same minimiser, Newton
        // systems of size r + 1 instead of d + 1.
        if x.rows < x.cols {
            let svd = try LAPACK.singularValueDecomposition(x)
            let r = min(x.rows, x.cols)
            let cutoff = (svd.singularValues.first ?? 0) * 1e-7
            let kept = (0..<r).filter { svd.singularValues[$0] > cutoff }
            let features = Matrix(rows: x.rows, cols: kept.count)
            let fp = features.mutablePointer
            for i in 0..<x.rows { for (c, k) in kept.enumerated() { fp[i * kept.count + c] = Float(svd.u[i * r + k] * svd.singularValues[k]) } }
            let reduced = try fitPrimal(features, labels: y, penalty: lambda, maxIterations: maxIterations)
            var beta = [Double](repeating: 0, count: x.cols)
            for (c, k) in kept.enumerated() {
                let g = reduced.weights[c]
                for t in 0..<x.cols { beta[t] += g * svd.vt[k * x.cols + t] }
            }
            return LogisticRegressionModel(weights: beta, intercept: reduced.intercept, iterations: reduced.iterations, converged: reduced.converged)
        }
        return try fitPrimal(x, labels: y, penalty: lambda, maxIterations: maxIterations)
    }

    /// Newton's method on (β, b) directly: Hessian XᵀSX + λI by SSYRK, Cholesky step.
    static func fitPrimal(_ x: Matrix, labels y: [Bool], penalty lambda: Double,
                              maxIterations: Int) throws -> LogisticRegressionModel {
        let n = x.rows, d = x.cols, p = d + 1
        precondition(y.count == n && lambda > 0)
        let positives = Double(y.filter { $0 }.count)
        var beta = [Double](repeating: 0, count: d)
        var b = positives > 0 && positives < Double(n) ? Foundation.log(positives / (Double(n) - positives)) : 0
        func objective(_ eta: [Double], _ beta: [Double]) -> Double {
            var s = 0.0
            for i in 0..<n {
                let e = eta[i]
                s += (e > 0 ? e + Foundation.log1p(Foundation.exp(-e)) : Foundation.log1p(Foundation.exp(e))) - (y[i] ? e : 0)
            }
            return s + lambda / 2 * beta.reduce(0) { $0 + $1 * $1 }
        }
        func decision(_ beta: [Double], _ b: Double) -> [Double] {
            LogisticRegressionModel(weights: beta, intercept: b, iterations: 0, converged: false).decision(x)
        }
        var eta = decision(beta, b)
        var current = objective(eta, beta)
        let scaled = Matrix(rows: n, cols: p)
        var hessianF = [Float](repeating: 0, count: p * p)
        var iterations = 0
        var converged = false
        while iterations < maxIterations {
            iterations += 1
            // Gradient and Hessian of the objective in (β, b).
            var gradient = [Double](repeating: 0, count: p)
            var residual = [Float](repeating: 0, count: n)
            let sp = scaled.mutablePointer
            for i in 0..<n {
                let prob = 1 / (1 + Foundation.exp(-eta[i]))
                residual[i] = Float(prob - (y[i] ? 1 : 0))
                gradient[d] += prob - (y[i] ? 1 : 0)
                let root = Float((prob * (1 - prob)).squareRoot())
                let src = x.pointer + i * d, dst = sp + i * p
                for t in 0..<d { dst[t] = src[t] * root }
                dst[d] = root
            }
            var gx = [Float](repeating: 0, count: d)
            if n > 0 { cblas_sgemv(CblasRowMajor, CblasTrans, Int32(n), Int32(d), 1, x.pointer, Int32(d), residual, 1, 0, &gx, 1) }
            for t in 0..<d { gradient[t] = Double(gx[t]) + lambda * beta[t] }
            cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, Int32(p), Int32(n), 1, scaled.pointer, Int32(p), 0, &hessianF, Int32(p))
            var hessian = [Double](repeating: 0, count: p * p)
            for i in 0..<p {
                for j in i..<p {
                    let v = Double(hessianF[i * p + j]) + (i == j && i < d ? lambda : 0)
                    hessian[i * p + j] = v
                    hessian[j * p + i] = v
                }
            }
            hessian[d * p + d] = Swift.max(hessian[d * p + d], 1e-12)
            let step = try LAPACK.solveSymmetricPositiveDefinite(hessian, gradient, n: p, rhs: 1)
            // Newton decrement λ² = gᵀH⁻¹g: stop when the predicted decrease is negligible.
            let decrement = zip(gradient, step).reduce(0) { $0 + $1.0 * $1.1 }
            if decrement / 2 <= 1e-10 * Swift.max(1, abs(current)) {
                converged = true
                break
            }
            var t = 1.0
            var accepted = false
            for _ in 0..<30 {
                let candidate = (0..<d).map { beta[$0] - t * step[$0] }
                let cb = b - t * step[d]
                let ce = decision(candidate, cb)
                let value = objective(ce, candidate)
                if value <= current - 1e-4 * t * decrement {
                    beta = candidate
                    b = cb
                    eta = ce
                    current = value
                    accepted = true
                    break
                }
                t /= 2
            }
            if !accepted {
                converged = true  // no further decrease within Float32 resolution of the decision values
                break
            }
        }
        return LogisticRegressionModel(weights: beta, intercept: b, iterations: iterations, converged: converged)
    }
}

/// The same as `LogisticRegressionModel.fit`; kept so existing callers read unchanged.
/// - Complexity: O(iterations · (n·d² + d³)).
public func fitLogisticRegression(_ x: Matrix, labels y: [Bool], penalty lambda: Double = 1,
                                  maxIterations: Int = 100) throws -> LogisticRegressionModel {
    try LogisticRegressionModel.fit(x, labels: y, penalty: lambda, maxIterations: maxIterations)
}
