import EmbeddingDiagnostics
import Foundation

// libFuzzer harness for the audit file (YAML): the CLI's own AuditConfiguration.swift and
// AuditSchema.swift (symlinked here) parse each input. Any EmbdiagError is a correct answer;
// a crash, a hang, a leak or another error type is a bug. A file that loads must name only
// known keys (the schema check ran) and at least one check.
private let path = "/dev/shm/embdiag-fuzz-audit-\(getpid()).yaml"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard FileManager.default.createFile(atPath: path, contents: Data(bytes: data, count: size)) else { return 0 }
    do {
        let config = try AuditConfiguration.load(path)
        precondition(!config.checks.isEmpty, "an audit without checks loaded")
        for check in config.checks {
            let args = AuditConfiguration.arguments(for: check)
            precondition(args.first == check.command, "arguments do not start with the command")
            for r in check.require ?? [] { _ = try Requirement(parsing: r) }
        }
    } catch is EmbdiagError {
    } catch {
        fatalError("audit loading threw a non-EmbdiagError: \(error)")
    }
    return 0
}

@_silgen_name("LLVMFuzzerRunDriver")
private func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                                 _ callback: @convention(c) (UnsafePointer<UInt8>, Int) -> Int32) -> Int32

@_cdecl("FuzzAudit_main")
public func fuzzAuditMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var c = argc
    var v = argv
    return LLVMFuzzerRunDriver(&c, &v) { data, size in fuzzOneInput(data, size) }
}
