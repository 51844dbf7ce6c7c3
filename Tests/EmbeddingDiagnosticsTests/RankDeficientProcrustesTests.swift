import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// Procrustes fits on rank-deficient training data stay (semi-)orthogonal, and match scipy's
/// `orthogonal_procrustes` (numpy's UVᵀ over all singular pairs across dimensions) on everything
/// every orthogonal solution shares (scripts/crosscheck/compat_reference.py, `rank_deficient`).
/// Guide: Guides/Compatibility.md "Rank-deficient training data".
@Suite struct RankDeficientProcrustesTests {
    /// OLD of the bundled pair with columns 0…2 zeroed, then reflected by H = I − 2vvᵀ with
    /// v_i ∝ 1 + i mod 7 (Float64, rounded to Float32): numerical rank 381 of 384, as the script builds it.
    static func rankDeficientOld(_ old: Matrix) -> Matrix {
        let d = old.cols
        var v = (0..<d).map { 1 + Double($0 % 7) }
        let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        v = v.map { $0 / norm }
        let out = Matrix(rows: old.rows, cols: d)
        for i in 0..<old.rows {
            var z = old.rowArray(i).map(Double.init)
            for j in 0..<3 { z[j] = 0 }
            let dot = zip(z, v).reduce(0) { $0 + $1.0 * $1.1 }
            for j in 0..<d { out[i, j] = Float(z[j] - 2 * dot * v[j]) }
        }
        return out
    }

    static func prefix(_ m: Matrix, _ d: Int) -> Matrix {
        Matrix(rows: m.rows, cols: d, values: (0..<m.rows).flatMap { Array(m.rowArray($0).prefix(d)) })
    }

    /// max |RᵀR − I| (dx ≥ dy) or |RRᵀ − I| (dx < dy) of a row-major dx × dy matrix.
    static func orthogonalityError(_ r: [Double], rows dx: Int, cols dy: Int) -> Double {
        let small = min(dx, dy)
        let gram = dx >= dy ? BLAS.matmul(r, rows: dy, inner: dx, r, cols: dy, transposeA: true)
            : BLAS.matmul(r, rows: dx, inner: dy, r, cols: dx, transposeB: true)
        var worst = 0.0
        for i in 0..<small { for j in 0..<small { worst = max(worst, abs(gram[i * small + j] - (i == j ? 1 : 0))) } }
        return worst
    }

    @Test func orthogonalOnRankDeficientDataAndEqualToScipy() throws {
        let ref = try #require(CompatibilityTests.reference()["rank_deficient"] as? [String: Any])
        let (old, new, sections) = try CompatibilityTests.sentenceInputs()
        let oldDef = Self.rankDeficientOld(old.matrix)
        let new383 = Self.prefix(new.matrix, 383)
        let n = old.count
        let train = Array(stride(from: 0, to: n, by: 2)), held = Array(stride(from: 1, to: n, by: 2))
        let ids = Retrieval.classIds(gallery: held.map { sections[$0] }).gallery
        var checked = 0
        for (fitName, fit) in [("rotation", MappingFit.rotation), ("procrustes", .procrustes), ("procrustes-scaled", .procrustesScaled)] {
            for (suffix, source, target) in [("", new.matrix, oldDef), ("@new383_to_olddef", new383, oldDef), ("@olddef_to_new383", oldDef, new383)] {
                let name = fitName + suffix
                let want = try #require(ref[name] as? [String: Any], "\(name) in the fixture")
                func number(_ key: String) -> Double { (want[key] as! NSNumber).doubleValue }
                let x = source.gather(rows: train), y = target.gather(rows: train)
                let map = try LinearMap.fit(fit, from: x, to: y)
                #expect(map.inputDimension == want["input_dim"] as! Int && map.outputDimension == want["output_dim"] as! Int)
                #expect(map.rank == want["rank"] as? Int, "\(name): determined directions \(String(describing: map.rank))")
                #expect(map.completedDirections == want["free"] as? Int, "\(name): completed directions")
                let scale = map.scale ?? 1
                #expect(abs(scale - number("scale")) <= 1e-6 * number("scale"), "\(name): scale \(scale) vs \(number("scale"))")
                let unscaled = map.weights.map { $0 / scale }
                let orthogonality = Self.orthogonalityError(unscaled, rows: map.inputDimension, cols: map.outputDimension)
                #expect(orthogonality < 1e-12, "\(name): max |RᵀR − I| = \(orthogonality)")

                let mapped = try map.apply(source.gather(rows: held))
                Matrix.normalizeRowsInPlace(mapped)
                let targetH = Matrix.normalizedRows(target.gather(rows: held))
                let cosine = CompatibilityAnalysis.meanRowwiseDot(mapped, targetH)
                let mappedTrain = try map.apply(x)
                Matrix.normalizeRowsInPlace(mappedTrain)
                let trainCosine = CompatibilityAnalysis.meanRowwiseDot(mappedTrain, Matrix.normalizedRows(y))
                print("compat rank-deficient \(name): mapped cosine \(cosine) (scipy \(number("mapped_cosine_mean")), truncated \(number("truncated_mapped_cosine_mean"))), |RᵀR − I| \(orthogonality)")
                #expect(abs(cosine - number("mapped_cosine_mean")) <= 1e-6, "\(name): held-out cosine \(cosine)")
                #expect(abs(trainCosine - number("mapped_cosine_mean_train")) <= 1e-6, "\(name): training cosine \(trainCosine)")
                // Where the truncated map differs from the orthogonal ones, this one must not be it.
                if abs(number("truncated_mapped_cosine_mean") - number("mapped_cosine_mean")) > 1e-5 {
                    #expect(abs(cosine - number("truncated_mapped_cosine_mean")) > 1e-5, "\(name): equals the truncated map")
                }
                let ri = RetrievalSummary(name: "m", ks: [1], ranks: Retrieval.retrievalRanks(queries: mapped, gallery: targetH, relevance: .index(Array(0..<held.count))))
                let rl = RetrievalSummary(name: "m", ks: [1], ranks: Retrieval.retrievalRanks(queries: mapped, gallery: targetH, relevance: .classes(query: ids, gallery: ids), excludeSelf: true))
                #expect(abs(ri.recall[0] - number("recall_at_1_identity")) <= 1e-6, "\(name): identity recall@1")
                #expect(abs(ri.mrr - number("mrr_identity")) <= 1e-5, "\(name): identity MRR")
                #expect(abs(rl.recall[0] - number("recall_at_1_labels")) <= 1e-6, "\(name): labels recall@1")
                #expect(abs(rl.map - number("map_labels")) <= 1e-5, "\(name): labels mAP")
                checked += 1
            }
        }
        #expect(checked == 9)
    }

