import Foundation

/// Options of the sources beyond plain matrix files: JSONL, FAISS indexes, Parquet.
public struct SourceOptions: Sendable {
    /// JSONL: JSON path of the embedding (`embedding`, `data[0].embedding`); nil = the only numeric array.
    public var jsonPath: String?
    /// JSONL: JSON path of the row label/id (`custom_id`).
    public var labelPath: String?
    /// Parquet: the vector column; nil = the only list<float|double|half> or binary column.
    public var column: String?
    /// Parquet: the column of labels/ids.
    public var labelColumn: String?
    /// Null vectors become NaN rows listed in `Embeddings.nullRows` (dropped by `--on-invalid drop`)
    /// instead of an error naming the row.
    public var dropNulls: Bool

    public init(jsonPath: String? = nil, labelPath: String? = nil, column: String? = nil, labelColumn: String? = nil, dropNulls: Bool = false) {
        self.jsonPath = jsonPath
        self.labelPath = labelPath
        self.column = column
        self.labelColumn = labelColumn
        self.dropNulls = dropNulls
    }
}

extension FormatDetection {
    /// JSONL, FAISS and Parquet by magic bytes (FAISS header, `PAR1`) or extension.
    static func detectSource(head: [UInt8], extension ext: String) -> EmbeddingFormat? {
        if FaissReader.looksLikeIndex(head) { return .faiss }
        if head.starts(with: Array("PAR1".utf8)) { return .parquet }
        switch ext {
        case "parquet", "pq": return .parquet
        case "jsonl", "ndjson": return .jsonl
        case "faiss", "index": return .faiss
        default: return nil
        }
    }
}
