import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// `--fit` parsing, the adapters' gradients, training determinism, mapping files of adapters.
@Suite struct AdapterTests {
    static var fixture: String { CLI.fixtures.appendingPathComponent("crosscheck/adapters").path }

    // MARK: --fit parsing

    @Test func fitValuesParseToTheirFamily() throws {
        #expect(try MappingFit(parsing: "low-rank") == .lowRank(MappingFamily.defaultLowRank))
        #expect(try MappingFit(parsing: "low-rank:8") == .lowRank(8))
        #expect(try MappingFit(parsing: " MLP:32 ") == .mlp(32))
        #expect(try MappingFit(parsing: "mlp") == .mlp(MappingFamily.defaultHiddenWidth))
        #expect(try MappingFit(parsing: "auto") == .auto)
        #expect(try MappingFit(parsing: "ridge:auto") == .ridgeAuto)
        #expect(try MappingFit(parsing: "ridgecv") == .ridgeAuto)
        #expect(try MappingFit(parsing: "ridge:0.5") == .ridge(0.5))
        #expect(try MappingFit(parsing: "procrustes:scaled") == .procrustesScaled)
        #expect(try MappingFit(parsing: "lstsq") == .linear)
        // Every family's own name parses back to it (adding a family keeps this true).
        for family in MappingFamily.allCases { #expect(try MappingFit(parsing: family.rawValue).family == family) }
        #expect(MappingFit.lowRank(8).description == "low-rank:8" && MappingFit.mlp(3).description == "mlp:3")
    }

    @Test(arguments: ["low-rank:0", "low-rank:-1", "low-rank:abc", "low-rank:1.5", "low-rank:", "mlp:0", "mlp:abc",
                      "mlp:-3", "mlp:99999999999999999999", "mlp:100000", "unknown", "procrustes:2", "auto:3", "ridge:0",
                      "ridge:nan", "", "low-rank:8:2"])
    func badFitValuesAreRefused(_ text: String) {
        #expect(throws: EmbdiagError.self) { try MappingFit(parsing: text) }
    }

    // MARK: gradients

    /// Analytic gradients against central differences of the loss (Float64, tiny problem).
    @Test(arguments: [AdapterMap.Architecture.lowRank(rank: 3, diagonal: true), .lowRank(rank: 2, diagonal: false), .mlp(hidden: 5)])
    func gradientsMatchFiniteDifferences(_ arch: AdapterMap.Architecture) {
        let dx = 4, dy: Int
        if case .lowRank(_, false) = arch { dy = 3 } else { dy = 4 }
        var rng = SeededGenerator(seed: 3)
        let n = 7
        let x = (0..<(n * dx)).map { _ in rng.nextGaussian() }, y = (0..<(n * dy)).map { _ in rng.nextGaussian() }
        // Random (non-zero) parameters so every gradient path is exercised.
        let params = AdapterMap.layout(arch, input: dx, output: dy).map {
            AdapterParameter(name: $0.name, rows: $0.rows, cols: $0.cols, values: (0..<($0.rows * $0.cols)).map { _ in 0.5 * rng.nextGaussian() })
        }
        let net = AdapterNetwork(architecture: arch, dx: dx, dy: dy)
        let grads = net.gradients(params, x, y, rows: n)
        let h = 1e-6
        for p in params.indices {
            for t in params[p].values.indices {
                var plus = params, minus = params
                plus[p].values[t] += h
                minus[p].values[t] -= h
                let numeric = (net.loss(plus, x, y, rows: n) - net.loss(minus, x, y, rows: n)) / (2 * h)
                #expect(abs(numeric - grads[p][t]) <= 1e-6 + 1e-5 * abs(numeric), "\(arch) \(params[p].name)[\(t)]: \(numeric) vs \(grads[p][t])")
            }
        }
    }

    // MARK: training

    static func fixtureMatrices(old: String = "old.npy") throws -> (x: Matrix, y: Matrix) {
        (try EmbeddingReader.read(fixture + "/new.npy").matrix, try EmbeddingReader.read(fixture + "/" + old).matrix)
    }

    @Test func trainingIsRepeatableAndKeepsTheBestValidationStep() throws {
        let (x, y) = try Self.fixtureMatrices()
        let split = try AdapterTraining.validationSplit(count: 160, seed: 42)
        #expect(split.validation.count == 32 && split.fit.count == 128 && Set(split.fit).isDisjoint(with: split.validation))
        var settings = AdapterTrainingSettings()
        settings.maxSteps = 300
        let a = try AdapterTraining.train(.mlp(8), x: x, y: y, fit: split.fit, validation: split.validation, seed: 42, settings: settings)
        let b = try AdapterTraining.train(.mlp(8), x: x, y: y, fit: split.fit, validation: split.validation, seed: 42, settings: settings)
        #expect(a.parameters == b.parameters)
        let t = try #require(a.training)
        #expect(t.validationLoss < t.initialValidationLoss, "training did not lower the validation loss")
        #expect(t.bestStep >= 1 && t.bestStep <= t.steps)
        // Another seed starts elsewhere.
        let c = try AdapterTraining.train(.mlp(8), x: x, y: y, fit: split.fit, validation: split.validation, seed: 43, settings: settings)
        #expect(c.parameters != a.parameters)
    }

    @Test func adapterRefusesTooFewRowsAndTooLargeARank() throws {
        #expect(throws: EmbdiagError.self) { try AdapterTraining.validationSplit(count: 9, seed: 1) }
        let (x, y) = try Self.fixtureMatrices()
        #expect(throws: EmbdiagError.self) { try AdapterTraining.train(.lowRank(25), x: x, y: y, fit: Array(0..<20), validation: [20, 21], seed: 1) }
        let (_, y16) = try Self.fixtureMatrices(old: "old16.npy")
        #expect(throws: EmbdiagError.self) { try AdapterTraining.train(.lowRank(17), x: x, y: y16, fit: Array(0..<20), validation: [20, 21], seed: 1) }
        _ = try AdapterTraining.architecture(.lowRank(16), input: 24, output: 16)
    }

    /// The adapter's Float32 `apply` is the Float64 forward pass up to Float32 rounding.
    @Test func applyMatchesTheTrainingForwardPass() throws {
        let (x, y) = try Self.fixtureMatrices(old: "old16.npy")
        for arch in [AdapterMap.Architecture.lowRank(rank: 4, diagonal: false), .mlp(hidden: 6)] {
            var rng = SeededGenerator(seed: 9)
            let params = AdapterMap.layout(arch, input: 24, output: 16).map {
                AdapterParameter(name: $0.name, rows: $0.rows, cols: $0.cols, values: (0..<($0.rows * $0.cols)).map { _ in 0.3 * rng.nextGaussian() })
            }
            let map = AdapterMap(architecture: arch, inputDimension: 24, outputDimension: 16, parameters: params)
            let out = try map.apply(x)
            let reference = AdapterNetwork(architecture: arch, dx: 24, dy: 16).forward(params, x.values.map(Double.init), rows: x.rows).out
            let scale = reference.map(abs).max()!
            #expect(zip(out.values, reference).allSatisfy { abs(Double($0) - $1) <= 1e-5 * scale }, "\(arch)")
            _ = y
        }
    }

    // MARK: mapping files

    static func trainedMap(_ fit: MappingFit, old: String = "old.npy") throws -> AdapterMap {
        let (x, y) = try fixtureMatrices(old: old)
        var settings = AdapterTrainingSettings()
        settings.maxSteps = 50
        let split = try AdapterTraining.validationSplit(count: 160, seed: 42)
        return try AdapterTraining.train(fit, x: x, y: y, fit: split.fit, validation: split.validation, seed: 42, settings: settings)
    }

    @Test(arguments: [MappingFit.lowRank(4), .mlp(6)])
    func adapterFilesRoundTripBitForBit(_ fit: MappingFit) throws {
        for old in ["old.npy", "old16.npy"] {
            let map = try Self.trainedMap(fit, old: old)
            let dir = try CLI.temporaryDirectory()
            try MappingFile.write(.adapter(map), to: dir + "/a.npy", extra: ["seed": 42])
            let back = try #require(try MappingFile.read(dir + "/a.npy").adapter)
            #expect(back.parameters == map.parameters && back.architecture == map.architecture)
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/a.json"))) as! [String: Any]
            #expect(json["format_version"] as? Int == 2 && json["kind"] as? String == "adapter" && json["fit"] as? String == fit.description)
        }
    }

    /// Edited, truncated, swapped or future-version adapter files are refused (exit 2 in `map`).
    @Test func tamperedAdapterFilesAreRefused() throws {
        let map = try Self.trainedMap(.mlp(6))
        let dir = try CLI.temporaryDirectory()
        let npy = dir + "/a.npy", meta = dir + "/a.json"
        try MappingFile.write(.adapter(map), to: npy, extra: [:])
        let goodNpy = try Data(contentsOf: URL(fileURLWithPath: npy)), goodMeta = try Data(contentsOf: URL(fileURLWithPath: meta))
        func restore() throws { try goodNpy.write(to: URL(fileURLWithPath: npy)); try goodMeta.write(to: URL(fileURLWithPath: meta)) }
        func editJSON(_ edit: (inout [String: Any]) -> Void) throws {
            var j = try JSONSerialization.jsonObject(with: goodMeta) as! [String: Any]
            edit(&j)
            try JSONSerialization.data(withJSONObject: j).write(to: URL(fileURLWithPath: meta))
        }
        var cases: [(String, () throws -> Void)] = [
            ("flipped value byte", { var d = goodNpy; d[d.count - 3] ^= 0x40; try d.write(to: URL(fileURLWithPath: npy)) }),
            ("truncated .npy", { try goodNpy.prefix(goodNpy.count - 8).write(to: URL(fileURLWithPath: npy)) }),
            ("truncated header", { try goodNpy.prefix(40).write(to: URL(fileURLWithPath: npy)) }),
            ("empty .npy", { try Data().write(to: URL(fileURLWithPath: npy)) }),
            ("truncated JSON", { try goodMeta.prefix(goodMeta.count / 2).write(to: URL(fileURLWithPath: meta)) }),
            ("hidden width edited", { try editJSON { $0["hidden"] = 5 } }),
            ("architecture edited", { try editJSON { $0["architecture"] = "low_rank"; $0["rank"] = 6; $0["diagonal"] = true } }),
            ("layout checksum removed", { try editJSON { $0.removeValue(forKey: "layout_sha256") } }),
            ("parameter checksum removed", { try editJSON { $0.removeValue(forKey: "parameters_sha256") } }),
            ("future format version", { try editJSON { $0["format_version"] = 3 } }),
            ("format version 1 on an adapter", { try editJSON { $0["format_version"] = 1 } }),
            ("kind linear_map on adapter parameters", { try editJSON { $0["kind"] = "linear_map" } }),
            ("block offsets swapped", { try editJSON { var p = $0["parameters"] as! [[String: Any]]; p.swapAt(1, 3); $0["parameters"] = p } }),
            ("input dimension edited", { try editJSON { $0["input_dim"] = 23 } }),
        ]
        // A NaN written with a matching checksum (someone re-signed an edited file) is still refused.
        cases.append(("NaN re-signed", {
            var d = goodNpy
            let nan = Double.nan.bitPattern.littleEndian
            withUnsafeBytes(of: nan) { d.replaceSubrange((d.count - 8)..<d.count, with: $0) }
            try d.write(to: URL(fileURLWithPath: npy))
            try editJSON { $0["parameters_sha256"] = Checksum.sha256(d) }
        }))
        for (name, damage) in cases {
            try restore()
            try damage()
            #expect(throws: EmbdiagError.self, "\(name)") { try MappingFile.read(npy) }
            let r = try CLI.run(["map", "--mapping", npy, Self.fixture + "/new.npy", dir + "/out.npy"])
            #expect(r.status == 2, "\(name): exit \(r.status)")
            #expect(r.stderr.split(separator: "\n").count == 1, "\(name): \(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dir + "/out.npy"), "\(name): output written")
        }
        try restore()
        #expect(try MappingFile.read(npy).adapter?.parameters == map.parameters)
    }

    /// A linear map written before format versions existed (no format_version) is still read.
    @Test func versionOneFilesWithoutAVersionFieldStillRead() throws {
        let map = LinearMap(inputDimension: 2, outputDimension: 2, weights: [1, 0.5, -0.25, 2], bias: [0.1, -0.2], fit: .linear)
        let dir = try CLI.temporaryDirectory()
        try MappingFile.write(map, to: dir + "/m.npy", extra: [:])
        var j = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/m.json"))) as! [String: Any]
        #expect(j["format_version"] as? Int == 1)
        j.removeValue(forKey: "format_version")
        // Dropping a field is an edit the seal sees; resealed, the version-less file reads as version 1.
        try JSONSerialization.data(withJSONObject: j).write(to: URL(fileURLWithPath: dir + "/m.json"))
        #expect(throws: EmbdiagError.self) { try MappingFile.read(dir + "/m.npy") }
        j["metadata_sha256"] = JSONSeal.checksum(j, field: "metadata_sha256")
        try JSONSerialization.data(withJSONObject: j).write(to: URL(fileURLWithPath: dir + "/m.json"))
        #expect(try MappingFile.read(dir + "/m.npy").linearMap?.weights == map.weights)
        // An embdiag-written file without the seal is not read unchecked.
        j.removeValue(forKey: "metadata_sha256")
        try JSONSerialization.data(withJSONObject: j).write(to: URL(fileURLWithPath: dir + "/m.json"))
        #expect(throws: EmbdiagError.self) { try MappingFile.read(dir + "/m.npy") }
        // A linear_map whose fit names an adapter family was edited (resealed: the fit check itself refuses it).
        j["fit"] = "mlp"
        j["metadata_sha256"] = JSONSeal.checksum(j, field: "metadata_sha256")
        try JSONSerialization.data(withJSONObject: j).write(to: URL(fileURLWithPath: dir + "/m.json"))
        #expect(throws: EmbdiagError.self) { try MappingFile.read(dir + "/m.npy") }
    }
}
