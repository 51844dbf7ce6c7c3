import EmbeddingDiagnostics
import Foundation
import Yams

/// An audit file: the checks to run, each an embdiag subcommand with its inputs, options and
/// requirements. Guide: Guides/Audit.md.
struct AuditConfiguration: Decodable {
    var title: String?
    /// Passed as --seed to every check that takes one, unless the check sets its own.
    var seed: UInt64?
    var checks: [Check]

    struct Check: Decodable {
        var name: String
        /// The subcommand: anisotropy, depth, shift, bias, relrep, compat, info, neighbors.
        var command: String
        /// Positional arguments (input files).
        var inputs: [String]?
        /// Options without the leading dashes: `k: "1,10"` → `--k 1,10`; `true` → a flag;
        /// a list → the option repeated.
        var options: [String: OptionValue]?
        /// Requirements on the check's metrics, e.g. "p_value >= 0.01".
        var require: [String]?
        /// What the check is for, shown on the index page.
        var description: String?
    }

    enum OptionValue: Decodable {
        case scalar(String)
        case flag(Bool)
        case list([String])

        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let b = try? c.decode(Bool.self) { self = .flag(b); return }
            if let s = try? c.decode(String.self) { self = .scalar(s); return }
            if let i = try? c.decode(Int.self) { self = .scalar(String(i)); return }
            if let d = try? c.decode(Double.self) { self = .scalar(String(d)); return }
            if let l = try? c.decode([String].self) { self = .list(l); return }
            throw DecodingError.dataCorruptedError(in: c, debugDescription: "an option must be a string, number, boolean or list of strings")
        }
    }

    static func load(_ path: String) throws -> AuditConfiguration {
        // An empty file is answered before reading it (Foundation leaks a 4 KB buffer reading a
        // 0-byte file: found by fuzz/run audit).
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? NSNumber)??.intValue
        if size == 0 { throw EmbdiagError.malformed(path, "empty audit file: no checks") }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw EmbdiagError.io(path, "cannot read the audit file")
        }
        // Syntax first (line and column), then the keys (unknown keys are errors), then the types.
        let root: Node?
        do { root = try Yams.compose(yaml: text) } catch {
            throw EmbdiagError.malformed(path, "not valid YAML: \(AuditSchema.describe(error))")
        }
        guard let root else { throw EmbdiagError.malformed(path, "empty audit file: no checks") }
        try AuditSchema.validate(root, path: path)
        let config: AuditConfiguration
        do {
            config = try YAMLDecoder().decode(AuditConfiguration.self, from: text)
        } catch let DecodingError.keyNotFound(key, context) {
            throw EmbdiagError.malformed(path, "missing '\(key.stringValue)' at \(context.codingPath.map(\.stringValue).joined(separator: "."))")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.dataCorrupted(context) {
            throw EmbdiagError.malformed(path, "\(context.debugDescription) at \(context.codingPath.map(\.stringValue).joined(separator: "."))")
        } catch {
            throw EmbdiagError.malformed(path, "not a valid audit file: \(String(describing: error).split(separator: "\n").first ?? "")")
        }
        guard !config.checks.isEmpty else { throw EmbdiagError.malformed(path, "no checks") }
        var names = Set<String>()
        for c in config.checks {
            guard !c.name.isEmpty, c.name.allSatisfy({ $0.isLetter || $0.isNumber || "-_".contains($0) }) else {
                throw EmbdiagError.malformed(path, "check name '\(c.name)' must be letters, digits, - or _ (it names a folder)")
            }
            guard names.insert(c.name).inserted else { throw EmbdiagError.malformed(path, "two checks are named '\(c.name)'") }
            guard c.command != "audit" else { throw EmbdiagError.malformed(path, "check '\(c.name)': an audit cannot run an audit") }
            guard checkCommands.contains(c.command) else {
                throw EmbdiagError.malformed(path, "check '\(c.name)': unknown command '\(c.command)'\(Suggestions.didYouMean(c.command, among: checkCommands)); a check runs one of: \(checkCommands.joined(separator: ", "))")
            }
            if c.options?["output"] != nil {
                throw EmbdiagError.malformed(path, "check '\(c.name)': option 'output' is set by the audit (each check writes to OUTPUT/\(c.name)/); remove it")
            }
        }
        return config
    }

    /// The command line of one check (without --output/--quiet, which the audit adds).
    static func arguments(for check: Check) -> [String] {
        var args = [check.command] + (check.inputs ?? [])
        for key in (check.options ?? [:]).keys.sorted() {
            switch check.options![key]! {
            case .flag(let on): if on { args.append("--\(key)") }
            case .scalar(let v): args += ["--\(key)", v]
            case .list(let vs): for v in vs { args += ["--\(key)", v] }
            }
        }
        return args
    }
}
