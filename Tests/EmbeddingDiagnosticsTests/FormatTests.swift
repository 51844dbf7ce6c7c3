import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// Readers and writers against fixtures written by numpy (scripts/fixtures/make_fixtures.py): every
/// valid file holds M[i, j] = (3i + j)/4 − 1 (5 × 3), every malformed file must give an EmbdiagError
/// naming the file and the problem.
@Suite struct FormatTests {
    static let expected: [Float] = (0..<15).map { Float($0) / 4 - 1 }
    static func fixture(_ name: String) -> String { CLI.fixtures.appendingPathComponent("formats/" + name).path }
    static let words = ["w0", "w1", "w2", "w3", "w4"]

    static let validFiles: [(String, EmbeddingFormat, String, Bool)] = [
        // name, detected format, dtype, has labels
        ("m-f2-le.npy", .npy, "float16", false), ("m-f4-le.npy", .npy, "float32", false), ("m-f8-le.npy", .npy, "float64", false),
        ("m-f4-be.npy", .npy, "float32", false), ("m-f8-be.npy", .npy, "float64", false), ("m-f4-fortran.npy", .npy, "float32", false),
        ("m-f4-v2.npy", .npy, "float32", false), ("m-f4-v3.npy", .npy, "float32", false),
        ("m-stored.npz", .npz, "float32", false), ("m-deflated.npz", .npz, "float16", false),
        ("m-f16.safetensors", .safetensors, "float16", false), ("m-bf16.safetensors", .safetensors, "bfloat16", false),
        ("m-f32.safetensors", .safetensors, "float32", false), ("m-f64.safetensors", .safetensors, "float64", false),
        ("m.fvecs", .fvecs, "float32", false), ("m-newlines.bin", .word2vecBinary, "float32", true), ("m-packed.bin", .word2vecBinary, "float32", true),
        ("m-w2v.txt", .word2vecText, "text", true), ("m-glove.txt", .glove, "text", true), ("m-header-labels.csv", .csv, "text", true),
        ("m-plain.csv", .csv, "text", false), ("m-quoted.csv", .csv, "text", false), ("m.tsv", .tsv, "text", true),
    ]

