import Foundation
import Testing
@testable import EmbeddingDiagnostics
import EmbeddingDiagnosticsTestSupport

/// `embdiag fingerprint --check`: the coordinates' orientation (Guides/Fingerprint.md, "Orientation").
/// A sign flip of coordinates keeps every diagonal entry of the second moment, so a space whose
/// structure is mostly per-coordinate scored as the same model when re-signed; `same_model` now
/// needs the off-diagonal part (`orientation_score`) too, or says it cannot tell.
@Suite struct FingerprintOrientationTests {
    static let d = 64

    /// A model with a common direction, three correlated directions and two rogue coordinates
    /// (large, independent: most of the traceless structure is on the diagonal).
    static func correlatedModel(rows n: Int, seed: UInt64) -> Embeddings {
        var shape = SeededGenerator(seed: 1)
        let mean = unit((0..<d).map { _ in shape.nextGaussian() }).map { 0.4 * $0 }
        let factors = (0..<3).map { _ in unit((0..<d).map { _ in shape.nextGaussian() }) }
        var g = SeededGenerator(seed: seed)
        var values = [Float](repeating: 0, count: n * d)
        for i in 0..<n {
            var row = mean.map { $0 + 0.1 * g.nextGaussian() }
            for f in factors {
                let z = 0.3 * g.nextGaussian()
                for j in 0..<d { row[j] += z * f[j] }
            }
            row[3] += g.nextGaussian()
            row[17] += g.nextGaussian()
            for j in 0..<d { values[i * d + j] = Float(row[j]) }
        }
        return Embeddings(matrix: Matrix(rows: n, cols: d, values: values), name: "correlated.npy")
    }

    /// A PCA-rotated store: uncorrelated coordinates of decreasing scale (a diagonal covariance).
    static func diagonalModel(rows n: Int, seed: UInt64) -> Embeddings {
        var g = SeededGenerator(seed: seed)
        let values = (0..<(n * d)).map { i in Float(g.nextGaussian() * pow(0.93, Double(i % d))) }
        return Embeddings(matrix: Matrix(rows: n, cols: d, values: values), name: "pca-store.npy")
    }

    static func unit(_ v: [Double]) -> [Double] {
        let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return v.map { $0 / norm }
    }

    static func flipped(_ e: Embeddings, _ coordinates: [Int]) -> Embeddings {
        let x = Matrix(rows: e.count, cols: e.dimension, values: e.matrix.values)
        let p = x.mutablePointer
        for i in 0..<e.count { for j in coordinates { p[i * e.dimension + j] = -p[i * e.dimension + j] } }
        return Embeddings(matrix: x, name: e.source.path + " (sign-flipped)")
    }

    /// A seeded random half of the coordinates.
    static func half(seed: UInt64, dimension: Int = d) -> [Int] {
        var g = SeededGenerator(seed: seed)
        return Array(Array(0..<dimension).shuffled(using: &g).prefix(dimension / 2))
    }

    /// Every coordinate negated (x → −x) keeps every second moment, diagonal and off-diagonal:
    /// only the means tell it (they point opposite ways), so the answer is No; a centred space
    /// (its mean noise) cannot show it, so a yes there is Cannot tell.
    @Test func negatedCopyIsNoAndACentredSpaceCannotTell() throws {
        let f = try ModelFingerprint(Self.correlatedModel(rows: 2000, seed: 2))
        let sample = Self.correlatedModel(rows: 500, seed: 3)
        let negated = try FingerprintCheck(f, against: Self.flipped(sample, Array(0..<Self.d)))
        #expect(negated.sameModelScore >= FingerprintCheck.threshold(dimension: Self.d))
        #expect(negated.meanDirectionCosine < -0.9)
        #expect(negated.sameModel == false && negated.sign == .negated, "\(negated.sign)")
        let answer = negated.report().verdict!.answer
        #expect(answer.hasPrefix("No:") && answer.contains("negated"), "\(answer)")
        #expect(try FingerprintCheck(f, against: sample).sign == .confirmed)
        // The same structure around 0: its negation is indistinguishable by second moments.
        func centred(_ e: Embeddings) -> Embeddings {
            let means = Matrix.columnMeans(e.matrix)
            let x = Matrix(rows: e.count, cols: e.dimension, values: e.matrix.values)
            let p = x.mutablePointer
            for i in 0..<e.count { for j in 0..<e.dimension { p[i * e.dimension + j] -= Float(means[j]) } }
            return Embeddings(matrix: x, name: "centred.npy")
        }
        let fc = try ModelFingerprint(centred(Self.correlatedModel(rows: 2000, seed: 2)))
        let check = try FingerprintCheck(fc, against: centred(sample))
        #expect(check.sameModel == nil && check.sign == .fingerprintMeanIsNoise, "\(check.sign) \(String(describing: check.sameModel))")
        #expect(check.report().verdict!.answer.hasPrefix("Cannot tell:"))
    }

