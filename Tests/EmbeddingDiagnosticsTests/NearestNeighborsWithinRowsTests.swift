import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// The upper-triangle k-NN must give exactly the lists of the full pass (`nearestNeighbors` with
/// excludeSelf), ties included, whatever the tiling.
@Suite struct NearestNeighborsWithinRowsTests {
    /// Rows with exact ties: integer-valued rows (equal dot products), repeated rows, and a
    /// Gaussian part, in one matrix.
    static func rows(_ n: Int, _ d: Int, seed: UInt64) -> Matrix {
        var rng = SeededGenerator(seed: seed)
        var values = [Float](repeating: 0, count: n * d)
        for i in 0..<n {
            for t in 0..<d {
                switch i % 3 {
                case 0: values[i * d + t] = Float(Int(rng.next() % 2)) * 2 - 1   // ±1 codes: many equal dot products
                case 1: values[i * d + t] = Float(rng.nextGaussian())
                default: values[i * d + t] = values[(i - 1) * d + t]             // a copy of the row before
                }
            }
        }
        return Matrix.normalizedRows(Matrix(rows: n, cols: d, values: values))
    }

    @Test(arguments: [(1, 3), (2, 1), (5, 4), (37, 3), (300, 10), (301, 1)])
    func sameListsAsTheFullPass(n: Int, k: Int) {
        let x = Self.rows(n, 8, seed: UInt64(n * 31 + k))
        let full = nearestNeighbors(queries: x, gallery: x, k: k, excludeSelf: true)
        for (rowBlock, columnTile) in [(1024, 4096), (16, 40), (7, 7), (1, 3)] {
            let half = nearestNeighborsWithinRows(x, k: k, rowBlock: rowBlock, columnTile: columnTile)
            #expect(half.k == full.k)
            #expect(half.indices == full.indices, "n \(n) k \(k) tiles \(rowBlock)×\(columnTile)")
            #expect(half.scores == full.scores, "n \(n) k \(k) tiles \(rowBlock)×\(columnTile)")
        }
    }
}
