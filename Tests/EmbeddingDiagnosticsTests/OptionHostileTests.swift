import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// Every numeric and list option of every command, attacked through the built binary: 0, −1,
/// huge, NaN/Inf, a float where an integer is expected, empty lists, empty items, duplicates, and
/// values that would size more memory than the budget. One rule (Guides/Architecture.md "Caps and
/// warnings", "Memory budget"): out of range is exit 2 with a message naming the option and its
/// valid range (or the memory estimate); a valid boundary value runs (exit 0).
@Suite(.serialized) struct OptionHostileTests {
    struct Case: CustomStringConvertible {
        var kind: String
        var arguments: [String]
        var exit: Int32
        /// Text the one-line error must contain (the option, the range or the estimate).
        var mentions: [String]
        var environment: [String: String]? = nil
        var description: String { "[\(kind)] embdiag \(arguments.joined(separator: " "))" }
    }

    /// Two 40 × 8 Gaussian files (a.npy, b.npy) in a fresh folder.
    static func inputs() throws -> (a: String, b: String) {
        let dir = try CLI.temporaryDirectory()
        var rng = SeededGenerator(seed: 5)
        for name in ["a", "b"] {
            let m = rng.gaussianMatrix(rows: 40, cols: 8)
            try CLI.writeNpy((0..<40).map { m.rowArray($0) }, to: "\(dir)/\(name).npy")
        }
        return ("\(dir)/a.npy", "\(dir)/b.npy")
    }

