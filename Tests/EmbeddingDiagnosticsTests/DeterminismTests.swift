import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// Same metrics on every OpenBLAS kernel the CPU can run, with 1 and 2 BLAS threads:
/// reals within 1e-6 relative (Float32 summation order differs between kernels: the documented
/// float noise), everything else identical — integers, strings, booleans (selections, counts, verdicts)
/// — and ranking metrics of quantized codes (`compat-binary`) exactly equal, since their scores are
/// exact integers.
@Suite(.serialized) struct DeterminismTests {
    /// Every subcommand on real sample data (rows: a name, the arguments after the input).
    static func cases() -> [(String, [String])] {
        let words = CLI.repositoryRoot.appendingPathComponent("data/words/googlenews-bolukbasi-subset.bin").path
        var cases: [(String, [String])] = [
            ("info", ["info", words]),
            ("neighbors", ["neighbors", words, "--k", "5"]),
        ]
        cases += DeterminismCases.analyzerCases(root: CLI.repositoryRoot.path)
        // A missing bundled file makes its case fail (exit 2), never skip.
        return cases
    }

    /// (OPENBLAS_CORETYPE or nil for OpenBLAS' own choice, threads): the generic kernel, the AVX2
    /// kernels of Intel (Haswell) and AMD (Zen), and the AVX-512 ones where the CPU has them.
    static func configurations() -> [(String?, Int)] {
        let flags = BLAS.readCPUFlags()
        // Four runs keep `make test` quick: both thread counts, the generic kernel and the AVX2
        // kernels of both vendors; OpenBLAS' own choice (AVX-512 here) is the first run.
        var runs: [(String?, Int)] = [(nil, 2), ("Prescott", 1)]
        if flags.contains("avx2") && flags.contains("fma") { runs += [("Haswell", 2), ("Zen", 1)] }
        return runs
    }

    static func metrics(_ args: [String], core: String?, threads: Int) throws -> [String: Any] {
        let dir = try CLI.temporaryDirectory()
        var environment = ["OPENBLAS_NUM_THREADS": String(threads)]
        if let core { environment["OPENBLAS_CORETYPE"] = core }
        let r = try CLI.run(args + ["--quiet", "--json", dir + "/r.json"], environment: environment)
        #expect(r.status == 0 || r.status == 1, "\(args): \(r.stderr)")
        let data = try Data(contentsOf: URL(fileURLWithPath: dir + "/r.json"))
        return (try JSONSerialization.jsonObject(with: data) as? [String: Any])?["metrics"] as? [String: Any] ?? [:]
    }

    @Test func metricsDoNotDependOnKernelsThreadsOrRepetition() throws {
        let cases = Self.cases()
        #expect(cases.count >= 2, "the sample data is missing")
        let runs = Self.configurations()
        for (name, args) in cases {
            let exact = name.hasSuffix("-binary")
            var first: [String: Any]? = nil
            for (core, threads) in runs {
                let label = "\(core ?? "default kernel"), \(threads) thread(s)"
                let other = try Self.metrics(args, core: core, threads: threads)
                guard let one = first else { first = other; #expect(!other.isEmpty, "\(name): no metrics"); continue }
                #expect(Set(one.keys) == Set(other.keys), "\(name) \(label): keys differ")
                for (key, a) in one {
                    let b = other[key]
                    if let x = a as? Double, let y = b as? Double, !(a is Bool) {
                        let scale = max(abs(x), abs(y), 1e-12)
                        let ranking = ["recall", "mrr", "map_", "flip", "knn", "compatib"].contains { key.contains($0) }
                        // Float noise: 1e-6 relative, or 1e-7 absolute on the unit scale of cosines,
                        // shares and ratios (cancellations such as the mean of centred unit vectors
                        // keep their absolute, not their relative, precision); p-values relative only.
                        let floor = key.contains("p_value") ? 1e-12 : 1e-7
                        let ok = exact && ranking ? x == y : (abs(x - y) / scale <= 1e-6 || abs(x - y) <= floor)
                        #expect(ok, "\(name) \(label): \(key) \(x) vs \(y)")
                    } else {
                        #expect("\(a)" == "\(b ?? "nil")", "\(name) \(label): \(key) \(a) vs \(b ?? "nil")")
                    }
                }
            }
        }
    }

    /// Per-row k-NN overlaps on quantised codes (many ties) are exact expected values, the same
    /// bits in every process: no sum may follow a dictionary's order, which Swift seeds per process.
    @Test func tiedOverlapsPerRowAreTheSameInEveryProcess() throws {
        let sentences = CLI.repositoryRoot.path + "/data/sentences/"
        var tables: [String] = []
        for _ in 0..<2 {
            let dir = try CLI.temporaryDirectory()
            let r = try CLI.run(["compat", "--old", sentences + "debian-minilm-l6.npy", "--new", "binary", "--labels", sentences + "debian-sections.txt",
                                 "--quiet", "--output", dir])
            #expect(r.status == 0 || r.status == 1, "\(r.stderr)")
            tables.append(try String(contentsOfFile: dir + "/knn_overlap_per_row.csv", encoding: .utf8))
        }
        #expect(tables[0].count > 1000)
        #expect(tables[1] == tables[0])
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
        cases.append(("shift", ["shift", sections + "games.npy", sentences + "debian-minilm-l6.npy", "--permutations", "200"]))
        cases.append(("bias", ["bias", root + "/data/words/googlenews-bolukbasi-subset.bin", "--weat", "wefe-4", "--permutations", "20000", "--debias", "hard"]))
        cases.append(("compat", ["compat", "--old", sentences + "debian-minilm-l6-layer3.npy", "--new", sentences + "debian-minilm-l6.npy", "--labels", sentences + "debian-sections.txt", "--fit", "ridge:0.1"]))
        cases.append(("compat-binary", ["compat", "--old", sentences + "debian-minilm-l6.npy", "--new", "binary", "--labels", sentences + "debian-sections.txt"]))
        cases.append(("compat-int8", ["compat", "--old", sentences + "debian-minilm-l6.npy", "--new", "int8", "--labels", sentences + "debian-sections.txt"]))
        return cases
    }
}
