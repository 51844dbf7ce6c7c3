import ArgumentParser
import EmbeddingDiagnostics
import Foundation

struct BiasCommand: ReportingCommand {
    static let configuration = CommandConfiguration(
        commandName: "bias",
        abstract: "Bias direction (PCA of definitional pairs), DirectBias, indirect bias, WEAT with exact/seeded permutation p-values, and hard debias.",
        discussion: """
        Bolukbasi et al. 2016 (direction, DirectBias_c, indirect bias β, hard debias), Caliskan et al. \
        2017 (WEAT), Manzini et al. 2019 (K-component subspace). Word lists are files (JSON, or plain \
        text: one word per line, one pair per line separated by tab, comma or space) or bundled names:
          --definitional bolukbasi   --equalize bolukbasi   --specific bolukbasi | bolukbasi-seed
          --neutral professions (303 = 320 professions − gender-specific) | professions-all
          --weat 1 … 10 (Caliskan's stimuli) | wefe-1 … wefe-10 | wefe-gender (WEFE's word sets)
          --targets/--attributes: files or WEFE set names (flowers, insects, pleasant_5, …)
        See Guides/Bias.md.
        Examples:
          embdiag bias data/words/googlenews-bolukbasi-subset.bin \\
              --definitional bolukbasi --weat 7
          embdiag bias words.bin --definitional bolukbasi --debias hard \\
              --write debiased.bin --output reports/bias
          embdiag bias words.bin --indirect softball,receptionist \\
              --indirect football,businessman
          embdiag bias texts.npy --labels texts.txt --targets x.txt y.txt \\
              --attributes a.txt b.txt
          embdiag bias words.bin --definitional bolukbasi \\
              --require "direct_bias<=0.05"
        Sentence encoders (SEAT, May et al. 2019): write the sentences, embed them, audit:
          embdiag bias sentences --weat 1,3,6,7 --output seat.tsv
          embdiag bias --seat seat.tsv vectors.npy --require "seat_template_robust == yes"
        """,
        subcommands: [BiasSentencesCommand.self])

    @OptionGroup var input: InputOptions
    @OptionGroup var outputOptions: OutputOptions
    @OptionGroup var gates: GateOptions
    @OptionGroup var seedOptions: SeedOptions

    @Argument(help: "Embedding file with row labels (word2vec/GloVe carry words; else --labels); with --seat, the vectors of the table's sentences.")
    var file: String

    @Option(help: "SEAT: the sentence table (from 'bias sentences'); FILE holds one vector per row, in the table's order.")
    var seat: String?

    @Option(help: "SEAT: the same sentences embedded another way (another pooling); effect sizes side by side.")
    var seatCompare: String?

    @Flag(help: "SEAT: analyse mean-centred sentence vectors (the raw ones are compared either way).")
    var center = false

    @Option(help: "SEAT: remove these directions (.npy, K × d, e.g. from --write-direction) from every vector and report the effect sizes after.")
    var removeDirection: String?

    @Option(help: "SEAT: significance level of the conclusions compared across templates.", transform: DecimalNumber.option)
    var alpha: Double = 0.05

    @Option(help: "Definitional pairs (file or 'bolukbasi'); default bolukbasi unless only WEAT is asked for.")
    var definitional: String?

    @Option(help: "Two words fixing the direction's sign, e.g. she,he (default: she,he if a pair, else the first pair).")
    var ends: String?

    @Option(help: "Neutral words for DirectBias (file or 'professions', 'professions-all').")
    var neutral: String = "professions"

    @Option(help: "Equalize pairs for hard debias (file or 'bolukbasi').")
    var equalize: String = "bolukbasi"

    @Option(help: "Gender-specific words left alone by hard debias (file, 'bolukbasi' or 'bolukbasi-seed').")
    var specific: String = "bolukbasi"

