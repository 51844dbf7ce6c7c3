import Foundation

/// The container of embdiag's self-checking files (partial states, saved shift references,
/// fingerprints): a safetensors file whose `__metadata__` holds exactly two entries, the file
/// kind's JSON document under its own key and `embdiag_sha256`, the SHA-256 of the whole file with
/// those 64 hex digits read as "0"s (header, tensor table, padding and payload). Tensors are
/// little-endian, contiguous, ordered by element width then name (each aligned to its width);
/// any safetensors reader opens the file.
///
/// Parsing checks the parts in the order a damaged file fails them — size, header, document,
/// format and version (an older file may have no checksum to verify), checksum, metadata, tensor
/// table — and reports the first failure as a `Failure` that the file kind words for its users.
/// The checksum guards against edits and damage, not against someone who recomputes it on
/// purpose; that is what each kind's payload checks are for.
struct SealedContainer {
    static let checksumKey = "embdiag_sha256"
    static let checksumPlaceholder = String(repeating: "0", count: 64)

    /// Why bytes are not a sealed container of the expected kind, in the order checked.
    enum Failure: Error {
        case tooShort
        case headerBeyondFile(UInt64)
        case noDocument
        case wrongFormat(String?)
        case wrongVersion(Int?)
        case noChecksum
        case checksumMismatch
        case extraMetadata
        case malformedTensor(String)
        case tensorLargerThanFile(String, shape: [Int])
        case unknownDtype(String, dtype: String)
        case tensorOutsideFile(String)
    }

    struct Tensor {
        var dtype: String
        var shape: [Int]
        /// The product of `shape`.
        var count: Int
        var bytes: Data
    }

    /// The kind's JSON document (its header), still undecoded.
    var document: Data
    var tensors: [String: Tensor]

    /// Bytes per element of the dtypes the containers use.
    static let dtypeWidths = ["F64": 8, "I64": 8, "F32": 4, "U8": 1]

