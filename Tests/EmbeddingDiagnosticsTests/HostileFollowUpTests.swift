import Foundation
import Testing
import ZIPFoundation
@testable import EmbeddingDiagnostics

/// A second hostile pass over shift, audit, merge, the report folder and the readers: each case
/// gave a silent wrong answer (or a misleading message) before, and is now an exit 2 with a
/// one-line message naming the file or option, or a visible note.
@Suite(.serialized) struct HostileFollowUpTests {
    // MARK: helpers

    static func gaussian(_ n: Int, _ d: Int, seed: UInt64) -> [[Float]] {
        var rng = SeededGenerator(seed: seed)
        return (0..<n).map { _ in (0..<d).map { _ in Float(rng.nextGaussian()) } }
    }

    /// `n` rows drawn from `values` with the given weights (seeded): a discrete distribution.
    static func discrete(_ n: Int, values: [[Float]], weights: [Double], seed: UInt64) -> [[Float]] {
        var rng = SeededGenerator(seed: seed)
        let total = weights.reduce(0, +)
        return (0..<n).map { _ in
            var u = Double(rng.next() >> 11) / Double(1 << 53) * total
            for (v, w) in zip(values, weights) { if u < w { return v }; u -= w }
            return values.last!
        }
    }

    static func shift(_ a: [[Float]], _ b: [[Float]], maxRows: Int? = nil) throws -> ShiftAnalysis {
        var c = ShiftConfiguration()
        c.permutations = 199
        c.maxRows = maxRows
        return try ShiftAnalysis(reference: Embeddings(matrix: Matrix(a), name: "ref.npy"),
                                 others: [Embeddings(matrix: Matrix(b), name: "other.npy")], configuration: c)
    }

