import Foundation

/// Every field of a state checked against what its analyzer writes (`PartialState.validate` runs
/// it after the shard list): a state whose checksum was recomputed by hand is held to the same
/// rules as one the analyzer wrote (Guides/Scale.md, "State files"). Per analyzer and pass: the
/// settings (strictly, `PartialSettings`), the seed and basis, every array by name with its type
/// and length (an array the analyzer never writes is refused), every number finite and inside
/// its range (counts ≥ 0, M2 ≥ 0, min ≤ mean ≤ max, cosines in [−1, 1]), every list of row ids
/// strictly increasing (so no id twice) and inside the rows the state covers, flags 0 or 1,
/// embedded sources well formed. Merged pass-1 states must carry the basis their own payload
/// gives (the digest pass 2 records). The merges keep their own checks across states.
enum StatePayloadCheck {
    /// - Complexity: O(payload) (plus O(ids · log) for the id lists).
    static func validate(_ s: PartialState, path: String?) throws {
        var r = PayloadReader(state: s, path: path)
        switch s.analyzer {
        case InfoPartialAnalysis.analyzer: try info(&r)
        case NeighborsPartialAnalysis.analyzer: try neighbors(&r)
        case AnisotropyPartialAnalysis.analyzer: try anisotropy(&r)
        case DepthPartialAnalysis.analyzer: try depth(&r)
        case CompatPartialAnalysis.analyzer: try compat(&r)
        case ShiftReferenceState.analyzer:
            // A saved shift reference: `ShiftReferenceState.reference` checks its parameters and arrays.
            return
        default:
            throw EmbdiagError.malformed(path, "partial state of analyzer '\(s.analyzer)': this embdiag writes info, neighbors, anisotropy, depth, compat and shift-reference states")
        }
        try r.finish()
    }

    // MARK: - info

    static func info(_ r: inout PayloadReader) throws {
        try r.onePass()
        try r.noSeed()
        try r.noBasis()
        try StateParameterReader(r.state.parameters, path: r.path).finish()
        let null = try r.rowIds("null_rows"), nan = try r.rowIds("nan_rows"), inf = try r.rowIds("inf_rows"), zero = try r.rowIds("zero_rows")
        if let both = Set(null).intersection(nan).min() {
            throw r.bad("null_rows", "and 'nan_rows' both list row \(both) (a null row is listed as null only)")
        }
        let nonFinite = Set(null).union(nan).union(inf)
        if let both = nonFinite.intersection(zero).min() {
            throw r.bad("zero_rows", "lists row \(both), which is also listed as null, NaN or infinite")
        }
        let m = try r.doubles("norm_moments", count: 6)
        let (count, lo, hi, mean, m2, unit) = (m[0], m[1], m[2], m[3], m[4], m[5])
        let finiteRows = r.rows - nonFinite.count
        guard count == Double(finiteRows) else {
            throw r.bad("norm_moments", "counts \(count) norms, but \(finiteRows) of its \(r.rows) rows are finite (the rows not listed as null, NaN or infinite)")
        }
        guard unit.isFinite, unit >= 0, unit <= count, unit == unit.rounded() else {
            throw r.bad("norm_moments", "counts \(unit) unit-norm rows (expected a whole number in 0…\(finiteRows))")
        }
        if count == 0 {
            // No norm at all: the analyzer writes NaN for min and max, 0 for mean and M2.
            guard lo.isNaN, hi.isNaN, mean == 0, m2 == 0 else {
                throw r.bad("norm_moments", "has min \(lo), max \(hi), mean \(mean) and M2 \(m2) without any norm (expected NaN, NaN, 0, 0)")
            }
            return try labels(&r)
        }
        guard lo.isFinite, hi.isFinite, mean.isFinite, m2.isFinite else {
            throw r.bad("norm_moments", "holds a NaN or infinite value (min \(lo), max \(hi), mean \(mean), M2 \(m2))")
        }
        guard lo >= 0, lo <= hi else { throw r.bad("norm_moments", "has min \(lo) and max \(hi) (norms satisfy 0 ≤ min ≤ max)") }
        // The mean is a Float64 sum over `count` norms divided by `count`: rounding may carry it
        // past min or max by a few units in the last place times the count, never more.
        let slack = hi * max(1e-12, 4 * count * Double.ulpOfOne)
        guard mean >= lo - slack, mean <= hi + slack else {
            throw r.bad("norm_moments", "has mean \(mean) outside its min \(lo) and max \(hi)")
        }
        // M2 = Σ (norm − mean)² lies in [0, count · (max − min)² / 4].
        let spread = (hi - lo) * (hi - lo) / 4 + (hi * 1e-9) * (hi * 1e-9)
        guard m2 >= 0, m2 <= count * spread * (1 + 1e-9) else {
            throw r.bad("norm_moments", "has M2 \(m2) (the sum of squared deviations of \(count) norms between \(lo) and \(hi) lies in 0…\(count * (hi - lo) * (hi - lo) / 4))")
        }
        // Bhatia–Davis: M2 ≤ count · (mean − min)(max − mean), sharper than the range bound
        // above. The stored mean may be off by `slack` (δ), which moves the bound by
        // count·(δ·(max − min) + δ²); M2 itself is a Float64 sum (relative 1e-9 covers it).
        let (below, above) = (max(0, mean - lo), max(0, hi - mean))
        guard m2 <= count * (below * above + slack * (hi - lo) + slack * slack + (hi * 1e-9) * (hi * 1e-9)) * (1 + 1e-9) else {
            throw r.bad("norm_moments", "has M2 \(m2), but \(count) norms in [\(lo), \(hi)] with mean \(mean) have M2 ≤ \(count * below * above) (Bhatia–Davis)")
        }
        // Norms are Float64 norms of Float32 rows: at most √d times the largest Float32.
        let largest = Double(r.state.dimension).squareRoot() * Double(Float.greatestFiniteMagnitude) * (1 + 1e-6)
        guard hi <= largest else { throw r.bad("norm_moments", "has max \(hi); a norm of \(r.state.dimension) Float32 values is at most \(largest)") }
        // A norm is 0 exactly for an all-zero row (Float32 squares never underflow in Float64).
        if !zero.isEmpty && lo != 0 { throw r.bad("norm_moments", "has min \(lo) although 'zero_rows' lists \(zero.count) all-zero row(s)") }
        if zero.isEmpty && lo == 0 { throw r.bad("zero_rows", "is empty although 'norm_moments' has min 0 (a zero norm is an all-zero row)") }
        if Double(zero.count) == count && hi != 0 { throw r.bad("norm_moments", "has max \(hi) although every finite row is listed in 'zero_rows'") }
        // Unit-norm rows are those with |norm − 1| < 10⁻³ (`InfoPartial.state`), zero rows never.
        guard unit <= count - Double(zero.count) else {
            throw r.bad("norm_moments", "counts \(unit) unit-norm rows, but only \(count - Double(zero.count)) finite rows are not all-zero")
        }
        if unit > 0 && (lo >= 1 + 1e-3 || hi <= 1 - 1e-3) {
            throw r.bad("norm_moments", "counts \(unit) unit-norm rows (|norm − 1| < 0.001), but its norms lie in [\(lo), \(hi)]")
        }
        if unit == count && (lo <= 1 - 1e-3 || hi >= 1 + 1e-3) {
            throw r.bad("norm_moments", "counts every row as unit-norm (|norm − 1| < 0.001), but its norms lie in [\(lo), \(hi)]")
        }
        try labels(&r)
    }

