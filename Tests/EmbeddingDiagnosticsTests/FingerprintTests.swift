import Foundation
import Testing
@testable import EmbeddingDiagnostics
import EmbeddingDiagnosticsTestSupport

/// `embdiag fingerprint`: statistics against the NumPy reference (scripts/crosscheck/fingerprint_reference.py),
/// verdicts on real models' outputs (Tests/Fixtures/fingerprint, scripts/fixtures/fingerprint_models.py),
/// the self-verifying file, and hostile inputs.
@Suite struct FingerprintTests {
    static let root = CLI.repositoryRoot.path + "/"
    static let fixtures = root + "Tests/Fixtures/fingerprint/"
    static let minilmPath = root + "data/sentences/debian-minilm-l6.npy"

    static func read(_ path: String) throws -> Embeddings { try EmbeddingReader.read(path) }
    static let minilm: ModelFingerprint = try! ModelFingerprint(read(minilmPath), modelName: "all-MiniLM-L6-v2")
    // nonisolated(unsafe): parsed JSON (immutable Foundation values), never written after it is loaded,
    // so the parallel tests only read it.
    nonisolated(unsafe) static let reference: [String: Any] = {
        let data = try! Data(contentsOf: URL(fileURLWithPath: root + "Tests/Fixtures/crosscheck/fingerprint.json"))
        return try! JSONSerialization.jsonObject(with: data) as! [String: Any]
    }()

    static func rotated(_ e: Embeddings, seed: UInt64) -> Embeddings {
        var g = SeededGenerator(seed: seed)
        let q = g.orthogonalMatrix(e.dimension)
        return Embeddings(matrix: BLAS.matmul(e.matrix, q), name: e.source.path + " (rotated)")
    }

    // MARK: against NumPy

