import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// `--fit unpaired`: a hidden rotation is recovered from different rows on each side, unrelated
/// spaces give "no map found", no shared rows give "cannot be judged", and the answer is the same
/// on every run and kernel.
@Suite(.serialized) struct UnpairedAlignmentTests {
    static let dimension = 32
    /// Rows per side without a partner, and shared rows that judge.
    static let sideRows = 1_000
    static let sharedRows = 300

    /// A clustered cloud: 24 clusters of unequal size around centres whose spread falls with the
    /// coordinate (distinct principal directions), rows = centre + noise.
    static func clusteredSpace(rows n: Int, d: Int, seed: UInt64) -> [[Float]] {
        var rng = SeededGenerator(seed: seed)
        let clusters = 24
        let spread = (0..<d).map { 1 / (1 + Double($0) / 4) }
        let centres = (0..<clusters).map { _ in spread.map { $0 * rng.nextGaussian() } }
        let weights = (0..<clusters).map { 1 + Double($0) }, total = weights.reduce(0, +)
        return (0..<n).map { _ in
            var u = rng.nextUniform() * total, c = 0
            while c < clusters - 1 && u >= weights[c] { u -= weights[c]; c += 1 }
            return (0..<d).map { Float(centres[c][$0] + 0.35 * spread[$0] * rng.nextGaussian()) }
        }
    }

    /// OLD = the cloud; NEW = the cloud rotated by a seeded orthogonal matrix plus `noise`, or an
    /// independent cloud (`unrelated`). OLD holds rows 0..<side and the shared rows, NEW rows
    /// side..<2·side and the shared rows; ids name the texts.
    static func pair(unrelated: Bool = false, noise: Double = 0.01, shared: Int = sharedRows, side: Int = sideRows)
        -> (old: Embeddings, new: Embeddings, oldIds: [String], newIds: [String]) {
        let d = dimension
        let base = clusteredSpace(rows: 2 * side + shared, d: d, seed: 7)
        var rng = SeededGenerator(seed: 11)
        let q = rng.orthogonalMatrix(d)
        let other = unrelated ? clusteredSpace(rows: 2 * side + shared, d: d, seed: 99) : base
        let rotated = other.map { row in
            (0..<d).map { t in Float((0..<d).reduce(0.0) { $0 + Double(row[$1]) * Double(q[$1, t]) } + noise * rng.nextGaussian()) }
        }
        let oldRows = Array(0..<side) + Array((2 * side)..<(2 * side + shared))
        let newRows = Array(side..<(2 * side)) + Array((2 * side)..<(2 * side + shared))
        func embeddings(_ rows: [[Float]], _ pick: [Int], _ name: String) -> Embeddings {
            Embeddings(matrix: Matrix(pick.map { rows[$0] }), name: name)
        }
        return (embeddings(base, oldRows, "old.npy"), embeddings(rotated, newRows, "new.npy"),
                oldRows.map { "t\($0)" }, newRows.map { "t\($0)" })
    }

    /// Fewer seeding rounds than the CLI default: enough at this size, and the suite stays fast.
    static func settings() -> CompatibilityConfiguration {
        var c = CompatibilityConfiguration()
        c.fit = .unpaired
        c.unpairedSettings.rounds = 8
        c.unpairedSettings.restarts = 2
        c.maxQueries = 0
        c.retrievalOnly = true
        return c
    }

    static func run(_ p: (old: Embeddings, new: Embeddings, oldIds: [String], newIds: [String]), byId: Bool = true,
                    configuration: CompatibilityConfiguration = settings()) throws -> CompatibilityRun {
        let pairing: RowPairing = byId ? .itemIds(first: p.oldIds, second: p.newIds, sources: ("old-ids", "new-ids"), duplicates: .error) : .rowIndex
        return try CompatibilityRun(CompatibilityRequest(old: p.old, new: p.new, pairing: pairing), configuration: configuration)
    }

    @Test func hiddenRotationIsRecoveredAndJudged() throws {
        let run = try Self.run(Self.pair())
        let mapping = try #require(run.analysis?.mapping)
        #expect(mapping.trainRows.isEmpty && mapping.heldOutRows.count == Self.sharedRows)
        let recall = try #require(mapping.mapped.recall(at: 10))
        #expect(recall >= 0.95, "held-out recall@10 \(recall)")
        #expect(mapping.mapFound == true)
        #expect(run.report.metric("map_found") == .bool(true))
        #expect(run.report.metric("unpaired_rows_old") == .int(Self.sideRows))
        #expect(run.report.verdict?.answer.contains("No map") == false)
    }

    @Test func unrelatedSpacesGiveNoMapNotCompatible() throws {
        let run = try Self.run(Self.pair(unrelated: true))
        let mapping = try #require(run.analysis?.mapping)
        #expect(mapping.mapFound == false)
        #expect(mapping.compatible == false)
        #expect(run.report.metric("compatible_mapped") == .bool(false))
        let answer = try #require(run.report.verdict?.answer)
        #expect(answer.contains("No map better than chance") && answer.contains("--fit procrustes"), "\(answer)")
    }

