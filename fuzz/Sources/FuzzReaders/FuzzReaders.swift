import EmbeddingDiagnostics
import Foundation

// One harness binary for every reader; FUZZ_FORMAT picks the format (npy, npz, safetensors,
// word2vec-binary, word2vec-text, glove, csv, tsv, fvecs, labels, jsonl, faiss, parquet, postgres-text, postgres-binary, state). Each input is written to a
// file in /dev/shm (readers take paths, as users give them) and read with the format forced.
// Any EmbdiagError is a correct answer; a crash, hang or leak is a bug.
private let format = ProcessInfo.processInfo.environment["FUZZ_FORMAT"] ?? "npy"
private let path = "/dev/shm/embdiag-fuzz-\(getpid()).\(format)"
private let matrixPath = "/dev/shm/embdiag-fuzz-\(getpid())-matrix.npy"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Data(bytes: data, count: size)
    guard FileManager.default.createFile(atPath: path, contents: bytes) else { return 0 }
    do {
        if format == "postgres-text" || format == "postgres-binary" {
            _ = try PostgresReader.decodeVector([UInt8](bytes), binary: format == "postgres-binary")
        } else if format == "labels" {
            _ = try LabelsFile.read(path, expectedCount: 3, matrixPath: matrixPath)
        } else if format == "pairing" {
            try fuzzPairing(bytes)
        } else if format == "state" {
            try fuzzStateFile(bytes)
        } else if let f = EmbeddingFormat(rawValue: format) {
            let e = try EmbeddingReader.read(path, options: ReadOptions(format: f, computeChecksum: false))
            // Touch every value and label so lazily mapped data is really read.
            _ = ValidationSummary(e)
            _ = Matrix.rowNorms(e.matrix)
        }
    } catch is EmbdiagError {
    } catch {
        // Non-EmbdiagError errors break the one-line error promise: make them visible.
        fatalError("reader threw a non-EmbdiagError: \(error)")
    }
    return 0
}

/// Labels / id pairing (compat --pair-by label): the input is two id lists separated by a NUL
/// byte, one id per line. Whatever they hold, pairing either throws an EmbdiagError or returns
/// pairs of equal ids, each row at most once, with counts that add up.
private func fuzzPairing(_ bytes: Data) throws {
    let halves = bytes.split(separator: 0, maxSplits: 1, omittingEmptySubsequences: false)
    func ids(_ d: Data.SubSequence?) -> [String] {
        guard let d else { return [] }
        return String(decoding: d, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }
    let a = ids(halves.first), b = ids(halves.count > 1 ? halves[1] : nil)
    for policy in DuplicateIdPolicy.allCases {
        let p: IdPairing
        do { p = try IdPairing(idsA: a, idsB: b, nameA: "a", nameB: "b", duplicates: policy) } catch is EmbdiagError {
            precondition(policy == .error && (Set(a).count < a.count || Set(b).count < b.count), "pairing refused unique ids")
            continue
        }
        precondition(p.rowsA.count == p.rowsB.count)
        precondition(Set(p.rowsA).count == p.rowsA.count && Set(p.rowsB).count == p.rowsB.count, "a row paired twice")
        for (i, j) in zip(p.rowsA, p.rowsB) { precondition(a[i] == b[j], "paired rows with different ids") }
        precondition(p.rowsA.count + p.unmatchedA + p.duplicateRowsA == a.count, "OLD rows do not add up")
        precondition(p.rowsB.count + p.unmatchedB + p.duplicateRowsB == b.count, "NEW rows do not add up")
    }
    // The same ids through the labels reader (one per line, CRLF tolerated).
    try Data(bytes.prefix { $0 != 0 }).write(to: URL(fileURLWithPath: path))
    _ = try? LabelsFile.read(path, expectedCount: a.count, matrixPath: matrixPath)
}

// SwiftPM renames an executable's entry point to `<Target>_main` and aliases `main` to it; hand
// control to libFuzzer's driver from there.
@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                                 _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> Int32) -> Int32

@_cdecl("FuzzReaders_main")
public func fuzzReadersMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var c = argc
    var v = argv
    return LLVMFuzzerRunDriver(&c, &v) { data, size in fuzzOneInput(data, size) }
}
