import ArgumentParser
import EmbeddingDiagnostics
import Foundation

struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert any readable embedding file to .npy (float32) or word2vec (binary or text).",
        discussion: """
        The output format follows the extension (.npy, .bin = word2vec binary, .txt/.vec = word2vec \
        text) unless --to is given. Labels are kept (word2vec) or written beside a .npy as \
        OUT.labels.txt (one per line, usable with --labels; a label holding a line break is refused). \
        Written atomically; OUT.labels.txt may not be an input.
        Examples:
          embdiag convert data/words/googlenews-bolukbasi-subset.bin words.npy
          embdiag convert vectors.safetensors --key embeddings vectors.npy
          embdiag convert texts.npy --labels texts.txt texts.vec
          embdiag convert batch_output.jsonl \\
              --json-path response.body.data[0].embedding \\
              --label-path custom_id out.npy
          embdiag convert flat.index vectors.npy
          embdiag convert postgresql://me@db.example:5432/app \\
              --query "SELECT id, embedding FROM items ORDER BY id" items.npy
        """)

    @OptionGroup var input: InputOptions

    /// The formats `convert` writes (a subset of what it reads).
    enum OutputFormat: String, CaseIterable, ExpressibleByArgument {
        case npy
        case word2vecBinary = "word2vec-binary"
        case word2vecText = "word2vec-text"

        var format: EmbeddingFormat { EmbeddingFormat(rawValue: rawValue)! }
    }

    @Option(help: "Output format (default: from the extension).")
    var to: OutputFormat?

    @Flag(name: .shortAndLong, help: "Print nothing on stdout.")
    var quiet = false

    @Argument(help: "Input embedding file.")
    var inputPath: String

    @Argument(help: "Output file.")
    var outputPath: String

    func run() throws {
        // --on-invalid applies here too: NaN/Inf/all-zero rows are an error (default) or dropped.
        let (e, dropped) = try input.readValidated(inputPath, quiet: quiet)
        Terminal.noteDropped(dropped, from: inputPath)
        let format = try to?.format ?? EmbeddingWriter.format(forOutputPath: outputPath)
        let wrote = try LabelledMatrix.write(e, to: outputPath, format: format)
        if !quiet {
            print("\(PostgresLocation.printable(inputPath)) (\(e.source.format.rawValue), \(e.source.dtype), \(e.count) × \(e.dimension)) → \(wrote.joined(separator: ", ")) (\(format.rawValue))")
        }
    }
}
