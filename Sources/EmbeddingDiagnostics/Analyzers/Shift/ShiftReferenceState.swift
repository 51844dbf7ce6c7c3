import Foundation

/// A saved reference (`embdiag shift REF --save-reference ref.state`) as a state file: the same
/// versioned, self-verifying safetensors container as the `--partial` states (`PartialStateFile`:
/// a SHA-256 over the whole file, checked before anything is read), with analyzer
/// `shift-reference`. Payload:
/// - `rows` (I64 [1]): rows of the full reference (= the one shard's row count);
/// - `sample` (F32 S·d): the sample rows as read; `sample_rows` (I64 S): their file rows,
///   strictly increasing (S ≤ `rows`); `sample_labels_bytes`/`_lengths` (U8, I64 S) when labelled;
/// - `bandwidth` (F64 [1]): σ;
/// - `band_sizes` (I64), `band_counts` (I64), `band_scores` (F64): the bands drawn, by size.
/// - the sample's regions (`ReferenceRegions`): `clusters_centroids` (F32 k·d), `clusters_assignment`
///   (I64 S), `clusters_counts` (I64 k), `clusters_exemplars` (I64 k·3, −1 where a cluster has fewer
///   rows), `clusters_names_bytes`/`_lengths`, and `clusters_parameters` (I64: clusters asked for,
///   k from the rule (1/0), rows the k-means was fitted on, k of the k-NN balls, the sample's own new
///   rows). All or none: a reference saved without them tests windows without regions, and says so.
/// The counts come from the payload: S from `sample_rows`, checked against `sample`'s length and
/// the header's dimension. Guide: Guides/Shift.md ("Saved reference").
public enum ShiftReferenceState {
    public static let analyzer = "shift-reference"
    /// Bumped whenever the meaning of a field or array changes; other versions are refused.
    public static let version = 1

    /// - Complexity: O(S·d).
    public static func state(_ r: ShiftReference) -> PartialState {
        let d = r.sample.dimension, s = r.sample.count
        var arrays: [String: StateArray] = [
            "rows": .int64([Int64(r.totalRows)]),
            "sample": .float32(Array(UnsafeBufferPointer(start: r.sample.matrix.pointer, count: s * d))),
            "sample_rows": .int64((0..<s).map { Int64(r.sample.sourceRow($0)) }),
            "bandwidth": .float64([r.bandwidth]),
        ]
        if let labels = r.sample.labels {
            let (bytes, lengths) = StateArray.strings(labels)
            arrays["sample_labels_bytes"] = bytes
            arrays["sample_labels_lengths"] = lengths
        }
        let sizes = r.bands.keys.sorted()
        arrays["band_sizes"] = .int64(sizes.map { Int64($0) })
        arrays["band_counts"] = .int64(sizes.map { Int64(r.bands[$0]!.scores.count) })
        arrays["band_scores"] = .float64(sizes.flatMap { r.bands[$0]!.scores })
        if let g = r.regions {
            arrays["clusters_centroids"] = .float32(Array(UnsafeBufferPointer(start: g.centroids.pointer, count: g.centroids.rows * g.centroids.cols)))
            arrays["clusters_assignment"] = .int64(g.referenceAssignment.map { Int64($0) })
            arrays["clusters_counts"] = .int64(g.referenceCounts.map { Int64($0) })
            arrays["clusters_exemplars"] = .int64(g.exemplars.flatMap { e in (0..<ReferenceRegions.exemplarCount).map { $0 < e.count ? Int64(e[$0]) : -1 } })
            let (bytes, lengths) = StateArray.strings(g.names)
            arrays["clusters_names_bytes"] = bytes
            arrays["clusters_names_lengths"] = lengths
            arrays["clusters_parameters"] = .int64([Int64(g.requestedCount), g.countFromRule ? 1 : 0, Int64(g.fitRows), Int64(g.neighbors), Int64(g.referenceNewCount)])
        }
        let parameters = [
            "shift_reference_version": String(version),
            "band_chunks": String(r.bandChunks),
            "bandwidth_given": r.bandwidthGiven ? "true" : "false",
            "minimum_rows": String(r.minimumRows),
            "rows": rowsNote,
        ]
        return PartialState(analyzer: analyzer, parameters: parameters, seed: r.seed, dimension: d,
                            shards: [ShardRecord(id: "reference", rowOffset: 0, rowCount: r.totalRows, source: r.source)], arrays: arrays)
    }

    /// Writes the state atomically.
    public static func write(_ r: ShiftReference, to path: String) throws {
        try PartialStateFile.write(state(r), to: path)
    }

    /// Reads and checks a saved reference: the file's checksum and version (`PartialStateFile`),
    /// then the kind (`shift-reference`), its own version, and every count against the payload.
    ///
    /// - Complexity: O(file size).
    public static func read(_ path: String) throws -> ShiftReference {
        let state: PartialState
        do { state = try PartialStateFile.read(path) } catch let e as EmbdiagError {
            // The container's messages speak of partial states; say what the file was meant to be.
            throw EmbdiagError(e.kind, path: path, "not a valid saved shift reference: " + e.message)
        }
        return try reference(state, path: path)
    }

