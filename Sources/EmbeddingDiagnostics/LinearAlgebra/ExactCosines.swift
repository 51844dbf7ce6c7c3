import Foundation

/// The cosine that decides ties and thresholds: computed in Float64 from the rows as given, not
/// from rows normalised in Float32 (Guides/Architecture.md, "Determinism", rule 3).
///
/// cos(x, y) = sign(s)·√(s² / (‖x‖²‖y‖²)) with s = xᵀy, ‖x‖² = xᵀx, every sum a fixed-order
/// Float64 dot product (`fixedOrderDot`). Float32 products are exact in Float64, so for
/// integer-valued rows (±1 and int8 codes, counts) the three sums are exact integers and the
/// cosine is the correctly rounded square root of the correctly rounded rational s²/(‖x‖²‖y‖²):
/// equal exact cosines give equal Float64 values, and a cosine exactly equal to a Float64
/// threshold t compares equal to t (√(fl(t²)) = |t| in binary floating point). The same holds
/// for d = 1 (every cosine is exactly ±1) and for rows that are power-of-two multiples of each
/// other. Rows normalised in Float32 first (x·(1/‖x‖)) lose this: 1/√8 rounds, so the cosine 0.5
/// of two ±1 codes of dimension 8 became 0.49999998 and fell below a 0.5 cut-off, and a d = 1 row
/// became ±1 or ±0.99999994 depending on its value.
///
/// Overflow: Float32 rows have |s| ≤ d·2²⁵⁶, so s² and ‖x‖²‖y‖² stay far inside Float64's range
/// (and nonzero products of Float32 values are at least 2⁻²⁹⁸, so they never underflow).
@inline(__always)
public func exactCosine(dot s: Double, squaredNorm a: Double, _ b: Double) -> Double {
    let p = a * b
    guard p > 0 else { return 0 }
    let c = min(1, (s * s / p).squareRoot())
    return s < 0 ? -c : c
}

/// Rows whose cosines are computed by `exactCosine`: the rows as given plus their Float64
/// squared norms (fixed-order, so cos(x, x) = 1 exactly).
public struct CosineRows: @unchecked Sendable {
    public let rows: Matrix
    public let squaredNorms: [Double]

    /// - Complexity: O(n·d).
    public init(_ m: Matrix) {
        rows = m
        var norms = [Double](repeating: 0, count: m.rows)
        let d = m.cols, base = m.pointer
        norms.withUnsafeMutableBufferPointer { out in
            let o = out.baseAddress!
            parallelChunks(m.rows, minimumChunk: 4096) { range in
                for i in range { o[i] = fixedOrderDot(UnsafeRawPointer(base + i * d), UnsafeRawPointer(base + i * d), count: d) }
            }
        }
        squaredNorms = norms
    }

    init(rows: Matrix, squaredNorms: [Double]) {
        self.rows = rows
        self.squaredNorms = squaredNorms
    }

    /// The listed rows, in that order.
    public func gather(rows indices: [Int]) -> CosineRows {
        CosineRows(rows: rows.gather(rows: indices), squaredNorms: indices.map { squaredNorms[$0] })
    }

    /// cos(row i of self, row j of `other`) by `exactCosine`.
    @inline(__always)
    public func cosine(_ i: Int, _ other: CosineRows, _ j: Int) -> Double {
        let d = rows.cols
        let s = fixedOrderDot(UnsafeRawPointer(rows.pointer + i * d), UnsafeRawPointer(other.rows.pointer + j * d), count: d)
        return exactCosine(dot: s, squaredNorm: squaredNorms[i], other.squaredNorms[j])
    }

    /// cos(row first[p] of self, row second[p] of `other`) for every p, both cores.
    ///
    /// - Complexity: O(p·d).
    public func pairedCosines(_ first: [Int], _ other: CosineRows, _ second: [Int]) -> [Double] {
        precondition(first.count == second.count && rows.cols == other.rows.cols, "pairedCosines: one pair per entry, equal dimensions")
        var out = [Double](repeating: 0, count: first.count)
        out.withUnsafeMutableBufferPointer { o in
            let base = o.baseAddress!
            parallelChunks(first.count, minimumChunk: 4096) { range in
                for p in range { base[p] = cosine(first[p], other, second[p]) }
            }
        }
        return out
    }

    /// How far a Float32 dot product of the rows normalised by `Matrix.normalizeRowsInPlace` can
    /// be from `exactCosine`, besides the dot product's own summation error: each unit entry is
    /// x_t/‖x‖ times (1 + δ), |δ| ≤ 2·2⁻²⁴ (the Float32 reciprocal and the Float32 product), so
    /// the dot product of two unit rows is within 4·2⁻²⁴·Σ|x_t y_t|/(‖x‖‖y‖) ≤ 4·2⁻²⁴ of the cosine;
    /// 5·2⁻²⁴ leaves room for the Float64 rounding.
    public static let normalisationError = 5 * 0x1p-24
}
