import Foundation

/// The knobs of `UnpairedAlignment` (`--fit unpaired`). The defaults are those of the study in
/// Guides/Compatibility.md ("Alignment without pairs"), which follow mini-vec2vec (Dar 2025) for
/// the seeding and VecMap (Artetxe et al. 2018) for the self-learning.
public struct UnpairedAlignmentSettings: Sendable, Equatable {
    /// Seeded restarts; the one with the best held-back criterion is kept.
    public var restarts: Int = 3
    /// Share of each side held back from every fit, on which the criterion is measured.
    public var heldBackFraction: Double = 0.2
    /// Rounds of k-means + centroid matching; every round adds `clusters` anchor pairs.
    public var rounds: Int = 30
    public var clusters: Int = 20
    /// Random starts of the 2-opt search that matches two centroid sets.
    public var matchingStarts: Int = 30
    /// Lloyd iterations of each k-means.
    public var kMeansIterations: Int = 100
    /// Nearest OLD rows averaged into each NEW row's first pseudo-partner (and in refinement).
    public var pseudoPartners: Int = 50
    /// Refinement steps after the seeding: map a sample, average its nearest OLD rows,
    /// Procrustes, W ← (W + W′)/2.
    public var refinementSteps: Int = 50
    public var refinementSample: Int = 1000
    /// Neighbours of the CSLS densities.
    public var cslsNeighbors: Int = 10
    /// Principal-subspace sizes of the self-learning, widened in turn (then the full dimension).
    public var subspaces: [Int] = [16, 32, 64, 128, 256]
    /// Self-learning steps per subspace at most (a stage ends earlier when its pairs stop changing).
    public var stepsPerSubspace: Int = 15

    /// Fewest rows per side accepted: the held-back share must leave enough rows for the criterion
    /// and k-means enough rows per cluster. Far below what recovery needs at d = 384 (about 2,000,
    /// Guides/Compatibility.md); a floor against nonsense, not a promise.
    public static let minimumRowsPerSide = 200

    public init() {}

    /// Throws a usage error for a value the method cannot run with.
    func validate() throws {
        func refuse(_ what: String) -> EmbdiagError { .usage("\(Setting.fit) unpaired: \(what)") }
        guard restarts >= 1 else { throw refuse("restarts must be ≥ 1 (got \(restarts))") }
        guard heldBackFraction > 0, heldBackFraction < 1 else { throw refuse("the held-back share must be in (0, 1) (got \(heldBackFraction))") }
        guard rounds >= 1, clusters >= 2, matchingStarts >= 1, kMeansIterations >= 1 else {
            throw refuse("rounds, matching starts and k-means iterations must be ≥ 1 and clusters ≥ 2")
        }
        guard pseudoPartners >= 1, refinementSteps >= 0, refinementSample >= 1, cslsNeighbors >= 1, stepsPerSubspace >= 1 else {
            throw refuse("pseudo-partners, refinement sample, CSLS neighbours and steps must be ≥ 1")
        }
        guard subspaces.allSatisfy({ $0 >= 1 }) else { throw refuse("subspace sizes must be ≥ 1") }
    }
}
