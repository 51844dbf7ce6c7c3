import Foundation

extension ReportVerdict {
    /// neighbors: are neighbour lists dominated by hubs?
    static func neighbors(_ value: (String) -> Double?) -> ReportVerdict? {
        guard let skew = value("hubness_skewness") else { return nil }
        return ReportVerdict(question: "Are the nearest-neighbour lists dominated by a few hubs?",
                             answer: skew > 1 ? "Yes: the k-occurrence skewness is \(text(skew)) (> 1): a few rows are everybody's neighbour."
                                              : "No: the k-occurrence skewness is \(text(skew)).",
                             decidingMetrics: ["hubness_skewness", "antihubs", "mean_top1_similarity", "mean_kth_similarity"])
    }
}
