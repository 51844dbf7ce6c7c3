@testable import EmbeddingDiagnostics
import Foundation

/// The harnesses of the files and texts that are not embedding readers: saved mappings, the SEAT
/// sentence table and templates, word lists, `--require` gates, PostgreSQL connection strings and
/// option values. Compiled into the libFuzzer binary (FUZZ_FORMAT picks one) and, through a
/// symlink, into the test target, whose replay test runs every file of fuzz/replay/<format>/.
///
/// Any `EmbdiagError` is a correct answer; a crash, a hang, another error type or a broken
/// invariant (thrown as `ReaderHarness.Violation`) is a bug. `@testable`: the connection-string
/// harness asks libpq's own parser (`PostgresLocation.connectionOptions`) for the password.
public enum ParserHarness {
    /// Every format this file takes; fuzz/run lists the same names.
    public static let formats = ["map", "seat", "wordlist", "gate", "postgres-url", "options"]

    /// Runs one input of `format`; `directory` is a scratch folder the harness may fill.
    /// - Complexity: linear in the input for the parsers; the SEAT analysis of a parsed table is
    ///   bounded by `maximumSEATRows`, a mapping applied only up to `maximumMappingValues` weights.
    public static func run(format: String, bytes: Data, directory: String) throws {
        do {
            switch format {
            case "map": try mapping(bytes, directory: directory)
            case "seat": try seat(bytes, directory: directory)
            case "wordlist": try wordList(bytes, directory: directory)
            case "gate": try gates(bytes)
            case "postgres-url": try connectionStrings(bytes)
            case "options": try options(bytes, directory: directory)
            default: throw violation("unknown harness format '\(format)'")
            }
        } catch is EmbdiagError {
        } catch let v as ReaderHarness.Violation {
            throw v
        } catch {
            throw violation("\(format): a non-EmbdiagError escaped: \(error)")
        }
    }

    static let maximumSEATRows = 2_000
    static let maximumMappingValues = 1 << 20