    @Test func statisticsMatchNumPy() throws {
        let f = Self.minilm, r = Self.reference
        let top = r["spectrum_top8"] as! [Double]
        for (i, v) in top.enumerated() { #expect(Tolerance.isClose(f.spectrum[i], v, relative: 1e-5), "eigenvalue \(i): \(f.spectrum[i]) vs \(v)") }
        #expect(Tolerance.isClose(f.spectrum.reduce(0, +), r["spectrum_sum"] as! Double, relative: 1e-6))
        let mean = r["mean"] as! [Double]
        #expect(zip(f.mean, mean).allSatisfy { abs($0 - $1) < 1e-7 })
        // Principal directions up to sign.
        let directions = r["directions_top4"] as! [[Double]]
        for (i, v) in directions.enumerated() {
            let dot = (0..<f.dimension).reduce(0.0) { $0 + f.directions[i * f.dimension + $1] * v[$1] }
            #expect(abs(abs(dot) - 1) < 1e-6, "direction \(i): |v·v_numpy| = \(abs(dot))")
        }
        #expect(Tolerance.isClose(f.secondMomentTrace, r["second_moment_trace"] as! Double, relative: 1e-6))
        #expect(Tolerance.isClose(f.tracelessStrength, r["traceless_strength"] as! Double, relative: 1e-5))
        #expect(Tolerance.isClose(f.meanCosine, r["mean_cosine"] as! Double, relative: 1e-6))
        #expect(zip(f.normQuantiles, r["norm_quantiles"] as! [Double]).allSatisfy { abs($0 - $1) < 1e-6 })
        #expect(abs(f.rowScoreThreshold - (r["row_score_threshold"] as! Double)) < 1e-5)
        #expect(f.nearConstantDimensions == (r["near_constant_dimensions"] as! [Int]))
    }

    @Test(arguments: ["minilm-heldout", "e5-heldout"])
    func checkMatchesNumPy(_ name: String) throws {
        let expected = (Self.reference["checks"] as! [String: Any])[name] as! [String: Any]
        let c = try FingerprintCheck(Self.minilm, against: Self.read(Self.fixtures + name + ".npy"), mixed: true)
        #expect(abs(c.sameModelScore - (expected["same_model_score"] as! Double)) < 1e-5, "\(c.sameModelScore)")
        #expect(abs(c.meanDirectionCosine - (expected["mean_direction_cosine"] as! Double)) < 1e-6)
        #expect(abs(c.principalSubspaceOverlap - (expected["principal_subspace_overlap"] as! Double)) < 1e-4)
        #expect(abs(c.spectrumCorrelation - (expected["spectrum_correlation"] as! Double)) < 1e-6)
        #expect(c.flaggedRows == (expected["flagged"] as! [Int]))
    }

    // MARK: verdicts on real models

    @Test func sameModelOnOtherTopicsIsSame() throws {
        let c = try FingerprintCheck(Self.minilm, against: Self.read(Self.fixtures + "minilm-heldout.npy"))
        #expect(c.sameModel == true && c.sameModelScore > 0.3)
        // The smallest sample allowed, one held-out topic (Debian "mail": rows 120..<170).
        let small = try Self.read(Self.fixtures + "minilm-heldout.npy").selecting(rows: Array(120..<170))
        let s = try FingerprintCheck(Self.minilm, against: small)
        #expect(s.sameModel == true, "score \(s.sameModelScore)")
    }

    @Test(arguments: ["e5-heldout", "minilm-layer3-heldout", "e5-enpt-heldout"])
    func otherModelsOfTheSameDimensionAreDifferent(_ name: String) throws {
        let c = try FingerprintCheck(Self.minilm, against: Self.read(Self.fixtures + name + ".npy"))
        #expect(c.sameModel == false && c.sameModelScore < 0.07, "\(name): \(c.sameModelScore)")
    }

    @Test func rotationOfTheSameModelIsDifferent() throws {
        let e = try Self.read(Self.fixtures + "minilm-heldout.npy")
        let c = try FingerprintCheck(Self.minilm, against: Self.rotated(e, seed: 3))
        #expect(c.sameModel == false && abs(c.sameModelScore) < 0.02, "\(c.sameModelScore)")
        // Rotation-invariant statistics cannot see it; the report still shows them.
        #expect(c.spectrumCorrelation > 0.98)
        // The rotated model has its own fingerprint, which its own rows match.
        let rotatedFingerprint = try ModelFingerprint(Self.rotated(try Self.read(Self.minilmPath), seed: 3))
        #expect(try FingerprintCheck(rotatedFingerprint, against: Self.rotated(e, seed: 3)).sameModel == true)
    }

    /// Below 57 dimensions a rotated copy's score can reach 0.10 by chance: the threshold rises to
    /// four standard deviations of it (the spread matches a simulation), so 20 rotated copies of a
    /// 16-dimensional model are all "different" while its own samples are "same"; below d = 6 the
    /// check cannot tell.
    @Test func smallDimensionsRaiseTheThreshold() throws {
        let d = 16
        var g = SeededGenerator(seed: 21)
        let basis = g.orthogonalMatrix(d)
        func sample(_ n: Int) -> Embeddings {
            let z = Matrix(rows: n, cols: d, values: (0..<(n * d)).map { i in Float(g.nextGaussian() * pow(0.7, Double(i % d))) })
            let x = BLAS.matmul(z, basis)
            let p = x.mutablePointer
            for i in 0..<n { p[i * d] += 1.5 }
            return Embeddings(matrix: x, name: "small.npy")
        }
        let fingerprint = try ModelFingerprint(sample(2000))
        let rotatedSame = try (0..<20).filter { try FingerprintCheck(fingerprint, against: Self.rotated(sample(1000), seed: 100 + UInt64($0))).sameModel == true }
        #expect(rotatedSame.isEmpty, "rotated copies called the same model: \(rotatedSame)")
        let own = try FingerprintCheck(fingerprint, against: sample(1000))
        #expect(own.sameModel == true && own.report().metric("same_model") == .bool(true), "\(own.sameModelScore)")
        #expect(abs(FingerprintCheck.threshold(dimension: 16) - 4 * FingerprintCheck.rotationSpread(dimension: 16)) < 1e-15)
        #expect(FingerprintCheck.threshold(dimension: 57) == FingerprintCheck.sameModelThreshold && FingerprintCheck.threshold(dimension: 384) == FingerprintCheck.sameModelThreshold)
        #expect(!FingerprintCheck.canDecide(dimension: 5) && FingerprintCheck.canDecide(dimension: 6))
        // The spread: ⟨A, QᵀAQ⟩/‖A‖² over Haar rotations Q of a traceless symmetric A.
        let a = (0..<(d * d)).map { _ in g.nextGaussian() }
        var sym = [Double](repeating: 0, count: d * d)
        for i in 0..<d { for j in 0..<d { sym[i * d + j] = a[i * d + j] + a[j * d + i] } }
        let trace = (0..<d).reduce(0.0) { $0 + sym[$1 * d + $1] } / Double(d)
        for i in 0..<d { sym[i * d + i] -= trace }
        let norm2 = sym.reduce(0) { $0 + $1 * $1 }
        var scores: [Double] = []
        for _ in 0..<400 {
            let q = g.orthogonalMatrix(d)
            // B = Qᵀ A Q
            var b = [Double](repeating: 0, count: d * d)
            for i in 0..<d { for j in 0..<d {
                var v = 0.0
                for k in 0..<d { for l in 0..<d { v += Double(q[k, i]) * sym[k * d + l] * Double(q[l, j]) } }
                b[i * d + j] = v
            } }
            scores.append(zip(sym, b).reduce(0) { $0 + $1.0 * $1.1 } / norm2)
        }
        let sd = Statistics.meanAndStandardDeviation(scores).std
        #expect(abs(sd / FingerprintCheck.rotationSpread(dimension: d) - 1) < 0.15, "simulated \(sd) vs \(FingerprintCheck.rotationSpread(dimension: d))")
    }

    @Test func mixedFindsTheRowsOfAnotherModel() throws {
        let own = try Self.read(Self.fixtures + "minilm-heldout.npy"), other = try Self.read(Self.fixtures + "e5-heldout.npy")
        var values = own.matrix.rows(0..<240).values
        values += other.matrix.rows(240..<480).values
        let half = Embeddings(matrix: Matrix(rows: 480, cols: 384, values: values), name: "half re-embedded")
        let c = try FingerprintCheck(Self.minilm, against: half, mixed: true)
        #expect(c.flaggedRows == Array(240..<480))
        #expect(c.mixedShare == 0.5 && c.isMixed == true)
        // A file of one model: nothing flagged.
        let single = try FingerprintCheck(Self.minilm, against: own, mixed: true)
        #expect(single.flaggedRows == [] && single.mixedShare == 0 && single.isMixed == false)
    }

    // MARK: the file

    @Test func fileRoundTripsExactly() throws {
        let data = try FingerprintFile.encode(Self.minilm)
        #expect(data.count < 120_000)
        let back = try FingerprintFile.decode(data, path: "m.fp")
        #expect(back == Self.minilm)
    }

    @Test func damagedFilesAreRefused() throws {
        let data = try FingerprintFile.encode(Self.minilm)
        func refused(_ d: Data, _ fragment: String) {
            do { _ = try FingerprintFile.decode(d, path: "m.fp"); Issue.record("accepted: \(fragment)") } catch let e as EmbdiagError {
                #expect(e.description.contains(fragment), "\(e.description)")
            } catch { Issue.record("\(error)") }
        }
        var flipped = data
        flipped[data.count - 100] ^= 0x01
        refused(flipped, "checksum mismatch")
        refused(data.prefix(data.count - 8), "checksum mismatch")
        refused(data.prefix(20), "not an embdiag fingerprint")
        refused(Data(), "too short")
        // Edited and resealed: the payload checks behind the checksum.
        func edited(_ from: String, _ to: String) -> Data {
            var text = data
            let header = Int(data.prefix(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) })
            let range = data.range(of: Data(from.utf8), in: 8..<(8 + header))!
            text.replaceSubrange(range, with: Data(to.utf8))
            return PartialStateFile.seal(text)
        }
        refused(edited("\\\"format_version\\\":2", "\\\"format_version\\\":9"), "format version 9")
        // Same length, so the header size stays right.
        refused(edited("\\\"rows\\\":1800", "\\\"rows\\\":  18"), "at least 100 rows")
        refused(edited("\"dtype\":\"F64\",\"shape\":[384]", "\"dtype\":\"F32\",\"shape\":[384]"), "dtype F32")
        // Values that no real sample gives, each finite and of the right size (what an edited and
        // resealed file carries): refused before a check could overflow on them.
        let edits: [(String, (inout ModelFingerprint) -> Void)] = [
            ("mean beyond the second moment", { $0.mean[2] = 1e228 }),
            ("scale beyond the second moment", { $0.scale[0] = 1e6 }),
            ("spectrum beyond the second moment", { $0.spectrum[0] = 1e6 }),
            ("non-unit direction", { $0.directions[0] *= 2 }),
            ("unsorted norm quantiles", { $0.normQuantiles[0] = $0.normQuantiles[6] * 2 }),
            ("mean cosine outside [-1, 1]", { $0.meanCosine = 3 }),
            ("traceless strength beyond the second moment", { $0.tracelessStrength = 1e300 }),
        ]
        for (what, edit) in edits {
            var f = Self.minilm
            edit(&f)
            do { _ = try FingerprintFile.decode(try FingerprintFile.sealed(f), path: "m.fp"); Issue.record("accepted: \(what)") } catch let e as EmbdiagError {
                #expect(e.description.contains("fingerprint values contradict each other"), "\(what): \(e.description)")
            } catch { Issue.record("\(what): \(error)") }
        }
        // A state file of another kind.
        refused(PartialStateFile.seal(Data(data.prefix(8)) + data.dropFirst(8)).replacing(Data("embdiag_fingerprint".utf8), with: Data("embdiag_state_xxxxxx".utf8)), "not an embdiag fingerprint")
    }

