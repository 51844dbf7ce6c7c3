import Foundation

extension AnisotropyAnalysis {
    /// Is the space a narrow cone (mean cosine, IsoScore), and did the transform help? Nil when
    /// the mean cosine is undefined (no pairs).
    var verdict: ReportVerdict? {
        guard let cosine = before.meanCosine.reportedNumber else { return nil }
        let text = ReportVerdict.text
        var answer = cosine > 0.3
            ? "Yes: random pairs have a mean cosine of \(text(cosine)), so raw similarities are inflated; IsoScore \(text(before.isoScore.reportedNumber))."
            : "No: the mean cosine of random pairs is \(text(cosine)); IsoScore \(text(before.isoScore.reportedNumber))."
        var keys = ["mean_cosine", "isoscore", "explained_variance_top1", "partition_isotropy"]
        if let after, let afterCosine = after.meanCosine.reportedNumber {
            answer += " After the transforms: mean cosine \(text(afterCosine)), IsoScore \(text(after.isoScore.reportedNumber))."
            keys += ["mean_cosine_after", "isoscore_after"]
        }
        return ReportVerdict(question: "Is the space a narrow cone (anisotropic)?", answer: answer, decidingMetrics: keys)
    }
}
