import Foundation

/// `embdiag depth --partial` for TTE depth with cosine distance (the default), in two passes
/// (Guides/Scale.md, "Depth"): cosine TTE depth needs only S = Σ_j û_j of the reference, so pass 1
/// sums the unit rows of every reference shard; the merged S (with the reference's row count) is
/// the state pass 2 reads, where every shard — of the reference (leave-one-out, as a single run) or
/// of the compared corpus — computes the depth of each of its rows. The final merge has every
/// depth in row order and runs the single run's rank-sum test, Q and tables on them (O(n) memory).
/// Other depths (chord, spatial, Mahalanobis) need every reference row for each query: they shard
/// in the reference-sample mode (`--reference-sample S --reference-rows N`, `DepthSamplePartial`),
/// where pass 1 collects the seeded sample's rows instead of Σ û. `--select-central` and several
/// compared corpora are not sharded.
public enum DepthPartial {
    static func parameters(_ c: DepthConfiguration, referenceRows: Int? = nil) -> [String: String] {
        DepthPartialSettings(c, referenceRows: referenceRows).parameters
    }

    static func requireShardable(_ c: DepthConfiguration, referenceRows: Int?) throws {
        if c.referenceSample != nil { return try DepthSamplePartial.requireShardable(c, referenceRows: referenceRows) }
        guard c.kind == .tte, c.distance == .cosine else {
            throw EmbdiagError.usage("\(Setting.partial) supports \(Setting.depth) tte with \(Setting.distance) cosine (the sum of the reference's unit rows); \(c.kind.rawValue)/\(c.distance.rawValue) needs every reference row for each query: shard it against a seeded sample (\(Setting.referenceSample) S \(Setting.referenceRows) N) or run it on one machine")
        }
        if referenceRows != nil { throw EmbdiagError.usage("\(Setting.referenceRows) goes with \(Setting.referenceSample) S") }
    }

    /// Pass 1: Σ û of one reference shard (with `--reference-sample`: the shard's rows of the
    /// seeded sample, `DepthSamplePartial.pass1`).
    ///
    /// - Parameter referenceRows: total rows of the reference (every shard), for the sample mode.
    /// - Complexity: O(n·d).
    public static func pass1(_ reference: Embeddings, shard: ShardRecord, configuration: DepthConfiguration, referenceRows: Int? = nil) throws -> PartialState {
        try requireShardable(configuration, referenceRows: referenceRows)
        if configuration.referenceSample != nil {
            return try DepthSamplePartial.pass1(reference, shard: shard, configuration: configuration, referenceRows: referenceRows!)
        }
        return PartialState(analyzer: "depth", pass: 1, parameters: parameters(configuration), seed: configuration.seed,
                            dimension: reference.dimension, shards: [shard],
                            arrays: ["rows": .int64([Int64(reference.count)]), "unit_sum": .float64(UnitVectorSums(reference.matrix).unitSum)])
    }

    static func isMergedPass1(_ s: PartialState) -> Bool { s.analyzer == "depth" && s.pass == 1 && s.basis != nil }

    /// Σ of the reference shards' unit sums in row-offset order.
    public static func mergePass1(_ ordered: [LoadedState]) throws -> PartialState {
        if try ordered[0].state.settings(DepthPartialSettings.self, path: ordered[0].path).referenceSample != nil { return try DepthSamplePartial.mergePass1(ordered) }
        let d = ordered[0].state.dimension
        var sum = [Double](repeating: 0, count: d)
        var n = 0
        for s in ordered {
            n += try s.state.array("rows", path: s.path).ints("rows", count: 1, path: s.path)[0]
            sum = zip(sum, try s.state.array("unit_sum", path: s.path).doubles("unit_sum", count: d, path: s.path)).map(+)
        }
        guard n >= 2 else { throw EmbdiagError.invalid(ordered[0].path, "depth needs at least 2 reference rows (the shards have \(n))") }
        return mergedPass1State(ordered, arrays: ["rows": .int64([Int64(n)]), "unit_sum": .float64(sum)],
                                payload: sum.withUnsafeBytes { Data($0) }, summary: "n=\(n);")
    }

    /// The merged pass-1 state of the ordered shard states, with its `basis`: SHA-256 of `payload`
    /// (the numbers pass 2 reads), `summary` and the shard list.
    static func mergedPass1State(_ ordered: [LoadedState], arrays: [String: StateArray], payload: Data, summary: String) -> PartialState {
        let first = ordered[0].state
        var merged = PartialState(analyzer: "depth", pass: 1, parameters: first.parameters, seed: first.seed, dimension: first.dimension,
                                  shards: ordered.flatMap(\.state.shards), arrays: arrays)
        merged.basis = basis(payload: payload, summary: summary, shards: merged.shards)
        return merged
    }

