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
/// from the tensors' sizes, every value must be finite and in its domain, and the values must agree
/// with each other as those of any real sample do (`ModelFingerprint.firstInconsistency`).
public enum FingerprintFile {
    public static let formatName = "embdiag-fingerprint"
    /// Version 2 adds `off_diagonal_strength` to the scalars; version-1 files are still read (their
    /// fingerprints cannot confirm the coordinates' orientation: `ModelFingerprint.OrientationBlindness.olderFormat`).
    public static let formatVersion = 2
    static let readableVersions: Set<Int> = [1, 2]
    static let headerKey = "embdiag_fingerprint"
    /// Headers above this are refused before anything is allocated.
    static let maximumHeaderBytes = 1 << 20
    static let scalarNames = ["second_moment_trace", "traceless_strength", "mean_cosine", "row_score_median", "row_score_q999", "row_score_threshold", "off_diagonal_strength"]
    /// The scalars of a file of `version` (version 1: all but the last).
    static func scalarCount(version: Int) -> Int { version == 1 ? scalarNames.count - 1 : scalarNames.count }

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

    /// The file's bytes. Refuses (an `EmbdiagError` naming the sample, nothing written) a
    /// fingerprint whose values the reader would refuse, and checks that the bytes read back as the
    /// same fingerprint: a file embdiag writes always verifies.
    ///
    /// - Complexity: O(k²·d + d log d).
    public static func encode(_ f: ModelFingerprint) throws -> Data {
        if let problem = f.firstInconsistency() {
            throw EmbdiagError.invalid(f.source.path, "the fingerprint of this sample does not verify (\(problem.text)); nothing written")
        }
        let data = try sealed(f)
        let back: ModelFingerprint
        do { back = try decode(data, path: nil) } catch {
            throw EmbdiagError.invalid(f.source.path, "the fingerprint of this sample would not read back (\(error)); nothing written")
        }
        guard back == f else {
            throw EmbdiagError.invalid(f.source.path, "the fingerprint of this sample reads back with other values; nothing written")
        }
        return data
    }

    /// The bytes of `f` as they are, unchecked (what an edited and resealed file holds, in tests). A
    /// fingerprint without `offDiagonalStrength` (read from a version-1 file) is written as version 1.
    ///
    /// - Complexity: O(k·d).
    static func sealed(_ f: ModelFingerprint) throws -> Data {
        let version = f.offDiagonalStrength == nil ? 1 : formatVersion
        let header = Header(format: formatName, formatVersion: version, tool: "embdiag", toolVersion: embdiagVersion,
                            modelName: f.modelName, rows: f.rows, source: f.source)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let headerJSON = String(decoding: try encoder.encode(header), as: UTF8.self)
        let tensors: [(String, [Double])] = [
            ("directions", f.directions), ("mean", f.mean), ("norm_quantiles", f.normQuantiles), ("scale", f.scale),
            ("scalars", [f.secondMomentTrace, f.tracelessStrength, f.meanCosine, f.rowScoreMedian, f.rowScoreQ999, f.rowScoreThreshold] + (f.offDiagonalStrength.map { [$0] } ?? [])),
            ("spectrum", f.spectrum),
        ]
        return SealedContainer.encode(documentKey: headerKey, document: headerJSON, tensors: tensors.map { name, values in
            let shape = name == "directions" ? [f.directionCount, f.dimension] : [values.count]
            return (name, "F64", shape, values.withUnsafeBytes { Data($0) })
        })
    }

    /// Writes atomically (temporary file in the same folder, fsync, rename).
    public static func write(_ f: ModelFingerprint, to path: String) throws {
        try AtomicFile.write(try encode(f), to: path)
    }

    public static func read(_ path: String) throws -> ModelFingerprint {
        let data: Data
        do {
            data = try SealedContainer.readFile(path, documentKey: headerKey, format: formatName, versions: readableVersions,
                                                maximumHeaderBytes: maximumHeaderBytes, dtypes: ["F64"])
        } catch let failure as SealedContainer.Failure {
            throw Self.error(failure, path: path)
        } catch let failure as SealedContainer.ReadFailure {
            throw EmbdiagError.io(path, "cannot read fingerprint: \(failure.message)")
        }
        return try decode(data, path: path)
    }