    @Test func correlatedModelSameIsYesAndSignFlippedHalfIsNo() throws {
        let f = try ModelFingerprint(Self.correlatedModel(rows: 2000, seed: 2))
        #expect(f.orientation.checkable, "\(f.orientation)")
        let same = try FingerprintCheck(f, against: Self.correlatedModel(rows: 500, seed: 3))
        #expect(same.sameModel == true && (same.orientationScore ?? 0) > 0.8, "\(same.sameModelScore) \(String(describing: same.orientationScore))")
        #expect(same.report().metric("orientation_checkable") == .bool(true))
        for seed in 0..<10 {
            let flipped = try FingerprintCheck(f, against: Self.flipped(Self.correlatedModel(rows: 500, seed: 3), Self.half(seed: UInt64(seed))))
            // The sign-blind score alone would still call it the same model (the structure is mostly
            // on the diagonal); the orientation score does not.
            #expect(flipped.sameModelScore >= FingerprintCheck.threshold(dimension: Self.d), "seed \(seed): \(flipped.sameModelScore)")
            #expect(flipped.sameModel == false, "seed \(seed): orientation \(String(describing: flipped.orientationScore))")
            let answer = flipped.report().verdict!.answer
            #expect(answer.hasPrefix("No:") && answer.contains("sign-flipped"), "\(answer)")
        }
        // The score splits into its diagonal and off-diagonal parts; the diagonal part is the same
        // for a flipped copy.
        let sample = Self.correlatedModel(rows: 500, seed: 3)
        let a = try FingerprintCheck(f, against: sample), b = try FingerprintCheck(f, against: Self.flipped(sample, Self.half(seed: 1)))
        #expect(abs(a.diagonalScore - b.diagonalScore) < 1e-9 * abs(a.diagonalScore))
    }

    @Test func diagonalModelCannotTell() throws {
        let f = try ModelFingerprint(Self.diagonalModel(rows: 2000, seed: 4))
        guard case .diagonal = f.orientation.blindness else { Issue.record("\(f.orientation)"); return }
        let written = f.report()
        #expect(written.metric("orientation_checkable") == .bool(false))
        #expect(written.notes.contains { $0.contains("per-coordinate") && $0.contains("PCA") && $0.contains("embdiag compat") }, "\(written.notes)")
        let same = try FingerprintCheck(f, against: Self.diagonalModel(rows: 500, seed: 5))
        #expect(same.sameModelScore >= FingerprintCheck.sameModelThreshold && same.sameModel == nil)
        #expect(same.report().metric("same_model") == .null)
        let answer = same.report().verdict!.answer
        #expect(answer.hasPrefix("Cannot tell") && answer.contains("per-coordinate") && answer.contains("sign-flipped") && answer.contains("embdiag compat"), "\(answer)")
        for seed in 0..<5 {
            let flipped = try FingerprintCheck(f, against: Self.flipped(Self.diagonalModel(rows: 500, seed: 5), Self.half(seed: UInt64(seed))))
            #expect(flipped.sameModelScore >= FingerprintCheck.sameModelThreshold && flipped.sameModel != true, "\(flipped.sameModelScore)")
        }
    }

