import Foundation

extension CosineNeighbors: ReportConvertible {
    public func report() -> Report {
        var rows: [[ReportValue]] = []
        rows.reserveCapacity(neighbors.indices.count)
        for q in 0..<neighbors.queryCount {
            for r in 0..<k {
                let g = Int(neighbors.indices[q * k + r])
                guard g >= 0 else { continue }
                rows.append([.int(querySourceRows?[q] ?? q), .string(queryLabels[q]), .int(r + 1), .int(corpusSourceRows?[g] ?? g), .string(corpusLabels[g]),
                             ReportValue(neighbors.scores[q * k + r])])
            }
        }
        let counts = occurrenceCounts
        let hubs = counts.enumerated().sorted { $0.element > $1.element || ($0.element == $1.element && $0.offset < $1.offset) }.prefix(20)
        let n = Double(counts.count)
        let mean = Double(counts.reduce(0, +)) / n
        let sd = (counts.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / n).squareRoot()
        let skew = sd > 0 ? counts.reduce(0.0) { $0 + pow((Double($1) - mean) / sd, 3) } / n : 0
        // k-occurrence histogram: a long right tail means hubs.
        var histogram: [Int: Int] = [:]
        for c in counts { histogram[c, default: 0] += 1 }
        let chart = ReportChart(
            name: "k_occurrence", title: "k-occurrence (how often a row is someone's neighbour)", kind: .histogram,
            xLabel: "k-occurrence", yLabel: "rows", logY: false,
            series: [ReportChart.Series(name: "rows", points: histogram.keys.sorted().map { ChartPoint(x: Double($0), y: Double(histogram[$0]!)) })],
            caption: "Skewness \(ReportFormatting.number(skew, significant: 3)); a long right tail means a few hubs are everybody's neighbour.")
        let share = ReportFormatting.number(100 * tiedPlaceShare, significant: 3)
        let undetermined = ReportFormatting.number(100 * undeterminedShare, significant: 3)
        let tieNotes = undeterminedShare == 0 ? [] : [hubnessIsDetermined
            ? "\(undetermined) % of the queries tie at their k-th neighbour (tied rows hold \(share) % of the list places): those lists keep the tied rows with the smaller row numbers."
            : "hubness_skewness and antihubs are not reported: rows tied at the k-th neighbour hold \(share) % of the list places (\(undetermined) % of the queries tie there; few distinct rows or directions), so which rows fill the lists — and how often a row is listed — is decided by the row-index tie rule, not by the data. The lists and the hubs table show that rule's choice."]
        return Report(
            analyzer: "neighbors", title: "Cosine nearest neighbours (k = \(k))", inputs: inputs,
            parameters: [ReportParameter("k", .int(k)), ReportParameter("self_excluded", .bool(selfExcluded))],
            metrics: [
                ReportMetric("queries", "queries", .int(neighbors.queryCount)),
                ReportMetric("mean_top1_similarity", "mean cosine of the nearest neighbour",
                             ReportValue((0..<neighbors.queryCount).reduce(0.0) { $0 + Double(neighbors.scores[$1 * k]) } / Double(max(1, neighbors.queryCount)))),
                ReportMetric("mean_kth_similarity", "mean cosine of the k-th neighbour", ReportValue(meanKthSimilarity)),
                ReportMetric("hubness_skewness", "skewness of k-occurrence (hubness)", hubnessIsDetermined ? ReportValue(skew) : .null),
                ReportMetric("antihubs", "rows in nobody's list", hubnessIsDetermined ? .int(counts.filter { $0 == 0 }.count) : .null),
                ReportMetric("knn_undetermined_share", "share of queries whose k-th neighbour ties with the next row (the list is one of several)", ReportValue(undeterminedShare)),
                ReportMetric("knn_tied_place_share", "share of the list places held by rows tied at an undetermined k-th score", ReportValue(tiedPlaceShare)),
            ],
            tables: [
                ReportTable(name: "neighbors", title: "Neighbours (first rows)", columns: ["query", "query_label", "rank", "neighbor", "neighbor_label", "cosine"],
                            rows: rows, textRowLimit: 3 * k, isPerRow: true),
                ReportTable(name: "hubs", title: "Most frequent neighbours (hubs)", columns: ["row", "label", "k_occurrence"],
                            rows: hubs.map { [.int(corpusSourceRows?[$0.offset] ?? $0.offset), .string(corpusLabels[$0.offset]), .int($0.element)] }, textRowLimit: 10),
            ],
            charts: [chart],
            notes: caps.map { Report.warningPrefix + $0.message } + tieNotes, verdict: verdict(hubnessSkewness: skew))
    }
}
