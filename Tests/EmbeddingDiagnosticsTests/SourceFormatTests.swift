import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// JSONL, FAISS and Parquet readers against files written by the real producers
/// (scripts/fixtures/make_source_fixtures.py: json, faiss.write_index, pyarrow.parquet): every valid
/// source must give the rows of the numpy reference matrix bit for bit, with its labels; every
/// malformed one a one-line EmbdiagError naming the file and the problem.
@Suite struct SourceFormatTests {
    static let dir = CLI.fixtures.appendingPathComponent("sources")
    static func fixture(_ name: String) -> String { dir.appendingPathComponent(name).path }

    // nonisolated(unsafe): parsed JSON (immutable Foundation values), never written after it is loaded,
    // so the parallel tests only read it.
    nonisolated(unsafe) static let manifest: [String: [String: Any]] = {
        let data = try! Data(contentsOf: dir.appendingPathComponent("manifest.json"))
        return (try! JSONSerialization.jsonObject(with: data) as! [String: Any]).compactMapValues { $0 as? [String: Any] }
            .filter { !$0.key.hasPrefix("_") }
    }()

    static func options(_ entry: [String: Any], dropNulls: Bool = false) -> ReadOptions {
        let o = entry["options"] as? [String: String] ?? [:]
        var r = ReadOptions()
        r.sources = SourceOptions(jsonPath: o["json_path"], labelPath: o["label_path"], column: o["column"],
                                  labelColumn: o["label_column"], dropNulls: dropNulls)
        return r
    }

