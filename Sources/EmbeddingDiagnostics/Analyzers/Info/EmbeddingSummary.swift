import Foundation

/// What `embdiag info` reports about one embedding file: shape, dtype, norm statistics, invalid
/// rows and duplicate labels. Guide: Guides/Info.md.
public struct EmbeddingSummary: Sendable {
    public var source: Source
    public var hasLabels: Bool
    public var normMinimum: Double
    public var normMean: Double
    public var normMaximum: Double
    public var normStandardDeviation: Double
    /// Fraction of rows whose norm is within 1e-3 of 1 (already unit-normalised data).
    public var unitNormFraction: Double
    public var validation: ValidationSummary
    /// Up to 20 example rows: first rows with labels, for eyeballing.
    public var exampleLabels: [String]

    /// One pass for norms (both cores) and one for validation; O(n·d), no copies of a mapped file.
    public init(_ e: Embeddings) {
        source = e.source
        hasLabels = e.labels != nil
        validation = ValidationSummary(e)
        let bad = Set(validation.nonFiniteRows)
        let norms = rowNorms(e.matrix).enumerated().filter { !bad.contains($0.offset) }.map(\.element)
        normMinimum = norms.min() ?? .nan
        normMaximum = norms.max() ?? .nan
        let ms = meanAndStandardDeviation(norms, ddof: 0)
        normMean = ms.mean
        normStandardDeviation = ms.std
        unitNormFraction = norms.isEmpty ? .nan : Double(norms.filter { abs($0 - 1) < 1e-3 }.count) / Double(norms.count)
        exampleLabels = Array((e.labels ?? []).prefix(20))
    }

    /// Problems an analyzer would refuse (for `--strict`).
    public var problems: [String] {
        var p: [String] = []
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

extension EmbeddingSummary: ReportConvertible {
    public func report() -> Report {
        var tables: [ReportTable] = []
        let invalid = validation.nanRows.map { ($0, "NaN") } + validation.infinityRows.map { ($0, "Inf") } + validation.zeroRows.map { ($0, "all-zero") }
        if !invalid.isEmpty {
            tables.append(ReportTable(name: "invalid_rows", title: "Invalid rows (0-based)", columns: ["row", "problem"],
                                      rows: invalid.sorted { $0.0 < $1.0 }.map { [.int($0.0), .string($0.1)] }, textRowLimit: 20, isPerRow: true))
        }
        if !validation.duplicateLabels.isEmpty {
            tables.append(ReportTable(name: "duplicate_labels", title: "Duplicate labels", columns: ["label", "count"],
                                      rows: validation.duplicateLabels.map { [.string($0.label), .int($0.count)] }, textRowLimit: 20))
        }
        return Report(
            analyzer: "info", title: "embdiag info: \(source.path)", inputs: [source],
            metrics: [
                ReportMetric("rows", "rows", .int(source.rows)),
                ReportMetric("dim", "dimension", .int(source.dim)),
                ReportMetric("format", "format", .string(source.format.rawValue)),
                ReportMetric("dtype", "dtype on disk", .string(source.dtype)),
                ReportMetric("labels", "labels", .bool(hasLabels)),
                ReportMetric("norm_min", "row norm min", ReportValue(normMinimum)),
                ReportMetric("norm_mean", "row norm mean", ReportValue(normMean)),
                ReportMetric("norm_max", "row norm max", ReportValue(normMaximum)),
                ReportMetric("norm_std", "row norm std", ReportValue(normStandardDeviation)),
                ReportMetric("unit_norm_fraction", "rows with unit norm", ReportValue(unitNormFraction)),
                ReportMetric("nan_rows", "rows with NaN", .int(validation.nanRows.count)),
                ReportMetric("inf_rows", "rows with Inf", .int(validation.infinityRows.count)),
                ReportMetric("zero_rows", "all-zero rows", .int(validation.zeroRows.count)),
                ReportMetric("duplicate_labels", "duplicate labels", .int(validation.duplicateLabels.count)),
                ReportMetric("sha256", "SHA-256", source.sha256.map { .string($0) } ?? .null),
            ],
            tables: tables,
            notes: exampleLabels.isEmpty ? [] : ["first labels: " + exampleLabels.prefix(8).map { "\"\($0.prefix(40))\"" }.joined(separator: ", ")])
    }
}