    // MARK: hostile samples

    @Test func tooFewOrRepeatedRowsAreRefused() throws {
        let e = try Self.read(Self.fixtures + "minilm-heldout.npy")
        #expect(throws: EmbdiagError.self) { try FingerprintCheck(Self.minilm, against: e.selecting(rows: Array(0..<49))) }
        #expect(throws: EmbdiagError.self) { try ModelFingerprint(e.selecting(rows: Array(0..<99))) }
        // 200 rows, 10 distinct.
        let repeated = e.selecting(rows: (0..<200).map { $0 % 10 })
        do { _ = try FingerprintCheck(Self.minilm, against: repeated); Issue.record("accepted repeated rows") } catch let error as EmbdiagError {
            #expect(error.description.contains("only 10 distinct rows"))
        }
        let constant = e.selecting(rows: [Int](repeating: 3, count: 300))
        #expect(throws: EmbdiagError.self) { try ModelFingerprint(constant) }
    }

    @Test func otherDimensionIsAMismatch() throws {
        let e = try Self.read(Self.root + "data/words/googlenews-bolukbasi-subset.bin")
        do { _ = try FingerprintCheck(Self.minilm, against: e); Issue.record("accepted 300-d rows") } catch let error as EmbdiagError {
            #expect(error.kind == .mismatch && error.description.contains("300 dimensions"))
        }
    }

