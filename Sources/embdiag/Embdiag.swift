import ArgumentParser
import COpenBLAS
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
        FingerprintCommand.self,
        MapCommand.self,
        MergeCommand.self,
        AuditCommand.self,
    ]

    /// Runs a subcommand with embdiag's error policy: EmbdiagError → one line on stderr + exit 2;
    /// a failed gate → exit 1; stdout that could not be written (a full disk, a closed pipe) →
    /// exit 2, also after a failed gate. Every output location is checked before the command runs.
    static func main() {
        let arguments = joiningNegativeValues(Array(CommandLine.arguments.dropFirst()))
        do {
            try refuseNegativeSeed(arguments)
            var command = try parseRouting(arguments)
            // audit checks its own locations after reading its file (and each check's).
            if !(command is AuditCommand) {
                // A requirement that can never fail is known from its key: refused before any work.
                if let reporting = command as? ReportingCommand {
                    for r in reporting.requirements { try reporting.refuseRequirementThatCannotFail(r) }
                }
                let locations = OutputLocations.of(command)
                try OutputLocations.refuseReportsWithPartial(locations)
                try OutputLocations.refuseOverwritingInputs(locations, arguments: arguments)
                try OutputLocations.prepare(locations)
            }
            if command is AuditCommand {
                // audit makes each check all-or-nothing itself (a failed check keeps the others).
                try command.run()
            } else {
                // Every file of the command carries its final name only when all were written (a
                // failed gate still keeps its report).
                try AtomicFile.allOrNothing(commitsOn: { $0 is GateFailure }) { try command.run() }
            }
            try flushStandardOutput()
        } catch let error as EmbdiagError {
            FileHandle.standardError.write(Data("embdiag: error: \(PostgresLocation.redactingURLs(in: error.description))\n".utf8))
            Foundation.exit(error.exitCode)
        } catch let error as GateFailure {
            do { try flushStandardOutput() } catch let error as EmbdiagError {
                FileHandle.standardError.write(Data("embdiag: error: \(error.description)\n".utf8))
                Foundation.exit(error.exitCode)
            } catch {}
            FileHandle.standardError.write(Data("embdiag: gate failed: \(PostgresLocation.redactingURLs(in: error.description))\n".utf8))
            Foundation.exit(1)
        } catch {
            // --help, `help CMD` and --version arrive here as "errors" with exit code 0: printed
            // as ArgumentParser prints them, then stdout is flushed — a failed write (`> /dev/full`)
            // is exit 2, as for every other command. Usage errors become one line on stderr and
            // exit 2, as documented.
            if exitCode(for: error) == .success {
                let text = fullMessage(for: error)
                if !text.isEmpty { print(text) }
                do { try flushStandardOutput() } catch let failure as EmbdiagError {
                    FileHandle.standardError.write(Data("embdiag: error: \(failure.description)\n".utf8))
                    Foundation.exit(failure.exitCode)
                } catch {}
                Foundation.exit(0)
            }
            // ArgumentParser validates the options it knows before it looks for unknown ones: a
            // check on them (`info x --by v --json -`: "2 files were given", `v` taken for a
            // file) would hide the option the user mistyped. That option is named instead.
            var message = Self.oneLine(Self.message(for: error))
            if let unknown = Self.unknownOption(in: arguments), !message.contains("'\(unknown.option)'") {
                message = "unknown option '\(unknown.option)': \(unknown.command) does not take it"
            }
            FileHandle.standardError.write(Data("embdiag: error: \(PostgresLocation.redactingURLs(in: message)) (see 'embdiag help')\n".utf8))
            Foundation.exit(2)
        }
    }
}

extension Embdiag {
    /// Flushes stdout and throws if any write to it failed (exit returns 0 otherwise: `embdiag
    /// info x.npy > /dev/full` would succeed having written nothing).
    static func flushStandardOutput() throws {
        let out = embdiag_stdout()
        let flushed = fflush(out) == 0
        let reason = flushed ? nil : String(cString: strerror(errno))
        if !flushed || ferror(out) != 0 {
            throw EmbdiagError.io("<stdout>", "write failed\(reason.map { ": " + $0 } ?? "") (the output is incomplete)")
        }
    }

