import COpenBLAS
import Foundation

/// The single run's cosine of a sampled pair (Float32 dot product, Float64 norms), from rows a
/// pass-2 state carried.
func sampledCosine(_ a: ArraySlice<Float>, _ na: Double, _ b: ArraySlice<Float>, _ nb: Double) -> Double {
    // The single run's fixed-order Float64 dot product (Matrix.pairedDotProducts), bit for bit.
    let dot = a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in
        fixedOrderDot(UnsafeRawPointer(pa.baseAddress!), UnsafeRawPointer(pb.baseAddress!), count: pa.count)
    } }
    return na > 0 && nb > 0 ? dot / (na * nb) : 0
}

extension AnisotropyMetrics {
    /// The metrics of `init(_:pairSample:partitionSample:seed:)` from merged sums: the same
    /// formulas, except that the covariance is M/(n − 1) from the merged Float64 centred Gram M
    /// (the single run centres and multiplies in Float32 SSYRK blocks; the two agree within that
    /// single run's own Float32 rounding, documented as ≤ 1e-6 relative in Guides/Architecture.md).
    ///
    /// - Complexity: O(d³) (one eigendecomposition) plus O(pairs).
    init(mergedRows n: Int, dimension d: Int, normSum: Double, unitSum: [Double], unitSquareSum: [Double], columnSum: [Double],
         centredGram: [Double], logZ: [(positive: Double, negative: Double)], directionValues: [Double], partitionRows: Int,
         sampledCosines: [Double]?) throws {
        rows = n
        dimension = d
        meanNorm = normSum / Double(n)
        let unitSumNorm2 = unitSum.reduce(0) { $0 + $1 * $1 }
        meanCosine = (unitSumNorm2 - Double(n)) / (Double(n) * Double(n - 1))
        meanUnitVectorNorm = unitSumNorm2.squareRoot() / Double(n)
        let nn = Double(n) * Double(n - 1)
        cosineContributions = (0..<d).map { (unitSum[$0] * unitSum[$0] - unitSquareSum[$0]) / nn }
        let mean = columnSum.map { $0 / Double(n) }
        meanVectorRatio = mean.reduce(0) { $0 + $1 * $1 }.squareRoot() / meanNorm
        if meanVectorRatio < Self.meanRatioResolution { meanVectorRatio = 0 }
        var cov = [Double](repeating: 0, count: d * d)
        for i in 0..<d {
            for j in i..<d {
                let v = centredGram[i * d + j] / Double(n - 1)
                cov[i * d + j] = v
                cov[j * d + i] = v
            }
        }
        let summary = try Self.covarianceSpectrum(cov, rows: n, dimension: d)
        (dimensionVariances, spectrum, participationRatio, isoScore, isoScoreNullBaseline, effectiveRank) =
            (summary.variances, summary.spectrum, summary.participationRatio, summary.isoScore, summary.nullBaseline, summary.effectiveRank)
        partitionFunctionRows = partitionRows
        (partitionIsotropy, partitionDegeneracy) = AnisotropyMetrics.conditionedPartitionIsotropy(logZ: logZ, eigenvalues: directionValues)
        if let sampledCosines {
            cosineStandardDeviation = Statistics.meanAndStandardDeviation(sampledCosines).std
            sampledPairs = sampledCosines.count
        } else {
            cosineStandardDeviation = nil
            sampledPairs = 0
        }
    }
}