    @Test func isotropicNoiseHasNoFingerprint() throws {
        var g = SeededGenerator(seed: 5)
        let noise = Embeddings(matrix: g.gaussianMatrix(rows: 2000, cols: 64), name: "noise")
        do { _ = try ModelFingerprint(noise); Issue.record("fingerprinted isotropic noise") } catch let error as EmbdiagError {
            #expect(error.description.contains("isotropic"))
        }
    }
}

/// The command: exit codes, gates, one-line errors.
@Suite(.serialized) struct FingerprintCLITests {
    static let fixtures = FingerprintTests.fixtures

    static func oneLineError(_ r: CLI.Result, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status == 2, "exit \(r.status): \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.split(separator: "\n").count == 1 && r.stderr.contains(fragment), "\(r.stderr)", sourceLocation: sourceLocation)
    }

    @Test func writeCheckAndGate() throws {
        let dir = try CLI.temporaryDirectory()
        let fp = dir + "/minilm.fp"
        let w = try CLI.run(["fingerprint", FingerprintTests.minilmPath, "--write", fp, "--name", "all-MiniLM-L6-v2", "--quiet"])
        #expect(w.status == 0, "\(w.stderr)")
        let same = try CLI.run(["fingerprint", "--check", fp, Self.fixtures + "minilm-heldout.npy", "--require", "same_model==yes", "--json", dir + "/same.json", "--quiet"])
        #expect(same.status == 0, "\(same.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/same.json"))) as! [String: Any]
        let metrics = json["metrics"] as! [String: Any]
        #expect(metrics["same_model"] as? Bool == true && (metrics["same_model_score"] as! Double) > 0.3)
        #expect((json["verdict"] as! [String: Any])["question"] as? String == "Do these vectors come from 'all-MiniLM-L6-v2'?")
        let other = try CLI.run(["fingerprint", "--check", fp, Self.fixtures + "e5-heldout.npy", "--require", "same_model==yes", "--quiet"])
        #expect(other.status == 1)
        let mixed = try CLI.run(["fingerprint", "--check", fp, Self.fixtures + "minilm-heldout.npy", "--mixed", "--require", "mixed_share<=0", "--quiet"])
        #expect(mixed.status == 0, "\(mixed.stderr)")
    }