    /// info's labels: every distinct label once (sorted), its count, and the first labels.
    static func labels(_ r: inout PayloadReader) throws {
        guard try r.flag("has_labels") else { return }
        let names = try r.strings("labels")
        for k in names.indices.dropFirst() where !LabelKey.precedes(names[k - 1], names[k]) {
            throw r.bad("labels", "lists '\(names[k])' \(LabelKey.same(names[k - 1], names[k]) ? "twice" : "out of order") (distinct labels are stored once each, sorted by code point)")
        }
        let counts = try r.ints("labels_counts", count: names.count)
        var total = 0
        for c in counts {
            guard c >= 1, c <= r.rows, total <= r.rows else { total = -1; break }
            total += c
        }
        guard total == r.rows else {
            throw r.bad("labels_counts", "does not add up to the state's \(r.rows) rows with every count at least 1")
        }
        let first = try r.strings("first_labels", count: min(InfoPartial.firstLabels, r.rows))
        let known = Set(names.map(LabelKey.init))
        if let stray = first.first(where: { !known.contains(LabelKey($0)) }) {
            throw r.bad("first_labels", "lists '\(stray)', which is not among the state's labels")
        }
    }

    // MARK: - neighbors

    static func neighbors(_ r: inout PayloadReader) throws {
        try r.onePass()
        try r.noSeed()
        try r.noBasis()
        let settings = try r.state.settings(NeighborsPartialSettings.self, path: r.path)
        try r.digest(settings.queriesDigest, parameter: "queries_digest")
        let k = try r.count("k_shard")
        guard k == min(settings.k + 1, r.rows) else {
            throw r.bad("k_shard", "is \(k); a shard of \(r.rows) rows ranked with k = \(settings.k) lists \(min(settings.k + 1, r.rows)) neighbours per query (k + 1: the next one shows ties)")
        }
        let (total, overflow) = settings.queries.multipliedReportingOverflow(by: k)
        guard !overflow else { throw r.bad("neighbor_rows", "would hold \(settings.queries) × \(k) entries") }
        let ids = try r.ints("neighbor_rows", count: total)
        let scores = try r.doubles("neighbor_scores", count: total)
        // A shard's list is ordered as `nearestNeighbors` decides it: by the Float64 score
        // (`ExactScores.exact`, the very numbers stored here) descending, ties by row ascending,
        // empty places (-1, -inf) last. So the stored scores never increase along a list and a
        // tie keeps its rows in increasing order; no rounding allowance is needed.
        for q in 0..<settings.queries {
            var listed = Set<Int>()
            for t in 0..<k {
                let i = q * k + t, id = ids[i], score = scores[i]
                if t > 0 {
                    let (before, previous) = (scores[i - 1], ids[i - 1])
                    if previous == -1 && id != -1 {
                        throw r.bad("neighbor_rows", "lists row \(id) for query \(q) after an empty place (empty places come last)")
                    }
                    if id != -1 && (score > before || (score == before && id < previous)) {
                        throw r.bad("neighbor_scores", "has \(score) (row \(id)) after \(before) (row \(previous)) for query \(q): a list is ordered by score descending, ties by row ascending")
                    }
                }
                if id == -1 {
                    guard score == -.infinity else { throw r.bad("neighbor_scores", "has \(score) for an empty place of query \(q) (expected -inf)") }
                    continue
                }
                guard r.range.contains(id) else {
                    throw r.bad("neighbor_rows", "lists row \(id) for query \(q), outside its rows \(r.range.lowerBound)..<\(r.range.upperBound)")
                }
                guard listed.insert(id).inserted else { throw r.bad("neighbor_rows", "lists row \(id) twice for query \(q)") }
                guard score.isFinite, abs(score) <= 1 + 1e-6 else {
                    throw r.bad("neighbor_scores", "has \(score) for query \(q) (a cosine lies in [-1, 1])")
                }
            }
        }
        if try r.flag("has_labels") {
            let rows = try r.rowIds("label_rows")
            _ = try r.strings("labels", count: rows.count)
            let labelled = Set(rows)
            if let stray = ids.first(where: { $0 >= 0 && !labelled.contains($0) }) {
                throw r.bad("label_rows", "has no label for row \(stray), which 'neighbor_rows' lists")
            }
        }
        _ = try r.strings("query_labels", count: settings.queries)
        let queries = try r.json("query_source_json", as: Source.self)
        try StateSource.check(queries, field: "query_source_json", path: r.path)
        guard queries.dim == r.state.dimension, queries.rows == settings.queries else {
            throw r.bad("query_source_json", "describes \(queries.rows) × \(queries.dim) queries; the state ranks \(settings.queries) queries of dimension \(r.state.dimension)")
        }
    }

