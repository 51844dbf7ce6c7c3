import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// Results built on a truncated or probed eigendecomposition must not depend on the basis LAPACK
/// picks inside a degenerate eigenspace (Guides/Architecture.md, "Determinism", rule 4): such a
/// basis is arbitrary and changes with the OpenBLAS kernel. The inputs have exactly repeated
/// eigenvalues: every row comes with its 90°, 180° and 270° rotations in one coordinate plane
/// (exact in Float32), so the covariance and XᵀX are the same on that plane in every direction.
/// The suite runs under every kernel and thread count (scripts/test-kernels), and every expected
/// value is one that no basis choice can change.
@Suite struct DegenerateEigenspaceTests {
    /// n base rows (N(0, 1) · `scales`, seeded) and their rotations in the plane of coordinates
    /// (`first`, `first` + 1): 4n rows.
    static func rotatedRows(_ n: Int, scales: [Double], first: Int = 0, seed: UInt64) -> Matrix {
        Matrix(rotatedRowArrays(n, scales: scales, first: first, seed: seed))
    }

    static func rotatedRowArrays(_ n: Int, scales: [Double], first: Int = 0, seed: UInt64) -> [[Float]] {
        var rng = SeededGenerator(seed: seed)
        var rows: [[Float]] = []
        for _ in 0..<n {
            let x = scales.map { Float(rng.nextGaussian() * $0) }
            let a = x[first], b = x[first + 1]
            for (p, q) in [(a, b), (-b, a), (-a, -b), (b, -a)] {
                var r = x
                r[first] = p
                r[first + 1] = q
                rows.append(r)
            }
        }
        return rows
    }

    /// Top eigenvalue of XᵀX double (the (0, 1) plane: variance (9 + 1)/2 per direction against 1,
    /// 0.25, 0.04), the shape of the reported case.
    static let symmetric = rotatedRows(100, scales: [3, 1, 1, 0.5, 0.2], seed: 101)

    @Test func clustersFollowRelativeAndAbsoluteGaps() {
        #expect(EigenClusters.clusters([5, 5, 1, 0.5]) == [0..<2, 2..<3, 3..<4])
        #expect(EigenClusters.split([5, 5, 1, 0.5], keeping: 1) == 0..<2)
        #expect(EigenClusters.split([5, 5, 1, 0.5], keeping: 2) == nil)
        #expect(EigenClusters.split([5, 5, 1, 0.5], keeping: 0) == nil && EigenClusters.split([5, 5, 1, 0.5], keeping: 4) == nil)
        // Relative gap 5e-4 < 1e-3: one cluster; 2e-3: two.
        #expect(EigenClusters.split([2, 2 * (1 - 5e-4), 1], keeping: 1) == 0..<2)
        #expect(EigenClusters.split([2, 2 * (1 - 2e-3), 1], keeping: 1) == nil)
        // Chained: each gap small, the cluster spans all three.
        #expect(EigenClusters.clusters([1, 0.9995, 0.999, 0.5]) == [0..<3, 3..<4])
        // A null space: round-off of either sign around 0 is one cluster (gaps < 1e-6 of λ₁).
        #expect(EigenClusters.clusters([1, 0.5, 3e-17, -2e-17, -5e-17]) == [0..<1, 1..<2, 2..<5])
        let message = EigenClusters.splitMessage("--components 1", values: [5, 5, 1], cluster: 0..<2, allowed: 1...3)
        #expect(message.contains("--components 1 splits principal directions 1–2") && message.hasSuffix("use 2 (keeps the whole cluster)"))
        let middle = EigenClusters.splitMessage("abtt:2", values: [1, 0.5, 0.5, 0.1], cluster: 1..<3, allowed: 1...3)
        #expect(middle.hasSuffix("use 3 (keeps the whole cluster) or 1 (leaves it out)"), "\(middle)")
    }