    @Option(parsing: .singleValue, help: "A WEAT test: 1…10, wefe-1…wefe-10, wefe-gender, or 'all' (repeatable).")
    var weat: [String] = []

    @Option(parsing: .upToNextOption, help: "Two target sets X Y (files or WEFE set names) for a custom WEAT.")
    var targets: [String] = []

    @Option(parsing: .upToNextOption, help: "Two attribute sets A B (files or WEFE set names) for a custom WEAT.")
    var attributes: [String] = []

    @Option(help: "Debias method: hard (neutralize + equalize).")
    var debias: String?

    @Option(help: "With --debias: write the debiased matrix here (.bin/.txt word2vec with words, or .npy).")
    var write: String?

    @Option(help: "How the direction is found: pca (definitional pairs, default), single (the --ends pair: she − he) or sum (first words − second words of the pairs); responsibly's methods.")
    var direction: String = "pca"

    @Option(help: "Write the unit direction (1 × d) or the K-dimensional subspace (K × d) as .npy.")
    var writeDirection: String?

    @Option(help: "Principal components spanning the bias subspace (K > 1: multiclass, Manzini et al.).")
    var components: Int = 1

    @Option(help: "c of DirectBias_c.", transform: DecimalNumber.option)
    var strictness: Double = 1

    @Option(help: "Neutral words listed per side; indirect-bias pairs found.")
    var top: Int = 10

    @Option(parsing: .singleValue, help: "A pair w,v for indirect bias β (repeatable).")
    var indirect: [String] = []

    @Option(help: "Indirect-bias search: pairs of neutral words with cosine at least this.", transform: DecimalNumber.option)
    var indirectMinSimilarity: Double = 0.5

    @Option(help: "Random splits for WEAT p-values when exact enumeration exceeds --exact-limit.")
    var permutations: Int = 100_000

    @Option(help: "Enumerate all splits when their number is at most this.")
    var exactLimit: Int = 1_000_000

    @Option(help: "WEAT: minimum words left in each target set after dropping missing ones.")
    var weatMinWords: Int = 2


    @Flag(help: "Match words to labels ignoring case.")
    var caseInsensitive = false

    @Flag(help: "Do not expand equalize/specific words to lower/UPPER/Title forms.")
    var noCaseForms = false

    @Option(help: "Neighbours per neutral word for the geometry-change measure (debias).")
    var neighbors: Int = 10

    @Option(help: "Search those neighbours among the first N rows (0 = all).")
    var neighborVocabulary: Int = 100_000


