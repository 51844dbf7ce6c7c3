import Foundation

/// One named parameter block of an adapter: a rows × cols row-major Float64 matrix (a vector is
/// 1 × cols).
public struct AdapterParameter: Sendable, Equatable {
    public internal(set) var name: String
    public internal(set) var rows: Int
    public internal(set) var cols: Int
    public internal(set) var values: [Double]

    public init(name: String, rows: Int, cols: Int, values: [Double]) {
        precondition(values.count == rows * cols, "AdapterParameter \(name): \(values.count) values for \(rows) × \(cols)")
        self.name = name
        self.rows = rows
        self.cols = cols
        self.values = values
    }
}

/// A trained NEW → OLD adapter (Vejendla, "Drift-Adapter", EMNLP 2025):
/// - low-rank affine with diagonal scaling: y = x·diag(s) + (x·U)·V + b (`s` only when the two
///   dimensions agree; otherwise y = (x·U)·V + b);
/// - residual MLP: y = x·A + ReLU(x·W₁ + b₁)·W₂ + b₂.
/// Parameters are Float64 (trained in Float64, see `AdapterTraining`); `apply` runs in Float32
/// GEMMs like `LinearMap.apply`.
public struct AdapterMap: Sendable, Equatable {
    public enum Architecture: Sendable, Equatable {
        case lowRank(rank: Int, diagonal: Bool)
        case mlp(hidden: Int)
    }

    public internal(set) var architecture: Architecture
    public internal(set) var inputDimension: Int
    public internal(set) var outputDimension: Int
    /// In the order of `AdapterMap.layout(...)`.
    public internal(set) var parameters: [AdapterParameter]
    /// How it was trained (nil for a map read back from a file).
    public internal(set) var training: AdapterTrainingSummary?

    public var fit: MappingFit {
        switch architecture {
        case .lowRank(let r, _): return .lowRank(r)
        case .mlp(let h): return .mlp(h)
        }
    }

    /// Names and shapes of the parameters of an architecture, in storage order.
    public static func layout(_ a: Architecture, input dx: Int, output dy: Int) -> [(name: String, rows: Int, cols: Int)] {
        switch a {
        case .lowRank(let r, let diagonal):
            return (diagonal ? [("s", 1, dy)] : []) + [("U", dx, r), ("V", r, dy), ("b", 1, dy)]
        case .mlp(let h):
            return [("A", dx, dy), ("W1", dx, h), ("b1", 1, h), ("W2", h, dy), ("b2", 1, dy)]
        }
    }

    public init(architecture: Architecture, inputDimension: Int, outputDimension: Int, parameters: [AdapterParameter]) {
        let expected = Self.layout(architecture, input: inputDimension, output: outputDimension)
        precondition(expected.count == parameters.count && zip(expected, parameters).allSatisfy { $0.name == $1.name && $0.rows == $1.rows && $0.cols == $1.cols },
                     "AdapterMap: parameters do not match the architecture")
        self.architecture = architecture
        self.inputDimension = inputDimension
        self.outputDimension = outputDimension
        self.parameters = parameters
    }

    public func parameter(_ name: String) -> AdapterParameter { parameters.first { $0.name == name }! }

    /// Number of trained values.
    public var parameterCount: Int { parameters.reduce(0) { $0 + $1.values.count } }

    /// The adapter's output for every row (Float32 GEMMs, parameters rounded to Float32).
    /// - Complexity: O(n·dx·R + n·R·dy) for the low-rank map, O(n·(dx·dy + dx·H + H·dy)) for the MLP.
    public func apply(_ x: Matrix) throws -> Matrix {
        guard x.cols == inputDimension else {
            throw EmbdiagError.mismatch(nil, "the mapping expects \(inputDimension) dimensions, the input has \(x.cols)")
        }
        func f32(_ name: String) -> Matrix {
            let p = parameter(name)
            return Matrix(rows: p.rows, cols: p.cols, values: p.values.map { Float($0) })
        }
        let n = x.rows, dy = outputDimension
        let out: Matrix
        switch architecture {
        case .lowRank(_, let diagonal):
            let z = BLAS.matmul(x, f32("U"))
            out = BLAS.matmul(z, f32("V"))
            let b = parameter("b").values.map { Float($0) }
            let s = diagonal ? parameter("s").values.map { Float($0) } : nil
            let o = out.mutablePointer, xp = x.pointer
            parallelChunks(n, minimumChunk: 4096) { range in
                for i in range {
                    let r = o + i * dy
                    if let s { for j in 0..<dy { r[j] += s[j] * xp[i * dy + j] } }
                    for j in 0..<dy { r[j] += b[j] }
                }
            }
        case .mlp(let h):
            let hidden = BLAS.matmul(x, f32("W1"))
            let b1 = parameter("b1").values.map { Float($0) }
            let hp = hidden.mutablePointer
            parallelChunks(n, minimumChunk: 4096) { range in
                for i in range {
                    let r = hp + i * h
                    for j in 0..<h { r[j] = max(0, r[j] + b1[j]) }
                }
            }
            out = BLAS.matmul(x, f32("A"))
            BLAS.gemm(hidden, f32("W2"), beta: 1, into: out)
            let b2 = parameter("b2").values.map { Float($0) }
            let o = out.mutablePointer
            parallelChunks(n, minimumChunk: 4096) { range in
                for i in range {
                    let r = o + i * dy
                    for j in 0..<dy { r[j] += b2[j] }
                }
            }
        }
        return out
    }
}

/// What training did: the rows, the optimiser's settings and where early stopping ended.
public struct AdapterTrainingSummary: Sendable, Equatable {
    /// Rows the gradient steps used and rows held aside for early stopping (both inside the
    /// training split; the held-out rows of compat are never seen).
    public internal(set) var fitRows: Int
    public internal(set) var validationRows: Int
    /// Full-batch Adam steps taken and the step whose parameters were kept (lowest validation loss).
    public internal(set) var steps: Int
    public internal(set) var bestStep: Int
    /// Mean squared error per value at the kept step.
    public internal(set) var trainLoss: Double
    public internal(set) var validationLoss: Double
    /// Validation loss of the starting point (step 0).
    public internal(set) var initialValidationLoss: Double
    /// True when training stopped because the validation loss stopped improving (else the step cap).
    public internal(set) var stoppedEarly: Bool
    public internal(set) var settings: AdapterTrainingSettings
}
