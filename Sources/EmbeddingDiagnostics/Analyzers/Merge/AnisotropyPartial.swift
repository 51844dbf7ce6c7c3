import Foundation

/// `embdiag anisotropy --partial`: two passes over the shards (Guides/Scale.md, "Anisotropy").
///
/// Pass 1 (per shard): n, Σ‖x‖, Σû, Σû², Σx and the Float64 centred Gram M = Σ(x − μₛ)(x − μₛ)ᵀ
/// about the shard's own mean. Merging the pass-1 states gives every sum of the single run, the
/// centred Gram of the whole input by Chan et al.'s pairwise update (M = Σ Mₛ + Σ nₛ(μₛ − μ)(μₛ − μ)ᵀ,
/// no cancellation when the rows share a large offset), the covariance M/(n − 1) and the principal
/// directions of XᵀX/n = M/n + μμᵀ; they are written to one merged state (`merge --state-out`).
/// Pass 2 (per shard, reading that merged state): log Z(±c) over the shard's rows of the seeded
/// partition-function sample, and the rows (Float32, as read) and norms of the seeded cosine pairs
/// that fall in the shard. The final merge combines log Z by log-sum-exp and recomputes the
/// sampled cosines from the stored rows in the single run's pair order — the same pairs, the same
/// sample, the same directions as a single run over the concatenated input.
public enum AnisotropyPartial {
    /// Parameters that change a number (merge refuses states that differ in any of them).
    public static func parameters(_ c: AnisotropyConfiguration) -> [String: String] { AnisotropyPartialSettings(c).parameters }

    static func configuration(from state: PartialState, path: String) throws -> AnisotropyConfiguration {
        try state.settings(AnisotropyPartialSettings.self, path: path).configuration(seed: state.seed)
    }

    /// Pass 1 of one shard (rows must be finite and non-zero, as for a single run).
    ///
    /// - Complexity: O(n·d²) (Float64 Gram by DSYRK) plus O(n·d).
    public static func pass1(_ e: Embeddings, shard: ShardRecord, configuration: AnisotropyConfiguration) -> PartialState {
        let sums = UnitVectorSums(e.matrix)
        let mean = sums.columnSum.map { $0 / Double(max(e.count, 1)) }
        return PartialState(analyzer: "anisotropy", pass: 1, parameters: parameters(configuration), seed: configuration.seed,
                            dimension: e.dimension, shards: [shard], arrays: [
                                "rows": .int64([Int64(e.count)]),
                                "norm_sum": .float64([sums.norms.reduce(0, +)]),
                                "unit_sum": .float64(sums.unitSum),
                                "unit_square_sum": .float64(sums.unitSquareSum),
                                "column_sum": .float64(sums.columnSum),
                                "centred_gram": .float64(Matrix.float64Gram(e.matrix, centre: mean)),
                            ])
    }