    static func cases(a: String, b: String) -> [Case] {
        let words = BiasTests.wordsPath
        var c: [Case] = []
        func bad(_ kind: String, _ args: [String], _ mentions: String...) { c.append(Case(kind: kind, arguments: args, exit: 2, mentions: mentions)) }
        func good(_ kind: String, _ args: [String]) { c.append(Case(kind: kind, arguments: args, exit: 0, mentions: [])) }
        let compat = ["compat", "--old", a, "--new", b]
        // compat
        bad("negative", compat + ["--queries", "-5"], "--queries", "≥ 0", "-5")
        bad("zero", compat + ["--neighbor-k", "0"], "--neighbor-k", "≥ 1")
        bad("negative", compat + ["--neighbor-k", "-1"], "--neighbor-k")
        bad("negative", compat + ["--threshold-bootstrap", "-1"], "--threshold-bootstrap")
        bad("zero", compat + ["--train-fraction", "0", "--fit", "rotation"], "--train-fraction", "(0, 1)")
        bad("huge", compat + ["--train-fraction", "1", "--fit", "rotation"], "--train-fraction")
        bad("nan", compat + ["--train-fraction", "nan", "--fit", "rotation"], "--train-fraction")
        bad("nan", compat + ["--no-worse-tolerance", "nan"], "--no-worse-tolerance")
        bad("negative", compat + ["--no-worse-tolerance", "-0.1"], "--no-worse-tolerance")
        bad("nan", compat + ["--threshold", "nan"], "--threshold")
        bad("huge", compat + ["--threshold", "2"], "--threshold")
        bad("nan", compat + ["--rcond", "nan", "--fit", "linear"], "--rcond")
        bad("zero", compat + ["--k", "0"], "--k")
        bad("negative", compat + ["--k", "-1"], "--k")
        bad("empty list", compat + ["--k", ""], "--k")
        bad("empty item", compat + ["--k", "1,,10"], "--k")
        bad("duplicates", compat + ["--k", "10,10"], "--k", "twice")
        bad("float for int", compat + ["--k", "1.5"], "--k")
        bad("float for int", compat + ["--queries", "2.5"], "--queries")
        bad("huge", compat + ["--queries", "99999999999999999999"], "--queries")
        bad("duplicates", compat + ["--fit", "ridge:auto", "--ridge-grid", "1,1"], "--ridge-grid", "twice")
        bad("zero", compat + ["--fit", "ridge:auto", "--ridge-grid", "0"], "--ridge-grid")
        bad("nan", compat + ["--fit", "ridge:nan"], "--fit")
        bad("zero", compat + ["--fit", "ridge:0"], "--fit")
        bad("memory", compat + ["--neighbor-k", "100", "--memory-budget", "1KiB"], "--neighbor-k 100 needs", "the budget is 1 KiB")
        good("boundary", compat + ["--queries", "0", "--neighbor-k", "1", "--threshold-bootstrap", "0", "--k", "1"])
        // depth
        bad("negative", ["depth", a, b, "--top", "-1"], "--top", "≥ 0", "-1")
        bad("zero", ["depth", a, b, "--components", "0", "--depth", "mahalanobis"], "--components", "≥ 1")
        bad("zero", ["depth", a, b, "--reference-sample", "1"], "--reference-sample", "≥ 2")
        bad("negative", ["depth", a, b, "--reference-sample", "-4"], "--reference-sample")
        bad("zero", ["depth", a, b, "--select-central", "0"], "--select-central")
        bad("float for int", ["depth", a, b, "--top", "1e3"], "--top")
        bad("memory", ["depth", a, b, "--reference-sample", "30", "--memory-budget", "100"], "--reference-sample 30 needs", "budget")
        good("boundary", ["depth", a, b, "--top", "0", "--reference-sample", "5"])
        // shift
        bad("huge", ["shift", a, b, "--permutations", "1000000000"], "--permutations 1000000000 needs", "GiB", "EMBDIAG_MEMORY_BUDGET")
        bad("zero", ["shift", a, b, "--permutations", "0"], "--permutations", "≥ 1")
        bad("negative", ["shift", a, b, "--permutations", "-1"], "--permutations")
        bad("nan", ["shift", a, b, "--alpha", "nan"], "--alpha", "not a decimal number")
        bad("zero", ["shift", a, b, "--alpha", "0"], "--alpha")
        bad("huge", ["shift", a, b, "--alpha", "1"], "--alpha")
        bad("zero", ["shift", a, b, "--folds", "1"], "--folds", "≥ 2")
        bad("zero", ["shift", a, b, "--k", "0"], "--k", "≥ 1")
        bad("negative", ["shift", a, b, "--top", "-1"], "--top")
        bad("zero", ["shift", a, b, "--penalty", "0"], "--penalty")
        bad("inf", ["shift", a, b, "--penalty", "inf"], "--penalty")
        bad("nan", ["shift", a, b, "--bandwidth", "nan"], "--bandwidth")
        bad("negative", ["shift", a, b, "--bandwidth", "-1"], "--bandwidth")
        bad("zero", ["shift", a, b, "--classifier-weight", "0"], "--classifier-weight")
        bad("zero", ["shift", a, b, "--max-rows", "1"], "--max-rows")
        bad("empty list", ["shift", a, b, "--tests", ""], "--tests")
        bad("empty item", ["shift", a, b, "--tests", "mmd,,energy"], "--tests")
        bad("duplicates", ["shift", a, b, "--tests", "mmd,mmd"], "--tests", "twice")
        bad("duplicates", ["shift", a, b, "--bandwidth-scales", "1,1"], "--bandwidth-scales", "twice")
        bad("zero", ["shift", a, b, "--bandwidth-scales", "0"], "--bandwidth-scales")
        bad("nan", ["shift", a, b, "--bandwidth-scales", "nan"], "--bandwidth-scales")
        bad("memory", ["shift", a, b, "--permutations", "1000", "--memory-budget", "100KiB"], "--permutations 1000 needs", "--memory-budget 100KiB")
        c.append(Case(kind: "memory", arguments: ["shift", a, b, "--permutations", "1000"], exit: 2,
                      mentions: ["--permutations 1000 needs", "EMBDIAG_MEMORY_BUDGET 2KiB"], environment: ["EMBDIAG_MEMORY_BUDGET": "2KiB"]))
        c.append(Case(kind: "memory", arguments: ["shift", a, b, "--permutations", "10"], exit: 2,
                      mentions: ["EMBDIAG_MEMORY_BUDGET", "lots"], environment: ["EMBDIAG_MEMORY_BUDGET": "lots"]))
        bad("memory", ["shift", a, b, "--memory-budget", "0"], "--memory-budget")
        bad("memory", ["shift", a, b, "--memory-budget", "-1GiB"], "--memory-budget")
        bad("memory", ["shift", a, b, "--memory-budget", "150%"], "--memory-budget", "(0, 100] %")
        bad("memory", ["shift", a, b, "--memory-budget", "200%"], "--memory-budget", "(0, 100] %")
        bad("memory", ["shift", a, b, "--memory-budget", "1e99GiB"], "--memory-budget", "largest size")
        good("boundary", ["shift", a, b, "--permutations", "1", "--top", "0", "--folds", "2", "--memory-budget", "60%"])
        // The largest seed is a valid seed: recorded in the report, never a trap converting it.
        good("boundary", ["shift", a, b, "--permutations", "9", "--seed", "18446744073709551615"])
        good("boundary", ["bias", words, "--seed", "18446744073709551615"])
        // anisotropy
        bad("negative", ["anisotropy", a, "--pairs", "-1"], "--pairs", "≥ 0")
        bad("zero", ["anisotropy", a, "--top", "0"], "--top", "≥ 1")
        bad("huge", ["anisotropy", a, "--transform", "abtt:1000"], "abtt:1000", "1…7")
        bad("huge", ["anisotropy", a, "--transform", "whiten:100"], "whiten:100", "1…8")
        bad("zero", ["anisotropy", a, "--transform", "abtt:0"], "abtt:0")
        bad("negative", ["anisotropy", a, "--transform", "whiten:-1"], "whiten:-1")
        bad("empty item", ["anisotropy", a, "--transform", "center,,normalize"], "transform")
        bad("nan", ["anisotropy", a, "--isoscore-zeta", "nan"], "zeta")
        bad("huge", ["anisotropy", a, "--isoscore-zeta", "2"], "zeta")
        // Pairs are capped at the n(n − 1)/2 distinct ones, so a huge count sizes nothing more.
        good("huge", ["anisotropy", a, "--pairs", "1000000000000", "--memory-budget", "1MiB"])
        good("boundary", ["anisotropy", a, "--pairs", "0", "--transform", "abtt:7,whiten:8"])
        // relrep
        bad("negative", ["relrep", a, "--anchors", "-3"], "--anchors", "≥ 0")
        bad("negative", ["relrep", a, "--queries", "-1"], "--queries")
        bad("zero", ["relrep", a, "--k", "0"], "--k")
        bad("duplicates", ["relrep", a, "--k", "5,5"], "--k", "twice")
        bad("duplicates", ["relrep", a, "--sweep", "10,10"], "--sweep", "twice")
        bad("zero", ["relrep", a, "--sweep", "0"], "--sweep")
        bad("empty list", ["relrep", a, "--sweep", ""], "--sweep")
        bad("nan", ["relrep", a, "--auto-center-level", "nan"], "--auto-center-level")
        bad("memory", ["relrep", a, "--compare", b, "--anchors", "30", "--memory-budget", "100"], "--anchors 30 needs", "budget")
        good("boundary", ["relrep", a, "--compare", b, "--anchors", "0", "--queries", "0", "--sweep", "none"])
        // neighbors
        bad("zero", ["neighbors", a, "--k", "0"], "--k", "≥ 1")
        bad("negative", ["neighbors", a, "--k", "-1"], "--k")
        bad("memory", ["neighbors", a, "--k", "30", "--memory-budget", "100"], "--k 30 needs", "budget")
        good("boundary", ["neighbors", a, "--k", "1000000"])
        // bias
        bad("missing pair word", ["bias", words, "--indirect", "foo,bar"], "foo", "vocabulary")
        bad("empty item", ["bias", words, "--indirect", "softball,"], "--indirect")
        bad("duplicates", ["bias", words, "--indirect", "softball,softball"], "--indirect")
        bad("negative", ["bias", words, "--top", "-1"], "--top")
        bad("nan", ["bias", words, "--strictness", "nan"], "--strictness")
        bad("huge", ["bias", words, "--indirect-min-similarity", "2"], "--indirect-min-similarity")
        bad("negative", ["bias", words, "--exact-limit", "-1"], "--exact-limit")
        bad("zero", ["bias", words, "--weat-min-words", "0"], "--weat-min-words")
        bad("zero", ["bias", words, "--neighbors", "0"], "--neighbors")
        bad("negative", ["bias", words, "--neighbor-vocabulary", "-1"], "--neighbor-vocabulary")
        bad("zero", ["bias", words, "--permutations", "0"], "--permutations")
        bad("zero", ["bias", words, "--components", "0"], "--components")
        // bias --seat (a sentence table) and bias sentences (writes one)
        let seatTable = URL(fileURLWithPath: a).deletingLastPathComponent().path + "/seat.tsv"
        bad("missing file", ["bias", a, "--seat", seatTable + ".missing"], "seat.tsv.missing")
        bad("zero", ["bias", a, "--seat", seatTable, "--alpha", "0"], "--alpha")
        bad("nan", ["bias", a, "--seat", seatTable, "--alpha", "nan"], "--alpha")
        bad("combination", ["bias", a, "--seat", seatTable, "--weat", "1"], "--seat", "--weat")
        bad("combination", ["bias", a, "--seat-compare", b], "--seat")
        bad("unknown", ["bias", "sentences", "--weat", "99", "--output", seatTable], "--weat 99")
        bad("empty item", ["bias", "sentences", "--weat", "1,,6", "--output", seatTable], "--weat")
        bad("one set", ["bias", "sentences", "--targets", "flowers", "--attributes", "pleasant_9", "unpleasant_9", "--output", seatTable], "--targets")
        bad("duplicates", ["bias", "sentences", "--targets", "flowers", "flowers", "--attributes", "pleasant_9", "unpleasant_9", "--output", seatTable], "--targets", "same words")
        bad("duplicates", ["bias", "sentences", "--targets", "flowers", "insects", "--attributes", "pleasant_9", "pleasant_9", "--output", seatTable], "--attributes", "same words")
        bad("duplicates", ["bias", words, "--targets", "flowers", "flowers", "--attributes", "pleasant_9", "unpleasant_9"], "--targets", "same words")
        bad("empty item", ["bias", words, "--ends", ",she,he"], "--ends")
        bad("wrong count", ["bias", "sentences", "--targets", "flowers", "insects", "--attributes", "pleasant_9", "unpleasant_9", "--classes", "name,name", "--output", seatTable], "--classes")
        bad("missing file", ["bias", "sentences", "--weat", "1", "--templates", seatTable + ".missing", "--output", seatTable], "seat.tsv.missing")
        // partial options
        bad("negative", ["anisotropy", a, "--partial", "/dev/null", "--row-offset", "-1"], "--row-offset")
        bad("huge", ["anisotropy", a, "--partial", "/dev/null", "--row-offset", "0", "--partial-pass", "3"], "--partial-pass")
        // Seeds are 0…2^64 − 1 in every command: a negative seed is refused, not wrapped.
        bad("negative", ["anisotropy", a, "--seed", "-1"], "--seed -1", "0…18446744073709551615")
        bad("negative", ["shift", a, b, "--seed=-5"], "--seed -5")
        bad("float for int", ["anisotropy", a, "--seed", "1.5"], "--seed")
        bad("huge", ["anisotropy", a, "--seed", "18446744073709551616"], "--seed")
        return c
    }