    static func json(_ path: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any] ?? [:]
    }

    static func errorLines(_ r: CLI.Result) -> [Substring] { r.stderr.split(separator: "\n").filter { $0.hasPrefix("embdiag: error:") } }

    // MARK: shift on repeated values (quantised data, d = 1)

    /// REF and OTHER from the same four values with other frequencies: every OTHER row occurs in
    /// REF, but REF repeats them — a discrete shift, tested and found, not "a copy".
    @Test func discreteShiftIsTestedNotCalledACopy() throws {
        let values: [[Float]] = [[1, 0], [0, 1], [1, 1], [-1, 0.5]]
        let a = Self.discrete(300, values: values, weights: [0.4, 0.3, 0.2, 0.1], seed: 1)
        let b = Self.discrete(300, values: values, weights: [0.1, 0.2, 0.3, 0.4], seed: 2)
        let analysis = try Self.shift(a, b)
        let comparison = analysis.comparisons[0]
        #expect(comparison.crossDuplicates.count == 300 && !comparison.crossDuplicates.areCopies)
        #expect(comparison.tested && !comparison.crossDuplicatesDropped && comparison.otherCount == 300)
        #expect(comparison.shifted(alpha: 0.05), "\(String(describing: comparison.verdict?.pValue))")
        let report = analysis.report()
        #expect(report.metric("shifted") == .bool(true))
        let answer = report.verdict?.answer ?? ""
        #expect(!answer.contains("is a copy") && answer.contains("are not read as copies"), "\(answer)")
    }

    /// d = 1: every unit row is +1 or −1, so all rows are shared; a change of the sign's frequency
    /// is a shift (through the CLI, exit 1 on the gate).
    @Test func oneDimensionalShiftIsFoundThroughTheCLI() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var rng = SeededGenerator(seed: 5)
        let a = (0..<200).map { i -> [Float] in [Float(i % 10 < 8 ? 1 : -1) * Float(1 + rng.nextGaussian().magnitude)] }
        let b = (0..<200).map { i -> [Float] in [Float(i % 10 < 3 ? 1 : -1) * Float(1 + rng.nextGaussian().magnitude)] }
        try CLI.writeNpy(a, to: dir + "/a.npy")
        try CLI.writeNpy(b, to: dir + "/b.npy")
        let r = try CLI.run(["shift", dir + "/a.npy", dir + "/b.npy", "--permutations", "199", "--quiet", "--json", dir + "/s.json",
                             "--require", "p_value>=0.05"])
        #expect(r.status == 1, "\(r.stderr)")
        let metrics = try Self.json(dir + "/s.json")["metrics"] as? [String: Any] ?? [:]
        #expect(metrics["shifted"] as? Bool == true && metrics["cross_duplicate_share"] as? Double == 1, "\(metrics)")
    }

    /// A shuffled copy of continuous data is still a copy (no test, not shifted) — also when REF
    /// repeats a few of its rows (duplicate sentences).
    @Test(arguments: [0, 5]) func shuffledCopyIsStillACopy(repeatedRows: Int) throws {
        var a = Self.gaussian(200, 8, seed: 3)
        for i in 0..<repeatedRows { a[100 + i] = a[i] }
        var rng = SeededGenerator(seed: 4)
        let analysis = try Self.shift(a, a.shuffled(using: &rng))
        let comparison = analysis.comparisons[0]
        #expect(comparison.crossDuplicates.areCopies && comparison.crossDuplicatesDropped && !comparison.tested)
        #expect(comparison.crossDuplicates.repeatedValueMatches == 2 * repeatedRows)
        #expect(!comparison.shifted(alpha: 0.05))
        #expect(analysis.report().verdict?.answer.contains("is a copy of ref.npy rows") == true)
    }

    // MARK: shift --max-rows: the duplicate search covers every row

    /// A 100 % copy, tested on samples of 40 of 120 rows: the share is 1, not the samples' overlap.
    @Test func maxRowsNeverUnderstatesACopy() throws {
        let a = Self.gaussian(120, 8, seed: 21)
        var rng = SeededGenerator(seed: 22)
        let analysis = try Self.shift(a, a.shuffled(using: &rng), maxRows: 40)
        let comparison = analysis.comparisons[0]
        #expect(comparison.crossDuplicates.count == 120 && comparison.crossDuplicates.otherShare == 1)
        #expect(!comparison.tested && !comparison.shifted(alpha: 0.05))
        let report = analysis.report()
        #expect(report.metric("cross_duplicate_share")?.number == 1)
        #expect(report.metric("cross_duplicate_reference_share")?.number == 1)
        #expect(report.notes.contains { $0.contains("Exact cross duplicates were searched on every row of the inputs, before --max-rows") })
        // Half a copy: exactly half, and the tests ran on the sampled rows that copy nothing.
        let fresh = Self.gaussian(60, 8, seed: 23)
        let half = try Self.shift(a, Array(a[0..<60]) + fresh, maxRows: 40)
        #expect(half.comparisons[0].crossDuplicates.otherShare == 0.5)
        let tested = half.others[0].sourceRows ?? []
        #expect(!tested.isEmpty && tested.allSatisfy { $0 >= 60 }, "\(tested)")
        // Table rows name the full inputs' file rows.
        let table = half.report().tables.first { $0.name == "cross_duplicates" }
        #expect(table?.rows.first?[0] == .int(0) && table?.rows.first?[2] == .int(0), "\(String(describing: table?.rows.first))")
    }

    // MARK: audit: each check writes only its own files, all or nothing

    static func audit(_ yaml: String, in dir: String) throws -> String {
        let path = dir + "/audit-\(UUID().uuidString.prefix(8)).yaml"
        try yaml.write(toFile: path, atomically: false, encoding: .utf8)
        return path
    }

    /// A check writing into another check's folder, onto another check's output, or onto the
    /// audit's own index: exit 2 before any check runs, nothing written.
    @Test func auditChecksMayNotWriteIntoEachOthersFiles() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let x = try OutputHostileTests.matrix(in: dir)
        let out = dir + "/out"
        let clashes: [(String, String)] = [
            ("json: \(out)/c1/report.json", "folder of check 'c1'"),
            ("html: \(out)/c1/extra.html", "folder of check 'c1'"),
            ("json: \(out)/shared.json", "also written by check 'c1'"),
            ("json: \(out)/index.html", "also written by the audit"),
            ("json: \(out)/audit.json", "also written by the audit"),
        ]
        for (option, words) in clashes {
            let yaml = try Self.audit("""
                checks:
                  - name: c1
                    command: info
                    inputs: [\(x)]
                    options:
                      json: \(out)/shared.json
                  - name: c2
                    command: info
                    inputs: [\(x)]
                    options:
                      \(option)
                """, in: dir)
            let r = try CLI.run(["audit", yaml, "--output", out, "-q"])
            #expect(r.status == 2 && r.stderr.contains("check 'c2'") && r.stderr.contains(words), "\(option): \(r.stderr)")
            #expect(Self.errorLines(r).count == 1, "\(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: out + "/c1") && !FileManager.default.fileExists(atPath: out + "/shared.json"), "\(option)")
        }
    }

    /// A check that fails on one of its outputs leaves none of its files; the other checks keep theirs.
    @Test func auditCheckFailingOnAnOutputLeavesNoneOfItsFiles() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let x = try OutputHostileTests.matrix(in: dir)
        let out = dir + "/out"
        // report.html of check c is a folder: its report folder fails after j.json, report.json and the CSVs.
        try FileManager.default.createDirectory(atPath: out + "/c/report.html", withIntermediateDirectories: true)
        let yaml = try Self.audit("""
            checks:
              - name: ok
                command: info
                inputs: [\(x)]
              - name: c
                command: info
                inputs: [\(x)]
                options:
                  json: \(out)/c/j.json
            """, in: dir)
        let r = try CLI.run(["audit", yaml, "--output", out, "-q"])
        #expect(r.status == 2 && r.stderr.contains("check 'c'"), "\(r.stderr)")
        let left = Set((try? FileManager.default.contentsOfDirectory(atPath: out + "/c")) ?? [])
        #expect(left == ["report.html"], "\(left)")
        #expect(FileManager.default.fileExists(atPath: out + "/ok/report.json") && FileManager.default.fileExists(atPath: out + "/index.html"))
    }

    /// The CLI: a third output on a full disk leaves neither of the first two; a failed gate keeps them.
    @Test func commandOutputsAreAllOrNothing() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let x = try OutputHostileTests.matrix(in: dir)
        let full = try CLI.run(["info", x, "--json", dir + "/j.json", "--output", dir + "/od", "--html", "/dev/full", "-q"])
        #expect(full.status == 2 && Self.errorLines(full).count == 1, "\(full.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/j.json"), "the first output carries its final name")
        #expect(((try? FileManager.default.contentsOfDirectory(atPath: dir + "/od")) ?? []).isEmpty)
        #expect(!((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).contains { $0.contains(AtomicFile.temporaryMarker) })
        // Inside --output: report.html is a folder, so the folder's last file fails.
        try FileManager.default.createDirectory(atPath: dir + "/od2/report.html", withIntermediateDirectories: true)
        let inside = try CLI.run(["info", x, "--json", dir + "/j2.json", "--output", dir + "/od2", "-q"])
        #expect(inside.status == 2, "\(inside.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/j2.json") && !FileManager.default.fileExists(atPath: dir + "/od2/report.json"))
        // A failed gate is not a failed write: the report stays.
        let gate = try CLI.run(["info", x, "--json", dir + "/g.json", "--output", dir + "/og", "--require", "rows>=1000", "-q"])
        #expect(gate.status == 1 && FileManager.default.fileExists(atPath: dir + "/g.json") && FileManager.default.fileExists(atPath: dir + "/og/report.json"), "\(gate.stderr)")
    }

    // MARK: merge: the same rows twice without checksums

    @Test func mergeRefusesTheSameRowsTwiceWithoutChecksums() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let x = try OutputHostileTests.matrix(in: dir)  // 40 rows
        for (offset, name) in [(0, "s0"), (40, "s1")] {
            let r = try CLI.run(["info", x, "--no-checksum", "--partial", "\(dir)/\(name).state", "--row-offset", "\(offset)", "-q"])
            #expect(r.status == 0, "\(r.stderr)")
        }
        let merged = try CLI.run(["merge", dir + "/s0.state", dir + "/s1.state", "--json", dir + "/m.json", "-q"])
        #expect(merged.status == 2 && merged.stderr.contains("the same input twice"), "\(merged.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/m.json"))
        // A copy of the file under another name is the same rows too; anisotropy's pass 1 as well.
        try FileManager.default.copyItem(atPath: x, toPath: dir + "/copy.npy")
        for (offset, file, name) in [(0, x, "a0"), (40, dir + "/copy.npy", "a1")] {
            let r = try CLI.run(["anisotropy", file, "--no-checksum", "--partial", "\(dir)/\(name).state", "--row-offset", "\(offset)", "-q"])
            #expect(r.status == 0, "\(r.stderr)")
        }
        let pass1 = try CLI.run(["merge", dir + "/a0.state", dir + "/a1.state", "--state-out", dir + "/m.state", "-q"])
        #expect(pass1.status == 2 && pass1.stderr.contains("the same input twice"), "\(pass1.stderr)")
        // Two different shards still merge.
        var rng = SeededGenerator(seed: 9)
        try CLI.writeNpy((0..<40).map { _ in (0..<6).map { _ in Float(rng.nextGaussian()) } }, to: dir + "/y.npy")
        #expect(try CLI.run(["info", dir + "/y.npy", "--no-checksum", "--partial", dir + "/t1.state", "--row-offset", "40", "-q"]).status == 0)
        let good = try CLI.run(["merge", dir + "/s0.state", dir + "/t1.state", "--json", dir + "/ok.json", "-q"])
        #expect(good.status == 0, "\(good.stderr)")
        // /dev/null is not a state (said so, not "permission").
        let empty = try CLI.run(["merge", "/dev/null"])
        #expect(empty.status == 2 && empty.stderr.contains("not an embdiag partial state") && !empty.stderr.contains("permission"), "\(empty.stderr)")
    }

    // MARK: report folder: no stale CSVs

    @Test func rerunningIntoAFolderRemovesTheEarlierReportsCSVs() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = Self.gaussian(30, 6, seed: 31), fresh = Self.gaussian(30, 6, seed: 32)
        try CLI.writeNpy(a, to: dir + "/a.npy")
        try CLI.writeNpy(Array(a[0..<10]) + Array(fresh[0..<20]), to: dir + "/partly.npy")
        try CLI.writeNpy(fresh, to: dir + "/fresh.npy")
        let od = dir + "/od"
        let first = try CLI.run(["shift", dir + "/a.npy", dir + "/partly.npy", "--permutations", "9", "--output", od, "-q"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(FileManager.default.fileExists(atPath: od + "/cross_duplicates.csv"))
        try "mine".write(toFile: od + "/mine.csv", atomically: true, encoding: .utf8)
        let second = try CLI.run(["shift", dir + "/a.npy", dir + "/fresh.npy", "--permutations", "9", "--output", od, "-q"])
        #expect(second.status == 0, "\(second.stderr)")
        let tables = Set(((try Self.json(od + "/report.json"))["tables"] as? [String: Any] ?? [:]).keys.map { $0 + ".csv" })
        let csvs = Set(try FileManager.default.contentsOfDirectory(atPath: od).filter { $0.hasSuffix(".csv") })
        #expect(csvs == tables.union(["mine.csv"]), "stale: \(csvs.subtracting(tables))")
        #expect(!csvs.contains("cross_duplicates.csv"))
    }

    // MARK: npz members

    /// An .npz written with ZIPFoundation: members (name, float32 rows), stored or deflated.
    static func npz(_ members: [(String, [[Float]])], compressed: Bool, to path: String) throws {
        try? FileManager.default.removeItem(atPath: path)
        let archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .create)
        for (name, rows) in members {
            let member = path + "." + UUID().uuidString + ".npy"
            try CLI.writeNpy(rows, to: member)
            let data = try Data(contentsOf: URL(fileURLWithPath: member))
            try? FileManager.default.removeItem(atPath: member)
            try archive.addEntry(with: name, type: .file, uncompressedSize: Int64(data.count), compressionMethod: compressed ? .deflate : .none) { position, size in
                data.subdata(in: Int(position)..<Int(position) + size)
            }
        }
    }

    @Test func npzDuplicateMembersAndCorruptDeflateStreams() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let a = Self.gaussian(20, 4, seed: 41), b = Self.gaussian(20, 4, seed: 42)
        try Self.npz([("x.npy", a), ("x.npy", b)], compressed: false, to: dir + "/dup.npz")
        try Self.npz([("x", a), ("x.npy", b)], compressed: false, to: dir + "/dup2.npz")
        for file in ["dup.npz", "dup2.npz"] {
            let r = try CLI.run(["info", dir + "/" + file, "-q"])
            #expect(r.status == 2 && r.stderr.contains("duplicate member x") && r.stderr.contains(file), "\(r.stderr)")
        }
        // A deflated member whose compressed bytes are damaged: said to be corrupt, not "lacks descr".
        try Self.npz([("emb.npy", a)], compressed: true, to: dir + "/z.npz")
        var bytes = try Data(contentsOf: URL(fileURLWithPath: dir + "/z.npz"))
        let start = 30 + "emb.npy".utf8.count  // local header, then the deflate stream
        for i in start..<(start + 24) { bytes[i] ^= 0x5A }
        try bytes.write(to: URL(fileURLWithPath: dir + "/z.npz"))
        // A member whose bytes inflate to something else (stored bytes relabelled as deflated): the
        // stream "decodes", the header does not parse — the CRC-32 says which is to blame.
        try Self.npz([("emb.npy", a)], compressed: false, to: dir + "/m.npz")
        var relabelled = try Data(contentsOf: URL(fileURLWithPath: dir + "/m.npz"))
        relabelled[8] = 8
        if let central = relabelled.range(of: Data([0x50, 0x4B, 0x01, 0x02])) { relabelled[central.lowerBound + 10] = 8 }
        try relabelled.write(to: URL(fileURLWithPath: dir + "/m.npz"))
        for file in ["z.npz", "m.npz"] {
            let corrupt = try CLI.run(["info", dir + "/" + file, "-q"])
            #expect(corrupt.status == 2 && corrupt.stderr.contains("array 'emb' is corrupt"), "\(corrupt.stderr)")
            #expect(!corrupt.stderr.contains("lacks") && !corrupt.stderr.contains("no 2-D float array") && !corrupt.stderr.contains("magic"), "\(corrupt.stderr)")
            #expect(Self.errorLines(corrupt).count == 1)
        }
    }

    /// A deflated member that declares 144 bytes (a 2 × 2 float32 .npy) but inflates to 32 MiB
    /// more: inflating stops at the first chunk past the declared size (it wrote the whole stream
    /// to a temporary file first — 1 GiB from a 1 MB archive), and the message names the member.
    @Test func npzMemberInflatingPastItsDeclaredSizeIsStopped() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try CLI.writeNpy([[1, 2], [3, 4]], to: dir + "/small.npy")
        let small = try Data(contentsOf: URL(fileURLWithPath: dir + "/small.npy"))
        let data = small + Data(count: 32 << 20)
        let path = dir + "/bomb.npz"
        let archive = try Archive(url: URL(fileURLWithPath: path), accessMode: .create)
        try archive.addEntry(with: "emb.npy", type: .file, uncompressedSize: Int64(data.count), compressionMethod: .deflate) { position, size in
            data.subdata(in: Int(position)..<Int(position) + size)
        }
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        func patch(_ offset: Int) { for k in 0..<4 { bytes[offset + k] = UInt8((small.count >> (8 * k)) & 0xFF) } }
        patch(22)  // local header: uncompressed size
        let central = try #require(bytes.range(of: Data([0x50, 0x4B, 0x01, 0x02])))
        patch(central.lowerBound + 24)
        try bytes.write(to: URL(fileURLWithPath: path))
        let r = try CLI.run(["info", path, "-q"])
        #expect(r.status == 2 && r.stderr.contains("array 'emb' inflates to more than the \(small.count) bytes"), "\(r.stderr)")
        #expect(!r.stderr.contains("--key"))
        #expect(Self.errorLines(r).count == 1)
    }

    // MARK: relrep, depth, neighbors: undefined or capped answers said so

    @Test func relrepOnAConstantSpaceIsUndefined() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try CLI.writeNpy(Array(repeating: [1, 2, 3, 4], count: 60), to: dir + "/c.npy")
        try CLI.writeNpy(Self.gaussian(60, 4, seed: 51), to: dir + "/g.npy")
        for args in [["relrep", dir + "/c.npy", "--compare", dir + "/g.npy", "--anchors", "10"],
                     ["relrep", dir + "/g.npy", "--compare", dir + "/c.npy", "--anchors", "10"],
                     ["relrep", dir + "/c.npy", "--anchors", "10"]] {
            let r = try CLI.run(args + ["-q", "--json", dir + "/r.json"])
            #expect(r.status == 2 && r.stderr.contains("c.npy") && r.stderr.contains("undefined"), "\(args): \(r.stderr)")
            #expect(!r.stderr.contains("Hardly") && !FileManager.default.fileExists(atPath: dir + "/r.json"))
        }
    }

    @Test func capsAreVisible() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try CLI.writeNpy(Self.gaussian(60, 6, seed: 61), to: dir + "/a.npy")
        try CLI.writeNpy(Self.gaussian(60, 6, seed: 62), to: dir + "/b.npy")
        // depth --select-central beyond the rows: every row, said so, never "61".
        let depth = try CLI.run(["depth", dir + "/a.npy", "--select-central", "61", "-q", "--json", dir + "/d.json", "--json-tables", "all"])
        #expect(depth.status == 0 && depth.stderr.contains("--select-central 61 capped to 60"), "\(depth.stderr)")
        let d = try Self.json(dir + "/d.json")
        #expect((d["parameters"] as? [String: Any])?["select_central"] as? Int == 60)
        #expect((((d["tables"] as? [String: Any])?["central_selection"] as? [String: Any])?["rows"] as? [Any])?.count == 60)
        // neighbors --k beyond the rows.
        let neighbors = try CLI.run(["neighbors", dir + "/a.npy", "--k", "1000", "-q"])
        #expect(neighbors.status == 0 && neighbors.stderr.contains("--k 1000 capped to 59"), "\(neighbors.stderr)")
        // relrep --sweep beyond half the rows.
        let relrep = try CLI.run(["relrep", dir + "/a.npy", "--compare", dir + "/b.npy", "--anchors", "5", "--sweep", "99999", "-q"])
        #expect(relrep.status == 0 && relrep.stderr.contains("--sweep 99999 capped to 30"), "\(relrep.stderr)")
    }

    // MARK: gates, seeds, partial runs

    @Test func gatesThatCannotFailOrCompareTypesWronglyAreRefused() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try CLI.writeNpy(Self.gaussian(30, 4, seed: 71), to: dir + "/a.npy")
        try CLI.writeNpy(Self.gaussian(30, 4, seed: 72), to: dir + "/b.npy")
        let shift = ["shift", dir + "/a.npy", dir + "/b.npy", "--permutations", "9", "-q"]
        for (gate, words) in [("p_value>=-1", "can never fail"), ("p_value<=1", "can never fail"), ("p_value>=0", "can never fail"),
                              ("cross_duplicate_share!=2", "can never fail"), ("p_value==yes", "p_value==yes: 'p_value' is a number, not yes/no"), ("shifted>=0", "yes/no")] {
            let r = try CLI.run(shift + ["--require", gate, "--json", dir + "/s.json"])
            #expect(r.status == 2 && r.stderr.contains(words) && Self.errorLines(r).count == 1, "\(gate): \(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dir + "/s.json"), "\(gate)")
        }
        #expect(try CLI.run(shift + ["--require", "p_value>=0.0001"]).status != 2)
        // The same rule in an audit file.
        let yaml = try Self.audit("checks:\n  - name: s\n    command: shift\n    inputs: [\(dir)/a.npy, \(dir)/b.npy]\n    options:\n      permutations: 9\n    require: [\"p_value<=1\"]\n", in: dir)
        let audit = try CLI.run(["audit", yaml, "--output", dir + "/out", "-q"])
        #expect(audit.status == 2 && audit.stderr.contains("can never fail"), "\(audit.stderr)")
        // A negative audit seed is refused, not dropped.
        let seeded = try Self.audit("seed: -1\nchecks:\n  - name: i\n    command: info\n    inputs: [\(dir)/a.npy]\n", in: dir)
        let seed = try CLI.run(["audit", seeded, "--output", dir + "/out2", "-q"])
        #expect(seed.status == 2 && seed.stderr.contains("negative seeds are refused"), "\(seed.stderr)")
    }

    @Test func partialRunsRefuseReportOptionsAndCheckTheBudget() throws {
        let dir = try CLI.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let x = try OutputHostileTests.matrix(in: dir)
        for option in ["--output", "--json", "--html"] {
            let r = try CLI.run(["info", x, "--partial", dir + "/s.state", "--row-offset", "0", option, dir + "/od"])
            #expect(r.status == 2 && r.stderr.contains(option) && r.stderr.contains("--partial"), "\(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: dir + "/s.state"))
        }
        let budget = try CLI.run(["neighbors", x, "--queries", x, "--k", "30", "--partial", dir + "/n.state", "--row-offset", "0",
                                  "--memory-budget", "100"])
        #expect(budget.status == 2 && budget.stderr.contains("--k 30 needs") && budget.stderr.contains("budget"), "\(budget.stderr)")
        let anisotropy = try CLI.run(["anisotropy", x, "--partial", dir + "/a.state", "--row-offset", "0", "--pairs", "100000", "--memory-budget", "1000"])
        #expect(anisotropy.status == 2 && anisotropy.stderr.contains("budget"), "\(anisotropy.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/n.state") && !FileManager.default.fileExists(atPath: dir + "/a.state"))
    }
}

