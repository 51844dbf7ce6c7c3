import Foundation

extension ShiftReference: ReportConvertible {
    /// What a saved reference holds (`shift REF --save-reference FILE` without windows).
    public func report() -> Report {
        var metrics: [ReportMetric] = [
            ReportMetric("n_reference", "reference rows kept (the sample the tests use)", .int(sample.count)),
            ReportMetric("n_reference_total", "reference rows", .int(totalRows)),
            ReportMetric("mmd_bandwidth", "Gaussian kernel σ (\(bandwidthGiven ? "given" : "median heuristic of the sample"))", ReportValue(bandwidth)),
            ReportMetric("bands", "window sizes with a band of normal variation drawn", .int(bands.count)),
        ]
        if let b = bands.values.first { metrics.append(ReportMetric("band_false_alarm", "P(a window drawn like the reference lies above the band's upper limit)", ReportValue(b.falseAlarmRate))) }
        let sizes = bands.keys.sorted()
        let table = ReportTable(
            name: "band", title: "The reference's own variation: MMD²_u of each chunk of the sample against the rest (chunk left out)",
            columns: ["chunk_size", "chunks", "lower", "median", "upper", "upper_rank", "false_alarm"],
            rows: sizes.map { s in
                let b = bands[s]!
                return [.int(s), .int(b.scores.count), ReportValue(b.lower), ReportValue(b.median), ReportValue(b.upper), .int(b.upperRank), ReportValue(b.falseAlarmRate)]
            })
        var notes: [String] = []
        if isSampled {
            notes.append("\(source.path) has \(totalRows) rows: the reference keeps a seeded sample of \(sample.count) (seed \(seed) + 7919); later tests run on it, in time proportional to the sample and the batch.")
        }
        if bands.isEmpty {
            notes.append("No band was drawn yet (give --chunk N to draw the band of N-row windows now); later runs draw the band of each window size from the saved sample.")
        }
        var report = Report(analyzer: "shift", title: "Saved shift reference", inputs: [source],
                            parameters: [ReportParameter("seed", .int(Int(truncatingIfNeeded: seed))), ReportParameter("band_chunks", .int(bandChunks))],
                            metrics: metrics, tables: sizes.isEmpty ? [] : [table], notes: notes)
        report.verdict = ReportVerdict(question: "What does the saved reference keep?",
                                       answer: "A sample of \(sample.count) of the \(totalRows) rows of \(ShiftAnalysis.fileName(source)), σ = \(ReportFormatting.number(bandwidth, significant: 4)) and \(bands.count) band\(bands.count == 1 ? "" : "s") of normal variation.",
                                       decidingMetrics: ["n_reference", "mmd_bandwidth"])
        return report
    }
}
