import Foundation

/// Distribution-level fidelity and diversity of a sample ("fake", here OTHER) against a reference
/// ("real", REF) from k-nearest-neighbour balls, on unit rows (Euclidean distance between unit
/// rows, i.e. chord distance): precision and recall (Kynkäänniemi, Karras, Laine, Lehtinen & Aila,
/// NeurIPS 2019), density and coverage (Naeem, Oh, Uh, Choi & Yoo, ICML 2020; reference package
/// `prdc` 0.2, whose definitions — strict "<" against the radius, the radius the distance to the
/// k-th nearest other row of the same sample — are followed exactly). Guide: Guides/Shift.md.
public struct PrecisionRecallCoverage: Sendable, Equatable {
    public internal(set) var k: Int
    /// Share of OTHER rows inside at least one REF k-NN ball (fidelity: OTHER looks like REF).
    public internal(set) var precision: Double
    /// Share of REF rows inside at least one OTHER k-NN ball (diversity: REF is reproduced).
    public internal(set) var recall: Double
    /// (1/k)·mean over OTHER rows of the number of REF balls containing it (1 on average when
    /// OTHER is distributed as REF; > 1 when OTHER crowds into dense REF regions).
    public internal(set) var density: Double
    /// Share of REF rows whose own k-NN ball contains an OTHER row.
    public internal(set) var coverage: Double
    /// Per OTHER row: inside some REF ball (counted by precision).
    public internal(set) var otherInsideReference: [Bool]
    /// Per OTHER row: number of REF balls containing it.
    public internal(set) var otherBallCount: [Int]
    /// Per OTHER row: inside or on the boundary of at least one REF ball (distance ≤ radius). The
    /// regions' "new row" criterion: a row at exactly a ball's radius — a copy of a REF row whose
    /// ball has radius 0 because REF repeats it k times — is not new, although prdc's strict "<"
    /// leaves it outside for precision.
    public internal(set) var otherWithinReferenceBall: [Bool]
    /// Per REF row: its ball contains an OTHER row (counted by coverage).
    public internal(set) var referenceCovered: [Bool]
    /// Per REF row: distance to its k-th nearest REF row (its ball radius).
    public internal(set) var referenceRadius: [Double]
    /// Per REF row: distance to its nearest OTHER row.
    public internal(set) var referenceNearestOther: [Double]
    /// Per REF row: index of its nearest OTHER row (ties: the smaller index).
    public internal(set) var referenceNearestOtherRow: [Int]
}

/// Computes precision, recall, density and coverage. Both inputs must have unit rows and more
/// than k rows. Distances are compared as cosines (‖x − y‖ < r ⟺ x·y > 1 − r²/2 for unit rows),
/// so no square root enters a comparison. Every comparison is prdc's strict "<" decided on the
/// Float64 scores (`ExactScores`): radius and candidate are the same fixed-order dot product, so
/// a row at exactly the radius (the k-th neighbour itself, a duplicated row, equal distances on
/// unit rows that Float32 holds exactly, such as ±1 codes) is outside, as prdc decides it, and every count is the same on every BLAS
/// kernel and thread count.
/// - Complexity: O((m² + n²)·d/2 + m·n·d) time through blocked GEMMs (the within-sample lists
///   from the upper triangles, `nearestNeighborsWithinRows`), O(block·n + (m + n)·k) memory.
///
/// `referenceNeighbors`: REF's own k-NN graph (`nearestNeighborsWithinRows(r, k: k)`) when the
/// caller computed it already — one REF serves many comparisons
/// (every window of a monitoring run, the regions' new-row rate).
public func precisionRecallCoverage(reference r: Matrix, other o: Matrix, k: Int, referenceNeighbors: NearestNeighbors? = nil) -> PrecisionRecallCoverage {
    var scan = PrecisionRecallCoverage.CrossScan(reference: r, other: o, k: k, referenceNeighbors: referenceNeighbors)
    Matrix.pairwiseDotBlocks(r, o) { start, block in
        scan.add(referenceRows: start..<(start + block.rows), cosines: block.pointer, rowStride: block.cols)
    }
    return scan.result()
}

extension PrecisionRecallCoverage {
    /// The numbers gathered from blocks of REF × OTHER cosines, in whatever order and tiling the
    /// caller computes them: `precisionRecallCoverage` runs its own blocked GEMM, the shift tests
    /// hand over the REF rows' blocks of the pooled kernel pass, which holds the same cosines (one
    /// GEMM of m·n·d less). Both within-sample k-NN graphs (the ball radii) are computed first.
    ///
    /// Every REF row must be added exactly once, with all n OTHER columns. Counts are integers and
    /// every "inside a ball" decision is exact (`ExactScores.compare`), so they do not depend on
    /// the tiling; the nearest OTHER row of a REF row takes the smaller row on equal Float32 cosines.
    public struct CrossScan {
        public let k: Int
        let m: Int, n: Int
        let refRadiusCos: [Double], otherRadiusCos: [Double]
        let exact: ExactScores
        var ballCount: [Int]
        var withinOrOn: [Bool]
        var bestCos: [Float], bestRow: [Int]
        var recalled: [Bool], covered: [Bool]
        var rowsAdded = 0

