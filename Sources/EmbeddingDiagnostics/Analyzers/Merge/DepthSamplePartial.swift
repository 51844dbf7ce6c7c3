import Foundation

/// `embdiag depth --partial … --reference-sample S --reference-rows N`: the pairwise depths (chord
/// TTE, spatial, Mahalanobis — and cosine TTE) against the single run's seeded sample of S
/// reference rows, in two passes (Guides/Scale.md, "Depth against a reference sample").
///
/// The sample depends only on (N, S, seed) (`DepthConfiguration.referenceSampleRows(total:)`), so
/// pass 1 on every reference shard draws it itself and keeps the sampled rows it holds (global row,
/// place in the sample, Float32 values as read). The pass-1 merge checks that the shards tile rows
/// 0..<N and that every place of the sample is filled exactly once, and writes the sample matrix
/// in sample order — the single run's `gather(rows:)`. Pass 2 builds the single run's
/// `DepthReference` from it and measures every row of a shard (reference rows left out by their
/// place in the sample); the final merge is `DepthPartial.mergePass2`.
enum DepthSamplePartial {
    static func requireShardable(_ c: DepthConfiguration, referenceRows: Int?) throws {
        guard let n = referenceRows else {
            throw EmbdiagError.usage("\(Setting.partial) with \(Setting.referenceSample) needs \(Setting.referenceRows) N, the reference's total row count over all shards (every shard draws the single run's seeded sample from it)")
        }
        guard n >= 2 else { throw EmbdiagError.usage("\(Setting.referenceRows) must be at least 2 (got \(n))") }
        _ = try c.referenceSampleRows(total: n)  // the sample size's own check
    }

    /// Pass 1 of one reference shard: its rows of the seeded sample.
    ///
    /// - Complexity: O(s log s) to draw the s-row sample, O(s) to find the shard's part, O(r·d) to copy the r sampled rows
    ///   that fall in the shard.
    static func pass1(_ e: Embeddings, shard: ShardRecord, configuration c: DepthConfiguration, referenceRows n: Int) throws -> PartialState {
        let o = shard.rowOffset, d = e.dimension
        guard o + e.count <= n else {
            throw EmbdiagError.mismatch(e.source.path, "rows \(o)..<\(o + e.count) reach beyond \(Setting.referenceRows) \(n): give the reference's total row count over all shards")
        }
        let sample = try c.referenceSampleRows(total: n)
        var rows: [Int64] = [], positions: [Int64] = []
        if let sample {
            var p = sample.firstIndex { $0 >= o } ?? sample.count
            while p < sample.count, sample[p] < o + e.count {
                rows.append(Int64(sample[p]))
                positions.append(Int64(p))
                p += 1
            }
        } else {
            rows = (o..<(o + e.count)).map { Int64($0) }  // no sample: every row, in row order
            positions = rows
        }
        var values: [Float] = []
        values.reserveCapacity(rows.count * d)
        for g in rows { values += UnsafeBufferPointer(start: e.matrix.pointer + (Int(g) - o) * d, count: d) }
        return PartialState(analyzer: "depth", pass: 1, parameters: DepthPartial.parameters(c, referenceRows: n), seed: c.seed,
                            dimension: d, shards: [shard], arrays: [
                                "rows": .int64([Int64(e.count)]),
                                "sample_rows": .int64(rows),
                                "sample_positions": .int64(positions),
                                "sample_values": .float32(values),
                            ])
    }

