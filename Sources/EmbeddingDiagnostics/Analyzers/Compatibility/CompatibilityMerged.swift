import Foundation

extension CompatibilityAnalysis {
    /// The effective cut-offs (each asked k capped at `cap` candidates, deduplicated) and the asked
    /// ones (positive, deduplicated: the metric keys).
    static func cutoffs(_ ks: [Int], cap: Int) throws -> (effective: [Int], asked: [Int]) {
        let effective = effectiveKs(ks, cap: cap)
        guard !effective.isEmpty else { throw EmbdiagError.usage("\(Setting.k) needs at least one positive cut-off") }
        var asked: [Int] = []
        for k in ks where k >= 1 && !asked.contains(k) { asked.append(k) }
        return (effective, asked)
    }

    /// The retrieval part of the analysis from the ranks of the three directions (old → old,
    /// new → new, new → old): summaries, negative flips and chance recall@1. Shared by a single
    /// run and a merged `compat --partial` run, so both give the same numbers from the same ranks.
    /// `candidates`: gallery rows a query is ranked against; `identity`: each query's only relevant
    /// row is its partner (chance recall@1 = 1/n).
    ///
    /// - Complexity: O(q) per direction (O(q·r) for tied first blocks).
    static func retrieval(old: RetrievalRanks, new: RetrievalRanks, cross: RetrievalRanks?, ks: [Int], candidates: Int, galleryRows n: Int,
                          identity: Bool, labelled: Bool)
        throws -> (old: RetrievalSummary, new: RetrievalSummary, cross: RetrievalSummary?, flipsCross: NegativeFlips?, flipsNew: NegativeFlips, chanceRecallAt1: Double) {
        let oldSummary = RetrievalSummary(name: "old", ks: ks, ranks: old), newSummary = RetrievalSummary(name: "new", ks: ks, ranks: new)
        let crossSummary = cross.map { RetrievalSummary(name: "cross", ks: ks, ranks: $0) }
        // Labels that give no query a relevant row (every label unique) evaluate nothing: every
        // metric would be "—" with exit 0.
        guard oldSummary.evaluated > 0 else {
            throw EmbdiagError.invalid(nil, "no query has a relevant gallery row: \(labelled ? "every \(Setting.labels) class has a single row (relevance = same label, own row excluded); " : "")nothing to evaluate. To pair OLD and NEW rows by item id use \(Setting.pairBy) label \(Setting.oldIds) FILE \(Setting.newIds) FILE")
        }
        // Recall@1 of a random ranking: R/candidates per query with R > 0, averaged.
        let chance: Double
        if identity {
            chance = 1 / Double(n)
        } else {
            let per = old.relevantCount.map { Double($0) / Double(candidates) }.filter { $0 > 0 }
            chance = per.isEmpty ? .nan : per.reduce(0, +) / Double(per.count)
        }
        return (oldSummary, newSummary, crossSummary, crossSummary.map { NegativeFlips(old: oldSummary, other: $0) },
                NegativeFlips(old: oldSummary, other: newSummary), chance)
    }

    /// The analysis of a merged `compat --partial` run (Guides/Scale.md, "Compat"): the retrieval
    /// metrics of `--retrieval-only` over the concatenated gallery, from the merged ranks of the
    /// three directions. Separate queries, no self-exclusion; gallery names and labels are not
    /// kept (no retrieval-only table lists gallery rows).
    ///
    /// - Complexity: that of `retrieval`.
    public init(merged m: CompatPartial.Merged) throws {
        var c = m.configuration
        c.retrievalOnly = true
        configuration = c
        inputs = m.inputs
        compression = nil
        galleryRows = m.galleryRows
        dimensions = m.dimensions
        relevance = m.relevance
        separateQueries = true
        queryRows = []
        let cap = m.galleryRows
        (ks, askedKs) = try Self.cutoffs(c.ks, cap: cap)
        candidatesPerQuery = cap
        let r = try Self.retrieval(old: m.old, new: m.new, cross: m.cross, ks: ks, candidates: cap, galleryRows: m.galleryRows,
                                   identity: m.relevance == "identity", labelled: m.relevance == "labels")
        (old, new, cross, flipsCross, flipsNew, chanceRecallAt1) = (r.old, r.new, r.cross, r.flipsCross, r.flipsNew, r.chanceRecallAt1)
        agreement = nil
        mapping = nil
        names = []
        labels = nil
    }
}
