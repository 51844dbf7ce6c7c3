import EmbeddingDiagnostics
import Foundation

/// The body of every reader harness, compiled twice: into the libFuzzer binary (fuzz/run, with
/// AddressSanitizer) and into the test target (a symlink), where the replay test runs it on every
/// past crash input and a small corpus per format in the ordinary release test build.
///
/// One input is one file's bytes: it is written to `scratch` (readers take paths, as users give
/// them) and read with the format forced. Any `EmbdiagError` is a correct answer; a crash, a hang,
/// another error type or a broken invariant (thrown as `Violation`) is a bug.
public enum ReaderHarness {
    /// Every format the harness takes (FUZZ_FORMAT); fuzz/run lists the same names.
    public static let formats = ["npy", "npz", "safetensors", "word2vec-binary", "word2vec-text", "glove", "csv", "tsv", "fvecs",
                                 "labels", "pairing", "jsonl", "faiss", "parquet", "postgres-text", "postgres-binary"]

    /// A broken promise of the reader under test (not an input error).
    public struct Violation: Error, CustomStringConvertible {
        public var description: String
    }

    /// Reads `bytes` as `format`; returns normally for a value or an `EmbdiagError`.
    /// - Complexity: that of the reader on `bytes.count` bytes.
    public static func run(format: String, bytes: Data, scratch: String, matrixPath: String) throws {
        guard FileManager.default.createFile(atPath: scratch, contents: bytes) else {
            throw Violation(description: "cannot write the scratch file \(scratch)")
        }
        do {
            if format == "postgres-text" || format == "postgres-binary" {
                _ = try PostgresReader.decodeVector([UInt8](bytes), binary: format == "postgres-binary")
            } else if format == "labels" {
                _ = try LabelsFile.read(scratch, expectedCount: 3, matrixPath: matrixPath)
            } else if format == "pairing" {
                try pairing(bytes, scratch: scratch, matrixPath: matrixPath)
            } else if let f = EmbeddingFormat(rawValue: format) {
                let e = try EmbeddingReader.read(scratch, options: ReadOptions(format: f, computeChecksum: false))
                // Touch every value and label so lazily mapped data is really read.
                _ = ValidationSummary(e)
                _ = Matrix.rowNorms(e.matrix)
                guard e.matrix.rows == e.source.rows, e.matrix.cols == e.source.dim, e.labels.map({ $0.count == e.matrix.rows }) ?? true else {
                    throw Violation(description: "\(format): shape \(e.matrix.rows) × \(e.matrix.cols) disagrees with its source or labels")
                }
            } else {
                throw Violation(description: "unknown harness format '\(format)'")
            }
        } catch is EmbdiagError {
        } catch let v as Violation {
            throw v
        } catch {
            // Non-EmbdiagError errors break the one-line error promise.
            throw Violation(description: "\(format): the reader threw a non-EmbdiagError: \(error)")
        }
    }

    /// Labels / id pairing (compat --pair-by label): the input is two id lists separated by a NUL
    /// byte, one id per line. Whatever they hold, pairing either throws an EmbdiagError or returns
    /// pairs of equal ids, each row at most once, with counts that add up.
    static func pairing(_ bytes: Data, scratch: String, matrixPath: String) throws {
        let halves = bytes.split(separator: 0, maxSplits: 1, omittingEmptySubsequences: false)
        func ids(_ d: Data.SubSequence?) -> [String] {
            guard let d else { return [] }
            return String(decoding: d, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        }
        func check(_ ok: Bool, _ what: String) throws { if !ok { throw Violation(description: "pairing: \(what)") } }
        let a = ids(halves.first), b = ids(halves.count > 1 ? halves[1] : nil)
        for policy in DuplicateIdPolicy.allCases {
            let p: IdPairing
            do { p = try IdPairing(idsA: a, idsB: b, nameA: "a", nameB: "b", duplicates: policy) } catch is EmbdiagError {
                try check(policy == .error && (Set(a).count < a.count || Set(b).count < b.count), "refused unique ids")
                continue
            }
            try check(p.rowsA.count == p.rowsB.count, "unequal pair counts")
            try check(Set(p.rowsA).count == p.rowsA.count && Set(p.rowsB).count == p.rowsB.count, "a row paired twice")
            for (i, j) in zip(p.rowsA, p.rowsB) { try check(a[i] == b[j], "paired rows with different ids") }
            try check(p.rowsA.count + p.unmatchedA + p.duplicateRowsA == a.count, "OLD rows do not add up")
            try check(p.rowsB.count + p.unmatchedB + p.duplicateRowsB == b.count, "NEW rows do not add up")
        }
        // The same ids through the labels reader (one per line, CRLF tolerated).
        try Data(bytes.prefix { $0 != 0 }).write(to: URL(fileURLWithPath: scratch))
        _ = try? LabelsFile.read(scratch, expectedCount: a.count, matrixPath: matrixPath)
    }
}
