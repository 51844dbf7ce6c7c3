import Foundation

/// Which pass a shard's partial run computes.
public enum PartialPass: Sendable {
    /// Pass 1: the shard's own sums (or its whole state, for one-pass analyzers).
    case first
    /// Pass 2 against the merged pass-1 state (`embdiag merge … --state-out`).
    case second(merged: LoadedState)
}

/// An analyzer that runs on one input shard and returns its mergeable state (`--partial`,
/// Guides/Scale.md): `info` and `neighbors` in one pass, `anisotropy`, `depth` and `compat` in two.
/// Each conformer carries its configuration; `state(_:shard:pass:)` is the one dispatch every
/// front end calls, and `StateMerge.merge` combines the states.
public protocol PartialAnalysis: Sendable {
    associatedtype Input
    /// The analyzer's name, as states record it.
    static var analyzer: String { get }
    /// Whether the analyzer has a second pass against the merged pass-1 state.
    static var hasSecondPass: Bool { get }
    func firstPass(_ input: Input, shard: ShardRecord) throws -> PartialState
    func secondPass(_ input: Input, shard: ShardRecord, merged: LoadedState) throws -> PartialState
}

extension PartialAnalysis {
    public static var hasSecondPass: Bool { false }

    public func secondPass(_ input: Input, shard: ShardRecord, merged: LoadedState) throws -> PartialState {
        throw Self.noSecondPass
    }

    static var noSecondPass: EmbdiagError {
        .usage("\(Setting.partialPass) 2 is for anisotropy, depth and compat; \(analyzer) states merge in one pass (drop \(Setting.partialPass) and \(Setting.directions))")
    }

    /// The shard's state for the pass asked.
    /// - Complexity: that of the analyzer's pass.
    public func state(_ input: Input, shard: ShardRecord, pass: PartialPass) throws -> PartialState {
        switch pass {
        case .first:
            return try firstPass(input, shard: shard)
        case .second(let merged):
            guard Self.hasSecondPass else { throw Self.noSecondPass }
            return try secondPass(input, shard: shard, merged: merged)
        }
    }
}

/// `info --partial`: the shard's summary sums (`InfoPartial`).
public struct InfoPartialAnalysis: PartialAnalysis {
    public static let analyzer = "info"
    public init() {}
    public func firstPass(_ input: Embeddings, shard: ShardRecord) throws -> PartialState { InfoPartial.state(input, shard: shard) }
}

/// `neighbors --partial`: a fixed query set against one gallery shard (`NeighborsPartial`).
public struct NeighborsPartialAnalysis: PartialAnalysis {
    public static let analyzer = "neighbors"
    public let queries: Embeddings
    public let k: Int
    public init(queries: Embeddings, k: Int) {
        self.queries = queries
        self.k = k
    }
    public func firstPass(_ gallery: Embeddings, shard: ShardRecord) throws -> PartialState {
        try NeighborsPartial.state(gallery: gallery, queries: queries, k: k, shard: shard)
    }
}

/// `anisotropy --partial`: sums, then partition function and sampled pairs (`AnisotropyPartial`).
public struct AnisotropyPartialAnalysis: PartialAnalysis {
    public static let analyzer = "anisotropy"
    public static let hasSecondPass = true
    public let configuration: AnisotropyConfiguration
    public init(configuration: AnisotropyConfiguration) { self.configuration = configuration }
    public func firstPass(_ input: Embeddings, shard: ShardRecord) throws -> PartialState {
        AnisotropyPartial.pass1(input, shard: shard, configuration: configuration)
    }
    public func secondPass(_ input: Embeddings, shard: ShardRecord, merged: LoadedState) throws -> PartialState {
        try AnisotropyPartial.pass2(input, shard: shard, configuration: configuration, merged: merged)
    }
}

/// `depth --partial`: the reference's sums (or sample), then every row's depth (`DepthPartial`).
public struct DepthPartialAnalysis: PartialAnalysis {
    public static let analyzer = "depth"
    public static let hasSecondPass = true
    public let configuration: DepthConfiguration
    /// The reference's total rows over all shards (the reference-sample mode).
    public let referenceRows: Int?
    /// Pass 2: the shard belongs to the compared corpus, not the reference.
    public let otherCorpus: Bool
    public init(configuration: DepthConfiguration, referenceRows: Int? = nil, otherCorpus: Bool = false) {
        self.configuration = configuration
        self.referenceRows = referenceRows
        self.otherCorpus = otherCorpus
    }
    public func firstPass(_ input: Embeddings, shard: ShardRecord) throws -> PartialState {
        if otherCorpus { throw EmbdiagError.usage("\(Setting.otherCorpus) goes with \(Setting.partialPass) 2 (pass 1 sums the reference only)") }
        return try DepthPartial.pass1(input, shard: shard, configuration: configuration, referenceRows: referenceRows)
    }
    public func secondPass(_ input: Embeddings, shard: ShardRecord, merged: LoadedState) throws -> PartialState {
        try DepthPartial.pass2(input, shard: shard, other: otherCorpus, configuration: configuration, merged: merged, referenceRows: referenceRows)
    }
}

/// `compat --partial`: the relevant rows' scores, then the rows ranked around them (`CompatPartial`).
public struct CompatPartialAnalysis: PartialAnalysis {
    public static let analyzer = "compat"
    public static let hasSecondPass = true
    public let configuration: CompatibilityConfiguration
    public init(configuration: CompatibilityConfiguration) { self.configuration = configuration }
    public func firstPass(_ input: CompatibilityInputs, shard: ShardRecord) throws -> PartialState {
        try CompatPartial.pass1(input, shard: shard, configuration: configuration)
    }
    public func secondPass(_ input: CompatibilityInputs, shard: ShardRecord, merged: LoadedState) throws -> PartialState {
        try CompatPartial.pass2(input, shard: shard, configuration: configuration, merged: merged)
    }
}
