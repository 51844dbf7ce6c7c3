import Foundation

extension CosineNeighbors {
    /// Are neighbour lists dominated by hubs? `skewness`: of the k-occurrence counts (the report's
    /// `hubness_skewness`); nil verdict when it is undefined.
    func verdict(hubnessSkewness skewness: Double) -> ReportVerdict? {
        guard let skew = skewness.reportedNumber else { return nil }
        let text = ReportVerdict.text
        guard hubnessIsDetermined else {
            return ReportVerdict(question: "Are the nearest-neighbour lists dominated by a few hubs?",
                                 answer: "Cannot tell: rows tied at the k-th neighbour hold \(text(100 * tiedPlaceShare))% of the list places (few distinct rows or directions), so how often a row is listed depends on how ties are broken, not on the data.",
                                 decidingMetrics: ["knn_tied_place_share", "knn_undetermined_share", "mean_top1_similarity", "mean_kth_similarity"])
        }
        return ReportVerdict(question: "Are the nearest-neighbour lists dominated by a few hubs?",
                             answer: skew > 1 ? "Yes: the k-occurrence skewness is \(text(skew)) (> 1): a few rows are everybody's neighbour."
                                              : "No: the k-occurrence skewness is \(text(skew)).",
                             decidingMetrics: ["hubness_skewness", "antihubs", "mean_top1_similarity", "mean_kth_similarity"])
    }
}
