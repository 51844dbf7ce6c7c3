import Foundation

/// One window of the other corpus: its name, its rows (indices into the corpus as read) and where
/// it sits on the chart's axis (the window's start in seconds since the epoch for dates and
/// timestamps, its position otherwise).
public struct WindowGroup: Sendable, Equatable {
    public internal(set) var name: String
    public internal(set) var rows: [Int]
    /// Seconds since the epoch (time windows), nil for batches and chunks.
    public internal(set) var start: Double?

    public init(name: String, rows: [Int], start: Double? = nil) {
        self.name = name
        self.rows = rows
        self.start = start
    }
}

/// How the rows of one corpus are cut into windows (`--chunk N`, `--by COLUMN`, `--by-file`,
/// `--window`). Guide: Guides/Shift.md ("Windows").
public enum WindowGroups {
    /// Consecutive chunks of `size` rows in row order; the last one holds what is left.
    ///
    /// - Complexity: O(count).
    public static func chunks(count: Int, size: Int) throws -> [WindowGroup] {
        guard size >= 1 else { throw EmbdiagError.usage("\(Setting.chunk) must be at least 1 (got \(size))") }
        guard count >= 1 else { return [] }
        return stride(from: 0, to: count, by: size).map { begin in
            let end = min(count, begin + size)
            return WindowGroup(name: "rows \(begin)–\(end - 1)", rows: Array(begin..<end))
        }
    }

    /// What a column of window keys holds.
    public enum KeyKind: String, Sendable {
        case timestamps = "dates/timestamps", integers, text
    }

    /// Groups rows by their key. With `width`, every key must be a date or timestamp
    /// (`WindowTimestamp`) and rows fall into epoch-aligned windows of that width, in time order.
    /// Without it: keys that are all dates/timestamps give one window per instant (time order),
    /// keys that are all integers one per value (numeric order), other text one per value (order
    /// of first appearance); a mix of these kinds is refused (a misparsed date or a stray value
    /// would otherwise become a window of its own). An empty key is refused (a null).
    ///
    /// - Parameters:
    ///   - keys: one key per row of the corpus.
    ///   - origin: names the keys in messages (the column, or the file).
    ///   - rowNumber: the source row number of row i, for messages.
    /// - Complexity: O(n log n).
    public static func byKeys(_ keys: [String], width: WindowWidth?, origin: String, rowNumber: (Int) -> Int = { $0 }) throws -> [WindowGroup] {
        guard !keys.isEmpty else { return [] }
        for (i, k) in keys.enumerated() where k.trimmingCharacters(in: .whitespaces).isEmpty {
            throw EmbdiagError.invalid(origin, "row \(rowNumber(i)): empty window key (a null or a blank line); every row needs one")
        }
        let times = keys.map(WindowTimestamp.parse)
        if let width {
            if let bad = times.firstIndex(where: { $0 == nil }) {
                throw EmbdiagError.invalid(origin, "row \(rowNumber(bad)): '\(keys[bad].prefix(40))' is not a date or timestamp (\(Setting.window) needs YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS[.fff]][Z|±HH:MM])")
            }
            var groups: [Double: [Int]] = [:]
            for (i, t) in times.enumerated() { groups[width.start(of: t!), default: []].append(i) }
            let dateOnly = width.seconds % 86_400 == 0
            return groups.keys.sorted().map { start in
                WindowGroup(name: WindowTimestamp.format(start, dateOnly: dateOnly), rows: groups[start]!, start: start)
            }
        }
        let kinds = keys.indices.map { i -> KeyKind in
            if times[i] != nil { return .timestamps }
            return isInteger(keys[i]) ? .integers : .text
        }
        let kind = kinds[0]
        if let other = kinds.firstIndex(where: { $0 != kind }) {
            throw EmbdiagError.invalid(origin, "mixed window keys: row \(rowNumber(0)) '\(keys[0].prefix(40))' is \(describe(kind)), row \(rowNumber(other)) '\(keys[other].prefix(40))' is \(describe(kinds[other])); give keys of one kind (dates, integers or text)")
        }
        switch kind {
        case .timestamps:
            var groups: [Double: (name: String, rows: [Int])] = [:]
            for (i, t) in times.enumerated() {
                if groups[t!] == nil { groups[t!] = (keys[i].trimmingCharacters(in: .whitespaces), []) }
                groups[t!]!.rows.append(i)
            }
            return groups.keys.sorted().map { WindowGroup(name: groups[$0]!.name, rows: groups[$0]!.rows, start: $0) }
        case .integers:
            var groups: [Int64: [Int]] = [:]
            for (i, k) in keys.enumerated() { groups[Int64(k.trimmingCharacters(in: .whitespaces))!, default: []].append(i) }
            return groups.keys.sorted().map { WindowGroup(name: String($0), rows: groups[$0]!) }
        case .text:
            // Exact code points, as labels (Guides/Formats.md).
            var order: [LabelKey] = []
            var groups: [LabelKey: [Int]] = [:]
            for (i, k) in keys.enumerated() {
                let key = LabelKey(k)
                if groups[key] == nil { order.append(key) }
                groups[key, default: []].append(i)
            }
            return order.map { WindowGroup(name: $0.string, rows: groups[$0]!) }
        }
    }

    static func describe(_ kind: KeyKind) -> String {
        switch kind {
        case .timestamps: return "a date/timestamp"
        case .integers: return "an integer"
        case .text: return "text"
        }
    }

    static func isInteger(_ s: String) -> Bool {
        let t = s.trimmingCharacters(in: .whitespaces)
        return Int64(t) != nil
    }
}
