import EmbeddingDiagnostics
import Foundation
import Yams

/// The keys an audit file may use. Unknown keys are an error naming the key, its line and the
/// closest known key: a misspelt `requires:` must not silently drop a gate.
enum AuditSchema {
    static let topLevel = ["title", "seed", "checks"]
    static let check = ["name", "command", "inputs", "options", "require", "description"]

    /// Checks the keys of the parsed YAML tree (before decoding, which ignores unknown keys).
    static func validate(_ root: Node, path: String) throws {
        guard let top = root.mapping else {
            throw EmbdiagError.malformed(path, "\(position(root)): an audit file is a mapping with 'checks:' (and optional 'title:', 'seed:')")
        }
        try checkKeys(top, allowed: topLevel, context: "at the top level", path: path)
        guard let checks = top["checks"] else { return }
        guard let list = checks.sequence else {
            throw EmbdiagError.malformed(path, "\(position(checks)): 'checks' must be a list of checks (each starting with '- name:')")
        }
        for (i, item) in list.enumerated() {
            guard let m = item.mapping else {
                throw EmbdiagError.malformed(path, "\(position(item)): check \(i + 1) must be a mapping (name:, command:, inputs:, options:, require:)")
            }
            let name = m["name"]?.string.map { "check '\($0)'" } ?? "check \(i + 1)"
            try checkKeys(m, allowed: check, context: "in \(name)", path: path)
            if let options = m["options"], options.mapping == nil {
                throw EmbdiagError.malformed(path, "\(position(options)): 'options' of \(name) must be a mapping (option: value)")
            }
            if let require = m["require"], require.sequence == nil, require.scalar == nil {
                throw EmbdiagError.malformed(path, "\(position(require)): 'require' of \(name) must be a list of requirements")
            }
        }
    }

    static func checkKeys(_ mapping: Node.Mapping, allowed: [String], context: String, path: String) throws {
        for (key, _) in mapping {
            let k = key.string ?? "\(key)"
            guard allowed.contains(k) else {
                throw EmbdiagError.malformed(path, "\(position(key)): unknown key '\(k)' \(context)\(Suggestions.didYouMean(k, among: allowed)); known keys: \(allowed.joined(separator: ", "))")
            }
        }
    }

    static func position(_ node: Node) -> String {
        node.mark.map { "line \($0.line), column \($0.column)" } ?? "(no position)"
    }

    /// A YAML syntax error as "line L, column C: problem".
    static func describe(_ error: Error) -> String {
        if let y = error as? YamlError {
            switch y {
            case let .scanner(context, problem, mark, _), let .parser(context, problem, mark, _), let .composer(context, problem, mark, _):
                return "line \(mark.line), column \(mark.column): \(context.map { "\($0.text) " } ?? "")\(problem)"
            default: break
            }
        }
        return String(describing: error).split(separator: "\n").first.map(String.init) ?? "invalid YAML"
    }
}
