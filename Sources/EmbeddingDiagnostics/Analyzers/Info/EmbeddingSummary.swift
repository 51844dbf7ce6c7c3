import Foundation

/// What `embdiag info` reports about one embedding file: shape, dtype, norm statistics, invalid
/// rows and duplicate labels. Guide: Guides/Info.md.
public struct EmbeddingSummary: Sendable {
    public internal(set) var source: Source
    public internal(set) var hasLabels: Bool
    public internal(set) var normMinimum: Double
    public internal(set) var normMean: Double
    public internal(set) var normMaximum: Double
    public internal(set) var normStandardDeviation: Double
    /// Fraction of rows whose norm is within 1e-3 of 1 (already unit-normalised data).
    public internal(set) var unitNormFraction: Double
    public internal(set) var validation: ValidationSummary
    /// Up to 20 example rows: first rows with labels, for eyeballing.
    public internal(set) var exampleLabels: [String]

    /// One pass for norms (both cores) and one for validation; O(n·d), no copies of a mapped file.
    public init(_ e: Embeddings) {
        source = e.source
        hasLabels = e.labels != nil
        validation = ValidationSummary(e)
        let bad = Set(validation.nonFiniteRows)
        let norms = Matrix.rowNorms(e.matrix).enumerated().filter { !bad.contains($0.offset) }.map(\.element)
        normMinimum = norms.min() ?? .nan
        normMaximum = norms.max() ?? .nan
        let ms = Statistics.meanAndStandardDeviation(norms, ddof: 0)
        normMean = ms.mean
        normStandardDeviation = ms.std
        unitNormFraction = norms.isEmpty ? .nan : Double(norms.filter { abs($0 - 1) < 1e-3 }.count) / Double(norms.count)
        exampleLabels = Array((e.labels ?? []).prefix(20))
    }

    /// Problems an analyzer would refuse (for `--strict`).
    public var problems: [String] {
        var p: [String] = []
        if !validation.nullRows.isEmpty { p.append("null (missing) vector in \(validation.nullRows.count) row(s) (\(ValidationSummary.describe(validation.nullRows)))") }
        if !validation.nanRows.isEmpty { p.append("NaN in \(validation.nanRows.count) row(s) (\(ValidationSummary.describe(validation.nanRows)))") }
        if !validation.infinityRows.isEmpty { p.append("Inf in \(validation.infinityRows.count) row(s) (\(ValidationSummary.describe(validation.infinityRows)))") }
        if !validation.zeroRows.isEmpty { p.append("\(validation.zeroRows.count) all-zero row(s) (\(ValidationSummary.describe(validation.zeroRows)))") }
        if !validation.duplicateLabels.isEmpty {
            p.append("\(validation.duplicateLabels.count) duplicate label(s) (\(validation.duplicateLabels.prefix(5).map { "\($0.label)×\($0.count)" }.joined(separator: ", ")))")
        }
        if source.rows == 0 { p.append("no rows") }
        return p
    }
}