    /// Σ of the pass-1 sums in row-offset order, plus the principal directions of XᵀX/n: the state
    /// every pass-2 run reads (`--directions`).
    ///
    /// - Complexity: O(s·d²) for s states plus one d × d eigendecomposition.
    public static func mergePass1(_ ordered: [LoadedState]) throws -> PartialState {
        let d = ordered[0].state.dimension
        let names = ["norm_sum": 1, "unit_sum": d, "unit_square_sum": d, "column_sum": d]
        // Every array's size is checked before the d × d totals are allocated.
        for s in ordered {
            for (name, count) in names.merging(["centred_gram": d * d], uniquingKeysWith: { a, _ in a }) {
                _ = try s.state.array(name, path: s.path).doubles(name, count: count, path: s.path)
            }
        }
        var total: [String: [Double]] = names.mapValues { [Double](repeating: 0, count: $0) }
        var n = 0
        var shardRows: [Int] = []
        for s in ordered {
            let rows = try s.state.array("rows", path: s.path).ints("rows", count: 1, path: s.path)[0]
            shardRows.append(rows)
            n += rows
            for (name, count) in names {
                let v = try s.state.array(name, path: s.path).doubles(name, count: count, path: s.path)
                total[name] = zip(total[name]!, v).map(+)
            }
        }
        guard n >= 2 else { throw EmbdiagError.invalid(ordered[0].path, "anisotropy needs at least 2 rows (the shards have \(n))") }
        // Chan et al.: M = Σ Mₛ + Σ nₛ (μₛ − μ)(μₛ − μ)ᵀ, in row-offset order.
        let mean = total["column_sum"]!.map { $0 / Double(n) }
        var centred = [Double](repeating: 0, count: d * d)
        for (s, rows) in zip(ordered, shardRows) {
            let m = try s.state.array("centred_gram", path: s.path).doubles("centred_gram", count: d * d, path: s.path)
            let columnSum = try s.state.array("column_sum", path: s.path).doubles("column_sum", count: d, path: s.path)
            let delta = (0..<d).map { rows > 0 ? columnSum[$0] / Double(rows) - mean[$0] : 0 }
            for i in 0..<d { for j in i..<d { centred[i * d + j] += m[i * d + j] + Double(rows) * delta[i] * delta[j] } }
        }
        for i in 0..<d { for j in 0..<i { centred[i * d + j] = centred[j * d + i] } }
        let second = Self.secondMoment(centredGram: centred, mean: mean, rows: n)
        let directions = try LAPACK.symmetricEigen(second, dimension: d)
        var arrays = total.mapValues { StateArray.float64($0) }
        arrays["centred_gram"] = .float64(centred)
        arrays["rows"] = .int64([Int64(n)])
        arrays["directions"] = .float32(directions.vectors.map { Float($0) })
        arrays["direction_values"] = .float64(directions.values)
        let first = ordered[0].state
        var merged = PartialState(analyzer: "anisotropy", pass: 1, parameters: first.parameters, seed: first.seed, dimension: d,
                                  shards: ordered.flatMap(\.state.shards), arrays: arrays)
        merged.basis = basis(of: merged)
        return merged
    }

    /// XᵀX/n = M/n + μμᵀ from the centred Gram M, the matrix whose eigenvectors are the
    /// partition function's directions (Mu & Viswanath use the uncentred rows).
    ///
    /// - Complexity: O(d²).
    static func secondMoment(centredGram m: [Double], mean: [Double], rows n: Int) -> [Double] {
        let d = mean.count
        var second = [Double](repeating: 0, count: d * d)
        for i in 0..<d { for j in i..<d { second[i * d + j] = m[i * d + j] / Double(n) + mean[i] * mean[j]; second[j * d + i] = second[i * d + j] } }
        return second
    }

    /// The digest pass-2 states carry: SHA-256 of the directions' bytes, n and the shard list.
    static func basis(of merged: PartialState) -> String {
        var data = Data()
        if case .float32(let v)? = merged.arrays["directions"] { v.withUnsafeBytes { data.append(contentsOf: $0) } }
        data.append(Data("n=\(merged.rowCount);".utf8))
        for s in merged.shards { data.append(Data("\(s.rowOffset):\(s.rowCount):\(s.source.sha256 ?? "-");".utf8)) }
        return Checksum.sha256(data)
    }

    static func isMergedPass1(_ s: PartialState) -> Bool { s.analyzer == "anisotropy" && s.pass == 1 && s.arrays["directions"] != nil }

    /// Global row indices of the partition-function sample (nil = every row).
    static func partitionSample(rows n: Int, configuration c: AnisotropyConfiguration) -> [Int]? {
        guard n > c.partitionSample else { return nil }
        var rng = SeededGenerator(seed: c.seed &+ 1)
        return rng.sampleIndices(n, count: c.partitionSample)
    }

    /// The seeded cosine pairs of the single run, in its order.
    static func pairs(rows n: Int, configuration c: AnisotropyConfiguration) -> [(Int, Int)] {
        guard c.pairSample > 0 else { return [] }
        // The single run's draw (AnisotropyMetrics: `distinctPairs` with the same seed and count).
        var rng = SeededGenerator(seed: c.seed)
        // n(n − 1)/2 overflows Int beyond ~3·10⁹ rows, where it exceeds any pair sample anyway.
        let (product, overflow) = n.multipliedReportingOverflow(by: n - 1)
        let (first, second) = rng.pairSampleOrEveryPair(n, count: overflow ? c.pairSample : min(c.pairSample, product / 2))
        return Array(zip(first, second))
    }

