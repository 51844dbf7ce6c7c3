import Foundation
import Testing
@testable import EmbeddingDiagnostics

@Suite struct GatesTests {
    let report = Report(analyzer: "compat", title: "t", metrics: [
        ReportMetric("recall_at_10_cross", "r", 0.85), ReportMetric("compatible", "c", false),
        ReportMetric("p_value", "p", .double(.nan)), ReportMetric("n", "n", 10),
    ])

    @Test func parsesEveryOperatorAndSpacing() throws {
        #expect(try Requirement(parsing: "recall_at_10_cross>=0.9") == Requirement(metric: "recall_at_10_cross", .greaterOrEqual, 0.9))
        #expect(try Requirement(parsing: " p_value <= 1e-3 ") == Requirement(metric: "p_value", .lessOrEqual, 0.001))
        #expect(try Requirement(parsing: "n>5").comparison == .greater)
        #expect(try Requirement(parsing: "n<5").comparison == .less)
        #expect(try Requirement(parsing: "compatible == true") == Requirement(metric: "compatible", .equal, 1, boolean: true))
        #expect(try Requirement(parsing: "n != 3").comparison == .notEqual)
        for bad in ["recall", "recall>=", ">=0.9", "recall>=abc", "re call>=1", "x>=nan"] {
            #expect(throws: EmbdiagError.self, "\(bad)") { try Requirement(parsing: bad) }
        }
    }

