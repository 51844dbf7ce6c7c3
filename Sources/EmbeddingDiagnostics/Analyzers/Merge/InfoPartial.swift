import Foundation

/// `embdiag info --partial`: what a shard contributes to the summary of the concatenated input,
/// and the merge. Norm moments merge by Chan et al.'s pairwise update (count, mean, M2) in row-
/// offset order; min/max, counts and row lists are exact; duplicate labels come from per-shard
/// label counts (all distinct labels are stored, so the state grows with the vocabulary).
public enum InfoPartial {
    static let firstLabels = 20

    /// The state of one shard whose first row is global row `shard.rowOffset`.
    ///
    /// - Complexity: O(n·d) plus O(n log n) for the labels.
    public static func state(_ e: Embeddings, shard: ShardRecord) -> PartialState {
        let summary = EmbeddingSummary(e)
        let o = shard.rowOffset
        let bad = Set(summary.validation.nonFiniteRows)
        let norms = Matrix.rowNorms(e.matrix).enumerated().filter { !bad.contains($0.offset) }.map(\.element)
        let count = Double(norms.count)
        let mean = norms.isEmpty ? 0 : norms.reduce(0, +) / count
        let m2 = norms.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        let unit = Double(norms.filter { abs($0 - 1) < 1e-3 }.count)
        var arrays: [String: StateArray] = [
            "rows": .int64([Int64(e.count)]),
            "norm_moments": .float64([count, norms.min() ?? .nan, norms.max() ?? .nan, mean, m2, unit]),
            "null_rows": .int64(summary.validation.nullRows.map { Int64($0 + o) }),
            "nan_rows": .int64(summary.validation.nanRows.map { Int64($0 + o) }),
            "inf_rows": .int64(summary.validation.infinityRows.map { Int64($0 + o) }),
            "zero_rows": .int64(summary.validation.zeroRows.map { Int64($0 + o) }),
            "has_labels": .int64([e.labels == nil ? 0 : 1]),
        ]
        if let labels = e.labels {
            var counts: [LabelKey: Int] = [:]
            for l in labels { counts[LabelKey(l), default: 0] += 1 }
            let distinct = counts.keys.sorted()
            let (b, l) = StateArray.strings(distinct.map(\.string))
            arrays["labels_bytes"] = b
            arrays["labels_lengths"] = l
            arrays["labels_counts"] = .int64(distinct.map { Int64(counts[$0]!) })
            let (fb, fl) = StateArray.strings(Array(labels.prefix(firstLabels)))
            arrays["first_labels_bytes"] = fb
            arrays["first_labels_lengths"] = fl
        }
        return PartialState(analyzer: "info", parameters: [:], seed: 0, dimension: e.dimension, shards: [shard], arrays: arrays)
    }