    /// The sample matrix in sample order from every reference shard's pass-1 state.
    ///
    /// - Complexity: O(N) to check the row count, O(s·d) for the s sampled rows.
    static func mergePass1(_ ordered: [LoadedState]) throws -> PartialState {
        let first = ordered[0].state, d = first.dimension
        if let merged = ordered.first(where: { $0.state.basis != nil }) {
            throw EmbdiagError.usage("\(merged.path) is already a merged sample-mode depth state: merge the reference shards' pass-1 states at once (no tree of merges with \(Setting.referenceSample))")
        }
        let settings = try first.settings(DepthPartialSettings.self, path: ordered[0].path)
        guard let n = settings.referenceRows, let s = settings.referenceSample else {
            throw EmbdiagError.malformed(ordered[0].path, "sample-mode depth state lacks parameters reference_rows / reference_sample")
        }
        var covered = 0
        for st in ordered {
            let r = try st.state.array("rows", path: st.path).ints("rows", count: 1, path: st.path)[0]
            guard r == st.state.rowCount else { throw EmbdiagError.malformed(st.path, "partial state counts \(r) rows, its shard \(st.state.rowCount)") }
            covered += r
        }
        let begin = first.rowOffset
        guard begin == 0, covered == n else {
            throw EmbdiagError.mismatch(ordered[begin == 0 ? ordered.count - 1 : 0].path, "the reference shards given cover rows \(begin)..<\(begin + covered), but \(Setting.referenceRows) is \(n): merge the pass-1 states of every reference shard, run with the reference's total row count")
        }
        var c = DepthConfiguration()
        c.referenceSample = s
        c.seed = first.seed
        let sampleRows = try c.referenceSampleRows(total: n)
        let expected = sampleRows ?? Array(0..<n)
        var values = [Float](repeating: 0, count: expected.count * d)
        var holder = [Int?](repeating: nil, count: expected.count)
        for (k, st) in ordered.enumerated() {
            let rows = try st.state.array("sample_rows", path: st.path).ints("sample_rows", path: st.path)
            let positions = try st.state.array("sample_positions", path: st.path).ints("sample_positions", count: rows.count, path: st.path)
            let v = try st.state.array("sample_values", path: st.path).floats("sample_values", count: rows.count * d, path: st.path)
            for (i, (g, p)) in zip(rows, positions).enumerated() {
                guard p >= 0, p < expected.count, expected[p] == g, (st.state.rowOffset..<(st.state.rowOffset + st.state.rowCount)).contains(g) else {
                    throw EmbdiagError.malformed(st.path, "sample position \(p) with reference row \(g) is not the seeded sample of \(s) of \(n) rows (seed \(Int64(bitPattern: c.seed))) in this shard")
                }
                if let other = holder[p] {
                    throw EmbdiagError.mismatch(st.path, "sample position \(p) (reference row \(g)) is also in \(ordered[other].path): give every reference shard once")
                }
                holder[p] = k
                values.replaceSubrange((p * d)..<((p + 1) * d), with: v[(i * d)..<((i + 1) * d)])
            }
        }
        if let p = holder.firstIndex(where: { $0 == nil }) {
            let g = expected[p]
            let owner = ordered.first { $0.state.rowOffset <= g && g < $0.state.rowOffset + $0.state.rowCount }
            throw EmbdiagError.mismatch(owner?.path ?? ordered[0].path, "lacks reference row \(g), place \(p) of the seeded sample: its pass-1 state was written with other options (rerun pass 1 on that shard)")
        }
        return DepthPartial.mergedPass1State(ordered, arrays: [
            "rows": .int64([Int64(n)]),
            "sampled": .int64([sampleRows == nil ? 0 : 1]),
            "sample_rows": .int64(expected.map { Int64($0) }),
            "sample_values": .float32(values),
        ], payload: values.withUnsafeBytes { Data($0) }, summary: "n=\(n);s=\(expected.count);")
    }

    /// The merged sample: its rows (nil when every reference row is in it) and the matrix.
    static func sample(_ merged: LoadedState) throws -> (rows: [Int]?, matrix: Matrix) {
        let m = merged.state, path = merged.path, d = m.dimension
        let rows = try m.array("sample_rows", path: path).ints("sample_rows", path: path)
        let values = try m.array("sample_values", path: path).floats("sample_values", count: rows.count * d, path: path)
        let sampled = try m.array("sampled", path: path).ints("sampled", count: 1, path: path)[0] == 1
        return (sampled ? rows : nil, Matrix(rows: rows.count, cols: d, values: values))
    }

    /// Pass 2: the depth of every row of a shard against the merged sample, as a single run
    /// measures it (the same `DepthReference`; reference rows left out by their sample place).
    ///
    /// - Complexity: that of `DepthReference.depths(of:rowOffset:leaving:)`: O(n·s·d) for chord and
    ///   spatial depth, O(n·k·d) for Mahalanobis (plus its O(s·d² + d³) fit).
    static func depths(_ e: Embeddings, rowOffset: Int, other: Bool, configuration c: DepthConfiguration, merged: LoadedState) throws -> [Double] {
        let (rows, matrix) = try sample(merged)
        let reference = try DepthReference(matrix, configuration: c)
        guard c.kind != .mahalanobis else { return reference.depths(of: e.matrix, rowOffset: rowOffset) }
        // As a single run: reference rows leave themselves out, any other row a sample row equal to it.
        let own = other ? nil : DepthReference.referencePosition(sampleRows: rows, rowOffset: rowOffset)
        let leaving = DepthAnalysis.leftOutRows(own: own, ownCount: own == nil ? 0 : (rows == nil ? e.count : 0), queryCount: e.count) {
            CrossCorpusDuplicates.find(reference: Matrix.normalizedRows(matrix), other: Matrix.normalizedRows(e.matrix))
        }
        return reference.depths(of: e.matrix, rowOffset: rowOffset, leaving: leaving)
    }

    /// For the final merge's report: the sample rows (nil without a sample) and the Mahalanobis
    /// components used (`c` is the configuration of the merged state's settings).
    static func reportedSample(_ merged: LoadedState, configuration c: DepthConfiguration) throws -> (rows: [Int]?, components: Int?) {
        let m = merged.state
        guard c.referenceSample != nil else { return (nil, nil) }
        let rows = try m.array("sample_rows", path: merged.path).ints("sample_rows", path: merged.path)
        let sampled = try m.array("sampled", path: merged.path).ints("sampled", count: 1, path: merged.path)[0] == 1
        var components: Int?
        if c.kind == .mahalanobis {
            components = DepthReference.mahalanobisComponentCount(c.mahalanobisComponents, dimension: m.dimension, rows: rows.count)
        }
        return (sampled ? rows : nil, components)
    }
}
