import ArgumentParser
import EmbeddingDiagnostics
import Foundation

/// `embdiag bias sentences`: the sentences of a SEAT audit, to embed with any model.
struct BiasSentencesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sentences",
        abstract: "Write the sentences of a SEAT audit (May et al. 2019): the test's words in bleached templates, one TSV row per sentence.",
        usage: "embdiag bias sentences (--weat 1,6,7 | --targets X Y --attributes A B) [--templates default|FILE] [--bare-words] --output FILE",
        discussion: """
        Columns: test, role (X, Y, A, B), word, template, sentence. Embed the sentence column with \
        any model and pooling, one vector per row in the same order, then run \
        'embdiag bias --seat TABLE VECTORS'. Word classes of the bundled lists: names → name \
        templates, flowers/insects/instruments/weapons → noun templates, the rest → term templates. \
        Templates FILE: lines class<TAB>id<TAB>text with {word}, {Word} (capitalised) or {a} (a/an); \
        classes name, noun, plural, adjective, term. See Guides/Bias.md.
        Examples:
          embdiag bias sentences --weat 1,3,6,7 --output seat.tsv
          embdiag bias sentences --weat 7 --bare-words --output seat.tsv
          embdiag bias sentences --targets x.txt y.txt --attributes a.txt b.txt \\
              --classes name,name,term,term --templates my-templates.tsv --output seat.tsv
        """)

    @Option(parsing: .singleValue, help: "WEAT tests (1…10, wefe-1…wefe-10, wefe-gender), comma-separated or repeated.")
    var weat: [String] = []

    @Option(parsing: .upToNextOption, help: "Two target sets X Y (files or WEFE set names) for a custom test.")
    var targets: [String] = []

    @Option(parsing: .upToNextOption, help: "Two attribute sets A B (files or WEFE set names) for a custom test.")
    var attributes: [String] = []

    @Option(help: "Word classes of the custom test's X,Y,A,B (name, noun, plural, adjective, term).")
    var classes: String = "term,term,term,term"

    @Option(help: "Id of the custom test in the table.")
    var testId: String = "custom"

    @Option(help: "Templates: 'default' (embdiag's six bleached frames) or a file (class<TAB>id<TAB>text).")
    var templates: String = "default"

    @Flag(help: "Also write each bare word (template 'word'), for the word-level WEAT on the same encoder.")
    var bareWords = false

    // Not named `output`: that name is a report folder to every other command (checked and
    // created before the run); here it is one file, written atomically.
    @Option(name: .customLong("output"), help: "The TSV file to write (written atomically).")
    var table: String

    @Flag(name: .shortAndLong, help: "Print nothing on stdout.")
    var quiet = false

    func validate() throws {
        if !targets.isEmpty || !attributes.isEmpty {
            guard targets.count == 2, attributes.count == 2 else { throw ValidationError("--targets and --attributes take two sets each") }
        }
        if weat.isEmpty && targets.isEmpty { throw ValidationError("give --weat tests and/or --targets/--attributes") }
        if table.isEmpty { throw ValidationError("--output needs a file name") }
    }

    func run() throws {
        var requests: [SEATSentenceRequest] = []
        let names = weat.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) } }
        for n in names {
            guard !n.isEmpty, let t = StandardWordLists.weat(named: n) else {
                throw EmbdiagError.usage("--weat \(n.isEmpty ? "''" : n): unknown test (known: \(StandardWordLists.weatNames.joined(separator: ", ")))")
            }
            requests.append(SEATSentenceRequest(bundled: t))
        }
        if targets.count == 2 {
            let sets = try (targets + attributes).map { try WordListFile.resolveWords($0, option: "--targets/--attributes") }
            try requireDistinctSets(sets, targets: targets, attributes: attributes)
            let parts = classes.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            let parsed = parts.compactMap(SEATWordClass.init(rawValue:))
            guard parts.count == 4, parsed.count == 4 else {
                throw EmbdiagError.usage("--classes takes four word classes X,Y,A,B from \(SEATWordClass.allCases.map(\.rawValue).joined(separator: ", ")) (got \(classes))")
            }
            let test = WEATTest(id: testId, name: "\(testId): \(sets[0].name) vs \(sets[1].name) × \(sets[2].name) vs \(sets[3].name)",
                                targets: Array(sets[0..<2]), attributes: Array(sets[2..<4]), provenance: sets.map(\.provenance).joined(separator: "; "))
            requests.append(SEATSentenceRequest(test: test, classes: parsed))
        }
        guard !requests.isEmpty else { throw EmbdiagError.usage("--weat: no test named (got \(weat.map { "'\($0)'" }.joined(separator: ", ")))") }
        let set: SEATTemplates
        if templates == "default" {
            set = .standard
        } else {
            set = try SEATTemplates.read(templates)
        }
        let rows = try SEATSentences.generate(requests, templates: set, bareWords: bareWords)
        try AtomicFile.write(SEATSentences.tsv(rows), to: table)
        if !quiet {
            let tests = SEATSentences.orderedTests(rows)
            print("Wrote \(rows.count) sentences (\(tests.count) test\(tests.count == 1 ? "" : "s"): \(tests.joined(separator: ", ")); templates: \(set.provenance)) to \(table). Embed the sentence column in order, then: embdiag bias --seat \(table) VECTORS")
        }
    }
}

extension Embdiag {
    /// Parses a command line. `bias sentences …` is routed to its subcommand before parsing:
    /// swift-argument-parser parses a parent's own arguments before looking for a subcommand, and
    /// `bias` takes a positional FILE, which would swallow the word "sentences".
    static func parseRouting(_ arguments: [String]) throws -> ParsableCommand {
        if arguments.count >= 2, arguments[0] == "bias", arguments[1] == BiasSentencesCommand.configuration.commandName {
            return try BiasSentencesCommand.parseAsRoot(Array(arguments.dropFirst(2)))
        }
        return try parseAsRoot(arguments)
    }
}