    static func violation(_ what: String) -> ReaderHarness.Violation { ReaderHarness.Violation(description: what) }
    static func check(_ ok: Bool, _ what: @autoclosure () -> String) throws { if !ok { throw violation(what()) } }
    static func write(_ bytes: some DataProtocol, _ path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { throw violation("cannot write the scratch file \(path)") }
    }
    /// Lines of a text input (at most `limit`), for the one-value-per-line harnesses.
    static func lines(_ bytes: Data, limit: Int = 64) -> [String] {
        Array(String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).prefix(limit).map(String.init))
    }

    // MARK: mapping files

    /// A saved mapping (`compat --save-mapping OUT.npy`, read by `embdiag map`): the input is the
    /// JSON metadata followed by the .npy bytes, which start at the first .npy magic
    /// ("\x93NUMPY"); no magic, no weights file. Read through `MappingFile.read` — the entry point
    /// `embdiag map` uses, whatever mapping family the JSON names (linear maps, adapters) — as it is (the recorded
    /// checksums refuse nearly every mutation) and resealed: every `weights_sha256` and
    /// `bias_sha256` string replaced by the checksum of the bytes given, so that the checks behind
    /// the checksums see the mutated header, shape, values and bias. A mapping that reads maps a
    /// matrix of its input dimension to one of its output dimension; a linear one has finite
    /// weights and bias of its stated shape, the bias being every number the JSON lists.
    static func mapping(_ bytes: Data, directory: String) throws {
        let magic = Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59])
        let split = bytes.range(of: magic)?.lowerBound ?? bytes.endIndex
        let json = Data(bytes[..<split]), npy = Data(bytes[split...])
        let npyPath = directory + "/mapping.npy", jsonPath = directory + "/mapping.json"
        if npy.isEmpty { try? FileManager.default.removeItem(atPath: npyPath) } else { try write(npy, npyPath) }
        for candidate in [json, resealedMappingMetadata(json, weights: npy)] {
            try write(candidate, jsonPath)
            let mapping: FittedMapping
            do { mapping = try MappingFile.read(npyPath) } catch is EmbdiagError { continue }
            try check(mapping.inputDimension >= 1 && mapping.outputDimension >= 1, "map: a \(mapping.inputDimension) × \(mapping.outputDimension) mapping was read")
            if let map = mapping.linearMap {
                try check(map.weights.count == map.inputDimension * map.outputDimension && map.bias.count == map.outputDimension,
                          "map: \(map.weights.count) weights and \(map.bias.count) bias values for \(map.inputDimension) × \(map.outputDimension)")
                try check(map.weights.allSatisfy(\.isFinite) && map.bias.allSatisfy(\.isFinite), "map: non-finite weights or bias were read")
                // The bias the metadata holds, every entry a number, is the bias read (nothing skipped).
                let given = ((try? JSONSerialization.jsonObject(with: candidate)) as? [String: Any])?["bias"] as? [Any]
                try check(given.map { g in g.count == map.bias.count && g.allSatisfy { v in (v as? NSNumber).map { !["c", "B"].contains(String(cString: $0.objCType)) } ?? false } } ?? true,
                          "map: a bias of \(given?.count ?? 0) JSON values, not all numbers, was read as \(map.bias.count) values")
            }
            guard mapping.parameterCount <= maximumMappingValues, mapping.inputDimension <= maximumMappingValues else { continue }
            let x = Matrix(rows: 2, cols: mapping.inputDimension, values: (0..<(2 * mapping.inputDimension)).map { Float($0 % 7) - 3 })
            let y = try mapping.apply(x)
            try check(y.rows == 2 && y.cols == mapping.outputDimension, "map: applied to 2 × \(mapping.inputDimension) it gave \(y.rows) × \(y.cols)")
        }
    }

    /// `json` with every "weights_sha256" and "parameters_sha256" (adapters) value set to the
    /// SHA-256 of `weights` and every "bias_sha256" value to the checksum of the bias as the JSON
    /// gives it back.
    static func resealedMappingMetadata(_ json: Data, weights: Data) -> Data {
        var text = String(decoding: json, as: UTF8.self)
        func replace(_ key: String, with value: String) {
            guard let re = try? NSRegularExpression(pattern: "(\"\(key)\"\\s*:\\s*)\"[^\"]*\"") else { return }
            text = re.stringByReplacingMatches(in: text, range: NSRange(text.startIndex..., in: text),
                                               withTemplate: "$1\"" + NSRegularExpression.escapedTemplate(for: value) + "\"")
        }
        replace("weights_sha256", with: Checksum.sha256(weights))
        replace("parameters_sha256", with: Checksum.sha256(weights))
        if let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any], let bias = object["bias"] as? [Any] {
            replace("bias_sha256", with: MappingFile.biasChecksum(bias.compactMap { ($0 as? NSNumber)?.doubleValue }))
        }
        return Data(text.utf8)
    }

    // MARK: SEAT

    /// The input as a SEAT sentence table (`bias --seat`) and as a templates file (`bias
    /// sentences --templates`). A table that reads is written back (`SEATSentences.tsv`) to the
    /// same rows and, up to `maximumSEATRows` rows, audited on made-up vectors. Templates that read
    /// write, for WEAT 1 under two class assignments, a table that reads back to the same rows.
    static func seat(_ bytes: Data, directory: String) throws {
        let path = directory + "/sentences.tsv"
        try write(bytes, path)
        do {
            let rows = try SEATSentences.read(path)
            try roundTrip(rows, "seat table")
            if rows.count <= maximumSEATRows { try audit(rows) }
        } catch is EmbdiagError {}
        let templates: SEATTemplates
        do { templates = try SEATTemplates.read(path) } catch is EmbdiagError { return }
        try check(!templates.templates.isEmpty, "seat templates: an empty set was read")
        guard templates.templates.count <= 64, let weat1 = StandardWordLists.weat(named: "1") else { return }
        for classes: [SEATWordClass] in [[.name, .noun, .plural, .adjective], [.term, .term, .noun, .noun]] {
            let rows: [SEATSentence]
            do { rows = try SEATSentences.generate([SEATSentenceRequest(test: weat1, classes: classes)], templates: templates, bareWords: true) } catch is EmbdiagError { continue }
            try roundTrip(rows, "seat templates \(classes.map(\.rawValue))")
        }
    }

    /// What `bias sentences` writes, `bias --seat` reads back unchanged.
    static func roundTrip(_ rows: [SEATSentence], _ what: String) throws {
        let again: [SEATSentence]
        do { again = try SEATSentences.parse(SEATSentences.tsv(rows), path: "written.tsv") } catch let e as EmbdiagError {
            throw violation("\(what): the table written from \(rows.count) rows does not read back: \(e)")
        }
        try check(again == rows, "\(what): the table written from \(rows.count) rows reads back differently")
    }

    /// The SEAT audit of `rows` on deterministic, finite, non-zero 3-dimensional vectors (few
    /// permutations): it must give a report or an input error.
    static func audit(_ rows: [SEATSentence]) throws {
        let values = (0..<(rows.count * 3)).map { (i: Int) -> Float in Float(sin(Double(i) * 0.7 + 0.3)) + (i % 3 == 0 ? 2 : 0) }
        let vectors = Embeddings(matrix: Matrix(rows: rows.count, cols: 3, values: values), name: "vectors.npy")
        var configuration = SEATConfiguration()
        configuration.permutation.permutations = 16
        configuration.permutation.exactLimit = 16
        let analysis = try SEATAnalysis(sentences: rows, vectors: vectors, tablePath: "sentences.tsv", configuration: configuration)
        try check(analysis.tests.count == SEATSentences.orderedTests(rows).count, "seat: \(analysis.tests.count) results for \(SEATSentences.orderedTests(rows).count) tests")
        _ = analysis.report()
    }

    // MARK: word lists

    /// A word-list file (`bias --targets/--attributes/--neutral/--specific`, `bias sentences
    /// --targets`) and a groups file (`--definitional`, `--equalize`), read as the CLI resolves
    /// them. Groups that read have at least two words each. Words that read, used as all four
    /// lists of a custom SEAT test, give a sentence table that reads back to the same rows (or
    /// are refused when it is written).
    static func wordList(_ bytes: Data, directory: String) throws {
        let path = directory + "/words.txt"
        try write(bytes, path)
        do {
            let groups = try WordListFile.resolveGroups(path, option: "--definitional", named: { _ in nil })
            try check(groups.groups.allSatisfy { $0.count >= 2 }, "wordlist: a group of fewer than two words was accepted")
        } catch is EmbdiagError {}
        let list = try WordListFile.resolveWords(path, option: "--targets")
        guard !list.words.isEmpty, list.words.count <= 64 else { return }
        let test = WEATTest(id: "custom", name: "custom", targets: [list, list], attributes: [list, list], provenance: list.provenance)
        let rows: [SEATSentence]
        do { rows = try SEATSentences.generate([SEATSentenceRequest(test: test, classes: [.name, .noun, .plural, .term])], templates: .standard, bareWords: true) } catch is EmbdiagError { return }
        try roundTrip(rows, "wordlist")
    }

    // MARK: gates

    /// Each line as a `--require` expression (also the audit's `require:`). One that parses is
    /// printed (`description`, the gates table) as a text that parses back to the same
    /// requirement, and evaluates on a report of a number, a yes/no and a missing (NaN) metric
    /// to an outcome or a usage error.
    static func gates(_ bytes: Data) throws {
        let report = Report(analyzer: "fuzz", title: "fuzz", metrics: [
            ReportMetric("x", "a number", .double(0.5)), ReportMetric("n", "a count", .int(3)),
            ReportMetric("flag", "yes/no", .bool(true)), ReportMetric("missing", "NaN", ReportValue(Double.nan)),
        ])
        for line in lines(bytes) {
            let r: Requirement
            do { r = try Requirement(parsing: line) } catch is EmbdiagError { continue }
            try check(!r.metric.isEmpty && r.threshold.isFinite, "gate '\(line)': parsed to '\(r.metric)' \(r.threshold)")
            let again: Requirement
            do { again = try Requirement(parsing: r.description) } catch let e as EmbdiagError {
                throw violation("gate '\(line)': its printed form '\(r.description)' does not parse: \(e)")
            }
            try check(again == r, "gate '\(line)': printed as '\(r.description)', which parses to \(again.metric) \(again.comparison.rawValue) \(again.threshold)")
            for metric in ["x", "n", "flag", "missing", r.metric] {
                var probe = r
                probe.metric = metric
                do { _ = try report.evaluate([probe]) } catch is EmbdiagError {}
            }
        }
    }

    // MARK: PostgreSQL connection strings

    /// Each line as a `postgresql://` URL or a libpq key=value connection string, and inside a
    /// message. When embdiag takes it, its printable forms (`redacted`, `printable`,
    /// `redactingURLs`) do not contain the password, nor when it is refused the message and (unless
    /// it is refused for a space or quote, where a message cannot know where the URL ends) the
    /// printable forms. The password is the one libpq reads from the line and, for every URL in
    /// the line, the one its writer may have meant: from the ':' after the user name to the last
    /// '@', or to the first '@' after that ':' (a raw '@', '/' or '?' in a password: libpq reads
    /// something else). Checked when the password is at least 4 characters and occurs once in the
    /// line, so it cannot be part of another field.
    static func connectionStrings(_ bytes: Data) throws {
        for line in lines(bytes, limit: 16) where !line.contains("\0") {
            _ = PostgresLocation.isSource(line)
            // Every printable form of an input embdiag takes as a source; of one it refuses, the
            // refusal and how a message quoting it is shown.
            let quoted = [PostgresLocation.printable(line), PostgresLocation.redactingURLs(in: "cannot read \(line): refused"),
                          PostgresLocation.redactingURLs(in: line)]
            var shown: [String]
            var handedToLibpq = line
            do {
                let location = try PostgresLocation(line)
                shown = [location.redacted] + quoted
                handedToLibpq = location.connectionURL
            } catch let e as EmbdiagError {
                shown = [e.description] + (e.message == PostgresLocation.Refusal.whitespace ? [] : quoted)
            }
            let libpqOptions = PostgresLocation.connectionOptions(handedToLibpq) ?? []
            var passwords: [(String, libpq: Bool)] = libpqOptions.first { $0.key == "password" }.map { [($0.value, true)] } ?? []
            let urls = urlTokens(line)
            passwords += urls.flatMap(\.meant).map { ($0, false) }
            // The user name glued to the marker that replaces an ambiguous password is shown too.
            let glued = urls.map { $0.user + ":(redacted)@(redacted)" }.joined(separator: "\u{0}")
            for (password, fromLibpq) in passwords {
                try checkHidden(password, of: line, in: shown, libpqOptions: fromLibpq || !PostgresLocation.isURL(line) ? libpqOptions : [],
                                alsoShown: glued)
            }
        }
    }

    /// Each `postgres://` URL in `line` (URLs end at whitespace or a double quote, as for the
    /// message filter): its start up to the end of the user name (the first ':', '@', '/', '?' or
    /// '#' after `://`), and the passwords its writer may have meant: from the ':' that ends the
    /// user name to the last '@' and to the first '@' after it.
    static func urlTokens(_ line: String) -> [(user: String, meant: [String])] {
        // By Unicode scalars, as the filter and libpq read it (a combining mark after a delimiter
        // does not hide it).
        let s = Array(line.unicodeScalars)
        var found: [(user: String, meant: [String])] = [], i = 0
        while i < s.count {
            let scheme = PostgresLocation.urlSchemeLength(s, at: i)
            guard scheme > 0 else { i += 1; continue }
            var end = i
            while end < s.count, !s[end].properties.isWhitespace, s[end] != "\"" { end += 1 }
            let from = i + scheme
            let userEnd = s[from..<end].firstIndex { ":@/?#".unicodeScalars.contains($0) } ?? end
            var meant: [String] = []
            if userEnd < end, s[userEnd] == ":", let last = s[from..<end].lastIndex(of: "@"), userEnd < last {
                meant.append(PostgresLocation.string(s[(userEnd + 1)..<last]))
                if let first = s[(userEnd + 1)..<end].firstIndex(of: "@"), first < last { meant.append(PostgresLocation.string(s[(userEnd + 1)..<first])) }
            }
            found.append((PostgresLocation.string(s[i..<userEnd]), meant))
            i = end
        }
        return found
    }

    /// Words of embdiag's and libpq's messages about connection strings: a piece of a password
    /// they spell is shown by the message, not leaked.
    static let connectionMessageWords = (PostgresLocation.Refusal.all + [
        "cannot read : refused password=(redacted) :(redacted)@ not a postgresql:// URL or a key=value connection string (host=… dbname=…) is not valid percent-encoding",
        ": libpq cannot read the URL: invalid URI query parameter: \"(redacted)\"",
        "unexpected character at position in URI (expected \":\" or \"/\"):",
        "end of string reached when looking for matching \"]\" in IPv6 host address in URI:",
        "IPv6 host address may not be empty in URI:", "invalid URI propagated to internal parser routine",
        "extra key/value separator \"=\" in URI query parameter:", "missing key/value separator \"=\" in URI query parameter:",
        "invalid percent-encoded token: \"(redacted)\"", "forbidden value %00 in percent-encoded value: \"(redacted)\"",
    ]).joined(separator: "\u{0}")

    /// Throws if `password` (at least 4 characters, once in `line`) or a piece of 6 of its
    /// characters found nowhere else in the line or the messages' words is in one of `shown` — a
    /// redaction that stops early at a quote, backslash or '@' inside the value leaks its rest.
    /// `libpqOptions`: values the printable form shows decoded (escapes removed), which may spell a
    /// piece by chance; `alsoShown`: other text the printed forms show legitimately.
    static func checkHidden(_ password: String, of line: String, in shown: [String], libpqOptions: [(key: String, value: String)],
                            alsoShown: String = "") throws {
        guard password.count >= 4, line.components(separatedBy: password).count == 2, let at = line.range(of: password) else { return }
        // (The line as the refusal message quotes it: "cannot read " glued to its start can
        // spell a piece too.)
        let elsewhere = "cannot read " + String(line[..<at.lowerBound]) + "\u{0}" + String(line[at.upperBound...]) + ": refused"
            + "\u{0}" + connectionMessageWords + "\u{0}" + alsoShown
            + libpqOptions.filter { $0.key != "password" }.map {
                let value = $0.value.replacingOccurrences(of: password, with: "\u{0}")
                return "\u{0}" + value + "\u{0}" + PostgresLocation.quotedConnectionValue(value)
            }.joined()
        // A password the messages' own words spell ("(redacted)", the marker that replaces every
        // password alike) is not shown by them.
        for s in shown where s.contains(password) && !elsewhere.contains(password) {
            throw violation("postgres-url: the password '\(password)' of '\(line)' is shown in '\(s)'")
        }
        let characters = Array(password)
        guard characters.count >= 6 else { return }
        for start in 0...(characters.count - 6) {
            let piece = String(characters[start..<(start + 6)])
            guard !elsewhere.contains(piece) else { continue }
            for s in shown where s.contains(piece) {
                throw violation("postgres-url: '\(piece)' of the password '\(password)' of '\(line)' is shown in '\(s)'")
            }
        }
    }

    // MARK: option values and small list files

    /// Each line as the value of `--memory-budget` / EMBDIAG_MEMORY_BUDGET, `--fit`, `--new
    /// truncate:D|int8|binary` and `--transform`; the whole input as `--anchor-rows`,
    /// `--anchor-labels` (relrep) and `--train-rows` (compat) files. A budget that parses is at
    /// least one byte; a fit prints as a text that parses back to it; anchor rows are in range and
    /// distinct; training rows are positions among the paired rows.
    static func options(_ bytes: Data, directory: String) throws {
        for line in lines(bytes) {
            if let b = try? MemoryBudget.parse(line, origin: "--memory-budget") {
                try check(b.bytes >= 1, "options: memory budget '\(line)' parsed to \(b.bytes) bytes")
            }
            if let fit = try? MappingFit(parsing: line) {
                let again = try? MappingFit(parsing: fit.description)
                try check(again == fit, "options: fit '\(line)' prints as '\(fit.description)', which parses to \(again.map(String.init(describing:)) ?? "an error")")
            }
            if let c = try? Compression.parse(line) {
                try check((try? Compression.parse(c.description)) == c, "options: compression '\(line)' does not round-trip")
            }
            if let step = try? IsotropyStep(parsing: line) {
                try check((try? IsotropyStep(parsing: step.description)) == step, "options: transform '\(line)' prints as '\(step.description)'")
            }
        }
        let path = directory + "/rows.txt"
        try write(bytes, path)
        do {
            let rows = try AnchorFile.readRows(path: path, rowCount: 100)
            try check(!rows.isEmpty && rows.allSatisfy { (0..<100).contains($0) } && Set(rows).count == rows.count, "options: anchor rows \(rows)")
        } catch is EmbdiagError {}
        do {
            let labels = try AnchorFile.readLabels(path: path)
            try check(!labels.isEmpty && !labels.contains(""), "options: anchor labels with an empty one")
        } catch is EmbdiagError {}
        let paired = Array(stride(from: 0, to: 100, by: 2)), ids = paired.map { "id\($0)" }
        for names in [nil, ids] {
            do {
                let positions = try TrainRowsList.read(path).positions(pairedRows: paired, rowCount: 100, ids: names)
                try check(positions.allSatisfy { paired.indices.contains($0) }, "options: training rows outside the paired rows")
            } catch is EmbdiagError {}
        }
    }
}
