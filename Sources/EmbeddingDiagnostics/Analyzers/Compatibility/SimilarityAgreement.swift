import Foundation

/// How OLD and NEW agree on the items themselves, beyond retrieval: whether each item keeps its
/// neighbours (k-NN Jaccard), whether pairwise similarities keep their order (Spearman), Biondi et
/// al.'s distance constraints, how similarity cut-offs carry over, and how the score distributions
/// move. Part of `CompatibilityAnalysis` unless `retrievalOnly` is set. Guide:
/// Guides/Compatibility.md.
///
/// - Complexity: two k-NN passes of the stability rows over the gallery (O(s·n·d)) plus O(p·d)
///   for the p sampled pairs.
public struct SimilarityAgreement: Sendable {
    /// The item rows whose neighbourhoods are compared: the query rows when queries are items, else
    /// a seeded sample of `maxQueries` items.
    public internal(set) var rows: [Int]
    /// Per entry of `rows`: Jaccard of its k-NN sets in OLD and NEW (same space, itself excluded),
    /// tied rows at the k-th place counted with their chance of being chosen (`NeighbourSet`).
    public internal(set) var knnJaccard: [Double]
    /// Share of `rows` whose k-NN set in OLD or NEW is not determined by the data (a tie straddles
    /// the k-th place).
    public internal(set) var knnUndeterminedShare: Double
    /// Share of the k-NN places (OLD and NEW) that ties fill (`SpaceComparison.tiedPlaceShare`);
    /// above `SpaceComparison.tiedPlaceShareLimit` the mean Jaccard is not reported.
    public internal(set) var knnTiedPlaceShare: Double
    public internal(set) var oldNeighbors: NearestNeighbors
    public internal(set) var newNeighbors: NearestNeighbors
    public internal(set) var similaritySpearman: Double
    public internal(set) var similarityPairs: Int
    /// Every pair (true) or a seeded sample of `sampledPairs` pairs.
    public internal(set) var allPairs: Bool
    /// Biondi et al. constraints on ordered pairs (labels and equal dimensions only).
    public internal(set) var positiveConstraint: (satisfied: Int, pairs: Int)?
    public internal(set) var negativeConstraint: (satisfied: Int, pairs: Int)?
    /// One entry per configured threshold.
    public internal(set) var thresholds: [ThresholdTransfer]
    /// Score distributions of OLD and NEW (random pairs, top-1, top-1 − top-2 margin).
    public internal(set) var scoreShift: ScoreShift
    /// (OLD cut-off, quantile-matched NEW cut-off) over the upper half of the pair scores: a QQ
    /// curve of the two distributions, the "calibration curve" of a threshold.
    public internal(set) var thresholdCalibration: [(old: Double, new: Double)]

    /// Mean k-NN Jaccard over `rows` (NaN when there are none).
    public var meanJaccard: Double { knnJaccard.isEmpty ? .nan : knnJaccard.reduce(0, +) / Double(knnJaccard.count) }
    /// Whether ties decide too many k-NN sets for the mean Jaccard to describe the data.
    public var knnOverlapIsDetermined: Bool { knnTiedPlaceShare <= SpaceComparison.tiedPlaceShareLimit }
}
