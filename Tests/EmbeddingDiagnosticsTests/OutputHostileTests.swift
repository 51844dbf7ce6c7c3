import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// Hostile cases against where commands write: a full stdout, folders that do not exist, a
/// folder where a file goes, a file where a folder goes, two outputs naming one file, symbolic
/// links. Every output location is checked before the analysis starts: the inputs of these
/// command lines do not even exist, so an error about an output proves nothing was read first.
@Suite(.serialized) struct OutputHostileTests {
    /// A 40 × 6 float32 matrix in `dir`/x.npy.
    static func matrix(in dir: String) throws -> String {
        var g = SystemRandomNumberGenerator()
        let rows = (0..<40).map { _ in (0..<6).map { _ in Float.random(in: -1...1, using: &g) } }
        try CLI.writeNpy(rows, to: dir + "/x.npy")
        return dir + "/x.npy"
    }

    /// One command line per output option of every command (`{out}` is the output path). The
    /// option list is compared with the CLI's own help below: a new output option must be added
    /// here, and is then checked like the others.
    static let outputOptions: [(command: String, option: String, arguments: [String])] = [
        ("info", "--output", ["info", "never-read.npy", "--output", "{out}"]),
        ("info", "--json", ["info", "never-read.npy", "--json", "{out}"]),
        ("info", "--html", ["info", "never-read.npy", "--html", "{out}"]),
        ("info", "--partial", ["info", "never-read.npy", "--partial", "{out}", "--row-offset", "0"]),
        ("neighbors", "--json", ["neighbors", "never-read.npy", "--json", "{out}"]),
        ("neighbors", "--partial", ["neighbors", "never-read.npy", "--queries", "q.npy", "--partial", "{out}", "--row-offset", "0"]),
        ("anisotropy", "--html", ["anisotropy", "never-read.npy", "--html", "{out}"]),
        ("anisotropy", "--partial", ["anisotropy", "never-read.npy", "--partial", "{out}", "--row-offset", "0"]),
        ("anisotropy", "--save-transform", ["anisotropy", "never-read.npy", "--transform", "whiten", "--save-transform", "{out}"]),
        ("anisotropy", "--write", ["anisotropy", "never-read.npy", "--transform", "whiten", "--write", "{out}"]),
        ("depth", "--json", ["depth", "never-read.npy", "other.npy", "--json", "{out}"]),
        ("depth", "--partial", ["depth", "never-read.npy", "--partial", "{out}", "--row-offset", "0"]),
        ("depth", "--write", ["depth", "never-read.npy", "other.npy", "--select-central", "5", "--write", "{out}"]),
        ("shift", "--html", ["shift", "never-read.npy", "other.npy", "--html", "{out}"]),
        ("relrep", "--write", ["relrep", "never-read.npy", "--write", "{out}"]),
        ("relrep", "--json", ["relrep", "never-read.npy", "--json", "{out}"]),
        ("bias", "--write", ["bias", "never-read.bin", "--debias", "hard", "--write", "{out}"]),
        ("bias", "--write-direction", ["bias", "never-read.bin", "--write-direction", "{out}"]),
        ("bias", "--output", ["bias", "never-read.bin", "--output", "{out}"]),
        ("compat", "--save-mapping", ["compat", "--old", "never-read.npy", "--new", "other.npy", "--fit", "rotation", "--save-mapping", "{out}"]),
        ("compat", "--partial", ["compat", "--old", "never-read.npy", "--new", "other.npy", "--old-queries", "q.npy", "--new-queries", "q.npy", "--partial", "{out}", "--row-offset", "0"]),
        ("compat", "--json", ["compat", "--old", "never-read.npy", "--new", "other.npy", "--json", "{out}"]),
        ("merge", "--state-out", ["merge", "never-read.state", "--state-out", "{out}"]),
        ("merge", "--html", ["merge", "never-read.state", "--html", "{out}"]),
        ("audit", "--json", ["audit", "{yaml}", "--json", "{out}"]),
        ("audit", "--output", ["audit", "{yaml}", "--output", "{out}"]),
        ("convert", "OUTPUT", ["convert", "never-read.npy", "{out}"]),
        ("map", "OUTPUT", ["map", "--mapping", "m.npy", "never-read.npy", "{out}"]),
        ("fingerprint", "--write", ["fingerprint", "never-read.npy", "--write", "{out}"]),
        ("shift", "--save-reference", ["shift", "never-read.npy", "--save-reference", "{out}"]),
    ]

