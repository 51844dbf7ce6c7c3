import Foundation

/// The sample statistics a fingerprint and its check share (Guides/Fingerprint.md, "Math").
enum FingerprintStatistics {
    /// Mean, covariance and second-moment quantities of a sample, Float64.
    struct Moments {
        var rows: Int
        var dimension: Int
        var mean: [Double]
        /// Covariance (n − 1), d × d row-major.
        var covariance: [Double]
        /// M = XᵀX/n, d × d row-major.
        var secondMoment: [Double]
        var secondMomentTrace: Double
        /// Unbiased ‖M − tr(M)/d·I‖²_F: with G = XᵀX and s_i = ‖x_i‖²,
        /// (‖G‖²_F − Σs_i² − ((Σs_i)² − Σs_i²)/d) / (n(n − 1)) — the sums over i ≠ j of (x_iᵀx_j)² and
        /// s_i·s_j, so the diagonal (each row with itself, pure sampling noise) is left out.
        var tracelessStrength: Double
        /// Share of ‖T(M̂)‖²_F (the plain estimate, sampling noise included) that `tracelessStrength`
        /// keeps: near 1 for a clearly anisotropic space, near 0 (or below) when the structure is
        /// noise — then the similarity of `FingerprintCheck` would divide noise by noise.
        var signalShare: Double
        /// Unbiased Σ_{j≠l} M_jl², the off-diagonal (sign-carrying) part of `tracelessStrength`: with
        /// c_j = Σ_i x_ij² (the diagonal of G), the sum over distinct row pairs i ≠ i' of
        /// Σ_{j≠l} x_ij x_il x_i'j x_i'l = (‖G‖²_F − Σ_j c_j² − Σ_i (s_i² − Σ_j x_ij⁴)) / (n(n − 1)).
        /// A sign flip of coordinates (x_j → −x_j) changes the sign of the entries M_jl it touches
        /// but not this strength; the diagonal, the rest of `tracelessStrength`, cannot see it.
        var offDiagonalStrength: Double
        /// `offDiagonalStrength` over the plain Σ_{j≠l} M̂_jl² (sampling noise included): near 1
        /// when the coordinates are correlated, near 0 (or below) when the off-diagonal entries are
        /// noise — a covariance that is diagonal, as in a PCA-rotated store.
        var offDiagonalSignalShare: Double
        var sortedNorms: [Double]
        /// Mean cosine over distinct row pairs: (‖Σ x̂_i‖² − n)/(n(n − 1)), x̂ = x/‖x‖.
        var meanCosine: Double

        /// Refuses (`path` in the message) a sample whose spread the Float32 products of the
        /// covariance cannot hold: values so large that their squares overflow, or so small that
        /// they underflow (the covariance's total variance must agree with the one the Float64 row
        /// norms give, (n/(n − 1))·(E‖x‖² − ‖μ‖²), to `float32Slack`).
        ///
        /// - Complexity: O(n·d²) (SSYRK) + O(n·d) + O(d²).
        init(_ x: Matrix, path: String) throws {
            let n = x.rows, d = x.cols
            precondition(n >= 2)
            rows = n
            dimension = d
            mean = FingerprintStatistics.columnMeans(x)
            covariance = Matrix.covariance(x, ddof: 1, mean: mean)
            var m = [Double](repeating: 0, count: d * d)
            let nd = Double(n)
            for i in 0..<d {
                for j in 0..<d { m[i * d + j] = (covariance[i * d + j] * (nd - 1) + nd * mean[i] * mean[j]) / nd }
            }
            secondMoment = m
            var norms = [Double](repeating: 0, count: n)
            var unitSum = [Double](repeating: 0, count: d)
            var sumS = 0.0, sumS2 = 0.0
            // Σ_i Σ_{j≠l} x_ij² x_il² = Σ_i (s_i² − Σ_j x_ij⁴): each row paired with itself off the diagonal.
            var selfOff = 0.0
            for i in 0..<n {
                let row = x.pointer + i * d
                let s = squaredNorm(row, count: d)
                norms[i] = s.squareRoot()
                sumS += s
                sumS2 += s * s
                var fourth = 0.0
                for j in 0..<d { let v = Double(row[j]); fourth += (v * v) * (v * v) }
                selfOff += s * s - fourth
                if s > 0 {
                    let inv = 1 / s.squareRoot()
                    for j in 0..<d { unitSum[j] += Double(row[j]) * inv }
                }
            }
            secondMomentTrace = sumS / nd
            var traceC = 0.0
            for j in 0..<d { traceC += covariance[j * d + j] }
            let fromNorms = (secondMomentTrace - mean.reduce(0) { $0 + $1 * $1 }) * nd / (nd - 1)
            guard covariance.allSatisfy(\.isFinite), sumS2.isFinite,
                  abs(traceC - fromNorms) <= FingerprintStatistics.float32Slack * Swift.max(abs(traceC), abs(fromNorms)) + 1e-12 * secondMomentTrace else {
                var largest: Float = 0
                for i in 0..<(n * d) {
                    guard x.pointer[i].isFinite else {
                        throw EmbdiagError.invalid(path, "row \(i / d) of the sample holds a NaN or infinite value")
                    }
                    largest = Swift.max(largest, abs(x.pointer[i]))
                }
                let (what, fix) = !traceC.isFinite || largest > 1e18
                    ? ("overflow when squared in Float32", "divide the vectors by a constant")
                    : ("underflow when squared in Float32", "multiply the vectors by a constant")
                throw EmbdiagError.invalid(path, "the rows' spread does not survive Float32 arithmetic (total variance \(ReportFormatting.number(traceC, significant: 3)) from the Float32 covariance, \(ReportFormatting.number(fromNorms, significant: 3)) from the Float64 row norms): values of this size (largest |value| \(ReportFormatting.number(Double(largest), significant: 3))) \(what); \(fix) (the fingerprint's sample and every file checked against it alike)")
            }
            // ‖G‖²_F = n²‖M‖²_F; its off-diagonal part summed from the off-diagonal entries themselves
            // (no cancellation against the diagonal when the covariance is nearly diagonal).
            var g2 = 0.0, off2 = 0.0
            for i in 0..<d {
                for j in 0..<d {
                    let v = m[i * d + j]
                    g2 += v * v
                    if i != j { off2 += v * v }
                }
            }
            g2 *= nd * nd
            offDiagonalStrength = (off2 * nd * nd - selfOff) / (nd * (nd - 1))
            offDiagonalSignalShare = off2 > 0 ? offDiagonalStrength / off2 : 0
            tracelessStrength = (g2 - sumS2 - (sumS * sumS - sumS2) / Double(d)) / (nd * (nd - 1))
            let plain = g2 / (nd * nd) - (sumS / nd) * (sumS / nd) / Double(d)
            signalShare = plain > 0 ? tracelessStrength / plain : 0
            sortedNorms = norms.sorted()
            let u2 = unitSum.reduce(0) { $0 + $1 * $1 }
            meanCosine = (u2 - nd) / (nd * (nd - 1))
        }
    }

