import Foundation
import Testing
@testable import EmbeddingDiagnostics
import EmbeddingDiagnosticsTestSupport

/// Bias direction, DirectBias, indirect bias, WEAT and hard debias against WEFE 1.0.1 and a numpy
/// re-implementation of responsibly 0.1.2 (scripts/crosscheck/bias_reference.py →
/// Tests/Fixtures/crosscheck/bias_reference.json), the published numbers of References.md §2.1,
/// brute-force enumeration and calibration under the null.
@Suite struct BiasTests {
    /// Loaded once; a missing or unreadable fixture fails every test that uses it (never empty data).
    // nonisolated(unsafe): parsed JSON (immutable Foundation values), never written after it is loaded,
    // so the parallel tests only read it.
    nonisolated(unsafe) static let referenceLoad = Result { () throws -> [String: Any] in
        let url = CLI.fixtures.appendingPathComponent("crosscheck/bias_reference.json")
        let data = try Data(contentsOf: url)
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw EmbdiagError.malformed(url.path, "bias_reference.json is not a JSON object")
        }
        return object
    }
    static func reference() throws -> [String: Any] { try referenceLoad.get() }
    static let wordsPath = CLI.repositoryRoot.appendingPathComponent("data/words/googlenews-bolukbasi-subset.bin").path
    static let wordsLoad = Result { try EmbeddingReader.read(wordsPath) }
    static func words() throws -> Embeddings { try wordsLoad.get() }

    static func analysis(neutral: WordList = StandardWordLists.professionsNeutral, debias: Bool = false, components: Int = 1,
                         weat: [WEATTest] = [], indirect: [[String]] = []) throws -> BiasAnalysis {
        let e = try words()
        var c = BiasConfiguration()
        c.definitional = StandardWordLists.bolukbasiDefinitional
        c.neutral = neutral
        c.components = components
        c.weat = weat
        c.indirectPairs = indirect
        if debias {
            c.debias = true
            c.equalize = StandardWordLists.bolukbasiEqualize
            c.specific = StandardWordLists.bolukbasiSpecific
        }
        return try BiasAnalysis(e, configuration: c)
    }

    @Test func embeddedListsEqualTheBundledFiles() throws {
        let dir = CLI.repositoryRoot.appendingPathComponent("data/words/lists")
        for (file, text) in [("bolukbasi.json", StandardWordListData.bolukbasi), ("weat.json", StandardWordListData.weat),
                             ("wefe-WEAT.json", StandardWordListData.wefeWEAT),
                             ("occupational_female_percentage.json", StandardWordListData.occupationalFemalePercentage)] {
            func canonical(_ data: Data) throws -> Data {
                try JSONSerialization.data(withJSONObject: JSONSerialization.jsonObject(with: data), options: [.sortedKeys])
            }
            let fromFile = try canonical(Data(contentsOf: dir.appendingPathComponent(file)))
            #expect(try canonical(Data(text.utf8)) == fromFile, "\(file): embedded copy differs; run scripts/data/embed_word_lists.py")
        }
        #expect(StandardWordLists.professionsAll.words.count == 320)
        #expect(StandardWordLists.professionsNeutral.words.count == 303)
        #expect(StandardWordLists.bolukbasiDefinitional.groups.count == 10)
        #expect(StandardWordLists.bolukbasiEqualize.groups.count == 52)
        #expect(StandardWordLists.weatNames.count == 21)
        #expect(StandardWordLists.weat(named: "3")!.targets[0].words.count == 50 - 18, "Caliskan's excluded names are removed")
    }

    @Test func directionMatchesResponsiblyConventions() throws {
        let ref = try Self.reference()
        let a = try Self.analysis()
        let s = try #require(a.subspace)
        let ratio = ref["pca_explained_ratio"] as! [Double]
        for (x, y) in zip(s.explainedRatio, ratio) { #expect(abs(x - y) < 1e-9) }
        // References.md §2.1: 0.6053, 0.1273; cos(PC1, she − he) = 0.94502.
        #expect(abs(s.explainedRatio[0] - 0.6053) < 5e-5 && abs(s.explainedRatio[1] - 0.1273) < 5e-5)
        #expect(abs(s.endsCosine - 0.94502) < 5e-6)
        #expect(s.ends == ("she", "he"))
        let g = ref["direction"] as! [Double]
        #expect(zip(s.component(0), g).map { abs($0 - $1) }.max()! < 1e-7)  // numpy normalises in float32
        // --ends he,she flips the sign (and only the sign).
        var c = BiasConfiguration()
        c.definitional = StandardWordLists.bolukbasiDefinitional
        c.ends = ["he", "she"]
        let e = try Self.words()
        let flipped = try #require(try BiasAnalysis(e, configuration: c).subspace)
        #expect(abs(flipped.endsCosine - s.endsCosine) < 1e-12)
        #expect(zip(flipped.component(0), s.component(0)).map { abs($0 + $1) }.max()! < 1e-12)
    }

    @Test func directBiasMatchesResponsibly() throws {
        let ref = try Self.reference()
        let a = try Self.analysis()
        let db = try #require(a.directBias)
        #expect(db.words.count == 303 && db.missing.isEmpty)
        #expect(db.words == ref["neutral_professions"] as! [String])
        // responsibly's docstring value (full GoogleNews model): 0.07307904249481942.
        #expect(abs(db.value - 0.07307904249481942) < 1e-6, "\(db.value)")
        #expect(abs(db.value - (ref["direct_bias_303"] as! Double)) < 1e-7)
        let all = try Self.analysis(neutral: StandardWordLists.professionsAll)
        #expect(abs(all.directBias!.value - 0.0805075) < 1e-6)
        // c = 2 (responsibly silently drops c for custom lists; embdiag does not).
        var c = BiasConfiguration()
        c.definitional = StandardWordLists.bolukbasiDefinitional
        c.neutral = StandardWordLists.professionsNeutral
        c.strictness = 2
        let c2 = try BiasAnalysis(try Self.words(), configuration: c)
        #expect(abs(c2.directBias!.value - (ref["direct_bias_303_c2"] as! Double)) < 1e-7)
    }

    /// responsibly's three direction methods against the numpy re-implementation of
    /// `_identify_direction` (bias_reference.json "directions"), and the K = 3 subspace.
    @Test func directionMethodsMatchResponsibly() throws {
        let ref = try #require((try Self.reference())["directions"] as? [String: [String: Any]])
        let e = try Self.words()
        for method in BiasDirectionMethod.allCases {
            var c = BiasConfiguration()
            c.definitional = StandardWordLists.bolukbasiDefinitional
            c.neutral = StandardWordLists.professionsNeutral
            c.directionMethod = method
            let a = try BiasAnalysis(e, configuration: c)
            let want = try #require(ref[method.rawValue])
            let g = (want["direction"] as! [NSNumber]).map(\.doubleValue)
            let s = try #require(a.subspace)
            #expect(s.method == method && s.components == 1)
            let err = zip(s.basis, g).map { abs($0 - $1) }.max()!
            #expect(err < 1e-6, "\(method) direction max |Δ| \(err)")
            #expect(abs(a.directBias!.value - (want["direct_bias_303"] as! Double)) < 1e-7, "\(method) DirectBias \(a.directBias!.value)")
            #expect(abs(s.endsCosine - (want["cos_she_he"] as! Double)) < 1e-7)
        }
        // K = 3 (PCA only): the three components, signs fixed by she − he.
        let k3 = try Self.analysis(components: 3).subspace!
        let want = (ref["pca_k3"]!["subspace"] as! [[NSNumber]]).flatMap { $0.map(\.doubleValue) }
        #expect(zip(k3.basis, want).map { abs($0 - $1) }.max()! < 1e-6)
        // single/sum give one direction: K > 1 is a usage error.
        var bad = BiasConfiguration()
        bad.definitional = StandardWordLists.bolukbasiDefinitional
        bad.directionMethod = .sum
        bad.components = 2
        #expect(throws: EmbdiagError.self) { try BiasAnalysis(e, configuration: bad) }
    }

    /// `--write-direction`: the unit direction as a 1 × d .npy (K × d with --components K) that
    /// reproduces the reference direction; a non-.npy path is a usage error.
    @Test func cliWritesTheDirection() throws {
        let dir = try CLI.temporaryDirectory()
        let ref = try #require((try Self.reference())["directions"] as? [String: [String: Any]])
        let r = try CLI.run(["bias", Self.wordsPath, "--direction", "single", "--write-direction", dir + "/g.npy", "--quiet", "--json", dir + "/r.json"])
        #expect(r.status == 0, "\(r.stderr)")
        let g = try EmbeddingReader.read(dir + "/g.npy")
        #expect(g.count == 1 && g.dimension == 300)
        let want = (ref["single"]!["direction"] as! [NSNumber]).map(\.doubleValue)
        #expect(zip(g.matrix.values, want).map { abs(Double($0) - $1) }.max()! < 1e-6)
        let m = (try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/r.json"))) as! [String: Any])["metrics"] as! [String: Any]
        #expect(abs((m["direct_bias"] as! Double) - (ref["single"]!["direct_bias_303"] as! Double)) < 1e-7)
        let k = try CLI.run(["bias", Self.wordsPath, "--components", "3", "--write-direction", dir + "/s.npy", "--quiet"])
        #expect(k.status == 0, "\(k.stderr)")
        let s = try EmbeddingReader.read(dir + "/s.npy")
        #expect(s.count == 3 && s.dimension == 300)
        let bad = try CLI.run(["bias", Self.wordsPath, "--write-direction", dir + "/g.txt"])
        #expect(bad.status == 2 && !FileManager.default.fileExists(atPath: dir + "/g.txt"))
        #expect(try CLI.run(["bias", Self.wordsPath, "--direction", "mean"]).status == 2)
    }

    @Test func indirectBiasMatchesTheDefinition() throws {
        let ref = try #require((try Self.reference())["indirect"] as? [[Any]], "bias_reference.json has no indirect pairs")
        let pairs = ref.map { [$0[0] as! String, $0[1] as! String] }
        let a = try Self.analysis(indirect: pairs)
        let requested = a.indirect.filter { $0.source == "requested" }
        #expect(requested.count == pairs.count)
        for (r, e) in zip(requested, ref) { #expect(abs(r.beta - (e[2] as! Double)) < 1e-6, "\(r.w)–\(r.v): \(r.beta)") }
        // References.md §2.1 (responsibly's tests, abs_tol 0.01): softball–receptionist 0.6723.
        #expect(abs(requested[2].beta - 0.6723) < 1e-4)
        let found = a.indirect.filter { $0.source == "found" }
        #expect(found.count == 10 && found.allSatisfy { $0.cosine >= 0.5 })
        #expect(zip(found, found.dropFirst()).allSatisfy { $0.beta >= $1.beta })
    }

    @Test func hardDebiasMatchesResponsiblySemantics() throws {
        let ref = try Self.reference()
        let a = try Self.analysis(debias: true)
        let h = try #require(a.debias)
        #expect(h.neutralizedRows == ref["n_neutralized"] as! Int)
        #expect(h.equalizedGroups.count == 55)
        #expect(h.equalizedGroups == (ref["equalize_pairs"] as! [[String]]))
        #expect(a.directBias!.valueAfter! < 1e-6, "DirectBias after \(a.directBias!.valueAfter!)")
        #expect(h.equalizeMaxGap < 1e-5, "equalized pairs not equidistant: \(h.equalizeMaxGap)")
        #expect(h.vocabularyDirectBiasAfter < 1e-6)
        #expect(h.neighborOverlap > 0.5 && h.neighborOverlap <= 1)
        #expect(h.neighborCosineChange > 0 && h.neighborCosineChange < 0.05)
        // 320 professions: the 17 gender-specific ones keep their projection → 0.014848.
        let d = try #require(a.debiased)
        let lookup = VocabularyLookup(d, caseInsensitive: false)
        let rows = StandardWordLists.professionsAll.words.compactMap { lookup.row($0) }
        let after320 = BiasAnalysis.directBias(BiasAnalysis.projections(d.matrix, rows: rows, subspace: a.subspace!), c: 1)
        #expect(abs(after320 - 0.014848) < 5e-6 && abs(after320 - (ref["direct_bias_320_after"] as! Double)) < 1e-6, "\(after320)")
        // Debiased vectors equal the numpy re-implementation's.
        let probe = ref["debiased_rows"] as! [String: [Double]]
        for (w, v) in probe {
            let r = try #require(lookup.row(w))
            let diff = zip(d.matrix.rowArray(r), v).map { abs(Double($0) - $1) }.max()!
            #expect(diff < 2e-6, "\(w): max |Δ| \(diff)")
        }
        // Rows are unit length.
        #expect(Matrix.rowNorms(d.matrix).allSatisfy { abs($0 - 1) < 1e-5 })
    }

    @Test func multiclassSubspaceNeutralizesEveryComponent() throws {
        let a = try Self.analysis(debias: true, components: 3)
        let s = try #require(a.subspace)
        for i in 0..<3 {
            for j in 0..<3 {
                let dot = zip(s.component(i), s.component(j)).reduce(0) { $0 + $1.0 * $1.1 }
                #expect(abs(dot - (i == j ? 1 : 0)) < 1e-9)
            }
        }
        #expect(a.directBias!.projections.allSatisfy { $0 >= 0 }, "K > 1 reports norms")
        #expect(a.directBias!.valueAfter! < 1e-6)
        #expect(a.debias!.equalizeMaxGap < 1e-5)
    }

    @Test func weatMatchesWEFE() throws {
        let e = try Self.words()
        let lookup = VocabularyLookup(e, caseInsensitive: false)
        let tests = try #require((try Self.reference())["weat"] as? [String: [String: Any]])
        #expect(tests.count == 11)
        var compared = 0
        for (name, ref) in tests where ref["skipped"] == nil {
            let t = try #require(StandardWordLists.weat(named: name))
            var options = WEATOptions()
            options.minimumWords = 1  // WEFE runs wefe-6 with 1 female name left
            let r = try WEAT.run(t, on: e, lookup: lookup, options: options)
            #expect(r.used.map(\.count) == ref["sizes"] as! [Int], "\(name)")
            #expect(abs(r.effectSize - (ref["wefe_effect_size"] as! Double)) < 1e-6, "\(name): d \(r.effectSize) vs wefe \(ref["wefe_effect_size"]!)")
            #expect(abs(r.statistic - (ref["wefe_statistic"] as! Double)) < 1e-6, "\(name): S \(r.statistic)")
            #expect(abs(r.effectSize - (ref["numpy_effect_size"] as! Double)) < 1e-7)
            if let p = ref["exact_p"] as? Double {
                #expect(r.permutationTest.exact)
                #expect(abs(r.pValue - p) < 1e-12, "\(name): p \(r.pValue) vs enumeration \(p)")
            }
            compared += 1
        }
        #expect(compared == 10)
        // WEFE docstring case (References.md §2.1): S 0.4634388245, d 0.4507653241, exact p 0.19713.
        let g = try WEAT.run(StandardWordLists.weat(named: "wefe-gender")!, on: e, lookup: lookup)
        #expect(abs(g.statistic - 0.4634388245) < 1e-6 && abs(g.effectSize - 0.4507653241) < 1e-6)
        #expect(abs(g.pValue - 0.19713) < 5e-6 && g.permutationTest.permutations == 12870)
    }

    @Test func exactPermutationPEqualsBruteForce() {
        // Every ordering of the pooled values (8! = 40,320), S computed by its definition.
        var rng = SeededGenerator(seed: 11)
        for nx in [4, 3] {
            let values = (0..<8).map { _ in rng.nextGaussian() }
            func s(_ order: [Int]) -> Double {
                order.prefix(nx).reduce(0) { $0 + values[$1] } - order.dropFirst(nx).reduce(0) { $0 + values[$1] }
            }
            let observed = s(Array(0..<8))
            var count = 0, total = 0
            func permute(_ prefix: [Int], _ rest: [Int]) {
                if rest.isEmpty { total += 1; if s(prefix) >= observed - 1e-12 { count += 1 }; return }
                for (i, r) in rest.enumerated() { var rr = rest; rr.remove(at: i); permute(prefix + [r], rr) }
            }
            permute([], Array(0..<8))
            let t = Statistics.partitionSumTest(values, firstCount: nx)
            #expect(t.exact && total == 40320)
            #expect(abs(t.pValue - Double(count) / Double(total)) < 1e-15, "nx \(nx): \(t.pValue) vs \(Double(count) / Double(total))")
        }
        // Monte Carlo is seeded, close to the exact value and never 0.
        let values = (0..<16).map { Double($0 % 5) + 0.1 * Double($0) }
        let exact = Statistics.partitionSumTest(values, firstCount: 8)
        let mc = Statistics.partitionSumTest(values, firstCount: 8, exactLimit: 0, permutations: 20000, seed: 3)
        let again = Statistics.partitionSumTest(values, firstCount: 8, exactLimit: 0, permutations: 20000, seed: 3)
        #expect(!mc.exact && mc == again && mc.seed == 3)
        #expect(abs(mc.pValue - exact.pValue) < 0.01)
        #expect(Statistics.binomialCoefficient(50, 25) == 126_410_606_437_752 && Statistics.binomialCoefficient(16, 8) == 12870)
    }

    @Test func nullPValuesAreUniform() throws {
        // Random Gaussian "words" (exchangeable targets): 400 seeded WEATs, 8 + 8 targets (exact p)
        // and 400 with 12 + 12 (Monte Carlo, 999 splits). Fraction p < 0.05 near 0.05 and a χ² test.
        for (nx, exactLimit) in [(8, 1_000_000), (12, 0)] {
            var rng = SeededGenerator(seed: UInt64(100 + nx))
            var p: [Double] = []
            for rep in 0..<400 {
                let n = 2 * nx + 16
                let m = rng.gaussianMatrix(rows: n, cols: 16)
                let labels = (0..<n).map { "w\($0)" }
                let e = Embeddings(matrix: m, labels: labels)
                let t = WEATTest(id: "null", name: "null",
                                 targets: [WordList(name: "X", words: Array(labels[0..<nx]), provenance: ""),
                                           WordList(name: "Y", words: Array(labels[nx..<(2 * nx)]), provenance: "")],
                                 attributes: [WordList(name: "A", words: Array(labels[(2 * nx)..<(2 * nx + 8)]), provenance: ""),
                                              WordList(name: "B", words: Array(labels[(2 * nx + 8)...]), provenance: "")], provenance: "")
                var o = WEATOptions()
                o.exactLimit = exactLimit
                o.permutations = 999
                o.seed = UInt64(rep)
                p.append(try WEAT.run(t, on: e, lookup: VocabularyLookup(e, caseInsensitive: false), options: o).pValue)
            }
            let rejected = Double(p.filter { $0 <= 0.05 }.count) / 400
            #expect(rejected >= 0.02 && rejected <= 0.09, "nx \(nx): fraction p ≤ 0.05 = \(rejected)")
            let uniformity = Calibration.uniformity(p)
            #expect(uniformity.pValue > 0.001, "nx \(nx): bins \(uniformity.counts)")
        }
    }

    @Test func missingWordsAreListedAndTooFewIsAnError() throws {
        let e = try Self.words()
        let lookup = VocabularyLookup(e, caseInsensitive: false)
        // WEAT 10 (Caliskan): old people's names are all absent from this vocabulary.
        #expect(throws: EmbdiagError.self) { try WEAT.run(StandardWordLists.weat(named: "10")!, on: e, lookup: lookup) }
        do {
            _ = try WEAT.run(StandardWordLists.weat(named: "10")!, on: e, lookup: lookup)
        } catch let error as EmbdiagError {
            #expect(error.kind == .missingWords && error.description.contains("Ethel") && error.description.contains("Tiffany"), "\(error)")
        }
        // With weatSkipIncomplete (`--weat all`), incomplete tests are skipped and reported.
        var c = BiasConfiguration()
        c.weat = StandardWordLists.weatNames.compactMap { StandardWordLists.weat(named: $0) }
        c.weatSkipIncomplete = true
        let all = try BiasAnalysis(e, configuration: c)
        #expect(all.weatSkipped.map(\.0).contains("10") && all.weatSkipped.map(\.0).contains("wefe-10"))
        #expect(all.weat.count + all.weatSkipped.count == 21 && all.subspace == nil)
        #expect(all.report().notes.contains { $0.contains("WEAT 10 skipped") })
        // WEAT 7: "equations" missing, listed; the test still runs.
        let r = try WEAT.run(StandardWordLists.weat(named: "7")!, on: e, lookup: lookup)
        #expect(r.missing[0] == ["equations"])
        // Case-insensitive matching finds "He" as "he".
        #expect(lookup.row("He") == nil)
        #expect(VocabularyLookup(e, caseInsensitive: true).row("He") == lookup.row("he"))
        #expect(BiasAnalysis.caseForms("catholic_priest") == ["catholic_priest", "CATHOLIC_PRIEST", "Catholic_Priest"])
    }

    @Test func wordListFilesJSONAndPlainText() throws {
        let dir = try CLI.temporaryDirectory()
        try "she\the\n# comment\nwoman, man\n\nqueen king\n".write(toFile: dir + "/pairs.txt", atomically: true, encoding: .utf8)
        #expect(try WordListFile.readGroups(dir + "/pairs.txt") == [["she", "he"], ["woman", "man"], ["queen", "king"]])
        try "[[\"she\", \"he\"]]".write(toFile: dir + "/pairs.json", atomically: true, encoding: .utf8)
        #expect(try WordListFile.readGroups(dir + "/pairs.json") == [["she", "he"]])
        try "{\"words\": [\"a\", \"b\"]}".write(toFile: dir + "/w.json", atomically: true, encoding: .utf8)
        #expect(try WordListFile.readWords(dir + "/w.json") == ["a", "b"])
        try "A sentence, with a comma.\nAnother one\n".write(toFile: dir + "/t.txt", atomically: true, encoding: .utf8)
        #expect(try WordListFile.readWords(dir + "/t.txt") == ["A sentence, with a comma.", "Another one"])
        #expect(throws: EmbdiagError.self) { try WordListFile.resolveWords("no-such-list", option: "--neutral") }
    }

    // MARK: - CLI

    @Test func cliReportsMetricsAndWritesTheDebiasedMatrix() throws {
        let dir = try CLI.temporaryDirectory()
        let r = try CLI.run(["bias", Self.wordsPath, "--weat", "wefe-gender", "--indirect", "softball,receptionist", "--debias", "hard",
                             "--write", dir + "/debiased.bin", "--quiet", "--json", dir + "/r.json", "--output", dir + "/out",
                             "--require", "direct_bias_after<=1e-6"])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/r.json"))) as! [String: Any]
        let m = json["metrics"] as! [String: Any]
        #expect(abs((m["direct_bias"] as! Double) - 0.07307905) < 1e-6)
        #expect((m["direct_bias_after"] as! Double) < 1e-6)
        #expect(abs((m["weat_effect_size"] as! Double) - 0.4507653) < 1e-6)
        #expect(abs((m["weat_p_value"] as! Double) - 0.19713) < 5e-6)
        #expect(m["weat_effect_size_after"] is Double && m["neighbor_cosine_change"] is Double)
        #expect(abs((m["pc1_explained"] as! Double) - 0.6053) < 5e-5)
        for f in ["report.html", "pca.csv", "direct_bias_extremes.csv", "weat.csv", "indirect_bias.csv", "projections.csv"] {
            #expect(FileManager.default.fileExists(atPath: dir + "/out/" + f), "\(f)")
        }
        let html = try String(contentsOfFile: dir + "/out/report.html", encoding: .utf8)
        #expect(html.contains("data-chart=\"projections\""))
        // The written matrix: word2vec binary with the words, unit rows, debiased.
        let d = try EmbeddingReader.read(dir + "/debiased.bin")
        let firstWord = try Self.words().labels?[0]
        #expect(d.count == 6000 && d.labels?[0] == firstWord)
        let a = try Self.analysis(debias: true)
        let diff = zip(d.matrix.values, a.debiased!.matrix.values).map { abs($0 - $1) }.max()!
        #expect(diff < 1e-6, "CLI and library debias differ by \(diff)")
        // A gate that fails: exit 1.
        let gate = try CLI.run(["bias", Self.wordsPath, "--quiet", "--require", "direct_bias<=0.01"])
        #expect(gate.status == 1)
    }

    @Test func cliErrorsAreOneLine() throws {
        let dir = try CLI.temporaryDirectory()
        try "nosuchword1\nnosuchword2\n".write(toFile: dir + "/x.txt", atomically: true, encoding: .utf8)
        try "she\nher\n".write(toFile: dir + "/y.txt", atomically: true, encoding: .utf8)
        for args in [["bias", Self.wordsPath, "--targets", dir + "/x.txt", dir + "/y.txt", "--attributes", "career", "family"],
                     ["bias", Self.wordsPath, "--weat", "99"],
                     ["bias", Self.wordsPath, "--neutral", "/no/such/file"],
                     ["bias", Self.wordsPath, "--write", dir + "/o.bin"]] {
            let r = try CLI.run(args + ["--quiet"])
            #expect(r.status == 2, "\(args): \(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1 && r.stderr.hasPrefix("embdiag: error:"), "\(r.stderr)")
        }
        let r = try CLI.run(["bias", Self.wordsPath, "--targets", dir + "/x.txt", dir + "/y.txt", "--attributes", "career", "family", "--quiet"])
        #expect(r.stderr.contains("nosuchword1"), "the error names the missing words: \(r.stderr)")
    }

    @Test func cliWEATOnSentenceEmbeddingsLabelledByText() throws {
        // Rows labelled by their texts; targets and attributes are texts (one per line).
        let root = CLI.repositoryRoot.appendingPathComponent("data/sentences").path
        let texts = try String(contentsOfFile: root + "/debian-texts.txt", encoding: .utf8).split(separator: "\n").map(String.init)
        let dir = try CLI.temporaryDirectory()
        // games 0–499, science 500–999, sound 1000–1449, fonts 1450–1799.
        let sets = [Array(texts[0..<8]), Array(texts[1450..<1458]), Array(texts[8..<16]), Array(texts[1458..<1466])]
        for (i, s) in sets.enumerated() { try s.joined(separator: "\n").write(toFile: dir + "/s\(i).txt", atomically: true, encoding: .utf8) }
        let r = try CLI.run(["bias", root + "/debian-minilm-l6.npy", "--labels", root + "/debian-texts.txt",
                             "--targets", dir + "/s0.txt", dir + "/s1.txt", "--attributes", dir + "/s2.txt", dir + "/s3.txt",
                             "--quiet", "--json", dir + "/r.json"])
        #expect(r.status == 0, "\(r.stderr)")
        let m = (try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/r.json"))) as! [String: Any])["metrics"] as! [String: Any]
        // Games texts are closer to games texts than fonts texts: a large positive effect, small p.
        #expect((m["weat_effect_size"] as! Double) > 1)
        #expect((m["weat_p_value"] as! Double) < 0.01)
        #expect(m["weat_p_exact"] as? Bool == true)
        #expect(m["direct_bias"] == nil, "WEAT only: no direction")
    }
}
