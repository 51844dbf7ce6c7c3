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
        ConvertCommand.self,
        NeighborsCommand.self,
        AnisotropyCommand.self,
        DepthCommand.self,
        ShiftCommand.self,
        RelrepCommand.self,
        BiasCommand.self,
        CompatCommand.self,
        MapCommand.self,
        AuditCommand.self,
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
            // --help and --version arrive here as "errors" with exit code 0: let ArgumentParser
            // print them. Usage errors become one line on stderr and exit 2, as documented.
            if exitCode(for: error) == .success { exit(withError: error) }
            let message = Self.message(for: error).split(separator: "\n").first.map(String.init) ?? "invalid usage"
            FileHandle.standardError.write(Data("embdiag: error: \(message) (see 'embdiag help')\n".utf8))
            Foundation.exit(2)
        }
    }
}

/// A requested check failed (exit 1). The report has been written before this is thrown.
struct GateFailure: Error, CustomStringConvertible {
    var description: String
}
