import Foundation

/// Reading word lists from files: JSON (an array of strings, an array of arrays, or an object with
/// a "words" array) or plain text (one word or text per line; for groups, one group per line,
/// separated by tabs, else commas, else spaces). Blank lines and lines starting with # are skipped.
public enum WordListFile {
    static func lines(_ path: String) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else { throw EmbdiagError.io(path, "cannot read the word list") }
        guard var text = String(data: data, encoding: .utf8) else { throw EmbdiagError.malformed(path, "word list is not UTF-8 text") }
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }  // a byte-order mark is not part of the first word
        return text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
    }

    static func jsonValue(_ path: String) throws -> Any? {
        guard let data = FileManager.default.contents(atPath: path) else { throw EmbdiagError.io(path, "cannot read the word list") }
        let first = data.first { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) }
        guard first == UInt8(ascii: "[") || first == UInt8(ascii: "{") else { return nil }
        do { return try JSONSerialization.jsonObject(with: data) } catch {
            throw EmbdiagError.malformed(path, "word list looks like JSON but does not parse")
        }
    }

    public static func readWords(_ path: String) throws -> [String] {
        if let json = try jsonValue(path) {
            if let a = json as? [String] { return a }
            if let o = json as? [String: Any], let a = o["words"] as? [String] { return a }
            throw EmbdiagError.malformed(path, "JSON word list must be an array of strings or an object with a \"words\" array")
        }
        return try lines(path)
    }

    public static func readGroups(_ path: String) throws -> [[String]] {
        if let json = try jsonValue(path) {
            if let a = json as? [[String]] { return a }
            throw EmbdiagError.malformed(path, "JSON pairs must be an array of arrays of strings, e.g. [[\"she\", \"he\"], …]")
        }
        let groups = try lines(path).map { line in
            let sep: Character? = line.contains("\t") ? "\t" : (line.contains(",") ? "," : nil)
            let parts = sep.map { s in line.split(separator: s) } ?? line.split(whereSeparator: { $0 == " " })
            return parts.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        // A CSV/TSV header ("word_a,word_b", "word1\tword2", "left,right") is not a pair.
        if let first = groups.first, first.count >= 2, first.allSatisfy(isColumnName) { return Array(groups.dropFirst()) }
        return groups
    }

    /// A field that names a column of a pairs file rather than being a word: word, word1, word_a,
    /// term2, w1, left, right, first, second, target_b, attribute_x, group, pair… (case-insensitive).
    static func isColumnName(_ field: String) -> Bool {
        let f = field.lowercased()
        let stems = ["word", "words", "term", "terms", "token", "w", "left", "right", "first", "second", "target", "attribute", "group", "pair", "item"]
        for stem in stems where f.hasPrefix(stem) {
            var rest = Substring(f.dropFirst(stem.count))
            if rest.first == "_" || rest.first == "-" || rest.first == " " { rest = rest.dropFirst() }
            if rest.isEmpty ? stem != "w" : (rest.allSatisfy(\.isNumber) || ["a", "b", "x", "y"].contains(rest)) { return true }
        }
        return false
    }

    /// A word list given as a file path or a bundled name.
    public static func resolveWords(_ spec: String, option: String) throws -> WordList {
        if FileManager.default.fileExists(atPath: spec) {
            return WordList(name: URL(fileURLWithPath: spec).lastPathComponent, words: try readWords(spec), provenance: "file \(spec)")
        }
        if let l = StandardWordLists.words(named: spec) { return l }
        throw EmbdiagError.usage("\(option) \(spec): no such file and no bundled list of that name (bundled: bolukbasi, bolukbasi-seed, professions, professions-all, or a WEFE set such as flowers)")
    }

    /// Word groups (pairs) given as a file path or a bundled name.
    public static func resolveGroups(_ spec: String, option: String, named: (String) -> WordGroups?) throws -> WordGroups {
        if FileManager.default.fileExists(atPath: spec) {
            let g = try readGroups(spec)
            if let bad = g.first(where: { $0.count < 2 }) {
                throw EmbdiagError.malformed(spec, "every line/group needs at least two words (got \(bad))")
            }
            return WordGroups(name: URL(fileURLWithPath: spec).lastPathComponent, groups: g, provenance: "file \(spec)")
        }
        if let g = named(spec) { return g }
        throw EmbdiagError.usage("\(option) \(spec): no such file and no bundled list of that name (bundled: bolukbasi)")
    }
}
