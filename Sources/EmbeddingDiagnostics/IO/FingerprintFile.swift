import Foundation

/// The on-disk form of a `ModelFingerprint` (`embdiag fingerprint --write model.fp`): a safetensors
/// file like the partial states (Guides/Scale.md, "State files"), whose `__metadata__` holds
/// `embdiag_fingerprint` (a JSON header: format, format_version, tool, tool_version, model_name,
/// rows, the sample's source with its SHA-256) and `embdiag_sha256`, and whose F64 tensors are the
/// statistics: mean, scale, spectrum (d each), directions (k·d), norm_quantiles and scalars.
/// Any safetensors reader opens it (`safetensors.numpy.load_file`).
///
/// The file verifies itself: `embdiag_sha256` is the SHA-256 of the whole file with its 64 digits
/// read as "0"s, checked before anything else; the dimension and the number of directions come
/// from the tensors' sizes, and every value must be finite and in its domain.
public enum FingerprintFile {
    public static let formatName = "embdiag-fingerprint"
    public static let formatVersion = 1
    static let headerKey = "embdiag_fingerprint"
    /// Headers above this are refused before anything is allocated.
    static let maximumHeaderBytes = 1 << 20
    static let scalarNames = ["second_moment_trace", "traceless_strength", "mean_cosine", "row_score_median", "row_score_q999", "row_score_threshold"]

    struct Header: Codable {
        var format: String
        var formatVersion: Int
        var tool: String
        var toolVersion: String
        var modelName: String?
        var rows: Int
        var source: Source
        enum CodingKeys: String, CodingKey {
            case format, formatVersion = "format_version", tool, toolVersion = "tool_version", modelName = "model_name", rows, source
        }
    }

