import Foundation

/// How to read an embedding file.
public struct ReadOptions: Sendable {
    /// Force a format instead of detecting it (magic bytes first, extension second).
    public var format: EmbeddingFormat?
    /// Array (.npz) or tensor (safetensors) to pick.
    public var key: String?
    /// CSV/TSV: 1-based column holding row labels (0 = none, nil = detect).
    public var labelColumn: Int?
    /// CSV/TSV: whether the first line is a header (nil = detect).
    public var hasHeader: Bool?
    /// A file with one label per line to attach to the rows.
    public var labelsPath: String?
    /// Compute the SHA-256 of the file (recorded in reports).
    public var computeChecksum: Bool
    /// Show a progress bar on stderr (only when stderr is a terminal).
    public var showProgress: Bool
    /// postgresql:// inputs: what to read (`--query`, or `--table`/`--column`/`--label-column`)
    /// and what to do with NULL vectors (`--on-invalid`).
    public var postgres: PostgresReader.Request

    public init(format: EmbeddingFormat? = nil, key: String? = nil, labelColumn: Int? = nil, hasHeader: Bool? = nil,
                labelsPath: String? = nil, computeChecksum: Bool = true, showProgress: Bool = false,
                postgres: PostgresReader.Request = PostgresReader.Request()) {
        self.format = format
        self.key = key
        self.labelColumn = labelColumn
        self.hasHeader = hasHeader
        self.labelsPath = labelsPath
        self.computeChecksum = computeChecksum
        self.showProgress = showProgress
        self.postgres = postgres
    }
}

/// Entry point of the IO layer: reads any supported file into `Embeddings`.
public enum EmbeddingReader {
    /// Reads `path` (format detected unless `options.format` is set), attaches `--labels`, and
    /// records the checksum. Throws `EmbdiagError` naming the file and the problem.
    public static func read(_ path: String, options: ReadOptions = ReadOptions()) throws -> Embeddings {
        if PostgresLocation.isURL(path) {
            var request = options.postgres
            request.computeChecksum = options.computeChecksum
            var embeddings = try PostgresReader.read(path, request: request)
            if let labelsPath = options.labelsPath {
                embeddings.labels = try LabelsFile.read(labelsPath, expectedCount: embeddings.count, matrixPath: embeddings.source.path)
            }
            return embeddings
        }
        if options.format == .postgresql { throw EmbdiagError.usage("\(path): --format postgresql needs a postgresql:// URL") }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw EmbdiagError.io(path, "no such file")
        }
        guard !isDirectory.boolValue else { throw EmbdiagError.io(path, "is a directory, not an embedding file") }
        let format = try options.format ?? FormatDetection.detect(path)
        var embeddings: Embeddings
        switch format {
        case .npy: embeddings = try NpyReader.read(path)
        case .npz: embeddings = try NpzReader.read(path, key: options.key)
        case .safetensors: embeddings = try SafetensorsReader.read(path, key: options.key)
        case .word2vecBinary: embeddings = try Word2VecReader.readBinary(path, showProgress: options.showProgress)
        case .word2vecText: embeddings = try Word2VecReader.readText(path, hasHeader: true, showProgress: options.showProgress)
        case .glove: embeddings = try Word2VecReader.readText(path, hasHeader: false, showProgress: options.showProgress)
        case .csv, .tsv:
            if options.labelColumn == nil, let name = options.postgres.labelColumn {
                throw EmbdiagError.usage("\(path): --label-column for CSV/TSV is a 1-based column number, not '\(name)'")
            }
            embeddings = try DelimitedReader.read(path, delimiter: format == .tsv ? "\t" : ",",
                                                  hasHeader: options.hasHeader, labelColumn: options.labelColumn)
        case .fvecs: embeddings = try FvecsReader.read(path)
        case .postgresql: preconditionFailure("handled above")
        }
        if let labelsPath = options.labelsPath {
            embeddings.labels = try LabelsFile.read(labelsPath, expectedCount: embeddings.count, matrixPath: path)
        }
        if options.computeChecksum {
            embeddings.source.sha256 = try Checksum.sha256(ofFile: path)
        }
        return embeddings
    }
}
