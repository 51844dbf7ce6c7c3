import ArgumentParser
import EmbeddingDiagnostics
import Foundation

struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Convert any readable embedding file to .npy (float32) or word2vec (binary or text).",
        discussion: """
        The output format follows the extension (.npy, .bin = word2vec binary, .txt/.vec = word2vec
        text) unless --to is given. Labels are kept (word2vec) or written beside a .npy as
        OUT.labels.txt (one per line, usable with --labels). Written atomically.
        Examples:
          embdiag convert data/words/googlenews-bolukbasi-subset.bin words.npy
          embdiag convert vectors.safetensors --key embeddings vectors.npy
          embdiag convert texts.npy --labels texts.txt texts.vec
          embdiag convert postgresql://me@db.example:5432/app --query "SELECT id, embedding FROM items ORDER BY id" items.npy
        """)

    @OptionGroup var input: InputOptions

    @Option(help: "Output format: npy, word2vec-binary or word2vec-text (default: from the extension).")
    var to: EmbeddingFormat?

    @Flag(name: .shortAndLong, help: "Print nothing on stdout.")
    var quiet = false

    @Argument(help: "Input embedding file.")
    var inputPath: String

    @Argument(help: "Output file.")
    var outputPath: String

    func run() throws {
        var e = try input.read(inputPath, quiet: quiet)
        // NULL vectors kept as NaN rows by --on-invalid drop (database inputs) are left out.
        let missing = e.missingRows
        if !missing.isEmpty {
            let dropped = Set(missing)
            e = e.selecting(rows: (0..<e.count).filter { !dropped.contains($0) })
        }
        let format = try to ?? EmbeddingWriter.format(forOutputPath: outputPath)
        try EmbeddingWriter.write(e, to: outputPath, format: format)
        var wrote = [outputPath]
        if format == .npy, let labels = e.labels {
            let labelsPath = outputPath + ".labels.txt"
            try LabelsFile.write(labels, to: labelsPath)
            wrote.append(labelsPath)
        }
        if !quiet {
            let droppedNote = missing.isEmpty ? "" : "; dropped \(missing.count) NULL row(s): \(ValidationSummary.describe(missing))"
            print("\(PostgresLocation.printable(inputPath)) (\(e.source.format.rawValue), \(e.source.dtype), \(e.count) × \(e.dimension)\(droppedNote)) → \(wrote.joined(separator: ", ")) (\(format.rawValue))")
        }
    }
}