    public static func reference(_ state: PartialState, path: String?) throws -> ShiftReference {
        func bad(_ m: String) -> EmbdiagError { EmbdiagError.malformed(path, "saved shift reference: " + m) }
        guard state.analyzer == analyzer else {
            throw EmbdiagError.mismatch(path, "is a partial state of '\(state.analyzer)', not a saved shift reference (write one with shift REF --save-reference FILE)")
        }
        guard state.parameters["shift_reference_version"] == String(version) else {
            throw EmbdiagError.mismatch(path, "saved shift reference version \(state.parameters["shift_reference_version"] ?? "missing"); this embdiag reads version \(version) only (save the reference again with this embdiag)")
        }
        guard state.shards.count == 1, let shard = state.shards.first else { throw bad("expected one reference shard, found \(state.shards.count)") }
        // Every header field as the writer sets it: one pass, no basis, only its own parameters.
        guard state.pass == 1, state.basis == nil else { throw bad("pass \(state.pass)\(state.basis == nil ? "" : " with a basis") (a saved reference is one pass, without a basis)") }
        if let unknown = Set(state.parameters.keys).subtracting(parameterKeys).sorted().first { throw bad("unknown parameter \(unknown)") }
        guard let given = state.parameters["bandwidth_given"], given == "true" || given == "false" else {
            throw bad("bandwidth_given '\(state.parameters["bandwidth_given"] ?? "missing")' (expected true or false)")
        }
        guard state.parameters["rows"] == rowsNote else { throw bad("parameter rows '\(state.parameters["rows"] ?? "missing")' (expected '\(rowsNote)')") }
        let d = state.dimension
        let total = try state.array("rows", path: path).ints("rows", count: 1, path: path)[0]
        let sampleRows = try state.array("sample_rows", path: path).ints("sample_rows", path: path)
        let s = sampleRows.count
        guard s >= 1 else { throw bad("the sample is empty") }
        let values = try state.array("sample", path: path).floats("sample", path: path)
        guard values.count == s * d else { throw bad("'sample' holds \(values.count) values, \(s) rows × \(d) dimensions need \(s * d)") }
        // File rows of the reference (its rows after --on-invalid drop can leave gaps, so they are
        // bounded by order, not by the count).
        guard s <= total else { throw bad("a sample of \(s) rows from a reference of \(total)") }
        for (k, r) in sampleRows.enumerated() {
            guard r >= 0, k == 0 || r > sampleRows[k - 1] else { throw bad("'sample_rows' must be non-negative and increase strictly (entry \(k) is \(r))") }
        }
        if let bad = values.firstIndex(where: { !$0.isFinite }) {
            throw EmbdiagError.invalid(path, "saved shift reference: sample row \(bad / d) holds a NaN or infinite value")
        }
        let sigma = try state.array("bandwidth", path: path).doubles("bandwidth", count: 1, path: path)[0]
        guard sigma > 0, sigma.isFinite else { throw bad("bandwidth \(sigma) (expected a positive number)") }
        guard let chunks = state.parameters["band_chunks"].flatMap({ Int($0) }), chunks >= 1, chunks <= 1_000_000 else {
            throw bad("band_chunks '\(state.parameters["band_chunks"] ?? "missing")'")
        }
        guard let minimum = state.parameters["minimum_rows"].flatMap({ Int($0) }), minimum >= 2, minimum <= s else {
            throw bad("minimum_rows '\(state.parameters["minimum_rows"] ?? "missing")'")
        }
        let sizes = try state.array("band_sizes", path: path).ints("band_sizes", path: path)
        let counts = try state.array("band_counts", path: path).ints("band_counts", count: sizes.count, path: path)
        let scores = try state.array("band_scores", path: path).doubles("band_scores", path: path)
        guard counts.allSatisfy({ $0 >= 1 && $0 <= scores.count }), counts.reduce(0, +) == scores.count else {
            throw bad("band_counts \(counts) do not add up to the \(scores.count) band scores")
        }
        guard scores.allSatisfy(\.isFinite) else { throw bad("a band score is not finite") }
        var bands: [Int: ReferenceVariationBand] = [:]
        var at = 0
        for (size, count) in zip(sizes, counts) {
            guard ReferenceVariationBand.fits(chunkSize: size, sampleRows: s, minimumRows: 2), bands[size] == nil else {
                throw bad("band size \(size) does not fit a sample of \(s) rows, or appears twice")
            }
            bands[size] = ReferenceVariationBand(chunkSize: size, scores: Array(scores[at..<(at + count)]))
            at += count
        }
        for name in state.arrays.keys where !known.contains(name) && !regionArrays.contains(name) {
            throw bad("unknown array '\(name)'")
        }
        var labels: [String]?
        if let bytes = state.arrays["sample_labels_bytes"], let lengths = state.arrays["sample_labels_lengths"] {
            let l = try StateArray.decodeStrings(bytes: bytes, lengths: lengths, name: "sample_labels", path: path)
            guard l.count == s else { throw bad("\(l.count) sample labels for \(s) rows") }
            labels = l
        } else if state.arrays["sample_labels_bytes"] != nil || state.arrays["sample_labels_lengths"] != nil {
            throw bad("sample labels need both sample_labels_bytes and sample_labels_lengths")
        }
        var source = shard.source
        source.rows = s
        var sample = Embeddings(matrix: Matrix(rows: s, cols: d, values: values), labels: labels, source: source)
        sample.sourceRows = sampleRows
        var full = shard.source
        full.rows = total
        guard shard.rowCount == total else { throw bad("the shard covers \(shard.rowCount) rows, 'rows' says \(total)") }
        return ShiftReference(sample: sample, source: full, totalRows: total, bandwidth: sigma, bandwidthGiven: state.parameters["bandwidth_given"] == "true",
                              seed: state.seed, bandChunks: chunks, bands: bands, minimumRows: minimum,
                              regions: try regions(state, sampleRows: s, dimension: d, path: path))
    }