        /// - Complexity: O((m² + n²)·d/2) for the within-sample k-NN graphs (REF's is skipped when
        ///   `referenceNeighbors` holds it).
        public init(reference r: Matrix, other o: Matrix, k: Int, referenceNeighbors: NearestNeighbors? = nil) {
            m = r.rows
            n = o.rows
            precondition(k >= 1 && k < m && k < n, "precisionRecallCoverage: k must be below both sample sizes")
            precondition(r.cols == o.cols, "precisionRecallCoverage: dimensions differ")
            self.k = k
            // Ball radii as cosines: the k-th largest cosine to another row of the same sample, as the
            // Float64 score itself (not rounded to Float32): a row at exactly the radius — the k-th
            // neighbour, or a copy of it — must compare equal to it, hence not inside (strict "<").
            let refKNN = referenceNeighbors.flatMap { $0.k == k && $0.queryCount == r.rows ? $0 : nil }
                ?? nearestNeighborsWithinRows(r, k: k)
            let otherKNN = nearestNeighborsWithinRows(o, k: k)
            refRadiusCos = refKNN.kthNeighbourScores(ExactScores(queries: r, gallery: r))
            otherRadiusCos = otherKNN.kthNeighbourScores(ExactScores(queries: o, gallery: o))
            // "Inside a ball" is decided on the Float64 scores (`ExactScores.compare`: the GEMM value
            // screens, a value within its error bound of the radius is rescored); the fixed-order
            // Float64 dot product is symmetric, so REF × OTHER and OTHER × REF decide alike.
            exact = ExactScores(queries: r, gallery: o)
            ballCount = [Int](repeating: 0, count: o.rows)
            withinOrOn = [Bool](repeating: false, count: o.rows)
            bestCos = [Float](repeating: -.infinity, count: r.rows)
            bestRow = [Int](repeating: -1, count: r.rows)
            recalled = [Bool](repeating: false, count: r.rows)
            covered = recalled
        }

        /// Adds REF rows `referenceRows` against every OTHER row: `cosines` points at the cosine of
        /// the first of them with OTHER row 0; row t's n values start at `cosines + t·rowStride`.
        /// - Complexity: O(rows·n), plus O(d) per value within the GEMM's error bound of a radius.
        public mutating func add(referenceRows: Range<Int>, cosines: UnsafePointer<Float>, rowStride: Int) {
            let rows = referenceRows.count, first = referenceRows.lowerBound, n = self.n
            guard rows > 0 else { return }
            precondition(first >= 0 && referenceRows.upperBound <= m, "precisionRecallCoverage: REF rows out of range")
            rowsAdded += rows
            let exact = self.exact, refRadius = refRadiusCos, otherRadius = otherRadiusCos
            // Per OTHER row: REF balls containing it (columns split between the cores; integer counts).
            ballCount.withUnsafeMutableBufferPointer { countBuf in
                withinOrOn.withUnsafeMutableBufferPointer { withinBuf in
                    let countP = countBuf.baseAddress!, withinP = withinBuf.baseAddress!
                    parallelChunks(n, minimumChunk: 2048) { range in
                        for t in 0..<rows {
                            let i = first + t, values = cosines + t * rowStride, radius = refRadius[i]
                            for j in range {
                                let side = exact.compare(values[j], i, j, to: radius)
                                if side > 0 { countP[j] += 1 }
                                if side >= 0 { withinP[j] = true }
                            }
                        }
                    }
                }
            }
            // Per REF row: nearest OTHER row, recalled (inside an OTHER ball), covered (own ball holds an OTHER row).
            bestCos.withUnsafeMutableBufferPointer { bestBuf in
                bestRow.withUnsafeMutableBufferPointer { rowBuf in
                    recalled.withUnsafeMutableBufferPointer { recBuf in
                        covered.withUnsafeMutableBufferPointer { covBuf in
                            let bestP = bestBuf.baseAddress!, rowP = rowBuf.baseAddress!, recP = recBuf.baseAddress!, covP = covBuf.baseAddress!
                            parallelChunks(rows, minimumChunk: 8) { range in
                                for t in range {
                                    let i = first + t, values = cosines + t * rowStride, radius = refRadius[i]
                                    var best = bestP[i], bestJ = rowP[i], rec = recP[i], cov = covP[i]
                                    for j in 0..<n {
                                        let v = values[j]
                                        if v > best { best = v; bestJ = j }
                                        if !rec && exact.compare(v, i, j, to: otherRadius[j]) > 0 { rec = true }
                                        if !cov && exact.compare(v, i, j, to: radius) > 0 { cov = true }
                                    }
                                    bestP[i] = best; rowP[i] = bestJ; recP[i] = rec; covP[i] = cov
                                }
                            }
                        }
                    }
                }
            }
        }

        /// The numbers, once every REF row was added once.
        public func result() -> PrecisionRecallCoverage {
            precondition(rowsAdded == m, "precisionRecallCoverage: \(rowsAdded) REF rows scanned of \(m)")
            func distance(_ cos: Double) -> Double { Swift.max(0, 2 - 2 * cos).squareRoot() }
            let inside = ballCount.map { $0 > 0 }
            return PrecisionRecallCoverage(
                k: k,
                precision: Double(inside.filter { $0 }.count) / Double(n),
                recall: Double(recalled.filter { $0 }.count) / Double(m),
                density: Double(ballCount.reduce(0, +)) / Double(k * n),
                coverage: Double(covered.filter { $0 }.count) / Double(m),
                otherInsideReference: inside, otherBallCount: ballCount, otherWithinReferenceBall: withinOrOn, referenceCovered: covered,
                referenceRadius: refRadiusCos.map(distance), referenceNearestOther: bestCos.map { distance(Double($0)) },
                referenceNearestOtherRow: bestRow)
        }
    }
}