    func validate() throws {
        if seat != nil {
            let wordOnly = [definitional != nil ? "--definitional" : nil, !weat.isEmpty ? "--weat" : nil, !targets.isEmpty ? "--targets" : nil,
                            debias != nil ? "--debias" : nil, !indirect.isEmpty ? "--indirect" : nil, write != nil ? "--write" : nil,
                            writeDirection != nil ? "--write-direction" : nil, ends != nil ? "--ends" : nil].compactMap { $0 }
            if !wordOnly.isEmpty { throw ValidationError("--seat audits a sentence table; \(wordOnly.joined(separator: ", ")) belong\(wordOnly.count == 1 ? "s" : "") to the word-vector audit (the table names the tests)") }
            if input.onInvalid == .drop { throw ValidationError("--seat: --on-invalid drop would misalign the vectors with the table's rows; fix or re-embed the rows instead") }
            if input.labels != nil { throw ValidationError("--seat: the table gives the rows' meaning; --labels is not used") }
            guard alpha > 0, alpha < 1 else { throw ValidationError("--alpha must be in (0, 1) (got \(alpha))") }
        } else if seatCompare != nil || center || removeDirection != nil {
            throw ValidationError("--seat-compare, --center and --remove-direction need --seat")
        }
        if !targets.isEmpty || !attributes.isEmpty {
            guard targets.count == 2, attributes.count == 2 else { throw ValidationError("--targets and --attributes take two sets each") }
        }
        if let d = debias, d != "hard" { throw ValidationError("--debias: only 'hard' is implemented") }
        if write != nil && debias == nil { throw ValidationError("--write needs --debias hard") }
        if components < 1 { throw ValidationError("--components must be at least 1") }
        if BiasDirectionMethod(rawValue: direction.lowercased()) == nil { throw ValidationError("--direction: use pca, single or sum (got \(direction))") }
        if let w = writeDirection, URL(fileURLWithPath: w).pathExtension.lowercased() != "npy" {
            throw ValidationError("--write-direction writes a .npy file (got \(w))")
        }
        if permutations < 1 { throw ValidationError("--permutations must be at least 1") }
        for p in indirect {
            let words = p.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard words.count == 2, !words[0].isEmpty, !words[1].isEmpty, words[0] != words[1] else { throw ValidationError("--indirect takes two different words w,v (got \(p))") }
        }
        try SettingRange.number(strictness, "--strictness", atLeast: 0)
        try SettingRange.integer(top, "--top", atLeast: 0)
        try SettingRange.number(indirectMinSimilarity, "--indirect-min-similarity", atLeast: -1, atMost: 1)
        try SettingRange.integer(exactLimit, "--exact-limit", atLeast: 0)
        try SettingRange.integer(weatMinWords, "--weat-min-words", atLeast: 1)
        try SettingRange.integer(neighbors, "--neighbors", atLeast: 1)
        try SettingRange.integer(neighborVocabulary, "--neighbor-vocabulary", atLeast: 0, meaning: "0 = all rows")
        if let e = ends {
            let parts = e.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts.contains("") else { throw ValidationError("--ends takes two words a,b (got '\(e)')") }
        }
    }

    var requirements: [Requirement] { gates.requirements }
    var seed: UInt64 { seedOptions.seed }

