import Foundation

extension RelativeComparison {
    /// Are the two spaces related (does a row find its partner through the anchors)? Without
    /// anchors the comparison rests on CKA and k-NN overlap.
    var verdict: ReportVerdict? {
        let text = ReportVerdict.text
        let cka = ckaDebiased.reportedNumber, chance = chanceTop1.reportedNumber
        guard hasAnchors, let top1 = relativeTop1.reportedNumber else {
            // --anchors 0: no relative projection.
            guard let cka else { return nil }
            let mutual = knnValue(Self.mean(mutualKNN), knnTiedPlaceShareAbsoluteByK[0]).number ?? .nan
            return ReportVerdict(question: "How alike are the two spaces (without anchors)?",
                                 answer: "Debiased linear CKA \(text(cka)) (1 = linearly identical up to rotation and scale, ≈ 0 unrelated); \(text(100 * mutual))% of nearest-neighbour lists shared.",
                                 decidingMetrics: ["cka_debiased", "mutual_knn", "knn_jaccard"])
        }
        if let ceiling = relativeTop1Ceiling?.reportedNumber, ceiling < 0.5 {
            // Rows tie in their relative vectors (few distinct directions): even a space compared with
            // itself finds few partners first, so top-1 cannot say how alike the spaces are.
            return ReportVerdict(question: "Do the two spaces encode the same items alike (relative representations)?",
                                 answer: "Cannot tell through retrieval: the rows tie in their relative vectors, so even a space searching its own rows finds only \(text(100 * ceiling))% of them first (here \(text(100 * top1))%); debiased linear CKA \(text(cka ?? .nan)) (1 = linearly identical up to rotation and scale).",
                                 decidingMetrics: ["relative_top1", "relative_top1_ceiling", "cka_debiased", "chance_top1"])
        }
        let related = top1 > 10 * (chance ?? 0)
        return ReportVerdict(question: "Do the two spaces encode the same items alike (relative representations)?",
                             answer: related
                                ? "Yes: through the anchors, \(text(100 * top1))% of rows find their own partner first (chance \(text(chance)))."
                                : "Hardly: only \(text(100 * top1))% of rows find their own partner first (chance \(text(chance))).",
                             decidingMetrics: ["relative_top1", "relative_mrr", "relative_cosine_mean", "chance_top1"])
    }
}