    // MARK: - anisotropy

    static func anisotropy(_ r: inout PayloadReader) throws {
        let settings = try r.state.settings(AnisotropyPartialSettings.self, path: r.path)
        guard settings.top >= 1, settings.pairSample >= 0, settings.partitionSample >= 1 else {
            throw EmbdiagError.malformed(r.path, "partial state parameters top = \(settings.top), pair_sample = \(settings.pairSample), partition_sample = \(settings.partitionSample) (expected top ≥ 1, pair_sample ≥ 0, partition_sample ≥ 1)")
        }
        if let (zeta, _) = settings.isoScoreStar {
            do { try IsoScoreStar.validate(zeta: zeta) } catch let e as EmbdiagError {
                throw EmbdiagError.malformed(r.path, "partial state parameter isoscore_zeta: \(e.message)")
            }
        }
        let d = r.state.dimension, n = r.rows
        if r.state.pass == 2 {
            try r.digest(r.state.basis, parameter: "basis")
            let partition = try r.count("partition_rows")
            guard partition <= min(n, settings.partitionSample) else {
                throw r.bad("partition_rows", "is \(partition), more than the state's \(n) rows or the partition sample of \(settings.partitionSample)")
            }
            var logZ: [[Double]] = []
            // d eigenvectors, then `probesPerCluster` probes per degenerate eigenspace (at most d/2
            // of them): the merge checks the exact count against the merged eigenvalues.
            let probes = AnisotropyMetrics.probesPerCluster
            let directionCount = try r.doubles("logz_positive").count
            guard directionCount >= d, (directionCount - d) % probes == 0, directionCount - d <= probes * (d / 2) else {
                throw r.bad("logz_positive", "has \(directionCount) entries; \(d) directions plus \(probes) per degenerate eigenspace (at most \(d / 2) of them) expected")
            }
            for name in ["logz_positive", "logz_negative"] {
                let v = try r.doubles(name, count: directionCount)
                if let bad = v.firstIndex(where: { partition == 0 ? $0 != -.infinity : !$0.isFinite }) {
                    throw r.bad(name, "has \(v[bad]) at entry \(bad) (log Z over \(partition) row(s): \(partition == 0 ? "-inf" : "finite") expected)")
                }
                logZ.append(v)
            }
            if partition > 0 {
                // Z(c)·Z(−c) = Σ e^(a_i) · Σ e^(−a_i) ≥ m² for the same m projections a_i (Cauchy–
                // Schwarz), whatever the rows: log Z(c) + log Z(−c) ≥ 2 log m, up to the Float64
                // rounding of m exponentials, their sums and the logarithms.
                let m = Double(partition)
                let floor = 2 * Foundation.log(m) - 4 * (m + 8) * StateMomentCheck.u64 * max(1, 2 * Foundation.log(m))
                if let k = (0..<directionCount).first(where: { logZ[0][$0] + logZ[1][$0] < floor }) {
                    throw r.bad("logz_negative", "has \(logZ[1][k]) at entry \(k) with 'logz_positive' \(logZ[0][k]): over \(partition) row(s) log Z(c) + log Z(−c) ≥ 2 log \(partition)")
                }
            }
            let ids = try r.rowIds("pair_rows")
            guard ids.count <= 2 * settings.pairSample else {
                throw r.bad("pair_rows", "lists \(ids.count) rows; \(settings.pairSample) sampled pairs have at most \(2 * settings.pairSample)")
            }
            let vectors = try r.finiteFloats("pair_vectors", count: ids.count * d)
            let norms = try r.doubles("pair_norms", count: ids.count)
            for (k, norm) in norms.enumerated() {
                let stored = vectors[(k * d)..<((k + 1) * d)].reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
                guard norm.isFinite, norm > 0, abs(norm - stored) <= 1e-5 * stored else {
                    throw r.bad("pair_norms", "has \(norm) for row \(ids[k]), whose stored vector has norm \(stored)")
                }
            }
            return
        }
        let merged = r.state.arrays["directions"] != nil
        try sums(&r, n: n, d: d, unitSums: ["unit_sum"])
        let unitSum = try r.doubles("unit_sum", count: d)
        // Float64 sums of n terms of Float64 values derived from d-term Float64 norms: relative
        // rounding of at most (n + d + 4)·u, taken four times over.
        let slack = 4 * Double(n + d + 4) * StateMomentCheck.u64
        let normSum = try r.finiteDoubles("norm_sum", count: 1)[0]
        guard normSum > 0 else { throw r.bad("norm_sum", "is \(normSum) (anisotropy rows are non-zero: a sum of \(n) norms is above 0)") }
        let squares = try r.finiteDoubles("unit_square_sum", count: d)
        if let bad = squares.firstIndex(where: { $0 < 0 || $0 > Double(n) * (1 + 1e-9) }) {
            throw r.bad("unit_square_sum", "has \(squares[bad]) at entry \(bad) (a sum of \(n) squared unit-vector entries lies in 0…\(n))")
        }
        // Each unit row's squares add up to 1: over the dimensions they add up to the rows.
        let total = squares.reduce(0, +)
        guard abs(total - Double(n)) <= 1e-6 * Double(n) else {
            throw r.bad("unit_square_sum", "adds up to \(total) over the dimensions; \(n) unit rows give \(n)")
        }
        // Cauchy–Schwarz per dimension: (Σ û_j)² ≤ n · Σ û_j².
        for j in 0..<d where unitSum[j] * unitSum[j] > Double(n) * squares[j] * (1 + slack) + Double(n) * slack {
            throw r.bad("unit_sum", "has \(unitSum[j]) at entry \(j), but 'unit_square_sum' has \(squares[j]) there (n rows give (Σ û_j)² ≤ n · Σ û_j²)")
        }
        let columnSum = try r.finiteDoubles("column_sum", count: d)
        let centred = try r.finiteDoubles("centred_gram", count: d * d)
        for i in 0..<d {
            guard centred[i * d + i] >= 0 else { throw r.bad("centred_gram", "has \(centred[i * d + i]) on its diagonal (entry \(i), a sum of squares)") }
            for j in (i + 1)..<max(i + 1, d) where centred[i * d + j] != centred[j * d + i] {
                throw r.bad("centred_gram", "is not symmetric (entries \(i),\(j) and \(j),\(i) differ)")
            }
        }
        let columnNorm2 = columnSum.reduce(0.0) { $0 + $1 * $1 }
        guard columnNorm2.squareRoot() <= normSum * (1 + slack) else {
            throw r.bad("column_sum", "has length \(columnNorm2.squareRoot()), more than the rows' 'norm_sum' \(normSum) (‖Σx‖ ≤ Σ‖x‖)")
        }
        // Σ‖x‖² = trace M + ‖Σx‖²/n, and (Σ‖x‖)²/n ≤ Σ‖x‖² ≤ (Σ‖x‖)².
        let trace = (0..<d).reduce(0.0) { $0 + centred[$1 * d + $1] } + columnNorm2 / Double(n)
        guard normSum * normSum <= Double(n) * trace * (1 + slack), trace <= normSum * normSum * (1 + slack) else {
            throw r.bad("centred_gram", "with 'column_sum' gives Σ‖x‖² = \(trace), which \(n) rows with 'norm_sum' \(normSum) cannot give: (Σ‖x‖)²/n ≤ Σ‖x‖² ≤ (Σ‖x‖)²")
        }
        // A sum of (x − μ)(x − μ)ᵀ is positive semidefinite, which covers |m_ij| ≤ √(m_ii m_jj)
        // and a covariance with no negative variance.
        if let (i, j) = StateMomentCheck.semidefiniteFailure(centred, dimension: d, terms: n) {
            if i < 0 { throw r.bad("centred_gram", "is not positive semidefinite (it has a negative eigenvalue): no rows give it") }
            throw r.bad("centred_gram", "has \(centred[i * d + j]) at entries \(i),\(j) with diagonal \(centred[i * d + i]) and \(centred[j * d + j]): no rows give |m_ij| > √(m_ii m_jj)")
        }
        guard merged else { return try r.noBasis() }
        let directions = try r.finiteFloats("directions", count: d * d)
        let values = try r.finiteDoubles("direction_values", count: d)
        guard r.state.basis == AnisotropyPartial.basis(of: r.state) else {
            throw EmbdiagError.malformed(r.path, "partial state basis \(r.state.basis ?? "(none)") is not the digest of its own directions and shards: the merged state was edited")
        }
        // The basis is an unkeyed digest a forger can recompute: the directions must also be
        // what the decomposition of the stored Gram matrix gives.
        let second = AnisotropyPartial.secondMoment(centredGram: centred, mean: columnSum.map { $0 / Double(n) }, rows: n)
        try eigenDirections(&r, directions: directions, values: values, secondMoment: second, n: n, d: d, trace: trace)
    }

