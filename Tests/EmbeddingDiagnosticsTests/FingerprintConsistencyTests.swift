import Foundation
import Testing
@testable import EmbeddingDiagnostics
import EmbeddingDiagnosticsTestSupport

/// Samples of a small synthetic "model": rows x = g·A + μ in
/// 16 dimensions, A a fixed random matrix whose rows are scaled from 3 down to 0.1 (anisotropic),
/// μ a fixed random mean; `constant` coordinates are set to `value` in every row (padding).
enum SyntheticModel {
    static func sample(rows n: Int, dimension d: Int = 16, seed: UInt64, constant: Range<Int> = 0..<0, value: Float = 0.5,
                       scale: Float = 1, name: String = "synthetic") -> Embeddings {
        var model = SeededGenerator(seed: 21)
        let a = model.gaussianMatrix(rows: d, cols: d)
        for i in 0..<d {
            let f = Float(3 * Foundation.pow(0.1 / 3, Double(i) / Double(Swift.max(1, d - 1))))
            for j in 0..<d { a[i, j] *= f }
        }
        let mu = (0..<d).map { _ in Float(model.nextGaussian()) }
        var g = SeededGenerator(seed: seed)
        let x = BLAS.matmul(g.gaussianMatrix(rows: n, cols: d), a)
        for i in 0..<n {
            for j in 0..<d { x[i, j] = (constant.contains(j) ? value : x[i, j] + mu[j]) * scale }
        }
        return Embeddings(matrix: x, name: name)
    }

    static func rows(_ e: Embeddings) -> [[Float]] { (0..<e.count).map { e.matrix.rowArray($0) } }
}

/// Samples a demanding user can give `--write`: mostly constant (zero-padded) coordinates, very
/// few dimensions, extreme scales. Whatever `ModelFingerprint` accepts must be meaningful and read
/// back; what it cannot fingerprint is refused with the reason.
@Suite struct FingerprintDegenerateSampleTests {
    /// 10 of 16 coordinates constant (the median scale is 0): the floor comes from the RMS scale,
    /// the constant coordinates are counted, the threshold is finite and the file reads back.
    @Test func mostlyConstantCoordinatesHaveAFloor() throws {
        let sample = SyntheticModel.sample(rows: 600, seed: 1, constant: 0..<10, name: "halfconst.npy")
        let f = try ModelFingerprint(sample, directions: 8)
        #expect(f.nearConstantDimensions == Array(0..<10))
        #expect(Array(f.scale.prefix(10)) == [Double](repeating: 0, count: 10), "a constant column has scale exactly 0: \(f.scale)")
        let rms = (f.scale.reduce(0) { $0 + $1 * $1 } / 16).squareRoot()
        #expect(ModelFingerprint.scaleReference(f.scale).fromRMS)
        #expect(abs(ModelFingerprint.scaleFloor(f.scale) - 0.005 * rms) < 1e-12 * rms)
        #expect(f.rowScoreThreshold.isFinite && f.rowScoreMedian.isFinite)
        let back = try FingerprintFile.decode(try FingerprintFile.encode(f), path: "hc.fp")
        #expect(back == f)
        // The same model padded alike: same model, nothing flagged.
        let same = try FingerprintCheck(back, against: SyntheticModel.sample(rows: 300, seed: 2, constant: 0..<10), mixed: true)
        // Same structure (score ≥ the threshold), nothing flagged; but at 16 dimensions the off-diagonal
        // structure sits on few coordinate pairs (the constant coordinates' products with the mean),
        // so the coordinates' signs cannot be confirmed: "Cannot tell", not a silent yes.
        #expect(same.scoreReachesThreshold && same.sameModel == nil && same.isMixed == false && same.flaggedRows!.count <= 1, "\(same.sameModelScore) \(same.flaggedRows!) \(same.orientation)")
        if case .concentrated = same.orientation.blindness {} else { Issue.record("\(same.orientation)") }
        // Rows that vary in the padding are another model's, every one of them.
        let unpadded = try FingerprintCheck(back, against: SyntheticModel.sample(rows: 300, seed: 3), mixed: true)
        #expect(unpadded.mixedShare == 1)
        // The report says so: the count, and a note on how the floor was set.
        let report = f.report()
        #expect(report.metrics.first { $0.key == "near_constant_dimensions" }?.value == .int(10))
        #expect(report.notes.contains { $0.contains("RMS scale") && $0.contains("10 of 16 dimensions lie below it") })
    }

