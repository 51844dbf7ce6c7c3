import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// Findings of an independent hostile test of outputs, secrets and streams: side files (labels,
/// transform matrices) that escaped the checks every output passes, report folders and state
/// files holding a password, unbounded stream copies and their cleanup, stdout named twice,
/// help on a full stdout, an audit's --json on its own files, labels lost or merged on write,
/// and YAML tags in audit files.
@Suite(.serialized) struct OutputFindings8Tests {
    static func json(_ text: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
    }

    static func rows(_ n: Int, _ d: Int, seed: Int = 1) -> [[Float]] {
        (0..<n).map { i in (0..<d).map { j in Float(sin(Double(seed * 131 + i * 17 + j * 7))) + Float(j == 0 ? 0.1 : 0) } }
    }

    static func sha(_ path: String) throws -> String { try Checksum.sha256(ofFile: path) }

    static func shellQuoted(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

    // MARK: A3 — convert's labels side file on its own input

    /// `convert vecs.npy.labels.txt vecs.npy`: the side file OUT.labels.txt is the input: exit 2
    /// before anything is written, the input unchanged.
    @Test func convertRefusesALabelsSideFileThatIsItsInput() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let input = dir + "/vecs.npy.labels.txt"
        try "3 2\nx 1 2\ny 3 4\nz 5 6\n".write(toFile: input, atomically: true, encoding: .utf8)
        let before = try Self.sha(input)
        let r = try CLI.run(["convert", input, dir + "/vecs.npy"])
        #expect(r.status == 2 && r.stderr.contains("vecs.npy.labels.txt") && r.stderr.contains("input"), "\(r.status) \(r.stderr)")
        #expect(try Self.sha(input) == before)
        #expect(!FileManager.default.fileExists(atPath: dir + "/vecs.npy"))
        // Another output name still writes both files.
        let ok = try CLI.run(["convert", input, dir + "/other.npy", "-q"])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(try String(contentsOfFile: dir + "/other.npy.labels.txt", encoding: .utf8) == "x\ny\nz\n")
    }

    // MARK: A22 — --save-transform's T.<k>.npy

