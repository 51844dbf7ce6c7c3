import Foundation

/// The WEAT statistics of one set of sentence (or word) vectors: X, Y targets, A, B attributes.
public struct SEATScore: Sendable {
    public let counts: [Int]
    /// S = Σ_X s(x, A, B) − Σ_Y s(y, A, B).
    public let statistic: Double
    /// d with the population standard deviation (ddof = 0: WEFE, responsibly, embdiag's WEAT).
    public let effectSize: Double
    /// d with the sample standard deviation (ddof = 1: sent-bias, May et al. 2019).
    public let effectSizeSample: Double
    /// One-sided permutation test of S (exact or seeded Monte Carlo).
    public let permutationTest: PartitionTestResult
    public var pValue: Double { permutationTest.pValue }

    /// The conclusion at level α: the sign of d and whether p < α.
    public func conclusion(alpha: Double) -> SEATConclusion {
        SEATConclusion(sign: effectSize > 0 ? 1 : (effectSize < 0 ? -1 : 0), significant: pValue < alpha)
    }
}

/// What a reader concludes from a score: the direction of the association and its significance.
public struct SEATConclusion: Sendable, Equatable {
    public let sign: Int
    public let significant: Bool
    public var text: String {
        let direction = sign > 0 ? "X–A, Y–B" : (sign < 0 ? "X–B, Y–A" : "no direction")
        return "\(direction), \(significant ? "significant" : "not significant")"
    }
}

/// A score under one template, or with one template left out.
public struct SEATTemplateScore: Sendable {
    public let template: String
    public let score: SEATScore
    /// The conclusion equals the pooled one.
    public let sameConclusion: Bool
}

/// SEAT of one test on every template together, template by template, and leaving one out.
public struct SEATTestResult: Sendable {
    public let test: String
    /// Template ids (bare words excluded), in first-appearance order.
    public let templates: [String]
    /// All template sentences of a role together (May et al.'s SEAT).
    public let pooled: SEATScore
    public let perTemplate: [SEATTemplateScore]
    public let leaveOneOut: [SEATTemplateScore]
    /// Templates that lack one of X, Y, A, B (left out of the per-template analysis).
    public let incompleteTemplates: [String]
    /// The word-level WEAT on the bare-word rows (template `word`), when the table has them.
    public let word: SEATScore?
    /// The pooled score on the other side of centring (centred vectors when the analysis is on raw
    /// vectors, raw vectors under `center`).
    public let otherCentering: SEATScore
    /// The pooled score on the comparison matrix (another pooling), when given.
    public let compared: SEATScore?
    /// The pooled score after removing the given directions from every vector, when given.
    public let afterRemoval: SEATScore?
    public let alpha: Double

    public var conclusion: SEATConclusion { pooled.conclusion(alpha: alpha) }
    /// nil when fewer than two complete templates, or when an effect size is undefined (constant
    /// vectors, a collapsed encoder): robustness cannot be judged then.
    public var robust: Bool? {
        guard perTemplate.count >= 2, pooled.effectSize.isFinite,
              perTemplate.allSatisfy({ $0.score.effectSize.isFinite }) else { return nil }
        return perTemplate.allSatisfy(\.sameConclusion) && leaveOneOut.allSatisfy(\.sameConclusion)
    }
    public var centeringChangesConclusion: Bool { otherCentering.conclusion(alpha: alpha) != conclusion }
    public var poolingChangesConclusion: Bool? { compared.map { $0.conclusion(alpha: alpha) != conclusion } }
    /// Smallest and largest per-template effect size, and their population standard deviation.
    public var templateEffectRange: (min: Double, max: Double, sd: Double)? {
        let d = perTemplate.map(\.score.effectSize).filter(\.isFinite)
        guard !d.isEmpty else { return nil }
        return (d.min()!, d.max()!, Statistics.meanAndStandardDeviation(d, ddof: 0).std)
    }
    /// The verdict in words.
    public var verdict: String {
        guard let r = robust else {
            return perTemplate.count >= 2 ? "not judged (an effect size is undefined: the vectors do not vary)" : "not judged (fewer than two complete templates)"
        }
        return r ? "robust" : "depends on the template"
    }
}

/// Settings of a SEAT audit.
public struct SEATConfiguration: Sendable {
    /// Significance level of the conclusions compared across templates.
    public var alpha: Double = 0.05
    /// Permutations, exact limit and seed of the p-values (as WEAT).
    public var permutation = WEATOptions()
    /// Analyse mean-centred vectors (the mean of every template sentence) instead of the raw ones;
    /// the other variant is always computed and compared.
    public var center = false
    /// Directions (K × d rows) to remove from every vector for the "after" scores.
    public var removeDirections: Matrix?
    /// The same sentences embedded another way (another pooling), row for row.
    public var compare: Embeddings?
    public init() {}
}

