import Foundation
import Testing
import EmbeddingDiagnostics  // not @testable: the example uses the public API only

/// The Swift examples of the guides ("Using the library from Swift"), compiled and run here on the
/// bundled data; `guideShowsItsExample` keeps each guide and this file identical.
@Suite struct LibraryExampleTests {
    @Test func architectureGuideExampleRuns() throws {
        let data = CLI.repositoryRoot.path + "/data/sentences/"
        // BEGIN EXAMPLE Guides/Architecture.md
        // Is the "fonts" section distributed like the "games" section? (TTE depth, Wilcoxon rank-sum)
        let games = try EmbeddingReader.read(data + "by-section/games.npy")
        let fonts = try EmbeddingReader.read(data + "by-section/fonts.npy")
        var depthSettings = DepthConfiguration()
        depthSettings.alternative = .twoSided
        let depth = try DepthAnalysis(reference: games, others: [fonts], configuration: depthSettings)
        let shifted = depth.tests[0].rankSum.pValue < 0.05

        // Can the final layer's queries search an index built from layer 3? (backward compatibility)
        let old = try EmbeddingReader.read(data + "debian-minilm-l6-layer3.npy")
        let new = try EmbeddingReader.read(data + "debian-minilm-l6.npy")
        let sections = try LabelsFile.read(data + "debian-sections.txt", expectedCount: old.count,
                                           matrixPath: old.source.path)
        var compatSettings = CompatibilityConfiguration()
        compatSettings.maxQueries = 500
        // The call `embdiag compat` makes: pairs (row i with row i), validates, analyses, reports.
        let run = try CompatibilityRun(CompatibilityRequest(old: old, new: new, labels: sections),
                                       configuration: compatSettings)
        let compat = run.analysis!   // nil only for --fit unpaired when no row is shared
        let searchable = compat.compatible ?? false   // cross recall@1 > old/old recall@1

        // The report the CLI would print, verdict first, with every warning and note.
        let text = TextRenderer.render(run.report)
        // END EXAMPLE
        #expect(shifted, "games vs fonts: p = \(depth.tests[0].rankSum.pValue)")
        #expect(compat.cross != nil && compat.queryRows.count == 500)
        #expect(searchable == compat.compatible && text.hasPrefix(run.report.title))
    }

    // MARK: one example per analyzer guide ("Using the library from Swift")

    @Test func shiftGuideExample() throws {
        let data = CLI.repositoryRoot.path + "/data/"
        // BEGIN EXAMPLE Guides/Shift.md
        // Is the "fonts" section distributed like the "games" section, and where does it differ?
        let games = try EmbeddingReader.read(data + "sentences/by-section/games.npy")
        let fonts = try EmbeddingReader.read(data + "sentences/by-section/fonts.npy")
        var settings = ShiftConfiguration()
        settings.permutations = 500   // seeded by settings.seed; p cannot go below 1/(B + 1)
        let shift = try ShiftAnalysis(reference: games, others: [fonts], configuration: settings)
        let shifted = shift.comparisons[0].shifted(alpha: settings.alpha)
        // What `embdiag shift` prints: the verdict, the tests, where it shifted, warnings and notes.
        let report = shift.report()
        let json = JSONRenderer.render(report)
        // END EXAMPLE
        #expect(shifted && report.verdict != nil && json.contains("\"verdict\""))
    }

    @Test func depthGuideExample() throws {
        let data = CLI.repositoryRoot.path + "/data/"
        // BEGIN EXAMPLE Guides/Depth.md
        // Are the "fonts" descriptions more peripheral or more typical than the "games" ones?
        let games = try EmbeddingReader.read(data + "sentences/by-section/games.npy")
        let fonts = try EmbeddingReader.read(data + "sentences/by-section/fonts.npy")
        var settings = DepthConfiguration()
        settings.alternative = .twoSided
        let depth = try DepthAnalysis(reference: games, others: [fonts], configuration: settings)
        let test = depth.tests[0]   // rank-sum W, p-value, Liu–Singh Q
        let periphery = test.rankSum.pValue < 0.05 && test.q < 0.5
        let report = depth.report()
        // END EXAMPLE
        #expect(test.rankSum.pValue < 0.05 && report.verdict?.answer.hasPrefix("It differs") == true)
        _ = periphery
    }

