import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// Issue 20: `compat --partial` over gallery shards with fixed query files, merged in two passes,
/// equals a single `compat --retrieval-only` run over the concatenated gallery exactly
/// (Guides/Scale.md, "Compat").
@Suite struct CompatMergeTests {
    /// Seeded OLD/NEW galleries and queries with deliberate exact ties: gallery row 5 is copied to
    /// rows 150 and 299 (other shards) and row 7 to row 8 (same shard), queries 3 and 10 are exact
    /// copies of gallery row 5 (so their scores tie across shards), query 11 is a copy of row 7.
    struct Data {
        var old: Embeddings, new: Embeddings, oldQueries: Embeddings, newQueries: Embeddings
        var labels: [String], queryLabels: [String]
    }

    static func data(seed: UInt64, n: Int = 300, dOld: Int = 16, dNew: Int = 16, queries: Int = 40) -> Data {
        var rng = SeededGenerator(seed: seed)
        let old = rng.gaussianMatrix(rows: n, cols: dOld)
        let noise = rng.gaussianMatrix(rows: n, cols: dNew)
        let new = Matrix(rows: n, cols: dNew)
        for i in 0..<n { for j in 0..<dNew { new[i, j] = (j < dOld && dOld == dNew ? old[i, j] : 0) + (dOld == dNew ? 0.6 : 1) * noise[i, j] } }
        for m in [old, new] {
            for j in 0..<m.cols { m[150, j] = m[5, j]; m[299, j] = m[5, j]; m[8, j] = m[7, j] }
        }
        let oq = Matrix(rows: queries, cols: dOld), nq = Matrix(rows: queries, cols: dNew)
        for q in 0..<queries {
            for j in 0..<dOld { oq[q, j] = old[q, j] + 0.3 * Float(rng.nextGaussian()) }
            for j in 0..<dNew { nq[q, j] = new[q, j] + 0.3 * Float(rng.nextGaussian()) }
        }
        for (q, row) in [(3, 5), (10, 5), (11, 7)] {
            for j in 0..<dOld { oq[q, j] = old[row, j] }
            for j in 0..<dNew { nq[q, j] = new[row, j] }
        }
        let classes = ["a", "b", "c", "d", "e", "f", "g"]
        var labels = (0..<n).map { _ in classes[rng.nextIndex(classes.count)] }
        labels[150] = labels[5]
        labels[299] = labels[5] == "a" ? "b" : "a"  // a tied copy that is not relevant to row 5's class
        var queryLabels = (0..<queries).map { _ in classes[rng.nextIndex(classes.count)] }
        queryLabels[10] = labels[5]
        queryLabels[17] = "absent"  // no relevant row anywhere: not evaluated
        return Data(old: Embeddings(matrix: old, name: "old.npy"), new: Embeddings(matrix: new, name: "new.npy"),
                    oldQueries: Embeddings(matrix: oq, name: "old-queries.npy"), newQueries: Embeddings(matrix: nq, name: "new-queries.npy"),
                    labels: labels, queryLabels: queryLabels)
    }

    /// Uneven shards, one of a single row; rows 5, 150 and 299 fall in different shards.
    static let cuts = [0..<1, 1..<97, 97..<250, 250..<300]

    static func inputs(_ d: Data, labelled: Bool) -> CompatibilityInputs {
        CompatibilityInputs(old: d.old, new: d.new, oldQueries: d.oldQueries, newQueries: d.newQueries,
                            labels: labelled ? d.labels : nil, queryLabels: labelled ? d.queryLabels : nil)
    }

    static func shardInputs(_ d: Data, labelled: Bool, cuts: [Range<Int>] = cuts) -> [(CompatibilityInputs, ShardRecord)] {
        cuts.enumerated().map { k, r in
            let (o, record) = MergeTests.shard(d.old, r, name: "old-\(k).npy")
            let (n, _) = MergeTests.shard(d.new, r, name: "new-\(k).npy")
            return (CompatibilityInputs(old: o, new: n, oldQueries: d.oldQueries, newQueries: d.newQueries,
                                        labels: labelled ? Array(d.labels[r]) : nil, queryLabels: labelled ? d.queryLabels : nil), record)
        }
    }

    static func configuration() -> CompatibilityConfiguration {
        var c = CompatibilityConfiguration()
        c.ks = [1, 5, 10, 500]  // 500 > n: capped, as in a single run
        c.seed = 11
        return c
    }