    /// SHA-256 of `payload`, `summary` and the shard list (`StatePayloadCheck` recomputes it).
    static func basis(payload: Data, summary: String, shards: [ShardRecord]) -> String {
        var digest = payload
        digest.append(Data(summary.utf8))
        for s in shards { digest.append(Data("\(s.rowOffset):\(s.rowCount):\(s.source.sha256 ?? "-");".utf8)) }
        return Checksum.sha256(digest)
    }

    /// Pass 2: the depth of every row of one shard of the reference (`other == false`,
    /// leave-one-out) or of the compared corpus, against the merged reference sum (with
    /// `--reference-sample`: against the merged sample, leave-one-out by sample position).
    ///
    /// - Complexity: O(n·d); with a sample of s rows O(n·s·d) (chord, spatial) or O(n·k·d).
    public static func pass2(_ e: Embeddings, shard: ShardRecord, other: Bool, configuration: DepthConfiguration, merged: LoadedState,
                             referenceRows: Int? = nil) throws -> PartialState {
        try requireShardable(configuration, referenceRows: referenceRows)
        let m = merged.state, path = merged.path
        guard isMergedPass1(m) else { throw EmbdiagError.mismatch(path, "is not a merged depth pass-1 state (write one with embdiag merge PASS1-STATES… \(Setting.stateOut) FILE)") }
        guard m.dimension == e.dimension else { throw EmbdiagError.mismatch(e.source.path, "dimension \(e.dimension) differs from the reference's \(m.dimension) (\(path))") }
        guard m.rowOffset == 0 else { throw EmbdiagError.mismatch(path, "covers reference rows \(m.rowOffset)..<\(m.rowOffset + m.rowCount), not from row 0: merge every pass-1 state") }
        let settings = DepthPartialSettings(configuration, referenceRows: referenceRows)
        if try settings != m.settings(DepthPartialSettings.self, path: path) {
            throw EmbdiagError.mismatch(path, "was computed with other options than this pass: use the pass-1 options")
        }
        if !other {
            guard m.shards.contains(where: { $0.rowOffset == shard.rowOffset && $0.rowCount == shard.rowCount && ($0.source.sha256 == nil || shard.source.sha256 == nil || $0.source.sha256 == shard.source.sha256) }) else {
                throw EmbdiagError.mismatch(e.source.path, "rows \(shard.rowOffset)..<\(shard.rowOffset + shard.rowCount) are not a reference shard of \(path) (add \(Setting.otherCorpus) for a shard of the compared corpus)")
            }
        }
        let n = m.rowCount, d = m.dimension
        let depths: [Double]
        if configuration.referenceSample != nil {
            depths = try DepthSamplePartial.depths(e, rowOffset: shard.rowOffset, other: other, configuration: configuration, merged: merged)
        } else {
            let sum = try m.array("unit_sum", path: path).doubles("unit_sum", count: d, path: path)
            let reference = DepthReference(cosineUnitSum: sum.map { Float($0) }, size: n)
            depths = reference.depths(of: e.matrix, rowOffset: shard.rowOffset, leaving: other ? nil : { LeftOutReferenceRow(position: $0) })
        }
        var arrays: [String: StateArray] = ["rows": .int64([Int64(e.count)]), "depths": .float64(depths), "corpus": .int64([other ? 1 : 0]), "has_labels": .int64([e.labels == nil ? 0 : 1])]
        if let labels = e.labels {
            let (b, l) = StateArray.strings(labels)
            arrays["labels_bytes"] = b
            arrays["labels_lengths"] = l
        }
        var p = settings
        p.corpus = other ? .other : .reference
        return PartialState(analyzer: "depth", pass: 2, parameters: p.parameters, seed: configuration.seed, dimension: d, shards: [shard], basis: m.basis, arrays: arrays)
    }

