import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// `embdiag shift` over windows from the command line, on the bundled monitoring example
/// (data/sentences/monitoring: a reference, six daily .npy files, the same rows in a Parquet table
/// with a DATE column): a directory of windows and a date column give the same windows, a saved
/// reference gives the same numbers as the reference itself, and every bad option value or input
/// exits 2 with one line naming the problem.
@Suite(.serialized) struct ShiftWindowsCLITests {
    static let example = CLI.repositoryRoot.appendingPathComponent("data/sentences/monitoring").path
    static var reference: String { example + "/reference.npy" }
    static var daily: String { example + "/daily" }
    static var parquet: String { example + "/batches.parquet" }

    static func json(_ dir: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/report.json"))) as! [String: Any]
    }

    /// The windows table (CSV) as rows of fields by column name.
    static func windows(_ dir: String) throws -> [[String: String]] {
        let lines = try String(contentsOfFile: dir + "/windows.csv", encoding: .utf8).split(separator: "\n").map(String.init)
        let header = lines[0].split(separator: ",").map(String.init)
        // The last column (top rows' texts) may hold commas: only the numeric columns are read.
        return lines.dropFirst().map { line in
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            return Dictionary(uniqueKeysWithValues: zip(header, fields).prefix(header.count - 1).map { ($0, $1) })
        }
    }

    /// The kernel tests only unless `allTests` (the classifier and depth tests are the slow part of a run).
    static func run(_ args: [String], allTests: Bool = false) throws -> CLI.Result {
        try CLI.run(["shift"] + args + ["--permutations", "199", "--quiet"] + (allTests ? [] : ["--tests", "mmd,energy"]))
    }

    /// exit 2, one line on stderr containing `words`, and no report written.
    static func refused(_ args: [String], _ words: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try run(args + ["--output", dir + "/out"])
        #expect(r.status == 2, "exit \(r.status): \(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.contains(words), "\(r.stderr)", sourceLocation: sourceLocation)
        #expect(r.stderr.split(separator: "\n").count == 1, "\(r.stderr)", sourceLocation: sourceLocation)
        #expect(!FileManager.default.fileExists(atPath: dir + "/out/report.json"), sourceLocation: sourceLocation)
    }