    /// The file's bytes.
    ///
    /// - Complexity: O(k·d).
    public static func encode(_ f: ModelFingerprint) throws -> Data {
        let header = Header(format: formatName, formatVersion: formatVersion, tool: "embdiag", toolVersion: embdiagVersion,
                            modelName: f.modelName, rows: f.rows, source: f.source)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let headerJSON = String(decoding: try encoder.encode(header), as: UTF8.self)
        let tensors: [(String, [Double])] = [
            ("directions", f.directions), ("mean", f.mean), ("norm_quantiles", f.normQuantiles), ("scale", f.scale),
            ("scalars", [f.secondMomentTrace, f.tracelessStrength, f.meanCosine, f.rowScoreMedian, f.rowScoreQ999, f.rowScoreThreshold]),
            ("spectrum", f.spectrum),
        ]
        var outer = "{\"__metadata__\":{\"\(headerKey)\":\(JSONValue.quote(headerJSON)),\"\(PartialStateFile.checksumKey)\":\"\(PartialStateFile.checksumPlaceholder)\"}"
        var payload = Data()
        for (name, values) in tensors {
            let begin = payload.count
            for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { payload.append(contentsOf: $0) } }
            let shape = name == "directions" ? "[\(f.directionCount),\(f.dimension)]" : "[\(values.count)]"
            outer += ",\(JSONValue.quote(name)):{\"dtype\":\"F64\",\"shape\":\(shape),\"data_offsets\":[\(begin),\(payload.count)]}"
        }
        outer += "}"
        var headerBytes = Data(outer.utf8)
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }
        var out = Data()
        withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(headerBytes)
        out.append(payload)
        return PartialStateFile.seal(out)
    }

    /// Writes atomically (temporary file in the same folder, fsync, rename).
    public static func write(_ f: ModelFingerprint, to path: String) throws {
        try AtomicFile.write(try encode(f), to: path)
    }

    public static func read(_ path: String) throws -> ModelFingerprint {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw EmbdiagError.io(path, "cannot read fingerprint: \(error.localizedDescription)")
        }
        return try decode(data, path: path)
    }

    /// Parses and checks a fingerprint file.
    ///
    /// - Complexity: O(file size).
    public static func decode(_ input: Data, path: String?) throws -> ModelFingerprint {
        let data = input.startIndex == 0 ? input : Data(input)
        let notFingerprint = "not an embdiag fingerprint (write one with: embdiag fingerprint SAMPLE --write MODEL.fp)"
        guard data.count >= 8 else { throw EmbdiagError.malformed(path, "\(notFingerprint): too short") }
        let size = data.prefix(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard size <= UInt64(maximumHeaderBytes), Int(size) <= data.count - 8 else {
            throw EmbdiagError.malformed(path, "\(notFingerprint): header size \(size) beyond the file (truncated?)")
        }
        let headerData = data.subdata(in: 8..<(8 + Int(size)))
        guard let outer = try? JSONSerialization.jsonObject(with: headerData) as? [String: Any],
              let meta = outer["__metadata__"] as? [String: Any], let headerJSON = meta[headerKey] as? String else {
            throw EmbdiagError.malformed(path, "\(notFingerprint): no __metadata__.\(headerKey)")
        }
        struct Identity: Decodable {
            var format: String?
            var formatVersion: Int?
            enum CodingKeys: String, CodingKey { case format, formatVersion = "format_version" }
        }
        let identity = try? JSONDecoder().decode(Identity.self, from: Data(headerJSON.utf8))
        guard let identity, identity.format == formatName else {
            throw EmbdiagError.malformed(path, "\(notFingerprint): format '\(identity?.format ?? "missing")'")
        }
        guard identity.formatVersion == formatVersion else {
            throw EmbdiagError.mismatch(path, "fingerprint format version \(identity.formatVersion.map { String($0) } ?? "missing"); this embdiag reads version \(formatVersion) only (write the fingerprint again with this embdiag)")
        }
        guard let stored = meta[PartialStateFile.checksumKey] as? String else {
            throw EmbdiagError.malformed(path, "fingerprint has no checksum (\(PartialStateFile.checksumKey))")
        }
        let ranges = PartialStateFile.checksumRange(in: data, headerEnd: 8 + Int(size))
        guard ranges.count == 1, let range = ranges.first, String(decoding: data[range], as: UTF8.self) == stored,
              PartialStateFile.digest(data, blanking: range) == stored else {
            throw EmbdiagError.malformed(path, "checksum mismatch: the fingerprint was edited, truncated or damaged (write it again)")
        }
        guard meta.count == 2 else { throw EmbdiagError.malformed(path, "fingerprint metadata has entries other than \(headerKey) and \(PartialStateFile.checksumKey)") }
        let header: Header
        do { header = try JSONDecoder().decode(Header.self, from: Data(headerJSON.utf8)) } catch {
            throw EmbdiagError.malformed(path, "fingerprint header is malformed: \(error)")
        }
        let payloadStart = 8 + Int(size)
        var tensors: [String: (shape: [Int], values: [Double])] = [:]
        for (name, value) in outer where name != "__metadata__" {
            guard let t = value as? [String: Any], let dtype = t["dtype"] as? String, let shape = t["shape"] as? [Int],
                  let offsets = t["data_offsets"] as? [Int], offsets.count == 2, shape.allSatisfy({ $0 >= 0 }) else {
                throw EmbdiagError.malformed(path, "fingerprint tensor '\(name)' has a malformed entry")
            }
            guard dtype == "F64" else { throw EmbdiagError.malformed(path, "fingerprint tensor '\(name)' has dtype \(dtype) (expected F64)") }
            var count = 1
            for extent in shape {
                let (product, overflow) = count.multipliedReportingOverflow(by: extent)
                guard !overflow, product <= data.count else { throw EmbdiagError.malformed(path, "fingerprint tensor '\(name)' has shape \(shape), larger than the file") }
                count = product
            }
            let (b, e) = (offsets[0], offsets[1])
            guard b >= 0, e >= b, e <= data.count - payloadStart, e - b == count * 8 else {
                throw EmbdiagError.malformed(path, "fingerprint tensor '\(name)' lies outside the file or has the wrong size")
            }
            let values = data.subdata(in: (payloadStart + b)..<(payloadStart + e)).withUnsafeBytes { raw in
                (0..<count).map { Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self))) }
            }
            tensors[name] = (shape, values)
        }
        let required = ["directions", "mean", "norm_quantiles", "scale", "scalars", "spectrum"]
        guard Set(tensors.keys) == Set(required) else {
            throw EmbdiagError.malformed(path, "fingerprint tensors are \(tensors.keys.sorted().joined(separator: ", ")); expected \(required.joined(separator: ", "))")
        }
        for (name, t) in tensors where t.values.contains(where: { !$0.isFinite }) {
            throw EmbdiagError.invalid(path, "fingerprint tensor '\(name)' holds NaN or Inf")
        }
        // Sizes from the payload: the dimension is the mean's length, every other tensor must agree.
        let mean = tensors["mean"]!.values, d = mean.count
        let directions = tensors["directions"]!
        guard d >= 2, tensors["scale"]!.values.count == d, tensors["spectrum"]!.values.count == d,
              directions.shape.count == 2, directions.shape[1] == d, (1...d).contains(directions.shape[0]),
              tensors["norm_quantiles"]!.values.count == ModelFingerprint.normQuantileLevels.count,
              tensors["scalars"]!.values.count == scalarNames.count else {
            throw EmbdiagError.malformed(path, "fingerprint tensors disagree in size (mean \(d), scale \(tensors["scale"]!.values.count), spectrum \(tensors["spectrum"]!.values.count), directions \(directions.shape))")
        }
        let scale = tensors["scale"]!.values, spectrum = tensors["spectrum"]!.values, s = tensors["scalars"]!.values
        guard header.rows >= ModelFingerprint.minimumRows, header.source.dim == d else {
            throw EmbdiagError.malformed(path, "fingerprint header says \(header.rows) rows of dimension \(header.source.dim), the tensors \(d) dimensions (at least \(ModelFingerprint.minimumRows) rows expected)")
        }
        guard scale.allSatisfy({ $0 >= 0 }), s[0] > 0, s[1] > 0, zip(spectrum, spectrum.dropFirst()).allSatisfy({ $0 >= $1 }) else {
            throw EmbdiagError.invalid(path, "fingerprint values out of their domain (negative scale, non-positive second moment or an unsorted spectrum)")
        }
        return ModelFingerprint(dimension: d, rows: header.rows, modelName: header.modelName, source: header.source, mean: mean, scale: scale,
                                spectrum: spectrum, directions: directions.values, directionCount: directions.shape[0],
                                secondMomentTrace: s[0], tracelessStrength: s[1], normQuantiles: tensors["norm_quantiles"]!.values,
                                meanCosine: s[2], rowScoreMedian: s[3], rowScoreQ999: s[4], rowScoreThreshold: s[5])
    }
}
