import Foundation

extension EmbeddingSummary: ReportConvertible {
    public func report() -> Report {
        var tables: [ReportTable] = []
        let invalid = validation.nullRows.map { ($0, "null") } + validation.nanRows.map { ($0, "NaN") } + validation.infinityRows.map { ($0, "Inf") } + validation.zeroRows.map { ($0, "all-zero") }
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
                ReportMetric("null_rows", "rows with a null (missing) vector", .int(validation.nullRows.count)),
                ReportMetric("nan_rows", "rows with NaN (not null)", .int(validation.nanRows.count)),
                ReportMetric("inf_rows", "rows with Inf", .int(validation.infinityRows.count)),
                ReportMetric("zero_rows", "all-zero rows", .int(validation.zeroRows.count)),
                ReportMetric("duplicate_labels", "duplicate labels", .int(validation.duplicateLabels.count)),
                ReportMetric("sha256", "SHA-256", source.sha256.map { .string($0) } ?? .null),
            ],
            tables: tables,
            notes: exampleLabels.isEmpty ? [] : ["first labels: " + exampleLabels.prefix(8).map { "\"\($0.prefix(40))\"" }.joined(separator: ", ")], verdict: verdict)
    }
}