    /// A merged anisotropy pass-1 state's principal directions (rows, Float32) and values: the
    /// eigen-decomposition of XᵀX/n that `AnisotropyPartial.mergePass1` computes (LAPACK dsyevd,
    /// values descending). The values add up to the trace, lie in [0, trace] and descend; the
    /// rows are orthonormal and V·(XᵀX/n) = Λ·V up to rounding.
    ///
    /// Tolerances: a Float32 copy of a unit eigenvector is off by at most 2⁻²⁴ in length, so
    /// VVᵀ − I is off by 2·2⁻²⁴ plus dsyevd's own loss of orthogonality and the Float64 product,
    /// both p(d)·u with p(d) = 64·d (a generous polynomial for LAPACK's "p(n)·ε" bounds); the
    /// residual row k, ‖v_k A − λ_k v_k‖, is at most ‖A − λ_k I‖·2⁻²⁴ ≤ λ_max·2⁻²⁴ from the Float32
    /// copy plus p(d)·u·λ_max from the decomposition and the product. Each bound is doubled.
    ///
    /// - Complexity: O(d³) (two Float64 products).
    static func eigenDirections(_ r: inout PayloadReader, directions: [Float], values: [Double], secondMoment second: [Double], n: Int, d: Int, trace: Double) throws {
        let mean = trace / Double(n)
        let poly = 64 * Double(d) * StateMomentCheck.u64
        let sum = values.reduce(0, +)
        guard abs(sum - mean) <= 2 * poly * mean + Double.leastNormalMagnitude else {
            throw r.bad("direction_values", "adds up to \(sum); the eigenvalues of XᵀX/n add up to its trace \(mean)")
        }
        for k in 0..<d {
            guard values[k] >= -2 * poly * mean, values[k] <= mean * (1 + 2 * poly), k == 0 || values[k] <= values[k - 1] else {
                throw r.bad("direction_values", "has \(values[k]) at entry \(k) (eigenvalues of XᵀX/n lie in 0…\(mean), descending)")
            }
        }
        let top = max(values[0], 0)
        let v = directions.map { Double($0) }
        let orthogonality = 2 * (2 * 0x1p-24 + poly)
        let product = BLAS.matmul(v, rows: d, inner: d, v, cols: d, transposeB: true)
        for i in 0..<d {
            for j in 0..<d where abs(product[i * d + j] - (i == j ? 1 : 0)) > orthogonality {
                throw r.bad("directions", "are not orthonormal (rows \(i) and \(j) have product \(product[i * d + j]))")
            }
        }
        let image = BLAS.matmul(v, rows: d, inner: d, second, cols: d)
        // The product v·A itself adds d·u·λ_max per entry, √d·d·u·λ_max over a row.
        let allowed = 2 * (0x1p-24 + poly + Double(d).squareRoot() * Double(d) * StateMomentCheck.u64) * top + Double.leastNormalMagnitude
        for k in 0..<d {
            var residual = 0.0
            for j in 0..<d { let e = image[k * d + j] - values[k] * v[k * d + j]; residual += e * e }
            guard residual.squareRoot() <= allowed else {
                throw r.bad("directions", "row \(k) is not an eigenvector of XᵀX/n with eigenvalue \(values[k]) (residual \(residual.squareRoot()), rounding allows \(allowed))")
            }
        }
    }