/// The SEAT audit (May et al. 2019) of a sentence table and the user's vectors of its sentences.
public struct SEATAnalysis: Sendable {
    public let configuration: SEATConfiguration
    public let source: Source
    public let tablePath: String
    public let rowCount: Int
    public let tests: [SEATTestResult]
    /// Mean pairwise cosine of the template sentence vectors, raw and after centring.
    public let anisotropy: Double
    public let anisotropyCentered: Double
    public let templateCount: Int

    /// nil when no test could be judged; else every judged test is robust.
    public var templateRobust: Bool? {
        let judged = tests.compactMap(\.robust)
        return judged.isEmpty ? nil : judged.allSatisfy { $0 }
    }
    public var maxAbsEffect: Double { tests.map { abs($0.pooled.effectSize) }.filter(\.isFinite).max() ?? .nan }

    /// Checks the table against the vectors (same row count, finite non-zero rows, matching
    /// dimensions of the comparison matrix and the directions) and runs every test.
    /// - Complexity: O(n·d) to prepare the vectors, one GEMM (targets × attributes) per test and
    ///   variant, and the permutation tests (exact enumeration or `permutations` draws each).
    public init(sentences: [SEATSentence], vectors e: Embeddings, tablePath: String, configuration c: SEATConfiguration = SEATConfiguration()) throws {
        configuration = c
        source = e.source
        self.tablePath = tablePath
        rowCount = e.count
        guard c.alpha > 0, c.alpha < 1 else { throw EmbdiagError.usage("alpha must be in (0, 1) (got \(c.alpha))") }
        guard c.permutation.permutations >= 1 else { throw EmbdiagError.usage("\(Setting.permutations) must be at least 1") }
        guard e.count == sentences.count else {
            throw EmbdiagError.mismatch(e.source.path, "\(e.count) vectors but \(sentences.count) sentences in \(tablePath): embed the sentence column of the table, one row per sentence, in order")
        }
        try Self.requireUsableRows(e, sentences: sentences)
        if let other = c.compare {
            guard other.count == sentences.count else {
                throw EmbdiagError.mismatch(other.source.path, "\(other.count) vectors but \(sentences.count) sentences in \(tablePath) (the comparison matrix embeds the same sentences)")
            }
            try Self.requireUsableRows(other, sentences: sentences)
        }
        var basis: [Double]?
        if let r = c.removeDirections {
            guard r.cols == e.dimension, r.rows >= 1 else {
                throw EmbdiagError.mismatch(nil, "the directions to remove are \(r.rows) × \(r.cols); the vectors have dimension \(e.dimension)")
            }
            basis = try Self.orthonormalRows(r)
        }

        let templateRows = sentences.indices.filter { !LabelKey.same(sentences[$0].template, SEATSentences.bareWordTemplate) }
        let d = e.dimension
        let mean = Self.mean(e.matrix, rows: templateRows)
        let rawUnit = Self.unitRows(e.matrix, rows: templateRows, mean: nil, basis: nil)
        let centredUnit = Self.unitRows(e.matrix, rows: templateRows, mean: mean, basis: nil)
        anisotropy = Self.meanCosine(rawUnit, rows: templateRows.count, d: d)
        anisotropyCentered = Self.meanCosine(centredUnit, rows: templateRows.count, d: d)
        var templateIds = Set<LabelKey>()
        for r in templateRows { templateIds.insert(LabelKey(sentences[r].template)) }
        templateCount = templateIds.count

        var results: [SEATTestResult] = []
        for test in SEATSentences.orderedTests(sentences) {
            let rows = sentences.indices.filter { LabelKey.same(sentences[$0].test, test) }
            let templated = rows.filter { !LabelKey.same(sentences[$0].template, SEATSentences.bareWordTemplate) }
            let bare = rows.filter { LabelKey.same(sentences[$0].template, SEATSentences.bareWordTemplate) }
            func role(_ r: SEATRole, _ among: [Int]) -> [Int] { among.filter { sentences[$0].role == r } }
            let x = role(.x, templated), y = role(.y, templated), a = role(.a, templated), b = role(.b, templated)
            let targets = x + y, attributes = a + b

            // Cosines of every target sentence with every attribute sentence, once per variant.
            func cosines(_ m: Matrix, mean: [Double]?, basis: [Double]?) -> [Double] {
                let t = Self.unitRows(m, rows: targets, mean: mean, basis: basis)
                let u = Self.unitRows(m, rows: attributes, mean: mean, basis: basis)
                return BLAS.matmul(t, rows: targets.count, inner: d, u, cols: attributes.count, transposeB: true)
            }
            let primaryMean = c.center ? mean : nil
            let cos = cosines(e.matrix, mean: primaryMean, basis: nil)
            // Positions inside the cosine matrix: targets are rows, attributes columns.
            let nx = x.count, na = a.count
            let xPos = Array(0..<nx), yPos = Array(nx..<targets.count)
            let aPos = Array(0..<na), bPos = Array(na..<attributes.count)
            func score(_ cos: [Double], _ keep: (Int) -> Bool) -> SEATScore {
                Self.score(cos: cos, cols: attributes.count,
                           x: xPos.filter { keep(targets[$0]) }, y: yPos.filter { keep(targets[$0]) },
                           a: aPos.filter { keep(attributes[$0]) }, b: bPos.filter { keep(attributes[$0]) }, options: c.permutation)
            }
            let pooled = score(cos) { _ in true }
            let conclusion = pooled.conclusion(alpha: c.alpha)
            var ids: [String] = []
            for r in templated where !ids.contains(sentences[r].template) { ids.append(sentences[r].template) }
            var perTemplate: [SEATTemplateScore] = [], leaveOneOut: [SEATTemplateScore] = [], incomplete: [String] = []
            for t in ids {
                let roles = Set(templated.filter { LabelKey.same(sentences[$0].template, t) }.map { sentences[$0].role })
                guard roles.count == 4 else { incomplete.append(t); continue }
                let s = score(cos) { LabelKey.same(sentences[$0].template, t) }
                perTemplate.append(SEATTemplateScore(template: t, score: s, sameConclusion: s.conclusion(alpha: c.alpha) == conclusion))
            }
            if ids.count >= 2 {
                for t in ids {
                    let s = score(cos) { !LabelKey.same(sentences[$0].template, t) }
                    leaveOneOut.append(SEATTemplateScore(template: t, score: s, sameConclusion: s.conclusion(alpha: c.alpha) == conclusion))
                }
            }
            let other = score(cosines(e.matrix, mean: c.center ? nil : mean, basis: nil)) { _ in true }
            let compared = c.compare.map { o -> SEATScore in
                score(cosines(o.matrix, mean: c.center ? Self.mean(o.matrix, rows: templateRows) : nil, basis: nil)) { _ in true }
            }
            let removed = basis.map { score(cosines(e.matrix, mean: primaryMean, basis: $0)) { _ in true } }
            var word: SEATScore?
            if !bare.isEmpty {
                let wx = role(.x, bare), wy = role(.y, bare), wa = role(.a, bare), wb = role(.b, bare)
                let t = Self.unitRows(e.matrix, rows: wx + wy, mean: nil, basis: nil)
                let u = Self.unitRows(e.matrix, rows: wa + wb, mean: nil, basis: nil)
                let wc = BLAS.matmul(t, rows: wx.count + wy.count, inner: d, u, cols: wa.count + wb.count, transposeB: true)
                word = Self.score(cos: wc, cols: wa.count + wb.count, x: Array(0..<wx.count), y: Array(wx.count..<(wx.count + wy.count)),
                                  a: Array(0..<wa.count), b: Array(wa.count..<(wa.count + wb.count)), options: c.permutation)
            }
            results.append(SEATTestResult(test: test, templates: ids, pooled: pooled, perTemplate: perTemplate, leaveOneOut: leaveOneOut,
                                          incompleteTemplates: incomplete, word: word, otherCentering: other, compared: compared,
                                          afterRemoval: removed, alpha: c.alpha))
        }
        tests = results
    }

