import Foundation

/// The Word Embedding Association Test (Caliskan et al. 2017) on one matrix.
public struct WEATResult: Sendable {
    public internal(set) var test: WEATTest
    /// The words of X, Y, A, B found (order kept) and those missing.
    public internal(set) var used: [[String]]
    public internal(set) var missing: [[String]]
    /// S(X, Y, A, B) = Σ_{x∈X} s(x, A, B) − Σ_{y∈Y} s(y, A, B).
    public internal(set) var statistic: Double
    /// d = (mean_X s − mean_Y s) / std_{X∪Y}(s), population std (ddof = 0, as WEFE and responsibly).
    public internal(set) var effectSize: Double
    /// s(w, A, B) = mean_a cos(w, a) − mean_b cos(w, b) for every word of X then Y.
    public internal(set) var associations: [Double]
    public internal(set) var permutationTest: PartitionTestResult
    public var pValue: Double { permutationTest.pValue }
}

/// Settings of the WEAT permutation test.
public struct WEATOptions: Sendable {
    public var exactLimit: Int = 1_000_000
    public var permutations: Int = 100_000
    public var seed: UInt64 = 42
    /// Minimum words per target set (and 1 per attribute set) after dropping missing ones.
    public var minimumWords: Int = 2
    public init() {}
}

public enum WEAT {
    /// Runs `test` on `e`. Missing words are dropped (as WEFE does; sets need not be equal-sized,
    /// nothing is subsampled); an error names them when a target set keeps fewer than
    /// `minimumWords` words or an attribute set none.
    public static func run(_ test: WEATTest, on e: Embeddings, lookup: VocabularyLookup, options: WEATOptions = WEATOptions()) throws -> WEATResult {
        let sets = test.targets + test.attributes
        let found = sets.map { lookup.rows($0.words) }
        let short = found.indices.filter { found[$0].rows.count < ($0 < 2 ? options.minimumWords : 1) }
        if !short.isEmpty {
            let described = short.map { "\(sets[$0].name) keeps \(found[$0].rows.count) of \(sets[$0].words.count) (need \($0 < 2 ? options.minimumWords : 1))" }
            throw EmbdiagError(.missingWords, path: e.source.path,
                               "WEAT \(test.id): too few words left: \(described.joined(separator: "; ")); missing: \(BiasAnalysis.wordListSummary(short.flatMap { found[$0].missing }))")
        }
        let s = associations(e.matrix, targets: found[0].rows + found[1].rows, a: found[2].rows, b: found[3].rows)
        let nx = found[0].rows.count
        let sx = s[0..<nx], sy = s[nx...]
        let statistic = sx.reduce(0, +) - sy.reduce(0, +)
        let p = Statistics.partitionSumTest(s, firstCount: nx, exactLimit: options.exactLimit, permutations: options.permutations, seed: options.seed)
        return WEATResult(test: test, used: found.map(\.words), missing: found.map(\.missing), statistic: statistic,
                          effectSize: effectSize(s, firstCount: nx, ddof: 0), associations: s, permutationTest: p)
    }

    /// d = (mean_X s − mean_Y s) / std_{X∪Y}(s) from the associations of X then Y: ddof = 0 as
    /// WEFE and responsibly, ddof = 1 as sent-bias (May et al. 2019); NaN when all s are equal.
    /// - Complexity: O(n).
    public static func effectSize(_ s: [Double], firstCount nx: Int, ddof: Int) -> Double {
        let sx = s[0..<nx], sy = s[nx...]
        guard !sx.isEmpty, !sy.isEmpty, s.count > ddof else { return .nan }
        let meanX = sx.reduce(0, +) / Double(sx.count), meanY = sy.reduce(0, +) / Double(sy.count)
        let sd = Statistics.meanAndStandardDeviation(s, ddof: ddof).std
        return sd > 0 ? (meanX - meanY) / sd : .nan
    }

    /// s(w, A, B) for every target row: two Float64 GEMMs of unit rows, then row means.
    public static func associations(_ m: Matrix, targets: [Int], a: [Int], b: [Int]) -> [Double] {
        let d = m.cols
        let t = unitRowsFloat64(m, rows: targets)
        let ca = BLAS.matmul(t, rows: targets.count, inner: d, unitRowsFloat64(m, rows: a), cols: a.count, transposeB: true)
        let cb = BLAS.matmul(t, rows: targets.count, inner: d, unitRowsFloat64(m, rows: b), cols: b.count, transposeB: true)
        let na = a.count, nb = b.count
        var s = [Double](repeating: 0, count: targets.count)
        for i in 0..<targets.count {
            var sa = 0.0, sb = 0.0
            for j in 0..<na { sa += ca[i * na + j] }
            for j in 0..<nb { sb += cb[i * nb + j] }
            s[i] = sa / Double(na) - sb / Double(nb)
        }
        return s
    }
}