    @Test func anisotropyGuideExample() throws {
        let data = CLI.repositoryRoot.path + "/data/"
        // BEGIN EXAMPLE Guides/Anisotropy.md
        // Is the space a narrow cone, and does removing the mean and the top direction fix it?
        let vectors = try EmbeddingReader.read(data + "sentences/debian-minilm-l6.npy")
        var settings = AnisotropyConfiguration()
        settings.steps = [.center, .allButTheTop(components: 1)]
        let anisotropy = try AnisotropyAnalysis(vectors, configuration: settings)
        let cone = anisotropy.before.meanCosine > 0.3
        let fixed = (anisotropy.after?.meanCosine ?? 1) < 0.05
        let fitted = anisotropy.transform   // apply it to new rows, or save it as `--save-transform` does
        let report = anisotropy.report()
        // END EXAMPLE
        #expect(fixed && fitted != nil && report.verdict != nil)
        _ = cone
    }

    @Test func biasGuideExample() throws {
        let data = CLI.repositoryRoot.path + "/data/"
        // BEGIN EXAMPLE Guides/Bias.md
        // How gendered are profession words, before and after hard debias? (Bolukbasi et al. 2016)
        let words = try EmbeddingReader.read(data + "words/googlenews-bolukbasi-subset.bin")
        var settings = BiasConfiguration()
        settings.definitional = StandardWordLists.bolukbasiDefinitional
        settings.neutral = StandardWordLists.professionsNeutral
        settings.weat = [StandardWordLists.weat(named: "7")!]   // Caliskan et al.'s math/arts × male/female
        settings.debias = true
        settings.equalize = StandardWordLists.bolukbasiEqualize
        settings.specific = StandardWordLists.bolukbasiSpecific
        let bias = try BiasAnalysis(words, configuration: settings)
        let directBias = bias.directBias?.value        // and .valueAfter, after hard debias
        let weatEffect = bias.weat.first?.effectSize
        let report = bias.report()                     // missing words and thin lists are warnings
        // END EXAMPLE
        #expect((directBias ?? 0) > 0.05 && (bias.directBias?.valueAfter ?? 1) < 1e-6)
        #expect(weatEffect != nil && report.verdict != nil)
    }

    @Test func relativeRepresentationsGuideExample() throws {
        let data = CLI.repositoryRoot.path + "/data/"
        // BEGIN EXAMPLE Guides/RelativeRepresentations.md
        // Do two layers of one model encode the same texts alike? (rows pair by position)
        let final = try EmbeddingReader.read(data + "sentences/debian-minilm-l6.npy")
        let layer3 = try EmbeddingReader.read(data + "sentences/debian-minilm-l6-layer3.npy")
        var settings = RelativeRepresentationsConfiguration()
        settings.anchorCount = 300
        settings.sweepCounts = []   // no anchor sweep
        let comparison = try RelativeComparison(reference: final, other: layer3, configuration: settings)
        let found = comparison.relativeTop1   // share of rows finding their partner first via the anchors
        let cka = comparison.ckaDebiased
        let report = comparison.report()
        // END EXAMPLE
        #expect(found > 10 * comparison.chanceTop1 && cka > 0.3 && report.verdict?.answer.hasPrefix("Yes") == true)
    }

    @Test func compatibilityGuideExample() throws {
        let data = CLI.repositoryRoot.path + "/data/"
        // BEGIN EXAMPLE Guides/Compatibility.md
        // Can the new model's queries search the old index, and does a fitted map fix it?
        let old = try EmbeddingReader.read(data + "sentences/debian-minilm-l6-layer3.npy")
        let new = try EmbeddingReader.read(data + "sentences/debian-minilm-l6.npy")
        var settings = CompatibilityConfiguration()
        settings.fit = .procrustes   // fitted on half the rows, judged on the other half
        let run = try CompatibilityRun(CompatibilityRequest(old: old, new: new), configuration: settings)
        let searchable = run.analysis?.compatible ?? false          // Shen et al.: cross recall@1 > old/old
        let mapped = run.analysis?.mapping.map { $0.noWorse(tolerance: 0) } ?? false
        let report = run.report                                      // every warning the CLI prints
        // END EXAMPLE
        #expect(!searchable && run.analysis?.mapping != nil && report.verdict?.answer.contains("With the fitted map") == true)
        _ = mapped
    }