    // MARK: - Pieces

    /// WEAT statistics from a cosine matrix (targets × attributes, row-major, `cols` columns):
    /// s(w) = mean_{a∈A} cos(w, a) − mean_{b∈B} cos(w, b) for w in X then Y.
    /// - Complexity: O((|X| + |Y|)(|A| + |B|)) plus the permutation test.
    public static func score(cos: [Double], cols: Int, x: [Int], y: [Int], a: [Int], b: [Int], options: WEATOptions) -> SEATScore {
        let s = (x + y).map { w -> Double in
            var sa = 0.0, sb = 0.0
            for j in a { sa += cos[w * cols + j] }
            for j in b { sb += cos[w * cols + j] }
            return sa / Double(a.count) - sb / Double(b.count)
        }
        let sx = s[0..<x.count].reduce(0, +), sy = s[x.count...].reduce(0, +)
        let p = Statistics.partitionSumTest(s, firstCount: x.count, exactLimit: options.exactLimit, permutations: options.permutations, seed: options.seed)
        return SEATScore(counts: [x.count, y.count, a.count, b.count], statistic: sx - sy,
                         effectSize: WEAT.effectSize(s, firstCount: x.count, ddof: 0),
                         effectSizeSample: WEAT.effectSize(s, firstCount: x.count, ddof: 1), permutationTest: p)
    }