    /// --on-invalid drop: the rows listed by --mixed are the file's row numbers, not positions after the drop.
    @Test func mixedRowsKeepTheFileRowNumbersAfterADrop() throws {
        let dir = try CLI.temporaryDirectory()
        let fp = dir + "/minilm.fp"
        _ = try CLI.run(["fingerprint", FingerprintTests.minilmPath, "--write", fp, "--quiet"])
        let own = try EmbeddingReader.read(Self.fixtures + "minilm-heldout.npy").matrix
        let other = try EmbeddingReader.read(Self.fixtures + "e5-heldout.npy").matrix
        var rows = (0..<100).map { own.rowArray($0) } + (0..<20).map { other.rowArray($0) }
        rows[5] = [Float](repeating: .nan, count: 384)
        try CLI.writeNpy(rows, to: dir + "/mix.npy")
        let r = try CLI.run(["fingerprint", "--check", fp, dir + "/mix.npy", "--mixed", "--on-invalid", "drop", "--json", dir + "/r.json", "--json-tables", "all", "--quiet"])
        #expect(r.status == 0, "\(r.stderr)")
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/r.json"))) as! [String: Any]
        let table = (json["tables"] as! [String: Any])["mixed_rows"] as! [String: Any]
        let listed = (table["rows"] as! [[Any]]).map { $0[0] as! Int }
        #expect(listed == Array(100..<120))
        #expect((json["metrics"] as! [String: Any])["mixed_rows"] as? Int == 20)
    }

    @Test func hostileInputsExitTwo() throws {
        let dir = try CLI.temporaryDirectory()
        let fp = dir + "/minilm.fp"
        _ = try CLI.run(["fingerprint", FingerprintTests.minilmPath, "--write", fp, "--quiet"])
        var bytes = try Data(contentsOf: URL(fileURLWithPath: fp))
        bytes[bytes.count - 9] ^= 0x40
        try bytes.write(to: URL(fileURLWithPath: dir + "/tampered.fp"))
        Self.oneLineError(try CLI.run(["fingerprint", "--check", dir + "/tampered.fp", Self.fixtures + "minilm-heldout.npy"]), "checksum mismatch")
        try bytes.prefix(4000).write(to: URL(fileURLWithPath: dir + "/truncated.fp"))
        Self.oneLineError(try CLI.run(["fingerprint", "--check", dir + "/truncated.fp", Self.fixtures + "minilm-heldout.npy"]), "truncated.fp")
        // 20 rows, a NaN row, the wrong dimension.
        let rows = try EmbeddingReader.read(Self.fixtures + "minilm-heldout.npy").matrix
        try CLI.writeNpy((0..<20).map { rows.rowArray($0) }, to: dir + "/tiny.npy")
        Self.oneLineError(try CLI.run(["fingerprint", "--check", fp, dir + "/tiny.npy"]), "at least 50")
        var withNaN = (0..<100).map { rows.rowArray($0) }
        withNaN[7][3] = .nan
        try CLI.writeNpy(withNaN, to: dir + "/nan.npy")
        Self.oneLineError(try CLI.run(["fingerprint", "--check", fp, dir + "/nan.npy"]), "nan.npy")
        try CLI.writeNpy((0..<100).map { Array(rows.rowArray($0).prefix(100)) }, to: dir + "/dims.npy")
        Self.oneLineError(try CLI.run(["fingerprint", "--check", fp, dir + "/dims.npy"]), "100 dimensions")
        // Options.
        Self.oneLineError(try CLI.run(["fingerprint", Self.fixtures + "minilm-heldout.npy", "--mixed", "--write", dir + "/x.fp"]), "--mixed needs --check")
        Self.oneLineError(try CLI.run(["fingerprint", Self.fixtures + "minilm-heldout.npy"]), "--write")
        Self.oneLineError(try CLI.run(["fingerprint", Self.fixtures + "minilm-heldout.npy", "--write", dir + "/x.fp", "--directions", "0"]), "--directions")
        Self.oneLineError(try CLI.run(["fingerprint", Self.fixtures + "minilm-heldout.npy", "--write", dir + "/x.fp", "--directions", "385"]), "1…384")
        #expect(!FileManager.default.fileExists(atPath: dir + "/x.fp"))
    }
}

private extension Data {
    func replacing(_ a: Data, with b: Data) -> Data {
        var out = self
        if let r = out.range(of: a) { out.replaceSubrange(r, with: b) }
        return out
    }
}
