import Foundation

/// Finding words among the rows' labels (case-sensitive by default).
public struct VocabularyLookup: Sendable {
    public let caseInsensitive: Bool
    let index: [LabelKey: Int]

    public init(_ e: Embeddings, caseInsensitive: Bool) {
        self.caseInsensitive = caseInsensitive
        index = e.labelIndex(caseInsensitive: caseInsensitive)
    }

    public func row(_ word: String) -> Int? { index[LabelKey(caseInsensitive ? word.lowercased() : word)] }

    /// Rows of the words present (in order, duplicates kept once) and the words missing.
    public func rows(_ words: [String]) -> (words: [String], rows: [Int], missing: [String]) {
        var seen = Set<Int>(), found: [String] = [], rows: [Int] = [], missing: [String] = []
        for w in words {
            if let r = row(w) {
                if seen.insert(r).inserted { found.append(w); rows.append(r) }
            } else {
                missing.append(w)
            }
        }
        return (found, rows, missing)
    }
}

/// Unit rows of `m` (the given row indices) as a row-major Float64 array (small word sets).
func unitRowsFloat64(_ m: Matrix, rows: [Int]) -> [Double] {
    let d = m.cols
    var out = [Double](repeating: 0, count: rows.count * d)
    for (k, r) in rows.enumerated() {
        let src = m.pointer + r * d
        var s = 0.0
        for j in 0..<d { let v = Double(src[j]); out[k * d + j] = v; s += v * v }
        let inv = s > 0 ? 1 / s.squareRoot() : 0
        for j in 0..<d { out[k * d + j] *= inv }
    }
    return out
}

/// How the bias direction is identified (responsibly 0.1.2's `_identify_direction` methods).
public enum BiasDirectionMethod: String, Sendable, CaseIterable {
    /// Principal components of the centred definitional groups (Bolukbasi et al. 2016; K ≥ 1).
    case pca
    /// One pair: g = normalize(normalize(v_a) − normalize(v_b)) for the ends (a, b) (default she, he).
    case single
    /// g = normalize(normalize(Σ_i û_{i,1}) − normalize(Σ_i û_{i,2})): the first words of all
    /// definitional pairs against the second words (unit vectors).
    case sum
}

/// The bias direction (K = 1) or subspace (K > 1): principal components of the centred
/// definitional groups (Bolukbasi et al. 2016; Manzini et al. 2019 for K > 1), or responsibly's
/// `single` / `sum` directions (K = 1).
public struct BiasSubspace: Sendable {
    /// How the basis was found.
    public internal(set) var method: BiasDirectionMethod = .pca
    /// K orthonormal rows of length d (row-major).
    public internal(set) var basis: [Double]
    public internal(set) var components: Int
    public internal(set) var dimension: Int
    /// Explained-variance ratio of every principal component of the centred groups (descending).
    public internal(set) var explainedRatio: [Double]
    /// Groups used (all words present) and groups dropped because a word is missing.
    public internal(set) var groupsUsed: [[String]]
    public internal(set) var groupsDropped: [[String]]
    /// The two words fixing the sign: component k points from `ends.1` to `ends.0`.
    public internal(set) var ends: (String, String)
    /// cos(PC1, normalize(v_ends0 − v_ends1)).
    public internal(set) var endsCosine: Double

    public func component(_ k: Int) -> [Double] { Array(basis[(k * dimension)..<((k + 1) * dimension)]) }

