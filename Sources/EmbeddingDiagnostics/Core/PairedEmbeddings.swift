import Foundation

/// How the rows of two inputs that embed the same items are matched.
public enum RowPairing: Sendable {
    /// Row i with row i (the two inputs must have the same number of rows).
    case rowIndex
    /// Rows with equal item ids; `sources` name where each side's ids came from (for messages).
    case itemIds(first: [String], second: [String], sources: (first: String, second: String), duplicates: DuplicateIdPolicy)
}

/// Two embeddings of the same items, row-aligned: paired (by row or by item id), then pairs where
/// either side is NaN/Inf/all-zero removed from both sides (`InvalidRowPolicy.drop`) or refused
/// (`.error`). `compat`, `relrep` and `map`-style comparisons all start here, so every one pairs
/// and validates the same way and reports the same counts.
public struct PairedEmbeddings: Sendable {
    /// A pair removed because one side cannot be used; rows are rows of the input files.
    public struct DroppedPair: Sendable, Equatable {
        public internal(set) var firstRow: Int
        public internal(set) var secondRow: Int
        /// The side(s) that are invalid, by the role names given to `init`, and why.
        public internal(set) var reason: String
    }

    /// The paired, valid rows of each input, in pairing order (the first input's order).
    public let first: Embeddings
    public let second: Embeddings
    /// For each pair, its row in the first and in the second input file.
    public let firstRows: [Int]
    public let secondRows: [Int]
    /// Pairs found before invalid pairs were removed.
    public let pairsBeforeValidation: Int
    /// The id pairing (counts of duplicate and unmatched ids), when pairing by id.
    public let idPairing: IdPairing?
    /// Pairs removed under `.drop`, and the invalid rows of each input that were part of a pair.
    public let droppedPairs: [DroppedPair]
    public let droppedFirst: [DroppedRow]
    public let droppedSecond: [DroppedRow]

    public var count: Int { firstRows.count }

    /// - Parameters:
    ///   - roles: how messages and reasons name the two inputs ("OLD", "NEW").
    ///   - minimumPairs: fewer valid pairs is an error naming both inputs.
    /// - Throws: `EmbdiagError` for a row-count mismatch with `.rowIndex`, duplicate ids (unless
    ///   `.first`), any invalid row under `.error` (naming the file and its rows), or too few pairs.
    /// - Complexity: O(n·d) to validate both inputs, O(n) hashing to pair, plus one copy of the
    ///   kept rows when the pairing is not the identity.
    public init(_ first: Embeddings, _ second: Embeddings, pairing: RowPairing, invalidRows policy: InvalidRowPolicy,
                roles: (first: String, second: String), minimumPairs: Int = 2) throws {
        var rowsA: [Int], rowsB: [Int]
        switch pairing {
        case .rowIndex:
            guard first.count == second.count else {
                throw EmbdiagError.mismatch(second.source.path, "has \(second.count) rows but \(first.source.path) has \(first.count); pair the rows by item id or give files with the same rows")
            }
            rowsA = Array(0..<first.count)
            rowsB = rowsA
            idPairing = nil
        case let .itemIds(idsA, idsB, sources, duplicates):
            let p = try IdPairing(idsA: idsA, idsB: idsB, nameA: sources.first, nameB: sources.second, duplicates: duplicates)
            (rowsA, rowsB) = (p.rowsA, p.rowsB)
            idPairing = p
        }
        pairsBeforeValidation = rowsA.count

        let checkA = ValidationSummary(first), checkB = ValidationSummary(second)
        var dropped: [DroppedPair] = [], droppedA: [DroppedRow] = [], droppedB: [DroppedRow] = []
        if !checkA.isClean || !checkB.isClean {
            if policy == .error {
                // The same one-line error as every analyzer, naming the file and its rows.
                _ = try first.requiringFiniteNonZeroRows(policy: .error)
                _ = try second.requiringFiniteNonZeroRows(policy: .error)
            }
            let invalidA = Dictionary(uniqueKeysWithValues: first.invalidRows(checkA).map { ($0.row, $0) })
            let invalidB = Dictionary(uniqueKeysWithValues: second.invalidRows(checkB).map { ($0.row, $0) })
            var keptA: [Int] = [], keptB: [Int] = []
            for (a, b) in zip(rowsA, rowsB) {
                let badA = invalidA[a], badB = invalidB[b]
                if badA == nil && badB == nil { keptA.append(a); keptB.append(b); continue }
                let sides = [badA.map { "\($0.reason) in \(roles.first)" }, badB.map { "\($0.reason) in \(roles.second)" }].compactMap { $0 }
                dropped.append(DroppedPair(firstRow: a, secondRow: b, reason: sides.joined(separator: ", ")))
                if let badA { droppedA.append(badA) }
                if let badB { droppedB.append(badB) }
            }
            (rowsA, rowsB) = (keptA, keptB)
        }
        guard rowsA.count >= minimumPairs else {
            // No id in common is a pairing problem (other ids, trailing blanks, another case), not invalid rows.
            let hint = pairsBeforeValidation == 0 ? ": no id of one file occurs in the other — check that both id lists name the same items, written alike (blanks, case, leading zeros)" : ""
            throw EmbdiagError.mismatch(second.source.path, "only \(rowsA.count) valid row pairs with \(first.source.path) (of \(pairsBeforeValidation) paired); need at least \(minimumPairs)\(hint)")
        }
        droppedPairs = dropped
        droppedFirst = droppedA
        droppedSecond = droppedB
        firstRows = rowsA
        secondRows = rowsB
        self.first = Self.subset(first, rowsA)
        self.second = Self.subset(second, rowsB)
    }

    /// `values` of the first input's rows, in pairing order (labels, names, classes).
    public func pairedFirst<T>(_ values: [T]) -> [T] { firstRows.map { values[$0] } }

    /// One line for the report when pairing by id: counts paired, duplicate and unmatched.
    public func pairingSummary(roles: (first: String, second: String), rowsInFirst: Int, rowsInSecond: Int) -> String? {
        guard let idPairing else { return nil }
        return idPairing.summary(nameA: roles.first, nameB: roles.second, rowsInA: rowsInFirst, rowsInB: rowsInSecond)
            + (count != pairsBeforeValidation ? " \(count) pairs after validation." : "")
    }

    /// The report table of dropped pairs (empty when none).
    public func droppedPairsTable(title: String, names: [String]? = nil) -> ReportTable? {
        guard !droppedPairs.isEmpty else { return nil }
        return ReportTable(name: "dropped_rows", title: title, columns: ["row", "label", "reason"],
                           rows: droppedPairs.map { pair in
                               [.int(pair.firstRow), names.map { .string($0[pair.firstRow]) } ?? .null, .string(pair.reason)]
                           })
    }

    /// The same rows as `e` when `rows` is the identity (no copy), else a gathered subset.
    static func subset(_ e: Embeddings, _ rows: [Int]) -> Embeddings {
        if rows.count == e.count && rows.enumerated().allSatisfy({ $0.offset == $0.element }) { return e }
        return e.selecting(rows: rows)
    }
}
