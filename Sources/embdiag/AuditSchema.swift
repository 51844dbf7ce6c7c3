import EmbeddingDiagnostics
import Foundation
import Yams

/// The keys an audit file may use. Unknown keys are an error naming the key, its line and the
/// closest known key: a misspelt `requires:` must not silently drop a gate.
enum AuditSchema {
    static let topLevel = ["title", "seed", "checks"]
    static let check = ["name", "command", "inputs", "options", "require", "description"]

    /// The range of `seed:`, as `--seed` takes it.
    static let seedRange = "a whole number in 0…\(UInt64.max), unquoted"

    /// Checks the keys and the type of every value of the parsed YAML tree (before decoding, which
    /// ignores unknown keys and whose messages carry no position): each error names the line and
    /// column of the value. A YAML null (`key:` with nothing after it, `~`, `null`) is never a
    /// value: it is an error too, not a default and not the text "null".
    static func validate(_ root: Node, path: String) throws {
        try refuseTags(root, path: path)
        guard let top = root.mapping else {
            throw EmbdiagError.malformed(path, "\(position(root)): an audit file is a mapping with 'checks:' (and optional 'title:', 'seed:')")
        }
        try checkKeys(top, allowed: topLevel, context: "at the top level", path: path)
        if let title = top["title"] { try requireText(title, "'title'", path: path) }
        if let seed = top["seed"] {
            guard let scalar = seed.scalar, scalar.style == .plain, UInt64(scalar.string) != nil else {
                let negative = seed.scalar?.string.hasPrefix("-") == true ? "; negative seeds are refused" : ""
                throw EmbdiagError.malformed(path, "\(position(seed)): seed \(shown(seed)) is not a seed: \(seedRange) (as --seed takes)\(negative)")
            }
        }
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
            for key in ["name", "command", "description"] {
                if let value = m[key] { try requireText(value, "'\(key)' of \(name)", path: path) }
            }
            if let inputs = m["inputs"] {
                guard let files = inputs.sequence else {
                    throw EmbdiagError.malformed(path, "\(position(inputs)): 'inputs' of \(name) must be a list of files, e.g. inputs: [a.npy, b.npy]")
                }
                for file in files { try requireText(file, "an input of \(name)", path: path) }
            }
            if let options = m["options"] {
                guard let mapping = options.mapping else {
                    throw EmbdiagError.malformed(path, "\(position(options)): 'options' of \(name) must be a mapping (option: value)")
                }
                for (key, value) in mapping {
                    let option = "option '\(key.string ?? "\(key)")' of \(name)"
                    if let values = value.sequence {
                        for v in values { try requireText(v, "a value of \(option)", path: path) }
                    } else {
                        try requireText(value, option, path: path)
                    }
                }
            }
            if let require = m["require"] {
                guard let items = require.sequence else {
                    throw EmbdiagError.malformed(path, "\(position(require)): 'require' of \(name) must be a list of requirements, e.g. require: [\"nan_rows == 0\"]")
                }
                for item in items {
                    try requireText(item, "a requirement of \(name)", path: path)
                    do { _ = try Requirement(parsing: item.scalar!.string) } catch let e as EmbdiagError {
                        throw EmbdiagError.malformed(path, "\(position(item)): \(name): \(e.message)")
                    }
                }
            }
        }
    }

    /// Refuses a YAML tag that gives a value another type than it is written with (`!!str 42`,
    /// `!!float 42`, `!!int "42"`, `! 42`) and any tag that is not a standard type
    /// (`!!python/object:…`, `!local`): the checks judge a value by how it is written (42 a number,
    /// '42' a text), so a tag is refused instead of being ignored. A tag that repeats the type a
    /// value has anyway (`!!int 42`, `!!str abc`) changes nothing and is accepted.
    /// - Complexity: O(nodes).
    static func refuseTags(_ node: Node, path: String) throws {
        // The tag as parsed (implicit when none was written; a quoted value's is str) and the
        // type the value has without one.
        let tag: String, written: String
        switch node {
        case .scalar(let scalar):
            tag = scalar.tag.description
            written = scalar.style == .plain ? Node.scalar(Node.Scalar(scalar.string)).tag.description : Tag.Name.str.rawValue
        case .mapping(let mapping):
            (tag, written) = (mapping.tag.description, Tag.Name.map.rawValue)
            for (key, value) in mapping {
                try refuseTags(key, path: path)
                try refuseTags(value, path: path)
            }
        case .sequence(let sequence):
            (tag, written) = (sequence.tag.description, Tag.Name.seq.rawValue)
            for item in sequence { try refuseTags(item, path: path) }
        default:
            return
        }
        guard tag != Tag.Name.implicit.rawValue && tag != written else { return }
        let yamlPrefix = "tag:yaml.org,2002:"
        let shownTag = tag.hasPrefix(yamlPrefix) ? "!!" + tag.dropFirst(yamlPrefix.count) : tag
        throw EmbdiagError.malformed(path, "\(position(node)): the YAML tag \(EmbdiagError.escapingControlCharacters(shownTag)) on \(shown(node)) is not taken: an audit file's values are read as written (42 a number, '42' a text, true a flag), so remove the tag (quote a value to make it a text)")
    }

    /// A single value (text, number or yes/no), not null, a list or a mapping.
    static func requireText(_ node: Node, _ what: String, path: String) throws {
        if node.scalar == nil || node.null != nil {
            let kind = node.mapping != nil ? "a mapping" : node.sequence != nil ? "a list" : "null (no value)"
            throw EmbdiagError.malformed(path, "\(position(node)): \(what) is \(kind); give one value (a text, a number, or true/false for a flag)\(node.scalar != nil ? ", or leave the key out" : "")")
        }
    }

    /// A scalar as written (quoted when it was), for messages.
    static func shown(_ node: Node) -> String {
        guard let s = node.scalar else { return node.mapping != nil ? "(a mapping)" : "(a list)" }
        switch s.style {
        case .singleQuoted: return "'\(s.string)'"
        case .doubleQuoted: return "\"\(s.string)\""
        default: return s.string.isEmpty ? "(empty)" : s.string
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
