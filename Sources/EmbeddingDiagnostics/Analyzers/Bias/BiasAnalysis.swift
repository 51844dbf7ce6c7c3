import Foundation

/// Settings of `embdiag bias`.
public struct BiasConfiguration: Sendable {
    /// Definitional pairs (or sets) for the direction / subspace; nil = no direction (WEAT only).
    public var definitional: WordGroups?
    /// Two words fixing the sign of the components (default: she/he when a definitional group, else
    /// the first group's first two words).
    public var ends: [String]?
    /// K: principal components spanning the bias subspace (1 = Bolukbasi's direction).
    public var components: Int = 1
    /// How the direction is found: PCA (default), responsibly's `single` pair or `sum`.
    public var directionMethod: BiasDirectionMethod = .pca
    /// Neutral words for DirectBias (nil = none).
    public var neutral: WordList?
    /// c of DirectBias_c.
    public var strictness: Double = 1
    /// Words per side in the projection tables, pairs in the indirect-bias table.
    public var top: Int = 10
    /// Requested indirect-bias pairs (w, v).
    public var indirectPairs: [[String]] = []
    /// Pairs of neutral words searched for the largest β must have cos(w, v) ≥ this.
    public var indirectMinimumSimilarity: Double = 0.5
    public var weat: [WEATTest] = []
    public var weatOptions = WEATOptions()
    /// Skip (and report) WEAT tests with too few words instead of stopping (`--weat all`).
    public var weatSkipIncomplete = false
    public var caseInsensitive = false
    /// Hard debias (neutralize + equalize).
    public var debias = false
    public var equalize: WordGroups?
    public var specific: WordList?
    /// Expand equalize pairs and specific words to lower/UPPER/Title case forms (responsibly).
    public var expandCases = true
    /// Neighbours per neutral word for the geometry-change measure.
    public var neighbors: Int = 10
    /// Neighbours are searched among the first N rows (0 = all rows).
    public var neighborVocabulary: Int = 100_000
    /// Let the analyzer normalise and debias the input matrix in place (saves a copy of the
    /// matrix; the CLI sets it when the input was read into memory and is not needed afterwards).
    public var reuseInputMemory = false
    public init() {}
}

/// DirectBias_c over a list of neutral words.
public struct DirectBiasResult: Sendable {
    public internal(set) var words: [String]
    public internal(set) var rows: [Int]
    public internal(set) var missing: [String]
    /// Signed projection on the direction (K = 1) or the norm of the projection on the subspace.
    public internal(set) var projections: [Double]
    public internal(set) var value: Double
    public internal(set) var projectionsAfter: [Double]?
    public internal(set) var valueAfter: Double?
}

/// Indirect bias β(w, v) = (w·v − cos(w⊥, v⊥)) / (w·v), w⊥ = w − P_B w (Bolukbasi et al. 2016).
public struct IndirectBiasEntry: Sendable {
    public internal(set) var w: String
    public internal(set) var v: String
    /// "requested" (--indirect) or "found" (largest β among neutral-word pairs).
    public internal(set) var source: String
    public internal(set) var cosine: Double
    public internal(set) var beta: Double
    public internal(set) var cosineAfter: Double?
    public internal(set) var betaAfter: Double?
}

/// What hard debias did and how much the rest of the geometry moved.
public struct HardDebiasSummary: Sendable {
    public internal(set) var neutralizedRows: Int
    public internal(set) var specificRows: Int
    public internal(set) var equalizedGroups: [[String]]
    /// Max over equalized groups and neutral words of |cos(n, a) − cos(n, b)| after debias.
    public internal(set) var equalizeMaxGap: Double
    /// Mean |Δ cos| between each neutral word and its k nearest neighbours before debias.
    public internal(set) var neighborCosineChange: Double
    /// Mean signed Δ cos for the same pairs.
    public internal(set) var neighborCosineShift: Double
    /// Mean fraction of the k nearest neighbours kept after debias.
    public internal(set) var neighborOverlap: Double
    public internal(set) var neighborQueries: Int
    public internal(set) var neighborGallery: Int
    /// Mean |projection| over all neutralized rows, before and after.
    public internal(set) var vocabularyDirectBias: Double
    public internal(set) var vocabularyDirectBiasAfter: Double
    /// (word, neighbour, cos before, cos after) for the neutral words' neighbours (per-row table).
    public internal(set) var neighborChanges: [(String, String, Double, Double)]
}

