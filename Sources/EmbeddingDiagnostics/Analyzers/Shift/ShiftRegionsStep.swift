import Foundation

extension ShiftComparison {
    /// Adds the regions (cluster shares, new rows) and the map of one comparison set to a
    /// comparison whose tests ran (`quality` gives the rows outside every REF k-NN ball).
    /// - Complexity: O(n·k·d) for the assignment, O((m + n)·d²) for the map's projection (see `ShiftMap`).
    mutating func addRegions(_ regions: ReferenceRegions, referenceUnit: Matrix, other: Embeddings, alpha: Double) throws {
        guard let quality else { return }
        let otherUnit = Matrix.normalizedRows(other.matrix)
        self.regions = regions.compare(otherUnit, labels: other.labels, sourceRows: other.sourceRows,
                                       insideReference: quality.otherWithinReferenceBall, alpha: alpha)
        map = try ShiftMap(referenceUnit: referenceUnit, otherUnit: otherUnit, centroids: regions.centroids)
    }
}
