import ArgumentParser
import EmbeddingDiagnostics
import Foundation

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Format, shape, dtype, norms, invalid rows and checksum of embedding files.",
        discussion: """
        Examples:
          embdiag info data/words/googlenews-bolukbasi-subset.bin
          embdiag info vectors.npz --key embeddings --json info.json
        """)

    @OptionGroup var input: InputOptions
    @OptionGroup var outputOptions: OutputOptions

    @Argument(help: "Embedding files.")
    var files: [String]

    func run() throws {
        for file in files {
            let clock = Stopwatch()
            let e = try input.read(file, quiet: outputOptions.quiet)
            let norms = rowNorms(e.matrix)
            let report = Report(
                analyzer: "info", title: "embdiag info: \(file)", inputs: [e.source],
                metrics: [
                    ReportMetric("rows", "rows", .int(e.count)),
                    ReportMetric("dim", "dimension", .int(e.dimension)),
                    ReportMetric("norm_min", "row norm min", ReportValue(norms.min() ?? .nan)),
                    ReportMetric("norm_mean", "row norm mean", ReportValue(norms.isEmpty ? .nan : norms.reduce(0, +) / Double(norms.count))),
                    ReportMetric("norm_max", "row norm max", ReportValue(norms.max() ?? .nan)),
                ],
                elapsedSeconds: clock.seconds)
            try outputOptions.emit(report)
        }
    }
}
