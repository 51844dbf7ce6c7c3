import Foundation

// The SEAT side files: reading is here, parsing (a pure function of the text) with the types.

extension SEATTemplates {
    /// Reads the templates file at `path` (UTF-8 text; `embdiag bias sentences --templates`), see `parse`.
    /// - Complexity: O(file size).
    public static func read(_ path: String) throws -> SEATTemplates {
        guard let data = FileManager.default.contents(atPath: path) else { throw EmbdiagError.io(path, "cannot read the templates file") }
        guard let text = String(data: data, encoding: .utf8) else { throw EmbdiagError.malformed(path, "templates file is not UTF-8 text") }
        return try parse(text, path: path)
    }
}

extension SEATSentences {
    /// Reads the sentence table at `path` (UTF-8 text; what `embdiag bias --seat` reads), see `parse`.
    /// - Complexity: O(file size).
    public static func read(_ path: String) throws -> [SEATSentence] {
        guard let data = FileManager.default.contents(atPath: path) else { throw EmbdiagError.io(path, "cannot read the sentence table") }
        guard let text = String(data: data, encoding: .utf8) else { throw EmbdiagError.malformed(path, "the sentence table is not UTF-8 text") }
        return try parse(text, path: path)
    }
}