    /// Σ û of n unit rows: each entry in [−n, n], and the sum's length at most n (the triangle
    /// inequality), up to Float64 rounding of the unit rows and the sum.
    static func sums(_ r: inout PayloadReader, n: Int, d: Int, unitSums: [String]) throws {
        let slack = 4 * Double(n + d + 4) * StateMomentCheck.u64
        for name in unitSums {
            let v = try r.finiteDoubles(name, count: d)
            if let bad = v.firstIndex(where: { abs($0) > Double(n) * (1 + 1e-9) }) {
                throw r.bad(name, "has \(v[bad]) at entry \(bad) (a sum of \(n) unit-vector entries lies in -\(n)…\(n))")
            }
            let length = v.reduce(0.0) { $0 + $1 * $1 }.squareRoot()
            guard length <= Double(n) * (1 + slack) else {
                throw r.bad(name, "has length \(length); a sum of \(n) unit vectors is at most \(n) long")
            }
        }
    }

    // MARK: - depth

    static func depth(_ r: inout PayloadReader) throws {
        let settings = try r.state.settings(DepthPartialSettings.self, path: r.path)
        guard settings.top >= 0, settings.referenceSample.map({ $0 >= 2 }) ?? true, settings.referenceRows.map({ $0 >= 2 }) ?? true,
              settings.components.map({ $0 >= 1 }) ?? true else {
            throw EmbdiagError.malformed(r.path, "partial state parameters \(r.state.parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")) are out of range (top ≥ 0, reference_sample ≥ 2, reference_rows ≥ 2, components ≥ 1)")
        }
        let d = r.state.dimension, n = r.rows
        if r.state.pass == 2 {
            guard let corpus = settings.corpus else {
                throw EmbdiagError.malformed(r.path, "depth pass-2 state does not say which corpus it belongs to (parameter corpus)")
            }
            try r.digest(r.state.basis, parameter: "basis")
            let depths = try r.finiteDoubles("depths", count: n)
            let (lo, hi, what) = depthRange(settings, dimension: d)
            if let bad = depths.firstIndex(where: { $0 < lo || $0 > hi }) {
                throw r.bad("depths", "has \(depths[bad]) for row \(r.range.lowerBound + bad) (\(what))")
            }
            guard try r.flag("corpus") == (corpus == .other) else {
                throw r.bad("corpus", "contradicts the parameter corpus = \(corpus.rawValue)")
            }
            if try r.flag("has_labels") { _ = try r.strings("labels", count: n) }
            return
        }
        if settings.corpus != nil { throw EmbdiagError.malformed(r.path, "partial state has an unknown parameter corpus (a pass-1 state sums the reference only)") }
        let merged = r.state.basis != nil
        guard settings.referenceSample != nil else {
            try sums(&r, n: n, d: d, unitSums: ["unit_sum"])
            guard merged else { return }
            let sum = try r.doubles("unit_sum", count: d)
            try r.requireBasis(DepthPartial.basis(payload: sum.withUnsafeBytes { Data($0) }, summary: "n=\(n);", shards: r.state.shards))
            return
        }
        if merged {
            let sampled = try r.flag("sampled")
            let rows = try r.rowIds("sample_rows")
            if !sampled && rows != Array(r.range) { throw r.bad("sample_rows", "must list every reference row when 'sampled' is 0") }
            let values = try r.finiteFloats("sample_values", count: rows.count * d)
            try r.requireBasis(DepthPartial.basis(payload: values.withUnsafeBytes { Data($0) }, summary: "n=\(n);s=\(rows.count);", shards: r.state.shards))
            return
        }
        let rows = try r.rowIds("sample_rows")
        if let total = settings.referenceRows, r.range.upperBound > total {
            throw EmbdiagError.malformed(r.path, "partial state covers rows \(r.range.lowerBound)..<\(r.range.upperBound), beyond its parameter reference_rows = \(total)")
        }
        let positions = try r.ints("sample_positions", count: rows.count)
        for (k, p) in positions.enumerated() where p < 0 || (k > 0 && p <= positions[k - 1]) {
            throw r.bad("sample_positions", "has \(p) at entry \(k) (places in the sample are at least 0 and increase strictly)")
        }
        _ = try r.finiteFloats("sample_values", count: rows.count * d)
    }

    /// The values a depth of this kind takes, widened by its rounding, and the rule in words.
    ///
    /// - TTE, cosine: D = 1 + x̂·S/m ∈ [0, 2] (leave-one-out: (x̂·S − x̂·x̂)/(m − 1)). The Float32
    ///   unit rows and Float32 S are each within (d + 2)·2⁻²⁴ of their exact lengths, so
    ///   |x̂·S|/m ≤ 1 + ε with ε = 2(d + 3)·2⁻²⁴, and the leave-one-out form at most 1 + 5ε.
    /// - TTE, chord: D = 2 − mean ‖x̂ − ŷ‖, chords √max(0, 2 − 2c) ≥ 0 with Float32 cosines
    ///   c ≥ −1 − (d + 2)·2⁻²⁴: D ≤ 2 exactly and ≥ −(d + 2)·2⁻²⁴.
    /// - Spatial: D = 1 − ‖mean unit direction‖ ≤ 1 exactly (1 minus a square root). The length
    ///   is at most 1 in exact arithmetic, but it is a Float32 GEMM of weights up to 1/chord over
    ///   the sample, whose error no bound keeps small near duplicates: only D ≥ −1 (a mean
    ///   direction twice as long as any set of rows gives) is refused below.
    /// - Mahalanobis: D = 1/(1 + d²) with d² ≥ 0: in [0, 1] (0 only when d² overflows).
    static func depthRange(_ s: DepthPartialSettings, dimension d: Int) -> (Double, Double, String) {
        let u = 0x1p-24, dd = Double(d)
        switch s.kind {
        case .tte where s.distance == .cosine:
            let eps = 5 * 2 * (dd + 3) * u
            return (-eps, 2 + eps, "cosine TTE depth 1 + mean cos lies in [0, 2]")
        case .tte:
            return (-(dd + 2) * u, 2, "chord TTE depth 2 − mean chord lies in [0, 2]")
        case .spatial:
            return (-1, 1, "spatial depth 1 − ‖mean direction‖ lies in [0, 1] (at most 1 exactly)")
        case .mahalanobis:
            return (0, 1, "Mahalanobis depth 1/(1 + d²) lies in (0, 1]")
        }
    }

    // MARK: - compat

    static func compat(_ r: inout PayloadReader) throws {
        let settings = try r.state.settings(CompatPartialSettings.self, path: r.path)
        guard settings.ks.allSatisfy({ $0 >= 1 }), settings.newDimension >= 1, settings.newDimension <= PartialState.maximumDimension,
              settings.maxQueries >= 0, settings.noWorseTolerance >= 0 else {
            throw EmbdiagError.malformed(r.path, "partial state parameters \(r.state.parameters.sorted { $0.key < $1.key }.filter { $0.key != "queries_digest" }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")) are out of range (every k ≥ 1, dim_new in 1…\(PartialState.maximumDimension), max_queries ≥ 0, no_worse_tolerance ≥ 0)")
        }
        try r.digest(settings.queriesDigest, parameter: "queries_digest")
        let nq = settings.queries, n = r.rows
        let names = CompatPartial.directionNames(settings, dimension: r.state.dimension)
        let identity = settings.relevance == .identity
        if r.state.pass == 2 {
            try r.digest(r.state.basis, parameter: "basis")
            try newSource(&r, "new_source_json", rows: n, settings: settings)
            for name in names {
                let above = try r.ints("above_\(name)"), tied = try r.ints("tied_\(name)", count: above.count)
                for (label, v) in [("above_\(name)", above), ("tied_\(name)", tied)] {
                    if let bad = v.firstIndex(where: { $0 < 0 || $0 > n }) {
                        throw r.bad(label, "has \(v[bad]) at entry \(bad) (a count of this shard's rows lies in 0…\(n))")
                    }
                }
                // A row scores above a value, ties with it or scores below: never two of these.
                if let bad = above.indices.first(where: { above[$0] + tied[$0] > n }) {
                    throw r.bad("tied_\(name)", "has \(tied[bad]) at entry \(bad) with \(above[bad]) above: more than the shard's \(n) rows")
                }
            }
            return
        }
        let queries = try r.json("query_sources_json", as: [Source].self)
        guard queries.count == 2 else { throw r.bad("query_sources_json", "lists \(queries.count) query files (expected OLD's and NEW's)") }
        for q in queries { try StateSource.check(q, field: "query_sources_json", path: r.path) }
        guard queries[0].rows == nq, queries[1].rows == nq, queries[0].dim == r.state.dimension, queries[1].dim == settings.newDimension else {
            throw r.bad("query_sources_json", "describes \(queries[0].rows) × \(queries[0].dim) and \(queries[1].rows) × \(queries[1].dim) queries; the state ranks \(nq) queries of dimensions \(r.state.dimension) and \(settings.newDimension)")
        }
        if r.state.basis == nil {
            let (counts, total) = try r.raggedCounts("relevant_counts", queries: nq, atMost: n, of: "this shard has \(n) rows")
            let rows = try r.ints("relevant_rows", count: total)
            var at = 0
            for (q, c) in counts.enumerated() {
                let mine = rows[at..<(at + c)]
                at += c
                for (k, row) in mine.enumerated() {
                    guard r.range.contains(row) else {
                        throw r.bad("relevant_rows", "lists row \(row) for query \(q), outside its rows \(r.range.lowerBound)..<\(r.range.upperBound)")
                    }
                    if k > 0 && row <= mine[mine.startIndex + k - 1] {
                        throw r.bad("relevant_rows", "lists row \(row) for query \(q) \(row == mine[mine.startIndex + k - 1] ? "twice" : "out of order") (a query's rows increase strictly)")
                    }
                }
                if identity && Array(mine) != (r.range.contains(q) ? [q] : []) {
                    throw r.bad("relevant_rows", "lists \(Array(mine)) for query \(q); with identity relevance query \(q)'s only relevant row is row \(q)")
                }
            }
            for name in names {
                let scores = try r.doubles("scores_\(name)", count: total)
                if let bad = scores.firstIndex(where: { !$0.isFinite || abs($0) > 1 + 1e-6 }) {
                    throw r.bad("scores_\(name)", "has \(scores[bad]) at entry \(bad) (a cosine lies in [-1, 1])")
                }
            }
            try newSource(&r, "new_source_json", rows: n, settings: settings)
            return
        }
        // A merged pass-1 state: every query's relevant scores grouped by value, per direction.
        let sources = try r.json("new_sources_json", as: [Source].self)
        guard sources.count == r.state.shards.count else {
            throw r.bad("new_sources_json", "lists \(sources.count) NEW shard(s) for \(r.state.shards.count) shard(s)")
        }
        for (s, shard) in zip(sources, r.state.shards) {
            try StateSource.check(s, field: "new_sources_json", path: r.path)
            guard s.rows == shard.rowCount, s.dim == settings.newDimension else {
                throw r.bad("new_sources_json", "describes \(s.rows) × \(s.dim) NEW rows for shard '\(shard.id)' of \(shard.rowCount) rows (NEW's dimension \(settings.newDimension))")
            }
        }
        var relevant: [Int]?
        var digest = Data()
        for name in names {
            let (counts, total) = try r.raggedCounts("group_counts_\(name)", queries: nq, atMost: n, of: "the gallery has \(n) rows")
            let values = try r.doubles("group_values_\(name)", count: total)
            let sizes = try r.ints("group_sizes_\(name)", count: total)
            var perQuery: [Int] = []
            var at = 0
            for (q, c) in counts.enumerated() {
                var sum = 0
                for k in at..<(at + c) {
                    guard values[k].isFinite, abs(values[k]) <= 1 + 1e-6, k == at || values[k] < values[k - 1] else {
                        throw r.bad("group_values_\(name)", "has \(values[k]) for query \(q) (distinct cosines in [-1, 1], descending)")
                    }
                    guard sizes[k] >= 1, sizes[k] <= n - sum else { throw r.bad("group_sizes_\(name)", "has \(sizes[k]) for query \(q) (groups of at least 1 row, at most the gallery's \(n) in all)") }
                    sum += sizes[k]
                }
                if identity && (c != 1 || sizes[at] != 1) {
                    throw r.bad("group_sizes_\(name)", "gives query \(q) \(sum) relevant row(s); with identity relevance every query has one")
                }
                perQuery.append(sum)
                at += c
            }
            if let relevant, relevant != perQuery {
                throw r.bad("group_sizes_\(name)", "gives the queries other relevant row counts than direction \(names[0])")
            }
            relevant = perQuery
            values.withUnsafeBytes { digest.append(contentsOf: $0) }
        }
        try r.requireBasis(CompatPartial.basis(payload: digest, rows: n, shards: r.state.shards))
    }

    static func newSource(_ r: inout PayloadReader, _ name: String, rows: Int, settings: CompatPartialSettings) throws {
        let s = try r.json(name, as: Source.self)
        try StateSource.check(s, field: name, path: r.path)
        guard s.rows == rows, s.dim == settings.newDimension else {
            throw r.bad(name, "describes \(s.rows) × \(s.dim) NEW rows; the shard has \(rows) rows and NEW's dimension is \(settings.newDimension)")
        }
    }
}