    /// Relative room for what the Float32 products of the covariance (SSYRK) lose: the covariance's
    /// trace and the per-row score sums agree with their Float64 counterparts to this.
    static let float32Slack = 1e-3

    /// Column means summed in Float64 in row order. A constant column's mean is exactly its value
    /// (n copies of a Float32 value sum exactly below 2²⁹ rows), so its z-scores in the per-row score
    /// are exactly 0, and ‖μ‖² agrees with E‖x‖² to Float64 rounding.
    ///
    /// - Complexity: O(n·d).
    static func columnMeans(_ x: Matrix) -> [Double] {
        let n = x.rows, d = x.cols
        var sums = [Double](repeating: 0, count: d)
        sums.withUnsafeMutableBufferPointer { s in
            for i in 0..<n {
                let row = x.pointer + i * d
                for j in 0..<d { s[j] += Double(row[j]) }
            }
        }
        return sums.map { $0 / Double(n) }
    }

    /// Samples whose `signalShare` is below this are refused (isotropic, or too few rows to show the structure).
    static let minimumSignalShare = 0.2

    static func requireStructure(_ m: Moments, path: String, purpose: String) throws {
        guard m.tracelessStrength > 0, m.signalShare >= minimumSignalShare else {
            throw EmbdiagError.invalid(path, "the sample is isotropic or too small: its anisotropic structure is \(ReportFormatting.number(100 * Swift.max(0, m.signalShare), significant: 2)) % of what sampling noise alone gives (\(ReportFormatting.number(100 * minimumSignalShare, significant: 2)) % needed), so nothing in it identifies a model for \(purpose); use more rows")
        }
    }

    /// log(mean_j ((x_j − μ_j)/σ_j)²) for every row: how far a row lies from the fingerprint's
    /// per-dimension distribution, in units of that dimension's spread. A row of the same model sits
    /// near 0 (mean z² ≈ 1); another model's rows put mass on dimensions this model keeps nearly
    /// constant and miss the ones it spreads on.
    ///
    /// - Complexity: O(n·d).
    static func rowScores(_ x: Matrix, mean: [Double], scale: [Double]) -> [Double] {
        let n = x.rows, d = x.cols
        let inverse = scale.map { 1 / $0 }
        var out = [Double](repeating: 0, count: n)
        out.withUnsafeMutableBufferPointer { buffer in
            let p = buffer.baseAddress!
            parallelChunks(n, minimumChunk: 1024) { range in
                for i in range {
                    let row = x.pointer + i * d
                    var s = 0.0
                    for j in 0..<d {
                        let z = (Double(row[j]) - mean[j]) * inverse[j]
                        s += z * z
                    }
                    p[i] = Foundation.log(Swift.max(s / Double(d), 1e-300))
                }
            }
        }
        return out
    }

    /// A sample must hold at least `minimum` distinct rows: fewer (or the same row repeated) do not
    /// show a model's spread, and the statistics would be noise.
    ///
    /// - Complexity: O(n·d) (hashes the rows until `minimum` distinct ones are seen).
    static func requireSample(_ e: Embeddings, minimum: Int, purpose: String) throws {
        guard e.count >= minimum else {
            throw EmbdiagError.invalid(e.source.path, "\(e.count) rows; \(purpose) needs at least \(minimum) (Guides/Fingerprint.md, \"Sample size\")")
        }
        var seen = Set<Int>(minimumCapacity: minimum)
        let d = e.dimension
        for i in 0..<e.count {
            var h = Hasher()
            h.combine(bytes: UnsafeRawBufferPointer(start: e.matrix.pointer + i * d, count: d * 4))
            seen.insert(h.finalize())
            if seen.count >= minimum { return }
        }
        throw EmbdiagError.invalid(e.source.path, "only \(seen.count) distinct rows among \(e.count); \(purpose) needs at least \(minimum) distinct rows")
    }
}