    /// The analysis of the concatenated corpora from the merged pass-1 state and the pass-2 states.
    ///
    /// - Complexity: O(n log n) for the ranks and tests.
    public static func mergePass2(merged: LoadedState, pass2: [LoadedState]) throws -> DepthAnalysis {
        let m = merged.state
        for s in pass2 where s.state.basis != m.basis {
            throw EmbdiagError.mismatch(s.path, "pass 2 was computed against another pass-1 merge than \(merged.path)")
        }
        let belongs = try pass2.map { try $0.state.settings(DepthPartialSettings.self, path: $0.path).corpus }
        if let i = belongs.firstIndex(where: { $0 == nil }) {
            throw EmbdiagError.malformed(pass2[i].path, "depth pass-2 state does not say which corpus it belongs to (parameter corpus)")
        }
        let reference = try ShardSet.ordered(zip(pass2, belongs).filter { $0.1 == .reference }.map(\.0))
        let others = zip(pass2, belongs).filter { $0.1 == .other }.map(\.0)
        let covered = reference.flatMap { $0.state.shards.map { [$0.rowOffset, $0.rowCount] } }
        guard covered == m.shards.map({ [$0.rowOffset, $0.rowCount] }) else {
            throw EmbdiagError.mismatch(reference[0].path, "the reference pass-2 states do not cover the reference shards of \(merged.path)")
        }
        let settings = try m.settings(DepthPartialSettings.self, path: merged.path)
        let c = settings.configuration(seed: m.seed)
        let sample = try DepthSamplePartial.reportedSample(merged, configuration: c)
        func corpus(_ ordered: [LoadedState]) throws -> CorpusDepths {
            var depths: [Double] = [], labels: [String] = []
            var labelled: Bool?
            for s in ordered {
                depths += try s.state.array("depths", path: s.path).doubles("depths", count: s.state.rowCount, path: s.path)
                let has = try s.state.array("has_labels", path: s.path).ints("has_labels", count: 1, path: s.path)[0] == 1
                if let labelled, labelled != has { throw EmbdiagError.mismatch(s.path, "label every shard of a corpus or none") }
                labelled = has
                if has { labels += try StateArray.decodeStrings(bytes: s.state.array("labels_bytes", path: s.path), lengths: s.state.array("labels_lengths", path: s.path), name: "labels", path: s.path) }
            }
            let sources = ordered.flatMap { $0.state.shards.map(\.source) }
            let source = MergedSource.combined(sources, rows: depths.count, dimension: m.dimension)
            return CorpusDepths(source: source, labels: labelled == true ? labels : nil, depths: depths)
        }
        var corpora = [try corpus(reference)]
        if settings.referenceSample == nil { try checkReferenceDepthSum(corpora[0].depths, merged: merged, states: reference) }
        if !others.isEmpty { corpora.append(try corpus(try ShardSet.ordered(others))) }
        return DepthAnalysis(mergedCorpora: corpora, configuration: c, referenceSampleRows: sample.rows, mahalanobisComponents: sample.components)
    }
}

extension DepthPartial {
    /// The leave-one-out cosine TTE depths of the reference add up to what Σ û fixes:
    /// Σ_i D_i = m + Σ_i (x̂_i·S − x̂_i·x̂_i)/(m − 1) = m + (S·S − m)/(m − 1), since Σ_i x̂_i = S.
    /// A depth edited in a resealed pass-2 state (each inside [0, 2]) moves the sum.
    ///
    /// Rounding: each depth is within 5ε of its exact value (ε = 2(d + 3)·2⁻²⁴, see
    /// `StatePayloadCheck.depthRange`); pass 2 uses S in Float32 (2⁻²⁴ relative) and Float32 unit
    /// rows that differ from the Float64 ones summed in pass 1 by 2·2⁻²⁴ each, which moves the
    /// sum by at most 3·2⁻²⁴·m²/(m − 1) ≤ 6·2⁻²⁴·m. The allowance is m·(5ε + 8·2⁻²⁴).
    ///
    /// - Complexity: O(m + d).
    static func checkReferenceDepthSum(_ depths: [Double], merged: LoadedState, states: [LoadedState]) throws {
        let m = Double(depths.count), d = merged.state.dimension
        guard depths.count >= 2 else { return }
        let sum = try merged.state.array("unit_sum", path: merged.path).doubles("unit_sum", count: d, path: merged.path)
        let sf = sum.map { Double(Float($0)) }
        let dot = zip(sum, sf).reduce(0.0) { $0 + $1.0 * $1.1 }
        let expected = m + (dot - m) / (m - 1)
        let total = depths.reduce(0, +)
        let u = 0x1p-24, eps = 2 * (Double(d) + 3) * u
        guard abs(total - expected) <= m * (5 * eps + 8 * u) else {
            let names = states.map(\.path).joined(separator: ", ")
            throw EmbdiagError.malformed(states[0].path, "partial state array 'depths' of the reference pass-2 states (\(names)) adds up to \(total); the merged pass-1 state \(merged.path)'s Σû gives \(expected) (leave-one-out cosine TTE depths add up to m + (‖S‖² − m)/(m − 1)): a depth was edited")
        }
    }
}

