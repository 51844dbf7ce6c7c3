import Foundation

extension ReportVerdict {
    /// anisotropy: is the space a narrow cone (mean cosine, IsoScore), and did the transform help?
    static func anisotropy(_ value: (String) -> Double?) -> ReportVerdict? {
        guard let cosine = value("mean_cosine") else { return nil }
        var answer = cosine > 0.3
            ? "Yes: random pairs have a mean cosine of \(text(cosine)), so raw similarities are inflated; IsoScore \(text(value("isoscore")))."
            : "No: the mean cosine of random pairs is \(text(cosine)); IsoScore \(text(value("isoscore")))."
        var keys = ["mean_cosine", "isoscore", "explained_variance_top1", "partition_isotropy"]
        if let after = value("mean_cosine_after") {
            answer += " After the transforms: mean cosine \(text(after)), IsoScore \(text(value("isoscore_after")))."
            keys += ["mean_cosine_after", "isoscore_after"]
        }
        return ReportVerdict(question: "Is the space a narrow cone (anisotropic)?", answer: answer, decidingMetrics: keys)
    }
}
