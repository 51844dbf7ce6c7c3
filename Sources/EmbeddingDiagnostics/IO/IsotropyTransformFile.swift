import Foundation

/// Saving and loading a fitted `IsotropyTransform`: `T.json` (steps, means, metadata) plus one
/// `T.<k>.npy` per step matrix — so users whiten queries and corpus with the same fit.
extension IsotropyTransform {
    /// The file `save(to: jsonPath)` writes step `k`'s matrix to: `T.<k>.npy` beside `T.json`
    /// (a front end claims these names before the analysis, with its other outputs).
    public static func matrixPath(savedTo jsonPath: String, step k: Int) -> String {
        let base = jsonPath.hasSuffix(".json") ? String(jsonPath.dropLast(5)) : jsonPath
        return base + ".\(k).npy"
    }

    public func save(to jsonPath: String, fittedOn source: Source?, seed: UInt64? = nil) throws {
        var steps: [JSONValue] = []
        for (k, s) in self.steps.enumerated() {
            var o = JSONObject()
            o["step"] = .string(s.step)
            o["components"] = s.components.map { .int($0) } ?? .null
            o["mean"] = s.mean.map { .array($0.map { .double(Double($0)) }) } ?? .null
            if let m = s.matrix {
                let file = Self.matrixPath(savedTo: jsonPath, step: k)
                try EmbeddingWriter.writeNpy(m, to: file)
                o["matrix"] = .string(URL(fileURLWithPath: file).lastPathComponent)
                o["matrix_shape"] = .array([.int(m.rows), .int(m.cols)])
                o["matrix_sha256"] = .string(try Checksum.sha256(ofFile: AtomicFile.currentPath(of: file)))
            } else {
                o["matrix"] = .null
            }
            steps.append(.object(o))
        }
        var root = JSONObject()
        root["tool"] = .string("embdiag")
        root["version"] = .string(embdiagVersion)
        root["kind"] = .string("isotropy-transform")
        root["input_dimension"] = .int(inputDimension)
        if let source {
            var i = JSONObject()
            i["path"] = .string(source.path)
            i["rows"] = .int(source.rows)
            i["dim"] = .int(source.dim)
            i["sha256"] = source.sha256.map { .string($0) } ?? .null
            root["fitted_on"] = .object(i)
        }
        if let seed { root["seed"] = .int(Int(truncatingIfNeeded: seed)) }
        root["steps"] = .array(steps)
        // Sealed (`JSONSeal`) over the fields as this text reads back: an edited mean, a dropped,
        // doubled or renamed step is refused by `load`.
        let unsealed = JSONValue.object(root).serialized(indent: 0)
        guard let asRead = try JSONSerialization.jsonObject(with: Data(unsealed.utf8)) as? [String: Any] else {
            throw EmbdiagError.usage("\(jsonPath): the transform did not serialise to a JSON object")
        }
        root["transform_sha256"] = .string(JSONSeal.checksum(asRead, field: "transform_sha256"))
        try AtomicFile.write(JSONValue.object(root).serialized(indent: 0) + "\n", to: jsonPath)
    }

    public static func load(_ jsonPath: String) throws -> IsotropyTransform {
        guard let data = FileManager.default.contents(atPath: jsonPath) else { throw EmbdiagError.io(jsonPath, "cannot read the transform file") }
        guard let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any], root["kind"] as? String == "isotropy-transform",
              let dim = root["input_dimension"] as? Int, let steps = root["steps"] as? [[String: Any]] else {
            throw EmbdiagError.malformed(jsonPath, "not an embdiag isotropy transform (written by \(Setting.saveTransform))")
        }
        try JSONSeal.verify(root, field: "transform_sha256", path: jsonPath, required: true, what: "the transform (steps, means, matrices' names)",
                            again: "anisotropy \(Setting.saveTransform)")
        let folder = URL(fileURLWithPath: jsonPath).deletingLastPathComponent().path
        var fitted: [FittedIsotropyStep] = []
        var currentDim = dim
        for (k, s) in steps.enumerated() {
            guard let name = s["step"] as? String, ["center", "abtt", "whiten", "normalize"].contains(name) else {
                throw EmbdiagError.malformed(jsonPath, "step \(k) has an unknown kind")
            }
            var step = FittedIsotropyStep(step: name, components: s["components"] as? Int)
            if let mean = s["mean"] as? [Double] {
                guard mean.count == currentDim else { throw EmbdiagError.malformed(jsonPath, "step \(k): mean has \(mean.count) values, expected \(currentDim)") }
                step.mean = mean.map { Float($0) }
            }
            if let file = s["matrix"] as? String {
                // Written as T.<k>.npy beside the JSON: a name that leaves the folder is an edit.
                guard !file.contains("/"), file != "..", !file.isEmpty else {
                    throw EmbdiagError.malformed(jsonPath, "step \(k): matrix '\(file)' is not a file name beside the transform")
                }
                let path = folder + "/" + file
                let m = try NpyReader.read(path).matrix
                guard m.rows == currentDim else { throw EmbdiagError.malformed(path, "step \(k): matrix has \(m.rows) rows, expected \(currentDim)") }
                if let expected = s["matrix_sha256"] as? String, try Checksum.sha256(ofFile: path) != expected {
                    throw EmbdiagError.malformed(path, "checksum differs from the one recorded in \(jsonPath)")
                }
                step.matrix = m
                currentDim = m.cols
            }
            fitted.append(step)
        }
        return IsotropyTransform(steps: fitted, inputDimension: dim)
    }
}