    @Test func neighborsGuideExample() throws {
        let data = CLI.repositoryRoot.path + "/data/"
        // BEGIN EXAMPLE Guides/Neighbors.md
        // The 5 nearest neighbours of every row, and whether a few hubs dominate the lists.
        let games = try EmbeddingReader.read(data + "sentences/by-section/games.npy")
        let neighbours = try CosineNeighbors(corpus: games, k: 5)
        let firstRowsNeighbours = neighbours.neighbors.neighbors(of: 0)   // row numbers, best first
        let report = neighbours.report()   // hubness_skewness, antihubs, the hubs table
        // END EXAMPLE
        #expect(firstRowsNeighbours.count == 5 && !firstRowsNeighbours.contains(0) && report.verdict != nil)
    }

    @Test func fingerprintGuideExample() throws {
        let data = CLI.repositoryRoot.path + "/data/"
        // BEGIN EXAMPLE Guides/Fingerprint.md
        // Does a new batch of vectors come from the model that built the index?
        let indexSample = try EmbeddingReader.read(data + "sentences/by-section/games.npy")
        let newBatch = try EmbeddingReader.read(data + "sentences/by-section/fonts.npy")
        let fingerprint = try ModelFingerprint(indexSample, modelName: "all-MiniLM-L6-v2")
        let check = try FingerprintCheck(fingerprint, against: newBatch)
        let sameModel = check.sameModel   // other texts, same model: true (nil: cannot tell)
        let report = check.report()
        // END EXAMPLE
        #expect(sameModel == true && report.verdict != nil)
    }

    @Test func infoGuideExample() throws {
        let data = CLI.repositoryRoot.path + "/data/"
        // BEGIN EXAMPLE Guides/Info.md
        // Shape, norms and unusable rows of a file, before any analysis.
        let vectors = try EmbeddingReader.read(data + "sentences/debian-minilm-l6.npy")
        let summary = EmbeddingSummary(vectors)
        let unusable = summary.validation.nanRows.count + summary.validation.zeroRows.count
        let report = summary.report()   // its verdict: is every row a usable embedding?
        // END EXAMPLE
        #expect(unusable == 0 && report.verdict?.answer.hasPrefix("Yes") == true)
    }

    /// Each guide's "Using the library from Swift" block is the example above, line for line
    /// (the guide adds only its `import` and the `let data` line).
    @Test(arguments: ["Guides/Architecture.md", "Guides/Shift.md", "Guides/Depth.md", "Guides/Anisotropy.md", "Guides/Bias.md",
                      "Guides/RelativeRepresentations.md", "Guides/Compatibility.md", "Guides/Neighbors.md", "Guides/Fingerprint.md", "Guides/Info.md"])
    func guideShowsItsExample(_ path: String) throws {
        let guide = try String(contentsOf: CLI.repositoryRoot.appendingPathComponent(path), encoding: .utf8)
        let section = try #require(guide.range(of: "## Using the library from Swift"), "\(path) has no library section")
        let start = try #require(guide.range(of: "```swift\n", range: section.upperBound..<guide.endIndex))
        let end = try #require(guide.range(of: "```", range: start.upperBound..<guide.endIndex))
        let fromGuide = guide[start.upperBound..<end.lowerBound].split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("import ") && !$0.hasPrefix("let data =") }.map(String.init)
        let source = try String(contentsOfFile: #filePath, encoding: .utf8)
        let begin = try #require(source.range(of: "// BEGIN EXAMPLE \(path)\n"), "no example for \(path)")
        let finish = try #require(source.range(of: "        // END EXAMPLE", range: begin.upperBound..<source.endIndex))
        let fromTest = source[begin.upperBound..<finish.lowerBound].split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasPrefix("        ") ? String($0.dropFirst(8)) : String($0) }
        func trimmed(_ lines: [String]) -> [String] { Array(lines.drop { $0.isEmpty }.reversed().drop { $0.isEmpty }.reversed()) }
        #expect(trimmed(fromGuide) == trimmed(fromTest), "\(path): the guide's example differs from LibraryExampleTests")
    }
}