    /// Options that are not outputs although their help mentions writing or saving (inputs
    /// written by another command, a permission flag).
    static let notOutputs: Set<String> = ["--apply-transform", "--mapping", "--allow-writes-outside", "--remove-direction", "--reference"]

    @Test func everyOutputOptionOfEveryCommandIsListed() throws {
        let help = try CLI.run(["--experimental-dump-help"])
        #expect(help.status == 0)
        let root = try #require((try JSONSerialization.jsonObject(with: Data(help.stdout.utf8)) as? [String: Any])?["command"] as? [String: Any])
        var found: Set<String> = []
        for command in root["subcommands"] as? [[String: Any]] ?? [] {
            let name = command["commandName"] as? String ?? ""
            for argument in command["arguments"] as? [[String: Any]] ?? [] {
                let abstract = (argument["abstract"] as? String ?? "").lowercased()
                let long = (argument["names"] as? [[String: Any]] ?? []).first { $0["kind"] as? String == "long" }?["name"] as? String
                let words = abstract.split { !$0.isLetter }.map(String.init)
                guard let long, !words.filter({ ["write", "writes", "save", "folder"].contains($0) }).isEmpty else { continue }
                if !Self.notOutputs.contains("--" + long) { found.insert("\(name) --\(long)") }
            }
        }
        let listed = Set(Self.outputOptions.map { "\($0.command) \($0.option)" })
        // Every output option of every command has a line above (the report options are listed
        // for some commands only: they are one OptionGroup, shared by all).
        let shared: Set<String> = ["--output", "--json", "--html"]
        for option in found where !listed.contains(option) {
            let flag = String(option.split(separator: " ")[1])
            #expect(shared.contains(flag), "\(option) writes files but has no pre-flight case in OutputHostileTests.outputOptions")
        }
        #expect(found.count >= 40, "\(found.sorted())")
    }