/// The result of `embdiag bias`.
public struct BiasAnalysis: Sendable {
    public let configuration: BiasConfiguration
    public internal(set) var source: Source
    public internal(set) var rowCount: Int
    public internal(set) var subspace: BiasSubspace?
    public internal(set) var directBias: DirectBiasResult?
    public internal(set) var indirect: [IndirectBiasEntry] = []
    public internal(set) var indirectMissing: [[String]] = []
    public internal(set) var weat: [WEATResult] = []
    public internal(set) var weatAfter: [WEATResult] = []
    /// WEAT tests skipped for missing words (id, reason), with `weatSkipIncomplete`.
    public internal(set) var weatSkipped: [(String, String)] = []
    public internal(set) var debias: HardDebiasSummary?
    /// The debiased matrix (unit rows, labels kept), when debiasing.
    public internal(set) var debiased: Embeddings?

    /// A short list for error messages: the first 20 words and how many more.
    public static func wordListSummary(_ words: [String]) -> String {
        if words.isEmpty { return "none" }
        let head = words.prefix(20).joined(separator: ", ")
        return words.count > 20 ? head + ", … (\(words.count) in all)" : head
    }

    public init(_ e: Embeddings, configuration c: BiasConfiguration = BiasConfiguration()) throws {
        configuration = c
        source = e.source
        rowCount = e.count
        let needsLabels = c.definitional != nil || !c.weat.isEmpty || c.neutral != nil
        if needsLabels && e.labels == nil {
            throw EmbdiagError.usage("\(e.source.path): rows have no labels; bias needs words or texts (word2vec/GloVe files carry them, else \(Setting.labels) FILE)")
        }
        guard c.components >= 1 else { throw EmbdiagError.usage("\(Setting.components) must be at least 1") }
        let lookup = VocabularyLookup(e, caseInsensitive: c.caseInsensitive)
        if c.debias && c.definitional == nil { throw EmbdiagError.usage("\(Setting.debias) needs \(Setting.definitional) pairs") }
        if let groups = c.definitional {
            var ends: (String, String)?
            if let e2 = c.ends, e2.count == 2 { ends = (e2[0], e2[1]) }
            subspace = try BiasSubspace(e, lookup: lookup, groups: groups.groups, components: c.components, ends: ends, method: c.directionMethod)
        }
        if subspace == nil && !c.indirectPairs.isEmpty {
            throw EmbdiagError.usage("indirect bias needs a bias direction (\(Setting.definitional) pairs)")
        }
        let d = e.dimension

        // Direct bias over the neutral words.
        if let sub = subspace, let neutral = c.neutral {
            let f = lookup.rows(neutral.words)
            guard !f.rows.isEmpty else {
                throw EmbdiagError(.missingWords, path: e.source.path, "none of the \(neutral.words.count) neutral words is present; missing: \(Self.wordListSummary(f.missing))")
            }
            let p = Self.projections(e.matrix, rows: f.rows, subspace: sub)
            directBias = DirectBiasResult(words: f.words, rows: f.rows, missing: f.missing, projections: p,
                                          value: Self.directBias(p, c: c.strictness))
        }
        // Indirect bias: requested pairs, then the largest β among close neutral-word pairs.
        if let sub = subspace {
            for pair in c.indirectPairs {
                // A pair the user asked for must give its number: a missing word is an error
                // (exit 2), not a metric that silently does not appear.
                guard pair.count == 2 else { throw EmbdiagError.usage("indirect bias takes a pair w,v (got \(pair.joined(separator: ",")))") }
                guard let a = lookup.row(pair[0]), let b = lookup.row(pair[1]) else {
                    let absent = pair.filter { lookup.row($0) == nil }.map { "'\($0)'" }.joined(separator: " and ")
                    throw EmbdiagError(.missingWords, path: e.source.path, "indirect-bias pair \(pair.joined(separator: ",")): \(absent) not in the vocabulary")
                }
                let (cosine, beta) = Self.indirectBias(e.matrix, a, b, subspace: sub)
                indirect.append(IndirectBiasEntry(w: pair[0], v: pair[1], source: "requested", cosine: cosine, beta: beta))
            }
            if let db = directBias, c.top > 0 {
                indirect += Self.topIndirectPairs(e.matrix, words: db.words, rows: db.rows, subspace: sub,
                                                  minimumSimilarity: c.indirectMinimumSimilarity, top: c.top)
            }
        }
        var weatTests: [WEATTest] = []
        for t in c.weat {
            do {
                weat.append(try WEAT.run(t, on: e, lookup: lookup, options: c.weatOptions))
                weatTests.append(t)
            } catch let error as EmbdiagError where error.kind == .missingWords && c.weatSkipIncomplete {
                weatSkipped.append((t.id, error.message))
            }
        }

        guard c.debias, let sub = subspace else { return }
        guard e.count > 0, d > 0 else { throw EmbdiagError.invalid(e.source.path, "nothing to debias (empty matrix)") }

        // The matrix to debias: the input itself when allowed (the CLI), else one copy.
        let work = c.reuseInputMemory && !e.matrix.isMapped ? e.matrix : e.matrix.copy()
        // Neighbours of the neutral words before debias (unit copies of the queries and of the
        // searched rows; blocked GEMM, exact top-k).
        let queryRows = directBias?.rows ?? []
        let gallery = c.neighborVocabulary > 0 ? min(e.count, c.neighborVocabulary) : e.count
        let k = max(0, min(c.neighbors, gallery - 1))
        let before = k > 0 && !queryRows.isEmpty
            ? nearestNeighbors(queries: Matrix.normalizedRows(e.matrix.gather(rows: queryRows)), gallery: Matrix.normalizedRows(e.matrix.rows(0..<gallery)), k: k + 1) : nil

        // Rows left alone: the specific words plus every definitional/equalize word, with their
        // lower/UPPER/Title forms (responsibly's `specific_full_with_definitional_equalize`).
        let equalizeGroups = (c.equalize?.groups ?? []) + (c.definitional?.groups ?? [])
        var protected = Set<LabelKey>()
        for w in (c.specific?.words ?? []) + equalizeGroups.flatMap({ $0 }) {
            for form in c.expandCases ? Self.caseForms(w) : [w] { protected.insert(LabelKey(c.caseInsensitive ? form.lowercased() : form)) }
        }
        var isProtected = [Bool](repeating: false, count: e.count)
        if let labels = e.labels {
            for i in 0..<e.count { isProtected[i] = protected.contains(LabelKey(c.caseInsensitive ? labels[i].lowercased() : labels[i])) }
        }
        let specificRows = isProtected.filter { $0 }.count

        // Neutralize in one pass over memory (row blocks on both cores): normalise, P = W·Bᵀ,
        // P ← 0 on protected rows, W ← W − P·B (rank-K update), renormalise.
        let basis = Matrix(rows: sub.components, cols: d, values: sub.basis.map { Float($0) })
        let removal = Matrix.removeSubspaceInPlace(work, basis: basis, remove: isProtected.map { !$0 })
        let neutralized = removal.removedRows

        // Equalize each group (expanded to case forms) on the current unit vectors:
        // μ = mean, ν = μ − P_B μ, w' = ν + √(1 − ‖ν‖²) · normalize(P_B w − P_B μ).
        var equalized: [[String]] = []
        var seen = Set<[Int]>()
        for g in equalizeGroups {
            for form in (c.expandCases ? [0, 1, 2] : [0]) {
                let words = c.expandCases ? g.map { Self.caseForms($0)[form] } : g
                let rows = words.compactMap { lookup.row($0) }
                guard rows.count == words.count, Set(rows).count == rows.count, seen.insert(rows).inserted else { continue }
                Self.equalize(work, rows: rows, subspace: sub)
                equalized.append(words)
            }
        }

        let after = Embeddings(matrix: work, labels: e.labels, source: e.source)
        // Metrics after, with the fit-time direction.
        if var db = directBias {
            let p = Self.projections(work, rows: db.rows, subspace: sub)
            db.projectionsAfter = p
            db.valueAfter = Self.directBias(p, c: c.strictness)
            directBias = db
        }
        for i in indirect.indices {
            if let a = lookup.row(indirect[i].w), let b = lookup.row(indirect[i].v) {
                let (cosine, beta) = Self.indirectBias(work, a, b, subspace: sub)
                indirect[i].cosineAfter = cosine
                indirect[i].betaAfter = beta
            }
        }
        for t in weatTests { weatAfter.append(try WEAT.run(t, on: after, lookup: lookup, options: c.weatOptions)) }

        // Equalized groups must be equidistant from every neutral word.
        var gap = 0.0
        if let db = directBias {
            let n = unitRowsFloat64(work, rows: db.rows)
            for g in equalized {
                let rows = g.compactMap { lookup.row($0) }
                let sims = BLAS.matmul(n, rows: db.rows.count, inner: d, unitRowsFloat64(work, rows: rows), cols: rows.count, transposeB: true)
                for i in 0..<db.rows.count {
                    let row = sims[(i * rows.count)..<((i + 1) * rows.count)]
                    gap = max(gap, row.max()! - row.min()!)
                }
            }
        }
        // Neighbour geometry: the same neighbour pairs before/after, and the new top-k.
        var changes: [(String, String, Double, Double)] = []
        var absChange = 0.0, signedChange = 0.0, overlap = 0.0
        if let before {
            let afterNN = nearestNeighbors(queries: work.gather(rows: queryRows), gallery: work.rows(0..<gallery), k: k + 1)
            for (q, r) in queryRows.enumerated() {
                let nb = before.neighbors(of: q).map(Int.init).filter { $0 != r && $0 >= 0 }.prefix(k)
                let sc = zip(before.neighbors(of: q), before.scores(of: q)).filter { Int($0.0) != r }.prefix(k).map { Double($0.1) }
                let nbAfter = Set(afterNN.neighbors(of: q).map(Int.init).filter { $0 != r && $0 >= 0 }.prefix(k))
                let u = unitRowsFloat64(work, rows: [r] + Array(nb))
                for (t, j) in nb.enumerated() {
                    var dot = 0.0
                    for x in 0..<d { dot += u[x] * u[(t + 1) * d + x] }
                    changes.append((e.label(r), e.label(j), sc[t], dot))
                    absChange += abs(dot - sc[t])
                    signedChange += dot - sc[t]
                }
                overlap += Double(nb.filter { nbAfter.contains($0) }.count) / Double(max(1, nb.count))
            }
        }
        let pairs = Double(max(1, changes.count))
        debias = HardDebiasSummary(
            neutralizedRows: neutralized, specificRows: specificRows, equalizedGroups: equalized, equalizeMaxGap: gap,
            neighborCosineChange: before == nil ? .nan : absChange / pairs, neighborCosineShift: before == nil ? .nan : signedChange / pairs,
            neighborOverlap: before == nil ? .nan : overlap / Double(max(1, queryRows.count)),
            neighborQueries: before == nil ? 0 : queryRows.count, neighborGallery: gallery,
            vocabularyDirectBias: neutralized > 0 ? removal.projectionNormSumBefore / Double(neutralized) : .nan,
            vocabularyDirectBiasAfter: neutralized > 0 ? removal.projectionNormSumAfter / Double(neutralized) : .nan,
            neighborChanges: changes)
        debiased = after
    }

