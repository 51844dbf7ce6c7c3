import ArgumentParser
import EmbeddingDiagnostics
import Foundation

struct InfoCommand: ReportingCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Format, dtype, shape, norm statistics, NaN/Inf/zero rows, duplicate labels and SHA-256 of embedding files.",
        discussion: """
        Examples:
          embdiag info data/words/googlenews-bolukbasi-subset.bin
          embdiag info vectors.npz --key embeddings --json info.json
          # exit 1 if any file has NaN/Inf/zero rows or duplicate labels
          embdiag info a.npy b.npy --strict
        With several files and --output DIR, each file's report goes to DIR/<file name>/ (parent \
        folders are added to the name when two files share it); --json/--html take one file only.
        """)

    @OptionGroup var input: InputOptions
    @OptionGroup var outputOptions: OutputOptions
    @OptionGroup var gates: GateOptions
    @OptionGroup var partialOptions: PartialOptions

    @Flag(help: "Exit 1 when a file has NaN/Inf rows, all-zero rows or duplicate labels.")
    var strict = false

    @Argument(help: "Embedding files.")
    var files: [String]

    func validate() throws {
        if partialOptions.isActive && files.count != 1 { throw ValidationError("--partial writes the state of one shard: give one file (got \(files.count))") }
        // One --json/--html file cannot hold several reports: refuse instead of keeping the last.
        if files.count > 1, outputOptions.json != nil || outputOptions.html != nil {
            throw ValidationError("--json/--html write one report but \(files.count) files were given; use --output DIR (one folder per file) or run info once per file")
        }
        try validatePartial()
    }

    /// Report folder names under --output for several files: the file name, with as many parent
    /// folders as make it unique (`a/emb.npy`, `b/emb.npy` → `a_emb.npy`, `b_emb.npy`); the same
    /// path twice gets `-2`, `-3`.
    /// A PostgreSQL source is named from its printable form (`PostgresLocation.printable`: no
    /// user-info password, no `password=`), as one component with every character other than a
    /// letter, digit, `.`, `-` or `_` replaced by `_`: a folder name never holds a password.
    static func folderNames(_ files: [String]) -> [String] {
        let parts = files.map { f -> [String] in
            if f == "-" { return ["stdin"] }
            if PostgresLocation.isSource(f) { return [sourceFolderName(f)] }
            return URL(fileURLWithPath: f).standardized.pathComponents.filter { $0 != "/" }
        }
        var depth = Array(repeating: 1, count: files.count)
        func name(_ i: Int) -> String { parts[i].suffix(depth[i]).joined(separator: "_") }
        for _ in 0..<64 {
            var groups: [String: [Int]] = [:]
            for i in files.indices { groups[name(i), default: []].append(i) }
            var changed = false
            // Only different paths sharing a name get longer names; the same path twice is numbered below.
            for (_, members) in groups where Set(members.map { parts[$0] }).count > 1 {
                for i in members where depth[i] < parts[i].count { depth[i] += 1; changed = true }
            }
            if !changed { break }
        }
        var seen: [String: Int] = [:]
        return files.indices.map { i in
            let n = name(i)
            seen[n, default: 0] += 1
            return seen[n]! == 1 ? n : "\(n)-\(seen[n]!)"
        }
    }

    /// The folder name of a PostgreSQL source: its printable form, made a single safe component.
    static func sourceFolderName(_ source: String) -> String {
        let printable = PostgresLocation.printable(source)
        var name = String(String.UnicodeScalarView(printable.unicodeScalars.map { u in
            u.isASCII && (u.properties.isAlphabetic || ("0"..."9").contains(u) || u == "." || u == "-" || u == "_") ? u : "_"
        }))
        while name.contains("__") { name = name.replacingOccurrences(of: "__", with: "_") }
        name = String(name.trimmingCharacters(in: CharacterSet(charactersIn: "_.")).prefix(120))
        return name.isEmpty ? "postgresql" : name
    }

    var requirements: [Requirement] { gates.requirements }
    var writesState: Bool { partialOptions.isActive }

    func makeReports() throws -> [CommandReport] {
        if partialOptions.isActive { try runPartial(); return [] }  // a state file, no report
        let folders = Self.folderNames(files)
        return try files.enumerated().map { index, file in
            let clock = Stopwatch()
            let e = try input.read(file, quiet: outputOptions.quiet)
            let summary = EmbeddingSummary(e)
            let problems = strict && !summary.problems.isEmpty ? ["\(file): " + summary.problems.joined(separator: "; ")] : []
            return CommandReport(report: summary.report(), subfolder: files.count > 1 ? folders[index] : nil, failures: problems,
                                 elapsedSeconds: clock.seconds)
        }
    }
}