    /// The subspace of `e` from `groups`: each group's unit vectors centred on their mean, stacked,
    /// centred again (as sklearn's PCA does; the mean is already 0), SVD (LAPACK dgesdd, Float64).
    /// Sign: every component has (v_ends0 − v_ends1)·g > 0 (responsibly's convention; debiaswe's sign
    /// is arbitrary).
    public init(_ e: Embeddings, lookup: VocabularyLookup, groups: [[String]], components k: Int, ends: (String, String)? = nil,
                method: BiasDirectionMethod = .pca) throws {
        let d = e.dimension
        guard method == .pca || k == 1 else {
            throw EmbdiagError.usage("\(Setting.direction) \(method.rawValue) gives one direction; \(Setting.components) \(k) needs \(Setting.direction) pca")
        }
        var used: [[String]] = [], dropped: [[String]] = [], rowsUsed: [[Int]] = []
        for g in groups {
            let r = g.map { lookup.row($0) }
            if r.contains(where: { $0 == nil }) { dropped.append(g) } else { used.append(g); rowsUsed.append(r.map { $0! }) }
        }
        let missingWords = Array(Set(dropped.flatMap { g in g.filter { lookup.row($0) == nil } })).sorted()
        let rank = rowsUsed.reduce(0) { $0 + $1.count - 1 }
        guard !used.isEmpty, rank >= k else {
            throw EmbdiagError(.missingWords, path: e.source.path,
                               "only \(used.count) of \(groups.count) definitional groups are complete (need rank ≥ \(k)); missing: \(BiasAnalysis.wordListSummary(missingWords))")
        }
        var stacked: [Double] = []
        for r in rowsUsed {
            let u = unitRowsFloat64(e.matrix, rows: r)
            var mean = [Double](repeating: 0, count: d)
            for i in 0..<r.count { for j in 0..<d { mean[j] += u[i * d + j] } }
            for j in 0..<d { mean[j] /= Double(r.count) }
            for i in 0..<r.count { for j in 0..<d { stacked.append(u[i * d + j] - mean[j]) } }
        }
        let m = stacked.count / d
        var colMean = [Double](repeating: 0, count: d)
        for i in 0..<m { for j in 0..<d { colMean[j] += stacked[i * d + j] } }
        for i in 0..<m { for j in 0..<d { stacked[i * d + j] -= colMean[j] / Double(m) } }
        let svd = try LAPACK.singularValueDecomposition(stacked, rows: m, cols: d)
        let total = svd.singularValues.reduce(0) { $0 + $1 * $1 }
        // The top k components must not split a cluster of (nearly) equal variances σ²: which of
        // its directions were kept would be LAPACK's arbitrary choice, and every bias score with it.
        let variances = svd.singularValues.map { $0 * $0 }
        if method == .pca, let cluster = EigenClusters.split(variances, keeping: k) {
            throw EmbdiagError.usage(EigenClusters.splitMessage("\(Setting.components) \(k) (the bias subspace)", values: variances, cluster: cluster, allowed: 1...min(rank, d)))
        }
        explainedRatio = svd.singularValues.map { total > 0 ? $0 * $0 / total : 0 }
        let endsPair = ends ?? (used.first(where: { $0.count >= 2 && $0[0].lowercased() == "she" && $0[1].lowercased() == "he" }).map { ($0[0], $0[1]) }
                                ?? (used[0][0], used[0][1]))
        guard let a = lookup.row(endsPair.0), let b = lookup.row(endsPair.1) else {
            throw EmbdiagError(.missingWords, path: e.source.path, "the words fixing the direction's sign are missing: \(endsPair.0), \(endsPair.1)")
        }
        let ua = unitRowsFloat64(e.matrix, rows: [a, b])
        var diff = (0..<d).map { ua[$0] - ua[d + $0] }
        let dn = diff.reduce(0) { $0 + $1 * $1 }.squareRoot()
        if dn > 0 { diff = diff.map { $0 / dn } }
        var basis = [Double](repeating: 0, count: k * d)
        for c in 0..<k {
            var v = Array(svd.vt[(c * d)..<((c + 1) * d)])
            let dot = zip(v, diff).reduce(0) { $0 + $1.0 * $1.1 }
            if dot < 0 { v = v.map { -$0 } }
            for j in 0..<d { basis[c * d + j] = v[j] }
        }
        switch method {
        case .pca:
            break
        case .single:
            basis = diff  // normalize(û_a − û_b), the ends' unit difference computed above
        case .sum:
            guard used.allSatisfy({ $0.count == 2 }) else {
                throw EmbdiagError.usage("\(Setting.direction) sum needs definitional pairs (two words per line); got groups of \(Set(used.map(\.count)).sorted().map(String.init).joined(separator: ", ")) words")
            }
            var first = [Double](repeating: 0, count: d), second = first
            for r in rowsUsed {
                let u = unitRowsFloat64(e.matrix, rows: r)
                for j in 0..<d { first[j] += u[j]; second[j] += u[d + j] }
            }
            func unit(_ v: [Double]) -> [Double] {
                let n = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
                return n > 0 ? v.map { $0 / n } : v
            }
            let a = unit(first), b = unit(second)
            basis = unit((0..<d).map { a[$0] - b[$0] })
        }
        self.method = method
        self.basis = basis
        self.components = k
        self.dimension = d
        self.groupsUsed = used
        self.groupsDropped = dropped
        self.ends = endsPair
        self.endsCosine = zip(Array(basis[0..<d]), diff).reduce(0) { $0 + $1.0 * $1.1 }
    }

    /// The basis as a K × d Float32 matrix (row k = unit component k): what `--write-direction`
    /// writes, so a user can project their own vectors (x·gᵀ on unit rows).
    public var basisMatrix: Matrix {
        Matrix(rows: components, cols: dimension, values: basis.map { Float($0) })
    }

    /// Projections (n × K, row-major) of the unit Float64 rows `u` (n × d) on the subspace (dgemm).
    public func project(_ u: [Double], rows n: Int) -> [Double] {
        BLAS.matmul(u, rows: n, inner: dimension, basis, cols: components, transposeB: true)
    }
}
