import Foundation

/// Settings of `embdiag anisotropy`.
public struct AnisotropyConfiguration: Sendable {
    /// Remedies to fit and apply, in order.
    public var steps: [IsotropyStep] = []
    /// A previously saved transform to apply instead of fitting.
    public var savedTransform: IsotropyTransform?
    /// Rogue dimensions and explained-variance K listed.
    public var top: Int = 10
    /// Pairs sampled for the cosine's spread (0 = skip).
    public var pairSample: Int = 100_000
    /// Rows used for the partition function (seeded sample above this).
    public var partitionSample: Int = 100_000
    public var seed: UInt64 = 42
    /// IsoScore* shrinkage ζ (nil = not computed) and its prior C0.
    public var isoScoreStarZeta: Double?
    public var isoScoreStarPrior: IsoScoreStar.Prior = .identity
    public init() {}
}

/// The result of `embdiag anisotropy`: metrics of the input and, with remedies, of the output.
public struct AnisotropyAnalysis: Sendable {
    public let configuration: AnisotropyConfiguration
    public internal(set) var source: Source
    public internal(set) var before: AnisotropyMetrics
    public internal(set) var after: AnisotropyMetrics?
    public internal(set) var transform: IsotropyTransform?
    /// The transformed matrix (nil without remedies).
    public internal(set) var transformed: Matrix?
    /// IsoScore* of the input and of the output (when `isoScoreStarZeta` is set).
    public var isoScoreStar: IsoScoreStar? {
        configuration.isoScoreStarZeta.map { IsoScoreStar(spectrum: before.spectrum, zeta: $0, prior: configuration.isoScoreStarPrior) }
    }
    public var isoScoreStarAfter: IsoScoreStar? {
        guard let after, let z = configuration.isoScoreStarZeta else { return nil }
        return IsoScoreStar(spectrum: after.spectrum, zeta: z, prior: configuration.isoScoreStarPrior)
    }

    public init(_ e: Embeddings, configuration: AnisotropyConfiguration = AnisotropyConfiguration()) throws {
        self.configuration = configuration
        source = e.source
        if let z = configuration.isoScoreStarZeta { try IsoScoreStar.validate(zeta: z) }
        try configuration.validate()
        try MemoryBudget.installed.value.check(configuration.memoryEstimates(rows: e.count, dimension: e.dimension))
        do {
            before = try AnisotropyMetrics(e.matrix, pairSample: configuration.pairSample, partitionSample: configuration.partitionSample, seed: configuration.seed)
        } catch let error as EmbdiagError where error.path == nil {
            throw EmbdiagError(error.kind, path: e.source.path, error.message)
        }
        if let saved = configuration.savedTransform {
            do { transformed = try saved.apply(to: e.matrix) } catch let error as EmbdiagError {
                throw EmbdiagError(error.kind, path: e.source.path, error.message)
            }
            transform = saved
        } else if !configuration.steps.isEmpty {
            let (t, out) = try IsotropyTransform.fit(configuration.steps, on: e.matrix)
            transform = t
            transformed = out
        }
        if let transformed {
            after = try AnisotropyMetrics(transformed, pairSample: configuration.pairSample, partitionSample: configuration.partitionSample, seed: configuration.seed)
        }
    }

    /// The transformed embeddings (labels kept) for --write.
    public func transformedEmbeddings(_ original: Embeddings) -> Embeddings? {
        guard let transformed else { return nil }
        var s = original.source
        s.dim = transformed.cols
        return Embeddings(matrix: transformed, labels: original.labels, source: s)
    }
}
