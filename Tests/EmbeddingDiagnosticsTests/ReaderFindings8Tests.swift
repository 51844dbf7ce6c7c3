import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// Findings of an independent hostile test of the readers: JSON ids beyond 2^53 rounded through
/// float64, Parquet unsigned and decimal label columns, invalid UTF-8 in labels replaced by
/// U+FFFD, .npy type codes with a byte-order character, a CSV's first row of integers taken as a
/// header, float32 underflow in the text readers, `_`-prefixed files of a Parquet directory,
/// safetensors offsets `-0`, FAISS metric types and word2vec binary files of 0 rows.
/// Reference values come from Python's json, numpy and pyarrow (noted beside each).
@Suite(.serialized) struct ReaderFindings8Tests {
    static let fixtures = CLI.fixtures.appendingPathComponent("malformed/findings8")
    static func fixture(_ name: String) -> String { fixtures.appendingPathComponent(name).path }
    // nonisolated(unsafe): parsed once, only read.
    nonisolated(unsafe) static let expected: [String: Any] = {
        let data = try! Data(contentsOf: fixtures.appendingPathComponent("expected.json"))
        return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
    }()

    static func read(_ path: String, _ configure: (inout ReadOptions) -> Void = { _ in }) throws -> Embeddings {
        var o = ReadOptions(computeChecksum: false)
        configure(&o)
        return try EmbeddingReader.read(path, options: o)
    }

    /// The reader's error (or what it read, for a file it should refuse).
    static func refusal(_ path: String, _ configure: (inout ReadOptions) -> Void = { _ in }) -> String {
        do {
            let e = try read(path, configure)
            return "read \(e.count) × \(e.dimension), labels \(e.labels ?? [])"
        } catch { return "\(error)" }
    }

    static func write(_ text: String, _ name: String, in dir: String) throws -> String {
        try text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8)
        return dir + "/" + name
    }

    static func metrics(_ stdout: String) throws -> [String: Any] {
        let json = try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as! [String: Any]
        return json["metrics"] as! [String: Any]
    }

    // MARK: A2 — Parquet unsigned and decimal label columns

    /// uint32 4294967295 was read as -1, uint64 2^63 as -2^63; decimal128 2.20 as its raw bytes.
    /// pyarrow: str() of each value (expected.json); decimal label columns are refused by name.
    @Test func parquetUnsignedLabelsAreUnsignedAndDecimalIsRefused() throws {
        for name in ["label-uint32.parquet", "label-uint64.parquet"] {
            let e = try Self.read(Self.fixture(name)) { $0.sources.labelColumn = "id" }
            #expect(e.labels == Self.expected[name] as? [String], "\(name): \(e.labels ?? [])")
            let m = Self.expected["matrix"] as! [[Double]]
            #expect((0..<4).allSatisfy { i in (0..<3).allSatisfy { e.matrix[i, $0] == Float(m[i][$0]) } })
        }
        #expect(Self.refusal(Self.fixture("label-decimal.parquet")) { $0.sources.labelColumn = "id" }
            .contains("label column 'id' is decimal(5,2); expected strings or integers"))
        let r = try CLI.run(["info", Self.fixture("label-decimal.parquet"), "--label-column", "id", "--json", "-"])
        #expect(r.status == 2 && r.stderr.split(separator: "\n").count == 1 && r.stderr.contains("decimal(5,2)"), "\(r.stderr)")
        // Without the label column the file reads (the decimal column is not a vector column).
        #expect(try Self.read(Self.fixture("label-decimal.parquet")).count == 4)
    }

    // MARK: A15 — files a Parquet dataset does not hold

    /// `_tmp-attempt.parquet` beside part-0/part-1 was read as data (18 rows);
    /// `pyarrow.dataset.dataset(dir).count_rows()` is 12, in the rows of expected.json.
    @Test func parquetDirectorySkipsUnderscoreFiles() throws {
        let ds = Self.expected["dataset"] as! [String: Any]
        let e = try Self.read(Self.fixture("dataset"))
        #expect(e.count == ds["rows"] as? Int)
        let m = ds["matrix"] as! [[Double]]
        #expect(e.count == m.count && (0..<e.count).allSatisfy { i in (0..<e.dimension).allSatisfy { e.matrix[i, $0] == Float(m[i][$0]) } })
        // A directory of such files only has no data files.
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.copyItem(atPath: Self.fixture("dataset/_tmp-attempt.parquet"), toPath: dir + "/_only.parquet")
        #expect(Self.refusal(dir).contains("is a directory without .parquet files (names starting with _ or . are not data and are skipped)"), "\(Self.refusal(dir))")
    }
}
