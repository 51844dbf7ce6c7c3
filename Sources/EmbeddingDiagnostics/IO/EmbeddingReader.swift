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
    /// JSONL, FAISS, Parquet options (`SourceOptions.swift`).
    public var sources = SourceOptions()

    public init(format: EmbeddingFormat? = nil, key: String? = nil, labelColumn: Int? = nil, hasHeader: Bool? = nil,
                labelsPath: String? = nil, computeChecksum: Bool = true, showProgress: Bool = false) {
        self.format = format
        self.key = key
        self.labelColumn = labelColumn
        self.hasHeader = hasHeader
        self.labelsPath = labelsPath
        self.computeChecksum = computeChecksum
        self.showProgress = showProgress
    }
}

/// Entry point of the IO layer: reads any supported file into `Embeddings`.
public enum EmbeddingReader {
    /// Reads `path` (format detected unless `options.format` is set), attaches `--labels`, and
    /// records the checksum. Throws `EmbdiagError` naming the file and the problem.
    public static func read(_ path: String, options: ReadOptions = ReadOptions()) throws -> Embeddings {
        // A Parquet dataset: a directory or a glob of .parquet files (ParquetDataset.swift).
        if options.format == nil || options.format == .parquet, let files = try ParquetDataset.files(path) {
            try ParquetDataset.requireNamedLabelColumn(options)
            var embeddings = try ParquetReader.read(files: files, displayPath: path, column: options.sources.column,
                                                    labelColumn: options.sources.labelColumn, dropNulls: options.sources.dropNulls)
            if let labelsPath = options.labelsPath {
                embeddings.labels = try LabelsFile.read(labelsPath, expectedCount: embeddings.count, matrixPath: path)
            }
            if options.computeChecksum { embeddings.source.sha256 = try ParquetDataset.sha256(ofFiles: files) }
            return embeddings
        }
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
            if let name = options.sources.labelColumn {
                throw EmbdiagError.usage("--label-column '\(name)': for CSV/TSV it is a 1-based column number (0 = none)")
            }
            embeddings = try DelimitedReader.read(path, delimiter: format == .tsv ? "\t" : ",",
                                                  hasHeader: options.hasHeader, labelColumn: options.labelColumn)
        case .fvecs: embeddings = try FvecsReader.read(path)
        case .jsonl: embeddings = try JSONLReader.read(path, jsonPath: options.sources.jsonPath, labelPath: options.sources.labelPath,
                                                       dropNulls: options.sources.dropNulls)
        case .faiss: embeddings = try FaissReader.read(path)
        case .parquet:
            try ParquetDataset.requireNamedLabelColumn(options)
            embeddings = try ParquetReader.read(files: [path], displayPath: path, column: options.sources.column,
                                                           labelColumn: options.sources.labelColumn, dropNulls: options.sources.dropNulls)
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