    func makeReports() throws -> [CommandReport] {
        if let seat { return [try seatReport(table: seat)] }
        var config = BiasConfiguration()
        var tests: [WEATTest] = []
        for name in weat {
            let names = name == "all" ? StandardWordLists.weatNames : [name]
            for n in names {
                guard let t = StandardWordLists.weat(named: n) else {
                    throw EmbdiagError.usage("--weat \(n): unknown test (known: \(StandardWordLists.weatNames.joined(separator: ", ")), all)")
                }
                tests.append(t)
            }
        }
        if targets.count == 2 {
            let sets = try (targets + attributes).map { try WordListFile.resolveWords($0, option: "--targets/--attributes") }
            try requireDistinctSets(sets, targets: targets, attributes: attributes)
            tests.append(WEATTest(id: "custom", name: "custom: \(sets[0].name) vs \(sets[1].name) × \(sets[2].name) vs \(sets[3].name)",
                                  targets: Array(sets[0..<2]), attributes: Array(sets[2..<4]),
                                  provenance: sets.map(\.provenance).joined(separator: "; ")))
        }
        let weatOnly = !tests.isEmpty && definitional == nil && debias == nil && indirect.isEmpty
        if !weatOnly {
            config.definitional = try WordListFile.resolveGroups(definitional ?? "bolukbasi", option: "--definitional", named: StandardWordLists.definitional(named:))
            config.neutral = try WordListFile.resolveWords(neutral, option: "--neutral")
        }
        config.ends = ends.map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }
        config.components = components
        config.directionMethod = BiasDirectionMethod(rawValue: direction.lowercased()) ?? .pca
        config.strictness = strictness
        config.top = top
        config.indirectPairs = indirect.map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } }
        config.indirectMinimumSimilarity = indirectMinSimilarity
        config.weat = tests
        config.weatSkipIncomplete = weat.contains("all")
        config.weatOptions.permutations = permutations
        config.weatOptions.exactLimit = exactLimit
        config.weatOptions.seed = seed
        config.weatOptions.minimumWords = max(1, weatMinWords)
        config.caseInsensitive = caseInsensitive
        config.expandCases = !noCaseForms
        config.neighbors = neighbors
        config.neighborVocabulary = neighborVocabulary
        if debias != nil {
            config.debias = true
            config.equalize = try WordListFile.resolveGroups(equalize, option: "--equalize", named: StandardWordLists.equalize(named:))
            config.specific = try WordListFile.resolveWords(specific, option: "--specific")
            // The input is not needed after the analysis: debias it in place (no second copy).
            config.reuseInputMemory = true
        }
        let (embeddings, dropped) = try input.readValidated(file, quiet: outputOptions.quiet)
        let analysis = try BiasAnalysis(embeddings, configuration: config)
        var output = CommandReport(report: analysis.report())
        if let write, let debiased = analysis.debiased {
            try EmbeddingWriter.write(debiased, to: write)
            output.written.append("Wrote the debiased matrix (\(debiased.count) × \(debiased.dimension), unit rows) to \(write).")
            output.parameters.append(ReportParameter("write", .string(write)))
        }
        if let writeDirection {
            guard let s = analysis.subspace else { throw EmbdiagError.usage("--write-direction needs a direction (--definitional)") }
            try EmbeddingWriter.writeNpy(s.basisMatrix, to: writeDirection)
            output.written.append("Wrote the \(s.method.rawValue) \(s.components == 1 ? "direction (1" : "subspace (\(s.components)") × \(s.dimension), unit rows, Float32) to \(writeDirection); project unit vectors x on it with x·gᵀ.")
            output.parameters.append(ReportParameter("write_direction", .string(writeDirection)))
        }
        if !dropped.isEmpty { output.droppedTables.append(dropped.reportTable(name: "dropped_rows", input: file)) }
        return [output]
    }

    /// SEAT mode: the sentence table, the vectors of its sentences, optional comparison pooling
    /// and directions to remove.
    func seatReport(table: String) throws -> CommandReport {
        let sentences = try SEATSentences.read(table)
        var config = SEATConfiguration()
        config.alpha = alpha
        config.center = center
        config.permutation.permutations = permutations
        config.permutation.exactLimit = exactLimit
        config.permutation.seed = seed
        // Rows are matched to sentences by position: nothing may be dropped or reordered.
        let vectors = try input.read(file, withLabels: false, quiet: outputOptions.quiet)
        if let other = seatCompare {
            config.compare = try EmbeddingReader.read(other, options: input.readOptions(showProgress: !outputOptions.quiet && Terminal.stderrIsTerminal))
        }
        if let path = removeDirection {
            let directions = try EmbeddingReader.read(path, options: ReadOptions(computeChecksum: false)).matrix
            guard directions.cols == vectors.dimension else {
                throw EmbdiagError.mismatch(path, "\(directions.rows) × \(directions.cols) directions; the vectors of \(file) have dimension \(vectors.dimension)")
            }
            config.removeDirections = directions
        }
        let analysis = try SEATAnalysis(sentences: sentences, vectors: vectors, tablePath: table, configuration: config)
        return CommandReport(report: analysis.report(), parameters: removeDirection.map { [ReportParameter("remove_direction", .string($0))] } ?? [])
    }
}

/// A WEAT/SEAT test compares two different target sets and two different attribute sets: the
/// same words on both sides give an effect size of 0/0 and a meaningless p-value.
/// - Complexity: O(words).
func requireDistinctSets(_ sets: [WordList], targets: [String], attributes: [String]) throws {
    for (option, pair, given) in [("--targets", Array(sets[0..<2]), targets), ("--attributes", Array(sets[2..<4]), attributes)]
    where Set(pair[0].words.map(LabelKey.init)) == Set(pair[1].words.map(LabelKey.init)) {
        throw EmbdiagError.usage("\(option) \(given[0]) \(given[1]): both sets hold the same words; a test compares two different sets")
    }
}