    // B9: log Z is equal at LAPACK's two basis vectors of the plane (a 90° pair, both signs), yet
    // varies by > 1 over the rest of it: I(W) depends on the basis, so it is null with the reason.
    @Test func partitionIsotropyIsNullWhenLogZVariesInsideTheDegeneratePlane() throws {
        let m = try AnisotropyMetrics(Self.symmetric, pairSample: 0)
        #expect(m.partitionIsotropy.isNaN)
        #expect(m.partitionDegeneracy?.firstComponent == 1 && m.partitionDegeneracy?.lastComponent == 2)
        // The spread seen depends on where the probes fall (combinations of LAPACK's basis): only
        // its exceeding the tolerance is the same everywhere, and the note prints no number from it.
        #expect((m.partitionDegeneracy?.logZSpread ?? 0) > AnisotropyMetrics.partitionBasisTolerance)
        let report = try AnisotropyAnalysis(Embeddings(matrix: Self.symmetric, name: "symmetric"), configuration: AnisotropyConfiguration()).report()
        #expect(report.notes.contains { $0.hasPrefix("Partition isotropy is not reported (null): principal directions 1–2 have nearly equal eigenvalues (relative gaps < 0.001), so any basis of their span is principal, and log Z varies by more than 1e-06 over directions of that span") })
    }

    // A direction whose log Z is the same over the whole degenerate plane: a plane with no data in
    // it (XᵀX zero there) leaves I(W) defined, and the probes do not make it null.
    @Test func partitionIsotropyStaysDefinedWhenLogZIsConstantOnTheSpace() throws {
        var rng = SeededGenerator(seed: 7)
        var rows: [[Float]] = []
        for _ in 0..<300 { rows.append([Float(rng.nextGaussian() * 2), Float(rng.nextGaussian()), 0, 0]) }
        let m = try AnisotropyMetrics(Matrix(rows), pairSample: 0)
        #expect(m.partitionDegeneracy == nil && m.partitionIsotropy > 0)
    }

    // Probes are fixed combinations of a cluster's vectors: one per probe, appended in cluster order.
    @Test func probeDirectionsLieInTheirClusterSpan() {
        let d = 4
        var identity = [Float](repeating: 0, count: d * d)
        for i in 0..<d { identity[i * d + i] = 1 }
        let probed = AnisotropyMetrics.partitionDirections(Matrix(rows: d, cols: d, values: identity), eigenvalues: [3, 2, 2, 1])
        #expect(probed.rows == d + AnisotropyMetrics.probesPerCluster)
        for p in d..<probed.rows {
            #expect(probed[p, 0] == 0 && probed[p, 3] == 0)
            let norm = Double(probed[p, 1] * probed[p, 1] + probed[p, 2] * probed[p, 2])
            #expect(abs(norm - 1) < 1e-6)
        }
    }

    // B18: --components 1 keeps one direction of the plane; refused with the counts that do not
    // split it. --components 2 keeps the plane whole, and the depths equal the basis-free formula
    // 1/(1 + ‖(x̂ − μ) on the plane‖²/λ) (λ the plane's variance; the plane is coordinates 0, 1).
    @Test func mahalanobisRefusesComponentsThatSplitAnEigenvalueCluster() throws {
        let reference = Self.symmetric
        let e = #expect(throws: EmbdiagError.self) { try DepthReference(reference, kind: .mahalanobis, mahalanobisComponents: 1) }
        #expect(e?.kind == .usage && e?.message.contains("--components 1 splits principal directions 1–2") == true && e?.message.contains("use 2") == true, "\(String(describing: e))")
        let kept = try DepthReference(reference, kind: .mahalanobis, mahalanobisComponents: 2)
        var rng = SeededGenerator(seed: 5)
        let queries = rng.gaussianMatrix(rows: 50, cols: 5)
        let depths = kept.depths(of: queries)
        let unit = Matrix.normalizedRows(reference)
        let mean = Matrix.columnMeans(unit)
        var variance = 0.0
        for i in 0..<unit.rows { for t in 0..<2 { let c = Double(unit[i, t]) - mean[t]; variance += c * c } }
        variance /= 2 * Double(unit.rows - 1)
        let q = Matrix.normalizedRows(queries)
        for i in 0..<q.rows {
            let s = (0..<2).reduce(0.0) { let c = Double(q[i, $1]) - mean[$1]; return $0 + c * c } / variance
            #expect(abs(depths[i] - 1 / (1 + s)) < 1e-5, "row \(i): \(depths[i]) vs \(1 / (1 + s))")
        }
    }