    /// The spread of a half-flipped copy's orientation score: √(2 Σ A⁴)/S_off against a simulation of
    /// Σ A_jl² d_j d_l / S_off over independent random signs (A the rebuilt off-diagonal entries).
    @Test func flipSpreadMatchesASimulation() throws {
        let f = try ModelFingerprint(Self.correlatedModel(rows: 2000, seed: 2))
        let d = Self.d, k = f.directionCount, a = Double(f.rows - 1) / Double(f.rows), r = f.restEigenvalue
        var m = [Double](repeating: 0, count: d * d)
        for j in 0..<d { for l in 0..<d where l != j {
            var v = f.mean[j] * f.mean[l]
            for i in 0..<k { v += a * (f.spectrum[i] - r) * f.directions[i * d + j] * f.directions[i * d + l] }
            m[j * d + l] = v
        } }
        var g = SeededGenerator(seed: 9)
        var scores: [Double] = []
        for _ in 0..<2000 {
            let s = (0..<d).map { _ in g.nextUniform() < 0.5 ? -1.0 : 1.0 }
            var v = 0.0
            for j in 0..<d { for l in 0..<d { v += m[j * d + l] * m[j * d + l] * s[j] * s[l] } }
            scores.append(v / f.offDiagonalStrength!)
        }
        let sd = Statistics.meanAndStandardDeviation(scores).std
        #expect(abs(sd / f.orientation.flipSpread! - 1) < 0.1, "simulated \(sd) vs \(f.orientation.flipSpread!)")
        #expect(f.orientation.threshold == Swift.max(FingerprintCheck.sameModelThreshold, 4 * f.orientation.flipSpread!))
    }

    // MARK: the file

    @Test func formatOneFilesAreReadAndCannotConfirmOrientation() throws {
        var old = try ModelFingerprint(Self.correlatedModel(rows: 2000, seed: 2))
        old.offDiagonalStrength = nil
        let data = try FingerprintFile.sealed(old)
        #expect(data.range(of: Data("\\\"format_version\\\":1".utf8)) != nil)
        let back = try FingerprintFile.decode(data, path: "old.fp")
        #expect(back == old && back.offDiagonalStrength == nil && back.orientation.blindness == .olderFormat)
        let c = try FingerprintCheck(back, against: Self.correlatedModel(rows: 500, seed: 3))
        #expect(c.sameModelScore >= FingerprintCheck.sameModelThreshold && c.sameModel == nil && c.orientationScore == nil)
        let answer = c.report().verdict!.answer
        #expect(answer.hasPrefix("Cannot tell") && answer.contains("format version 1") && answer.contains("write the fingerprint again"), "\(answer)")
        // A version-1 header with version-2 scalars, and the reverse, are refused.
        func resealed(_ bytes: Data, _ from: String, _ to: String) -> Data {
            var text = bytes
            text.replaceSubrange(text.range(of: Data(from.utf8))!, with: Data(to.utf8))
            return PartialStateFile.seal(text)
        }
        let current = try FingerprintFile.encode(try ModelFingerprint(Self.correlatedModel(rows: 2000, seed: 2)))
        for bad in [resealed(data, "\\\"format_version\\\":1", "\\\"format_version\\\":2"), resealed(current, "\\\"format_version\\\":2", "\\\"format_version\\\":1")] {
            do { _ = try FingerprintFile.decode(bad, path: "m.fp"); Issue.record("accepted") } catch let e as EmbdiagError {
                #expect(e.description.contains("scalars"), "\(e.description)")
            }
        }
    }

    @Test func editedOffDiagonalStrengthIsRefused() throws {
        var f = try ModelFingerprint(Self.correlatedModel(rows: 2000, seed: 2))
        f.offDiagonalStrength = 1e6
        do { _ = try FingerprintFile.decode(try FingerprintFile.sealed(f), path: "m.fp"); Issue.record("accepted") } catch let e as EmbdiagError {
            #expect(e.description.contains("off-diagonal strength"), "\(e.description)")
        }
    }

    // MARK: against NumPy (scripts/crosscheck/fingerprint_orientation_reference.py)