    @Test func everyOutputIsCheckedBeforeAnythingIsRead() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/a-folder.npy", withIntermediateDirectories: false)
        FileManager.default.createFile(atPath: dir + "/a-file", contents: Data("x".utf8))
        // An audit file that loads (its check's input is read only when it runs).
        try "checks:\n  - name: c\n    command: info\n    inputs: [never-read.npy]\n".write(toFile: dir + "/audit.yaml", atomically: false, encoding: .utf8)
        for (command, option, template) in Self.outputOptions {
            let arguments = template.map { $0 == "{yaml}" ? dir + "/audit.yaml" : $0 }
            let isFolder = option == "--output"
            // A missing folder (a file), or a path under a file (a report folder).
            let missing = isFolder ? dir + "/a-file/sub" : dir + "/no-such-folder/out.npy"
            let r = try CLI.run(arguments.map { $0 == "{out}" ? missing : $0 })
            #expect(r.status == 2, "\(command) \(option): \(r.stderr)")
            #expect(r.stderr.contains(isFolder ? "cannot create output folder" : "does not exist (create it first)"), "\(command) \(option): \(r.stderr)")
            #expect(!r.stderr.contains("never-read"), "\(command) \(option) read its input first: \(r.stderr)")
            // A folder where a file goes; a file where a folder goes.
            let wrongKind = try CLI.run(arguments.map { $0 == "{out}" ? (isFolder ? dir + "/a-file" : dir + "/a-folder.npy") : $0 })
            #expect(wrongKind.status == 2, "\(command) \(option): \(wrongKind.stderr)")
            if option != "--save-transform" && option != "--save-mapping" && !(command == "relrep" && option == "--write") {
                #expect(wrongKind.stderr.contains(isFolder ? "exists and is not a folder" : "is a folder; give a file name"), "\(command) \(option): \(wrongKind.stderr)")
            }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == ["a-file", "a-folder.npy", "audit.yaml"])
    }

    /// A stem output writes files beside its own name (`--save-mapping m.npy` writes m.json too):
    /// another output on one of them is refused before the analysis, whether or not the file
    /// exists yet, and nothing is written. (It used to be accepted, one output replacing the other.)
    @Test func outputsWrittenBesideAStemCollide() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var g = SeededGenerator(seed: 3)
        let rows = (0..<200).map { _ in (0..<8).map { _ in Float(g.nextGaussian()) } }
        try CLI.writeNpy(rows, to: dir + "/old.npy")
        try CLI.writeNpy(rows.map { r in r.indices.map { r[($0 + 1) % r.count] } }, to: dir + "/new.npy")
        let base = ["compat", "--old", dir + "/old.npy", "--new", dir + "/new.npy", "--fit", "rotation", "--save-mapping", dir + "/m.npy", "-q"]
        for extra in [["--json", dir + "/m.json"], ["--html", dir + "/m.json"], ["--json", dir + "/./m.json"]] {
            for existing in [false, true] {
                if existing { FileManager.default.createFile(atPath: dir + "/m.json", contents: Data("{}".utf8)) }
                let r = try CLI.run(base + extra)
                #expect(r.status == 2 && r.stderr.contains("both write") && r.stderr.contains("--save-mapping"), "\(extra) existing \(existing): \(r.stderr)")
                #expect(!FileManager.default.fileExists(atPath: dir + "/m.npy"))
                try? FileManager.default.removeItem(atPath: dir + "/m.json")
            }
        }
        // relrep --write r.npy writes r.json beside it too (it used to overwrite --json r.json, exit 0).
        let relrep = try CLI.run(["relrep", dir + "/old.npy", "--compare", dir + "/new.npy", "--anchors", "20", "--write", dir + "/r.npy", "--json", dir + "/r.json", "-q"])
        #expect(relrep.status == 2 && relrep.stderr.contains("both write") && relrep.stderr.contains("--write"), "\(relrep.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/r.npy") && !FileManager.default.fileExists(atPath: dir + "/r.json"))
        // Beside each other without a collision: both written.
        let ok = try CLI.run(base + ["--json", dir + "/report.json"])
        #expect(ok.status == 0, "\(ok.stderr)")
        for name in ["m.npy", "m.json", "report.json"] { #expect(FileManager.default.fileExists(atPath: dir + "/" + name), "\(name)") }
    }

    @Test func reportFolderAndFilesInsideItAndConflicts() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let x = try Self.matrix(in: dir)
        // A file inside the report folder that does not exist yet: the folder is created first.
        let inside = try CLI.run(["info", x, "--output", dir + "/rep", "--json", dir + "/rep/j.json", "--html", dir + "/rep/sub.html", "-q"])
        #expect(inside.status == 0, "\(inside.stderr)")
        for name in ["j.json", "sub.html", "report.json", "report.txt", "report.html"] {
            #expect(FileManager.default.fileExists(atPath: dir + "/rep/" + name), "\(name)")
        }
        // Two outputs naming one file (also through a symbolic link, or the folder's own files).
        try FileManager.default.createSymbolicLink(atPath: dir + "/link.json", withDestinationPath: dir + "/a.json")
        let conflicts: [[String]] = [
            ["--json", dir + "/a.json", "--html", dir + "/a.json"],
            ["--json", dir + "/link.json", "--html", dir + "/a.json"],
            ["--json", dir + "/./a.json", "--html", dir + "/rep/../a.json"],
            ["--output", dir + "/rep2", "--json", dir + "/rep2/report.json"],
            ["--output", dir + "/rep2", "--html", dir + "/rep2/report.html"],
        ]
        for extra in conflicts {
            let r = try CLI.run(["info", "missing.npy"] + extra)
            #expect(r.status == 2 && r.stderr.contains("are the same file"), "\(extra): \(r.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/a.json"))
        // Nothing is written when a later output is refused.
        let partial = try CLI.run(["info", x, "--json", dir + "/ok.json", "--html", dir + "/nowhere/h.html"])
        #expect(partial.status == 2 && !FileManager.default.fileExists(atPath: dir + "/ok.json"))
        // A dangling link whose target folder is missing: refused before the analysis.
        try FileManager.default.createSymbolicLink(atPath: dir + "/dangling.json", withDestinationPath: dir + "/gone/x.json")
        let dangling = try CLI.run(["info", "missing.npy", "--json", dir + "/dangling.json"])
        #expect(dangling.status == 2 && dangling.stderr.contains("does not exist"), "\(dangling.stderr)")
        // A link to a file is written through (its target replaced, the link kept).
        FileManager.default.createFile(atPath: dir + "/target.json", contents: Data("old".utf8))
        try FileManager.default.createSymbolicLink(atPath: dir + "/to-target.json", withDestinationPath: dir + "/target.json")
        let through = try CLI.run(["info", x, "--json", dir + "/to-target.json", "-q"])
        #expect(through.status == 0, "\(through.stderr)")
        #expect(try String(contentsOfFile: dir + "/target.json", encoding: .utf8).hasPrefix("{"))
        // A device is written through (its folder is not writable for most users).
        let device = try CLI.run(["info", x, "--json", "/dev/stdout", "-q"])
        #expect(device.status == 0 && device.stdout.hasPrefix("{"), "\(device.stderr)")
        // An empty path.
        let empty = try CLI.run(["info", x, "--json", ""])
        #expect(empty.status == 2, "\(empty.stderr)")
    }

    @Test func readOnlyFoldersAndFiles() throws {
        let dir = try CLI.temporaryDirectory()
        defer { chmod(dir + "/ro", 0o755); try? FileManager.default.removeItem(atPath: dir) }
        let x = try Self.matrix(in: dir)
        try FileManager.default.createDirectory(atPath: dir + "/ro", withIntermediateDirectories: false)
        FileManager.default.createFile(atPath: dir + "/ro-file.json", contents: Data())
        chmod(dir + "/ro", 0o555)
        chmod(dir + "/ro-file.json", 0o444)
        // root writes anyway (permissions do not apply): then the runs must succeed.
        let root = getuid() == 0
        for extra in [["--json", dir + "/ro/j.json"], ["--output", dir + "/ro"], ["--output", dir + "/ro/sub"], ["--json", dir + "/ro-file.json"]] {
            let r = try CLI.run(["info", x, "-q"] + extra)
            #expect(r.status == (root ? 0 : 2), "\(extra): \(r.stderr)")
            if !root { #expect(r.stderr.contains("not writable") || r.stderr.contains("cannot create"), "\(extra): \(r.stderr)") }
        }
    }

    /// stdout that cannot be written is exit 2 (the report is lost), for every command that prints.
    @Test func aFullStdoutIsAnError() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let x = try Self.matrix(in: dir)
        let binary = CLI.binary
        let lines: [String] = [
            "info \(x)", "anisotropy \(x)", "anisotropy \(x) --pairs 100", "depth \(x) \(x)", "shift \(x) \(x) --permutations 20",
            "relrep \(x) --anchors 5", "neighbors \(x) --k 2", "compat --old \(x) --new \(x)", "info \(x) --json -", "info \(x) --html -",
            "convert \(x) \(dir)/y.npy",
        ]
        for line in lines {
            let full = try CLI.run(["-c", "\(binary) \(line) > /dev/full"], shell: true)
            #expect(full.status == 2, "\(line): \(full.stderr)")
            #expect(full.stderr.contains("<stdout>: write failed"), "\(line): \(full.stderr)")
            // The same command with stdout to a file: exit 0 (the error is the full disk, not the command).
            let ok = try CLI.run(["-c", "\(binary) \(line) > \(dir)/stdout.txt"], shell: true)
            #expect(ok.status == 0, "\(line): \(ok.stderr)")
        }
        // --quiet writes nothing on stdout: a full stdout does not matter.
        let quiet = try CLI.run(["-c", "\(binary) info \(x) -q > /dev/full"], shell: true)
        #expect(quiet.status == 0, "\(quiet.stderr)")
        // A failed gate still says the write failed (exit 2 wins over 1).
        let gate = try CLI.run(["-c", "\(binary) info \(x) --require 'rows > 1000' > /dev/full"], shell: true)
        #expect(gate.status == 2 && gate.stderr.contains("<stdout>: write failed"), "\(gate.stderr)")
    }
}
