import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// Partial runs: typed settings (the state's text is written and read back strictly, the file
/// format unchanged), the one pass dispatch, and no partial run or audit check that reads as
/// passed while no requirement was evaluated.
@Suite(.serialized) struct PartialAnalysisTests {
    // MARK: typed settings

    @Test func settingsWriteTheTextStatesHaveAlwaysHad() throws {
        var a = AnisotropyConfiguration()
        a.top = 7
        a.pairSample = 500
        a.partitionSample = 300
        a.isoScoreStarZeta = 0.25
        a.isoScoreStarPrior = .trace
        let anisotropy = AnisotropyPartialSettings(a)
        #expect(anisotropy.parameters == ["top": "7", "pair_sample": "500", "partition_sample": "300", "isoscore_zeta": "0.25", "isoscore_prior": "trace"])
        let back = try AnisotropyPartialSettings(parameters: anisotropy.parameters, path: "s")
        #expect(back == anisotropy)
        let c = back.configuration(seed: 9)
        #expect(c.top == 7 && c.pairSample == 500 && c.partitionSample == 300 && c.isoScoreStarZeta == 0.25 && c.isoScoreStarPrior == .trace && c.seed == 9)

        var d = DepthConfiguration()
        d.kind = .mahalanobis
        d.distance = .chord
        d.alternative = .twoSided
        d.referenceSample = 40
        d.mahalanobisComponents = 5
        var depth = DepthPartialSettings(d, referenceRows: 100)
        depth.corpus = .other
        #expect(depth.parameters == ["depth": "mahalanobis", "distance": "chord", "alternative": "two-sided", "top": "10",
                                     "reference_sample": "40", "reference_rows": "100", "components": "5", "corpus": "other"])
        #expect(try DepthPartialSettings(parameters: depth.parameters, path: "s") == depth)
        // A sample-mode state written without the reference's row count keeps its old text.
        let unset = DepthPartialSettings(d)
        #expect(unset.parameters["reference_rows"] == "(unset)")
        #expect(try DepthPartialSettings(parameters: unset.parameters, path: "s").referenceRows == nil)

        let compat = CompatPartialSettings(ks: [1, 10], relevance: .labels, queries: 12, queriesDigest: "ab", newDimension: 8, maxQueries: 500, noWorseTolerance: 0.01)
        #expect(compat.parameters == ["k": "1,10", "relevance": "labels", "queries": "12", "queries_digest": "ab", "dim_new": "8",
                                      "max_queries": "500", "no_worse_tolerance": "0.01"])
        #expect(try CompatPartialSettings(parameters: compat.parameters, path: "s") == compat)
    }

    /// A value that does not parse, a missing key, an unknown key: malformed, never a default (the
    /// old reader turned an unknown IsoScore* prior into the identity and a bad depth kind into TTE).
    @Test func settingsAreReadStrictly() throws {
        let good = AnisotropyPartialSettings(AnisotropyConfiguration()).parameters
        func refused<S: PartialSettings>(_ type: S.Type, _ parameters: [String: String], _ words: String) {
            do {
                _ = try S(parameters: parameters, path: "bad.state")
                Issue.record("accepted \(parameters)")
            } catch let error as EmbdiagError {
                #expect(error.description.contains("bad.state") && error.description.contains(words), "\(error.description)")
            } catch { Issue.record("\(error)") }
        }
        refused(AnisotropyPartialSettings.self, good.merging(["isoscore_zeta": "0.5", "isoscore_prior": "spherical"]) { $1 }, "isoscore_prior")
        refused(AnisotropyPartialSettings.self, good.merging(["isoscore_zeta": "nan", "isoscore_prior": "identity"]) { $1 }, "isoscore_zeta")
        refused(AnisotropyPartialSettings.self, good.merging(["top": "ten"]) { $1 }, "top")
        refused(AnisotropyPartialSettings.self, good.filter { $0.key != "pair_sample" }, "pair_sample")
        refused(AnisotropyPartialSettings.self, good.merging(["extra": "1"]) { $1 }, "unknown parameter extra")
        let depth = DepthPartialSettings(DepthConfiguration()).parameters
        refused(DepthPartialSettings.self, depth.merging(["depth": "halfspace"]) { $1 }, "depth")
        refused(DepthPartialSettings.self, depth.merging(["alternative": "sideways"]) { $1 }, "alternative")
        refused(DepthPartialSettings.self, depth.merging(["corpus": "both"]) { $1 }, "corpus")
        refused(DepthPartialSettings.self, depth.filter { $0.key != "top" }, "top")
        let neighbors = NeighborsPartialSettings(k: 5, queries: 3, queriesDigest: "x").parameters
        refused(NeighborsPartialSettings.self, neighbors.merging(["queries": "-4"]) { $1 }, "queries")
        refused(NeighborsPartialSettings.self, neighbors.merging(["k": "0"]) { $1 }, "k")
        let compat = CompatPartialSettings(ks: [1], relevance: .identity, queries: 2, queriesDigest: "x", newDimension: 4, maxQueries: 10, noWorseTolerance: 0).parameters
        refused(CompatPartialSettings.self, compat.merging(["queries": "-1"]) { $1 }, "queries")
        refused(CompatPartialSettings.self, compat.merging(["relevance": "ids"]) { $1 }, "relevance")
        refused(CompatPartialSettings.self, compat.merging(["k": "1,,5"]) { $1 }, "k")
    }

    // MARK: one dispatch

    static func shard(rows: Int, cols: Int = 4, seed: UInt64 = 3) -> Embeddings {
        var rng = SeededGenerator(seed: seed)
        let values = (0..<(rows * cols)).map { _ in Float(rng.nextIndex(2000)) / 1000 - 1 }
        return Embeddings(matrix: Matrix(rows: rows, cols: cols, values: values), name: "shard-\(seed).npy")
    }

    @Test func oneDispatchForEveryAnalyzer() throws {
        let e = Self.shard(rows: 30)
        let record = ShardRecord(id: "s", rowOffset: 0, rowCount: e.count, source: e.source)
        let info = try InfoPartialAnalysis().state(e, shard: record, pass: .first)
        #expect(info.analyzer == "info" && info.pass == 1 && info == InfoPartial.state(e, shard: record))
        // A one-pass analyzer has no second pass: a usage error naming the analyzers that do.
        let merged = LoadedState(path: "m.state", state: info)
        #expect(throws: EmbdiagError.self) { try InfoPartialAnalysis().state(e, shard: record, pass: .second(merged: merged)) }
        do {
            _ = try NeighborsPartialAnalysis(queries: e, k: 3).state(e, shard: record, pass: .second(merged: merged))
        } catch let error as EmbdiagError {
            #expect(error.description.contains("anisotropy, depth and compat") && error.description.contains("neighbors"))
        }
        // Two-pass analyzers: pass 1 through the dispatch equals the analyzer's own pass 1, and the
        // second pass reads the merge of the first.
        var c = AnisotropyConfiguration()
        c.pairSample = 50
        c.partitionSample = 20
        let analysis = AnisotropyPartialAnalysis(configuration: c)
        let pass1 = try analysis.state(e, shard: record, pass: .first)
        #expect(pass1 == AnisotropyPartial.pass1(e, shard: record, configuration: c))
        let mergedPass1 = try AnisotropyPartial.mergePass1([LoadedState(path: "p1.state", state: pass1)])
        let pass2 = try analysis.state(e, shard: record, pass: .second(merged: LoadedState(path: "m.state", state: mergedPass1)))
        #expect(pass2.pass == 2 && pass2.basis == mergedPass1.basis)
        // The depth pass-2 state says which corpus it belongs to, typed.
        let depth = DepthPartialAnalysis(configuration: DepthConfiguration())
        let d1 = try depth.state(e, shard: record, pass: .first)
        let dm = try DepthPartial.mergePass1([LoadedState(path: "d1.state", state: d1)])
        let other = DepthPartialAnalysis(configuration: DepthConfiguration(), otherCorpus: true)
        let d2 = try other.state(Self.shard(rows: 10, seed: 4), shard: ShardRecord(id: "o", rowOffset: 0, rowCount: 10, source: Self.shard(rows: 10, seed: 4).source),
                                 pass: .second(merged: LoadedState(path: "dm.state", state: dm)))
        #expect(try d2.settings(DepthPartialSettings.self, path: nil).corpus == .other)
        #expect(throws: EmbdiagError.self) { try other.state(e, shard: record, pass: .first) }
    }

    // MARK: no requirement left unevaluated

    static func workspace() throws -> (dir: String, x: String) {
        let dir = try CLI.temporaryDirectory()
        var rng = SeededGenerator(seed: 11)
        let rows = (0..<40).map { _ in (0..<6).map { _ in Float(rng.nextIndex(2000)) / 1000 - 1 } }
        try CLI.writeNpy(rows, to: dir + "/x.npy")
        return (dir, dir + "/x.npy")
    }

    @Test func partialRunsRefuseRequirementsAndStaleMessagesAreGone() throws {
        let (dir, x) = try Self.workspace()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for command in [["info", x], ["anisotropy", x], ["depth", x], ["neighbors", x, "--queries", x]] {
            let r = try CLI.run(command + ["--partial", dir + "/s.state", "--row-offset", "0", "--require", "rows>=2"])
            #expect(r.status == 2 && r.stderr.contains("--require goes with embdiag merge"), "\(command[0]): \(r.stderr)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/s.state"))
        for command in [["info", x], ["neighbors", x, "--queries", x]] {
            let r = try CLI.run(command + ["--partial", dir + "/s.state", "--row-offset", "0", "--partial-pass", "2", "--directions", x])
            #expect(r.status == 2 && r.stderr.contains("is for anisotropy, depth and compat") && !r.stderr.contains("anisotropy only"), "\(command[0]): \(r.stderr)")
        }
        // merge --state-out writes a state: --require could never be evaluated.
        let one = try CLI.run(["anisotropy", x, "--partial", dir + "/p1.state", "--row-offset", "0", "-q"])
        #expect(one.status == 0, "\(one.stderr)")
        let merge = try CLI.run(["merge", dir + "/p1.state", "--state-out", dir + "/m.state", "--require", "rows>=2"])
        #expect(merge.status == 2 && merge.stderr.contains("--require goes with the final merge"), "\(merge.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/m.state"))
    }

    @Test func anAuditCheckWritingAStateNeverPassesARequirementUnevaluated() throws {
        let (dir, x) = try Self.workspace()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let withRequirement = dir + "/a.yaml"
        try """
            checks:
              - name: whole
                command: info
                inputs: [\(x)]
              - name: shard
                command: anisotropy
                inputs: [\(x)]
                options:
                  partial: out/shard.state
                  row-offset: 0
                require: ["rows >= 2"]

            """.write(toFile: withRequirement, atomically: false, encoding: .utf8)
        let r = try CLI.run(["-c", "cd \(dir) && \(CLI.binary) audit a.yaml --output out -q"], shell: true)
        #expect(r.status == 2 && r.stderr.contains("check 'shard' writes a partial state") && r.stderr.contains("require:"), "\(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir + "/out/whole"), "refused before any check ran")

        // Without requirements the state is written and the check says that nothing was evaluated.
        let plain = dir + "/b.yaml"
        try """
            checks:
              - name: shard
                command: info
                inputs: [\(x)]
                options:
                  partial: out/shard.state
                  row-offset: 0

            """.write(toFile: plain, atomically: false, encoding: .utf8)
        let ok = try CLI.run(["-c", "cd \(dir) && \(CLI.binary) audit b.yaml --output out -q"], shell: true)
        #expect(ok.status == 0, "\(ok.stderr)")
        for file in ["audit.json", "index.html"] {
            let summary = try String(contentsOfFile: dir + "/out/" + file, encoding: .utf8)
            #expect(summary.contains("no requirement evaluated"), "\(file): \(summary.prefix(2000))")
        }
        #expect(FileManager.default.fileExists(atPath: dir + "/out/shard.state"))
    }
}