    /// The file's bytes: `document` under `documentKey`, the tensors laid out as the safetensors
    /// package lays them out and requires them — contiguous from offset 0, no gap between two
    /// tensors and no byte after the last — ordered by element width (8-byte F64/I64, then F32,
    /// then U8) and within a width in the order given (callers pass name order), so every tensor
    /// still starts at a multiple of its element width; then the checksum written. (Files of
    /// earlier versions padded each tensor to 8 bytes, leaving gaps after U8 tensors that the
    /// package refuses; `decode` still reads them.)
    ///
    /// - Complexity: O(size of the payload).
    static func encode(documentKey: String, document: String, tensors: [(name: String, dtype: String, shape: [Int], bytes: Data)]) -> Data {
        var outer = "{\"__metadata__\":{\(JSONValue.quote(documentKey)):\(JSONValue.quote(document)),\"\(checksumKey)\":\"\(checksumPlaceholder)\"}"
        var payload = Data()
        let ordered = tensors.enumerated().sorted { a, b in
            let (wa, wb) = (dtypeWidths[a.element.dtype] ?? 1, dtypeWidths[b.element.dtype] ?? 1)
            return wa != wb ? wa > wb : a.offset < b.offset
        }.map(\.element)
        for t in ordered {
            let begin = payload.count
            payload.append(t.bytes)
            let shape = t.shape.map(String.init).joined(separator: ",")
            outer += ",\(JSONValue.quote(t.name)):{\"dtype\":\"\(t.dtype)\",\"shape\":[\(shape)],\"data_offsets\":[\(begin),\(payload.count)]}"
        }
        outer += "}"
        var headerBytes = Data(outer.utf8)
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }
        var out = Data()
        withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(headerBytes)
        out.append(payload)
        return seal(out)
    }

    /// The bytes of a sealed file, read only once its first 8 + header bytes say it is one of
    /// this kind (size of the header, the document, its format and version): a shard's .npy or
    /// /dev/zero given by mistake is refused after reading at most `maximumHeaderBytes`, not after
    /// reading gigabytes into memory. Devices and pipes are read as streams.
    ///
    /// - Throws: `Failure` for a file of another kind, `ReadFailure` when it cannot be read.
    /// - Complexity: O(file size) once the header passed.
    static func readFile(_ path: String, documentKey: String, format: String, versions: Set<Int>, maximumHeaderBytes: Int,
                         dtypes: Set<String>) throws -> Data {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            var isDirectory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory)
            throw ReadFailure(message: !exists ? "no such file" : isDirectory.boolValue ? "is a directory" : "cannot be opened for reading")
        }
        defer { try? handle.close() }
        do {
            let prefix = try handle.read(upToCount: 8) ?? Data()
            guard prefix.count == 8 else { throw Failure.tooShort }
            let size = prefix.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
            guard size <= UInt64(maximumHeaderBytes) else { throw Failure.headerBeyondFile(size) }
            let header = try handle.read(upToCount: Int(size)) ?? Data()
            guard header.count == Int(size) else { throw Failure.headerBeyondFile(size) }
            // The header alone: its identity failures are final; anything about tensors or the
            // checksum needs the rest of the file.
            do {
                _ = try decode(prefix + header, documentKey: documentKey, format: format, versions: versions,
                               maximumHeaderBytes: maximumHeaderBytes, dtypes: dtypes)
            } catch {
                switch error {
                case .tooShort, .headerBeyondFile, .noDocument, .wrongFormat, .wrongVersion: throw error
                default: break
                }
            }
            // The rest in chunks, bounded as stream copies are (`StreamInput.copyLimit`): a pipe
            // with a valid header and no end must not fill memory.
            let limit = StreamInput.copyLimit
            var data = prefix + header
            while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
                data.append(chunk)
                if UInt64(data.count) > limit.bytes {
                    throw ReadFailure(message: "larger than \(limit), the most a file of this kind is read; raise the limit with --memory-budget or EMBDIAG_MEMORY_BUDGET")
                }
            }
            return data
        } catch let failure as Failure {
            throw failure
        } catch {
            throw ReadFailure(message: error.localizedDescription)
        }
    }

    /// A sealed file that could not be read (not one that is of another kind).
    struct ReadFailure: Error { var message: String }

    /// Parses and checks a sealed file of one kind; the tensors' dtypes must be among `dtypes`.
    ///
    /// - Complexity: O(file size).
    static func decode(_ input: Data, documentKey: String, format: String, versions: Set<Int>, maximumHeaderBytes: Int,
                       dtypes: Set<String>) throws(Failure) -> SealedContainer {
        // Offsets below are from the file's first byte: rebase a slice.
        let data = input.startIndex == 0 ? input : Data(input)
        guard data.count >= 8 else { throw .tooShort }
        let size = data.prefix(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard size <= UInt64(maximumHeaderBytes), Int(size) <= data.count - 8 else { throw .headerBeyondFile(size) }
        let headerEnd = 8 + Int(size)
        guard let outer = try? JSONSerialization.jsonObject(with: data.subdata(in: 8..<headerEnd)) as? [String: Any],
              let meta = outer["__metadata__"] as? [String: Any], let documentText = meta[documentKey] as? String else {
            throw .noDocument
        }
        let document = Data(documentText.utf8)
        struct Identity: Decodable {
            var format: String?
            var formatVersion: Int?
            enum CodingKeys: String, CodingKey { case format, formatVersion = "format_version" }
        }
        let identity = try? JSONDecoder().decode(Identity.self, from: document)
        guard let identity, identity.format == format else { throw .wrongFormat(identity?.format) }
        guard let version = identity.formatVersion, versions.contains(version) else { throw .wrongVersion(identity.formatVersion) }
        guard let stored = meta[checksumKey] as? String else { throw .noChecksum }
        let ranges = checksumRange(in: data, headerEnd: headerEnd)
        guard ranges.count == 1, let range = ranges.first, String(decoding: data[range], as: UTF8.self) == stored,
              digest(data, blanking: range) == stored else {
            throw .checksumMismatch
        }
        guard meta.count == 2 else { throw .extraMetadata }
        var tensors: [String: Tensor] = [:]
        for (name, value) in outer where name != "__metadata__" {
            guard let t = value as? [String: Any], let dtype = t["dtype"] as? String, let shape = t["shape"] as? [Int],
                  let offsets = t["data_offsets"] as? [Int], offsets.count == 2, shape.allSatisfy({ $0 >= 0 }) else {
                throw .malformedTensor(name)
            }
            // Sizes from the file are checked for overflow before any arithmetic trusts them.
            var count = 1
            for extent in shape {
                let (product, overflow) = count.multipliedReportingOverflow(by: extent)
                guard !overflow, product <= data.count else { throw .tensorLargerThanFile(name, shape: shape) }
                count = product
            }
            guard dtypes.contains(dtype), let width = dtypeWidths[dtype] else { throw .unknownDtype(name, dtype: dtype) }
            let (b, e) = (offsets[0], offsets[1])
            guard b >= 0, e >= b, e <= data.count - headerEnd, e - b == count * width else { throw .tensorOutsideFile(name) }
            tensors[name] = Tensor(dtype: dtype, shape: shape, count: count, bytes: data.subdata(in: (headerEnd + b)..<(headerEnd + e)))
        }
        return SealedContainer(document: document, tensors: tensors)
    }

    /// The checksum's literal form in the header: `"embdiag_sha256":"<64 hex digits>"`.
    static func checksumRange(in data: Data, headerEnd: Int) -> [Range<Int>] {
        let key = Data("\"\(checksumKey)\":\"".utf8)
        var found: [Range<Int>] = []
        var from = 8
        while from < headerEnd, let r = data.range(of: key, in: from..<headerEnd) {
            let value = r.upperBound..<(r.upperBound + 64)
            if value.upperBound < headerEnd, data[value.upperBound] == UInt8(ascii: "\"") { found.append(value) }
            from = r.upperBound
        }
        return found
    }

    /// SHA-256 of `data` with the checksum digits at `range` read as "0"s.
    static func digest(_ data: Data, blanking range: Range<Int>) -> String {
        var copy = data
        copy.replaceSubrange(range, with: Data(checksumPlaceholder.utf8))
        return Checksum.sha256(copy)
    }

    /// Writes the checksum of a file whose checksum digits are still the placeholder; also what a
    /// test or fuzzer uses to turn an edited file back into one that passes the checksum (so that
    /// the checks behind it are reached).
    ///
    /// - Complexity: O(file size).
    static func seal(_ input: Data) -> Data {
        let file = input.startIndex == 0 ? input : Data(input)
        guard file.count >= 8 else { return file }
        let size = file.prefix(8).withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard size <= UInt64(file.count - 8) else { return file }
        let ranges = checksumRange(in: file, headerEnd: 8 + Int(size))
        guard ranges.count == 1, let range = ranges.first else { return file }
        var out = file
        out.replaceSubrange(range, with: Data(digest(file, blanking: range).utf8))
        return out
    }
}
