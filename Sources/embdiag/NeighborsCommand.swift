import ArgumentParser
import EmbeddingDiagnostics
import Foundation

struct NeighborsCommand: ReportingCommand {
    static let configuration = CommandConfiguration(
        commandName: "neighbors",
        abstract: "Exact cosine k nearest neighbours of every row (or of query rows), with hubness statistics.",
        discussion: """
        All pairs by blocked GEMM over unit vectors: the similarity matrix is never stored.
        Examples:
          embdiag neighbors data/words/googlenews-bolukbasi-subset.bin --k 5 \\
              --output out/nn
          embdiag neighbors corpus.npy --queries queries.npy --k 10 --json nn.json
        """)

    @OptionGroup var input: InputOptions
    @OptionGroup var outputOptions: OutputOptions
    @OptionGroup var gates: GateOptions
    @OptionGroup var partialOptions: PartialOptions
    @OptionGroup var memory: MemoryBudgetOptions

    @Argument(help: "Corpus embedding file.")
    var corpus: String

    @Option(help: "Query embedding file (default: every corpus row, itself excluded).")
    var queries: String?

    @Option(help: "Labels for the query rows (one per line).")
    var queryLabels: String?

    @Option(help: "Neighbours per row.")
    var k: Int = 10

    func validate() throws {
        try SettingRange.integer(k, "--k", atLeast: 1)
        try validatePartial()
    }

    var requirements: [Requirement] { gates.requirements }
    var writesState: Bool { partialOptions.isActive }

    func makeReports() throws -> [CommandReport] {
        if partialOptions.isActive { try runPartial(); return [] }  // a state file, no report
        let (c, droppedCorpus) = try input.readValidated(corpus, quiet: outputOptions.quiet)
        var q: Embeddings?
        var droppedQueries: [DroppedRow] = []
        if let queries {
            let read = try EmbeddingReader.read(queries, options: input.readOptions(labels: queryLabels))
            (q, droppedQueries) = try read.requiringFiniteNonZeroRows(policy: input.onInvalid)
        }
        let neighbors = try CosineNeighbors(corpus: c, queries: q, k: k)
        var output = CommandReport(report: neighbors.report())
        if !droppedCorpus.isEmpty { output.droppedTables.append(droppedCorpus.reportTable(input: corpus)) }
        if !droppedQueries.isEmpty { output.droppedTables.append(droppedQueries.reportTable(name: "dropped_query_rows", input: queries ?? "")) }
        return [output]
    }
}
