import Foundation

extension ReportVerdict {
    /// relrep: are the two spaces related (does a row find its partner through the anchors)?
    static func relativeRepresentations(_ value: (String) -> Double?) -> ReportVerdict? {
        guard let top1 = value("relative_top1") else { return nil }
        let chance = value("chance_top1")
        let related = top1 > 10 * (chance ?? 0)
        return ReportVerdict(question: "Do the two spaces encode the same items alike (relative representations)?",
                             answer: related
                                ? "Yes: through the anchors, \(text(100 * top1))% of rows find their own partner first (chance \(text(chance)))."
                                : "Hardly: only \(text(100 * top1))% of rows find their own partner first (chance \(text(chance))).",
                             decidingMetrics: ["relative_top1", "relative_mrr", "relative_cosine_mean", "chance_top1"])
    }
}