    /// Pass 1 per shard, the merged pass-1 state, pass 2 per shard (every state through the file
    /// format), in shuffled orders.
    static func states(_ shards: [(CompatibilityInputs, ShardRecord)], _ c: CompatibilityConfiguration) throws -> (merged: LoadedState, pass2: [LoadedState]) {
        let pass1 = try shards.enumerated().map { try MergeTests.roundTrip(CompatPartial.pass1($0.element.0, shard: $0.element.1, configuration: c), "c1-\($0.offset).state") }
        guard case .state(let m) = try StateMerge.merge(pass1.shuffled(), wantState: true) else { throw EmbdiagError.usage("no merged state") }
        let merged = try MergeTests.roundTrip(m, "compat-merged.state")
        let pass2 = try shards.enumerated().map {
            try MergeTests.roundTrip(CompatPartial.pass2($0.element.0, shard: $0.element.1, configuration: c, merged: merged), "c2-\($0.offset).state")
        }
        return (merged, pass2.shuffled())
    }

    static func expectIdentical(_ a: RetrievalRanks, _ b: RetrievalRanks, _ what: String) {
        #expect(a.first == b.first, "\(what): first relevant blocks differ")
        #expect(a.relevantCount == b.relevantCount, "\(what): relevant counts differ")
        #expect(a.averagePrecision.map(\.bitPattern) == b.averagePrecision.map(\.bitPattern), "\(what): average precisions differ")
    }

    /// The merged ranks equal `Retrieval.retrievalRanks` over the whole gallery bit for bit, in
    /// every direction, for identity and label relevance, with ties inside blocks that span shards.
    @Test(arguments: [false, true]) func mergedRanksEqualTheWholeGallery(labelled: Bool) throws {
        let d = Self.data(seed: labelled ? 21 : 20)
        let c = Self.configuration()
        let (merged, pass2) = try Self.states(Self.shardInputs(d, labelled: labelled), c)
        let result = try CompatPartial.mergePass2(merged: merged, ordered: ShardSet.ordered(pass2))
        let unit = { (e: Embeddings) in Matrix.normalizedRows(e.matrix) }
        let rel: RetrievalRelevance
        if labelled {
            let ids = Retrieval.classIds(gallery: d.labels, queries: d.queryLabels)
            rel = .classes(query: ids.queries, gallery: ids.gallery)
        } else {
            rel = .index(Array(0..<d.oldQueries.count))
        }
        let old = Retrieval.retrievalRanks(queries: unit(d.oldQueries), gallery: unit(d.old), relevance: rel)
        let new = Retrieval.retrievalRanks(queries: unit(d.newQueries), gallery: unit(d.new), relevance: rel)
        let cross = Retrieval.retrievalRanks(queries: unit(d.newQueries), gallery: unit(d.old), relevance: rel)
        Self.expectIdentical(result.old, old, "old")
        Self.expectIdentical(result.new, new, "new")
        #expect(result.cross != nil)
        if let rc = result.cross { Self.expectIdentical(rc, cross, "cross") }
        // The data has the ties it is meant to test: a first relevant block of several rows.
        #expect(old.first.contains { ($0?.blockSize ?? 1) > 1 })
        #expect(result.galleryRows == 300 && result.dimensions == (16, 16))
        if labelled { #expect(old.first[17] == nil && result.old.first[17] == nil) }
    }

    /// Different dimensions: no cross direction, the two others still exact.
    @Test func differentDimensionsHaveNoCrossDirection() throws {
        let d = Self.data(seed: 22, dNew: 12)
        let (merged, pass2) = try Self.states(Self.shardInputs(d, labelled: true, cuts: [0..<120, 120..<121, 121..<300]), Self.configuration())
        let result = try CompatPartial.mergePass2(merged: merged, ordered: ShardSet.ordered(pass2))
        #expect(result.cross == nil)
        let ids = Retrieval.classIds(gallery: d.labels, queries: d.queryLabels)
        let new = Retrieval.retrievalRanks(queries: Matrix.normalizedRows(d.newQueries.matrix), gallery: Matrix.normalizedRows(d.new.matrix),
                                           relevance: .classes(query: ids.queries, gallery: ids.gallery))
        Self.expectIdentical(result.new, new, "new")
    }
}
