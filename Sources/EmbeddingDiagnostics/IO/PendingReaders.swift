import Foundation
// TEMPORARY: placeholders so the package builds while the readers are written (issue #2).
// Each IO helper deletes its entries from this file when it adds the real reader.

public enum NpzReader {
    public static func read(_ path: String, key: String?) throws -> Embeddings { throw EmbdiagError.malformed(path, ".npz reading is not implemented yet") }
}
public enum SafetensorsReader {
    public static func read(_ path: String, key: String?) throws -> Embeddings { throw EmbdiagError.malformed(path, "safetensors reading is not implemented yet") }
}
public enum FvecsReader {
    public static func read(_ path: String) throws -> Embeddings { throw EmbdiagError.malformed(path, "fvecs reading is not implemented yet") }
}
public enum DelimitedReader {
    public static func read(_ path: String, delimiter: Character, hasHeader: Bool?, labelColumn: Int?) throws -> Embeddings { throw EmbdiagError.malformed(path, "CSV/TSV reading is not implemented yet") }
}
