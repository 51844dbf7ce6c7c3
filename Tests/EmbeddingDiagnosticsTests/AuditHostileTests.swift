import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// Hostile audit files (they may come from pull requests): output options that lead outside the
/// audit's folder (absolute, `../`, through symbolic links planted in the folder), commands that
/// do not exist, options the audit owns. Refused with exit 2 before any check runs, nothing
/// written outside --output.
@Suite(.serialized) struct AuditHostileTests {
    /// A folder with x.npy (40 × 6) and the audit's output folder path (not created).
    static func workspace() throws -> (dir: String, x: String) {
        let dir = try CLI.temporaryDirectory()
        return (dir, try OutputHostileTests.matrix(in: dir))
    }

    static func write(_ yaml: String, in dir: String) throws -> String {
        let path = dir + "/audit-\(UUID().uuidString.prefix(8)).yaml"
        try yaml.write(toFile: path, atomically: false, encoding: .utf8)
        return path
    }

    /// Every file under `dir` (relative names).
    static func files(_ dir: String) -> Set<String> {
        Set((FileManager.default.enumerator(atPath: dir)?.compactMap { $0 as? String }) ?? [])
    }

    @Test func outputOptionsLeadingOutsideAreRefusedBeforeAnythingRuns() throws {
        let (dir, x) = try Self.workspace()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let out = dir + "/out"
        // (command, options) — each option writes outside `out`.
        let escapes: [(String, String)] = [
            ("info", "json: \(dir)/abs.json"),
            ("info", "html: ../outside.html"),
            ("info", "html: out/../outside.html"),
            ("info", "json: out/c/../../outside.json"),
            ("anisotropy", "transform: whiten\n      write: \(dir)/abs.npy"),
            ("anisotropy", "transform: whiten\n      save-transform: \(dir)/transform"),
            ("anisotropy", "partial: \(dir)/state.json\n      row-offset: 0"),
            ("compat", "fit: rotation\n      save-mapping: /tmp/embdiag-audit-escape-mapping.npy"),
            ("relrep", "write: \(dir)/rel.npy"),
            ("depth", "select-central: 5\n      write: \(dir)/central.npy"),
            ("info", "json: /dev/stderr"),
            ("info", "json: /proc/self/fd/2"),
        ]
        var refused = 0
        for (command, options) in escapes {
            let inputs = command == "compat" ? "" : "    inputs: [\(x)\(command == "depth" ? ", \(x)" : "")]\n"
            let compatOptions = command == "compat" ? "      old: \(x)\n      new: \(x)\n" : ""
            let config = try Self.write("""
                checks:
                  - name: first
                    command: info
                    inputs: [\(x)]
                  - name: c
                    command: \(command)
                \(inputs)    options:
                \(compatOptions)      \(options)

                """, in: dir)
            let before = Self.files(dir)
            // Run from `dir` so that relative paths are relative to it.
            let r = try CLI.run(["-c", "cd \(dir) && \(CLI.binary) audit \(config) --output out"], shell: true)
            #expect(r.status == 2, "\(command) \(options): \(r.stderr)")
            #expect(r.stderr.contains("leads outside the output folder") && r.stderr.contains("--allow-writes-outside"), "\(command) \(options): \(r.stderr)")
            // Nothing ran: not even the first check's folder, nor the output folder.
            #expect(Self.files(dir) == before, "\(command) \(options): \(Self.files(dir).subtracting(before))")
            #expect(!FileManager.default.fileExists(atPath: out))
            refused += r.status == 2 ? 1 : 0
        }
        #expect(refused == escapes.count)
        #expect(!FileManager.default.fileExists(atPath: "/tmp/embdiag-audit-escape-mapping.npy"))
    }

