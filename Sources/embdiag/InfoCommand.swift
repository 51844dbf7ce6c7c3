import ArgumentParser
import EmbeddingDiagnostics
import Foundation

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Format, dtype, shape, norm statistics, NaN/Inf/zero rows, duplicate labels and SHA-256 of embedding files.",
        discussion: """
        Examples:
          embdiag info data/words/googlenews-bolukbasi-subset.bin
          embdiag info vectors.npz --key embeddings --json info.json
          embdiag info a.npy b.npy --strict     # exit 1 if any file has NaN/Inf/zero rows or duplicate labels
        With several files and --output DIR, each file's report goes to DIR/<file name>/.
        """)

    @OptionGroup var input: InputOptions
    @OptionGroup var outputOptions: OutputOptions

    @Flag(help: "Exit 1 when a file has NaN/Inf rows, all-zero rows or duplicate labels.")
    var strict = false

    @Argument(help: "Embedding files.")
    var files: [String]

    func run() throws {
        var failures: [String] = []
        for file in files {
            let clock = Stopwatch()
            let e = try input.read(file, quiet: outputOptions.quiet)
            let summary = EmbeddingSummary(e)
            var report = summary.report()
            report.elapsedSeconds = clock.seconds
            var options = outputOptions
            if files.count > 1, let dir = options.output {
                options.output = dir + "/" + URL(fileURLWithPath: file).lastPathComponent
            }
            try options.emit(report)
            if strict && !summary.problems.isEmpty {
                failures.append("\(file): " + summary.problems.joined(separator: "; "))
            }
        }
        if !failures.isEmpty { throw GateFailure(description: failures.joined(separator: " | ")) }
    }
}
