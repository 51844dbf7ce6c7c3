import Foundation

/// The role of a word in a WEAT/SEAT test: targets X, Y and attributes A, B.
public enum SEATRole: String, Sendable, CaseIterable {
    case x = "X", y = "Y", a = "A", b = "B"
}

/// One sentence to embed: which test, role and word it stands for, and which template made it.
public struct SEATSentence: Sendable, Equatable {
    public let test: String
    public let role: SEATRole
    public let word: String
    /// The template id, or `word` for the bare word (word-level WEAT on the same encoder).
    public let template: String
    public let sentence: String
    public init(test: String, role: SEATRole, word: String, template: String, sentence: String) {
        self.test = test
        self.role = role
        self.word = word
        self.template = template
        self.sentence = sentence
    }
}

/// A test to write sentences for: the WEAT test and the word class of each of X, Y, A, B.
public struct SEATSentenceRequest: Sendable {
    public let test: WEATTest
    public let classes: [SEATWordClass]
    public init(test: WEATTest, classes: [SEATWordClass]) {
        precondition(classes.count == 4, "one word class for each of X, Y, A, B")
        self.test = test
        self.classes = classes
    }

    /// The request with the word classes of the bundled lists (names, count nouns, and the
    /// mixed lists — pleasant words, career words, pronouns — as `term`).
    public init(bundled test: WEATTest) {
        self.init(test: test, classes: (test.targets + test.attributes).map { SEATSentences.wordClass(ofList: $0.name) })
    }
}

/// Writing and reading the sentence table of a SEAT audit (May et al. 2019): `embdiag bias
/// sentences` writes it, the user embeds the `sentence` column in order, `embdiag bias --seat`
/// reads it back next to the vectors.
public enum SEATSentences {
    /// The template id of a bare word.
    public static let bareWordTemplate = "word"
    /// The header line of the table.
    public static let header = ["test", "role", "word", "template", "sentence"]

    /// The word class of a bundled list, from its name.
    public static func wordClass(ofList name: String) -> SEATWordClass {
        let n = name.lowercased()
        if n.contains("name") { return .name }
        if ["flowers", "insects", "instruments", "weapons"].contains(n) { return .noun }
        return .term
    }

    /// The sentences of every request: for each test, role (X, Y, A, B), word and template of the
    /// role's class, in that order; with `bareWords`, the word itself too (template `word`).
    /// - Complexity: O(words × templates).
    public static func generate(_ requests: [SEATSentenceRequest], templates: SEATTemplates, bareWords: Bool) throws -> [SEATSentence] {
        guard !requests.isEmpty else { throw EmbdiagError.usage("no test to write sentences for") }
        var out: [SEATSentence] = []
        var ids = Set<LabelKey>()
        for r in requests {
            guard ids.insert(LabelKey(r.test.id)).inserted else { throw EmbdiagError.usage("test '\(r.test.id)' is asked for twice") }
            guard validTestId(r.test.id) else { throw EmbdiagError.usage("test id '\(r.test.id)' must be letters, digits, '-', '_' or '.'") }
            let sets = r.test.targets + r.test.attributes
            for (k, role) in SEATRole.allCases.enumerated() {
                let frames = templates.templates(for: r.classes[k])
                guard !frames.isEmpty else {
                    throw EmbdiagError.usage("test \(r.test.id): no \(r.classes[k].rawValue) templates in the template set (\(templates.provenance)) for \(sets[k].name)")
                }
                guard !sets[k].words.isEmpty else { throw EmbdiagError.usage("test \(r.test.id): the \(role.rawValue) list \(sets[k].name) is empty") }
                var seen = Set<LabelKey>()
                for w in sets[k].words {
                    if let problem = cellProblem(w) {
                        throw EmbdiagError.usage("test \(r.test.id): word '\(EmbdiagError.escapingControlCharacters(w))' of \(sets[k].name) \(problem) (it cannot go into a cell of the table)")
                    }
                    // A list that names a word twice would weigh it twice: once is what the test means.
                    guard seen.insert(LabelKey(w)).inserted else { continue }
                    if bareWords { out.append(SEATSentence(test: r.test.id, role: role, word: w, template: bareWordTemplate, sentence: w)) }
                    for f in frames {
                        let sentence = f.sentence(for: w)
                        if let problem = cellProblem(f.id) ?? cellProblem(sentence) {
                            throw EmbdiagError.usage("test \(r.test.id): template \(EmbdiagError.escapingControlCharacters(f.id)) gives '\(EmbdiagError.escapingControlCharacters(sentence))', which \(problem) (it cannot go into a cell of the table)")
                        }
                        out.append(SEATSentence(test: r.test.id, role: role, word: w, template: f.id, sentence: sentence))
                    }
                }
            }
        }
        return out
    }