    static let regionArrays: Set<String> = ["clusters_centroids", "clusters_assignment", "clusters_counts", "clusters_exemplars",
                                            "clusters_names_bytes", "clusters_names_lengths", "clusters_parameters"]

    /// The sample's regions from their arrays (nil when the reference was saved without them);
    /// every count and index is checked against the sample before use.
    ///
    /// - Complexity: O(S + k·d).
    static func regions(_ state: PartialState, sampleRows s: Int, dimension d: Int, path: String?) throws -> ReferenceRegions? {
        func bad(_ m: String) -> EmbdiagError { EmbdiagError.malformed(path, "saved shift reference: clusters: " + m) }
        let present = regionArrays.filter { state.arrays[$0] != nil }
        guard !present.isEmpty else { return nil }
        guard present.count == regionArrays.count else {
            throw bad("missing \(regionArrays.subtracting(present).sorted().joined(separator: ", ")) (the clusters are saved all or none)")
        }
        let p = try state.array("clusters_parameters", path: path).ints("clusters_parameters", count: 5, path: path)
        let counts = try state.array("clusters_counts", path: path).ints("clusters_counts", path: path)
        let k = counts.count
        guard k >= 1, k <= s, p[0] >= k, p[0] <= s, p[1] == 0 || p[1] == 1, p[2] >= 1, p[2] <= s, p[3] >= 1, p[3] < s else {
            throw bad("parameters \(p) do not fit \(k) clusters of a \(s)-row sample")
        }
        let centroids = try state.array("clusters_centroids", path: path).floats("clusters_centroids", count: k * d, path: path)
        guard centroids.allSatisfy(\.isFinite) else { throw bad("a centre holds a NaN or infinite value") }
        let assignment = try state.array("clusters_assignment", path: path).ints("clusters_assignment", count: s, path: path)
        let flat = try state.array("clusters_exemplars", path: path).ints("clusters_exemplars", count: k * ReferenceRegions.exemplarCount, path: path)
        guard flat.allSatisfy({ $0 >= -1 && $0 < s }) else { throw bad("an exemplar row lies outside the sample") }
        let exemplars = (0..<k).map { c in flat[(c * ReferenceRegions.exemplarCount)..<((c + 1) * ReferenceRegions.exemplarCount)].filter { $0 >= 0 } }
        guard exemplars.allSatisfy({ Set($0).count == $0.count }) else { throw bad("a cluster lists an exemplar row twice") }
        guard assignment.allSatisfy({ $0 >= 0 && $0 < k }) else { throw bad("an assignment names a cluster outside 1…\(k)") }
        var tally = [Int](repeating: 0, count: k)
        for c in assignment { tally[c] += 1 }
        guard tally == counts else { throw bad("counts \(counts) differ from the assignment's \(tally)") }
        guard exemplars.enumerated().allSatisfy({ c, rows in !rows.isEmpty && rows.allSatisfy { assignment[$0] == c } }) else {
            throw bad("an exemplar row is not in its cluster")
        }
        let names = try StateArray.decodeStrings(bytes: state.array("clusters_names_bytes", path: path),
                                                 lengths: state.array("clusters_names_lengths", path: path), name: "clusters_names", path: path)
        do {
            return try ReferenceRegions(requestedCount: p[0], countFromRule: p[1] == 1, centroids: Matrix(rows: k, cols: d, values: centroids),
                                        referenceAssignment: assignment, referenceCounts: counts, fitRows: p[2], exemplars: exemplars, names: names,
                                        neighbors: p[3], referenceNewCount: p[4], seed: state.seed)
        } catch let e as EmbdiagError {
            throw bad(e.message)
        }
    }

    static let rowsNote = "unit-normalised by the tests"
    static let parameterKeys: Set<String> = ["shift_reference_version", "band_chunks", "bandwidth_given", "minimum_rows", "rows"]

    static let known: Set<String> = ["rows", "sample", "sample_rows", "bandwidth", "sample_labels_bytes", "sample_labels_lengths",
                                     "band_sizes", "band_counts", "band_scores"]
}