    /// Unit Float64 rows after subtracting `mean` and removing the span of the orthonormal `basis`.
    /// - Complexity: O(rows · d · (1 + K)).
    static func unitRows(_ m: Matrix, rows: [Int], mean: [Double]?, basis: [Double]?) -> [Double] {
        let d = m.cols
        var out = [Double](repeating: 0, count: rows.count * d)
        let k = (basis?.count ?? 0) / max(d, 1)
        for (i, r) in rows.enumerated() {
            let src = m.pointer + r * d
            for j in 0..<d { out[i * d + j] = Double(src[j]) - (mean?[j] ?? 0) }
            if let basis {
                for c in 0..<k {
                    var dot = 0.0
                    for j in 0..<d { dot += out[i * d + j] * basis[c * d + j] }
                    for j in 0..<d { out[i * d + j] -= dot * basis[c * d + j] }
                }
            }
            var ss = 0.0
            for j in 0..<d { ss += out[i * d + j] * out[i * d + j] }
            let inv = ss > 0 ? 1 / ss.squareRoot() : 0
            for j in 0..<d { out[i * d + j] *= inv }
        }
        return out
    }

    /// Column means of the given rows, in Float64 (rows in order: a fixed summation order).
    static func mean(_ m: Matrix, rows: [Int]) -> [Double] {
        let d = m.cols
        var mu = [Double](repeating: 0, count: d)
        for r in rows { let src = m.pointer + r * d; for j in 0..<d { mu[j] += Double(src[j]) } }
        return mu.map { $0 / Double(max(rows.count, 1)) }
    }

    /// Mean cosine over distinct pairs of unit rows: (‖Σ u‖² − Σ‖u‖²) / (n(n − 1)), O(n·d).
    static func meanCosine(_ unit: [Double], rows n: Int, d: Int) -> Double {
        guard n >= 2 else { return .nan }
        var sum = [Double](repeating: 0, count: d)
        var norms = 0.0
        for i in 0..<n { for j in 0..<d { let v = unit[i * d + j]; sum[j] += v; norms += v * v } }
        let total = sum.reduce(0) { $0 + $1 * $1 }
        return (total - norms) / Double(n * (n - 1))
    }

    /// Gram–Schmidt on the rows (Float64); a row in the span of the earlier ones is an error.
    static func orthonormalRows(_ r: Matrix) throws -> [Double] {
        let d = r.cols
        var out: [Double] = []
        for i in 0..<r.rows {
            var v = r.rowArray(i).map(Double.init)
            for c in 0..<(out.count / d) {
                var dot = 0.0
                for j in 0..<d { dot += v[j] * out[c * d + j] }
                for j in 0..<d { v[j] -= dot * out[c * d + j] }
            }
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            let original = r.rowArray(i).reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            guard norm.isFinite, norm > 1e-6 * max(original, 1e-300) else {
                throw EmbdiagError.invalid(nil, "direction \(i + 1) of the directions to remove is zero, not finite, or in the span of the earlier ones")
            }
            out += v.map { $0 / norm }
        }
        return out
    }

    /// Every vector must be finite and non-zero: a NaN row would silently drop out of a cosine.
    static func requireUsableRows(_ e: Embeddings, sentences: [SEATSentence]) throws {
        let d = e.dimension
        guard d > 0 else { throw EmbdiagError.invalid(e.source.path, "the vectors have no dimensions") }
        for i in 0..<e.count {
            let row = e.matrix.row(i)
            var ss = 0.0, finite = true
            for j in 0..<d { let v = Double(row[j]); if !v.isFinite { finite = false; break }; ss += v * v }
            if !finite || ss == 0 {
                let s = sentences[i]
                throw EmbdiagError.invalid(e.source.path, "row \(i + 1) (test \(s.test), \(s.role.rawValue), '\(s.word)', template \(s.template)) is \(finite ? "all zeros" : "not finite (NaN/Inf)")")
            }
        }
    }
}
