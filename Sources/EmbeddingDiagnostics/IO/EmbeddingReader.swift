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
    /// CSV/TSV: the column of row ids, by header name or 1-based number ("0" = none, nil =
    /// detect by header name and content; see Guides/Formats.md). Ids are never a dimension.
    public var idColumn: String?
    /// A file with one label per line to attach to the rows.
    public var labelsPath: String?
    /// Compute the SHA-256 of the file (recorded in reports).
    public var computeChecksum: Bool
    /// Show a progress bar on stderr (only when stderr is a terminal).
    public var showProgress: Bool
    /// JSONL, FAISS, Parquet options (`SourceOptions.swift`).
    public var sources = SourceOptions()
    /// postgresql:// inputs: what to read (`--query`, or `--table`/`--column`/`--label-column`)
    /// and what to do with NULL vectors (`--on-invalid`).
    public var postgres = PostgresReader.Request()

    public init(format: EmbeddingFormat? = nil, key: String? = nil, labelColumn: Int? = nil, hasHeader: Bool? = nil,
                labelsPath: String? = nil, computeChecksum: Bool = true, showProgress: Bool = false, idColumn: String? = nil,
                postgres: PostgresReader.Request = PostgresReader.Request()) {
        self.postgres = postgres
        self.format = format
        self.idColumn = idColumn
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
    /// `-` is stdin; pipes and FIFOs are read as streams (copied once, see `StreamInput`).
    /// A matrix with no rows or no columns is refused (every analysis would be meaningless).
    public static func read(_ path: String, options: ReadOptions = ReadOptions()) throws -> Embeddings {
        if PostgresLocation.isSource(path) || (options.format == .postgresql && path.contains("=")) {
            var request = options.postgres
            request.computeChecksum = options.computeChecksum
            var embeddings = try PostgresReader.read(path, request: request)
            if let labelsPath = options.labelsPath {
                embeddings.labels = try LabelsFile.read(labelsPath, expectedCount: embeddings.count, matrixPath: embeddings.source.path)
            }
            return embeddings
        }
        if options.format == .postgresql { throw EmbdiagError.usage("\(PostgresLocation.printable(path)): \(Setting.format) postgresql needs a postgresql:// URL or a key=value connection string") }
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
        guard StreamInput.isStream(path) else { return try readFile(path, options: options) }
        var e = try StreamInput.withRegularFile(path) { try readFile($0, options: options) }
        e.source.path = StreamInput.displayName(path)
        return e
    }

    /// Names a container member is taken by default when it holds several 2-D arrays.
    static func isEmbeddingName(_ name: String) -> Bool {
        let base = name.lowercased().split(whereSeparator: { $0 == "." || $0 == "/" }).last.map(String.init) ?? ""
        return ["embeddings", "embedding", "vectors", "emb"].contains(base == "npy" ? name.lowercased().replacingOccurrences(of: ".npy", with: "") : base)
    }

    /// The refusal for a container holding several 2-D float arrays named like embeddings
    /// (`embeddings` and `emb`, say): which one is meant is the user's choice, never the order.
    static func severalEmbeddingNames(_ named: [(name: String, shape: String)], what: String) -> String {
        let listed = named.map { "'\($0.name)' \($0.shape)" }
        return "\(named.count) 2-D float \(what) are named like embeddings (\(listed.prefix(6).joined(separator: ", "))\(named.count > 6 ? ", …" : "")); which one is meant is ambiguous: pick one with \(Setting.key) NAME (e.g. \(Setting.key) \(named[0].name))"
    }

    static func readFile(_ path: String, options: ReadOptions) throws -> Embeddings {
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
                throw EmbdiagError.usage("\(Setting.labelColumn) '\(name)': for CSV/TSV it is a 1-based column number (0 = none)")
            }
            embeddings = try DelimitedReader.read(path, delimiter: format == .tsv ? "\t" : ",",
                                                  hasHeader: options.hasHeader, labelColumn: options.labelColumn,
                                                  idColumn: options.idColumn)
        case .fvecs: embeddings = try FvecsReader.read(path)
        case .postgresql: preconditionFailure("handled above")
        case .jsonl: embeddings = try JSONLReader.read(path, jsonPath: options.sources.jsonPath, labelPath: options.sources.labelPath,
                                                       dropNulls: options.sources.dropNulls)
        case .faiss: embeddings = try FaissReader.read(path)
        case .parquet:
            try ParquetDataset.requireNamedLabelColumn(options)
            embeddings = try ParquetReader.read(files: [path], displayPath: path, column: options.sources.column,
                                                           labelColumn: options.sources.labelColumn, dropNulls: options.sources.dropNulls)
        }
        guard embeddings.count > 0 else { throw EmbdiagError.malformed(path, "no rows (0 × \(embeddings.dimension)): nothing to analyse") }
        guard embeddings.dimension > 0 else {
            throw EmbdiagError.malformed(path, "dimension 0 (\(embeddings.count) × 0): the rows have no values")
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