    /// MiniLM zero-padded to 800 dimensions against the NumPy reference (scripts/crosscheck/fingerprint_reference.py).
    @Test func zeroPaddedModelMatchesNumPy() throws {
        let expected = FingerprintTests.reference["padded"] as! [String: Any]
        let dim = expected["dimension"] as! Int
        func padded(_ e: Embeddings, repeating: Bool = false) -> Embeddings {
            let x = Matrix(rows: e.count, cols: dim)
            for i in 0..<e.count {
                for j in 0..<dim { x[i, j] = j < e.dimension ? e.matrix[i, j] : (repeating ? e.matrix[i, (j - e.dimension) % e.dimension] : 0) }
            }
            return Embeddings(matrix: x, name: e.source.path + " (padded)")
        }
        let f = try ModelFingerprint(padded(try FingerprintTests.read(FingerprintTests.minilmPath)))
        #expect(f.nearConstantDimensions == (expected["near_constant_dimensions"] as! [Int]))
        #expect(Tolerance.isClose(ModelFingerprint.scaleFloor(f.scale), expected["floor"] as! Double, relative: 1e-6))
        #expect(abs(f.rowScoreThreshold - (expected["row_score_threshold"] as! Double)) < 1e-5)
        #expect(abs(f.rowScoreMedian - (expected["row_score_median"] as! Double)) < 1e-5)
        #expect(Tolerance.isClose(f.tracelessStrength, expected["traceless_strength"] as! Double, relative: 1e-5))
        let checks = expected["checks"] as! [String: [String: Any]]
        let own = try FingerprintCheck(f, against: padded(try FingerprintTests.read(FingerprintTests.fixtures + "minilm-heldout.npy")), mixed: true)
        #expect(own.flaggedRows == (checks["minilm-heldout"]!["flagged"] as! [Int]))
        #expect(abs(own.sameModelScore - (checks["minilm-heldout"]!["same_model_score"] as! Double)) < 1e-5)
        let other = try FingerprintCheck(f, against: padded(try FingerprintTests.read(FingerprintTests.fixtures + "e5-heldout.npy"), repeating: true), mixed: true)
        #expect(other.flaggedRows == (checks["e5-heldout"]!["flagged"] as! [Int]))
        #expect(other.mixedShare == 1)
    }

    /// Two dimensions, one of them constant; 15 of 16 constant.
    @Test func fewVaryingCoordinates() throws {
        let two = SyntheticModel.sample(rows: 300, dimension: 2, seed: 4, constant: 1..<2)
        let f2 = try ModelFingerprint(two)
        #expect(f2.directionCount == 2 && f2.nearConstantDimensions == [1])
        #expect(try FingerprintFile.decode(try FingerprintFile.encode(f2), path: "d2.fp") == f2)
        let allButOne = SyntheticModel.sample(rows: 300, seed: 5, constant: 1..<16, value: 0)
        let f = try ModelFingerprint(allButOne)
        #expect(f.nearConstantDimensions == Array(1..<16))
        #expect(try FingerprintFile.decode(try FingerprintFile.encode(f), path: "one.fp") == f)
        let c = try FingerprintCheck(f, against: SyntheticModel.sample(rows: 200, seed: 6, constant: 1..<16, value: 0), mixed: true)
        // One varying coordinate, the rest 0: no off-diagonal structure at all, so a flip of that
        // coordinate would score the same: "Cannot tell".
        #expect(c.scoreReachesThreshold && c.sameModel == nil && c.isMixed == false && f.orientation.blindness == .diagonal(share: 0), "\(c.sameModelScore) \(c.flaggedRows!) \(c.orientation)")
        // Two dimensions, both varying.
        let both = try ModelFingerprint(SyntheticModel.sample(rows: 150, dimension: 2, seed: 7))
        #expect(both.nearConstantDimensions.isEmpty)
        #expect(try FingerprintFile.decode(try FingerprintFile.encode(both), path: "d2b.fp") == both)
    }

