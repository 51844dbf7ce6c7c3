import Foundation

/// The on-disk formats embdiag reads (and, for some, writes).
public enum EmbeddingFormat: String, CaseIterable, Codable, Sendable {
    case npy, npz, safetensors
    case word2vecBinary = "word2vec-binary"
    case word2vecText = "word2vec-text"
    case glove
    case csv, tsv
    case fvecs
    case jsonl, faiss, parquet
    /// A `postgresql://` URL with a query (`PostgresReader`), not a file.
    case postgresql
    /// Formats that `EmbeddingWriter` can produce.
    public static let writable: [EmbeddingFormat] = [.npy, .word2vecBinary, .word2vecText]
}

/// Where an embedding matrix came from, recorded in every report.
public struct Source: Codable, Equatable, Sendable {
    public var path: String
    public var format: EmbeddingFormat
    /// Element type on disk, e.g. "float32", "float16", "bfloat16", "float64", "text".
    public var dtype: String
    public var rows: Int
    public var dim: Int
    /// SHA-256 of the file's bytes (hex), or nil when not computed.
    public var sha256: String?
    /// The array/tensor picked inside a container (.npz member, safetensors tensor).
    public var key: String?
    /// CSV/TSV: the column read as row ids instead of a dimension, and how it was found
    /// (e.g. "column 1 'id' (header name)"); nil when there is none.
    public var idColumn: String?

    public init(path: String, format: EmbeddingFormat, dtype: String, rows: Int, dim: Int, sha256: String? = nil, key: String? = nil) {
        self.path = path
        self.format = format
        self.dtype = dtype
        self.rows = rows
        self.dim = dim
        self.sha256 = sha256
        self.key = key
    }
}

/// An embedding matrix with optional row labels (words, ids, texts) and its provenance.
public struct Embeddings: Sendable {
    public var matrix: Matrix
    public var labels: [String]?
    public var source: Source
    /// Rows that were null in the source (JSONL, Parquet, NULL in a database) and were kept as NaN
    /// rows because nulls are to be dropped (`--on-invalid drop`), so that row numbers stay those of
    /// the source: `requiringFiniteNonZeroRows` drops them as "null".
    public var nullRows: [Int] = []
    /// When these rows are a subset of the source's (rows dropped by `--on-invalid drop`, a
    /// sample): the source row number of each row, for reports. nil = row i is source row i.
    public var sourceRows: [Int]?
    /// What the reader decided that the data does not show, for the front end to print (e.g. that
    /// a CSV's first line of column numbers was read as data); not part of any report.
    public var notes: [String] = []

    public init(matrix: Matrix, labels: [String]? = nil, source: Source) {
        precondition(labels == nil || labels!.count == matrix.rows, "one label per row")
        self.matrix = matrix
        self.labels = labels
        self.source = source
    }

    /// In-memory embeddings (tests, derived matrices).
    public init(matrix: Matrix, labels: [String]? = nil, name: String = "<memory>") {
        self.init(matrix: matrix, labels: labels,
                  source: Source(path: name, format: .npy, dtype: "float32", rows: matrix.rows, dim: matrix.cols))
    }

    public var count: Int { matrix.rows }
    public var dimension: Int { matrix.cols }

    /// The source row number of row i (row i itself unless the rows are a subset).
    public func sourceRow(_ i: Int) -> Int { sourceRows?[i] ?? i }

    /// Label of row i, or its source row number as text.
    public func label(_ i: Int) -> String { labels?[i] ?? String(sourceRow(i)) }

    /// Row index of every label (first occurrence wins); labels are compared as exact strings
    /// of code points (`LabelKey`).
    public func labelIndex(caseInsensitive: Bool = false) -> [LabelKey: Int] {
        var index: [LabelKey: Int] = [:]
        guard let labels else { return index }
        index.reserveCapacity(labels.count)
        for (i, l) in labels.enumerated() {
            let key = LabelKey(caseInsensitive ? l.lowercased() : l)
            if index[key] == nil { index[key] = i }
        }
        return index
    }

    /// The subset of rows, keeping labels and the source row numbers (`sourceRows`).
    /// The same rows without their values (a matrix of `count` rows and 0 columns): labels, file
    /// rows, null rows and source kept, for reports that quote rows after the analysis.
    /// - Complexity: O(1) beyond copying the labels' array reference.
    public func withoutValues() -> Embeddings {
        var e = Embeddings(matrix: Matrix(rows: count, cols: 0), labels: labels, source: source)
        e.nullRows = nullRows
        e.sourceRows = sourceRows
        return e
    }

    public func selecting(rows indices: [Int]) -> Embeddings {
        var s = source
        s.rows = indices.count
        var e = Embeddings(matrix: matrix.gather(rows: indices), labels: labels.map { l in indices.map { l[$0] } }, source: s)
        if !nullRows.isEmpty {
            let missing = Set(nullRows)
            e.nullRows = indices.indices.filter { missing.contains(indices[$0]) }
        }
        e.sourceRows = indices.map(sourceRow)
        return e
    }
}