    /// A container failure in a fingerprint's words.
    static func error(_ failure: SealedContainer.Failure, path: String?) -> EmbdiagError {
        let notFingerprint = "not an embdiag fingerprint (write one with: embdiag fingerprint SAMPLE --write MODEL.fp)"
        let checksumKey = SealedContainer.checksumKey
        switch failure {
        case .tooShort: return .malformed(path, "\(notFingerprint): too short")
        case .headerBeyondFile(let size): return .malformed(path, "\(notFingerprint): header size \(size) beyond the file (truncated?)")
        case .noDocument: return .malformed(path, "\(notFingerprint): no __metadata__.\(headerKey)")
        case .wrongFormat(let format): return .malformed(path, "\(notFingerprint): format '\(format ?? "missing")'")
        case .wrongVersion(let version):
            return .mismatch(path, "fingerprint format version \(version.map { String($0) } ?? "missing"); this embdiag reads versions \(readableVersions.sorted().map(String.init).joined(separator: " and ")) (write the fingerprint again with this embdiag)")
        case .noChecksum: return .malformed(path, "fingerprint has no checksum (\(checksumKey))")
        case .checksumMismatch: return .malformed(path, "checksum mismatch: the fingerprint was edited, truncated or damaged (write it again)")
        case .extraMetadata: return .malformed(path, "fingerprint metadata has entries other than \(headerKey) and \(checksumKey)")
        case .malformedTensor(let name): return .malformed(path, "fingerprint tensor '\(name)' has a malformed entry")
        case .tensorLargerThanFile(let name, let shape): return .malformed(path, "fingerprint tensor '\(name)' has shape \(shape), larger than the file")
        case .unknownDtype(let name, let dtype): return .malformed(path, "fingerprint tensor '\(name)' has dtype \(dtype) (expected F64)")
        case .tensorOutsideFile(let name): return .malformed(path, "fingerprint tensor '\(name)' lies outside the file or has the wrong size")
        }
    }

    /// Parses and checks a fingerprint file.
    ///
    /// - Complexity: O(file size).
    public static func decode(_ input: Data, path: String?) throws -> ModelFingerprint {
        let container: SealedContainer
        do {
            container = try SealedContainer.decode(input, documentKey: headerKey, format: formatName, versions: readableVersions,
                                                   maximumHeaderBytes: maximumHeaderBytes, dtypes: ["F64"])
        } catch {
            throw Self.error(error, path: path)
        }
        let header: Header
        do { header = try JSONDecoder().decode(Header.self, from: container.document) } catch {
            throw EmbdiagError.malformed(path, "fingerprint header is malformed: \(HeaderDecodingError.describe(error))")
        }
        let tensors = container.tensors.mapValues { t in
            (shape: t.shape, values: t.bytes.withUnsafeBytes { raw in
                (0..<t.count).map { Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self))) }
            })
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
              tensors["scalars"]!.values.count == scalarCount(version: header.formatVersion) else {
            throw EmbdiagError.malformed(path, "fingerprint tensors disagree in size (mean \(d), scale \(tensors["scale"]!.values.count), spectrum \(tensors["spectrum"]!.values.count), directions \(directions.shape), scalars \(tensors["scalars"]!.values.count) for format version \(header.formatVersion))")
        }
        let s = tensors["scalars"]!.values
        guard header.rows >= ModelFingerprint.minimumRows, header.source.dim == d else {
            throw EmbdiagError.malformed(path, "fingerprint header says \(header.rows) rows of dimension \(header.source.dim), the tensors \(d) dimensions (at least \(ModelFingerprint.minimumRows) rows expected)")
        }
        let f = ModelFingerprint(dimension: d, rows: header.rows, modelName: header.modelName, source: header.source, mean: mean,
                                 scale: tensors["scale"]!.values, spectrum: tensors["spectrum"]!.values, directions: directions.values,
                                 directionCount: directions.shape[0], secondMomentTrace: s[0], tracelessStrength: s[1],
                                 offDiagonalStrength: header.formatVersion == 1 ? nil : s[6],
                                 normQuantiles: tensors["norm_quantiles"]!.values, meanCosine: s[2], rowScoreMedian: s[3],
                                 rowScoreQ999: s[4], rowScoreThreshold: s[5])
        // The relations every real sample's values satisfy (ModelFingerprint.firstInconsistency), so
        // that an edited file whose checksum was recomputed cannot make a check overflow, score
        // outside its range, or call the model's own rows another model's.
        switch f.firstInconsistency() {
        case nil: return f
        case .domain(let what)?:
            throw EmbdiagError.invalid(path, "fingerprint values out of their domain (\(what)): the file was edited; write it again")
        case .relation(let what)?:
            throw EmbdiagError.invalid(path, "fingerprint values contradict each other (\(what)): the file was edited, or written by an older embdiag; write it again")
        }
    }
}
