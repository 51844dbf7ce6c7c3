import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// The caps of depth, anisotropy and relrep are part of the library's results: a Swift caller sees
/// the same warnings the CLI prints, with no front end involved.
@Suite struct LibraryWarningsTests {
    static func gaussian(_ n: Int, _ d: Int, seed: UInt64) -> Embeddings {
        var rng = SeededGenerator(seed: seed)
        let rows = (0..<n).map { _ in (0..<d).map { _ in Float(rng.nextGaussian()) } }
        return Embeddings(matrix: Matrix(rows), name: "g\(seed).npy")
    }

    @Test func depthCapsMahalanobisComponents() throws {
        var c = DepthConfiguration()
        c.kind = .mahalanobis
        c.mahalanobisComponents = 20
        let a = try DepthAnalysis(reference: Self.gaussian(50, 8, seed: 1), others: [Self.gaussian(40, 8, seed: 2)], configuration: c)
        #expect(a.caps.map(\.asked) == [20] && a.caps.map(\.used) == [8])
        let warnings = a.report().warnings
        #expect(warnings.count == 1 && warnings[0].contains("20 capped to 8") && warnings[0].contains("components"), "\(warnings)")
        // Within what the data supports: no cap, no warning.
        c.mahalanobisComponents = 5
        let b = try DepthAnalysis(reference: Self.gaussian(50, 8, seed: 1), others: [Self.gaussian(40, 8, seed: 2)], configuration: c)
        #expect(b.caps.isEmpty && b.report().warnings.isEmpty)
    }

    @Test func relrepCapsAnchors() throws {
        var c = RelativeRepresentationsConfiguration()
        c.anchorCount = 300
        let single = try RelativeRepresentation(Self.gaussian(50, 8, seed: 3), configuration: c)
        #expect(single.caps.map(\.used) == [50])
        #expect(single.report().warnings.first?.contains("300 capped to 50") == true, "\(single.report().warnings)")
        // A comparison refuses anchors that leave no row to evaluate (an error, not a cap); within
        // the data it reports no cap.
        var fits = RelativeRepresentationsConfiguration()
        fits.anchorCount = 10
        let pair = try RelativeComparison(reference: Self.gaussian(50, 8, seed: 3), other: Self.gaussian(50, 6, seed: 4), configuration: fits)
        #expect(pair.caps.isEmpty && pair.report().warnings.isEmpty)
        // Explicit anchors are used as given: never capped.
        c.anchorRows = [0, 1, 2]
        #expect(try RelativeRepresentation(Self.gaussian(50, 8, seed: 3), configuration: c).caps.isEmpty)
    }

    @Test func anisotropyCapsComeFromTheResult() throws {
        var c = AnisotropyConfiguration()
        c.pairSample = 200
        c.steps = [.whiten(components: 8)]
        let a = try AnisotropyAnalysis(Self.gaussian(60, 8, seed: 5), configuration: c)
        #expect(a.caps == IsotropyTransform.caps(requested: c.steps, fitted: a.transform!.steps, dimension: 8))
        #expect(a.report().warnings == a.caps.map(\.message))
    }
}
