import ArgumentParser
import EmbeddingDiagnostics
import Foundation

struct MapCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "map",
        abstract: "Apply a mapping saved by 'embdiag compat --save-mapping' (y = x·W + b) to an embedding file.",
        discussion: """
        Maps NEW-model embeddings into the OLD model's space so they can be searched against an old \
        index. The output is written atomically (.npy, or word2vec .bin/.txt with the row labels).
        Example:
          embdiag compat --old old.npy --new new.npy --fit procrustes \\
              --save-mapping new-to-old.npy
          embdiag map \\
              --mapping new-to-old.npy new-queries.npy queries-in-old-space.npy
        """)

    @OptionGroup var input: InputOptions

    @Option(help: "Mapping .npy written by 'embdiag compat --save-mapping' (its .json beside it).")
    var mapping: String

    @Flag(help: "Scale every output row to unit length.")
    var normalize = false

    @Flag(name: .shortAndLong, help: "Print nothing on stdout.")
    var quiet = false

    @Argument(help: "Input embeddings (NEW model).")
    var inputFile: String

    @Argument(help: "Output file (.npy, .bin, .txt).")
    var outputFile: String

    func run() throws {
        _ = try EmbeddingWriter.format(forOutputPath: outputFile)
        let map = try MappingFile.read(mapping)
        let (e, dropped) = try input.readValidated(inputFile, quiet: quiet)
        Terminal.noteDropped(dropped, from: inputFile)
        guard e.dimension == map.inputDimension else {
            throw EmbdiagError.mismatch(inputFile, "has \(e.dimension) dimensions but the mapping \(mapping) expects \(map.inputDimension)")
        }
        let out = try map.apply(e.matrix)
        if normalize { normalizeRowsInPlace(out) }
        // Finite mapping and inputs give finite outputs unless values overflow: never write them.
        let check = ValidationSummary(Embeddings(matrix: out, name: outputFile))
        guard check.nonFiniteRows.isEmpty else {
            throw EmbdiagError.invalid(inputFile, "mapped rows \(ValidationSummary.describe(check.nonFiniteRows)) are NaN/Inf (values too large for float32); nothing written")
        }
        try EmbeddingWriter.write(Embeddings(matrix: out, labels: e.labels, name: outputFile), to: outputFile)
        if !quiet { print("\(outputFile): \(out.rows) × \(out.cols) (\(map.fit) mapping \(map.inputDimension) → \(map.outputDimension))") }
    }
}