    /// T.<k>.npy is claimed like every output: --write T.0.npy, --json T2.0.npy and an input named
    /// T3.0.npy are refused (exit 2, nothing written, the input unchanged).
    @Test func transformMatricesAreCheckedAgainstOutputsAndInputs() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let x = dir + "/x.npy", t3 = dir + "/T3.0.npy"
        try CLI.writeNpy(Self.rows(60, 6), to: x)
        try CLI.writeNpy(Self.rows(60, 6, seed: 2), to: t3)
        let write = try CLI.run(["anisotropy", x, "--transform", "whiten", "--save-transform", dir + "/T.json", "--write", dir + "/T.0.npy", "-q"])
        #expect(write.status == 2 && write.stderr.contains("T.0.npy") && write.stderr.contains("--save-transform"), "\(write.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/T.0.npy") && !FileManager.default.fileExists(atPath: dir + "/T.json"))
        let json = try CLI.run(["anisotropy", x, "--transform", "whiten", "--save-transform", dir + "/T2.json", "--json", dir + "/T2.0.npy", "-q"])
        #expect(json.status == 2 && json.stderr.contains("T2.0.npy") && json.stderr.contains("--json"), "\(json.stderr)")
        let before = try Self.sha(t3)
        let input = try CLI.run(["anisotropy", t3, "--transform", "whiten", "--save-transform", dir + "/T3.json", "-q"])
        #expect(input.status == 2 && input.stderr.contains("T3.0.npy") && input.stderr.contains("input"), "\(input.stderr)")
        #expect(try Self.sha(t3) == before)
        // The second step's matrix (abtt, whiten: T.1.npy) is claimed too.
        let second = try CLI.run(["anisotropy", x, "--transform", "abtt:1,whiten", "--save-transform", dir + "/T4.json", "--json", dir + "/T4.1.npy", "-q"])
        #expect(second.status == 2 && second.stderr.contains("T4.1.npy"), "\(second.stderr)")
        // Distinct names still work, and the saved transform applies.
        let ok = try CLI.run(["anisotropy", x, "--transform", "whiten", "--save-transform", dir + "/T5.json", "--write", dir + "/w.npy", "-q"])
        #expect(ok.status == 0 && FileManager.default.fileExists(atPath: dir + "/T5.0.npy"), "\(ok.stderr)")
        let apply = try CLI.run(["anisotropy", x, "--apply-transform", dir + "/T5.json", "-q"])
        #expect(apply.status == 0, "\(apply.stderr)")
    }

    /// `bias sentences --output TABLE` is an output like the others: onto one of its word lists
    /// it is refused, the list unchanged.
    @Test func biasSentencesTableIsCheckedAgainstItsInputs() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for (name, words) in [("x", "rose\ntulip"), ("y", "ant\nwasp"), ("a", "love\npeace"), ("b", "hate\nwar")] {
            try (words + "\n").write(toFile: dir + "/\(name).txt", atomically: true, encoding: .utf8)
        }
        let before = try Self.sha(dir + "/x.txt")
        let args = ["bias", "sentences", "--targets", dir + "/x.txt", dir + "/y.txt", "--attributes", dir + "/a.txt", dir + "/b.txt", "-q", "--output"]
        let r = try CLI.run(args + [dir + "/x.txt"])
        #expect(r.status == 2 && r.stderr.contains("--output") && r.stderr.contains("input"), "\(r.status) \(r.stderr)")
        #expect(try Self.sha(dir + "/x.txt") == before)
        let ok = try CLI.run(args + [dir + "/s.tsv"])
        #expect(ok.status == 0 && FileManager.default.fileExists(atPath: dir + "/s.tsv"), "\(ok.stderr)")
    }

    // MARK: A19 — --shard-id in the state file

    /// A connection URL with a password given as --shard-id: the state holds it without the password.
    @Test func aShardIdPasswordNeverReachesTheStateFile() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try CLI.writeNpy(Self.rows(20, 4), to: dir + "/s0.npy")
        let state = dir + "/s0.state"
        let r = try CLI.run(["info", dir + "/s0.npy", "--partial", state, "--row-offset", "0", "--shard-id", "postgresql://bob:Hunter2pw@db/app", "-q"])
        #expect(r.status == 0, "\(r.stderr)")
        let bytes = try Data(contentsOf: URL(fileURLWithPath: state))
        #expect(bytes.range(of: Data("Hunter2pw".utf8)) == nil)
        #expect(bytes.range(of: Data("bob".utf8)) != nil)  // the shard is still recognisable
        let merged = try CLI.run(["merge", state, "--json", "-"])
        #expect(merged.status == 0 && !merged.stdout.contains("Hunter2pw"), "\(merged.stderr)")
    }

    // MARK: A5 — bounded stream copies

    /// A stream beyond the memory budget is refused as the copy proceeds (exit 2 naming the
    /// limit); a character device such as /dev/zero is refused before anything is copied, on the
    /// command line and in an audit; a .npy stream is copied up to the size its header declares.
    @Test func streamCopiesAreBounded() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let bin = Self.shellQuoted(CLI.binary)
        let big = try CLI.run(["-c", "head -c 4000000 /dev/zero | EMBDIAG_MEMORY_BUDGET=1MiB \(bin) info - --format npy -q"], shell: true)
        #expect(big.status == 2 && big.stderr.contains("1 MiB") && big.stderr.contains("EMBDIAG_MEMORY_BUDGET"), "\(big.status) \(big.stderr)")
        // An endless pipe stops at the limit too (the shell's `yes` would run forever otherwise).
        let endless = try CLI.run(["-c", "yes 1,2,3 | EMBDIAG_MEMORY_BUDGET=2MiB \(bin) info - --format csv -q"], shell: true)
        #expect(endless.status == 2 && endless.stderr.contains("2 MiB"), "\(endless.status) \(endless.stderr)")
        let zero = try CLI.run(["info", "/dev/zero", "--format", "npy", "-q"])
        #expect(zero.status == 2 && zero.stderr.contains("character device"), "\(zero.stderr)")
        let redirected = try CLI.run(["-c", "\(bin) info - --format npy -q < /dev/zero"], shell: true)
        #expect(redirected.status == 2 && redirected.stderr.contains("character device"), "\(redirected.stderr)")
        try "checks:\n  - name: c1\n    command: info\n    inputs: [/dev/zero]\n    options: {format: npy}\n".write(toFile: dir + "/a.yaml", atomically: true, encoding: .utf8)
        let audit = try CLI.run(["audit", dir + "/a.yaml", "--output", dir + "/out", "-q"])
        #expect(audit.status == 2 && audit.stderr.contains("character device"), "\(audit.stderr)")
        // A .npy stream followed by more bytes: read as declared, the rest not copied.
        try CLI.writeNpy(Self.rows(10, 4), to: dir + "/m.npy")
        let declared = try CLI.run(["-c", "(cat \(Self.shellQuoted(dir + "/m.npy")); head -c 4000000 /dev/zero) | EMBDIAG_MEMORY_BUDGET=1MiB \(bin) info - --json -"], shell: true)
        #expect(declared.status == 0, "\(declared.stderr)")
        if declared.status == 0 { #expect((try Self.json(declared.stdout)["metrics"] as! [String: Any])["rows"] as? Int == 10) }
        // A header declaring more than the limit is refused at once.
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (100000000, 64), }"
        while (10 + header.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(header.count & 0xFF), UInt8(header.count >> 8)])
        data.append(Data(header.utf8))
        try data.write(to: URL(fileURLWithPath: dir + "/huge-header.npy"))
        let huge = try CLI.run(["-c", "cat \(Self.shellQuoted(dir + "/huge-header.npy")) | EMBDIAG_MEMORY_BUDGET=1MiB \(bin) info - -q"], shell: true)
        #expect(huge.status == 2 && huge.stderr.contains("header declares") && huge.stderr.contains("1 MiB"), "\(huge.stderr)")
    }

    // MARK: A6 — stream copies and SIGTERM

    /// `info -` stopped by SIGTERM while copying leaves no copy behind; a copy left by a killed
    /// run (its process gone) is removed by the next run that copies a stream.
    @Test func streamCopiesAreRemovedOnSIGTERMAndByTheNextRun() throws {
        let tmp = FileManager.default.temporaryDirectory.path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: CLI.binary)
        p.arguments = ["info", "-", "-q"]
        let input = Pipe()
        p.standardInput = input
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        let chunk = Data(repeating: 0x31, count: 1 << 20)
        for _ in 0..<4 { input.fileHandleForWriting.write(chunk) }
        let prefix = "embdiag-stream-\(p.processIdentifier)-"
        func copies() -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: tmp)) ?? []).filter { $0.hasPrefix(prefix) } }
        var waited = 0
        while copies().isEmpty && waited < 100 { usleep(50_000); waited += 1 }
        #expect(!copies().isEmpty, "the copy should exist while the stream is open")
        kill(p.processIdentifier, SIGTERM)
        waited = 0
        while p.isRunning && waited < 200 { usleep(50_000); waited += 1 }
        if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
        try? input.fileHandleForWriting.close()
        #expect(p.terminationReason == .uncaughtSignal && p.terminationStatus == SIGTERM)
        #expect(copies().isEmpty, "left behind: \(copies())")

        // A stale copy of a process that no longer runs.
        let gone = Process()
        gone.executableURL = URL(fileURLWithPath: "/bin/true")
        try gone.run()
        gone.waitUntilExit()
        let stale = tmp + "/embdiag-stream-\(gone.processIdentifier)-00000000-0000-0000-0000-000000000000"
        try Data("stale".utf8).write(to: URL(fileURLWithPath: stale))
        let r = try CLI.run(["-c", "printf 'a 1 2\\nb 3 4\\n' | \(Self.shellQuoted(CLI.binary)) info - -q"], shell: true)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: stale))
    }

    // MARK: A12 — stdout named twice

    /// `-` and /dev/stdout (/dev/fd/1, /proc/self/fd/1) are one destination: two outputs there
    /// are refused; one output there is printed alone (no text report after it).
    @Test func stdoutAndItsDevicePathsAreOneDestination() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = dir + "/a.npy"
        try CLI.writeNpy(Self.rows(5, 3), to: a)
        for (json, html) in [("/dev/stdout", "-"), ("-", "/dev/stdout"), ("/proc/self/fd/1", "-"), ("-", "/dev/fd/1")] {
            let r = try CLI.run(["info", a, "--json", json, "--html", html])
            #expect(r.status == 2 && r.stderr.contains("standard output") && r.stdout.isEmpty, "\(json) \(html): \(r.status) \(r.stderr)")
        }
        // Redirected to a file: the file named as an output is stdout too.
        let out = dir + "/out.txt"
        let file = try CLI.run(["-c", "\(Self.shellQuoted(CLI.binary)) info \(Self.shellQuoted(a)) --json \(Self.shellQuoted(out)) --html - > \(Self.shellQuoted(out))"], shell: true)
        #expect(file.status == 2 && file.stderr.contains("standard output"), "\(file.stderr)")
        let alone = try CLI.run(["info", a, "--json", "/dev/stdout"])
        #expect(alone.status == 0, "\(alone.stderr)")
        #expect((try? Self.json(alone.stdout)) != nil, "stdout is the JSON document only: \(alone.stdout.prefix(200))")
    }

    // MARK: A13 — help and version on a full stdout

    @Test func helpAndVersionOnAFullStdoutExitTwo() throws {
        let bin = Self.shellQuoted(CLI.binary)
        for args in ["--help", "info --help", "help info", "--version", "bias sentences --help"] {
            let r = try CLI.run(["-c", "\(bin) \(args) > /dev/full"], shell: true)
            #expect(r.status == 2 && r.stderr.contains("stdout"), "\(args): \(r.status) \(r.stderr)")
            let ok = try CLI.run(["-c", "\(bin) \(args)"], shell: true)
            #expect(ok.status == 0 && !ok.stdout.isEmpty, "\(args): \(ok.status) \(ok.stderr)")
        }
    }

    // MARK: A21 — the audit's --json on its own files

    @Test func auditJsonMayNotNameTheAuditsOwnFilesOrAChecksReport() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try CLI.writeNpy(Self.rows(20, 4), to: dir + "/a.npy")
        let yaml = dir + "/a.yaml"
        try "checks:\n  - name: c1\n    command: info\n    inputs: [\(dir)/a.npy]\n".write(toFile: yaml, atomically: true, encoding: .utf8)
        let out = dir + "/out"
        for name in ["index.html", "audit.txt", "audit.json", "c1/report.json", "c1/extra.json", "c1"] {
            try? FileManager.default.removeItem(atPath: out)
            try FileManager.default.createDirectory(atPath: out + "/c1", withIntermediateDirectories: true)
            let r = try CLI.run(["audit", yaml, "--output", out, "--json", out + "/" + name, "-q"])
            #expect(r.status == 2 && r.stderr.contains("--json"), "\(name): \(r.status) \(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: out + "/index.html") && !FileManager.default.fileExists(atPath: out + "/c1/report.json"), "\(name): ran")
        }
        try? FileManager.default.removeItem(atPath: out)
        let ok = try CLI.run(["audit", yaml, "--output", out, "--json", out + "/summary.json", "-q"])
        #expect(ok.status == 0 && FileManager.default.fileExists(atPath: out + "/summary.json"), "\(ok.stderr)")
    }

    // MARK: A14 — depth --select-central --write OUT.npy keeps the labels

    @Test func selectedCentralRowsKeepTheirLabelsBesideANpy() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = dir + "/a.npy", labels = dir + "/labels.txt"
        try CLI.writeNpy(Self.rows(30, 4), to: a)
        try (1...30).map { "row\($0)" }.joined(separator: "\n").appending("\n").write(toFile: labels, atomically: true, encoding: .utf8)
        let npy = try CLI.run(["depth", a, "--labels", labels, "--select-central", "3", "--write", dir + "/central.npy", "-q"])
        #expect(npy.status == 0, "\(npy.stderr)")
        let written = try String(contentsOfFile: dir + "/central.npy.labels.txt", encoding: .utf8).split(separator: "\n").map(String.init)
        let txt = try CLI.run(["depth", a, "--labels", labels, "--select-central", "3", "--write", dir + "/central.txt", "-q"])
        #expect(txt.status == 0, "\(txt.stderr)")
        let words = try String(contentsOfFile: dir + "/central.txt", encoding: .utf8).split(separator: "\n").dropFirst().map { String($0.split(separator: " ")[0]) }
        #expect(written.count == 3 && written == words, "\(written) vs \(words)")
        // The side file is claimed before the analysis: it may not be an input.
        let clash = try CLI.run(["depth", a, "--labels", labels, "--select-central", "3", "--write", dir + "/labels.txt.npy", "--json", dir + "/labels.txt.npy.labels.txt", "-q"])
        #expect(clash.status == 2, "\(clash.stderr)")
        // anisotropy --write keeps them the same way.
        let aniso = try CLI.run(["anisotropy", a, "--labels", labels, "--transform", "center", "--write", dir + "/c.npy", "-q"])
        #expect(aniso.status == 0, "\(aniso.stderr)")
        #expect(try String(contentsOfFile: dir + "/c.npy.labels.txt", encoding: .utf8) == (1...30).map { "row\($0)\n" }.joined())
    }

    // MARK: A20 — YAML tags in audit files

    @Test func yamlTagsThatChangeAValuesTypeAreRefused() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try CLI.writeNpy(Self.rows(30, 4), to: dir + "/a.npy")
        try CLI.writeNpy(Self.rows(30, 4, seed: 3), to: dir + "/b.npy")
        func audit(_ seed: String, options: String = "{permutations: 9}") throws -> CLI.Result {
            let yaml = dir + "/a.yaml"
            try "seed: \(seed)\nchecks:\n  - name: c1\n    command: depth\n    inputs: [\(dir)/a.npy, \(dir)/b.npy]\n    options: \(options)\n".write(toFile: yaml, atomically: true, encoding: .utf8)
            try? FileManager.default.removeItem(atPath: dir + "/out")
            return try CLI.run(["audit", yaml, "--output", dir + "/out", "-q"])
        }
        for tagged in ["!!str 42", "!!float 42", "!!int \"42\"", "! 42", "!!python/object:os.system 42", "!local 42"] {
            let r = try audit(tagged)
            #expect(r.status == 2 && r.stderr.contains("tag") && r.stderr.contains("line 1"), "\(tagged): \(r.status) \(r.stderr)")
        }
        let option = try audit("42", options: "{permutations: !!str 9}")
        #expect(option.status == 2 && option.stderr.contains("!!str"), "\(option.stderr)")
        // A tag that repeats the value's own type changes nothing.
        let same = try audit("!!int 42")
        #expect(same.status == 0, "\(same.stderr)")
        let plain = try audit("42")
        #expect(plain.status == 0, "\(plain.stderr)")
    }

    // MARK: A23 — labels a labels file cannot hold

    /// A label holding a line feed or a carriage return is refused by convert to .npy (exit 2
    /// naming the row), instead of being written as a space and read back equal to another.
    @Test func convertRefusesLabelsWithLineBreaks() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let csv = dir + "/t.csv"
        try "word,x,y\n\"b\nc\",0.5,2.5\n\"b c\",3.5,4.5\na,5.5,6.5\n".write(toFile: csv, atomically: true, encoding: .utf8)
        let r = try CLI.run(["convert", csv, dir + "/out.npy", "-q"])
        #expect(r.status == 2 && r.stderr.contains("row 0") && r.stderr.contains("line break"), "\(r.status) \(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/out.npy") && !FileManager.default.fileExists(atPath: dir + "/out.npy.labels.txt"))
        // A lone CR inside a --labels line.
        try CLI.writeNpy(Self.rows(3, 2), to: dir + "/m.npy")
        try Data("a\nb\rc\nd\n".utf8).write(to: URL(fileURLWithPath: dir + "/l.txt"))
        let cr = try CLI.run(["convert", dir + "/m.npy", "--labels", dir + "/l.txt", dir + "/o2.npy", "-q"])
        #expect(cr.status == 2 && cr.stderr.contains("row 1"), "\(cr.stderr)")
        // Labels that a labels file holds read back equal.
        try Data("a\nb c\nd\n".utf8).write(to: URL(fileURLWithPath: dir + "/l2.txt"))
        let ok = try CLI.run(["convert", dir + "/m.npy", "--labels", dir + "/l2.txt", dir + "/o3.npy", "-q"])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(try LabelsFile.read(dir + "/o3.npy.labels.txt", expectedCount: 3, matrixPath: "m") == ["a", "b c", "d"])
    }
}