    // MARK: - Pieces (static so that the tests can check them one by one)

    /// Lower, UPPER and Title forms of a word (Python's str.lower/upper/title).
    public static func caseForms(_ w: String) -> [String] {
        var title = ""
        var previousIsLetter = false
        for ch in w {
            let s = String(ch)
            title += previousIsLetter ? s.lowercased() : s.uppercased()
            previousIsLetter = ch.isLetter
        }
        return [w.lowercased(), w.uppercased(), title]
    }

    /// Projections of the given rows (unit-normalised) on the subspace: the signed projection when
    /// K = 1, the norm of the projection when K > 1.
    public static func projections(_ m: Matrix, rows: [Int], subspace sub: BiasSubspace) -> [Double] {
        let p = sub.project(unitRowsFloat64(m, rows: rows), rows: rows.count)
        if sub.components == 1 { return p }
        return (0..<rows.count).map { i in p[(i * sub.components)..<((i + 1) * sub.components)].reduce(0) { $0 + $1 * $1 }.squareRoot() }
    }

    /// DirectBias_c = mean |projection|^c.
    public static func directBias(_ p: [Double], c: Double) -> Double {
        p.isEmpty ? .nan : p.reduce(0) { $0 + Foundation.pow(abs($1), c) } / Double(p.count)
    }

