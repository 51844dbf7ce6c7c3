import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// Audit file messages (hostile pass 3, F14): a value of the wrong type names its line and
/// column and the valid range (it gave the decoder's "Expected to decode Int but found Scalar
/// instead. at seed"), a malformed requirement names the file and the check, a YAML null is an
/// error (it was passed on as the path "null"), and a requirement that can never fail in a later
/// check stops the audit before the first check runs (it was found after check 1 had written its
/// report).
extension AuditHostileTests {
    /// exit 2, one line naming the audit file, containing every one of `words`, nothing written.
    static func refusedAudit(_ yaml: String, in dir: String, _ words: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
        let config = try write(yaml, in: dir)
        let r = try CLI.run(["audit", config, "--output", dir + "/out", "-q"])
        #expect(r.status == 2, "exit \(r.status): \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.hasPrefix("embdiag: error: ") && r.stderr.contains(config) && r.stderr.split(separator: "\n").count == 1, "\(r.stderr)", sourceLocation: sourceLocation)
        for w in words { #expect(r.stderr.contains(w), "\(w) not in: \(r.stderr)", sourceLocation: sourceLocation) }
        #expect(!FileManager.default.fileExists(atPath: dir + "/out"), "a check ran: \(r.stderr)", sourceLocation: sourceLocation)
    }

    @Test func wrongTypesNameTheirLineColumnAndRange() throws {
        let (dir, x) = try Self.workspace()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let check = "checks:\n  - name: c1\n    command: info\n    inputs: [\(x)]\n"
        let range = "a whole number in 0…18446744073709551615, unquoted"
        try Self.refusedAudit("seed: 1.5\n" + check, in: dir, ["line 1, column 7", "seed 1.5 is not a seed", range])
        try Self.refusedAudit("seed: '42'\n" + check, in: dir, ["line 1, column 7", "seed '42' is not a seed", range])
        try Self.refusedAudit("seed: 18446744073709551616\n" + check, in: dir, ["line 1, column 7", "seed 18446744073709551616 is not a seed", range])
        try Self.refusedAudit("seed: -1\n" + check, in: dir, ["line 1, column 7", range, "negative seeds are refused"])
        try Self.refusedAudit("seed: [1]\n" + check, in: dir, ["line 1, column 7", "is not a seed"])
        try Self.refusedAudit(check + "    require: \"nan_rows == 0\"\n", in: dir, ["line 5, column 14", "'require' of check 'c1' must be a list of requirements"])
        try Self.refusedAudit(check + "    require:\n      bad: 1\n", in: dir, ["line 6, column 7", "'require' of check 'c1' must be a list"])
        try Self.refusedAudit("title: [a, b]\n" + check, in: dir, ["line 1, column 8", "'title' is a list"])
        try Self.refusedAudit("checks:\n  - name: c1\n    command: info\n    inputs: \(x)\n", in: dir, ["line 4, column 13", "'inputs' of check 'c1' must be a list of files"])
        try Self.refusedAudit(check + "    options:\n      k: {a: 1}\n", in: dir, ["line 6, column 10", "option 'k' of check 'c1' is a mapping"])
        // The largest seed is a seed.
        let largest = try Self.write("seed: 18446744073709551615\n" + check, in: dir)
        let ok = try CLI.run(["audit", largest, "--output", dir + "/ok", "-q"])
        #expect(ok.status == 0, "\(ok.stderr)")
    }

    /// `require: [5]` names the file, the check and the position (it named neither).
    @Test func malformedRequirementsNameTheFileAndCheck() throws {
        let (dir, x) = try Self.workspace()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let check = "checks:\n  - name: c1\n    command: info\n    inputs: [\(x)]\n"
        try Self.refusedAudit(check + "    require: [5]\n", in: dir, ["line 5, column 15", "check 'c1': requirement '5' has no comparison"])
        try Self.refusedAudit(check + "    require:\n      - \"rows >= x\"\n", in: dir, ["line 6, column 9", "check 'c1': requirement 'rows >= x'"])
        try Self.refusedAudit(check + "    require:\n      - [rows >= 1]\n", in: dir, ["line 6, column 9", "a requirement of check 'c1' is a list"])
    }

    /// A YAML null is never a value: `labels: null`, `labels:` and `labels: ~` are errors naming
    /// the option (the path "null" was read), and so are a null key value and a null list item.
    @Test func yamlNullIsAnError() throws {
        let (dir, x) = try Self.workspace()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let check = "checks:\n  - name: c1\n    command: info\n    inputs: [\(x)]\n"
        for null in ["null", "", "~", "NULL"] {
            try Self.refusedAudit(check + "    options:\n      labels: \(null)\n", in: dir, ["line ", "option 'labels' of check 'c1' is null (no value)", "leave the key out"])
        }
        try Self.refusedAudit(check + "    options:\n      json: [a.json, null]\n", in: dir, ["line 6", "a value of option 'json' of check 'c1' is null"])
        try Self.refusedAudit(check + "    require:\n", in: dir, ["line ", "'require' of check 'c1' must be a list"])
        try Self.refusedAudit("title:\n" + check, in: dir, ["line ", "'title' is null"])
        try Self.refusedAudit("checks:\n  - name: c1\n    command: info\n    inputs: [\(x), null]\n", in: dir, ["line 4", "an input of check 'c1' is null"])
        // Quoted, 'null' is a text like any other (here a file that does not exist: the check cannot run).
        let quoted = try Self.write(check + "    options:\n      labels: 'null'\n", in: dir)
        let r = try CLI.run(["audit", quoted, "--output", dir + "/q", "-q"])
        #expect(r.status == 2 && r.stderr.contains("check 'c1' could not run"), "\(r.stderr)")
    }

    /// A requirement that can never fail in check 2 (its metric's range is fixed) stops the audit
    /// before check 1 runs: nothing is written. The same through the check's own `--require`.
    @Test func neverFailingGatesOfLaterChecksAreFoundFirst() throws {
        let (dir, x) = try Self.workspace()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = "checks:\n  - name: c1\n    command: info\n    inputs: [\(x)]\n    require: [\"nan_rows == 0\"]\n"
        try Self.refusedAudit(first + "  - name: c2\n    command: depth\n    inputs: [\(x), \(x)]\n    require: [\"p_value >= 0.0\"]\n", in: dir,
                              ["check 'c2'", "p_value>=0", "can never fail"])
        try Self.refusedAudit(first + "  - name: c2\n    command: info\n    inputs: [\(x)]\n    options:\n      require: \"nan_rows>=0\"\n", in: dir,
                              ["check 'c2'", "nan_rows>=0", "can never fail"])
    }
}
