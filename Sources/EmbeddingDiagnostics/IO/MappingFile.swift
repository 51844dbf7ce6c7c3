import Foundation

/// A mapping saved by `embdiag compat --save-mapping OUT.npy`: the weights as .npy plus OUT.json
/// (kind, fit, dimensions, bias, seed, inputs). `embdiag map` reads both.
/// Format versions (`format_version` in the JSON): 1 = `kind` "linear_map" (files without the
/// field are version 1 too); 2 = `kind` "adapter" (MappingFile+Adapter.swift). A newer version is
/// refused rather than guessed at.
public enum MappingFile {
    /// The newest `format_version` this build reads and writes.
    public static let formatVersion = 2

    /// Writes any fitted mapping (closed-form map: version 1; adapter: version 2).
    public static func write(_ mapping: FittedMapping, to path: String, extra: [String: Any]) throws {
        switch mapping {
        case .linear(let m): try write(m, to: path, extra: extra)
        case .adapter(let a): try writeAdapter(a, to: path, extra: extra)
        }
    }

    public static func metadataPath(_ npyPath: String) -> String {
        // String surgery, not URL: a relative path stays relative (reports must not record the
        // absolute path of the machine that wrote them).
        let ext = URL(fileURLWithPath: npyPath).pathExtension
        return ext.isEmpty ? npyPath + ".json" : String(npyPath.dropLast(ext.count)) + "json"
    }

    public static func write(_ map: LinearMap, to path: String, extra: [String: Any]) throws {
        guard URL(fileURLWithPath: path).pathExtension.lowercased() == "npy" else {
            throw EmbdiagError.usage("\(path): \(Setting.saveMapping) writes a .npy file (plus its .json metadata)")
        }
        // Float64: the map was fitted in Float64 and must round-trip exactly.
        try NpyFloat64.write(map.weights, rows: map.inputDimension, cols: map.outputDimension, to: path)
        var metadata = extra
        metadata["weights_sha256"] = try Checksum.sha256(ofFile: AtomicFile.currentPath(of: path))
        metadata["kind"] = "linear_map"
        metadata["format_version"] = 1
        metadata["fit"] = map.fit.name
        if let l = map.lambda { metadata["lambda"] = l }
        if let r = map.rank { metadata["rank"] = r }
        if let c = map.completedDirections { metadata["completed_directions"] = c }
        if let s = map.scale { metadata["scale"] = s }
        metadata["input_dim"] = map.inputDimension
        metadata["output_dim"] = map.outputDimension
        metadata["bias"] = map.bias
        // Over the values as the JSON text gives them back: Foundation's JSON number parsing
        // does not always return the written Double to the last bit.
        let biasAsRead = (try? JSONSerialization.jsonObject(with: JSONSerialization.data(withJSONObject: map.bias)) as? [Any])?
            .compactMap { ($0 as? NSNumber)?.doubleValue } ?? map.bias
        metadata["bias_sha256"] = biasChecksum(biasAsRead)
        metadata["formula"] = "y = x · W + bias (W = the .npy matrix, input_dim × output_dim)"
        metadata["tool"] = "embdiag"
        metadata["version"] = embdiagVersion
        try AtomicFile.write(try sealedMetadata(metadata), to: metadataPath(path))
    }

    /// The metadata as JSON with `metadata_sha256` (`JSONSeal`): every other field (fit, scale,
    /// rank, formula, inputs, seed…) as the JSON text gives them back. The weights' and the bias's
    /// own checksums cover the numbers applied; this one covers what a report says about them,
    /// so that an edited `fit` or `scale` is not passed on as the fit's.
    static func sealedMetadata(_ metadata: [String: Any]) throws -> Data {
        try JSONSeal.sealed(metadata, field: "metadata_sha256")
    }

    /// `metadata_sha256` matches the fields as read. A file embdiag wrote (it records
    /// `weights_sha256` or `parameters_sha256`) must have it — one without it was written before
    /// mappings were sealed, or edited, and is refused rather than read unchecked; a mapping
    /// written by hand has none of these checksums and is applied as given.
    static func verifyMetadata(_ json: [String: Any], meta: String) throws {
        let written = json["weights_sha256"] != nil || json["parameters_sha256"] != nil
        try JSONSeal.verify(json, field: "metadata_sha256", path: meta, required: written,
                            what: "the mapping (fit, scale, formula, …)", again: "compat \(Setting.saveMapping)")
    }

    /// A JSON integer (no fraction, not a boolean) that fits an Int, else nil.
    static func jsonInteger(_ value: Any?) -> Int? {
        guard let n = value as? NSNumber, !["c", "B"].contains(String(cString: n.objCType)) else { return nil }
        let d = n.doubleValue
        guard d.isFinite, d.rounded() == d, abs(d) <= 9_007_199_254_740_992 else { return nil }
        return Int(d)
    }