/// Reads a state's arrays for `StatePayloadCheck`, remembering which were read so that
/// `finish()` can refuse the others.
struct PayloadReader {
    let state: PartialState
    let path: String?
    private(set) var used: Set<String> = ["rows"]

    init(state: PartialState, path: String?) {
        self.state = state
        self.path = path
    }

    /// The rows the state covers (its payload's `rows`, checked equal by `validate`).
    var rows: Int { state.rowCount }
    var range: Range<Int> { state.rowOffset..<(state.rowOffset + state.rowCount) }

    func bad(_ name: String, _ problem: String) -> EmbdiagError { .malformed(path, "partial state array '\(name)' \(problem)") }

    func onePass() throws {
        guard state.pass == 1 else { throw EmbdiagError.malformed(path, "partial state pass \(state.pass): \(state.analyzer) states have one pass") }
    }

    func noSeed() throws {
        guard state.seed == 0 else { throw EmbdiagError.malformed(path, "partial state seed \(state.seed): \(state.analyzer) states draw nothing at random and record seed 0") }
    }

    func noBasis() throws {
        guard state.basis == nil else { throw EmbdiagError.malformed(path, "partial state has a basis, which a shard's \(state.analyzer) pass-\(state.pass) state never has") }
    }

    /// A SHA-256 as the analyzers write it: 64 lowercase hex digits.
    func digest(_ value: String?, parameter: String) throws {
        guard let value, StateSource.isDigest(value) else {
            throw EmbdiagError.malformed(path, "partial state \(parameter) '\(value ?? "(none)")' is not a SHA-256 (64 lowercase hex digits)")
        }
    }

