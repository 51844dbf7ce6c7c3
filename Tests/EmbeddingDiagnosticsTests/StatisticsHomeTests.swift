import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// General statistics live under Statistics/ as static functions on types; the free functions the
/// analyzers called before are forwarding symbols and must give bit-identical answers.
@Suite struct StatisticsHomeTests {
    static func blobs() -> Matrix {
        var rng = SeededGenerator(seed: 7)
        let x = Matrix(rows: 60, cols: 4)
        let p = x.mutablePointer
        for i in 0..<60 {
            for t in 0..<4 { p[i * 4 + t] = Float(i % 3) * 2 + Float(rng.nextIndex(1000)) / 1000 }
        }
        return x
    }

    @Test func kMeansForwardsToTheStatisticsType() {
        let x = Self.blobs()
        let a = KMeans.cluster(x, k: 3, seed: 5), b = kMeansClusters(x, k: 3, seed: 5)
        #expect(a.labels == b.labels && a.objective == b.objective)
        // Three well-separated blobs (rows i % 3): every blob is one cluster.
        for r in 0..<3 { #expect(Set((0..<60).filter { $0 % 3 == r }.map { a.labels[$0] }).count == 1) }
        #expect(Set(a.labels).count == 3)
    }

    @Test func logisticRegressionForwardsToTheStatisticsType() throws {
        let x = Self.blobs()
        let y = (0..<60).map { $0 % 3 == 0 }
        let a = try LogisticRegressionModel.fit(x, labels: y), b = try fitLogisticRegression(x, labels: y)
        #expect(a == b)
        #expect(a.converged)
        // Separable by the blob offset: every row is on the right side of the boundary.
        #expect(zip(a.decision(x), y).allSatisfy { ($0 > 0) == $1 })
    }
}