    /// One coordinate 10⁴ times the others' spread: the RMS scale sets the floor (a note says why),
    /// the fingerprint verifies and its own model's rows are not flagged.
    @Test func aDominantCoordinate() throws {
        func rogue(_ e: Embeddings) -> Embeddings {
            for i in 0..<e.count { e.matrix[i, 0] *= 1e4 }
            return e
        }
        let f = try ModelFingerprint(rogue(SyntheticModel.sample(rows: 600, seed: 10)))
        #expect(ModelFingerprint.scaleReference(f.scale).fromRMS)
        #expect(f.report().notes.contains { $0.contains("a few coordinates dominating") })
        #expect(try FingerprintFile.decode(try FingerprintFile.encode(f), path: "rogue.fp") == f)
        let c = try FingerprintCheck(f, against: rogue(SyntheticModel.sample(rows: 300, seed: 11)), mixed: true)
        // The off-diagonal structure is the dominant coordinate's products with the 15 others: a random
        // half flip keeps much of it (its spread makes the orientation threshold ≥ 1), so "Cannot tell".
        #expect(c.scoreReachesThreshold && c.sameModel == nil && c.isMixed == false, "\(c.sameModelScore) \(c.flaggedRows!) \(c.orientation)")
        if case .concentrated = c.orientation.blindness {} else { Issue.record("\(c.orientation)") }
    }

    /// The row score does not depend on the vectors' scale, also where the squares of the values
    /// leave Float32 (1e-25, 1e25): the covariance's products are taken on rows scaled by a power
    /// of two.
    @Test func extremeScales() throws {
        let base = try ModelFingerprint(SyntheticModel.sample(rows: 600, seed: 8))
        for scale: Float in [1e-35, 1e-25, 1e-15, 1e-9, 1e9, 1e15, 1e19, 1e25] {
            let f = try ModelFingerprint(SyntheticModel.sample(rows: 600, seed: 8, scale: scale))
            #expect(abs(f.rowScoreThreshold - base.rowScoreThreshold) < 1e-5, "×\(scale): \(f.rowScoreThreshold) vs \(base.rowScoreThreshold)")
            #expect(try FingerprintFile.decode(try FingerprintFile.encode(f), path: "s.fp") == f)
        }
    }

    @Test func unusableSamplesAreRefused() throws {
        func refused(_ e: Embeddings, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
            do { _ = try ModelFingerprint(e); Issue.record("accepted", sourceLocation: sourceLocation) } catch let error as EmbdiagError {
                #expect(error.description.contains(fragment), "\(error.description)", sourceLocation: sourceLocation)
            } catch { Issue.record("\(error)", sourceLocation: sourceLocation) }
        }
        refused(SyntheticModel.sample(rows: 2, seed: 9), "at least 100")
        refused(SyntheticModel.sample(rows: 300, dimension: 1, seed: 9), "at least 2 dimensions")
        refused(SyntheticModel.sample(rows: 300, seed: 9, constant: 0..<16), "distinct rows")
        let withNaN = SyntheticModel.sample(rows: 300, seed: 9)
        withNaN.matrix[17, 3] = .nan
        refused(withNaN, "row 17 of the sample holds a NaN")
    }