    /// An unknown option whose value was taken for a second file (`info x --by v --json -`) was
    /// reported as "2 files were given": the option the command does not take is named.
    @Test func anUnknownOptionIsNamedBeforeOtherChecks() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "0.1,0.2\n0.3,0.4\n0.5,0.7\n".write(toFile: dir + "/x.csv", atomically: true, encoding: .utf8)
        for arguments in [["info", dir + "/x.csv", "--by", "lbl", "--json", "-"], ["info", dir + "/x.csv", "--by=lbl", "--html", dir + "/r.html", "--json", "-"],
                          ["info", dir + "/x.csv", "--by", "lbl"]] {
            let r = try CLI.run(arguments)
            #expect(r.status == 2 && r.stderr.lowercased().contains("unknown option '--by'") && !r.stderr.contains("files were given"), "\(r.stderr)")
            #expect(r.stderr.split(separator: "\n").count == 1)
        }
        // Known options (long, short, `=` values) keep the check's own message.
        let known = try CLI.run(["info", dir + "/x.csv", dir + "/x.csv", "-q", "--json=-", "--require", "rows>=1"])
        #expect(known.status == 2 && known.stderr.contains("2 files were given"), "\(known.stderr)")
        // Two files with --json are still refused as before.
        let two = try CLI.run(["info", dir + "/x.csv", dir + "/x.csv", "--json", "-"])
        #expect(two.status == 2 && two.stderr.contains("2 files were given"), "\(two.stderr)")
    }

    @Test func everyOptionIsRangeChecked() throws {
        let (a, b) = try Self.inputs()
        var byKind: [String: Int] = [:]
        for c in Self.cases(a: a, b: b) {
            let r = try CLI.run(c.arguments + ["--quiet"], environment: c.environment)
            byKind[c.kind, default: 0] += 1
            #expect(r.status == c.exit, "\(c): exit \(r.status), stderr \(r.stderr)")
            if c.exit == 2 {
                let lines = r.stderr.split(separator: "\n").filter { $0.hasPrefix("embdiag: error:") }
                #expect(lines.count == 1, "\(c): one error line, got \(r.stderr)")
                for m in c.mentions { #expect(r.stderr.contains(m), "\(c): stderr lacks '\(m)': \(r.stderr)") }
                #expect(!r.stderr.contains("Fatal error") && !r.stderr.contains("Stack dump"), "\(c): crashed")
            }
        }
        print("option hostile cases by kind: \(byKind.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))")
    }

    /// The library checks the same ranges and budgets itself (the CLI is one front end of three).
    @Test func libraryConfigurationsValidateTheSameRanges() throws {
        var compat = CompatibilityConfiguration()
        compat.maxQueries = -5
        #expect(throws: EmbdiagError.self) { try compat.validate() }
        compat = CompatibilityConfiguration()
        compat.ks = [10, 10]
        #expect(throws: EmbdiagError.self) { try compat.validate() }
        var aniso = AnisotropyConfiguration()
        aniso.pairSample = -1
        #expect(throws: EmbdiagError.self) { try aniso.validate() }
        var depth = DepthConfiguration()
        depth.top = -1
        #expect(throws: EmbdiagError.self) { try depth.validate() }
        var relrep = RelativeRepresentationsConfiguration()
        relrep.anchorCount = -3
        #expect(throws: EmbdiagError.self) { try relrep.validate() }
        var shift = ShiftConfiguration()
        shift.permutations = 1_000_000_000
        let estimate = shift.memoryEstimates(rows: [10, 10], dimension: 8)
        #expect(estimate.count == 1 && estimate[0].bytes > 50 * 1_073_741_824)
        let budget = MemoryBudget(bytes: 1 << 30, origin: "test")
        do {
            try budget.check(estimate)
            Issue.record("an estimate above the budget must throw")
        } catch let e as EmbdiagError {
            #expect(e.message.contains("needs ≈") && e.message.contains("the budget is 1 GiB (test"), "\(e.message)")
        }
        // The analysis itself refuses before any work, with the installed budget.
        var rng = SeededGenerator(seed: 1)
        let x = Embeddings(matrix: rng.gaussianMatrix(rows: 10, cols: 8), name: "x"), y = Embeddings(matrix: rng.gaussianMatrix(rows: 10, cols: 8), name: "y")
        MemoryBudget.installed.withValue(budget) {
            #expect(throws: EmbdiagError.self) { _ = try ShiftAnalysis(reference: x, others: [y], configuration: shift) }
        }
        // Sizes parse in binary units and shares of the physical memory.
        #expect(try MemoryBudget.parse("8GiB", origin: "t").bytes == 8 << 30)
        #expect(try MemoryBudget.parse("512M", origin: "t").bytes == 512 << 20)
        #expect(try MemoryBudget.parse("100000", origin: "t").bytes == 100_000)
        #expect(try MemoryBudget.parse("50%", origin: "t").bytes == UInt64(Double(ProcessInfo.processInfo.physicalMemory) * 0.5))
        for text in ["0", "-1G", "nan", "1.5X", "", "101%", "1e30T"] {
            #expect(throws: EmbdiagError.self, "\(text)") { try MemoryBudget.parse(text, origin: "t") }
        }
    }
}
