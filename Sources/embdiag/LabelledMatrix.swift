import EmbeddingDiagnostics
import Foundation

/// Writing a matrix the user asked for (`convert`, `depth --select-central --write`, `anisotropy
/// --write`) keeps its labels: word2vec carries them as words; a .npy cannot, so they go beside it
/// as OUT.labels.txt (one per line, readable with --labels). One rule for every command; the side
/// file's name is claimed before the analysis (`OutputLocations.sideFiles`).
enum LabelledMatrix {
    /// The labels file written beside a .npy output.
    static func labelsPath(_ output: String) -> String { output + ".labels.txt" }

    /// Writes `e` to `path` (format from `format` or the extension) and, for a .npy of labelled
    /// rows, the labels beside it; returns the files written. Labels a labels file cannot hold
    /// (a line break) are refused before anything is written.
    static func write(_ e: Embeddings, to path: String, format: EmbeddingFormat? = nil) throws -> [String] {
        let format = try format ?? EmbeddingWriter.format(forOutputPath: path)
        let labels = format == .npy ? e.labels : nil
        if let labels { try LabelsFile.refuseUnwritable(labels, path: labelsPath(path)) }
        try EmbeddingWriter.write(e, to: path, format: format)
        guard let labels else { return [path] }
        try LabelsFile.write(labels, to: labelsPath(path))
        return [path, labelsPath(path)]
    }
}