    /// Pass 2 of one shard against the merged pass-1 state.
    ///
    /// - Complexity: O(r·d²) for the r sampled rows in the shard (one blocked GEMM against the d
    ///   directions), plus O(pairs) to find the shard's pair rows.
    public static func pass2(_ e: Embeddings, shard: ShardRecord, configuration: AnisotropyConfiguration, merged: LoadedState) throws -> PartialState {
        let m = merged.state, path = merged.path
        guard isMergedPass1(m) else { throw EmbdiagError.mismatch(path, "is not a merged anisotropy pass-1 state (write one with embdiag merge PASS1-STATES… \(Setting.stateOut) FILE)") }
        guard m.dimension == e.dimension else { throw EmbdiagError.mismatch(e.source.path, "dimension \(e.dimension) differs from \(path)'s \(m.dimension)") }
        guard m.rowOffset == 0 else { throw EmbdiagError.mismatch(path, "covers rows \(m.rowOffset)..<\(m.rowOffset + m.rowCount), not from row 0: merge every pass-1 state (a group of a tree merge is not the whole input)") }
        let settings = AnisotropyPartialSettings(configuration)
        if try settings != m.settings(AnisotropyPartialSettings.self, path: path) || configuration.seed != m.seed {
            throw EmbdiagError.mismatch(path, "was computed with other parameters or seed than this pass (\(m.parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")) seed=\(Int64(bitPattern: m.seed))): use the pass-1 options")
        }
        guard let mine = m.shards.first(where: { $0.rowOffset == shard.rowOffset && $0.rowCount == shard.rowCount }),
              mine.source.sha256 == nil || shard.source.sha256 == nil || mine.source.sha256 == shard.source.sha256 else {
            throw EmbdiagError.mismatch(e.source.path, "rows \(shard.rowOffset)..<\(shard.rowOffset + shard.rowCount) (SHA-256 \(shard.source.sha256 ?? "not computed")) are not a shard of the pass-1 merge \(path)")
        }
        let n = m.rowCount, d = e.dimension, o = shard.rowOffset
        let range = o..<(o + e.count)
        let basisVectors = Matrix(rows: d, cols: d, values: try m.array("directions", path: path).floats("directions", count: d * d, path: path))
        let directionValues = try m.array("direction_values", path: path).doubles("direction_values", count: d, path: path)
        // The single run's directions: eigenvectors, then probes inside degenerate eigenspaces.
        let directions = AnisotropyMetrics.partitionDirections(basisVectors, eigenvalues: directionValues)
        var rows = e.matrix
        if let sample = partitionSample(rows: n, configuration: configuration) {
            rows = e.matrix.gather(rows: sample.filter { range.contains($0) }.map { $0 - o })
        }
        var logZ = [(positive: Double, negative: Double)](repeating: (-.infinity, -.infinity), count: directions.rows)
        if rows.rows > 0 { logZ = AnisotropyMetrics.partitionLogZ(rows, directions: directions) }
        var pairRows = Set<Int>()
        for (i, j) in pairs(rows: n, configuration: configuration) {
            if range.contains(i) { pairRows.insert(i) }
            if range.contains(j) { pairRows.insert(j) }
        }
        let ids = pairRows.sorted()
        var vectors: [Float] = []
        vectors.reserveCapacity(ids.count * d)
        var norms: [Double] = []
        for g in ids {
            let r = e.matrix.pointer + (g - o) * d
            vectors += UnsafeBufferPointer(start: r, count: d)
            norms.append(squaredNorm(UnsafeRawPointer(r), count: d).squareRoot())
        }
        return PartialState(analyzer: "anisotropy", pass: 2, parameters: settings.parameters, seed: configuration.seed, dimension: d,
                            shards: [shard], basis: m.basis, arrays: [
                                "rows": .int64([Int64(e.count)]),
                                "logz_positive": .float64(logZ.map(\.positive)),
                                "logz_negative": .float64(logZ.map(\.negative)),
                                "partition_rows": .int64([Int64(rows.rows)]),
                                "pair_rows": .int64(ids.map { Int64($0) }),
                                "pair_vectors": .float32(vectors),
                                "pair_norms": .float64(norms),
                            ])
    }

    /// The analysis of the concatenated input from the merged pass-1 state and the ordered pass-2
    /// states.
    ///
    /// - Complexity: O(s·d + pairs·d + d³).
    public static func mergePass2(merged: LoadedState, ordered: [LoadedState]) throws -> AnisotropyAnalysis {
        let m = merged.state, path = merged.path
        let d = m.dimension
        for s in ordered where s.state.basis != m.basis {
            throw EmbdiagError.mismatch(s.path, "pass 2 was computed against another pass-1 merge than \(path) (basis \(s.state.basis ?? "none") vs \(m.basis ?? "none"))")
        }
        let covered = ordered.flatMap { $0.state.shards.map { [$0.rowOffset, $0.rowCount] } }
        let expected = m.shards.map { [$0.rowOffset, $0.rowCount] }
        guard covered == expected else {
            throw EmbdiagError.mismatch(ordered[0].path, "the pass-2 states cover shards \(covered.map { "\($0[0])..<\($0[0] + $0[1])" }.joined(separator: ", ")), the pass-1 merge \(path) has \(expected.map { "\($0[0])..<\($0[0] + $0[1])" }.joined(separator: ", "))")
        }
        func sum(_ name: String, _ count: Int) throws -> [Double] { try m.array(name, path: path).doubles(name, count: count, path: path) }
        let normSum = try sum("norm_sum", 1)[0], unitSum = try sum("unit_sum", d), unitSquareSum = try sum("unit_square_sum", d)
        let columnSum = try sum("column_sum", d), centredGram = try sum("centred_gram", d * d), directionValues = try sum("direction_values", d)

        let c = try configuration(from: m, path: path)
        let n = m.rowCount
        // Eigenvectors and the probes of their degenerate eigenspaces (`partitionDirections`).
        let directionCount = d + EigenClusters.clusters(directionValues).filter { $0.count >= 2 }.count * AnisotropyMetrics.probesPerCluster
        // log Z per direction: log-sum-exp over the shards, in row-offset order.
        var positive = [[Double]](), negative = [[Double]]()
        var partitionRows = 0
        var pairVectors: [Int: (values: ArraySlice<Float>, norm: Double)] = [:]
        // Each shard's part of the seeded samples is fixed by n and the seed: its partition rows
        // and its pair rows must be exactly that part (log Z over other rows is another number).
        let sample = partitionSample(rows: n, configuration: c)
        let sampledPairs = pairs(rows: n, configuration: c)
        for s in ordered {
            let part = s.state.rowOffset..<(s.state.rowOffset + s.state.rowCount)
            let expected = sample.map { $0.reduce(0) { $0 + (part.contains($1) ? 1 : 0) } } ?? part.count
            let counted = try s.state.array("partition_rows", path: s.path).ints("partition_rows", count: 1, path: s.path)[0]
            guard counted == expected else {
                throw EmbdiagError.malformed(s.path, "partial state array 'partition_rows' is \(counted); the seeded partition sample has \(expected) of rows \(part.lowerBound)..<\(part.upperBound)")
            }
            let expectedPairs = Set(sampledPairs.flatMap { [$0.0, $0.1] }.filter { part.contains($0) })
            let listed = try s.state.array("pair_rows", path: s.path).ints("pair_rows", path: s.path)
            guard Set(listed) == expectedPairs else {
                throw EmbdiagError.malformed(s.path, "partial state array 'pair_rows' lists \(listed.count) rows; the seeded cosine pairs use \(expectedPairs.count) rows of \(part.lowerBound)..<\(part.upperBound), not the same")
            }

            positive.append(try s.state.array("logz_positive", path: s.path).doubles("logz_positive", count: directionCount, path: s.path))
            negative.append(try s.state.array("logz_negative", path: s.path).doubles("logz_negative", count: directionCount, path: s.path))
            partitionRows += try s.state.array("partition_rows", path: s.path).ints("partition_rows", count: 1, path: s.path)[0]
            let ids = try s.state.array("pair_rows", path: s.path).ints("pair_rows", path: s.path)
            let vectors = try s.state.array("pair_vectors", path: s.path).floats("pair_vectors", count: ids.count * d, path: s.path)
            let norms = try s.state.array("pair_norms", path: s.path).doubles("pair_norms", count: ids.count, path: s.path)
            let range = s.state.rowOffset..<(s.state.rowOffset + s.state.rowCount)
            if let stray = ids.first(where: { !range.contains($0) }) {
                throw EmbdiagError.malformed(s.path, "pass-2 state carries sampled row \(stray), outside its rows \(range.lowerBound)..<\(range.upperBound)")
            }
            for (k, g) in ids.enumerated() { pairVectors[g] = (vectors[(k * d)..<((k + 1) * d)], norms[k]) }
        }
        func logSumExp(_ values: [Double]) -> Double {
            let top = values.max() ?? -.infinity
            guard top.isFinite else { return top }
            return top + Foundation.log(values.reduce(0) { $0 + Foundation.exp($1 - top) })
        }
        let logZ = (0..<directionCount).map { k in (positive: logSumExp(positive.map { $0[k] }), negative: logSumExp(negative.map { $0[k] })) }
        var cosines: [Double]? = nil
        if c.pairSample > 0 {
            var out: [Double] = []
            for (i, j) in pairs(rows: n, configuration: c) {
                guard let a = pairVectors[i], let b = pairVectors[j] else {
                    throw EmbdiagError.malformed(ordered[0].path, "the pass-2 states lack sampled row \(pairVectors[i] == nil ? i : j)")
                }
                out.append(sampledCosine(a.values, a.norm, b.values, b.norm))
            }
            cosines = out
        }
        let metrics = try AnisotropyMetrics(mergedRows: n, dimension: d, normSum: normSum, unitSum: unitSum, unitSquareSum: unitSquareSum,
                                            columnSum: columnSum, centredGram: centredGram, logZ: logZ, directionValues: directionValues,
                                            partitionRows: partitionRows, sampledCosines: cosines)
        var source = MergedSource.combined(m.shards.map(\.source), rows: n, dimension: d)
        source.format = m.shards[0].source.format
        return AnisotropyAnalysis(merged: metrics, source: source, configuration: c)
    }
}