    /// (cos(w, v), β(w, v)) for two rows.
    public static func indirectBias(_ m: Matrix, _ a: Int, _ b: Int, subspace sub: BiasSubspace) -> (Double, Double) {
        let d = m.cols
        let u = unitRowsFloat64(m, rows: [a, b])
        let p = sub.project(u, rows: 2)
        let k = sub.components
        var wv = 0.0
        for j in 0..<d { wv += u[j] * u[d + j] }
        var pw = 0.0, pa = 0.0, pb = 0.0
        for j in 0..<k { pw += p[j] * p[k + j]; pa += p[j] * p[j]; pb += p[k + j] * p[k + j] }
        let perp = (wv - pw) / ((1 - pa).squareRoot() * (1 - pb).squareRoot())
        return (wv, (wv - perp) / wv)
    }

    /// The `top` pairs of neutral words with cos ≥ `minimumSimilarity` and the largest β
    /// (one Float64 Gram matrix of the neutral words; at most the first 4,000 words).
    ///
    /// Whether a pair reaches `minimumSimilarity`, and the cosine listed, is `exactCosine` of the
    /// rows as given (the project's tie rule): the Gram matrix of Float64 unit rows screens, and a
    /// pair within its error bound of the cut-off is decided by the exact cosine, so ±1 vectors
    /// at a cosine of exactly 0.5 are at the default cut-off, not 1.1e-16 below it.
    static func topIndirectPairs(_ m: Matrix, words: [String], rows: [Int], subspace sub: BiasSubspace,
                                 minimumSimilarity: Double, top: Int) -> [IndirectBiasEntry] {
        let n = min(rows.count, 4000), d = m.cols, k = sub.components
        guard n >= 2 else { return [] }
        let u = unitRowsFloat64(m, rows: Array(rows.prefix(n)))
        let gram = BLAS.matmul(u, rows: n, inner: d, u, cols: n, transposeB: true)
        // |Gram − exact cosine|: each Float64 unit entry is within (d/2 + 3)·2⁻⁵³ relative of
        // x_t/‖x‖, and any summation order of the d-term product adds d·2⁻⁵³; doubled for slack.
        let cosines = CosineRows(m.gather(rows: Array(rows.prefix(n))))
        let screen = (4 * Double(d) + 16) * 0x1p-53
        func cosine(_ i: Int, _ j: Int) -> Double { cosines.cosine(i, cosines, j) }
        let p = sub.project(u, rows: n)
        let pp = BLAS.matmul(p, rows: n, inner: k, p, cols: n, transposeB: true)
        var rest = [Double](repeating: 0, count: n)
        for i in 0..<n { var s = 0.0; for j in 0..<k { s += p[i * k + j] * p[i * k + j] }; rest[i] = (1 - s).squareRoot() }
        var best: [(Int, Int, Double)] = []
        for i in 0..<n {
            for j in (i + 1)..<n {
                let wv = gram[i * n + j]
                guard wv >= minimumSimilarity - screen else { continue }
                if wv < minimumSimilarity + screen && cosine(i, j) < minimumSimilarity { continue }
                let beta = (wv - (wv - pp[i * n + j]) / (rest[i] * rest[j])) / wv
                if best.count < top || beta > best[best.count - 1].2 {
                    let pos = best.firstIndex { $0.2 < beta } ?? best.count
                    best.insert((i, j, beta), at: pos)
                    if best.count > top { best.removeLast() }
                }
            }
        }
        return best.map { IndirectBiasEntry(w: words[$0.0], v: words[$0.1], source: "found", cosine: cosine($0.0, $0.1), beta: $0.2) }
    }