    @Test func orientationMatchesNumPy() throws {
        let data = try Data(contentsOf: URL(fileURLWithPath: FingerprintTests.root + "Tests/Fixtures/crosscheck/fingerprint-orientation.json"))
        let r = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        let f = FingerprintTests.minilm
        #expect(Tolerance.isClose(f.offDiagonalStrength!, r["off_diagonal_strength"] as! Double, relative: 1e-5), "\(f.offDiagonalStrength!)")
        let o = f.orientation
        #expect(Tolerance.isClose(o.rebuiltOffDiagonal, r["rebuilt_off_diagonal"] as! Double, relative: 1e-5))
        #expect(Tolerance.isClose(o.flipSpread!, r["flip_spread"] as! Double, relative: 1e-4))
        #expect(o.threshold == (r["orientation_threshold"] as! Double))
        let held = try FingerprintTests.read(FingerprintTests.fixtures + "minilm-heldout.npy")
        func signed(_ key: String) -> Embeddings {
            let s = r[key] as! [Int]
            return Self.flipped(held, s.indices.filter { s[$0] < 0 })
        }
        let samples: [(String, Embeddings)] = [
            ("minilm-heldout", held), ("minilm-heldout-half-flipped", signed("half_flip_signs")),
            ("minilm-heldout-one-flipped", signed("one_flip_signs")), ("e5-heldout", try FingerprintTests.read(FingerprintTests.fixtures + "e5-heldout.npy")),
        ]
        let checks = r["checks"] as! [String: [String: Double]]
        for (name, sample) in samples {
            let c = try FingerprintCheck(f, against: sample), expected = checks[name]!
            #expect(abs(c.orientationScore! - expected["orientation_score"]!) < 1e-5, "\(name): \(c.orientationScore!) vs \(expected["orientation_score"]!)")
            #expect(abs(c.diagonalScore - expected["diagonal_score"]!) < 1e-5, "\(name): \(c.diagonalScore)")
            let moments = try FingerprintStatistics.Moments(sample.matrix, path: name)
            #expect(Tolerance.isClose(moments.offDiagonalStrength, expected["sample_off_diagonal_strength"]!, relative: 1e-5), "\(name)")
        }
        // Real models: the same model on other topics is yes, the half-flipped copy no.
        #expect(try FingerprintCheck(f, against: held).sameModel == true)
        #expect(try FingerprintCheck(f, against: signed("half_flip_signs")).sameModel == false)
    }
}

/// The command: a PCA-like store is refused a silent yes.
@Suite(.serialized) struct FingerprintOrientationCLITests {
    @Test func diagonalStoreGateFailsWithCannotTell() throws {
        let dir = try CLI.temporaryDirectory()
        let write = { (e: Embeddings, path: String) throws in
            try CLI.writeNpy((0..<e.count).map { e.matrix.rowArray($0) }, to: path)
        }
        try write(FingerprintOrientationTests.diagonalModel(rows: 1000, seed: 4), dir + "/store.npy")
        try write(FingerprintOrientationTests.diagonalModel(rows: 300, seed: 5), dir + "/new.npy")
        let w = try CLI.run(["fingerprint", dir + "/store.npy", "--write", dir + "/store.fp", "--json", dir + "/w.json", "--quiet"])
        #expect(w.status == 0, "\(w.stderr)")
        let written = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/w.json"))) as! [String: Any]
        #expect((written["metrics"] as! [String: Any])["orientation_checkable"] as? Bool == false)
        let c = try CLI.run(["fingerprint", "--check", dir + "/store.fp", dir + "/new.npy", "--require", "same_model==yes", "--json", dir + "/c.json", "--quiet"])
        #expect(c.status != 0)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/c.json"))) as! [String: Any]
        let metrics = json["metrics"] as! [String: Any]
        #expect(metrics["same_model"] is NSNull && metrics["orientation_checkable"] as? Bool == false)
        #expect(((json["verdict"] as! [String: Any])["answer"] as! String).hasPrefix("Cannot tell"))
    }
}