extension DepthReference {
    /// Cosine TTE depth from the reference's Σ û (Float32, as a single run keeps it) and size.
    init(cosineUnitSum: [Float], size: Int) {
        kind = .tte
        distance = .cosine
        unitRows = Matrix(rows: 0, cols: cosineUnitSum.count)
        unitSum = cosineUnitSum
        mean = []
        components = Matrix(rows: 0, cols: cosineUnitSum.count)
        componentVariances = []
        self.size = size
    }
}

extension DepthAnalysis {
    init(mergedCorpora corpora: [CorpusDepths], configuration: DepthConfiguration, referenceSampleRows: [Int]? = nil, mahalanobisComponents: Int? = nil) {
        self.configuration = configuration
        self.corpora = corpora
        tests = corpora.dropFirst().map {
            DepthRankTest.depthRankTest(referenceDepths: corpora[0].depths, otherDepths: $0.depths, alternative: configuration.alternative,
                          reference: corpora[0].source.path, other: $0.source.path)
        }
        if !tests.isEmpty {
            // The single run's reason where it would not permute either, else the merge's own.
            let pooled = tests.map { $0.referenceSize + $0.otherSize }.max()
            permutationSkipped = Self.permutationSkipReason(configuration, sampled: referenceSampleRows != nil, pooledRows: pooled)
                ?? "a merged \(Setting.partial) run cannot relabel rows across machines (each shard holds only its own rows): the p-value is the normal approximation of scipy's ranksums"
        }
        let p = tests.map(\.pValue)
        holmAdjusted = MultipleTesting.holmAdjusted(p)
        benjaminiHochbergAdjusted = MultipleTesting.benjaminiHochbergAdjusted(p)
        self.referenceSampleRows = referenceSampleRows
        self.mahalanobisComponents = mahalanobisComponents
    }
}

/// The settings of a depth partial state (`PartialSettings`): those that change a number, and for
/// a pass-2 state the corpus its shard belongs to.
public struct DepthPartialSettings: PartialSettings {
    public enum Corpus: String, Sendable, CaseIterable { case reference, other }

    public internal(set) var kind: DepthKind
    public internal(set) var distance: DepthDistance
    public internal(set) var alternative: Alternative
    public internal(set) var top: Int
    /// The reference-sample mode: sample size, the reference's total rows (nil: not given, a
    /// state no merge accepts) and the Mahalanobis components (Mahalanobis depth only).
    public internal(set) var referenceSample: Int?
    public internal(set) var referenceRows: Int?
    public internal(set) var components: Int?
    /// Pass 2: the corpus of the shard.
    public internal(set) var corpus: Corpus?

    public init(_ c: DepthConfiguration, referenceRows: Int? = nil) {
        kind = c.kind
        distance = c.distance
        alternative = c.alternative
        top = c.top
        referenceSample = c.referenceSample
        if c.referenceSample != nil {
            self.referenceRows = referenceRows
            if c.kind == .mahalanobis { components = c.mahalanobisComponents }
        }
    }

    /// "(unset)": the text a sample-mode state without the reference's row count has always had.
    static let unsetRows = "(unset)"

    public init(parameters: [String: String], path: String?) throws {
        var r = StateParameterReader(parameters, path: path)
        kind = try r.choice("depth", as: DepthKind.self)
        distance = try r.choice("distance", as: DepthDistance.self)
        alternative = try r.choice("alternative", as: Alternative.self)
        top = try r.int("top")
        referenceSample = try r.optionalInt("reference_sample")
        if referenceSample != nil {
            referenceRows = r.optionalText("reference_rows") == Self.unsetRows ? nil : try r.int("reference_rows")
            if kind == .mahalanobis { components = try r.int("components") }
        }
        corpus = try r.optionalText("corpus").map { _ in try r.choice("corpus", as: Corpus.self) }
        try r.finish()
    }

    public var parameters: [String: String] {
        var p = ["depth": kind.rawValue, "distance": distance.rawValue, "alternative": alternative.rawValue, "top": String(top)]
        if let s = referenceSample {
            p["reference_sample"] = String(s)
            p["reference_rows"] = referenceRows.map(String.init) ?? Self.unsetRows
            if let components { p["components"] = String(components) }
        }
        if let corpus { p["corpus"] = corpus.rawValue }
        return p
    }

    /// The configuration of a run with these settings.
    public func configuration(seed: UInt64) -> DepthConfiguration {
        var c = DepthConfiguration()
        c.kind = kind
        c.distance = distance
        c.alternative = alternative
        c.top = top
        c.seed = seed
        c.referenceSample = referenceSample
        if let components { c.mahalanobisComponents = components }
        return c
    }
}
