import Foundation

/// For each listed OTHER row, the REF row of largest Float64 cosine among those with
/// 1 − cos ≤ `tolerance` (ties: the smaller REF row), or none — without an all-pairs pass.
///
/// Screening by projections: for a unit direction v, |v·x − v·y| ≤ ‖x − y‖, and a pair with
/// 1 − cos ≤ τ of rows whose norms are within η of 1 has ‖x − y‖ ≤ √(2τ) + 2η. So every such pair
/// lies within w = √(2τ) + 2η + 2ε of each other on every projection, ε the worst-case error of the
/// Float32 GEMM that computes the projections (1.01·d·2⁻²⁴·max‖x‖·max‖v‖, Higham §3.1). REF rows
/// are bucketed on a grid of cell w over two seeded random projections; an OTHER row looks in the
/// 3 × 3 cells around its own, keeps the candidates within w on two further projections, and
/// decides the survivors by the fixed-order Float64 cosine. No pair within τ is ever screened out
/// (the bound holds on every BLAS kernel), so the result is exact and the same everywhere; the
/// projections only decide how much work the search does.
///
/// - Complexity: O((m + n)·d) for the projections (one GEMM with 4 columns) and the grid, plus
///   O(d) per surviving candidate — a few per row on spread-out data, more where many REF rows
///   crowd within w of each other.
func nearExactMatches(reference r: Matrix, other o: Matrix, rows: [Int], tolerance tau: Double) -> [(Int, Int, Double)] {
    let m = r.rows, d = r.cols
    guard m > 0, !rows.isEmpty, d > 0 else { return [] }
    // Four seeded unit directions (the seed only decides the amount of work, not the result).
    let directionCount = 4
    var rng = SeededGenerator(seed: 0x5eed_d0b1e)
    let directions = Matrix(rows: d, cols: directionCount)
    var directionNorm = 0.0
    for c in 0..<directionCount {
        let g = (0..<d).map { _ in rng.nextGaussian() }
        let norm = g.reduce(0) { $0 + $1 * $1 }.squareRoot()
        var stored = 0.0
        for t in 0..<d { let v = Float(g[t] / norm); directions[t, c] = v; stored += Double(v) * Double(v) }
        directionNorm = max(directionNorm, stored.squareRoot())
    }
    // Zero rows (left zero by the normalisation) have no cosine: they take no part, and do not widen η.
    let refNorms = Matrix.rowNorms(r), queryNorms = Matrix.rowNorms(o)
    let largestNorm = max(refNorms.max() ?? 0, queryNorms.max() ?? 0)
    let eta = (refNorms + queryNorms).reduce(0.0) { $1 > 0 ? max($0, abs($1 - 1)) : $0 }
    let gemmError = 1.01 * Double(d) * 0x1p-24 * largestNorm * directionNorm + 0x1p-40
    // Relative slack 10⁻⁶ covers the Float64 rounding of the bound itself.
    let width = ((2 * tau).squareRoot() + 2 * eta + 2 * gemmError) * (1 + 1e-6)
    let refProjections = BLAS.matmul(r, directions), queryProjections = BLAS.matmul(o, directions)
    let rp = refProjections.pointer, qp = queryProjections.pointer
    @inline(__always) func cell(_ v: Float) -> Int { Int((Double(v) / width).rounded(.down)) }
    struct Cell: Hashable { var a: Int, b: Int }
    var grid: [Cell: [Int]] = [:]
    for i in 0..<m where refNorms[i] > 0 { grid[Cell(a: cell(rp[i * directionCount]), b: cell(rp[i * directionCount + 1])), default: []].append(i) }
    var out: [(Int, Int, Double)] = []
    let rpRaw = r.pointer, opRaw = o.pointer
    for j in rows {
        let q = j
        let x = UnsafeRawPointer(opRaw + j * d)
        let xx = fixedOrderDot(x, x, count: d)
        guard xx > 0 else { continue }
        let a = cell(qp[q * directionCount]), b = cell(qp[q * directionCount + 1])
        var best: (row: Int, cos: Double)?
        for da in -1...1 {
            for db in -1...1 {
                guard let members = grid[Cell(a: a + da, b: b + db)] else { continue }
                for i in members {
                    var near = true
                    for c in 0..<directionCount where abs(Double(qp[q * directionCount + c]) - Double(rp[i * directionCount + c])) > width {
                        near = false
                        break
                    }
                    guard near else { continue }
                    let y = UnsafeRawPointer(rpRaw + i * d)
                    let yy = fixedOrderDot(y, y, count: d)
                    guard yy > 0 else { continue }
                    let cos = fixedOrderDot(x, y, count: d) / (xx * yy).squareRoot()
                    guard 1 - cos <= tau else { continue }
                    if best == nil || cos > best!.cos || (cos == best!.cos && i < best!.row) { best = (i, cos) }
                }
            }
        }
        if let best { out.append((j, best.row, max(0, 1 - best.cos))) }
    }
    return out
}
