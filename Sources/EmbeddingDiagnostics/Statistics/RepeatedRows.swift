import Foundation

/// Rows that repeat inside one corpus (equal unit rows), and whether they look like copies.
///
/// The permutation tests relabel rows one by one, which is exact when the rows of each corpus are
/// drawn independently. A corpus that repeats its own rows (a batch ingested twice, boilerplate
/// copied into many documents) is not such a sample: every repeat stays in its corpus under the
/// observed labelling but is split up by a relabelling, so two corpora made the same way "differ"
/// (8 of 12 draws at p < 0.05 with 20 % of the rows repeated, 11 of 12 with every row twice), and a
/// row's twin inside its own k-NN ball makes the reference's own new-row rate 0. Such repeats are
/// tested once (the first occurrence), unless `keepCrossDuplicates` keeps every row.
///
/// Data with few distinct rows (quantised codes, integer grids, d = 1) repeat values because
/// they are drawn from few values, not because rows were copied: independent draws stay
/// exchangeable there, and collapsing them would test the set of values instead of the
/// distribution. Such draws share values with an independent sample of the same data as often as
/// with themselves, so where another corpus is at hand (`ShiftAnalysis`, each window against the
/// reference) the repeats count as copies exactly when the corpora do not also share values by
/// chance — however many times a row repeats (a batch ingested three times leaves a third of the
/// rows distinct). A corpus seen alone (a saved reference) has only its own rows to go by: its
/// repeats count as copies when the distinct rows are at least half of it (`areCopies`).
/// Otherwise the rows are tested as given, and the report says so.
public struct RepeatedRows: Sendable, Equatable {
    /// Rows of the corpus.
    public internal(set) var rowCount: Int
    /// The first row of every group of equal unit rows, in row order (the rows kept).
    public internal(set) var firstOccurrences: [Int]

    /// Rows equal to an earlier row of the same corpus.
    public var repeats: Int { rowCount - firstOccurrences.count }
    /// Whether the repeats of a corpus seen alone are read as copies (distinct rows are at least
    /// half of the corpus).
    public var areCopies: Bool { repeats > 0 && 2 * firstOccurrences.count >= rowCount }

    /// Groups the unit rows of one corpus by exact equality (−0 equals +0), by hashing.
    ///
    /// - Complexity: O(n·d) expected.
    public static func find(unitRows: Matrix) -> RepeatedRows {
        let shared = CrossCorpusDuplicates.find(reference: unitRows, other: unitRows, nearExact: false)
        // Every row matches a group of equal rows; the group's first row is its first occurrence.
        return RepeatedRows(rowCount: unitRows.rows, firstOccurrences: shared.matches.filter { $0.referenceRow == $0.otherRow }.map(\.otherRow))
    }
}

extension RepeatedRows {
    /// `e` without the rows that repeat an earlier row when `keep` is false and the repeats are
    /// copies, the number of rows dropped and the number found. `comparedWithAnotherCorpus`: the
    /// caller found no values shared by chance with another corpus, so every repeat is a copy;
    /// otherwise a corpus seen alone follows `RepeatedRows.areCopies`. A corpus that would fall
    /// below `minimum` rows is kept whole. `unitRows`: `e`'s rows already normalised, when the
    /// caller has them. The rule of `shift` and `depth` alike.
    ///
    /// - Complexity: O(n·d).
    static func withoutRepeats(_ e: Embeddings, unitRows: Matrix? = nil, keep: Bool, comparedWithAnotherCorpus: Bool = false,
                               minimum: Int) -> (rows: Embeddings, dropped: Int, found: Int) {
        let r = repeatsRemoved(e, unitRows: unitRows, keep: keep, comparedWithAnotherCorpus: comparedWithAnotherCorpus, minimum: minimum)
        return (r.rows, r.dropped, r.found)
    }

    /// `withoutRepeats`, with the rows of `e` kept (nil: every row).
    ///
    /// - Complexity: O(n·d).
    static func repeatsRemoved(_ e: Embeddings, unitRows: Matrix? = nil, keep: Bool, comparedWithAnotherCorpus: Bool = false,
                               minimum: Int) -> (rows: Embeddings, dropped: Int, found: Int, kept: [Int]?) {
        guard e.count > 1 else { return (e, 0, 0, nil) }
        let repeats = RepeatedRows.find(unitRows: unitRows ?? Matrix.normalizedRows(e.matrix))
        guard !keep, repeats.repeats > 0, comparedWithAnotherCorpus || repeats.areCopies, repeats.firstOccurrences.count >= minimum else {
            return (e, 0, repeats.repeats, nil)
        }
        return (e.selecting(rows: repeats.firstOccurrences), repeats.repeats, repeats.repeats, repeats.firstOccurrences)
    }
}
