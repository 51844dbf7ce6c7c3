import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// The numeric core against hand computations and LAPACK identities.
@Suite struct LinearAlgebraTests {
    @Test func cblasCallsReachOpenBLAS() throws {
        // A silent fallback to gslcblas or the reference BLAS would be 10–50× slower than OpenBLAS
        // (linking notes in Guides/Architecture.md). Check it without timing anything: the library
        // answering openblas_get_config is OpenBLAS, and the address the dynamic linker resolves
        // cblas_sgemm/cblas_dgemm to (global lookup, as our calls bind) lies in the mapping of
        // libopenblas — libgslcblas and libblas may be loaded (GSL and LAPACK depend on them),
        // but they must not provide the symbols.
        #expect(BLAS.configuration.hasPrefix("OpenBLAS"))
        #expect(matmul(Matrix([[1, 2], [3, 4]]), Matrix([[1, 0], [0, 1]])).values == [1, 2, 3, 4])
        // procfs reports size 0: read to the end instead of trusting the size.
        let handle = try #require(FileHandle(forReadingAtPath: "/proc/self/maps"))
        let maps = String(decoding: handle.readDataToEndOfFile(), as: UTF8.self).split(separator: "\n")
        func library(containing address: UInt) -> String? {
            for line in maps {
                let fields = line.split(separator: " ", omittingEmptySubsequences: true)
                guard fields.count >= 6 else { continue }
                let range = fields[0].split(separator: "-").compactMap { UInt($0, radix: 16) }
                if range.count == 2, address >= range[0], address < range[1] { return String(fields[5]) }
            }
            return nil
        }
        for symbol in ["cblas_sgemm", "cblas_dgemm", "cblas_ssyrk"] {
            let address = try #require(dlsym(UnsafeMutableRawPointer(bitPattern: 0), symbol), "\(symbol) not found")
            let path = library(containing: UInt(bitPattern: address))
            #expect(path?.contains("openblas") == true, "\(symbol) resolves into \(path ?? "?")")
        }
    }

    @Test func gemmMatchesHandComputation() {
        let a = Matrix([[1, 2, 3], [4, 5, 6]])
        let b = Matrix([[7, 8], [9, 10], [11, 12]])
        #expect(matmul(a, b).values == [58, 64, 139, 154])
        // Aᵀ·A and A·Aᵀ through the transpose flags.
        #expect(matmul(a, transposeA: true, a).values == [17, 22, 27, 22, 29, 36, 27, 36, 45])
        #expect(matmul(a, a, transposeB: true).values == [14, 32, 32, 77])
        let d = matmul([1, 2, 3, 4], rows: 2, inner: 2, [5, 6, 7, 8], cols: 2)
        #expect(d == [19, 22, 43, 50])
    }

    @Test func rowNormsMeansAndCovarianceMatchFloat64Formulas() {
        var rng = SeededGenerator(seed: 7)
        let m = rng.gaussianMatrix(rows: 1_000, cols: 13)
        let rows = (0..<m.rows).map { i in m.rowArray(i).map(Double.init) }
        let norms = rowNorms(m)
        for i in 0..<m.rows {
            let expected = rows[i].reduce(0) { $0 + $1 * $1 }.squareRoot()
            #expect(abs(norms[i] - expected) < 1e-12 * expected + 1e-12)
        }
        let mean = columnMeans(m)
        let cov = covariance(m)
        for j in 0..<13 {
            let mj = rows.reduce(0) { $0 + $1[j] } / 1000
            #expect(abs(mean[j] - mj) < 1e-6)
            for k in 0..<13 {
                let mk = rows.reduce(0) { $0 + $1[k] } / 1000
                let c = rows.reduce(0) { $0 + ($1[j] - mj) * ($1[k] - mk) } / 999
                #expect(abs(cov[j * 13 + k] - c) < 1e-5)
            }
        }
        // Unit rows after normalisation; zero rows stay zero.
        let z = Matrix([[3, 4], [0, 0]])
        #expect(normalizedRows(z).values == [0.6, 0.8, 0, 0])
    }

    @Test func covarianceIsExactForALargeOffset() {
        // Centring happens before the Float32 Gram: a mean of 1e4 must not destroy the variance.
        let m = Matrix(rows: 4, cols: 1, values: [10_000, 10_001, 10_002, 10_003])
        #expect(abs(covariance(m)[0] - 5.0 / 3.0) < 1e-9)
    }