    /// Whatever `--write` accepts reads back and describes its own sample: many shapes, constant
    /// blocks, offsets and scales.
    @Test func everyAcceptedFingerprintVerifies() throws {
        var accepted = 0
        for (d, rows) in [(2, 100), (3, 101), (5, 400), (16, 1000), (64, 300)] {
            for constant in [0..<0, 0..<(d / 2), 0..<(d - 1)] {
                for (value, scale) in [(Float(0), Float(1)), (0.5, 1), (1000, 1), (0.1, 1e-4), (-3, 1e6)] {
                    let e = SyntheticModel.sample(rows: rows, dimension: d, seed: UInt64(d * 1000 + rows), constant: constant, value: value, scale: scale)
                    let f: ModelFingerprint
                    do { f = try ModelFingerprint(e) } catch let error as EmbdiagError {
                        // Refusals must give a reason a user can act on, never "does not verify".
                        #expect(!error.description.contains("does not verify"), "d \(d), constant \(constant), \(value), ×\(scale): \(error.description)")
                        continue
                    }
                    accepted += 1
                    #expect(f.firstInconsistency() == nil)
                    let back = try FingerprintFile.decode(try FingerprintFile.encode(f), path: "x.fp")
                    #expect(back == f)
                    let own = try FingerprintCheck(back, against: e, mixed: true)
                    #expect(own.sameModelScore > 0.5 && own.mixedShare! <= 0.02, "d \(d), constant \(constant), \(value), ×\(scale): score \(own.sameModelScore), mixed \(own.mixedShare!)")
                }
            }
        }
        #expect(accepted >= 50, "\(accepted)")
    }
}

/// Values an edited and resealed file can carry, each finite and of the right size: refused when
/// read, before a check could use them; and a check's values outside their documented ranges.
@Suite struct FingerprintFileConsistencyTests {
    /// The 16-dimensional model with all 16 directions (the Rayleigh relation is then an equality).
    static let full: ModelFingerprint = try! ModelFingerprint(SyntheticModel.sample(rows: 600, seed: 1, name: "model_a.npy"))

    static func refusal(_ f: ModelFingerprint) -> String? {
        do { _ = try FingerprintFile.decode(try FingerprintFile.sealed(f), path: "edited.fp"); return nil } catch {
            return "\(error)"
        }
    }

    @Test func theToolsOwnFilesVerify() throws {
        #expect(Self.full.firstInconsistency() == nil)
        #expect(Self.full.directionCount == 16)
        #expect(FingerprintTests.minilm.firstInconsistency() == nil)
    }