    func requireBasis(_ expected: String) throws {
        guard state.basis == expected else {
            throw EmbdiagError.malformed(path, "partial state basis \(state.basis ?? "(none)") is not the digest of its own payload and shards (\(expected)): the merged state was edited")
        }
    }

    mutating func array(_ name: String) throws -> StateArray {
        used.insert(name)
        return try state.array(name, path: path)
    }

    mutating func doubles(_ name: String, count: Int? = nil) throws -> [Double] { try array(name).doubles(name, count: count, path: path) }
    mutating func ints(_ name: String, count: Int? = nil) throws -> [Int] { try array(name).ints(name, count: count, path: path) }

    mutating func finiteDoubles(_ name: String, count: Int) throws -> [Double] {
        let v = try doubles(name, count: count)
        if let bad = v.firstIndex(where: { !$0.isFinite }) { throw self.bad(name, "has \(v[bad]) at entry \(bad) (expected finite numbers)") }
        return v
    }

    mutating func finiteFloats(_ name: String, count: Int) throws -> [Float] {
        let v = try array(name).floats(name, count: count, path: path)
        if let bad = v.firstIndex(where: { !$0.isFinite }) { throw self.bad(name, "has \(v[bad]) at entry \(bad) (expected finite numbers)") }
        return v
    }

