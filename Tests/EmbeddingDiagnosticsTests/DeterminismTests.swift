import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// Same metrics with 1 and 2 BLAS threads and across repeated runs with the same seed: within
/// 1e-6 relative for reals (summation order may differ), identical for integers, strings, booleans
/// (selections, ranks, counts). Issue #9, part 5.
@Suite(.serialized) struct DeterminismTests {
    /// Every subcommand on real sample data (rows: a name, the arguments after the input).
    static func cases() -> [(String, [String])] {
        let words = CLI.repositoryRoot.appendingPathComponent("data/words/googlenews-bolukbasi-subset.bin").path
        var cases: [(String, [String])] = [
            ("info", ["info", words]),
            ("neighbors", ["neighbors", words, "--k", "5"]),
        ]
        cases += DeterminismCases.analyzerCases(root: CLI.repositoryRoot.path)
        return cases.filter { c in c.1.allSatisfy { !$0.hasPrefix(CLI.repositoryRoot.path) || FileManager.default.fileExists(atPath: $0) } }
    }

    static func metrics(_ args: [String], threads: Int) throws -> [String: Any] {
        let dir = try CLI.temporaryDirectory()
        let r = try CLI.run(args + ["--quiet", "--json", dir + "/r.json"], environment: ["OPENBLAS_NUM_THREADS": String(threads)])
        #expect(r.status == 0 || r.status == 1, "\(args): \(r.stderr)")
        let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/r.json"))
        return (try JSONSerialization.jsonObject(with: data) as? [String: Any])?["metrics"] as? [String: Any] ?? [:]
    }

    @Test func metricsDoNotDependOnThreadsOrRepetition() throws {
        let cases = Self.cases()
        #expect(cases.count >= 2, "the sample data is missing")
        for (name, args) in cases {
            let one = try Self.metrics(args, threads: 1)
            let two = try Self.metrics(args, threads: 2)
            let again = try Self.metrics(args, threads: 2)
            #expect(!one.isEmpty, "\(name): no metrics")
            for (other, label) in [(two, "2 threads"), (again, "repeat")] {
                #expect(Set(one.keys) == Set(other.keys), "\(name) \(label): keys differ")
                for (key, a) in one {
                    let b = other[key]
                    if let x = a as? Double, let y = b as? Double, !(a is Bool) {
                        let scale = max(abs(x), abs(y), 1e-12)
                        #expect(abs(x - y) / scale <= 1e-6 || abs(x - y) < 1e-9, "\(name) \(label): \(key) \(x) vs \(y)")
                    } else {
                        #expect("\(a)" == "\(b ?? "nil")", "\(name) \(label): \(key) \(a) vs \(b ?? "nil")")
                    }
                }
            }
        }
    }
}

/// Analyzer invocations for the determinism sweep; each analyzer adds its own line here.
enum DeterminismCases {
    static func analyzerCases(root: String) -> [(String, [String])] {
        var cases: [(String, [String])] = []
        let sentences = root + "/data/sentences/"
        cases.append(("relrep", ["relrep", sentences + "debian-minilm-l6.npy", "--compare", sentences + "debian-minilm-l6-layer3.npy",
                                 "--anchors", "100", "--anchor-strategy", "kmeans++", "--center", "anchors", "--sweep", "10,50"]))
        cases.append(("anisotropy", ["anisotropy", root + "/data/words/googlenews-bolukbasi-subset.bin", "--transform", "abtt:3,normalize"]))
        cases.append(("anisotropy-whiten", ["anisotropy", sentences + "debian-minilm-l6-layer3.npy", "--transform", "whiten:64"]))
        let sections = sentences + "by-section/"
        cases.append(("depth", ["depth", sections + "games.npy", sections + "fonts.npy", "--depth", "spatial", "--reference-sample", "300"]))
        cases.append(("depth-chord", ["depth", sections + "games.npy", sections + "fonts.npy", sentences + "debian-minilm-l6.npy", "--distance", "chord"]))
        cases.append(("bias", ["bias", root + "/data/words/googlenews-bolukbasi-subset.bin", "--weat", "wefe-4", "--permutations", "20000", "--debias", "hard"]))
        cases.append(("compat", ["compat", "--old", sentences + "debian-minilm-l6-layer3.npy", "--new", sentences + "debian-minilm-l6.npy", "--labels", sentences + "debian-sections.txt", "--fit", "ridge:0.1"]))
        return cases
    }
}