    /// SHA-256 of the bias as little-endian Float64 values (what `bias_sha256` records).
    static func biasChecksum(_ bias: [Double]) -> String {
        var bytes = Data(capacity: bias.count * 8)
        for v in bias { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        return Checksum.sha256(bytes)
    }

    /// Reads the weights (.npy) and the bias from the JSON beside it (no JSON → zero bias is NOT
    /// assumed: the JSON is required, so a stray matrix is not applied by mistake).
    public static func read(_ path: String) throws -> FittedMapping {
        let meta = metadataPath(path)
        guard FileManager.default.fileExists(atPath: meta) else {
            throw EmbdiagError.io(path, "no mapping metadata \(meta) beside it (written by embdiag compat \(Setting.saveMapping))")
        }
        let data = try Data(contentsOf: URL(fileURLWithPath: meta))
        let parsed: Any
        do { parsed = try JSONSerialization.jsonObject(with: data) } catch {
            // Python's json.dump writes NaN and Infinity, which JSON does not allow.
            throw EmbdiagError.malformed(meta, "not valid JSON (a value such as NaN or Infinity, which JSON does not allow, or broken syntax)")
        }
        guard let json = parsed as? [String: Any] else {
            throw EmbdiagError.malformed(meta, "not an embdiag mapping (not a JSON object)")
        }
        if let v = json["format_version"] {
            // jsonInteger, not `as? Int` with `!(v is Bool)`: on Linux a JSON 1 is also a Bool,
            // which refused every version-1 file.
            guard let version = jsonInteger(v), version >= 1 else {
                throw EmbdiagError.malformed(meta, "format_version must be a whole number ≥ 1")
            }
            guard version <= formatVersion else {
                throw EmbdiagError.malformed(meta, "mapping format version \(version) is newer than this embdiag reads (\(formatVersion)); upgrade embdiag")
            }
        }
        switch json["kind"] as? String {
        case "linear_map": return .linear(try readLinear(path, meta: meta, json: json))
        case "adapter": return .adapter(try readAdapter(path, meta: meta, json: json))
        default: throw EmbdiagError.malformed(meta, "not an embdiag mapping (kind linear_map or adapter expected)")
        }
    }

    /// A version-1 closed-form map: weights .npy, bias in the JSON.
    static func readLinear(_ path: String, meta: String, json: [String: Any]) throws -> LinearMap {
        if let v = jsonInteger(json["format_version"]), v != 1 {
            throw EmbdiagError.malformed(meta, "kind linear_map is format version 1, not \(v)")
        }
        let weights = try NpyFloat64.read(path)
        guard weights.rows >= 1, weights.cols >= 1 else {
            throw EmbdiagError.invalid(path, "the mapping matrix is \(weights.rows) × \(weights.cols); a mapping needs at least one input and one output dimension")
        }
        // Recorded dimensions, when present, are integers that agree with the matrix (a value of
        // another type is an edit, not something to skip over).
        for key in ["input_dim", "output_dim"] where json[key] != nil && Self.jsonInteger(json[key]) == nil {
            throw EmbdiagError.malformed(meta, "\(key) is not an integer")
        }
        let inDim = Self.jsonInteger(json["input_dim"]) ?? weights.rows, outDim = Self.jsonInteger(json["output_dim"]) ?? weights.cols
        guard inDim == weights.rows, outDim == weights.cols else {
            throw EmbdiagError.mismatch(path, "matrix is \(weights.rows) × \(weights.cols) but \(meta) says \(inDim) × \(outDim)")
        }
        // Every bias entry is a JSON number: a string or a boolean among them is refused, not
        // dropped (dropping one shifted every later value onto the wrong output dimension).
        let rawBias = json["bias"] as? [Any] ?? []
        var bias: [Double] = []
        for (i, v) in rawBias.enumerated() {
            guard let n = v as? NSNumber, !["c", "B"].contains(String(cString: n.objCType)) else {
                throw EmbdiagError.malformed(meta, "bias value \(i) is not a number")
            }
            bias.append(n.doubleValue)
        }
        guard bias.count == outDim else {
            throw EmbdiagError.malformed(meta, "bias has \(bias.count) values for \(outDim) output dimensions")
        }
        // A mapping with NaN/Inf would write an all-NaN matrix: refuse it, and a weights file that
        // is not the one the fit wrote (checksum recorded by --save-mapping).
        if let recorded = json["weights_sha256"] as? String {
            let actual = try Checksum.sha256(ofFile: path)
            guard actual == recorded else {
                throw EmbdiagError.mismatch(path, "SHA-256 \(actual.prefix(12))… differs from the \(recorded.prefix(12))… recorded in \(meta): the weights were changed after the fit")
            }
        }
        let badRows = (0..<weights.rows).filter { r in (0..<weights.cols).contains { !weights.values[r * weights.cols + $0].isFinite } }
        guard badRows.isEmpty else {
            throw EmbdiagError.invalid(path, "mapping weights have NaN/Inf in row(s) \(ValidationSummary.describe(badRows)) (0-based input dimensions)")
        }
        // The bias lives in the JSON: its own checksum (over the Float64 values) catches an edit.
        if let recorded = json["bias_sha256"] as? String {
            guard biasChecksum(bias) == recorded else {
                throw EmbdiagError.mismatch(meta, "the bias differs from the one the fit wrote (bias_sha256): the mapping was edited after the fit")
            }
        } else if json["weights_sha256"] != nil {
            throw EmbdiagError.malformed(meta, "no bias_sha256: written by an older embdiag or edited; re-run compat \(Setting.saveMapping)")
        }
        try verifyMetadata(json, meta: meta)
        if let i = bias.firstIndex(where: { !$0.isFinite }) {
            throw EmbdiagError.invalid(meta, "bias value \(i) is \(bias[i]), not a finite number")
        }
        let fitName = json["fit"] as? String ?? "linear"
        let fit: MappingFit = fitName == "ridge" ? .ridge((json["lambda"] as? Double) ?? MappingFit.defaultRidgeLambda)
            : ((try? MappingFit(parsing: fitName)) ?? .linear)
        guard !fit.isAdapter, fit != .auto, fit != .none else {
            throw EmbdiagError.malformed(meta, "kind linear_map cannot hold a '\(fitName)' fit: the metadata was edited")
        }
        return LinearMap(inputDimension: inDim, outputDimension: outDim, weights: weights.values, bias: bias, fit: fit)
    }
}