    /// Equalizes the rows of one group in place (unit rows in, unit rows out).
    static func equalize(_ m: Matrix, rows: [Int], subspace sub: BiasSubspace) {
        let d = m.cols, k = sub.components, r = rows.count
        let u = unitRowsFloat64(m, rows: rows)
        var mu = [Double](repeating: 0, count: d)
        for i in 0..<r { for j in 0..<d { mu[j] += u[i * d + j] / Double(r) } }
        let p = sub.project(u, rows: r)            // r × k
        let pmu = sub.project(mu, rows: 1)         // 1 × k
        // P_B x = Σ_c (x·b_c) b_c.
        func inSubspace(_ coefficients: ArraySlice<Double>) -> [Double] {
            var v = [Double](repeating: 0, count: d)
            for (c, a) in coefficients.enumerated() { for j in 0..<d { v[j] += a * sub.basis[c * d + j] } }
            return v
        }
        let muB = inSubspace(pmu[0..<k])
        let nu = (0..<d).map { mu[$0] - muB[$0] }
        let scale = max(0, 1 - nu.reduce(0) { $0 + $1 * $1 }).squareRoot()
        let out = m.mutablePointer
        for (i, row) in rows.enumerated() {
            let wB = inSubspace(p[(i * k)..<((i + 1) * k)])
            var diff = (0..<d).map { wB[$0] - muB[$0] }
            let norm = diff.reduce(0) { $0 + $1 * $1 }.squareRoot()
            guard norm > 0 else { continue }
            diff = diff.map { $0 / norm }
            var v = (0..<d).map { nu[$0] + scale * diff[$0] }
            let vn = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            v = v.map { $0 / vn }
            for j in 0..<d { out[row * d + j] = Float(v[j]) }
        }
    }
}