    /// The whole analysis says that the map is not unique and reports the completed directions.
    @Test func analysisReportsTheCompletion() throws {
        let ref = try #require(CompatibilityTests.reference()["rank_deficient"] as? [String: Any])
        let (old, new, _) = try CompatibilityTests.sentenceInputs()
        var configuration = CompatibilityConfiguration()
        configuration.fit = .rotation
        configuration.trainRows = Array(stride(from: 0, to: old.count, by: 2))
        configuration.retrievalOnly = true
        let a = try CompatibilityAnalysis(CompatibilityInputs(old: Embeddings(matrix: Self.rankDeficientOld(old.matrix), name: "old-rank381"), new: new),
                                          configuration: configuration)
        let r = a.report()
        #expect(r.metric("mapping_rank")?.number == 381)
        #expect(r.metric("mapping_completed_directions")?.number == 3)
        #expect(r.notes.contains { $0.contains("not unique") })
        let want = ((ref["rotation"] as! [String: Any])["mapped_cosine_mean"] as! NSNumber).doubleValue
        #expect(abs(r.metric("mapped_cosine_mean")!.number! - want) <= 1e-6)
    }

    /// The completion depends on the subspaces only: the same cross-product up to rounding (rows
    /// summed in another order) gives the same map, where LAPACK's own vectors for the zero
    /// singular values are free to differ. Fewer rows than dimensions: half the directions free.
    @Test func completionIsCanonical() throws {
        var rng = SeededGenerator(seed: 11)
        let rows = 6, d = 12
        let x = rng.gaussianMatrix(rows: rows, cols: d), y = rng.gaussianMatrix(rows: rows, cols: d)
        func cross(_ order: [Int]) -> [Double] {
            var m = [Double](repeating: 0, count: d * d)
            for i in order { for a in 0..<d { for b in 0..<d { m[a * d + b] += Double(x[i, a]) * Double(y[i, b]) } } }
            return m
        }
        let f1 = try SpaceComparison.semiOrthogonalFactor(cross(Array(0..<rows)), rows: d, cols: d)
        let f2 = try SpaceComparison.semiOrthogonalFactor(cross(Array((0..<rows).reversed())), rows: d, cols: d)
        #expect(f1.determinedRank == rows && f1.completedDirections == d - rows && f1.canonicalCompletion)
        #expect(Self.orthogonalityError(f1.rotation, rows: d, cols: d) < 1e-12)
        let gap = zip(f1.rotation, f2.rotation).map { abs($0 - $1) }.max()!
        #expect(gap < 1e-9, "canonical completion moved by \(gap)")
        // Each training row is mapped as the full-rank part says: x_i R · y_i is the same as
        // with the determined pairs alone (the free part adds nothing to the fit).
        let m = cross(Array(0..<rows))
        let trace = zip(m, f1.rotation).reduce(0.0) { $0 + $1.0 * $1.1 }
        #expect(abs(trace - f1.nuclearNorm) <= 1e-9 * f1.nuclearNorm)
        // Across dimensions, both shapes.
        for (dx, dy) in [(12, 9), (9, 12)] {
            let a = rng.gaussianMatrix(rows: 4, cols: dx), b = rng.gaussianMatrix(rows: 4, cols: dy)
            var mm = [Double](repeating: 0, count: dx * dy)
            for i in 0..<4 { for p in 0..<dx { for q in 0..<dy { mm[p * dy + q] += Double(a[i, p]) * Double(b[i, q]) } } }
            let f = try SpaceComparison.semiOrthogonalFactor(mm, rows: dx, cols: dy)
            #expect(f.determinedRank == 4 && f.completedDirections == 5)
            #expect(Self.orthogonalityError(f.rotation, rows: dx, cols: dy) < 1e-12, "\(dx) × \(dy)")
        }
    }
}
