import EmbeddingDiagnostics
import Foundation

/// One fuzz input as a partial state file (what `embdiag merge` and `--directions` read). A plain
/// function so a normal test can replay a corpus through it. Any `EmbdiagError` is a correct
/// answer; a crash, a hang, another error type or a broken invariant is a bug.
///
/// The input is tried as it is (nearly always refused by the checksum) and resealed with its
/// checksum recomputed (`PartialStateFile.seal`), so the checks behind the checksum — tensor
/// table, shard list, payload row count — and the merge itself see the mutated header and payload.
/// A state that decodes must encode to a file that decodes to the same bytes, satisfy
/// `validate`, and be refused when given twice.
///
/// - Complexity: that of decoding and merging the input (linear in its size, plus the analyzer's
///   merge of one state).
public func fuzzStateFile(_ bytes: Data) throws {
    for candidate in [bytes, PartialStateFile.seal(bytes)] {
        let state: PartialState
        do { state = try PartialStateFile.decode(candidate, path: "fuzz.state") } catch is EmbdiagError { continue }
        try state.validate(path: "fuzz.state")
        precondition(state.rowCount >= 1 && !state.shards.isEmpty, "a decoded state covers no rows")
        // Round trip: what embdiag writes from the state reads back to the same file.
        let written = try PartialStateFile.encode(state)
        let again = try PartialStateFile.encode(try PartialStateFile.decode(written, path: "fuzz-again.state"))
        precondition(written == again, "encode → decode → encode changed the file")
        let loaded = LoadedState(path: "fuzz.state", state: state)
        for wantState in [false, true] {
            do { _ = try StateMerge.merge([loaded], wantState: wantState) } catch is EmbdiagError {}
        }
        // The same state twice never merges.
        var refused = false
        do { _ = try StateMerge.merge([loaded, LoadedState(path: "fuzz-copy.state", state: state)], wantState: state.pass == 1) } catch is EmbdiagError { refused = true }
        precondition(refused, "the same state given twice was merged")
    }
}

/// One fuzz input as a model fingerprint (`embdiag fingerprint --check MODEL.fp`), tried as it is
/// and resealed like a state. A fingerprint that decodes must round-trip to the same bytes and be
/// usable: a check of a fixed deterministic sample of its dimension (d ≤ 64, to keep inputs fast)
/// either answers with a score in its documented range [−5, 5] and finite row scores, or refuses
/// with an `EmbdiagError`; it never crashes.
///
/// - Complexity: that of decoding the input, plus O(m·d² + d³) for the check when it runs.
public func fuzzFingerprintFile(_ bytes: Data) throws {
    for candidate in [bytes, PartialStateFile.seal(bytes)] {
        let fingerprint: ModelFingerprint
        do { fingerprint = try FingerprintFile.decode(candidate, path: "fuzz.fp") } catch is EmbdiagError { continue }
        let written = try FingerprintFile.encode(fingerprint)
        let again = try FingerprintFile.encode(try FingerprintFile.decode(written, path: "fuzz-again.fp"))
        precondition(written == again, "encode → decode → encode changed the fingerprint file")
        let d = fingerprint.dimension
        guard d <= 64 else { continue }
        let matrix = Matrix(rows: 120, cols: d)
        for i in 0..<120 { for j in 0..<d { matrix[i, j] = Float(sin(Double(i * 31 + j * 7 + 1))) } }
        do {
            let check = try FingerprintCheck(fingerprint, against: Embeddings(matrix: matrix, name: "fuzz-sample"), mixed: true)
            precondition(check.sameModelScore.isFinite && abs(check.sameModelScore) <= FingerprintCheck.scoreBound
                         && check.flaggedScores?.allSatisfy(\.isFinite) ?? true
                         && check.orientationScore.map { $0.isFinite && abs($0) <= FingerprintCheck.scoreBound } ?? true,
                         "a fingerprint check gave a score outside its range")
        } catch is EmbdiagError {}
    }
}