    @Test func withoutSharedRowsTheMapCannotBeJudged() throws {
        let p = Self.pair(shared: 0)
        let run = try Self.run(p, byId: false)
        #expect(run.analysis == nil)
        #expect(run.unpaired != nil)
        #expect(run.report.metric("compatible_mapped") == .null)
        #expect(run.report.metric("map_found") == .null)
        #expect(run.report.metric("shared_rows") == .int(0))
        #expect(run.report.metric("alignment_criterion")?.number?.isFinite == true)
        let answer = try #require(run.report.verdict?.answer)
        #expect(answer.hasPrefix("Cannot be judged") && !answer.contains("Yes"), "\(answer)")
    }

    /// The map of a fixed problem as measured on OpenBLAS' Haswell kernel with 1 and 2 threads; every
    /// kernel and thread count (`make test-kernels`) must give it within float noise. Mutual
    /// nearest neighbours are decided in Float64 with ties to the lower row, so only a
    /// near-tie closer than the kernels' rounding could move a pair.
    @Test func sameMapOnEveryRunAndKernel() throws {
        var s = UnpairedAlignmentSettings()
        s.rounds = 4
        s.restarts = 1
        let p = Self.pair(shared: 0, side: 400)
        let a = try UnpairedAlignment.fit(old: p.old.matrix, new: p.new.matrix, settings: s, seed: 5)
        // Same seed, same process: the same map bit for bit.
        let again = try UnpairedAlignment.fit(old: p.old.matrix, new: p.new.matrix, settings: s, seed: 5)
        #expect(a.map.weights == again.map.weights && a.map.bias == again.map.bias && a.criterion == again.criterion)
        let probe = [0, 1, 33, 500, 1023].map { a.map.weights[$0] }
        let reference: (criterion: Double, weights: [Double]) = (0.4569922314328079, [0.1662208026729278, -0.42413341627491685, 0.30645505439138565, 0.06225849943970848, -0.16250074392114436])
        // Prescott differs from Haswell by ~4e-8 here (Float32 k-means products); 1e-6 is float noise.
        #expect(abs(a.criterion - reference.criterion) <= 1e-6, "criterion \(a.criterion)")
        for (x, y) in zip(probe, reference.weights) { #expect(abs(x - y) <= 1e-6, "weight \(x) vs \(y)") }
        #expect(a.restarts[0].pseudoPairs == 132)
    }

    @Test func hostileInputsAreRefusedWithOneLine() throws {
        var s = UnpairedAlignmentSettings()
        s.rounds = 2
        s.restarts = 1
        let full = Self.pair(shared: 0, side: 300)
        // Zero and one row per side, and a side just under the minimum.
        for rows in [0, 1, UnpairedAlignmentSettings.minimumRowsPerSide - 1] {
            let few = Matrix(rows: rows, cols: Self.dimension)
            #expect(throws: EmbdiagError.self) { try UnpairedAlignment.fit(old: full.old.matrix, new: few, settings: s) }
            do { _ = try UnpairedAlignment.fit(old: few, new: full.new.matrix, settings: s) } catch let e as EmbdiagError {
                #expect(e.kind == .usage && e.message.contains("at least \(UnpairedAlignmentSettings.minimumRowsPerSide) rows") && !e.message.contains("\n"))
            }
        }
        // NaN rows: refused, naming the side.
        let nan = full.new.matrix.copy()
        nan[3, 0] = .nan
        #expect(throws: EmbdiagError.self) { try UnpairedAlignment.fit(old: full.old.matrix, new: nan, settings: s) }
        // Through compat: refused by default, left out with --on-invalid drop.
        var quick = Self.settings()
        quick.unpairedSettings = s
        let withNaN = Embeddings(matrix: nan, name: "new.npy")
        #expect(throws: EmbdiagError.self) { try CompatibilityRun(CompatibilityRequest(old: full.old, new: withNaN), configuration: quick) }
        let dropped = try CompatibilityRun(CompatibilityRequest(old: full.old, new: withNaN, invalidRows: .drop), configuration: quick)
        #expect(dropped.report.metric("unpaired_rows_new") == .int(299) && dropped.report.metric("map_found") == .null)
        // Different dimensions and d = 1.
        #expect(throws: EmbdiagError.self) { try UnpairedAlignment.fit(old: full.old.matrix, new: Matrix(rows: 300, cols: 8), settings: s) }
        let line = Matrix(rows: 300, cols: 1, values: (0..<300).map { Float($0 % 7) - 3 })
        #expect(throws: EmbdiagError.self) { try UnpairedAlignment.fit(old: line, new: line, settings: s) }
        // Every row shared: no side to align.
        let allShared = Self.pair(shared: 300, side: 0)
        #expect(throws: EmbdiagError.self) { try Self.run(allShared) }
        // Options it cannot honour.
        var withTrainRows = Self.settings()
        withTrainRows.trainRows = [0, 1, 2]
        #expect(throws: EmbdiagError.self) { try Self.run(full, configuration: withTrainRows) }
    }
}
