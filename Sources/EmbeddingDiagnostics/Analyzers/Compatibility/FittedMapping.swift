import Foundation

/// A fitted NEW → OLD map of any family: a closed-form affine map (`LinearMap`) or a trained
/// adapter (`AdapterMap`). What compat evaluates, `--save-mapping` writes and `map` applies.
public enum FittedMapping: Sendable, Equatable {
    case linear(LinearMap)
    case adapter(AdapterMap)

    public var inputDimension: Int {
        switch self { case .linear(let m): return m.inputDimension; case .adapter(let a): return a.inputDimension }
    }
    public var outputDimension: Int {
        switch self { case .linear(let m): return m.outputDimension; case .adapter(let a): return a.outputDimension }
    }
    public var fit: MappingFit {
        switch self { case .linear(let m): return m.fit; case .adapter(let a): return a.fit }
    }

    /// Mapped rows (Float32).
    public func apply(_ x: Matrix) throws -> Matrix {
        switch self { case .linear(let m): return try m.apply(x); case .adapter(let a): return try a.apply(x) }
    }

    public var linearMap: LinearMap? { if case .linear(let m) = self { return m }; return nil }
    public var adapter: AdapterMap? { if case .adapter(let a) = self { return a }; return nil }

    /// Trained values (weights and biases).
    public var parameterCount: Int {
        switch self {
        case .linear(let m): return m.weights.count + m.bias.count
        case .adapter(let a): return a.parameterCount
        }
    }

    // The closed-form fit's details (nil for adapters), so reports read them from either kind.
    public var lambda: Double? { linearMap?.lambda }
    public var rank: Int? { linearMap?.rank }
    public var completedDirections: Int? { linearMap?.completedDirections }
    public var scale: Double? { linearMap?.scale }
    public var ridgeSelection: [LinearMap.RidgeCandidate]? { linearMap?.ridgeSelection }
}