    /// A one-element count, at least 0.
    /// A ragged array's per-query lengths, each in 0…`limit` (`of` says what bounds them), and
    /// their sum: the length of the arrays they cut.
    mutating func raggedCounts(_ name: String, queries: Int, atMost limit: Int, of bound: String) throws -> (counts: [Int], total: Int) {
        let counts = try ints(name, count: queries)
        var total = 0
        for (q, c) in counts.enumerated() {
            guard c >= 0, c <= limit else { throw bad(name, "has \(c) for query \(q) (\(bound))") }
            total += c
        }
        return (counts, total)
    }

    mutating func count(_ name: String) throws -> Int {
        let v = try ints(name, count: 1)[0]
        guard v >= 0 else { throw bad(name, "is \(v) (a count is at least 0)") }
        return v
    }

    /// A one-element flag: 0 or 1, nothing else.
    mutating func flag(_ name: String) throws -> Bool {
        let v = try ints(name, count: 1)[0]
        guard v == 0 || v == 1 else { throw bad(name, "is \(v) (expected 0 or 1)") }
        return v == 1
    }

    /// Global row ids: strictly increasing (so none twice) and inside the rows the state covers.
    mutating func rowIds(_ name: String) throws -> [Int] {
        let ids = try ints(name)
        for (k, id) in ids.enumerated() {
            guard range.contains(id) else { throw bad(name, "lists row \(id), outside its rows \(range.lowerBound)..<\(range.upperBound)") }
            if k > 0 && id <= ids[k - 1] {
                throw bad(name, id == ids[k - 1] ? "lists row \(id) twice" : "lists row \(id) after row \(ids[k - 1]) (rows are listed in increasing order)")
            }
        }
        return ids
    }

    /// Strings stored as NAME_bytes and NAME_lengths.
    mutating func strings(_ name: String, count: Int? = nil) throws -> [String] {
        let v = try StateArray.decodeStrings(bytes: array(name + "_bytes"), lengths: array(name + "_lengths"), name: name, path: path)
        if let count, v.count != count { throw bad(name, "holds \(v.count) strings, expected \(count)") }
        return v
    }

    /// A U8 array holding JSON of `type`, with no key `type` does not have.
    mutating func json<T: Decodable>(_ name: String, as type: T.Type) throws -> T {
        guard case .bytes(let b) = try array(name) else { throw bad(name, "is not U8") }
        let data = Data(b)
        guard let value = try? JSONDecoder().decode(type, from: data) else { throw bad(name, "is not the expected JSON") }
        if let unknown = StateSource.unknownKeys(in: data).first { throw bad(name, "has an unknown key '\(unknown)'") }
        return value
    }

    /// Refuses an array no check read: the analyzer never writes it.
    func finish() throws {
        if let stray = Set(state.arrays.keys).subtracting(used).sorted().first {
            throw EmbdiagError.malformed(path, "partial state has an array '\(stray)' that \(state.analyzer) pass-\(state.pass) states never have")
        }
    }
}

/// The checks of a `Source` recorded in a state (a shard's, or an embedded query or NEW file's).
/// Its path is shown in the merged report as recorded: merge never opens it, so it is held to
/// being one printable line of reasonable length, not to naming an existing file.
enum StateSource {
    static let keys: Set<String> = ["path", "format", "dtype", "rows", "dim", "sha256", "key", "idColumn"]
    static let maximumPathBytes = 4096

    static func isDigest(_ s: String) -> Bool {
        s.utf8.count == 64 && s.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }

    /// A control character (C0, DEL, C1) other than those `allowing`.
    static func hasControl(_ s: String, allowing: Set<Unicode.Scalar> = []) -> Bool {
        s.unicodeScalars.contains { ($0.value < 0x20 || $0.value == 0x7F || (0x80..<0xA0).contains($0.value)) && !allowing.contains($0) }
    }

    static func check(_ s: Source, field: String, path: String?) throws {
        func bad(_ problem: String) -> EmbdiagError { .malformed(path, "partial state \(field): \(problem)") }
        guard !s.path.isEmpty, s.path.utf8.count <= maximumPathBytes, !hasControl(s.path) else {
            throw bad("source.path is \(s.path.isEmpty ? "empty" : "not one printable line of at most \(maximumPathBytes) bytes")")
        }
        if let sha = s.sha256, !isDigest(sha) { throw bad("source.sha256 '\(sha)' is not a SHA-256 (64 lowercase hex digits)") }
        guard s.rows >= 0 else { throw bad("source.rows is \(s.rows) (at least 0)") }
        guard s.dim >= 1, s.dim <= PartialState.maximumDimension else { throw bad("source.dim is \(s.dim) (expected 1…\(PartialState.maximumDimension))") }
        guard !s.dtype.isEmpty, s.dtype.utf8.count <= 256, !hasControl(s.dtype) else { throw bad("source.dtype is not a short printable name") }
        // A SQL query (PostgreSQL sources) may span lines; nothing else may hide in it.
        if let key = s.key, hasControl(key, allowing: ["\n", "\r", "\t"]) { throw bad("source.key holds a control character") }
        if let column = s.idColumn, hasControl(column) { throw bad("source.idColumn holds a control character") }
    }

    /// The keys of a JSON object (or of each object of an array) that a `Source` never has.
    static func unknownKeys(in json: Data) -> [String] {
        guard let any = try? JSONSerialization.jsonObject(with: json) else { return [] }
        let objects = (any as? [[String: Any]]) ?? (any as? [String: Any]).map { [$0] } ?? []
        return objects.flatMap { Set($0.keys).subtracting(keys) }.sorted()
    }
}