    /// ArgumentParser's message on one line: a list of valid values that follows it on separate
    /// "- value" lines is kept ("… one of the following: npy, npz, …"), other lines are dropped.
    static func oneLine(_ message: String) -> String {
        let lines = message.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard let first = lines.first else { return "invalid usage" }
        let values = lines.dropFirst().prefix { $0.hasPrefix("- ") }.map { String($0.dropFirst(2)).components(separatedBy: " ").first ?? "" }
        return values.isEmpty ? first : first + " " + values.joined(separator: ", ")
    }

    /// `--seed -1`, `--threshold -0.5`, `--window -1d`: a negative number (with or without a unit)
    /// after a long option is its value, not
    /// an option (swift-argument-parser would report "Missing value"); it is passed as
    /// `--option=-1`. A negative `--seed` is refused (`refuseNegativeSeed`), not wrapped.
    static func joiningNegativeValues(_ arguments: [String]) -> [String] {
        var out: [String] = []
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            if a.hasPrefix("--"), !a.contains("="), a.count > 2, i + 1 < arguments.count, isNegativeNumber(arguments[i + 1]) {
                let value = arguments[i + 1]
                out.append(a + "=" + value)
                i += 2
                continue
            }
            if a == "--" { out += arguments[i...]; break }
            out.append(a)
            i += 1
        }
        return out
    }

    /// The first option in `arguments` (a subcommand and its arguments, up to `--`) that the
    /// subcommand does not take, from ArgumentParser's own description of the commands; nil if
    /// every option is known or the subcommand is not.
    /// - Complexity: O(arguments + options of the subcommand).
    static func unknownOption(in arguments: [String]) -> (command: String, option: String)? {
        guard let name = arguments.first, let data = Embdiag._dumpHelp().data(using: .utf8),
              let root = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
              let tool = root["command"] as? [String: Any],
              let command = (tool["subcommands"] as? [[String: Any]])?.first(where: { $0["commandName"] as? String == name }) else { return nil }
        var known: Set<String> = ["--help", "-h", "--version"]
        for argument in command["arguments"] as? [[String: Any]] ?? [] {
            for n in argument["names"] as? [[String: Any]] ?? [] {
                guard let kind = n["kind"] as? String, let spelled = n["name"] as? String else { continue }
                known.insert((kind == "long" ? "--" : "-") + spelled)
            }
        }
        for a in arguments.dropFirst() {
            if a == "--" { break }
            guard a.hasPrefix("-"), a.count > 1, !isNegativeNumber(a) else { continue }
            let option = String(a.prefix { $0 != "=" })
            if known.contains(option) { continue }
            // Short flags may be combined (`-qs`): each must be known.
            if !a.hasPrefix("--"), !a.contains("="), a.dropFirst().allSatisfy({ known.contains("-\($0)") }) { continue }
            return (name, option)
        }
        return nil
    }

    /// Seeds are 0…2⁶⁴ − 1 in every command: `--seed -1` is an error, not the seed 2⁶⁴ − 1 in disguise.
    /// - Complexity: O(arguments).
    static func refuseNegativeSeed(_ arguments: [String]) throws {
        for (i, a) in arguments.enumerated() {
            let value = a.hasPrefix("--seed=") ? String(a.dropFirst(7)) : (a == "--seed" && i + 1 < arguments.count ? arguments[i + 1] : nil)
            if let value, value.hasPrefix("-"), value.count > 1 {
                throw EmbdiagError.usage("--seed \(value): a seed is an integer in 0…18446744073709551615 (negative seeds are refused)")
            }
            if a == "--" { return }
        }
    }

    static func isNegativeNumber(_ s: String) -> Bool {
        if s.hasPrefix("-"), s.count > 1, let v = Double(s) { return v.isFinite }
        // A negative value with a unit (`--window -1d`): no option starts with "-" and a digit, so
        // it is the value, and the option's own check gives its range.
        guard s.hasPrefix("-"), let next = s.dropFirst().first else { return false }
        return next.isASCII && next.isNumber
    }
}

/// A requested check failed (exit 1). The report has been written before this is thrown.
struct GateFailure: Error, CustomStringConvertible {
    var description: String
}