    @Test func editedValuesAreRefused() throws {
        var swapped = Self.full
        swapped.scale.swapAt(0, 5)
        let mean1 = Self.full.mean.map { $0 + 1 }
        let edits: [(String, ModelFingerprint, ModelFingerprint)] = [
            ("row-score threshold −1 (F8a)", Self.full, { var f = Self.full; f.rowScoreThreshold = -1; return f }()),
            ("row-score threshold 0 (F8a)", Self.full, { var f = Self.full; f.rowScoreThreshold = 0; return f }()),
            ("all three row-score values raised together", Self.full, { var f = Self.full; f.rowScoreMedian += 5; f.rowScoreQ999 += 5; f.rowScoreThreshold += 5; return f }()),
            ("row-score median above q99.9", Self.full, { var f = Self.full; f.rowScoreMedian = f.rowScoreQ999 + 1; return f }()),
            ("duplicated direction (F8b)", Self.full, { var f = Self.full; for j in 0..<16 { f.directions[16 + j] = f.directions[j] }; return f }()),
            ("duplicated direction, MiniLM (F8b)", FingerprintTests.minilm, { var f = FingerprintTests.minilm; for j in 0..<384 { f.directions[384 + j] = f.directions[j] }; return f }()),
            ("second moment 1e300 (F8c)", Self.full, { var f = Self.full; f.secondMomentTrace = 1e300; return f }()),
            ("second moment ×1.01", Self.full, { var f = Self.full; f.secondMomentTrace *= 1.01; return f }()),
            ("second moment beyond Float32", Self.full, { var f = Self.full; f.secondMomentTrace = 1e200; f.mean[0] = 1e100; return f }()),
            ("traceless strength ×1e-3", Self.full, { var f = Self.full; f.tracelessStrength *= 1e-3; return f }()),
            ("traceless strength ×10", Self.full, { var f = Self.full; f.tracelessStrength *= 10; return f }()),
            ("two scales swapped (Rayleigh)", Self.full, swapped),
            ("eigenvalue moved between λ1 and λ2 (sum and order kept)", Self.full, { var f = Self.full; let t = (f.spectrum[0] - f.spectrum[1]) / 4; f.spectrum[0] -= t; f.spectrum[1] += t; return f }()),
            ("all scales 0", Self.full, { var f = Self.full; f.scale = [Double](repeating: 0, count: 16); return f }()),
            ("mean shifted", Self.full, { var f = Self.full; f.mean = mean1; return f }()),
            ("mean cosine −1", Self.full, { var f = Self.full; f.meanCosine = -1; return f }()),
            ("norm quantile 99 % = 1e6", Self.full, { var f = Self.full; f.normQuantiles[6] = 1e6; return f }()),
            ("negative scale", Self.full, { var f = Self.full; f.scale[3] = -f.scale[3]; return f }()),
        ]
        for (what, original, edited) in edits {
            #expect(original.firstInconsistency() == nil, "\(what): the original")
            let message = Self.refusal(edited)
            #expect(message?.contains("edited.fp") == true && (message!.contains("contradict each other") || message!.contains("out of their domain")),
                    "\(what): \(message ?? "accepted")")
            // The writer refuses it too: nothing is written.
            #expect(throws: EmbdiagError.self, "\(what)") { try FingerprintFile.encode(edited) }
        }
    }

    /// The writer never writes a non-finite value (F6: a file that is written must read back).
    @Test func writerRefusesNonFiniteValues() throws {
        let edits: [(inout ModelFingerprint) -> Void] = [{ $0.rowScoreThreshold = .nan }, { $0.scale[2] = .infinity }, { $0.mean[0] = .nan }]
        for edit in edits {
            var f = Self.full
            edit(&f)
            do { _ = try FingerprintFile.encode(f); Issue.record("encoded a non-finite value") } catch let e as EmbdiagError {
                #expect(e.description.contains("does not verify") && e.description.contains("nothing written"), "\(e.description)")
            }
        }
    }

    /// A check never prints a score outside its documented range: a fingerprint built past the
    /// reader (the library's memberwise values) whose second moment is absurd is refused.
    @Test func scoresOutsideTheirRangeAreRefused() throws {
        var f = Self.full
        f.secondMomentTrace = 1e300
        let sample = SyntheticModel.sample(rows: 300, seed: 2)
        do { _ = try FingerprintCheck(f, against: sample, fingerprintPath: "absurd.fp"); Issue.record("printed a score for a second moment of 1e300") } catch let e as EmbdiagError {
            #expect(e.description.contains("absurd.fp") && e.description.contains("same_model_score") && e.description.contains("outside its range"), "\(e.description)")
        }
        // The real values: within range.
        let c = try FingerprintCheck(Self.full, against: sample, mixed: true)
        #expect(abs(c.sameModelScore) <= FingerprintCheck.scoreBound && c.sameModel == true)
    }
}

/// The command on those samples and files: exit codes and one-line errors.
@Suite(.serialized) struct FingerprintDegenerateCLITests {
    static func json(_ path: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
    }

    /// F6 (#26): `--write` on a sample with 10 of 16 coordinates constant exits 0 only with a file
    /// that every later check reads, and counts those coordinates.
    @Test func halfConstantSampleWritesAReadableFile() throws {
        let dir = try CLI.temporaryDirectory()
        try CLI.writeNpy(SyntheticModel.rows(SyntheticModel.sample(rows: 600, seed: 1, constant: 0..<10)), to: dir + "/halfconst.npy")
        try CLI.writeNpy(SyntheticModel.rows(SyntheticModel.sample(rows: 300, seed: 2, constant: 0..<10)), to: dir + "/halfconst2.npy")
        let w = try CLI.run(["fingerprint", dir + "/halfconst.npy", "--write", dir + "/hc2.fp", "--directions", "8", "--json", dir + "/w.json", "--quiet"])
        #expect(w.status == 0, "\(w.stderr)")
        let metrics = try Self.json(dir + "/w.json")["metrics"] as! [String: Any]
        #expect(metrics["near_constant_dimensions"] as? Int == 10)
        #expect((metrics["row_score_threshold"] as? Double)?.isFinite == true, "\(metrics["row_score_threshold"] ?? "missing")")
        let c = try CLI.run(["fingerprint", "--check", dir + "/hc2.fp", dir + "/halfconst2.npy", "--mixed", "--require", "same_model_score>=0.344", "--require", "mixed==no", "--quiet"])
        #expect(c.status == 0, "\(c.stderr)")
    }

