import Foundation

extension CosineNeighbors {
    /// Are neighbour lists dominated by hubs? `skewness`: of the k-occurrence counts (the report's
    /// `hubness_skewness`); nil verdict when it is undefined.
    func verdict(hubnessSkewness skewness: Double) -> ReportVerdict? {
        guard let skew = skewness.reportedNumber else { return nil }
        let text = ReportVerdict.text
        return ReportVerdict(question: "Are the nearest-neighbour lists dominated by a few hubs?",
                             answer: skew > 1 ? "Yes: the k-occurrence skewness is \(text(skew)) (> 1): a few rows are everybody's neighbour."
                                              : "No: the k-occurrence skewness is \(text(skew)).",
                             decidingMetrics: ["hubness_skewness", "antihubs", "mean_top1_similarity", "mean_kth_similarity"])
    }
}