    @Test(arguments: validFiles.map(\.0))
    func readsEveryValidFixture(name: String) throws {
        let (_, format, dtype, hasLabels) = Self.validFiles.first { $0.0 == name }!
        #expect(try FormatDetection.detect(Self.fixture(name)) == format)
        let e = try EmbeddingReader.read(Self.fixture(name))
        #expect(e.count == 5 && e.dimension == 3, "\(name): \(e.count) × \(e.dimension)")
        #expect(e.matrix.values == Self.expected, "\(name): \(e.matrix.values)")
        #expect(e.source.format == format && e.source.dtype == dtype)
        #expect(e.source.sha256?.count == 64)
        if hasLabels { #expect(e.labels == Self.words, "\(name): \(e.labels ?? [])") } else if name != "m-quoted.csv" { #expect(e.labels == nil) }
    }

    @Test func containerKeysAndMapping() throws {
        let stored = try EmbeddingReader.read(Self.fixture("m-stored.npz"))
        #expect(stored.source.key == "embeddings")  // the first 2-D float array, not the 1-D one
        let other = try EmbeddingReader.read(Self.fixture("m-deflated.npz"), options: ReadOptions(key: "other.npy"))
        #expect(other.matrix.values.allSatisfy { $0 == 0 } && other.source.key == "other")
        #expect(try EmbeddingReader.read(Self.fixture("m-f32.safetensors")).source.key == "embeddings")
        #expect(throws: EmbdiagError.self) { try EmbeddingReader.read(Self.fixture("m-f32.safetensors"), options: ReadOptions(key: "bias")) }
        // Little-endian float32 C-order data is used in place, not copied.
        #expect(try EmbeddingReader.read(Self.fixture("m-f4-le.npy")).matrix.isMapped)
        #expect(try EmbeddingReader.read(Self.fixture("m-f32.safetensors")).matrix.isMapped)
        #expect(try !EmbeddingReader.read(Self.fixture("m-f4-be.npy")).matrix.isMapped)
    }

    @Test func quotedCSVAndWordsWithSpaces() throws {
        let q = try EmbeddingReader.read(Self.fixture("m-quoted.csv"))
        #expect(q.labels?.first == "w0, \"q\"\nnext")
        let g = try EmbeddingReader.read(Self.fixture("m-glove-spaces.txt"))
        #expect(g.labels?[2] == "w2 x" && g.matrix.values == Self.expected)
        let forced = try EmbeddingReader.read(Self.fixture("m-plain.csv"), options: ReadOptions(labelColumn: 1))
        #expect(forced.dimension == 2 && forced.labels?.first == "-1.0")
    }

    @Test func labelsFileAttachesAndChecksCounts() throws {
        let e = try EmbeddingReader.read(Self.fixture("m-plain.npy"), options: ReadOptions(labelsPath: Self.fixture("m-labels.txt")))
        #expect(e.labels == (0..<5).map { "label \($0)" })
        let bad = CLI.fixtures.appendingPathComponent("malformed/text-labels-mismatch.txt").path
        do {
            _ = try EmbeddingReader.read(Self.fixture("m-plain.npy"), options: ReadOptions(labelsPath: bad))
            Issue.record("no error for a labels count mismatch")
        } catch let error as EmbdiagError {
            #expect(error.description.contains("text-labels-mismatch.txt") && error.description.contains("m-plain.npy"))
            #expect(error.description.contains("2 labels") && error.description.contains("5 rows"))
        }
    }

    @Test func everyMalformedFileGivesAClearError() throws {
        try Self.checkMalformedCorpus("expected.json", atLeast: 30)
    }

    /// Every file listed in `Tests/Fixtures/malformed/<table>` ({name: [format or null, [keywords]]})
    /// must fail to read with one line naming the file and containing every keyword.
    /// Keywords name CLI flags as a user sees them; the library names the setting itself
    /// (`--on-invalid drop` → "`onInvalid` drop"), and the CLI shows the flag (SettingNamesTests).
    static func librarySettingName(_ keyword: String) -> String {
        guard keyword.hasPrefix("--") else { return keyword }
        let parts = keyword.dropFirst(2).split(separator: " ", maxSplits: 1)
        let words = parts[0].split(separator: "-")
        let camel = words[0] + words.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
        return "`\(camel)`" + (parts.count > 1 ? " " + parts[1] : "")
    }

    static func checkMalformedCorpus(_ tableName: String, atLeast minimum: Int) throws {
        let dir = CLI.fixtures.appendingPathComponent("malformed")
        let table = try JSONSerialization.jsonObject(with: Data(contentsOf: dir.appendingPathComponent(tableName))) as! [String: [Any]]
        #expect(table.count >= minimum)
        for (name, entry) in table.sorted(by: { $0.key < $1.key }) {
            let format = (entry[0] as? String).flatMap(EmbeddingFormat.init(rawValue:))
            let keywords = entry[1] as! [String]
            do {
                let e = try EmbeddingReader.read(dir.appendingPathComponent(name).path, options: ReadOptions(format: format, computeChecksum: false))
                Issue.record("\(name): read \(e.count) × \(e.dimension) instead of failing")
            } catch let error as EmbdiagError {
                #expect(error.description.contains(name), "\(name): \(error)")
                #expect(!error.description.contains("\n"))
                for k in keywords.map(Self.librarySettingName) { #expect(error.description.contains(k), "\(name): '\(k)' not in: \(error)") }
            }
        }
    }

    @Test func aLineWithoutNewlineIsRefusedInBoundedMemory() throws {
        let dir = try CLI.temporaryDirectory()
        let path = dir + "/long.txt"
        var data = Data("2 3\nword ".utf8)
        data.append(Data(repeating: UInt8(ascii: "1"), count: 17 << 20))
        try data.write(to: URL(fileURLWithPath: path))
        #expect(throws: EmbdiagError.malformed(path, "line 2 is longer than 16 MB (no newline): not a text embedding file")) {
            try EmbeddingReader.read(path, options: ReadOptions(computeChecksum: false))
        }
    }

    @Test func writersRoundTrip() throws {
        let dir = try CLI.temporaryDirectory()
        let e = Embeddings(matrix: Matrix(rows: 5, cols: 3, values: Self.expected), labels: ["a b", "c", "d\te", "f", "g"])
        for (file, format) in [("o.npy", EmbeddingFormat.npy), ("o.bin", .word2vecBinary), ("o.txt", .word2vecText)] {
            try EmbeddingWriter.write(e, to: dir + "/" + file)
            let back = try EmbeddingReader.read(dir + "/" + file)
            #expect(back.source.format == format)
            #expect(back.matrix.values == Self.expected, "\(file)")
            if format != .npy { #expect(back.labels == ["a_b", "c", "d_e", "f", "g"]) }
        }
        // The .npy header is 64-byte aligned, like numpy's own.
        let header = try Data(contentsOf: URL(fileURLWithPath: dir + "/o.npy"))
        #expect((10 + Int(header[8]) + Int(header[9]) * 256) % 64 == 0)
        #expect(throws: EmbdiagError.self) { try EmbeddingWriter.format(forOutputPath: dir + "/o.parquet") }
    }
}
