import Foundation

/// `--train-rows FILE`: one row per line, an OLD row index (0-based, in the file) or an item id
/// (--names / --old-ids). Read before pairing; `positions` resolves it against the pairs.
public struct TrainRowsList: Sendable, Equatable {
    /// The non-empty lines, trimmed.
    public let lines: [String]
    /// Where they came from (for messages).
    public let source: String

    public init(lines: [String], source: String) {
        self.lines = lines
        self.source = source
    }

    /// Reads the file; refuses one that is not UTF-8 text or has no rows.
    public static func read(_ path: String) throws -> TrainRowsList {
        guard let data = FileManager.default.contents(atPath: path) else { throw EmbdiagError.io(path, "cannot read the file") }
        guard let text = String(data: data, encoding: .utf8) else { throw EmbdiagError.malformed(path, "not UTF-8 text") }
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }.filter { !$0.isEmpty }
        guard !lines.isEmpty else { throw EmbdiagError.invalid(path, "no training rows") }
        return TrainRowsList(lines: lines, source: path)
    }

    /// The rows as positions among the paired, validated items: `pairedOldRows[p]` is the OLD
    /// file row of pair p, `ids` the item id of each pair (nil: only row indices are accepted).
    /// - Complexity: O(lines + pairs).
    public func positions(pairedRows pairedOldRows: [Int], rowCount oldRowCount: Int, ids: [String]?) throws -> [Int] {
        let path = source
        var position: [Int: Int] = [:]
        for (p, r) in pairedOldRows.enumerated() { position[r] = p }
        let numeric = lines.allSatisfy { Int($0) != nil }
        var idRow: [LabelKey: Int] = [:]
        if !numeric {
            guard let ids else { throw EmbdiagError.invalid(path, "'\(lines.first { Int($0) == nil }!)' is not a row index; item ids need \(Setting.names) or \(Setting.oldIds)") }
            for (p, id) in ids.enumerated() where idRow[LabelKey(id)] == nil { idRow[LabelKey(id)] = pairedOldRows[p] }
        }
        return try lines.enumerated().map { (number, line) in
            let fileRow: Int
            if numeric {
                fileRow = Int(line)!
                guard fileRow >= 0 && fileRow < oldRowCount else {
                    throw EmbdiagError.invalid(path, "line \(number + 1): row \(fileRow) is outside OLD's \(oldRowCount) rows")
                }
            } else {
                guard let r = idRow[LabelKey(line)] else { throw EmbdiagError.invalid(path, "line \(number + 1): no paired item with id '\(line)'") }
                fileRow = r
            }
            guard let p = position[fileRow] else {
                throw EmbdiagError.invalid(path, "line \(number + 1): OLD row \(fileRow) has no valid partner in NEW (dropped or unpaired)")
            }
            return p
        }
    }
}