    /// The summary of the concatenated shards (states already ordered by `ShardSet.ordered`).
    ///
    /// - Complexity: O(total rows listed + distinct labels · log).
    public static func merge(_ ordered: [LoadedState]) throws -> EmbeddingSummary {
        var count = 0.0, mean = 0.0, m2 = 0.0, unit = 0.0
        var lo = Double.infinity, hi = -Double.infinity
        var null: [Int] = [], nan: [Int] = [], inf: [Int] = [], zero: [Int] = []
        var labelCounts: [LabelKey: Int] = [:]
        var first: [String] = []
        var labelled: Bool?
        for s in ordered {
            let p = s.path, st = s.state
            let mom = try st.array("norm_moments", path: p).doubles("norm_moments", count: 6, path: p)
            let (nb, mb, m2b) = (mom[0], mom[3], mom[4])
            if nb > 0 {
                let total = count + nb
                let delta = mb - mean
                mean += delta * nb / total
                m2 += m2b + delta * delta * count * nb / total
                count = total
                lo = min(lo, mom[1])
                hi = max(hi, mom[2])
                unit += mom[5]
            }
            // Counts from the payload must fit the rows the state covers.
            let range = st.rowOffset..<(st.rowOffset + st.rowCount)
            guard nb >= 0, nb <= Double(st.rowCount), mom[5] >= 0, mom[5] <= nb else {
                throw EmbdiagError.malformed(p, "partial state counts \(nb) norms (\(mom[5]) unit) over \(st.rowCount) rows")
            }
            for name in ["null_rows", "nan_rows", "inf_rows", "zero_rows"] {
                let rows = try st.array(name, path: p).ints(name, path: p)
                if let stray = rows.first(where: { !range.contains($0) }) {
                    throw EmbdiagError.malformed(p, "partial state lists \(name) row \(stray), outside its rows \(range.lowerBound)..<\(range.upperBound)")
                }
                switch name {
                case "null_rows": null += rows
                case "nan_rows": nan += rows
                case "inf_rows": inf += rows
                default: zero += rows
                }
            }
            let has = try st.array("has_labels", path: p).ints("has_labels", count: 1, path: p)[0] == 1
            if let labelled, labelled != has {
                throw EmbdiagError.mismatch(p, "has \(has ? "" : "no ")labels but \(ordered[0].path) has\(labelled ? "" : " none"): label every shard or none")
            }
            labelled = has
            if has {
                let names = try StateArray.decodeStrings(bytes: st.array("labels_bytes", path: p), lengths: st.array("labels_lengths", path: p), name: "labels", path: p)
                let counts = try st.array("labels_counts", path: p).ints("labels_counts", count: names.count, path: p)
                // One count per distinct label, each at least 1, summing to the shard's rows (every
                // row has a label): so no sum below can overflow, whatever the file says.
                var total = 0
                for c in counts {
                    guard c >= 1, c <= st.rowCount else { total = -1; break }
                    total += c
                    if total > st.rowCount { break }
                }
                guard total == st.rowCount, Set(names.map(LabelKey.init)).count == names.count else {
                    throw EmbdiagError.malformed(p, "partial state label counts do not add up to its \(st.rowCount) rows (or repeat a label)")
                }
                for (n, c) in zip(names, counts) { labelCounts[LabelKey(n), default: 0] += c }
                if first.count < firstLabels {
                    let f = try StateArray.decodeStrings(bytes: st.array("first_labels_bytes", path: p), lengths: st.array("first_labels_lengths", path: p), name: "first_labels", path: p)
                    first += f.prefix(firstLabels - first.count)
                }
            }
        }
        var validation = ValidationSummary(Embeddings(matrix: Matrix(rows: 0, cols: 0)))
        validation.nullRows = null.sorted()
        validation.nanRows = nan.sorted()
        validation.infinityRows = inf.sorted()
        validation.zeroRows = zero.sorted()
        validation.duplicateLabels = labelCounts.filter { $0.value > 1 }.map { ($0.key.string, $0.value) }.sorted { LabelKey.precedes($0.label, $1.label) }
        let sources = ordered.flatMap { $0.state.shards.map(\.source) }
        let source = MergedSource.combined(sources, rows: ordered.reduce(0) { $0 + $1.state.rowCount }, dimension: ordered[0].state.dimension)
        return EmbeddingSummary(merged: source, hasLabels: labelled ?? false,
                                normMinimum: count > 0 ? lo : .nan, normMean: count > 0 ? mean : .nan,
                                normMaximum: count > 0 ? hi : .nan, normStandardDeviation: count > 0 ? (m2 / count).squareRoot() : .nan,
                                unitNormFraction: count > 0 ? unit / count : .nan, validation: validation, exampleLabels: first)
    }
}

extension EmbeddingSummary {
    /// A summary assembled from merged shard states.
    init(merged source: Source, hasLabels: Bool, normMinimum: Double, normMean: Double, normMaximum: Double,
         normStandardDeviation: Double, unitNormFraction: Double, validation: ValidationSummary, exampleLabels: [String]) {
        self.source = source
        self.hasLabels = hasLabels
        self.normMinimum = normMinimum
        self.normMean = normMean
        self.normMaximum = normMaximum
        self.normStandardDeviation = normStandardDeviation
        self.unitNormFraction = unitNormFraction
        self.validation = validation
        self.exampleLabels = exampleLabels
    }
}

/// The `Source` a merged report describes: the concatenation of the shards (no single file, so no
/// SHA-256: every shard's checksum is in the report's inputs).
enum MergedSource {
    static func combined(_ sources: [Source], rows: Int, dimension: Int) -> Source {
        let formats = Set(sources.map(\.format.rawValue)), dtypes = Set(sources.map(\.dtype))
        let name = sources.count == 1 ? sources[0].path : "\(sources.count) shards (\(sources.first!.path) … \(sources.last!.path))"
        var s = Source(path: name, format: sources[0].format, dtype: dtypes.count == 1 ? sources[0].dtype : dtypes.sorted().joined(separator: "+"),
                       rows: rows, dim: dimension, sha256: nil, key: sources[0].key)
        if formats.count > 1 { s.dtype += " (mixed formats: \(formats.sorted().joined(separator: ", ")))" }
        return s
    }
}
