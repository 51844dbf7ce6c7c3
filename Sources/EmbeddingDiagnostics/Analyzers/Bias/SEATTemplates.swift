import Foundation

/// The grammatical class of a word list, which decides the sentence frames its words go into
/// (a name takes "This is Amy.", a count noun "This is a tulip.", a plural "These are tulips.").
public enum SEATWordClass: String, Sendable, CaseIterable {
    case name, noun, plural, adjective, term
}

/// One semantically bleached sentence frame for one word class: `{word}` is the word,
/// `{Word}` the word with its first letter upper-cased (sentence start), `{a}` "a" or "an".
public struct SEATTemplate: Sendable, Equatable {
    /// The frame's id; the same id across classes marks the same frame ("this", "there", …), so
    /// that one template's sentences form a complete test on their own.
    public let id: String
    public let wordClass: SEATWordClass
    public let text: String
    public init(id: String, wordClass: SEATWordClass, text: String) {
        self.id = id
        self.wordClass = wordClass
        self.text = text
    }

    /// The sentence for `word`.
    /// - Complexity: O(length of the template and the word).
    public func sentence(for word: String) -> String {
        let capitalised = word.prefix(1).uppercased() + word.dropFirst()
        return text.replacingOccurrences(of: "{a}", with: Self.article(for: word))
            .replacingOccurrences(of: "{Word}", with: capitalised)
            .replacingOccurrences(of: "{word}", with: word)
    }

    /// "an" before a written vowel, else "a" (the spelling rule; "an hour", "a unicorn" are the
    /// known exceptions, absent from the bundled count-noun lists).
    static func article(for word: String) -> String {
        guard let first = word.lowercased().first else { return "a" }
        return "aeiou".contains(first) ? "an" : "a"
    }
}

/// A set of templates: every word class used by a test needs at least one.
public struct SEATTemplates: Sendable, Equatable {
    public let templates: [SEATTemplate]
    /// Where the set came from ("default" or a file path).
    public let provenance: String

    public init(templates: [SEATTemplate], provenance: String) {
        self.templates = templates
        self.provenance = provenance
    }

    /// The templates of one word class, in order.
    public func templates(for c: SEATWordClass) -> [SEATTemplate] { templates.filter { $0.wordClass == c } }

    /// Template ids in first-appearance order.
    public var ids: [String] {
        var seen = Set<LabelKey>()
        return templates.map(\.id).filter { seen.insert(LabelKey($0)).inserted }
    }

    /// embdiag's bleached templates: six frames, each with one form per word class, so that the
    /// sentences of one frame make a complete test. The frames say only that the thing exists or is
    /// pointed at (deixis and existence), in the spirit of May et al. (2019)'s sent-bias
    /// templates, so that whatever association the encoder shows comes from the word, not from
    /// the frame. Guides/Bias.md explains each frame.
    public static let standard: SEATTemplates = {
        let frames: [(id: String, forms: [SEATWordClass: String])] = [
            ("this", [.name: "This is {word}.", .noun: "This is {a} {word}.", .plural: "These are {word}.",
                      .adjective: "This is {word}.", .term: "This is {word}."]),
            ("that", [.name: "That is {word}.", .noun: "That is {a} {word}.", .plural: "Those are {word}.",
                      .adjective: "That is {word}.", .term: "That is {word}."]),
            ("there", [.name: "There is {word}.", .noun: "There is {a} {word}.", .plural: "There are {word}.",
                       .adjective: "They are {word}.", .term: "There is {word}."]),
            ("here", [.name: "Here is {word}.", .noun: "Here is {a} {word}.", .plural: "Here are {word}.",
                      .adjective: "It is {word}.", .term: "Here is {word}."]),
            ("is-here", [.name: "{Word} is here.", .noun: "The {word} is here.", .plural: "The {word} are here.",
                         .adjective: "Someone is {word}.", .term: "{Word} is here."]),
            ("is-there", [.name: "{Word} is there.", .noun: "The {word} is there.", .plural: "The {word} are there.",
                          .adjective: "Something is {word}.", .term: "{Word} is there."]),
        ]
        var out: [SEATTemplate] = []
        for c in SEATWordClass.allCases {
            for f in frames { out.append(SEATTemplate(id: f.id, wordClass: c, text: f.forms[c]!)) }
        }
        return SEATTemplates(templates: out, provenance: "default")
    }()

    /// A templates file: one template per line, `class<TAB>id<TAB>text` (class: name, noun,
    /// plural, adjective or term; text with `{word}`, `{Word}` or `{a}`); blank lines and lines
    /// starting with # are skipped.
    /// - Complexity: O(file size).
    public static func parse(_ text: String, path: String) throws -> SEATTemplates {
        var out: [SEATTemplate] = []
        var seen = Set<LabelKey>()
        var body = text
        if body.hasPrefix("\u{FEFF}") { body.removeFirst() }
        for (i, raw) in body.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).enumerated() {
            let line = raw.hasSuffix("\r") ? String(raw.dropLast()) : String(raw)
            if line.trimmingCharacters(in: .whitespaces).isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 3 else {
                throw EmbdiagError.malformed(path, "line \(i + 1): a template line is class<TAB>id<TAB>text (got \(fields.count) field\(fields.count == 1 ? "" : "s"))")
            }
            guard let c = SEATWordClass(rawValue: fields[0].trimmingCharacters(in: .whitespaces)) else {
                throw EmbdiagError.malformed(path, "line \(i + 1): unknown word class '\(fields[0])' (use \(SEATWordClass.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            let id = fields[1].trimmingCharacters(in: .whitespaces)
            guard !id.isEmpty, !LabelKey.same(id, SEATSentences.bareWordTemplate), id.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
                throw EmbdiagError.malformed(path, "line \(i + 1): template id '\(id)' must be letters, digits, '-', '_' or '.' (and not '\(SEATSentences.bareWordTemplate)')")
            }
            let t = fields[2]
            // A CR left in the text (a lone one, or a second before the line's CRLF) would end up
            // in every sentence and break the sentence table's lines.
            guard !t.unicodeScalars.contains("\r") else {
                throw EmbdiagError.malformed(path, "line \(i + 1): template text contains a carriage return")
            }
            guard t.contains("{word}") || t.contains("{Word}") else {
                throw EmbdiagError.malformed(path, "line \(i + 1): template '\(t)' has no {word} or {Word} placeholder")
            }
            guard seen.insert(LabelKey("\(c.rawValue)\t\(id)")).inserted else {
                throw EmbdiagError.malformed(path, "line \(i + 1): a second \(c.rawValue) template with id '\(id)'")
            }
            out.append(SEATTemplate(id: id, wordClass: c, text: t))
        }
        guard !out.isEmpty else { throw EmbdiagError.malformed(path, "no templates in the file") }
        return SEATTemplates(templates: out, provenance: "file \(path)")
    }
}
