import EmbeddingDiagnostics
import Foundation

// One harness binary for every reader; FUZZ_FORMAT picks the format (npy, npz, safetensors,
// word2vec-binary, word2vec-text, glove, csv, tsv, fvecs, labels, postgres-text, postgres-binary). Each input is written to a
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
        } else if let f = EmbeddingFormat(rawValue: format) {
            let e = try EmbeddingReader.read(path, options: ReadOptions(format: f, computeChecksum: false))
            // Touch every value and label so lazily mapped data is really read.
            _ = ValidationSummary(e)
            _ = rowNorms(e.matrix)
        }
    } catch is EmbdiagError {
    } catch {
        // Non-EmbdiagError errors break the one-line error promise: make them visible.
        fatalError("reader threw a non-EmbdiagError: \(error)")
    }
    return 0
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