/// A11: report folders of PostgreSQL sources never carry the password in their names.
@Suite(.serialized, .postgresServer) struct OutputFindings8PostgresTests {
    static let lowUser = "lowfold", lowPassword = "Lowpw_S3cret"

    @Test func infoFolderNamesNeverHoldAPassword() throws {
        let server = try #require(PostgresServer.current)
        let c = try server.admin()
        try PostgresReaderTests.createTable(c, "items", type: "real[]", rows: PostgresReaderTests.rows.map { PostgresReaderTests.arrayLiteral($0) })
        _ = try c.execute("DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '\(Self.lowUser)') THEN CREATE ROLE \(Self.lowUser) LOGIN PASSWORD '\(Self.lowPassword)'; END IF; END $$")
        _ = try c.execute("GRANT SELECT ON items TO \(Self.lowUser)")
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try CLI.writeNpy([[1, 2, 3], [4, 5, 6]], to: dir + "/a.npy")
        let port = server.port, user = Self.lowUser, secret = Self.lowPassword
        let sources: [(String, [String])] = [
            ("postgresql://\(user):\(secret)@127.0.0.1:\(port)?dbname=postgres&table=items&column=embedding", []),
            ("postgresql://127.0.0.1:\(port)/postgres?user=\(user)&password=\(secret)&table=items&column=embedding", []),
            ("host=127.0.0.1 port=\(port) user=\(user) password=\(secret) dbname=postgres", ["--table", "items", "--column", "embedding"]),
        ]
        func everything(under folder: String) -> [String] {
            (FileManager.default.enumerator(atPath: folder)?.allObjects as? [String]) ?? []
        }
        for (k, (source, options)) in sources.enumerated() {
            let out = dir + "/o\(k)"
            let r = try CLI.run(["info", source, dir + "/a.npy", "--output", out, "-q"] + options)
            #expect(r.status == 0, "\(k): \(r.stderr)")
            let names = everything(under: out)
            #expect(names.count >= 4 && !names.contains { $0.contains(secret) }, "\(k): \(names)")
            for name in names where name.hasSuffix("report.json") {
                #expect(!(try String(contentsOfFile: out + "/" + name, encoding: .utf8)).contains(secret))
            }
        }
        try "checks:\n  - name: c1\n    command: info\n    inputs: ['\(sources[0].0)', '\(dir)/a.npy']\n".write(toFile: dir + "/a.yaml", atomically: true, encoding: .utf8)
        let audit = try CLI.run(["audit", dir + "/a.yaml", "--output", dir + "/o4", "-q"])
        #expect(audit.status == 0, "\(audit.stderr)")
        let names = everything(under: dir + "/o4")
        #expect(names.contains { $0.hasPrefix("c1/") } && !names.contains { $0.contains(secret) }, "\(names)")
    }
}
