import Foundation

/// How `--fit unpaired` reads a compat request: rows whose item id occurs in both files (the same
/// text embedded by both models) are *shared* and only judge the map; every other row of each
/// file is a row *without a partner*, and the map is found from those alone. With row pairing
/// (no ids) the two files are taken to hold different texts: no row is shared and the map cannot
/// be judged. Invalid rows (NaN/Inf/all-zero) are refused (`.error`) or left out (`.drop`) as
/// everywhere else.
struct UnpairedSplit {
    /// Rows of OLD and of NEW without a partner (file rows, increasing), valid ones only.
    var oldRows: [Int]
    var newRows: [Int]
    /// Shared rows whose both sides are valid: the judge.
    var sharedPairs: Int
    /// Rows without a partner left out as invalid (`--on-invalid drop`).
    var droppedOld: Int
    var droppedNew: Int

    /// - Complexity: O(n·d) to validate, O(n) hashing to split by id.
    init(_ request: CompatibilityRequest) throws {
        let old = request.old, new = request.new
        if request.invalidRows == .error {
            _ = try old.requiringFiniteNonZeroRows(policy: .error)
            _ = try new.requiringFiniteNonZeroRows(policy: .error)
        }
        let invalidOld = Set(old.invalidRows().map(\.row)), invalidNew = Set(new.invalidRows().map(\.row))
        var candidatesOld: [Int], candidatesNew: [Int]
        switch request.pairing {
        case .rowIndex:
            candidatesOld = Array(0..<old.count)
            candidatesNew = Array(0..<new.count)
            sharedPairs = 0
        case let .itemIds(idsOld, idsNew, sources, duplicates):
            // Refuses repeated ids under `.error`, keeps first rows under `.first`.
            let pairing = try IdPairing(idsA: idsOld, idsB: idsNew, nameA: sources.first, nameB: sources.second, duplicates: duplicates)
            sharedPairs = zip(pairing.rowsA, pairing.rowsB).filter { !invalidOld.contains($0.0) && !invalidNew.contains($0.1) }.count
            func withoutPartner(_ ids: [String], _ other: [String]) -> [Int] {
                let elsewhere = Set(other.map(LabelKey.init))
                var seen = Set<LabelKey>(), rows: [Int] = []
                for (i, id) in ids.enumerated() {
                    let key = LabelKey(id)
                    if seen.insert(key).inserted && !elsewhere.contains(key) { rows.append(i) }
                }
                return rows
            }
            candidatesOld = withoutPartner(idsOld, idsNew)
            candidatesNew = withoutPartner(idsNew, idsOld)
        }
        oldRows = candidatesOld.filter { !invalidOld.contains($0) }
        newRows = candidatesNew.filter { !invalidNew.contains($0) }
        droppedOld = candidatesOld.count - oldRows.count
        droppedNew = candidatesNew.count - newRows.count
    }

    /// Refuses what `--fit unpaired` cannot honour, one line each.
    static func refuseUnsupported(_ request: CompatibilityRequest, _ configuration: CompatibilityConfiguration) throws {
        func refuse(_ why: String) -> EmbdiagError { .usage("\(Setting.fit) unpaired: \(why)") }
        if request.compression != nil {
            throw refuse("a compressed NEW (truncate:D, int8, binary) is OLD row by row, so every row is paired; use \(Setting.fit) procrustes")
        }
        if request.labels != nil {
            throw refuse("the shared rows judge the map by identity (each NEW row must find its own OLD row), so \(Setting.labels) does not apply")
        }
        if request.oldQueries != nil || request.newQueries != nil {
            throw refuse("the shared rows are the queries; separate query files do not apply")
        }
        if request.trainRows != nil || configuration.trainRows != nil {
            throw refuse("nothing is trained on pairs (every shared row judges the map), so \(Setting.trainRows) does not apply")
        }
        if !configuration.fitCurve.isEmpty {
            throw refuse("\(Setting.fitCurve) measures paired training sizes; it does not apply")
        }
    }
}
