import Foundation

/// Distribution-level fidelity and diversity of a sample ("fake", here OTHER) against a reference
/// ("real", REF) from k-nearest-neighbour balls, on unit rows (Euclidean distance between unit
/// rows, i.e. chord distance): precision and recall (Kynkäänniemi, Karras, Laine, Lehtinen & Aila,
/// NeurIPS 2019), density and coverage (Naeem, Oh, Uh, Choi & Yoo, ICML 2020; reference package
/// `prdc` 0.2, whose definitions — strict "<" against the radius, the radius the distance to the
/// k-th nearest other row of the same sample — are followed exactly). Guide: Guides/Shift.md.
public struct PrecisionRecallCoverage: Sendable, Equatable {
    public var k: Int
    /// Share of OTHER rows inside at least one REF k-NN ball (fidelity: OTHER looks like REF).
    public var precision: Double
    /// Share of REF rows inside at least one OTHER k-NN ball (diversity: REF is reproduced).
    public var recall: Double
    /// (1/k)·mean over OTHER rows of the number of REF balls containing it (1 on average when
    /// OTHER is distributed as REF; > 1 when OTHER crowds into dense REF regions).
    public var density: Double
    /// Share of REF rows whose own k-NN ball contains an OTHER row.
    public var coverage: Double
    /// Per OTHER row: inside some REF ball (counted by precision).
    public var otherInsideReference: [Bool]
    /// Per OTHER row: number of REF balls containing it.
    public var otherBallCount: [Int]
    /// Per REF row: its ball contains an OTHER row (counted by coverage).
    public var referenceCovered: [Bool]
    /// Per REF row: distance to its k-th nearest REF row (its ball radius).
    public var referenceRadius: [Double]
    /// Per REF row: distance to its nearest OTHER row.
    public var referenceNearestOther: [Double]
    /// Per REF row: index of its nearest OTHER row (ties: the smaller index).
    public var referenceNearestOtherRow: [Int]
}

/// Computes precision, recall, density and coverage. Both inputs must have unit rows and more
/// than k rows. Distances are compared as cosines (‖x − y‖ < r ⟺ x·y > 1 − r²/2 for unit rows),
/// so no square root enters a comparison. Every comparison is prdc's strict "<" decided on the
/// Float64 scores (`ExactScores`): radius and candidate are the same fixed-order dot product, so
/// a row at exactly the radius (the k-th neighbour itself, a duplicated row, equal distances on
/// integer-valued data) is outside, as prdc decides it, and every count is the same on every BLAS
/// kernel and thread count.
/// - Complexity: O((m² + n²)·d/2 + m·n·d) time through blocked GEMMs (the within-sample lists
///   from the upper triangles, `nearestNeighborsWithinRows`), O(block·m + (m + n)·k) memory.
///
/// `referenceNeighbors`: REF's own k-NN graph (`nearestNeighborsWithinRows(r, k: k)`) when the
/// caller computed it already — one REF serves many comparisons
/// (every window of a monitoring run, the regions' new-row rate).
public func precisionRecallCoverage(reference r: Matrix, other o: Matrix, k: Int, referenceNeighbors: NearestNeighbors? = nil) -> PrecisionRecallCoverage {
    let m = r.rows, n = o.rows
    precondition(k >= 1 && k < m && k < n, "precisionRecallCoverage: k must be below both sample sizes")
    // Ball radii as cosines: the k-th largest cosine to another row of the same sample, as the
    // Float64 score itself (not rounded to Float32): a row at exactly the radius — the k-th
    // neighbour, or a copy of it — must compare equal to it, hence not inside (strict "<").
    let refKNN = referenceNeighbors.flatMap { $0.k == k && $0.queryCount == m ? $0 : nil }
        ?? nearestNeighborsWithinRows(r, k: k)
    let otherKNN = nearestNeighborsWithinRows(o, k: k)
    let refSelf = ExactScores(queries: r, gallery: r), otherSelf = ExactScores(queries: o, gallery: o)
    let refRadiusCos = (0..<m).map { refSelf.exact($0, Int(refKNN.indices[$0 * k + k - 1])) }
    let otherRadiusCos = (0..<n).map { otherSelf.exact($0, Int(otherKNN.indices[$0 * k + k - 1])) }
    var inside = [Bool](repeating: false, count: n)
    var ballCount = [Int](repeating: 0, count: n)
    var bestCos = [Float](repeating: -.infinity, count: m)
    var bestRow = [Int](repeating: -1, count: m)
    var recalled = [Bool](repeating: false, count: m)
    var coveredFlags = [Bool](repeating: false, count: m)
    // "Inside a ball" is decided on the Float64 scores (`ExactScores.compare`: the GEMM value
    // screens, a value within its error bound of the radius is rescored), so ties are exact —
    // the fixed-order Float64 dot product is symmetric and the same for equal rows — and every
    // count is the same on every BLAS kernel and thread count.
    let exact = ExactScores(queries: o, gallery: r)
    @inline(__always) func closer(_ v: Float, _ radius: Double, _ j: Int, _ i: Int) -> Bool {
        exact.compare(v, j, i, to: radius) > 0
    }
    // Rows of OTHER against all of REF, block by block (blocks in order: ties keep the smaller row).
    Matrix.pairwiseDotBlocks(o, r) { start, block in
        let rows = block.rows
        let bp = block.pointer
        inside.withUnsafeMutableBufferPointer { insideBuf in
            ballCount.withUnsafeMutableBufferPointer { countBuf in
                let insideP = insideBuf.baseAddress!, countP = countBuf.baseAddress!
                parallelChunks(rows, minimumChunk: 64) { range in
                    for row in range {
                        let values = bp + row * m
                        var c = 0
                        for i in 0..<m where closer(values[i], refRadiusCos[i], start + row, i) { c += 1 }
                        countP[start + row] = c
                        insideP[start + row] = c > 0
                    }
                }
            }
        }
        bestCos.withUnsafeMutableBufferPointer { bestBuf in
            bestRow.withUnsafeMutableBufferPointer { rowBuf in
                recalled.withUnsafeMutableBufferPointer { recBuf in
                    coveredFlags.withUnsafeMutableBufferPointer { covBuf in
                        let bestP = bestBuf.baseAddress!, rowP = rowBuf.baseAddress!, recP = recBuf.baseAddress!, covP = covBuf.baseAddress!
                        parallelChunks(m, minimumChunk: 256) { range in
                            for row in 0..<rows {
                                let values = bp + row * m
                                let j = start + row
                                let radius = otherRadiusCos[j]
                                for i in range {
                                    let v = values[i]
                                    if v > bestP[i] { bestP[i] = v; rowP[i] = j }
                                    if !recP[i] && closer(v, radius, j, i) { recP[i] = true }
                                    if !covP[i] && closer(v, refRadiusCos[i], j, i) { covP[i] = true }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    func distance(_ cos: Double) -> Double { Swift.max(0, 2 - 2 * cos).squareRoot() }
    let covered = coveredFlags
    return PrecisionRecallCoverage(
        k: k,
        precision: Double(inside.filter { $0 }.count) / Double(n),
        recall: Double(recalled.filter { $0 }.count) / Double(m),
        density: Double(ballCount.reduce(0, +)) / Double(k * n),
        coverage: Double(covered.filter { $0 }.count) / Double(m),
        otherInsideReference: inside, otherBallCount: ballCount, referenceCovered: covered,
        referenceRadius: refRadiusCos.map(distance), referenceNearestOther: bestCos.map { distance(Double($0)) },
        referenceNearestOtherRow: bestRow)
}
