import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// Hubness on data whose k-NN lists ties decide: 6-bit sign codes (64 equally likely rows, no hubs)
/// gave skewness 2.0 by the row-index rule and the verdict "a few rows are everybody's neighbour".
@Suite struct NeighborsTiesTests {
    static func signCodes(_ n: Int, bits: Int, seed: UInt64) -> Embeddings {
        var rng = SeededGenerator(seed: seed)
        let rows = (0..<n).map { _ in (0..<bits).map { _ in Float(rng.nextIndex(2) == 0 ? -1 : 1) } }
        return Embeddings(matrix: Matrix(rows), name: "codes.npy")
    }

    @Test func tiedListsDoNotMakeHubs() throws {
        let codes = Self.signCodes(400, bits: 6, seed: 5)
        let tied = try CosineNeighbors(corpus: codes, k: 10)
        #expect(!tied.hubnessIsDetermined && tied.undeterminedShare > 0.5, "\(tied.tiedPlaceShare), \(tied.undeterminedShare)")
        let report = tied.report()
        #expect(report.metric("hubness_skewness") == .null && report.metric("antihubs") == .null)
        #expect(report.verdict?.answer.hasPrefix("Cannot tell") == true, "\(report.verdict?.answer ?? "")")
        // Continuous data: no ties, hubness reported as before.
        var rng = SeededGenerator(seed: 6)
        let gaussian = Embeddings(matrix: Matrix((0..<300).map { _ in (0..<16).map { _ in Float(rng.nextGaussian()) } }), name: "g.npy")
        let plain = try CosineNeighbors(corpus: gaussian, k: 10)
        #expect(plain.undeterminedShare == 0 && plain.tiedPlaceShare == 0 && plain.report().metric("hubness_skewness")?.number != nil)
    }

    /// A merged `--partial` run sees the same ties: each shard lists k + 1 neighbours.
    @Test func mergedRunSeesTheSameTies() throws {
        let gallery = Self.signCodes(300, bits: 6, seed: 7), queries = Self.signCodes(50, bits: 6, seed: 8)
        let single = try CosineNeighbors(corpus: gallery, queries: queries, k: 10)
        #expect(single.undeterminedShare > 0)
        let states = try [0..<90, 90..<91, 91..<300].enumerated().map { i, r -> LoadedState in
            let (s, record) = MergeTests.shard(gallery, r, name: "g-\(i).npy")
            return try MergeTests.roundTrip(NeighborsPartial.state(gallery: s, queries: queries, k: 10, shard: record), "n\(i).state")
        }
        let merged = try NeighborsPartial.merge(states)
        #expect(merged.undeterminedShare == single.undeterminedShare && merged.tiedPlaceShare == single.tiedPlaceShare)
        #expect(merged.report().metrics == single.report().metrics)
    }
}