extension AnisotropyAnalysis {
    init(merged: AnisotropyMetrics, source: Source, configuration: AnisotropyConfiguration) {
        self.configuration = configuration
        self.source = source
        self.before = merged
        self.after = nil
        self.transform = nil
        self.transformed = nil
    }
}

/// The settings of an anisotropy partial state (`PartialSettings`): those that change a number.
public struct AnisotropyPartialSettings: PartialSettings {
    public internal(set) var top: Int
    public internal(set) var pairSample: Int
    public internal(set) var partitionSample: Int
    /// IsoScore*'s ζ and prior, when computed.
    public internal(set) var isoScoreStar: (zeta: Double, prior: IsoScoreStar.Prior)?

    public init(_ c: AnisotropyConfiguration) {
        top = c.top
        pairSample = c.pairSample
        partitionSample = c.partitionSample
        isoScoreStar = c.isoScoreStarZeta.map { ($0, c.isoScoreStarPrior) }
    }

    public init(parameters: [String: String], path: String?) throws {
        var r = StateParameterReader(parameters, path: path)
        top = try r.int("top")
        pairSample = try r.int("pair_sample")
        partitionSample = try r.int("partition_sample")
        if r.optionalText("isoscore_zeta") != nil {
            isoScoreStar = (try r.double("isoscore_zeta"), try r.choice("isoscore_prior", as: IsoScoreStar.Prior.self))
        } else if r.optionalText("isoscore_prior") != nil {
            throw EmbdiagError.malformed(path, "partial state has isoscore_prior without isoscore_zeta")
        }
        try r.finish()
    }

    public var parameters: [String: String] {
        var p = ["top": String(top), "pair_sample": String(pairSample), "partition_sample": String(partitionSample)]
        if let (z, prior) = isoScoreStar {
            p["isoscore_zeta"] = "\(z)"
            p["isoscore_prior"] = prior.rawValue
        }
        return p
    }

    /// The configuration of a run with these settings.
    public func configuration(seed: UInt64) -> AnisotropyConfiguration {
        var c = AnisotropyConfiguration()
        c.top = top
        c.pairSample = pairSample
        c.partitionSample = partitionSample
        c.seed = seed
        if let (z, prior) = isoScoreStar {
            c.isoScoreStarZeta = z
            c.isoScoreStarPrior = prior
        }
        return c
    }

    public static func == (a: Self, b: Self) -> Bool { a.parameters == b.parameters }
}