    /// Swift's Double(String) reads C99 hex ("0x100" = 256); no other number rule does (Python's
    /// float does not): refused with the message of any other malformed number, also in the CLI.
    @Test func hexadecimalThresholdsAreNotNumbers() throws {
        for text in ["rows>=0x100", "rows>=0X1p3", "rows >= -0x10", "rows>=1_000", "rows>=0b1111111"] {
            let value = text.components(separatedBy: "=").last!.trimmingCharacters(in: .whitespaces)
            #expect(throws: EmbdiagError.usage("requirement '\(text)': '\(value)' is not a number (or true/false, yes/no)"), "\(text)") {
                try Requirement(parsing: text)
            }
        }
        #expect(try Requirement(parsing: "rows>=1e2").threshold == 100)
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "0.1,0.2\n0.3,0.4\n0.5,0.7\n".write(toFile: dir + "/x.csv", atomically: true, encoding: .utf8)
        let r = try CLI.run(["info", dir + "/x.csv", "--require", "rows>=0x100"])
        #expect(r.status == 2 && r.stderr.contains("'0x100' is not a number"), "\(r.stderr)")
    }

    @Test func evaluatesWithMessagesAndRecordsATable() throws {
        var r = report
        let outcomes = try r.evaluate([try Requirement(parsing: "recall_at_10_cross>=0.9"), try Requirement(parsing: "n==10"),
                                       try Requirement(parsing: "p_value<0.05"), try Requirement(parsing: "compatible==true")])
        #expect(outcomes.map(\.passed) == [false, true, false, false])
        #expect(outcomes[0].message == "recall_at_10_cross = 0.85, required >= 0.9 (off by 0.05)")
        #expect(outcomes[2].actual == nil && outcomes[2].message.contains("not available"))
        r.record(outcomes)
        #expect(r.metric("gates_passed") == .bool(false))
        #expect(r.table("gates")?.rows.count == 4)
        // An unknown key is a usage error naming the available keys.
        #expect(throws: EmbdiagError.self) { try report.evaluate([Requirement(metric: "recall_at_1O_cross", .greater, 0)]) }
    }

    /// Gates on metrics whose range the definition fixes, found accepted by a hostile pass: each
    /// can never fail (exit 2); a threshold inside the range is a real gate. A text metric cannot
    /// be gated at all.
    @Test func gatesThatCannotFailOnNewerMetricsAreRefused() throws {
        let names = ["min_p_holm", "band_false_alarm", "depth_q", "energy_homogeneity", "new_region_share_reference",
                     "negative_flip_rate_mapped", "q", "relative_top1_ceiling", "isoscore", "mutual_knn"]
        let r = Report(analyzer: "shift", title: "t",
                       metrics: names.map { ReportMetric($0, $0, 0.5) } + [ReportMetric("windows_shifted", "w", 2), ReportMetric("density", "d", 1.2),
                                                                          ReportMetric("max_effect_window_name", "its name", "rows 0–59"),
                                                                          ReportMetric("mmd", "MMD²_u", -0.001)])
        for name in names {
            for never in ["\(name)<=1", "\(name)>=0", "\(name)>-0.5"] {
                #expect(throws: EmbdiagError.self, "\(never)") { try r.evaluate([Requirement(parsing: never)]) }
            }
            #expect(try r.evaluate([Requirement(parsing: "\(name)<=0.4")]).map(\.passed) == [false])
        }
        let more = Report(analyzer: "x", title: "t", metrics: [ReportMetric("antihubs", "a", 3), ReportMetric("rows", "r", 300),
                                                               ReportMetric("effect_size", "e", 0.2), ReportMetric("mean_cosine", "m", 0.1),
                                                               ReportMetric("cka_linear", "c", 0.5), ReportMetric("score_shift_ks_top1", "k", 0.1),
                                                               ReportMetric("hubness_skewness", "s", -0.3)])
        for never in ["antihubs>=0", "rows>=0", "effect_size>=-1", "effect_size<=1", "mean_cosine>=-1", "cka_linear<=1", "score_shift_ks_top1>=0"] {
            #expect(throws: EmbdiagError.self, "\(never)") { try more.evaluate([Requirement(parsing: never)]) }
        }
        // Ranges fixed by definition, refused from the key alone (before any input is read).
        for never in ["mean_top1_similarity<=1", "mean_kth_similarity>=-1", "procrustes_residual<=1", "energy>=0", "effective_rank>=1",
                      "participation_ratio>=1", "rows>=1", "dim>0", "mrr_cross>0", "relative_mrr>0", "chance_top1>0"] {
            #expect(throws: EmbdiagError.self, "\(never)") { try Requirement(parsing: never).refuseIfCannotFail() }
        }
        // Shift's p-values cannot go below their permutation floor 1/(B + 1): a gate the floor
        // decides either way is refused.
        var shift = ShiftConfiguration()
        shift.permutations = 999
        shift.tests = [.mmd, .energy]
        for never in ["p_value>=0.001", "p_value>0.0005", "p_value_mmd>=0.0009", "p_value_energy>=0.001", "p_value<=0.0005", "p_value<0.001"] {
            #expect(throws: EmbdiagError.self, "\(never)") { try shift.refuseIfBelowPValueFloor(Requirement(parsing: never)) }
        }
        for fine in ["p_value>=0.0011", "p_value>0.001", "p_value<=0.001", "p_value<0.0011"] {
            #expect(throws: Never.self, "\(fine)") { try shift.refuseIfBelowPValueFloor(Requirement(parsing: fine)) }
        }
        shift.tests = [.mmd, .classifier]  // the classifier's p-value has no floor
        #expect(throws: Never.self) { try shift.refuseIfBelowPValueFloor(Requirement(parsing: "p_value>=0.0001")) }
        for fine in ["relative_mrr_at_k>0", "relative_mrr_stderr>0", "mrr_cross>0.5", "mean_top1_similarity<=0.9", "procrustes_residual<=0.5", "energy>=0.01", "effective_rank>=2", "rows>=2", "dim>=384"] {
            #expect(throws: Never.self, "\(fine)") { try Requirement(parsing: fine).refuseIfCannotFail() }
        }
        // Skewness has no fixed range.
        #expect(try more.evaluate([Requirement(parsing: "hubness_skewness>=-1")]).map(\.passed) == [true])
        for never in ["windows_shifted>=0", "density>=0", "windows_shifted>-1"] {
            #expect(throws: EmbdiagError.self, "\(never)") { try r.evaluate([Requirement(parsing: never)]) }
        }
        #expect(try r.evaluate([Requirement(parsing: "windows_shifted<=0")]).map(\.passed) == [false])
        // MMD²_u can be negative: no range, so any threshold is a gate.
        #expect(try r.evaluate([Requirement(parsing: "mmd>=0")]).map(\.passed) == [false])
        do {
            _ = try r.evaluate([Requirement(parsing: "max_effect_window_name>=1")])
            Issue.record("a text metric was gated")
        } catch let e as EmbdiagError {
            #expect(e.message.contains("is a text") && e.message.contains("cannot be gated"), "\(e.message)")
        }
    }

    /// A WEAT p-value gate at or below the test's floor (1/(B + 1) sampled, 1/C exact) can never
    /// fail: refused with exit 2, as the same mistake on `shift` is; a gate above it runs.
    /// Round-off past a metric's defined bound is not reported (a cosine of 1 + 1e-7 on identical
    /// rows would fail `mean_cosine<1.0000001`-style gates and contradict the refused `<=1`);
    /// a value further out is kept, so a real error still shows.
    @Test func roundOffPastADefinedBoundIsReportedAtTheBound() throws {
        #expect(ReportMetric("mean_cosine", "", .double(1.0000001)).value == .double(1))
        #expect(ReportMetric("recall_at_10", "", .double(-2e-9)).value == .double(0))
        #expect(ReportMetric("cross_duplicate_share", "", .double(1 + 5e-6)).value == .double(1))
        #expect(ReportMetric("mean_cosine", "", .double(1.01)).value == .double(1.01))
        #expect(ReportMetric("energy", "", .double(-1e-12)).value == .double(0))
        #expect(ReportMetric("w", "", .double(22.5)).value == .double(22.5))
        #expect(ReportMetric("rows", "", .int(0)).value == .int(0))
    }

    /// One number grammar for people's input: decimal and finite. Swift's Double(String) reads
    /// C99 hex, inf and nan, which no option, gate or budget may take.
    @Test func numbersAreDecimalOnly() throws {
        for ok in ["16", "0.5", ".5", "5.", "-1e-3", "+2E+4", " 3 "] { #expect(DecimalNumber.parse(ok) != nil, "\(ok)") }
        for bad in ["0x10", "0X1p3", "inf", "-Infinity", "nan", "1e", "e5", "1e+", "--1", "1-", "", ".", "1.2.3", "1e400", "1_000"] {
            #expect(DecimalNumber.parse(bad) == nil, "\(bad)")
        }
        #expect(throws: EmbdiagError.self) { try MemoryBudget.parse("0x10", origin: "--memory-budget") }
        #expect(throws: EmbdiagError.self) { try MemoryBudget.parse("0x10%", origin: "--memory-budget") }
        #expect(throws: EmbdiagError.self) { try MappingFit(parsing: "ridge:0x1") }
        #expect(try MemoryBudget.parse("1.5GiB", origin: "--memory-budget").bytes == 1_610_612_736)
        let dir = try CLI.temporaryDirectory()
        var rng = SeededGenerator(seed: 3)
        try CLI.writeNpy((0..<60).map { _ in (0..<4).map { _ in Float(rng.nextGaussian()) } }, to: dir + "/a.npy")
        try CLI.writeNpy((0..<60).map { _ in (0..<4).map { _ in Float(rng.nextGaussian()) } }, to: dir + "/b.npy")
        for arguments in [["shift", dir + "/a.npy", dir + "/b.npy", "--bandwidth", "0x10"], ["shift", dir + "/a.npy", dir + "/b.npy", "--bandwidth-scales", "1,0x2"],
                          ["shift", dir + "/a.npy", dir + "/b.npy", "--alpha", "nan"], ["compat", "--old", dir + "/a.npy", "--new", dir + "/b.npy", "--threshold", "0x0.8p0"],
                          ["shift", dir + "/a.npy", dir + "/b.npy", "--memory-budget", "0x10"]] {
            let r = try CLI.run(arguments + ["--quiet"])
            #expect(r.status == 2 && (r.stderr.contains("0x") || r.stderr.contains("nan")), "\(arguments): \(r.status) \(r.stderr)")
        }
        // Spaces around a number: refused by decimal and integer options alike (one grammar).
        for arguments in [["--alpha", " 0.05"], ["--alpha", "0.05 "], ["--permutations", " 99"]] {
            let r = try CLI.run(["shift", dir + "/a.npy", dir + "/b.npy", "--quiet"] + arguments)
            #expect(r.status == 2 && r.stderr.contains(arguments[1]), "\(arguments): \(r.status) \(r.stderr)")
        }
    }

    @Test func weatPValueGateBelowItsFloorIsRefused() throws {
        let words = CLI.repositoryRoot.appendingPathComponent("data/words/googlenews-bolukbasi-subset.bin").path
        let sampled = try CLI.run(["bias", words, "--weat", "7", "--permutations", "100", "--exact-limit", "10", "--require", "weat_p_value>=0.009", "--quiet"])
        #expect(sampled.status == 2 && sampled.stderr.contains("weat_p_value_floor"), "\(sampled.stderr)")
        let exact = try CLI.run(["bias", words, "--weat", "7", "--require", "weat_p_value>=0.00007", "--quiet"])
        #expect(exact.status == 2 && exact.stderr.contains("can never fail"), "\(exact.stderr)")
        let fine = try CLI.run(["bias", words, "--weat", "7", "--permutations", "100", "--exact-limit", "10", "--require", "weat_p_value>=0.02", "--quiet"])
        #expect(fine.status == 0 || fine.status == 1, "\(fine.stderr)")
    }

    /// depth's permutation p is at least 1/(B + 1): `p_value>=0.0005` with 999 relabellings can
    /// never fail and is refused; with the normal approximation (`--permutations 0`) it can.
    @Test func depthPValueGateBelowThePermutationFloorIsRefused() throws {
        let dir = try CLI.temporaryDirectory()
        var rng = SeededGenerator(seed: 5)
        try CLI.writeNpy((0..<80).map { _ in (0..<6).map { _ in Float(rng.nextGaussian()) } }, to: dir + "/r.npy")
        try CLI.writeNpy((0..<70).map { _ in (0..<6).map { _ in Float(rng.nextGaussian()) } }, to: dir + "/o.npy")
        let floor = try CLI.run(["depth", dir + "/r.npy", dir + "/o.npy", "--require", "p_value>=0.0005", "--quiet"])
        #expect(floor.status == 2 && floor.stderr.contains("p_value_floor"), "\(floor.stderr)")
        let never = try CLI.run(["depth", dir + "/r.npy", dir + "/o.npy", "--require", "p_value<=0.0005", "--quiet"])
        #expect(never.status == 2 && never.stderr.contains("can never pass"), "\(never.stderr)")
        let atFloor = try CLI.run(["depth", dir + "/r.npy", dir + "/o.npy", "--require", "p_value<=0.001", "--quiet"])
        #expect(atFloor.status == 0 || atFloor.status == 1, "\(atFloor.stderr)")
        let normal = try CLI.run(["depth", dir + "/r.npy", dir + "/o.npy", "--permutations", "0", "--require", "p_value>=0.0005", "--quiet"])
        #expect(normal.status == 0 || normal.status == 1, "\(normal.stderr)")
    }

    /// shift knows its floors from its options: one rule (`Requirement.refuseIfDecided`) refuses a
    /// gate the floor decides, both ways, before the inputs are read (they do not exist here);
    /// with the classifier the overall p-value has no floor.
    @Test func shiftPValueGatesDecidedByTheFloorAreRefusedBeforeReading() throws {
        let missing = try CLI.temporaryDirectory() + "/missing.npy"
        let permutationOnly = ["shift", missing, missing, "--tests", "mmd,energy", "--permutations", "99", "--quiet", "--require"]
        for (gate, words) in [("p_value>=0.01", "can never fail"), ("p_value<0.01", "can never pass"), ("p_value_energy<=0.005", "can never pass"),
                              ("p_value_mmd>0.001", "can never fail")] {
            let r = try CLI.run(permutationOnly + [gate])
            #expect(r.status == 2 && r.stderr.contains(words) && r.stderr.contains("99 permutations"), "\(gate): \(r.stderr)")
        }
        let withClassifier = try CLI.run(["shift", missing, missing, "--permutations", "99", "--quiet", "--require", "p_value<0.001"])
        #expect(withClassifier.status == 2 && withClassifier.stderr.contains("missing.npy"), "\(withClassifier.stderr)")
    }
}
