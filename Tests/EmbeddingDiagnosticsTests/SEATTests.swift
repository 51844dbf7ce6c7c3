import Foundation
import Testing
@testable import EmbeddingDiagnostics
import EmbeddingDiagnosticsTestSupport

/// SEAT (May et al. 2019) on sentence vectors: the sentence table, the statistics against WEFE
/// 1.0.1 and sent-bias's formulas on real all-MiniLM-L6-v2 vectors
/// (scripts/crosscheck/seat_reference.py → Tests/Fixtures/crosscheck/seat_reference.json), a planted
/// bias direction, and hostile tables and vectors through the CLI.
@Suite struct SEATTests {
    static let seatDir = CLI.fixtures.appendingPathComponent("seat")
    static let tablePath = seatDir.appendingPathComponent("minilm-sentences.tsv").path
    static let meanPath = seatDir.appendingPathComponent("minilm-mean.npy").path
    static let clsPath = seatDir.appendingPathComponent("minilm-cls.npy").path

    static func reference() throws -> [String: Any] {
        let url = CLI.fixtures.appendingPathComponent("crosscheck/seat_reference.json")
        let data = try Data(contentsOf: url)
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any], "seat_reference.json is not an object")
    }

    static func table() throws -> [SEATSentence] {
        try SEATSentences.parse(try String(contentsOfFile: tablePath, encoding: .utf8), path: tablePath)
    }

    // MARK: - Sentences

    @Test func standardTemplatesCoverEveryClassWithTheSameFrames() {
        let t = SEATTemplates.standard
        for c in SEATWordClass.allCases { #expect(t.templates(for: c).map(\.id) == t.ids) }
        #expect(t.ids.count == 6)
        let noun = t.templates(for: .noun)[0]
        #expect(noun.sentence(for: "aster") == "This is an aster.")
        #expect(noun.sentence(for: "tulip") == "This is a tulip.")
        #expect(t.templates(for: .name)[4].sentence(for: "Amy") == "Amy is here.")
        #expect(t.templates(for: .term)[4].sentence(for: "love") == "Love is here.")
    }

    @Test func generatedTableRoundTripsAndCoversEveryWord() throws {
        let tests = [try #require(StandardWordLists.weat(named: "6")), try #require(StandardWordLists.weat(named: "1"))]
        let rows = try SEATSentences.generate(tests.map(SEATSentenceRequest.init(bundled:)), templates: .standard, bareWords: true)
        // 4 lists × 8 words × (6 templates + bare word) for test 6; 4 × 25 × 7 for test 1.
        #expect(rows.count == 4 * 8 * 7 + 4 * 25 * 7)
        let back = try SEATSentences.parse(SEATSentences.tsv(rows), path: "t.tsv")
        #expect(back == rows)
        #expect(rows.first { $0.test == "1" && $0.role == .x && $0.template == "this" }?.sentence == "This is an aster.")
        #expect(rows.first { $0.test == "6" && $0.role == .x && $0.template == "is-there" }?.sentence == "John is there.")
    }

    @Test func committedTableIsWhatTheGeneratorWrites() throws {
        let tests = try ["1", "6", "7"].map { try #require(StandardWordLists.weat(named: $0)) }
        let rows = try SEATSentences.generate(tests.map(SEATSentenceRequest.init(bundled:)), templates: .standard, bareWords: true)
        #expect(try Self.table() == rows)
    }

    @Test func templateFileErrorsNameTheLine() throws {
        #expect(throws: EmbdiagError.self) { try SEATTemplates.parse("name\tthis\tThis is X.\n", path: "t.tsv") }   // no {word}
        #expect(throws: EmbdiagError.self) { try SEATTemplates.parse("verb\tthis\tThis is {word}.\n", path: "t.tsv") }
        #expect(throws: EmbdiagError.self) { try SEATTemplates.parse("name\tthis\tThis is {word}.\nname\tthis\tThat is {word}.\n", path: "t.tsv") }
        #expect(throws: EmbdiagError.self) { try SEATTemplates.parse("name\tword\t{word}\n", path: "t.tsv") }
        #expect(throws: EmbdiagError.self) { try SEATTemplates.parse("# only a comment\n", path: "t.tsv") }
        let ok = try SEATTemplates.parse("# mine\nname\tsays\t{Word} says hello.\nterm\tsays\t{Word} says hello.\n", path: "t.tsv")
        #expect(ok.templates.count == 2 && ok.ids == ["says"])
        // A class the test needs but the file lacks is an error, not a silently shorter test.
        let t6 = try #require(StandardWordLists.weat(named: "7"))
        #expect(throws: EmbdiagError.self) { try SEATSentences.generate([SEATSentenceRequest(test: t6, classes: [.noun, .noun, .term, .term])], templates: ok, bareWords: false) }
    }

    @Test func malformedTablesAreRefused() {
        let header = SEATSentences.header.joined(separator: "\t") + "\n"
        let full = ["X", "Y", "A", "B"].map { "t\t\($0)\tw0\tthis\tThis is w.\n" }.joined()
        let cases: [(String, String)] = [
            ("empty", ""),
            ("header only", header),
            ("wrong header", "test\trole\tword\n" + full),
            ("four fields", header + "t\tX\tw\tthis\n"),
            ("bad role", header + full + "t\tZ\tv\tthis\tThis is v.\n"),
            ("duplicate", header + full + "t\tX\tw0\tthis\tThis is w again.\n"),
            ("missing role", header + "t\tX\tw\tthis\ta\nt\tY\tw\tthis\tb\nt\tA\tw\tthis\tc\n"),
            ("empty cell", header + full + "t\tX\t\tthat\tThat is.\n"),
            ("partial bare words", header + full + "t\tX\tw0\tword\tw0\n"),
            ("blank line", header + "\n" + full),
        ]
        for (name, text) in cases {
            #expect(throws: EmbdiagError.self, "\(name)") { try SEATSentences.parse(text, path: "t.tsv") }
        }
    }

    // MARK: - Against WEFE 1.0.1 and sent-bias's formulas on all-MiniLM-L6-v2 vectors

    @Test func minilmMatchesWEFEAndSentBias() throws {
        let ref = try Self.reference()
        let rows = try Self.table()
        let vectors = try EmbeddingReader.read(Self.meanPath)
        var c = SEATConfiguration()
        c.permutation.permutations = 2_000
        c.compare = try EmbeddingReader.read(Self.clsPath)
        let a = try SEATAnalysis(sentences: rows, vectors: vectors, tablePath: Self.tablePath, configuration: c)
        let tests = try #require(ref["tests"] as? [String: [String: Any]])
        #expect(Set(tests.keys) == Set(a.tests.map(\.test)))
        // Float64 cosines of the same float16→float32 vectors on both sides: only summation order differs.
        let tol = 1e-6
        for t in a.tests {
            let r = try #require(tests[t.test])
            func num(_ key: String) throws -> Double { try #require((r[key] as? NSNumber)?.doubleValue, "\(t.test).\(key)") }
            #expect(abs(t.pooled.effectSize - (try num("wefe_effect_size"))) <= tol, "\(t.test) WEFE d")
            #expect(abs(t.pooled.statistic - (try num("wefe_statistic"))) <= tol, "\(t.test) WEFE S")
            #expect(abs(t.pooled.effectSizeSample - (try num("sentbias_effect_size"))) <= tol, "\(t.test) sent-bias d")
            #expect(abs(t.otherCentering.effectSize - (try num("centered_effect_size"))) <= tol, "\(t.test) centred d")
            #expect(abs((t.compared?.effectSize ?? .nan) - (try num("cls_effect_size"))) <= tol, "\(t.test) CLS d")
            let word = try #require(t.word)
            #expect(abs(word.effectSize - (try num("word_wefe_effect_size"))) <= tol, "\(t.test) word d")
            if let p = (r["word_sentbias_p_exact"] as? NSNumber)?.doubleValue {
                let total = Statistics.binomialCoefficient(word.counts[0] + word.counts[1], word.counts[0])
                #expect(word.permutationTest.exact && word.permutationTest.permutations == total
                        && word.permutationTest.atLeastAsExtreme == Int((p * Double(total)).rounded()), "\(t.test) word exact p \(word.pValue) vs \(p)")
            }
            let per = try #require(r["templates"] as? [String: [String: Any]])
            #expect(Set(per.keys) == Set(t.perTemplate.map(\.template)))
            for s in t.perTemplate {
                let want = try #require(per[s.template])
                #expect(abs(s.score.effectSize - ((want["wefe_effect_size"] as? NSNumber)?.doubleValue ?? .nan)) <= tol, "\(t.test)/\(s.template) d")
                #expect(abs(s.score.effectSizeSample - ((want["sentbias_effect_size"] as? NSNumber)?.doubleValue ?? .nan)) <= tol, "\(t.test)/\(s.template) d1")
                if let p = (want["sentbias_p_exact"] as? NSNumber)?.doubleValue {
                    // Exact on both sides: the same count of splits over the same C(|X|+|Y|, |X|)
                    // (compared as counts: JSON decimals need not round-trip to the last bit).
                    let total = Statistics.binomialCoefficient(s.score.counts[0] + s.score.counts[1], s.score.counts[0])
                    #expect(s.score.permutationTest.exact && s.score.permutationTest.permutations == total
                            && s.score.permutationTest.atLeastAsExtreme == Int((p * Double(total)).rounded()),
                            "\(t.test)/\(s.template) exact p \(s.score.pValue) vs \(p)")
                }
            }
            let loo = try #require(r["leave_one_out"] as? [String: Double])
            for s in t.leaveOneOut { #expect(abs(s.score.effectSize - (loo[s.template] ?? .nan)) <= tol, "\(t.test) without \(s.template)") }
        }
        #expect(abs(a.anisotropy - (try #require((ref["anisotropy"] as? NSNumber)?.doubleValue))) <= 1e-9)
        // The report renders (its long yes/no column headers once sent the text renderer's
        // column-shrinking loop round forever).
        let text = TextRenderer.render(a.report())
        #expect(text.contains("seat_template_robust") && text.contains("depends on the template"))
    }

    // MARK: - Planted bias

    /// Sentence vectors = common offset + template vector + word vector + noise, with a bias
    /// direction g added to X and A sentences and subtracted from Y and B at `strength`.
    static func planted(strength: Double, d: Int = 48, seed: UInt64 = 7) -> (rows: [SEATSentence], vectors: Embeddings, direction: Matrix) {
        var rng = SeededGenerator(seed: seed)
        let templates = ["t1", "t2", "t3", "t4", "t5"]
        func gaussian() -> [Double] { (0..<d).map { _ in rng.nextGaussian() } }
        let offset = gaussian().map { 3 * $0 }           // anisotropy: a shared direction
        let templateVectors = templates.map { _ in gaussian().map { 0.5 * $0 } }
        var g = gaussian()
        let gn = g.reduce(0) { $0 + $1 * $1 }.squareRoot()
        g = g.map { $0 / gn }
        var rows: [SEATSentence] = [], values: [Float] = []
        for (k, role) in SEATRole.allCases.enumerated() {
            let sign: Double = (role == .x || role == .a) ? 1 : -1
            for w in 0..<10 {
                let word = gaussian()
                for (ti, t) in templates.enumerated() {
                    let noise = gaussian()
                    for j in 0..<d {
                        values.append(Float(offset[j] + templateVectors[ti][j] + word[j] + 0.2 * noise[j] + sign * strength * g[j]))
                    }
                    rows.append(SEATSentence(test: "p", role: role, word: "w\(k)_\(w)", template: t, sentence: "s"))
                }
            }
        }
        return (rows, Embeddings(matrix: Matrix(rows: rows.count, cols: d, values: values), name: "planted"), Matrix(rows: 1, cols: d, values: g.map(Float.init)))
    }

    @Test func plantedBiasGrowsMonotonicallyAndVanishesWhenRemoved() throws {
        var previous = -Double.infinity
        var removedAt: [Double] = []
        for strength in [0.0, 0.25, 0.5, 1.0, 2.0, 4.0] {
            let (rows, vectors, g) = Self.planted(strength: strength)
            var c = SEATConfiguration()
            c.permutation.permutations = 2_000
            c.removeDirections = g
            let a = try SEATAnalysis(sentences: rows, vectors: vectors, tablePath: "planted", configuration: c)
            let t = try #require(a.tests.first)
            #expect(t.pooled.effectSize > previous, "d must grow with the strength (\(strength): \(t.pooled.effectSize) after \(previous))")
            previous = t.pooled.effectSize
            let range = try #require(t.templateEffectRange)
            if strength >= 1 {
                #expect(range.max - range.min < 0.25, "template spread at strength \(strength): \(range)")
                #expect(t.robust == true && t.conclusion.significant)
            }
            removedAt.append(try #require(t.afterRemoval).effectSize)
        }
        #expect(previous > 1.5)
        // Removing g removes exactly what was planted: at every strength the effect is the one
        // without any planted bias (chance association of 10 random words per role), up to the
        // float32 rounding of the stored vectors (entries of size ~5: ~1e-7 relative).
        for r in removedAt { #expect(abs(r - removedAt[0]) < 1e-6, "after removal \(removedAt)") }
        #expect(previous - removedAt.last! > 1)
    }

    @Test func centringIsComparedAndAnisotropyMeasured() throws {
        let (rows, vectors, _) = Self.planted(strength: 0.5)
        var c = SEATConfiguration()
        c.permutation.permutations = 500
        let raw = try SEATAnalysis(sentences: rows, vectors: vectors, tablePath: "planted", configuration: c)
        c.center = true
        let centred = try SEATAnalysis(sentences: rows, vectors: vectors, tablePath: "planted", configuration: c)
        // The shared offset makes every pair of sentences close: mean cosine well above 0, and
        // about −1/(n − 1) after centring.
        #expect(raw.anisotropy > 0.5)
        #expect(abs(raw.anisotropyCentered) < 0.05)
        let r = try #require(raw.tests.first), k = try #require(centred.tests.first)
        #expect(abs(r.pooled.effectSize - k.otherCentering.effectSize) < 1e-12)
        #expect(abs(k.pooled.effectSize - r.otherCentering.effectSize) < 1e-12)
    }

    @Test func wordLevelScoreEqualsWEAT() throws {
        // The bare-word rows of a table and WEAT.run on the same vectors labelled by word.
        let rows = try Self.table().filter { $0.test == "6" }
        let all = try Self.table()
        let vectors = try EmbeddingReader.read(Self.meanPath)
        let bare = all.indices.filter { all[$0].test == "6" && all[$0].template == SEATSentences.bareWordTemplate }
        let words = Embeddings(matrix: vectors.matrix.gather(rows: bare), labels: bare.map { all[$0].word }, name: "words")
        let weat = try WEAT.run(try #require(StandardWordLists.weat(named: "6")), on: words, lookup: VocabularyLookup(words, caseInsensitive: false))
        let subset = all.indices.filter { all[$0].test == "6" }
        let seat = try SEATAnalysis(sentences: rows, vectors: Embeddings(matrix: vectors.matrix.gather(rows: subset), name: "m"), tablePath: "t")
        let w = try #require(seat.tests.first?.word)
        #expect(abs(w.effectSize - weat.effectSize) < 1e-12 && w.pValue == weat.pValue && abs(w.statistic - weat.statistic) < 1e-12)
    }

    @Test func shapeAndValueErrorsAreRefused() throws {
        let (rows, vectors, g) = Self.planted(strength: 1)
        let short = Embeddings(matrix: vectors.matrix.rows(0..<(rows.count - 1)), name: "short")
        #expect(throws: EmbdiagError.self) { try SEATAnalysis(sentences: rows, vectors: short, tablePath: "t") }
        let bad = vectors.matrix.copy()
        bad.mutablePointer[5 * bad.cols + 3] = .nan
        #expect(throws: EmbdiagError.self) { try SEATAnalysis(sentences: rows, vectors: Embeddings(matrix: bad, name: "nan"), tablePath: "t") }
        let zero = vectors.matrix.copy()
        for j in 0..<zero.cols { zero.mutablePointer[7 * zero.cols + j] = 0 }
        #expect(throws: EmbdiagError.self) { try SEATAnalysis(sentences: rows, vectors: Embeddings(matrix: zero, name: "zero"), tablePath: "t") }
        var c = SEATConfiguration()
        c.removeDirections = Matrix(rows: 1, cols: g.cols + 1)
        #expect(throws: EmbdiagError.self) { try SEATAnalysis(sentences: rows, vectors: vectors, tablePath: "t", configuration: c) }
        c.removeDirections = Matrix(rows: 2, cols: g.cols, values: g.values + g.values)   // the same direction twice
        #expect(throws: EmbdiagError.self) { try SEATAnalysis(sentences: rows, vectors: vectors, tablePath: "t", configuration: c) }
        c = SEATConfiguration()
        c.compare = short
        #expect(throws: EmbdiagError.self) { try SEATAnalysis(sentences: rows, vectors: vectors, tablePath: "t", configuration: c) }
        c = SEATConfiguration()
        c.alpha = 1
        #expect(throws: EmbdiagError.self) { try SEATAnalysis(sentences: rows, vectors: vectors, tablePath: "t", configuration: c) }
    }

    // MARK: - CLI

    @Test func cliWritesTheTableAndAuditsItAndRefusesHostileInputs() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // `bias sentences` next to `bias FILE`: the subcommand must not swallow or be swallowed.
        let gen = try CLI.run(["bias", "sentences", "--weat", "6", "--weat", "7", "--bare-words", "--output", dir + "/s.tsv", "--quiet"])
        #expect(gen.status == 0, "\(gen.stderr)")
        let rows = try SEATSentences.parse(try String(contentsOfFile: dir + "/s.tsv", encoding: .utf8), path: "s.tsv")
        #expect(rows.count == 2 * 4 * 8 * 7)
        #expect(try CLI.run(["bias", "sentences", "--weat", "99", "--output", dir + "/x.tsv"]).status == 2)
        #expect(try CLI.run(["bias", "sentences", "--weat", "", "--output", dir + "/x.tsv"]).status == 2)
        #expect(try CLI.run(["bias", "sentences", "--weat", "7,7", "--output", dir + "/x.tsv"]).status == 2)
        #expect(try CLI.run(["bias", "sentences", "--weat", "6", "--output", dir + "/no/such/dir/x.tsv"]).status == 2)
        #expect(!FileManager.default.fileExists(atPath: dir + "/x.tsv"))

        // The audit on the committed MiniLM vectors: JSON keys, gates.
        let ok = try CLI.run(["bias", "--seat", Self.tablePath, Self.meanPath, "--seat-compare", Self.clsPath, "--permutations", "2000",
                              "--quiet", "--json", dir + "/r.json", "--require", "seat_max_abs_effect <= 10"])
        #expect(ok.status == 0, "\(ok.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/r.json"))) as? [String: Any])
        let metrics = try #require(json["metrics"] as? [String: Any])
        for key in ["seat_effect_size_1", "seat_p_value_6", "seat_template_robust", "seat_max_abs_effect", "weat_effect_size_7", "seat_anisotropy"] {
            #expect(metrics[key] != nil, "missing \(key)")
        }
        let gate = try CLI.run(["bias", "--seat", Self.tablePath, Self.meanPath, "--permutations", "200", "--quiet", "--require", "seat_max_abs_effect <= 0.1"])
        #expect(gate.status == 1)

        // Hostile: each a one-line error naming the file, exit 2, no report written.
        let header = SEATSentences.header.joined(separator: "\t") + "\n"
        let table = try String(contentsOfFile: Self.tablePath, encoding: .utf8)
        let lines = table.split(separator: "\n").map(String.init)
        func write(_ name: String, _ text: String) throws -> String {
            let path = dir + "/" + name
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let shortTable = try write("short.tsv", lines.dropLast().joined(separator: "\n") + "\n")
        let duplicate = try write("dup.tsv", table + lines[1] + "\n")
        let noRole = try write("norole.tsv", header + lines.dropFirst().filter { !$0.hasPrefix("1\tB\t") }.joined(separator: "\n") + "\n")
        let badHeader = try write("header.tsv", "sentence\n" + lines.dropFirst().joined(separator: "\n"))
        var nanRows = (0..<rows.count).map { _ in [Float](repeating: 0.5, count: 4) }
        nanRows[3][2] = .nan
        try CLI.writeNpy(nanRows, to: dir + "/nan.npy")
        let genTable = dir + "/s.tsv"
        let cases: [([String], String)] = [
            (["bias", "--seat", shortTable, Self.meanPath], "minilm-mean.npy"),
            (["bias", "--seat", duplicate, Self.meanPath], "dup.tsv"),
            (["bias", "--seat", noRole, Self.meanPath], "norole.tsv"),
            (["bias", "--seat", badHeader, Self.meanPath], "header.tsv"),
            (["bias", "--seat", genTable, dir + "/nan.npy"], "nan.npy"),
            (["bias", "--seat", Self.tablePath, Self.meanPath, "--seat-compare", dir + "/nan.npy"], "nan.npy"),
            (["bias", "--seat", dir + "/missing.tsv", Self.meanPath], "missing.tsv"),
            (["bias", "--seat", Self.tablePath, Self.meanPath, "--weat", "7"], "--weat"),
            (["bias", "--seat", Self.tablePath, Self.meanPath, "--on-invalid", "drop"], "--on-invalid"),
            (["bias", "--seat", Self.tablePath, Self.meanPath, "--alpha", "0"], "--alpha"),
            (["bias", Self.meanPath, "--center"], "--seat"),
            (["bias", "--seat", Self.tablePath, Self.meanPath, "--remove-direction", dir + "/nan.npy"], "nan.npy"),
        ]
        for (args, naming) in cases {
            let r = try CLI.run(args + ["--output", dir + "/out-hostile"])
            #expect(r.status == 2, "\(args.dropFirst(2).first ?? ""): \(r.stderr)")
            #expect(r.stderr.contains(naming) && r.stderr.split(separator: "\n").count == 1, "\(args): \(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dir + "/out-hostile/report.json"))
        }
    }
}