    @Test func symmetricEigenSatisfiesAvEqualsLambdaV() throws {
        var rng = SeededGenerator(seed: 3)
        let n = 9
        let g = (0..<(n * n)).map { _ in rng.nextGaussian() }
        let a = matmul(g, rows: n, inner: n, g, cols: n, transposeB: true)  // symmetric PSD
        let eig = try symmetricEigen(a, dimension: n)
        #expect(zip(eig.values, eig.values.dropFirst()).allSatisfy { $0 >= $1 })
        for k in 0..<n {
            let v = eig.vector(k)
            let av = (0..<n).map { i in (0..<n).reduce(0.0) { $0 + a[i * n + $1] * v[$1] } }
            for i in 0..<n { #expect(abs(av[i] - eig.values[k] * v[i]) < 1e-9) }
            #expect(abs(v.reduce(0) { $0 + $1 * $1 } - 1) < 1e-12)
        }
        // Hand case: [[2,1],[1,2]] has eigenvalues 3 and 1.
        let small = try symmetricEigen([2, 1, 1, 2], dimension: 2)
        #expect(abs(small.values[0] - 3) < 1e-12 && abs(small.values[1] - 1) < 1e-12)
    }

    @Test func svdReconstructsTheMatrix() throws {
        var rng = SeededGenerator(seed: 5)
        for (m, n) in [(7, 4), (4, 7)] {
            let a = (0..<(m * n)).map { _ in rng.nextGaussian() }
            let svd = try singularValueDecomposition(a, rows: m, cols: n)
            let r = min(m, n)
            for i in 0..<m {
                for j in 0..<n {
                    var s = 0.0
                    for k in 0..<r { s += svd.u[i * r + k] * svd.singularValues[k] * svd.vt[k * n + j] }
                    #expect(abs(s - a[i * n + j]) < 1e-10)
                }
            }
            // Singular values only: same values, and the ldvt pitfall of row-major dgesdd is handled.
            let values = try singularValueDecomposition(a, rows: m, cols: n, computeVectors: false)
            for k in 0..<r { #expect(abs(values.singularValues[k] - svd.singularValues[k]) < 1e-10) }
        }
    }

    @Test func solveSPDMatchesHandSolution() throws {
        // [[4,1],[1,3]] x = [1,2] → x = [1/11, 7/11].
        let x = try solveSymmetricPositiveDefinite([4, 1, 1, 3], [1, 2], n: 2, rhs: 1)
        #expect(abs(x[0] - 1.0 / 11) < 1e-12 && abs(x[1] - 7.0 / 11) < 1e-12)
        #expect(throws: EmbdiagError.self) { try solveSymmetricPositiveDefinite([1, 2, 2, 1], [1, 1], n: 2, rhs: 1) }
    }

    @Test func pairwiseBlocksCoverEveryPairOnce() {
        var rng = SeededGenerator(seed: 11)
        let a = rng.gaussianMatrix(rows: 37, cols: 5)
        let b = rng.gaussianMatrix(rows: 23, cols: 5)
        var seen = [Float](repeating: .nan, count: 37 * 23)
        pairwiseDotBlocks(a, b, blockRows: 8) { start, block in
            #expect(block.cols == 23)
            for r in 0..<block.rows { for c in 0..<23 { seen[(start + r) * 23 + c] = block[r, c] } }
        }
        for i in 0..<37 {
            for j in 0..<23 {
                let dot = (0..<5).reduce(Float(0)) { $0 + a[i, $1] * b[j, $1] }
                #expect(abs(seen[i * 23 + j] - dot) < 1e-5)
            }
        }
        pairwiseCosineBlocks(a, a, blockRows: 10) { start, block in
            for r in 0..<block.rows { #expect(abs(block[r, start + r] - 1) < 1e-5) }
        }
    }

    @Test func nearestNeighborsEqualsBruteForceIncludingTies() {
        var rng = SeededGenerator(seed: 13)
        let gallery = normalizedRows(rng.gaussianMatrix(rows: 300, cols: 8))
        let queries = gallery.rows(0..<50)
        for (k, exclude) in [(1, false), (5, true), (17, false), (300, true)] {
            let nn = nearestNeighbors(queries: queries, gallery: gallery, k: k, excludeSelf: exclude, queryBlock: 16, galleryBlock: 64)
            for q in 0..<50 {
                var scored: [(Float, Int)] = []
                for g in 0..<300 where !(exclude && g == q) {
                    scored.append(((0..<8).reduce(Float(0)) { $0 + queries[q, $1] * gallery[g, $1] }, g))
                }
                scored.sort { $0.0 > $1.0 || ($0.0 == $1.0 && $0.1 < $1.1) }
                let expected = scored.prefix(k).map { Int32($0.1) } + [Int32](repeating: -1, count: max(0, k - scored.count))
                let got = Array(nn.neighbors(of: q))
                // Float32 GEMM vs scalar sums may swap near-equal scores: compare scores, then sets.
                for (a, b) in zip(nn.scores(of: q), scored.prefix(k).map(\.0)) { #expect(abs(a - b) < 1e-5) }
                #expect(Set(got.prefix(max(0, k - 1))).isSubset(of: Set(expected)) || k == 300)
                #expect(got.count == k)
            }
        }
        // Exact ties: duplicate gallery rows → the smaller index first, whatever the blocking.
        let dup = Matrix([[1, 0], [0, 1], [1, 0], [1, 0]])
        for block in [1, 2, 4] {
            let nn = nearestNeighbors(queries: Matrix([[1, 0]]), gallery: dup, k: 3, galleryBlock: block)
            #expect(Array(nn.neighbors(of: 0)) == [0, 2, 3])
        }
    }

    @Test func betterCoreTypeOnlyReplacesGenericKernels() {
        let avx512: Set<String> = ["avx512f", "avx512vl", "avx512bw", "avx512dq", "avx512cd", "avx2", "fma"]
        #expect(BLAS.betterCoreType(cpuFlags: avx512.union(["avx512_bf16"]), currentCore: "Prescott", environment: [:]) == "Cooperlake")
        #expect(BLAS.betterCoreType(cpuFlags: avx512, currentCore: "Prescott", environment: [:]) == "SkylakeX")
        #expect(BLAS.betterCoreType(cpuFlags: ["avx2", "fma"], currentCore: "Nehalem", environment: [:]) == "Haswell")
        #expect(BLAS.betterCoreType(cpuFlags: avx512, currentCore: "Zen", environment: [:]) == nil)
        #expect(BLAS.betterCoreType(cpuFlags: avx512, currentCore: "Prescott", environment: ["OPENBLAS_CORETYPE": "Prescott"]) == nil)
    }

    /// The vectorizable exponential (partition function) against Foundation's exp in Float64:
    /// within 2 ulp of Float32 over the range where it is used, and exact at 0.
    @Test func fastExponentialMatchesFoundation() {
        var g = SeededGenerator(seed: 3)
        var worst = 0.0
        for _ in 0..<100_000 {
            let x = Float(Double(g.nextIndex(1 << 30)) / Double(1 << 30) * 170 - 87)
            let exact = Foundation.exp(Double(x))
            worst = max(worst, abs(Double(exponential(x)) - exact) / exact)
        }
        #expect(worst < 2.5e-7, "worst relative error \(worst)")
        #expect(exponential(0) == 1)
        #expect(exponential(-1000) < 1e-37 && exponential(-1000) >= 0)
    }
}

@Suite struct StatisticsCoreTests {
    @Test func distributionsMatchScipy() {
        // scipy 1.17.1: norm.cdf(-1.96), norm.sf(8), norm.ppf(0.975), t.cdf(2, 5), chi2.sf(3, 2).
        #expect(abs(Distributions.normalCDF(-1.96) - 0.024997895148220435) < 1e-15)
        #expect(abs(Distributions.normalSurvival(8) / 6.22096057427174e-16 - 1) < 1e-10)
        #expect(abs(Distributions.normalQuantile(0.975) - 1.959963984540054) < 1e-12)
        #expect(abs(Distributions.studentTCDF(2, degreesOfFreedom: 5) - 0.9490302605850708) < 1e-12)
        #expect(abs(Distributions.chiSquaredSurvival(3, degreesOfFreedom: 2) - 0.22313016014842982) < 1e-14)
    }

    @Test func ranksMatchScipyRankdata() {
        let (ranks, ties) = Statistics.averageRanks([3, 1, 4, 1, 5, 9, 2, 6, 5, 3])
        #expect(ranks == [4.5, 1.5, 6, 1.5, 7.5, 10, 3, 9, 7.5, 4.5])
        #expect(ties.sorted() == [2, 2, 2])
        #expect(abs(Statistics.spearmanCorrelation([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]) - 0.8207826816681233) < 1e-12)
        #expect(Statistics.quantile([1, 2, 3, 4], 0.5) == 2.5)
    }

    @Test func seededGeneratorIsReproducibleAndUniform() {
        var a = SeededGenerator(seed: 42), b = SeededGenerator(seed: 42), c = SeededGenerator(seed: 43)
        let xs = (0..<5).map { _ in a.next() }
        #expect(xs == (0..<5).map { _ in b.next() })
        #expect(xs != (0..<5).map { _ in c.next() })
        // Moments of 200k uniforms and normals within 5 standard errors.
        var g = SeededGenerator(seed: 1)
        let n = 200_000
        let u = (0..<n).map { _ in g.nextUniform() }
        #expect(abs(u.reduce(0, +) / Double(n) - 0.5) < 5 * (1.0 / 12 / Double(n)).squareRoot())
        let z = (0..<n).map { _ in g.nextGaussian() }
        let (m, s) = Statistics.meanAndStandardDeviation(z)
        #expect(abs(m) < 5 / Double(n).squareRoot())
        #expect(abs(s - 1) < 0.01)
        let sample = g.sampleIndices(100, count: 30)
        #expect(sample.count == 30 && Set(sample).count == 30 && sample == sample.sorted() && sample.allSatisfy { $0 < 100 })
    }

    @Test func orthogonalMatrixIsOrthogonal() {
        var g = SeededGenerator(seed: 9)
        let q = g.orthogonalMatrix(12)
        let qqt = matmul(q, q, transposeB: true)
        for i in 0..<12 { for j in 0..<12 { #expect(abs(qqt[i, j] - (i == j ? 1 : 0)) < 1e-5) } }
    }
}