    /// Why `text` cannot be a cell of the table `parse` reads back, or nil: a tab, CR or LF
    /// anywhere (as Unicode scalars — "\r\n" is one Character, and a trailing CR merges with the
    /// line's LF), or nothing but spaces (`parse` refuses an empty cell).
    static func cellProblem(_ text: String) -> String? {
        if text.unicodeScalars.contains(where: { $0 == "\t" || $0 == "\n" || $0 == "\r" }) { return "contains a tab or line break" }
        if text.trimmingCharacters(in: .whitespaces).isEmpty { return "is empty or only spaces" }
        return nil
    }

    static func validTestId(_ id: String) -> Bool {
        !id.isEmpty && id.allSatisfy { $0.isLetter || $0.isNumber || "-_.".contains($0) }
    }

    /// The table as TSV text (header, then one line per sentence).
    /// - Complexity: O(total text).
    public static func tsv(_ rows: [SEATSentence]) -> String {
        var s = header.joined(separator: "\t") + "\n"
        for r in rows { s += [r.test, r.role.rawValue, r.word, r.template, r.sentence].joined(separator: "\t") + "\n" }
        return s
    }

    /// Parses a sentence table. Refused (naming the file and line): a missing or different header,
    /// a line without exactly five fields, an unknown role, an empty cell, the same (test, role,
    /// word, template) twice, and a test that lacks one of X, Y, A, B.
    /// - Complexity: O(file size).
    public static func parse(_ text: String, path: String) throws -> [SEATSentence] {
        var body = text
        if body.hasPrefix("\u{FEFF}") { body.removeFirst() }
        var lines = body.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }).map { l -> String in
            l.hasSuffix("\r") ? String(l.dropLast()) : String(l)
        }
        // One final newline ends the last line; anything blank after it is an error like any blank line.
        if lines.last == "" { lines.removeLast() }
        guard let first = lines.first else { throw EmbdiagError.malformed(path, "empty sentence table (expected the header \(header.joined(separator: "<TAB>")))") }
        guard first.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) == header else {
            throw EmbdiagError.malformed(path, "line 1: the header must be \(header.joined(separator: "<TAB>")) (the table `embdiag bias sentences` writes)")
        }
        var rows: [SEATSentence] = []
        var keys = Set<LabelKey>()
        for (i, line) in lines.enumerated().dropFirst() {
            let f = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard f.count == 5 else { throw EmbdiagError.malformed(path, "line \(i + 1): expected 5 tab-separated fields (test, role, word, template, sentence), got \(f.count)") }
            guard let role = SEATRole(rawValue: f[1]) else { throw EmbdiagError.malformed(path, "line \(i + 1): role '\(f[1])' is not X, Y, A or B") }
            if let empty = f.indices.first(where: { f[$0].trimmingCharacters(in: .whitespaces).isEmpty }) {
                throw EmbdiagError.malformed(path, "line \(i + 1): empty \(header[empty]) field")
            }
            guard keys.insert(LabelKey([f[0], f[1], f[2], f[3]].joined(separator: "\t"))).inserted else {
                throw EmbdiagError.malformed(path, "line \(i + 1): duplicate row (test \(f[0]), role \(f[1]), word '\(f[2])', template \(f[3])); each word appears once per template")
            }
            rows.append(SEATSentence(test: f[0], role: role, word: f[2], template: f[3], sentence: f[4]))
        }
        guard !rows.isEmpty else { throw EmbdiagError.malformed(path, "the sentence table has a header but no rows") }
        for test in orderedTests(rows) {
            let present = Set(rows.filter { LabelKey.same($0.test, test) && !LabelKey.same($0.template, bareWordTemplate) }.map(\.role))
            let missing = SEATRole.allCases.filter { !present.contains($0) }
            if !missing.isEmpty {
                throw EmbdiagError.malformed(path, "test \(test) has no template sentences for role\(missing.count == 1 ? "" : "s") \(missing.map(\.rawValue).joined(separator: ", ")) (every test needs X, Y, A and B)")
            }
            let bare = Set(rows.filter { LabelKey.same($0.test, test) && LabelKey.same($0.template, bareWordTemplate) }.map(\.role))
            if !bare.isEmpty && bare.count < 4 {
                throw EmbdiagError.malformed(path, "test \(test) has bare-word rows (template \(bareWordTemplate)) for \(SEATRole.allCases.filter { bare.contains($0) }.map(\.rawValue).joined(separator: ", ")) only; the word-level WEAT needs all of X, Y, A, B")
            }
        }
        return rows
    }

    /// Test ids in first-appearance order.
    public static func orderedTests(_ rows: [SEATSentence]) -> [String] {
        var seen = Set<LabelKey>()
        return rows.map(\.test).filter { seen.insert(LabelKey($0)).inserted }
    }
}