    @Test func commandsRefuseACountThatSplitsAnEigenvalueCluster() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let ref = dir + "/ref.npy", other = dir + "/other.npy"
        try CLI.writeNpy(Self.rotatedRowArrays(100, scales: [3, 1, 1, 0.5, 0.2], seed: 101), to: ref)
        var rng = SeededGenerator(seed: 5)
        try CLI.writeNpy((0..<100).map { _ in (0..<5).map { _ in Float(rng.nextGaussian()) } }, to: other)
        let refused = try CLI.run(["depth", ref, other, "--depth", "mahalanobis", "--components", "1", "-q"])
        #expect(refused.status == 2 && refused.stderr.contains("--components 1 splits principal directions 1–2"), "\(refused.stderr)")
        let fine = try CLI.run(["depth", ref, other, "--depth", "mahalanobis", "--components", "2", "-q"])
        #expect(fine.status == 0, "\(fine.stderr)")
        for transform in ["abtt:1", "whiten:1"] {
            let r = try CLI.run(["anisotropy", ref, "--transform", transform, "-q"])
            #expect(r.status == 2 && r.stderr.contains("splits principal directions 1–2"), "\(transform): \(r.stderr)")
        }
    }

    // B19: abtt:1 and whiten:1 would keep LAPACK's part of the plane: refused. abtt:2 removes the
    // plane (its projector is basis-free): the output is x − μ with coordinates 0 and 1 zeroed.
    @Test func transformsRefuseToSplitAnEigenvalueCluster() throws {
        let x = Self.symmetric
        for step in [IsotropyStep.allButTheTop(components: 1), .whiten(components: 1)] {
            let e = #expect(throws: EmbdiagError.self, "\(step)") { try IsotropyTransform.fit([step], on: x) }
            #expect(e?.kind == .usage && e?.message.contains("splits principal directions") == true, "\(step): \(String(describing: e))")
        }
        let out = try IsotropyTransform.fit([.allButTheTop(components: 2)], on: x).output
        let mean = Matrix.columnMeans(x)
        for i in 0..<x.rows {
            #expect(abs(out[i, 0]) < 1e-5 && abs(out[i, 1]) < 1e-5)
            for t in 2..<5 { #expect(abs(Double(out[i, t]) - (Double(x[i, t]) - mean[t])) < 1e-5) }
        }
    }

    // Whitening that keeps the plane whole is defined by the plane, not by LAPACK's basis of it:
    // ZCA whitens the plane's coordinates by 1/√λ; PCA whitening to 2 or 5 components writes the
    // plane's coordinates in the fixed basis of `canonicalWhitening` (here the coordinate axes
    // themselves: the projections of e₀ and e₁ onto the plane), each column's sign fixed.
    @Test func wholeClusterWhiteningIsBasisIndependent() throws {
        let x = Self.symmetric
        let mean = Matrix.columnMeans(x)
        var lambda = 0.0
        for i in 0..<x.rows { for t in 0..<2 { let c = Double(x[i, t]) - mean[t]; lambda += c * c } }
        lambda /= 2 * Double(x.rows - 1)
        let zca = try IsotropyTransform.fit([.whiten(components: nil)], on: x).output
        for k in [2, 5] {
            let pca = try IsotropyTransform.fit([.whiten(components: k)], on: x).output
            #expect(pca.cols == k)
            for i in 0..<x.rows {
                for t in 0..<2 {
                    let expected = (Double(x[i, t]) - mean[t]) / lambda.squareRoot()
                    #expect(abs(Double(pca[i, t]) - expected) < 1e-5, "whiten:\(k) row \(i) column \(t)")
                    #expect(abs(Double(zca[i, t]) - expected) < 1e-5, "zca row \(i) column \(t)")
                }
            }
        }
    }

    // MAUVE keeps the components explaining 90 % of the variance; here that cut (after component 2)
    // falls inside the plane of components 2–3, which is then kept whole.
    @Test func mauveKeepsAnEigenvalueClusterWhole() throws {
        let scales = [1, 0.11, 0.11, 0.005, 0.005]
        let reference = Self.rotatedRows(200, scales: scales, first: 1, seed: 11)
        let other = Self.rotatedRows(200, scales: scales, first: 1, seed: 12)
        // The precondition: the pooled unit rows' 90 % cut splits components 2 and 3.
        var pooled = Matrix.normalizedRows(other).values
        pooled += Matrix.normalizedRows(reference).values
        let p = Matrix(rows: 1600, cols: 5, values: pooled)
        let eigen = try LAPACK.symmetricEigen(Matrix.covariance(p, ddof: 1, mean: Matrix.columnMeans(p)), dimension: 5)
        let total = eigen.values.reduce(0, +)
        #expect(eigen.values[0] / total < 0.9 && (eigen.values[0] + eigen.values[1]) / total >= 0.9)
        #expect(EigenClusters.split(eigen.values, keeping: 2) == 1..<3)
        let result = try mauve(reference: reference, other: other)
        #expect(result.components == 3)
    }

    // A fingerprint records its top k directions: k = 1 inside the double top eigenvalue is refused
    // (the file would differ per CPU); k = 2 records the plane.
    @Test func fingerprintRefusesDirectionsThatSplitAnEigenvalueCluster() throws {
        let e = Embeddings(matrix: Self.symmetric, name: "symmetric")
        let error = #expect(throws: EmbdiagError.self) { try ModelFingerprint(e, directions: 1) }
        #expect(error?.kind == .usage && error?.message.contains("--directions 1 splits principal directions 1–2") == true, "\(String(describing: error))")
        #expect(try ModelFingerprint(e, directions: 2).directionCount == 2)
    }

    // Constant coordinates give a zero-variance cluster: recording part of it is allowed (every
    // score weights those directions by 0), but the subspace overlap would depend on them: null.
    @Test func fingerprintMaySplitAZeroVarianceClusterWithTheOverlapNull() throws {
        let rows = Self.rotatedRowArrays(100, scales: [3, 1, 1, 0.5, 0.2], seed: 101).map { $0 + [1, 2, 3] }
        let e = Embeddings(matrix: Matrix(rows), name: "padded")
        let f = try ModelFingerprint(e, directions: 6)
        #expect(f.directionCount == 6)
        let c = try FingerprintCheck(f, against: e)
        #expect(c.principalSubspaceOverlap.isNaN)
        #expect(c.report().notes.contains { $0.contains("principal_subspace_overlap is not reported (null)") })
    }

    // Two definitional pairs whose differences are orthogonal and equally long: the top two
    // variances are equal, so a one-component bias direction is LAPACK's choice: refused.
    @Test func biasSubspaceRefusesComponentsThatSplitAnEigenvalueCluster() throws {
        let h = Float(0.5).squareRoot()
        let rows: [[Float]] = [[h, 0, h, 0], [-h, 0, h, 0], [0, h, h, 0], [0, -h, h, 0], [0, 0, 0, 1]]
        let e = Embeddings(matrix: Matrix(rows), labels: ["a1", "b1", "a2", "b2", "x"], name: "words")
        let lookup = VocabularyLookup(e, caseInsensitive: false)
        let groups = [["a1", "b1"], ["a2", "b2"]]
        let error = #expect(throws: EmbdiagError.self) { try BiasSubspace(e, lookup: lookup, groups: groups, components: 1) }
        #expect(error?.kind == .usage && error?.message.contains("splits principal directions 1–2") == true, "\(String(describing: error))")
        #expect(try BiasSubspace(e, lookup: lookup, groups: groups, components: 2).components == 2)
    }
}