    @Test(arguments: manifest.keys.sorted())
    func readsEveryValidSource(name: String) throws {
        let entry = Self.manifest[name]!
        let reference = try NpyReader.read(Self.fixture(entry["reference"] as! String))
        let rows = entry["rows"] as! [Int]
        let nullRows = entry["null_rows"] as! [Int]
        let e = try EmbeddingReader.read(Self.fixture(name), options: Self.options(entry, dropNulls: !nullRows.isEmpty))
        #expect(e.count == rows.count && e.dimension == reference.dimension, "\(name): \(e.count) × \(e.dimension)")
        #expect(e.source.format.rawValue == entry["format"] as? String, "\(name): \(e.source.format)")
        if let dtype = entry["dtype"] as? String { #expect(e.source.dtype == dtype, "\(name): \(e.source.dtype)") }
        #expect(e.source.sha256?.count == 64)
        #expect(e.nullRows == nullRows, "\(name): null rows \(e.nullRows)")
        for (k, r) in rows.enumerated() {
            if nullRows.contains(k) {
                let allNaN = e.matrix.rowArray(k).allSatisfy { $0.isNaN }
                #expect(allNaN, "\(name): null row \(k) is not NaN")
            } else {
                #expect(e.matrix.rowArray(k) == reference.matrix.rowArray(r), "\(name): row \(k) differs")
            }
        }
        switch entry["labels"] as? String {
        case "ids": #expect(e.labels == rows.map { "id-\($0)" }, "\(name): \(e.labels?.prefix(3) ?? [])")
        case "int-ids": #expect(e.labels == rows.map { String(1000 + $0) }, "\(name): \(e.labels?.prefix(3) ?? [])")
        default: #expect(e.labels == nil, "\(name): unexpected labels")
        }
    }

    @Test func nullRowsAreAnErrorUnlessDropped() throws {
        for name in ["pq-nulls.parquet", "nulls.jsonl"] {
            let entry = Self.manifest[name]!
            do {
                _ = try EmbeddingReader.read(Self.fixture(name), options: Self.options(entry))
                Issue.record("\(name): nulls read without --on-invalid drop")
            } catch let error as EmbdiagError {
                #expect(error.description.contains(name) && error.description.contains("null"), "\(error)")
                #expect(error.description.contains(name == "nulls.jsonl" ? "line 4" : "row 5"), "\(error)")
            }
            // Dropped: the analyzers' validation removes them as "null", with the file's row numbers.
            let e = try EmbeddingReader.read(Self.fixture(name), options: Self.options(entry, dropNulls: true))
            let (kept, dropped) = try e.requiringFiniteNonZeroRows(policy: .drop)
            #expect(kept.count == 38)
            #expect(dropped.map(\.row) == (entry["null_rows"] as! [Int]) && dropped.allSatisfy { $0.reason == "null" })
            #expect(dropped.first?.label == "id-\(dropped.first!.row)")
            // info counts them as null rows, not as NaN rows (they are NaN in the matrix).
            let info = EmbeddingSummary(e).report()
            let nulls = entry["null_rows"] as! [Int]
            #expect(info.metric("null_rows") == .int(nulls.count) && info.metric("nan_rows") == .int(0), "\(name): \(info.metrics)")
            let table = try #require(info.tables.first { $0.name == "invalid_rows" })
            #expect(table.rows.map { $0[1] } == nulls.map { _ in ReportValue.string("null") })
            #expect(info.verdict?.answer.contains("missing (null)") == true)
        }
    }

    @Test func detectionAndColumnChoice() throws {
        #expect(try FormatDetection.detect(Self.fixture("idmap.bin")) == .faiss)  // header, not the .bin extension
        #expect(try FormatDetection.detect(Self.fixture("flat-ip.index")) == .faiss)
        #expect(try FormatDetection.detect(Self.fixture("pq-default.parquet")) == .parquet)
        #expect(try FormatDetection.detect(Self.fixture("base64.ndjson")) == .jsonl)
        // The default JSON path is the only numeric array (usage.* are numbers, not arrays).
        let batch = try EmbeddingReader.read(Self.fixture("batch-output.jsonl"))
        #expect(batch.source.key == "response.body.data[0].embedding" && batch.labels == nil)
        let b64 = try EmbeddingReader.read(Self.fixture("base64.ndjson"))
        #expect(b64.source.key == "data[0].embedding")
        // An explicit Parquet column and the FAISS metric.
        var o = ReadOptions(); o.sources.column = "embedding"
        #expect(try EmbeddingReader.read(Self.fixture("pq-snappy-dict-v2.parquet"), options: o).source.key == "embedding")
        o.sources.column = "title"
        #expect(throws: EmbdiagError.self) { try EmbeddingReader.read(Self.fixture("pq-snappy-dict-v2.parquet"), options: o) }
        #expect(try EmbeddingReader.read(Self.fixture("vectors.faiss")).source.key == "IxF2 L2")
        #expect(try EmbeddingReader.read(Self.fixture("idmap.bin")).source.key == "IxMp(IxFI) inner_product")
        // Several files: the checksum covers every file, in order.
        let one = try EmbeddingReader.read(Self.fixture("dataset"))
        let glob = try EmbeddingReader.read(Self.fixture("dataset") + "/part-*.parquet")
        #expect(one.source.sha256 == glob.source.sha256 && one.source.sha256 != nil)
        #expect(throws: EmbdiagError.self) { try EmbeddingReader.read(Self.fixture("dataset") + "/none-*.parquet") }
        // --label-column is a number for CSV and a name for Parquet: the other kind is refused, not ignored.
        #expect(throws: EmbdiagError.self) { try EmbeddingReader.read(Self.fixture("pq-default.parquet"), options: ReadOptions(labelColumn: 1)) }
        var csv = ReadOptions(); csv.sources.labelColumn = "id"
        #expect(throws: EmbdiagError.self) { try EmbeddingReader.read(FormatTests.fixture("m-plain.csv"), options: csv) }
    }

    @Test func everyMalformedSourceGivesAClearError() throws {
        try FormatTests.checkMalformedCorpus("expected-sources.json", atLeast: 25)
    }

    @Test func jsonPathsAndParserLimits() throws {
        #expect(JSONPath("response.body.data[0].embedding")?.description == "response.body.data[0].embedding")
        #expect(JSONPath("$.data[12].embedding")?.steps == [.key("data"), .index(12), .key("embedding")])
        #expect(JSONPath("a..b") == nil && JSONPath("data[x]") == nil && JSONPath("") == nil)
        let text = #"{"a": "x\u00e9\ud83d\ude00\n", "b": [1e3, -0.5, 0]}"#
        let v = try Array(text.utf8).withUnsafeBytes { try JSONLineValue.parse($0) }
        guard case .string(let s)? = v["a"], case .array(let b)? = v["b"] else { Issue.record("parse"); return }
        #expect(s == "xé😀\n" && b.count == 3)
        for bad in ["{\"a\": 01}", "{\"a\": .5}", "{\"a\": 1} x", "[1,]", "{\"a\" 1}", "\"\\x\""] {
            #expect(throws: JSONParser.Failure.self) { try Array(bad.utf8).withUnsafeBytes { try JSONLineValue.parse($0) } }
        }
    }

    @Test func hybridDecoderAndThriftBounds() throws {
        // RLE run of 5 × 3 (bit width 2), then one bit-packed group [0,1,2,3,0,1,2,3].
        let data: [UInt8] = [0x0A, 0x03, 0x03, 0xE4, 0xE4]
        var out = [UInt32](repeating: 9, count: 13)
        let used = try data.withUnsafeBytes { d in try out.withUnsafeMutableBufferPointer { try ParquetColumnChunkReader.decodeHybrid(d, bitWidth: 2, count: 13, into: $0.baseAddress!) } }
        #expect(used == 5 && out == [3, 3, 3, 3, 3, 0, 1, 2, 3, 0, 1, 2, 3])
        // A list claiming 2^31 elements in 3 bytes is refused before any allocation.
        let hostile: [UInt8] = [0x19, 0xF5, 0xFF, 0xFF, 0xFF, 0xFF, 0x07]
        #expect(throws: ThriftFailure.self) { try hostile.withUnsafeBytes { var r = ThriftCompactReader($0); _ = try r.readStruct() } }
        let deep = [UInt8](repeating: 0x1C, count: 100)  // struct in struct in struct …
        #expect(throws: ThriftFailure.self) { try deep.withUnsafeBytes { var r = ThriftCompactReader($0); _ = try r.readStruct() } }
    }

    /// The CLI: every option in one place, convert writes .npy + labels, analyzers take the sources.
    @Test func cliConvertsAndAnalyzes() throws {
        let tmp = try CLI.temporaryDirectory()
        let c = try CLI.run(["convert", Self.fixture("pq-zstd-dict-v2.parquet"), "--label-column", "id", tmp + "/p.npy", "--quiet"])
        #expect(c.status == 0, "\(c.stderr)")
        let back = try EmbeddingReader.read(tmp + "/p.npy", options: ReadOptions(labelsPath: tmp + "/p.npy.labels.txt"))
        #expect(back.count == 40 && back.labels?[39] == "id-39")
        let j = try CLI.run(["convert", Self.fixture("nulls.jsonl"), "--json-path", "response.body.data[0].embedding",
                             "--label-path", "custom_id", "--on-invalid", "drop", tmp + "/j.npy"])
        #expect(j.status == 0 && j.stderr.contains("dropped 2 row(s)") && j.stderr.contains("row 3 'id-3' null") && j.stderr.contains("row 17 'id-17' null"), "\(j.stdout) \(j.stderr)")
        #expect(try EmbeddingReader.read(tmp + "/j.npy").count == 38)
        let a = try CLI.run(["anisotropy", Self.fixture("dataset"), "--label-column", "id", "--json", tmp + "/a.json", "--quiet"])
        #expect(a.status == 0, "\(a.stderr)")
        let report = try String(contentsOfFile: tmp + "/a.json", encoding: .utf8)
        #expect(report.contains("\"format\": \"parquet\"") && report.contains("\"key\": \"embedding\""), "\(report.prefix(400))")
        let f = try CLI.run(["info", Self.fixture("idmap.bin"), "--quiet"])
        #expect(f.status == 0, "\(f.stderr)")
        let bad = try CLI.run(["info", Self.fixture("pq-nulls.parquet"), "--quiet"])
        #expect(bad.status == 2 && bad.stderr.contains("row 5") && bad.stderr.split(separator: "\n").count == 1, "\(bad.stderr)")
    }
}
