import CZlib
import Foundation
import ZIPFoundation

/// .npz: a zip archive of .npy members (stored or deflated). `key` picks a member (with or without
/// ".npy"); by default the only 2-D float array, or among several the one named like embeddings;
/// several without such a name, or several with one, are refused (member order says nothing). Sizes are checked against the member's
/// .npy header before anything is decompressed, so a lying or oversized member is refused.
public enum NpzReader {
    public static let maximumMemberBytes: UInt64 = 64 << 30

    public static func read(_ path: String, key: String?) throws -> Embeddings {
        let archive: Archive
        do { archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .read) } catch {
            throw EmbdiagError.malformed(path, "not a readable .npz (zip) archive")
        }
        let members = archive.filter { $0.type == .file }
        guard !members.isEmpty else { throw EmbdiagError.malformed(path, "the .npz archive has no arrays") }
        let names = members.map { $0.path.hasSuffix(".npy") ? String($0.path.dropLast(4)) : $0.path }
        // numpy keeps the last of two members with one name (x.npy twice, or x and x.npy); which
        // one a reader takes is a guess, so the archive is refused.
        var seenNames = Set<String>()
        for name in names where !seenNames.insert(name).inserted {
            throw EmbdiagError.malformed(path, "duplicate member \(name) in the .npz archive (numpy reads the last one, other readers the first): write each array once")
        }
        var candidates: [Entry]
        if let key {
            candidates = members.filter { $0.path == key || $0.path == key + ".npy" }
            guard !candidates.isEmpty else { throw EmbdiagError.malformed(path, "no array '\(key)'; arrays: \(names.joined(separator: ", "))") }
        } else {
            candidates = members
        }
        // Several 2-D float arrays and no --key: take the one named like embeddings, else refuse
        // (silently analysing the first one, a 2 × 8 projection, is a wrong answer). Two named like
        // embeddings ('embeddings' and 'emb') are refused too: the archive's order says nothing.
        if key == nil && candidates.count > 1 {
            let matrices = candidates.compactMap { entry -> (Entry, String, Int, Int)? in
                guard let (_, rows, cols) = try? memberHeader(entry, of: archive, path: path) else { return nil }
                return (entry, entry.path.hasSuffix(".npy") ? String(entry.path.dropLast(4)) : entry.path, rows, cols)
            }
            if matrices.count > 1 {
                let named = matrices.filter { EmbeddingReader.isEmbeddingName($0.1) }
                if named.count > 1 {
                    throw EmbdiagError.malformed(path, EmbeddingReader.severalEmbeddingNames(named.map { ($0.1, "\($0.2)×\($0.3)") }, what: "arrays"))
                }
                guard let preferred = named.first else {
                    throw EmbdiagError.malformed(path, "\(matrices.count) 2-D float arrays (\(matrices.prefix(6).map { "\($0.1) \($0.2)×\($0.3)" }.joined(separator: ", "))\(matrices.count > 6 ? ", …" : "")); pick one with \(Setting.key)")
                }
                candidates = [preferred.0]
            }
        }
        var firstError: EmbdiagError?
        for entry in candidates {
            do {
                return try readMember(entry, of: archive, path: path)
            } catch let c as CorruptMember {
                // A damaged archive is its own answer, not "no 2-D float array".
                throw c.error
            } catch let e as EmbdiagError {
                if key != nil { throw e }
                if firstError == nil { firstError = e }
            }
        }
        throw EmbdiagError.malformed(path, "no 2-D float array among \(names.joined(separator: ", ")) (\(firstError?.message ?? "")); pick one with \(Setting.key)")
    }

    /// The member's .npy header, checked: a 2-D float array whose declared size matches the member.
    static func memberHeader(_ entry: Entry, of archive: Archive, path: String) throws -> (NpyReader.Header, Int, Int) {
        let name = entry.path.hasSuffix(".npy") ? String(entry.path.dropLast(4)) : entry.path
        let declared = UInt64(entry.uncompressedSize)
        guard declared <= maximumMemberBytes else { throw EmbdiagError.malformed(path, "array '\(name)' declares \(declared) bytes uncompressed, over the \(maximumMemberBytes >> 30) GiB limit") }
        // Read the header first (a few KB) and check the declared shape against the member size.
        var head = Data()
        do {
            _ = try archive.extract(entry, bufferSize: 4096, skipCRC32: true, progress: nil) { chunk in
                head.append(chunk)
                if head.count >= 4096 { throw StopExtraction() }
            }
        } catch is StopExtraction {
        } catch {
            throw CorruptMember(error: EmbdiagError.malformed(path, "array '\(name)' is corrupt: it cannot be decompressed (\(error))"))
        }
        let header: NpyReader.Header, rows: Int, cols: Int, size: Int
        do {
            header = try head.withUnsafeBytes { try NpyReader.parseHeader($0, path: path + ":" + name) }
            (rows, cols) = try NpyReader.shape2D(header.shape, path: path + ":" + name)
            (_, size, _) = try NpyReader.dtype(header.descr, path: path + ":" + name)
        } catch let e as EmbdiagError {
            // A damaged deflate stream can decode to garbage without an error: blame the header
            // only when the member's CRC-32 holds.
            if !isIntact(entry, of: archive) {
                throw CorruptMember(error: EmbdiagError.malformed(path, "array '\(name)' is corrupt: its data does not match the archive's CRC-32 (a damaged compressed stream)"))
            }
            throw e
        }
        let (count, o1) = rows.multipliedReportingOverflow(by: cols)
        let (bytes, o2) = count.multipliedReportingOverflow(by: size)
        guard !o1, !o2, UInt64(header.dataOffset + bytes) == declared else {
            throw EmbdiagError.malformed(path, "array '\(name)': header declares \(rows) × \(cols) \(header.descr) (\(o1 || o2 ? "overflow" : String(header.dataOffset + bytes)) bytes with header), the member holds \(declared)")
        }
        return (header, rows, cols)
    }

    /// Whether the member decompresses without an error to data of its recorded CRC-32.
    /// - Complexity: O(uncompressed size) (called only once a header failed to parse).
    static func isIntact(_ entry: Entry, of archive: Archive) -> Bool {
        var crc: uLong = 0
        var inflated: UInt64 = 0
        do {
            _ = try archive.extract(entry, bufferSize: 1 << 20, skipCRC32: true, progress: nil) { chunk in
                inflated += UInt64(chunk.count)
                // More than the archive declares: damaged, and not worth inflating further.
                if inflated > UInt64(entry.uncompressedSize) { throw StopExtraction() }
                chunk.withUnsafeBytes { crc = CZlib.crc32(crc, $0.bindMemory(to: Bytef.self).baseAddress, uInt($0.count)) }
            }
        } catch { return false }
        return CRC32(truncatingIfNeeded: crc) == entry.checksum
    }

    static func readMember(_ entry: Entry, of archive: Archive, path: String) throws -> Embeddings {
        let name = entry.path.hasSuffix(".npy") ? String(entry.path.dropLast(4)) : entry.path
        let declared = UInt64(entry.uncompressedSize)
        _ = try memberHeader(entry, of: archive, path: path)
        // Decompress into a temporary file and map it: the matrix never needs two in-memory copies.
        let tmp = FileManager.default.temporaryDirectory.appendingPathComponent("embdiag-npz-\(getpid())-\(UUID().uuidString).npy")
        defer { try? FileManager.default.removeItem(at: tmp) }
        // ZIPFoundation computes the CRC-32 (with a Swift table loop, ~100 MB/s here) but never
        // compares it. zlib's crc32 runs at memory speed (~1 GB/s) over the chunks as they are
        // written, and the result is compared as numpy does ("Bad CRC-32"). Guides/Formats.md.
        var crc: uLong = 0
        var written: UInt64 = 0
        do {
            guard FileManager.default.createFile(atPath: tmp.path, contents: nil) else {
                throw EmbdiagError.io(path, "cannot create a temporary file to decompress '\(name)'")
            }
            let handle = try FileHandle(forWritingTo: tmp)
            defer { try? handle.close() }
            _ = try archive.extract(entry, bufferSize: 1 << 20, skipCRC32: true, progress: nil) { chunk in
                // A stream that inflates past the size the archive declares (a deflate bomb: 1 MB
                // can inflate to 1 GB) is stopped at the first chunk beyond it, not written out.
                written += UInt64(chunk.count)
                guard written <= declared else {
                    throw CorruptMember(error: EmbdiagError.malformed(path, "array '\(name)' inflates to more than the \(declared) bytes the archive declares for it (a damaged or crafted member); stopped there"))
                }
                chunk.withUnsafeBytes { crc = CZlib.crc32(crc, $0.bindMemory(to: Bytef.self).baseAddress, uInt($0.count)) }
                try handle.write(contentsOf: chunk)
            }
        } catch let e as EmbdiagError {
            throw e
        } catch let c as CorruptMember {
            throw c
        } catch {
            throw CorruptMember(error: EmbdiagError.malformed(path, "array '\(name)' is corrupt (\(error))"))
        }
        guard CRC32(truncatingIfNeeded: crc) == entry.checksum else {
            throw CorruptMember(error: EmbdiagError.malformed(path, "array '\(name)' is corrupt: bad CRC-32 (computed \(String(format: "%08x", UInt32(truncatingIfNeeded: crc))), the archive records \(String(format: "%08x", entry.checksum)))"))
        }
        let attributes = try? FileManager.default.attributesOfItem(atPath: tmp.path)
        guard (attributes?[.size] as? NSNumber)?.uint64Value == declared else {
            throw CorruptMember(error: EmbdiagError.malformed(path, "array '\(name)' decompressed to a different size than declared (\(declared) bytes)"))
        }
        var e = try NpyReader.read(tmp.path)
        // The mapping outlives the unlinked temporary file; copy if it is mapped, so nothing depends on it.
        if e.matrix.isMapped { e.matrix = e.matrix.copy() }
        e.source = Source(path: path, format: .npz, dtype: e.source.dtype, rows: e.count, dim: e.dimension, key: name)
        return e
    }

    struct StopExtraction: Error {}
    /// A member whose bytes are damaged (bad CRC-32, failed decompression).
    struct CorruptMember: Error { var error: EmbdiagError }
}
