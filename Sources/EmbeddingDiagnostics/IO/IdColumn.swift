import Foundation

/// The id column of a CSV/TSV file: a column of row identifiers that must not be read as a
/// dimension (a 500 × 384 matrix with ids read as 500 × 385 gives wrong answers with no error).
///
/// Rule (documented in Guides/Formats.md):
/// 1. `--id-column NAME|N` picks it (N is 1-based; `0` or `none` = no id column, no detection).
/// 2. Otherwise a header field named `id`, `key`, `uid`, `uuid`, `idx`, `index`, `row`, `#` or
///    ending in `_id`/`-id`/` id` (case-insensitive) marks it.
/// 3. Otherwise the first numeric column is an id column when it holds plain integers (no sign,
///    point or exponent), unique, over at least 3 rows, that either increase strictly (0, 1, 2, …
///    or 17, 18, 40) or stand beside columns that all hold non-integers (shuffled ids).
public struct IdColumn: Sendable, Equatable, CustomStringConvertible {
    /// 0-based column index.
    public var index: Int
    public var name: String?
    public enum Reason: String, Sendable {
        case option = "--id-column", headerName = "header name", content = "strictly increasing integers"
        case uniqueIntegers = "unique integers beside real-valued columns"
    }
    public var reason: Reason

    public var description: String {
        "column \(index + 1)\(name.map { " '\($0)'" } ?? "") (\(reason.rawValue))"
    }

    static let idNames: Set<String> = ["id", "ids", "key", "uid", "uuid", "idx", "index", "row", "row_id", "#", "doc_id", "item_id"]

    public static func isIdName(_ raw: String) -> Bool {
        let n = raw.trimmingCharacters(in: .whitespaces).lowercased()
        return idNames.contains(n) || n.hasSuffix("_id") || n.hasSuffix("-id") || n.hasSuffix(" id") || n.hasSuffix("_key")
    }

    /// - Complexity: O(rows) for content detection (one column).
    static func resolve(_ option: String?, header: [String]?, data: [[String]], labelIndex: Int?, path: String) throws -> IdColumn? {
        let width = data.first?.count ?? 0
        if let option {
            let o = option.trimmingCharacters(in: .whitespaces)
            if o == "0" || o.lowercased() == "none" { return nil }
            if let n = Int(o) {
                guard n >= 1, n <= width else { throw EmbdiagError.usage("\(Setting.idColumn) \(n) but \(path) has \(width) columns") }
                guard n - 1 != labelIndex else { throw EmbdiagError.usage("\(Setting.idColumn) \(n) is also the label column of \(path)") }
                return IdColumn(index: n - 1, name: header?[n - 1], reason: .option)
            }
            guard let header else {
                throw EmbdiagError.usage("\(Setting.idColumn) '\(o)' names a column but \(path) has no header line (give its number instead)")
            }
            guard let i = header.firstIndex(where: { $0.trimmingCharacters(in: .whitespaces) == o }) else {
                throw EmbdiagError.usage("\(Setting.idColumn) '\(o)': no such column in \(path); header: \(header.prefix(8).joined(separator: ", "))\(header.count > 8 ? ", …" : "")")
            }
            return IdColumn(index: i, name: o, reason: .option)
        }
        if let header {
            for (i, name) in header.enumerated() where i != labelIndex && isIdName(name) {
                return IdColumn(index: i, name: name.trimmingCharacters(in: .whitespaces), reason: .headerName)
            }
        }
        let first = labelIndex == 0 ? 1 : 0
        guard data.count >= 3, first < width else { return nil }
        var previous: Int?
        var increasing = true
        var seen = Set<Int>()
        for record in data {
            guard first < record.count else { return nil }
            let f = record[first].trimmingCharacters(in: .whitespaces)
            guard !f.isEmpty, f.utf8.count <= 18, f.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let v = Int(f) else { return nil }
            if let p = previous, v <= p { increasing = false }
            previous = v
            guard seen.insert(v).inserted else { return nil }
        }
        if increasing { return IdColumn(index: first, name: header?[first], reason: .content) }
        // Unique integers in any order, while every other numeric column holds non-integers
        // (real-valued embeddings, shuffled ids).
        let others = (0..<width).filter { $0 != first && $0 != labelIndex }
        guard !others.isEmpty else { return nil }
        let realValued = others.allSatisfy { c in
            data.contains { r in c < r.count && r[c].contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) }
        }
        return realValued ? IdColumn(index: first, name: header?[first], reason: .uniqueIntegers) : nil
    }
}