    /// The daily directory and the Parquet date column give the same six windows; the drifted
    /// days are flagged and the last one, with the most rows of the new topic, opens the report.
    @Test func dailyFilesAndADateColumnGiveTheSameWindows() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = try Self.run([Self.reference, Self.daily, "--labels", Self.example + "/reference.txt", "--output", dir + "/files"], allTests: true)
        #expect(a.status == 0, "\(a.stderr)")
        let b = try Self.run([Self.reference, Self.parquet, "--by", "date", "--window", "1d", "--label-column", "text", "--output", dir + "/table"])
        #expect(b.status == 0, "\(b.stderr)")
        let c = try Self.run([Self.reference, Self.parquet, "--by", "date", "--output", dir + "/dates"])
        #expect(c.status == 0, "\(c.stderr)")
        let fa = try Self.windows(dir + "/files"), fb = try Self.windows(dir + "/table"), fc = try Self.windows(dir + "/dates")
        #expect(fa.map { $0["window"]! } == (1...6).map { "2024-03-0\($0)" })
        #expect(fb.map { $0["window"]! } == fa.map { $0["window"]! })
        #expect(fc.map { $0["window"]! } == fa.map { $0["window"]! })
        // Same rows per window in another order: the same MMD² up to Float32 summation order.
        for (x, y) in zip(fa, fb) {
            let ex = Double(x["mmd"]!)!, ey = Double(y["mmd"]!)!
            #expect(abs(ex - ey) <= 1e-5 * max(abs(ex), 1e-3), "\(x["window"]!): \(ex) vs \(ey)")
            #expect(x["n"] == "40" && y["n"] == "40")
        }
        let metrics = try Self.json(dir + "/files")["metrics"] as! [String: Any]
        #expect(metrics["windows"] as? Int == 6)
        #expect(metrics["max_effect_window_name"] as? String == "2024-03-06")
        #expect(metrics["max_effect_window"] as? Int == 6)
        #expect((metrics["windows_shifted"] as? Int ?? 0) >= 1)
        #expect((metrics["max_effect_excess"] as? Double ?? -1) > 0)
        let days = try Self.windows(dir + "/files")
        #expect(days.prefix(4).allSatisfy { $0["shifted"] == "false" }, "days drawn like the reference flagged: \(days.map { $0["p_holm"] ?? "" })")
        #expect(days[5]["shifted"] == "true")
        let html = try String(contentsOfFile: dir + "/files/report.html", encoding: .utf8)
        #expect(html.contains("data-chart=\"windows\""))
        #expect(html.contains("normal variation: upper limit"))
        let text = try String(contentsOfFile: dir + "/files/report.txt", encoding: .utf8)
        #expect(text.contains("The largest shift is window 2024-03-06"))
        // Its over-represented rows are named by their texts (daily/2024-03-06.txt).
        let largest = try String(contentsOfFile: dir + "/files/largest_shift.csv", encoding: .utf8)
        #expect(largest.split(separator: "\n").count > 3)
        #expect(!largest.contains(",0,") || largest.contains("font") || largest.contains("Font"), "\(largest.prefix(400))")
    }

    /// A saved reference tests the same windows with the same numbers, and a gate on the windows
    /// metrics fails (exit 1) on the drifted days.
    @Test func savedReferenceGivesTheSameNumbers() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let save = try Self.run([Self.reference, "--save-reference", dir + "/ref.state", "--max-rows", "300", "--chunk", "40", "--output", dir + "/saved"])
        #expect(save.status == 0, "\(save.stderr)")
        let saved = try Self.json(dir + "/saved")["metrics"] as! [String: Any]
        #expect(saved["n_reference"] as? Int == 300 && saved["bands"] as? Int == 1)
        let fromState = try Self.run(["--reference", dir + "/ref.state", Self.daily, "--output", dir + "/state"])
        #expect(fromState.status == 0, "\(fromState.stderr)")
        let direct = try Self.run([Self.reference, Self.daily, "--max-rows", "300", "--output", dir + "/direct"])
        #expect(direct.status == 0, "\(direct.stderr)")
        let a = try Self.windows(dir + "/state"), b = try Self.windows(dir + "/direct")
        for column in ["p_value", "p_holm", "p_bh", "uncovered_share"] {
            #expect(a.map { $0[column] } == b.map { $0[column] }, "\(column)")
        }
        // Effects from Float32 GEMMs: equal up to float noise (OpenBLAS may round differently from call to call).
        for column in ["mmd", "band_upper", "effect_excess", "energy"] {
            for (x, y) in zip(a, b) {
                let (u, v) = (Double(x[column]!)!, Double(y[column]!)!)
                #expect(abs(u - v) <= 1e-5 * max(abs(u), abs(v)) + 1e-7, "\(column) \(x["window"]!): \(u) vs \(v)")
            }
        }
        let gate = try CLI.run(["shift", "--reference", dir + "/ref.state", Self.daily, "--permutations", "199", "--tests", "mmd,energy", "--quiet", "--require", "windows_shifted<=0"])
        #expect(gate.status == 1, "\(gate.stderr)")
        let excess = try CLI.run(["shift", "--reference", dir + "/ref.state", Self.daily, "--permutations", "199", "--tests", "mmd,energy", "--quiet", "--require", "max_effect_excess<=0"])
        #expect(excess.status == 1, "\(excess.stderr)")
        // A state is refused where a batch is expected, and a batch where a state is.
        try Self.refused(["--reference", Self.reference, Self.daily], "not a valid saved shift reference")
        try Self.refused(["--reference", dir + "/ref.state", CLI.fixtures.appendingPathComponent("sources/reference.npy").path], "dimension 8 differs")
        try Self.refused(["--reference", dir + "/ref.state", Self.daily, "--labels", Self.example + "/reference.txt"], "--labels")
        try Self.refused(["--reference", dir + "/ref.state", "--save-reference", dir + "/again.state", Self.daily], "--save-reference")
        try Self.refused(["--reference", dir + "/ref.state", Self.daily, "--clusters", "4"], "--clusters")
        try Self.refused(["--reference", dir + "/missing.state", Self.daily], "missing.state")
        var damaged = try Data(contentsOf: URL(fileURLWithPath: dir + "/ref.state"))
        damaged[damaged.count - 3] ^= 1
        try damaged.write(to: URL(fileURLWithPath: dir + "/damaged.state"))
        try Self.refused(["--reference", dir + "/damaged.state", Self.daily], "checksum mismatch")
    }

    /// Chunks, one window only, and windows of one row (listed as too small, with a note).
    @Test func chunksAndTinyWindows() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let day = Self.daily + "/2024-03-01.npy"
        let one = try Self.run([Self.reference, day, "--chunk", "1000", "--output", dir + "/one"])
        #expect(one.status == 0, "\(one.stderr)")
        #expect(try Self.windows(dir + "/one").count == 1)
        let chunks = try Self.run([Self.reference, day, "--chunk", "13", "--output", dir + "/chunks"])
        #expect(chunks.status == 0, "\(chunks.stderr)")
        let rows = try Self.windows(dir + "/chunks")
        #expect(rows.map { $0["n_input"]! } == ["13", "13", "13", "1"])
        #expect(rows[3]["status"] == "too small" && rows[3]["p_value"] == "")
        let text = try String(contentsOfFile: dir + "/chunks/report.txt", encoding: .utf8)
        #expect(text.contains("fewer than 6 rows"))
        // A labels file of keys: a batch id per row.
        let keys = (0..<40).map { $0 < 39 ? "batch-\($0 % 2)" : "late" }
        try keys.joined(separator: "\n").appending("\n").write(toFile: dir + "/keys.txt", atomically: true, encoding: .utf8)
        let byFile = try Self.run([Self.reference, day, "--by-file", dir + "/keys.txt", "--output", dir + "/keys"])
        #expect(byFile.status == 0, "\(byFile.stderr)")
        #expect(try Self.windows(dir + "/keys").map { $0["window"]! } == ["batch-0", "batch-1", "late"])
    }

    @Test func badWindowOptionsAreRefused() throws {
        let day = Self.daily + "/2024-03-01.npy"
        try Self.refused([Self.reference, day, "--chunk", "0"], "--chunk")
        try Self.refused([Self.reference, day, "--chunk", "-4"], "--chunk")
        for bad in ["0d", "1x", "", "d", "1.5d", "-1d", "99999999999w"] {
            try Self.refused([Self.reference, Self.parquet, "--by", "date", "--window", bad], "--window")
        }
        try Self.refused([Self.reference, day, "--window", "1d"], "--window")
        try Self.refused([Self.reference, day, "--chunk", "5", "--by-file", day], "one of --by, --by-file and --chunk")
        try Self.refused([Self.reference, day, day, "--chunk", "5"], "one other corpus")
        try Self.refused([Self.reference, day, "--band-chunks", "0"], "--band-chunks")
        try Self.refused([Self.reference, day, "--by", "date"], "needs a source with columns")
        try Self.refused([Self.reference, Self.parquet, "--by", "day"], "no label column 'day'")
        try Self.refused([Self.reference, Self.parquet, "--by", "embedding"], "expected strings or integers")
    }

    @Test func badWindowKeysAreRefused() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let day = Self.daily + "/2024-03-01.npy"
        func keys(_ name: String, _ values: [String]) throws -> String {
            let path = dir + "/" + name
            try (values.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        let dates = (0..<40).map { String(format: "2024-03-%02d", $0 % 28 + 1) }
        try Self.refused([Self.reference, day, "--by-file", try keys("short.txt", Array(dates.prefix(39)))], "39")
        var unparseable = dates
        unparseable[17] = "2024-02-30"
        try Self.refused([Self.reference, day, "--by-file", try keys("bad.txt", unparseable), "--window", "1d"], "row 17: '2024-02-30' is not a date")
        var mixed = dates
        mixed[3] = "batch-7"
        try Self.refused([Self.reference, day, "--by-file", try keys("mixed.txt", mixed)], "mixed window keys")
        var blank = dates
        blank[5] = ""
        try Self.refused([Self.reference, day, "--by-file", try keys("blank.txt", blank)], "row 5: empty window key")
        // JSONL: a null, a missing key and mixed JSON types in the window field.
        let rows = (0..<12).map { i in "[\((0..<384).map { j in String(Float((i * 7 + j) % 11) + 1) }.joined(separator: ","))]" }
        func jsonl(_ name: String, _ day: (Int) -> String) throws -> String {
            let path = dir + "/" + name
            try rows.enumerated().map { i, v in "{\"embedding\": \(v)\(day(i))}" }.joined(separator: "\n").appending("\n").write(toFile: path, atomically: true, encoding: .utf8)
            return path
        }
        try Self.refused([Self.reference, try jsonl("null.jsonl") { $0 == 4 ? ", \"day\": null" : ", \"day\": \"2024-03-01\"" }, "--by", "day"], "null")
        try Self.refused([Self.reference, try jsonl("missing.jsonl") { $0 == 4 ? "" : ", \"day\": \"2024-03-01\"" }, "--by", "day"], "line 5")
        try Self.refused([Self.reference, try jsonl("types.jsonl") { $0 == 4 ? ", \"day\": 20240301" : ", \"day\": \"2024-03-01\"" }, "--by", "day"], "mixed window keys")
        let okJSONL = try jsonl("ok.jsonl") { ", \"day\": \"2024-03-0\($0 % 2 + 1)\"" }
        let ok = try Self.run([Self.reference, okJSONL, "--by", "day", "--output", dir + "/jsonl"])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(try Self.windows(dir + "/jsonl").map { $0["window"]! } == ["2024-03-01", "2024-03-02"])
        // CSV: the window column by header name, skipped as a dimension; a missing column.
        let header = "day," + (0..<384).map { "v\($0)" }.joined(separator: ",")
        let csv = ([header] + (0..<12).map { i in "2024-03-0\(i % 2 + 1)," + (0..<384).map { j in String(Float((i * 5 + j) % 13) + 1) }.joined(separator: ",") })
        try (csv.joined(separator: "\n") + "\n").write(toFile: dir + "/w.csv", atomically: true, encoding: .utf8)
        let okCSV = try Self.run([Self.reference, dir + "/w.csv", "--by", "day", "--output", dir + "/csv"])
        #expect(okCSV.status == 0, "\(okCSV.stderr)")
        #expect(try Self.windows(dir + "/csv").map { $0["window"]! } == ["2024-03-01", "2024-03-02"])
        try Self.refused([Self.reference, dir + "/w.csv", "--by", "week"], "no such column")
    }

    /// One day of the example as JSONL with a key per row (`keys`), for window keys and labels
    /// that come from users.
    static func jsonlDay(_ path: String, keys: (Int) -> String?) throws -> Int {
        let e = try EmbeddingReader.read(daily + "/2024-03-01.npy", options: ReadOptions(computeChecksum: false))
        var text = ""
        for i in 0..<e.count {
            let values = (0..<e.dimension).map { "\(e.matrix[i, $0])" }.joined(separator: ",")
            let key = keys(i).map { String(decoding: try! JSONSerialization.data(withJSONObject: $0, options: .fragmentsAllowed), as: UTF8.self) } ?? "null"
            text += "{\"embedding\": [\(values)], \"batch\": \(key)}\n"
        }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return e.count
    }

    /// Window keys a spreadsheet would run as formulas get a leading "'" in every CSV table, and a
    /// key holding "\r\n" is quoted, so the CSV has one record per window (Python's csv reads it).
    @Test func windowKeysFromUsersCannotRunOrSplitTheCSV() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let keys = ["=cmd|' /C calc'!A0", "+SUM(1)", "x\r\ny", "-2+3"]
        let rows = try Self.jsonlDay(dir + "/day.jsonl") { keys[$0 % keys.count] }
        #expect(rows >= 40)
        let r = try Self.run([Self.reference, dir + "/day.jsonl", "--by", "batch", "--output", dir + "/out"])
        #expect(r.status == 0, "\(r.stderr)")
        let csv = try String(contentsOfFile: dir + "/out/windows.csv", encoding: .utf8)
        for line in csv.components(separatedBy: "\n").dropFirst() where !line.isEmpty && !line.hasPrefix(" ") {
            #expect(!["=", "+", "@"].contains(line.first.map(String.init) ?? ""), "\(line.prefix(60))")
        }
        #expect(csv.contains("'=cmd|' /C calc'!A0,") && csv.contains("'+SUM(1),") && csv.contains("'-2+3,"))
        #expect(csv.contains("\"x\r\ny\","))
        // Records as an RFC 4180 reader (Python's csv with newline='') counts them: a CR or LF outside quotes ends one.
        var records = 0, quoted = false, previousWasCR = false
        for u in csv.unicodeScalars {
            if u == "\"" { quoted.toggle() }
            if !quoted && (u == "\n" || u == "\r") {
                if !(u == "\n" && previousWasCR) { records += 1 }
            }
            previousWasCR = u == "\r" && !quoted
        }
        #expect(records == keys.count + 1, "\(records) records")
    }

    /// A null window key names the --by column (the readers take it as their label column).
    @Test func aNullWindowKeyNamesTheByColumn() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try Self.jsonlDay(dir + "/day.jsonl") { $0 == 3 ? nil : "a" }
        try Self.refused([Self.reference, dir + "/day.jsonl", "--by", "batch"], "the --by key at")
    }

    /// With no window tested (every window below the tests' minimum) the counts over tested
    /// windows are null: a gate windows_shifted<=0 fails instead of passing on nothing.
    @Test func noWindowTestedLeavesTheCountsNull() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let r = try Self.run([Self.reference, Self.daily + "/2024-03-01.npy", "--chunk", "2", "--json", dir + "/o.json", "--require", "windows_shifted<=0"])
        #expect(r.status == 1 && r.stderr.contains("windows_shifted is not available"), "exit \(r.status) \(r.stderr)")
        let metrics = (try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/o.json"))) as! [String: Any])["metrics"] as! [String: Any]
        #expect(metrics["windows_tested"] as? Int == 0)
        for key in ["windows_shifted", "windows_shifted_bh", "windows_beyond_band", "windows_new_region", "windows_clusters_changed"] {
            #expect(metrics[key] is NSNull, "\(key): \(metrics[key] ?? "missing")")
        }
    }

    /// An empty directory is neither a directory of windows nor a Parquet dataset: the message
    /// names both.
    @Test func anEmptyDirectoryNamesBothKinds() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/empty", withIntermediateDirectories: true)
        try Self.refused([Self.reference, dir + "/empty"], "without .npy files (one per window) or .parquet files")
    }

    /// A given σ at which the kernel of a typical pair is 0 or 1 in Float32 measures round-off.
    @Test func aBandwidthOutsideTheKernelsRangeIsRefused() throws {
        for sigma in ["1e-300", "0.01", "1e5", "1e300"] {
            try Self.refused([Self.reference, Self.daily + "/2024-03-01.npy", "--bandwidth", sigma], "round-off")
            try Self.refused([Self.reference, "--save-reference", NSTemporaryDirectory() + "never.state", "--bandwidth", sigma], "round-off")
        }
        #expect(try Self.run([Self.reference, Self.daily + "/2024-03-01.npy", "--bandwidth", "0.9"]).status == 0)
    }
}

extension ShiftWindowsCLITests {
    /// `--window -1d` gets the range message of `0d`, written as one argument or two (the second
    /// was read as an option: "Missing value for '--window <window>'"; hostile pass 3, F14e).
    @Test func aNegativeWindowGetsTheRangeMessage() throws {
        for args in [["--window", "-1d"], ["--window=-1d"], ["--window", "-12h"], ["--window", "0d"]] {
            let unit = args.joined().last!
            try Self.refused([Self.reference, Self.parquet, "--by", "date"] + args, "a window must be at least 1 \(unit) long")
        }
    }
}
