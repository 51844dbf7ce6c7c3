import ArgumentParser
import EmbeddingDiagnostics
import Foundation

struct Embdiag: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embdiag",
        abstract: "Diagnose embedding matrices: anisotropy, statistical depth, bias, relative representations, backward compatibility.",
        discussion: """
        Exit codes: 0 success · 1 a requested check (gate) failed · 2 usage or input error \
        (one line on stderr naming the file and the problem).
        """,
        version: embdiagVersion,
        subcommands: Embdiag.subcommandList)

    /// Every subcommand, one file each in Sources/embdiag/.
    static let subcommandList: [ParsableCommand.Type] = [
        InfoCommand.self,
    ]

    /// Runs a subcommand with embdiag's error policy: EmbdiagError → one line on stderr + exit 2;
    /// a failed gate → exit 1.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as EmbdiagError {
            FileHandle.standardError.write(Data("embdiag: error: \(error.description)\n".utf8))
            Foundation.exit(error.exitCode)
        } catch let error as GateFailure {
            FileHandle.standardError.write(Data("embdiag: gate failed: \(error.description)\n".utf8))
            Foundation.exit(1)
        } catch {
            // ArgumentParser's own errors (usage, --help, --version) keep their texts and codes,
            // except that usage errors exit 2 as documented.
            let code = exitCode(for: error)
            if code == .success {
                exit(withError: error)
            }
            let message = fullMessage(for: error)
            FileHandle.standardError.write(Data((message.isEmpty ? "embdiag: error" : message).utf8 + [0x0A]))
            Foundation.exit(code == .validationFailure ? 2 : (code.rawValue == 0 ? 0 : 2))
        }
    }
}

/// A requested check failed (exit 1). The report has been written before this is thrown.
struct GateFailure: Error, CustomStringConvertible {
    var description: String
}