    @Test func symbolicLinksPlantedInTheOutputFolderAreNotFollowedOut() throws {
        let (dir, x) = try Self.workspace()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let elsewhere = dir + "/elsewhere"
        try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
        let config = try Self.write("checks:\n  - name: c\n    command: info\n    inputs: [\(x)]\n", in: dir)
        // The check's folder is a link to a folder outside: refused before running.
        try FileManager.default.createDirectory(atPath: dir + "/out1", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: dir + "/out1/c", withDestinationPath: elsewhere)
        let linkedFolder = try CLI.run(["audit", config, "--output", dir + "/out1", "-q"])
        #expect(linkedFolder.status == 2 && linkedFolder.stderr.contains("leads outside"), "\(linkedFolder.stderr)")
        // A report file inside the check's folder is a link to a file outside (also a dangling
        // one): the write is refused, the target untouched, the audit exits 2.
        let victim = elsewhere + "/victim.txt"
        try "precious".write(toFile: victim, atomically: false, encoding: .utf8)
        for (name, target) in [("report.json", victim), ("report.txt", elsewhere + "/created-by-link.txt")] {
            let out = dir + "/out-\(name)"
            try FileManager.default.createDirectory(atPath: out + "/c", withIntermediateDirectories: true)
            try FileManager.default.createSymbolicLink(atPath: out + "/c/" + name, withDestinationPath: target)
            let r = try CLI.run(["audit", config, "--output", out, "-q"])
            #expect(r.status == 2 && r.stderr.contains("leads outside the audit's output folder"), "\(name): \(r.stderr)")
        }
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "precious")
        #expect(Self.files(elsewhere) == ["victim.txt"])
        // A link inside the folder to another place inside it is fine.
        let inside = dir + "/out-inside"
        try FileManager.default.createDirectory(atPath: inside + "/real", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: inside + "/c", withDestinationPath: inside + "/real")
        let ok = try CLI.run(["audit", config, "--output", inside, "-q"])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(FileManager.default.fileExists(atPath: inside + "/real/report.json"))
    }

    @Test func outputsInsideTheFolderAndTheFlagThatAllowsMore() throws {
        let (dir, x) = try Self.workspace()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let inside = try Self.write("""
            checks:
              - name: c
                command: anisotropy
                inputs: [\(x)]
                options:
                  transform: whiten
                  write: \(dir)/out/c/whitened.npy
                  json: \(dir)/out/extra.json
            """, in: dir)
        let r = try CLI.run(["audit", inside, "--output", dir + "/out", "-q"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(FileManager.default.fileExists(atPath: dir + "/out/c/whitened.npy") && FileManager.default.fileExists(atPath: dir + "/out/extra.json"))
        // Outside, with the documented flag: written.
        let outside = try Self.write("checks:\n  - name: c\n    command: info\n    inputs: [\(x)]\n    options:\n      json: \(dir)/abs.json\n", in: dir)
        let allowed = try CLI.run(["audit", outside, "--output", dir + "/out2", "--allow-writes-outside", "-q"])
        #expect(allowed.status == 0, "\(allowed.stderr)")
        #expect(FileManager.default.fileExists(atPath: dir + "/abs.json"))
        // The audit's own --json (a command-line flag) may go anywhere.
        let plain = try Self.write("checks:\n  - name: c\n    command: info\n    inputs: [\(x)]\n", in: dir)
        let own = try CLI.run(["audit", plain, "--output", dir + "/out3", "--json", dir + "/summary.json", "-q"])
        #expect(own.status == 0 && FileManager.default.fileExists(atPath: dir + "/summary.json"), "\(own.stderr)")
    }

    @Test func unknownCommandsAndOptionsTheAuditOwns() throws {
        let (dir, x) = try Self.workspace()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let valid = "info, neighbors, anisotropy, depth, shift, relrep, bias, compat, fingerprint, merge"
        let cases: [(String, String)] = [
            ("command: frobnicate\n    inputs: [\(x)]", "unknown command 'frobnicate'; a check runs one of: \(valid)"),
            ("command: anisotropi\n    inputs: [\(x)]", "unknown command 'anisotropi' (did you mean 'anisotropy'?); a check runs one of: \(valid)"),
            ("command: convert\n    inputs: [\(x), \(dir)/y.npy]", "unknown command 'convert'"),
            ("command: audit\n    inputs: [\(x)]", "an audit cannot run an audit"),
            ("command: info\n    inputs: [\(x)]\n    options:\n      output: \(dir)/elsewhere", "option 'output' is set by the audit"),
            ("command: ''\n    inputs: [\(x)]", "unknown command ''"),
        ]
        for (check, message) in cases {
            let config = try Self.write("checks:\n  - name: c\n    \(check)\n", in: dir)
            let r = try CLI.run(["audit", config, "--output", dir + "/out"])
            #expect(r.status == 2 && r.stderr.contains(message), "\(check): \(r.stderr)")
            #expect(!r.stderr.contains("Unknown option '--output'"), "\(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dir + "/out") && !FileManager.default.fileExists(atPath: dir + "/elsewhere"))
        }
        // Check names that would name a folder elsewhere stay refused.
        for name in ["../up", "/abs", "a/b", ".", ".."] {
            let config = try Self.write("checks:\n  - name: '\(name)'\n    command: info\n    inputs: [\(x)]\n", in: dir)
            let r = try CLI.run(["audit", config, "--output", dir + "/out"])
            #expect(r.status == 2 && r.stderr.contains("must be letters, digits"), "\(name): \(r.stderr)")
        }
    }

    @Test func outputsSmuggledThroughInputsOrOptionKeys() throws {
        let (dir, x) = try Self.workspace()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // An option hidden in `inputs:` or in an option's key is parsed like any other: checked.
        for check in ["inputs: [\"--json=\(dir)/sneaky.json\", \(x)]", "inputs: [\"--html\", \"\(dir)/sneaky.html\", \(x)]",
                      "inputs: [\(x)]\n    options:\n      \"json=\(dir)/sneaky.json\": true",
                      "inputs: [\(x)]\n    options:\n      json: [\"\(dir)/out/ok.json\", \"\(dir)/sneaky.json\"]"] {
            let config = try Self.write("checks:\n  - name: c\n    command: info\n    \(check)\n", in: dir)
            let r = try CLI.run(["audit", config, "--output", dir + "/out", "-q"])
            #expect(r.status == 2 && r.stderr.contains("leads outside"), "\(check): \(r.stderr)")
        }
        // An --output hidden in inputs is overridden by the audit's own (the last one wins).
        let hidden = try Self.write("checks:\n  - name: c\n    command: info\n    inputs: [\"--output\", \"\(dir)/sneaky-dir\", \(x)]\n", in: dir)
        let r = try CLI.run(["audit", hidden, "--output", dir + "/out", "-q"])
        #expect(r.status == 0 && FileManager.default.fileExists(atPath: dir + "/out/c/report.json"), "\(r.stderr)")
        #expect(Self.files(dir).filter { $0.hasPrefix("sneaky") }.isEmpty)
    }
}
