import Foundation

/// The random number generator behind every random choice in embdiag (subsamples, permutations,
/// anchors, sampled pairs): xoshiro256** (Blackman & Vigna 2018) seeded through SplitMix64.
/// Same seed → same stream on every machine; reports record the seed.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var s: (UInt64, UInt64, UInt64, UInt64)
    public let seed: UInt64

    public init(seed: UInt64) {
        self.seed = seed
        var x = seed
        func splitMix(_ x: inout UInt64) -> UInt64 {
            x &+= 0x9E37_79B9_7F4A_7C15
            var z = x
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s = (splitMix(&x), splitMix(&x), splitMix(&x), splitMix(&x))
    }

    @inlinable static func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    public mutating func next() -> UInt64 {
        let result = SeededGenerator.rotl(s.1 &* 5, 7) &* 9
        let t = s.1 << 17
        s.2 ^= s.0
        s.3 ^= s.1
        s.1 ^= s.2
        s.0 ^= s.3
        s.2 ^= t
        s.3 = SeededGenerator.rotl(s.3, 45)
        return result
    }

    /// Uniform in [0, 1) with 53 random bits.
    public mutating func nextUniform() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// Standard normal by the Box–Muller transform (one value per call; simple and reproducible).
    public mutating func nextGaussian() -> Double {
        var u1 = nextUniform()
        while u1 <= 0 { u1 = nextUniform() }
        let u2 = nextUniform()
        return (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2)
    }

    /// The pairs a statistic over "a seeded sample of pairs, or every pair when there are fewer"
    /// uses: every unordered pair i < j in row order when `count` reaches n(n − 1)/2 (no draw: the
    /// statistic is then exact and the same for every seed), else `distinctPairs(n, count:)`.
    ///
    /// - Complexity: O(min(count, n²)).
    public mutating func pairSampleOrEveryPair(_ n: Int, count: Int) -> (first: [Int], second: [Int]) {
        let (product, overflow) = n.multipliedReportingOverflow(by: max(n - 1, 0))
        guard !overflow, n >= 2, count >= product / 2 else { return distinctPairs(n, count: count) }
        var first: [Int] = [], second: [Int] = []
        first.reserveCapacity(product / 2); second.reserveCapacity(product / 2)
        for i in 0..<n { for j in (i + 1)..<n { first.append(i); second.append(j) } }
        return (first, second)
    }

    /// Uniform integer in 0..<n without modulo bias.
    public mutating func nextIndex(_ n: Int) -> Int { Int.random(in: 0..<n, using: &self) }

    /// `count` ordered pairs (i, j), i ≠ j, uniform over 0..<n (n ≥ 2), drawn sequentially: i, then
    /// j from the other n − 1 indices. The one pair sampler of compat's Spearman / thresholds and
    /// anisotropy's cosine spread.
    ///
    /// - Complexity: O(count).
    public mutating func distinctPairs(_ n: Int, count: Int) -> (first: [Int], second: [Int]) {
        precondition(n >= 2 || count <= 0)
        var first: [Int] = [], second: [Int] = []
        first.reserveCapacity(max(0, count)); second.reserveCapacity(max(0, count))
        for _ in 0..<max(0, count) {
            let i = nextIndex(n)
            var j = nextIndex(n - 1)
            if j >= i { j += 1 }
            first.append(i); second.append(j)
        }
        return (first, second)
    }

    /// k distinct indices from 0..<n, in increasing order (Floyd's algorithm; O(k) memory).
    public mutating func sampleIndices(_ n: Int, count k: Int) -> [Int] {
        precondition(k <= n && k >= 0)
        if k == n { return Array(0..<n) }
        var chosen = Set<Int>(minimumCapacity: k)
        for j in (n - k)..<n {
            let t = Int.random(in: 0...j, using: &self)
            if !chosen.insert(t).inserted { chosen.insert(j) }
        }
        return chosen.sorted()
    }

    /// A Float32 matrix of independent N(0, 1) values (tests, null baselines).
    public mutating func gaussianMatrix(rows: Int, cols: Int) -> Matrix {
        let m = Matrix(rows: rows, cols: cols)
        let p = m.mutablePointer
        for i in 0..<(rows * cols) { p[i] = Float(nextGaussian()) }
        return m
    }

    /// A Haar-random d × d orthogonal matrix (QR of a Gaussian matrix with sign correction).
    public mutating func orthogonalMatrix(_ d: Int) -> Matrix {
        // Modified Gram–Schmidt in Float64 on the rows of a Gaussian matrix.
        var q = (0..<(d * d)).map { _ in nextGaussian() }
        for i in 0..<d {
            for j in 0..<i {
                var dot = 0.0
                for t in 0..<d { dot += q[i * d + t] * q[j * d + t] }
                for t in 0..<d { q[i * d + t] -= dot * q[j * d + t] }
            }
            var norm = 0.0
            for t in 0..<d { norm += q[i * d + t] * q[i * d + t] }
            norm = norm.squareRoot()
            for t in 0..<d { q[i * d + t] /= norm }
        }
        return Matrix(rows: d, cols: d, values: q.map { Float($0) })
    }
}
