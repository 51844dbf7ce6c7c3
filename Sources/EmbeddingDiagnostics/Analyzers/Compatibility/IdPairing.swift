import Foundation

/// What to do when an item id occurs on several rows of one side (`--duplicates`).
public enum DuplicateIdPolicy: String, CaseIterable, Sendable {
    /// Stop with an error naming the ids (default): 20 rows must not silently become 10 items.
    case error
    /// Keep the first row of each id; the report says how many rows were dropped.
    case first
}

/// Rows of two inputs paired by item id (`--pair-by label --old-ids --new-ids`), with the count
/// of rows paired, and of rows dropped and why: the report states them.
public struct IdPairing: Sendable, Equatable {
    /// Paired row indices, in the first input's order.
    public internal(set) var rowsA: [Int]
    public internal(set) var rowsB: [Int]
    /// Rows of each side that repeat an id already seen (dropped with `.first`).
    public internal(set) var duplicateRowsA: Int
    public internal(set) var duplicateRowsB: Int
    /// Rows (first occurrences) whose id is not on the other side.
    public internal(set) var unmatchedA: Int
    public internal(set) var unmatchedB: Int

    /// Ids are compared as exact strings of code points (`LabelKey`): 'café' in NFC and in NFD
    /// are different ids, as in a pandas or SQL join.
    /// - Complexity: O(n_a + n_b) with hashing.
    public init(idsA: [String], idsB: [String], nameA: String, nameB: String, duplicates: DuplicateIdPolicy) throws {
        func firstRows(_ ids: [String], _ name: String) throws -> (index: [LabelKey: Int], repeats: Int) {
            var index: [LabelKey: Int] = [:]
            var counts: [LabelKey: Int] = [:]
            index.reserveCapacity(ids.count)
            for (i, id) in ids.enumerated() {
                let key = LabelKey(id)
                counts[key, default: 0] += 1
                if index[key] == nil { index[key] = i }
            }
            let repeated = counts.filter { $0.value > 1 }.sorted { $0.key < $1.key }
            if !repeated.isEmpty && duplicates == .error {
                let shown = repeated.prefix(3).map { "'\($0.key)' ×\($0.value)" }.joined(separator: ", ")
                throw EmbdiagError.mismatch(name, "\(repeated.count) item id(s) occur on several rows (\(shown)\(repeated.count > 3 ? ", …" : "")): pairing by id needs unique ids; fix the ids or pass \(Setting.duplicates) first to keep each id's first row")
            }
            return (index, ids.count - index.count)
        }
        let (indexA, repeatsA) = try firstRows(idsA, nameA)
        let (indexB, repeatsB) = try firstRows(idsB, nameB)
        var a: [Int] = [], b: [Int] = []
        for (i, id) in idsA.enumerated() {
            let key = LabelKey(id)
            if indexA[key] == i, let j = indexB[key] { a.append(i); b.append(j) }
        }
        rowsA = a
        rowsB = b
        duplicateRowsA = repeatsA
        duplicateRowsB = repeatsB
        unmatchedA = indexA.count - a.count
        unmatchedB = indexB.count - b.count
    }

    /// "20 OLD rows and 20 NEW rows → 10 pairs; dropped: 10 OLD rows repeating an id (first kept), …".
    public func summary(nameA: String, nameB: String, rowsInA: Int, rowsInB: Int) -> String {
        var dropped: [String] = []
        if duplicateRowsA > 0 { dropped.append("\(duplicateRowsA) \(nameA) row(s) repeating an id (first kept)") }
        if duplicateRowsB > 0 { dropped.append("\(duplicateRowsB) \(nameB) row(s) repeating an id (first kept)") }
        if unmatchedA > 0 { dropped.append("\(unmatchedA) \(nameA) id(s) not in \(nameB)") }
        if unmatchedB > 0 { dropped.append("\(unmatchedB) \(nameB) id(s) not in \(nameA)") }
        return "Rows paired by item id: \(rowsInA) \(nameA) rows and \(rowsInB) \(nameB) rows → \(rowsA.count) pairs" +
            (dropped.isEmpty ? "; nothing dropped." : "; dropped: " + dropped.joined(separator: ", ") + ".")
    }
}
