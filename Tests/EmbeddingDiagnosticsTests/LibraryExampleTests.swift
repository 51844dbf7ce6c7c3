import Foundation
import Testing
import EmbeddingDiagnostics  // not @testable: the example uses the public API only

/// The Swift example of Guides/Architecture.md ("Using the library from Swift"), compiled and run
/// here on the bundled data; `guideShowsThisExample` keeps the guide and this file identical.
@Suite struct LibraryExampleTests {
    @Test func architectureGuideExampleRuns() throws {
        let data = CLI.repositoryRoot.path + "/data/sentences/"
        // BEGIN EXAMPLE
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

    @Test func guideShowsThisExample() throws {
        let guide = try String(contentsOf: CLI.repositoryRoot.appendingPathComponent("Guides/Architecture.md"), encoding: .utf8)
        let section = try #require(guide.range(of: "## Using the library from Swift"))
        let start = try #require(guide.range(of: "```swift\n", range: section.upperBound..<guide.endIndex))
        let end = try #require(guide.range(of: "```", range: start.upperBound..<guide.endIndex))
        let fromGuide = guide[start.upperBound..<end.lowerBound].split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("import ") && !$0.hasPrefix("let data =") }.map(String.init)
        let source = try String(contentsOfFile: #filePath, encoding: .utf8)
        let begin = try #require(source.range(of: "// BEGIN EXAMPLE\n")), finish = try #require(source.range(of: "        // END EXAMPLE"))
        let fromTest = source[begin.upperBound..<finish.lowerBound].split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasPrefix("        ") ? String($0.dropFirst(8)) : String($0) }
        func trimmed(_ lines: [String]) -> [String] { Array(lines.drop { $0.isEmpty }.reversed().drop { $0.isEmpty }.reversed()) }
        #expect(trimmed(fromGuide) == trimmed(fromTest))
    }
}