extension HostileFollowUpTests {
    /// depth on a discrete shift: every other row occurs in the reference, but as repeated
    /// values — the verdict reads the test, not "a copy".
    @Test func depthDoesNotCallRepeatedValuesACopy() throws {
        let values: [[Float]] = [[1, 0], [0, 1], [1, 1], [-1, 0.5]]
        let a = Self.discrete(300, values: values, weights: [0.4, 0.3, 0.2, 0.1], seed: 1)
        let b = Self.discrete(300, values: values, weights: [0.1, 0.2, 0.3, 0.4], seed: 2)
        let report = try DepthAnalysis(reference: Embeddings(matrix: Matrix(a), name: "ref.npy"),
                                       others: [Embeddings(matrix: Matrix(b), name: "other.npy")]).report()
        #expect(report.metric("cross_duplicate_share")?.number == 1 && report.metric("cross_duplicates_repeated") == .int(300))
        let answer = report.verdict?.answer ?? ""
        #expect(!answer.hasPrefix("It is a copy"), "\(answer)")
        // A shuffled copy of continuous rows is still one.
        let g = Self.gaussian(200, 8, seed: 3)
        var rng = SeededGenerator(seed: 4)
        let copy = try DepthAnalysis(reference: Embeddings(matrix: Matrix(g), name: "ref.npy"),
                                     others: [Embeddings(matrix: Matrix(g.shuffled(using: &rng)), name: "other.npy")]).report()
        #expect(copy.verdict?.answer.hasPrefix("It is a copy") == true, "\(copy.verdict?.answer ?? "")")
    }
}
