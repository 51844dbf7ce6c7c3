import EmbeddingDiagnostics
import Foundation

// One harness binary for every reader, partial state files and the other parsed inputs; FUZZ_FORMAT
// picks the format (ReaderHarness.formats, ParserHarness.formats, or `state` and `fingerprint`: StateFileFuzzing.swift).
// The harness bodies are ReaderHarness.swift, ParserHarness.swift and StateFileFuzzing.swift, which
// the test target also compiles (the replay test).
// Any EmbdiagError is a correct answer; a crash, hang, leak or broken invariant is a bug.
private let format = ProcessInfo.processInfo.environment["FUZZ_FORMAT"] ?? "npy"
private let path = "/dev/shm/embdiag-fuzz-\(getpid()).\(format)"
private let matrixPath = "/dev/shm/embdiag-fuzz-\(getpid())-matrix.npy"
private let directory: String = {
    let d = "/dev/shm/embdiag-fuzz-\(getpid())-files"
    try? FileManager.default.createDirectory(atPath: d, withIntermediateDirectories: true)
    return d
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    do {
        if format == "state" {
            try fuzzStateFile(Data(bytes: data, count: size))
        } else if format == "fingerprint" {
            try fuzzFingerprintFile(Data(bytes: data, count: size))
        } else if ParserHarness.formats.contains(format) {
            try ParserHarness.run(format: format, bytes: Data(bytes: data, count: size), directory: directory)
        } else {
            try ReaderHarness.run(format: format, bytes: Data(bytes: data, count: size), scratch: path, matrixPath: matrixPath)
        }
    } catch {
        fatalError("\(error)")
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