    /// F7 (#26): the default number of directions fits the dimension, with a note; an explicit value out
    /// of range names --directions and the valid range.
    @Test func defaultDirectionsFitTheDimension() throws {
        let dir = try CLI.temporaryDirectory()
        try CLI.writeNpy(SyntheticModel.rows(SyntheticModel.sample(rows: 600, seed: 1)), to: dir + "/model_a.npy")
        let w = try CLI.run(["fingerprint", dir + "/model_a.npy", "--write", dir + "/a.fp", "--json", dir + "/w.json", "--quiet"])
        #expect(w.status == 0, "\(w.stderr)")
        let report = try Self.json(dir + "/w.json")
        #expect((report["metrics"] as! [String: Any])["principal_directions"] as? Int == 16)
        #expect((report["notes"] as! [String]).contains { $0.contains("--directions: 16") })
        FingerprintCLITests.oneLineError(try CLI.run(["fingerprint", dir + "/model_a.npy", "--write", dir + "/b.fp", "--directions", "32"]), "--directions")
        FingerprintCLITests.oneLineError(try CLI.run(["fingerprint", dir + "/model_a.npy", "--write", dir + "/b.fp", "--directions", "32"]), "1…16")
        #expect(!FileManager.default.fileExists(atPath: dir + "/b.fp"))
        // --directions describes a fingerprint being written, even at the default's value.
        FingerprintCLITests.oneLineError(try CLI.run(["fingerprint", "--check", dir + "/a.fp", dir + "/model_a.npy", "--directions", "32"]), "--write")
        let c = try CLI.run(["fingerprint", "--check", dir + "/a.fp", dir + "/model_a.npy", "--require", "same_model==yes", "--quiet"])
        #expect(c.status == 0, "\(c.stderr)")
    }

    /// F8 (#26): edited and resealed files → exit 2, one line naming the file.
    @Test func editedFilesExitTwo() throws {
        let dir = try CLI.temporaryDirectory()
        try CLI.writeNpy(SyntheticModel.rows(SyntheticModel.sample(rows: 300, seed: 2)), to: dir + "/model_a2.npy")
        var f = try ModelFingerprint(SyntheticModel.sample(rows: 600, seed: 1, name: "model_a.npy"), directions: 8)
        let edits: [(String, (inout ModelFingerprint) -> Void)] = [
            ("threshold-neg", { $0.rowScoreThreshold = -1 }), ("threshold-zero", { $0.rowScoreThreshold = 0 }),
            ("dir-dup", { f in for j in 0..<16 { f.directions[16 + j] = f.directions[j] } }),
            ("moment-huge", { $0.secondMomentTrace = 1e300 }),
        ]
        let original = f
        for (name, edit) in edits {
            f = original
            edit(&f)
            try FingerprintFile.sealed(f).write(to: URL(fileURLWithPath: dir + "/\(name).fp"))
            FingerprintCLITests.oneLineError(try CLI.run(["fingerprint", "--check", dir + "/\(name).fp", dir + "/model_a2.npy", "--mixed"]), "\(name).fp: fingerprint values")
        }
    }

    @Test func nanInTheSample() throws {
        let dir = try CLI.temporaryDirectory()
        var rows = SyntheticModel.rows(SyntheticModel.sample(rows: 300, seed: 1))
        rows[40][2] = .nan
        try CLI.writeNpy(rows, to: dir + "/nan.npy")
        FingerprintCLITests.oneLineError(try CLI.run(["fingerprint", dir + "/nan.npy", "--write", dir + "/n.fp"]), "nan.npy")
        #expect(!FileManager.default.fileExists(atPath: dir + "/n.fp"))
        let dropped = try CLI.run(["fingerprint", dir + "/nan.npy", "--write", dir + "/n.fp", "--on-invalid", "drop", "--quiet"])
        #expect(dropped.status == 0, "\(dropped.stderr)")
        #expect(try FingerprintFile.read(dir + "/n.fp").rows == 299)
    }
}
