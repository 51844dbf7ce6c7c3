/// exp of 16 Float32 lanes at once (Cephes `expf`: x = n·ln2 + r, |r| ≤ ln2/2, degree-6 polynomial
/// for e^r, 2^n built in the exponent bits). Relative error ≤ 2 ulp on [−87.3, 88]; inputs are
/// clamped to that range (so that 2^n stays a normal float; e^−87.3 ≈ 1.2e−38 stands in for smaller values, which only ever add to
/// sums of terms ≥ 1 here). Foundation's scalar exp costs ~10× more per value; the partition
/// function needs 2·d exponentials per row.
@inlinable
public func exponential(_ x: SIMD16<Float>) -> SIMD16<Float> {
    let clamped = x.clamped(lowerBound: SIMD16(repeating: -87.3), upperBound: SIMD16(repeating: 88.0))
    let n = (clamped * 1.442_695_04).rounded(.toNearestOrEven)
    // r = x − n·ln2 with ln2 split in two parts (Cody–Waite) so that r keeps its low bits.
    var r = clamped - n * 0.693_359_375
    r = r + n * 2.121_944_4e-4
    let r2 = r * r
    var p = SIMD16<Float>(repeating: 1.987_569_15e-4)
    p = p * r + 1.398_199_95e-3
    p = p * r + 8.333_451_9e-3
    p = p * r + 4.166_579_59e-2
    p = p * r + 1.666_666_55e-1
    p = p * r + 5.000_000_12e-1
    let er = p * r2 + r + 1
    let exponentBits = (SIMD16<Int32>(n, rounding: .towardZero) &+ 127) &<< 23
    return er * unsafeBitCast(exponentBits, to: SIMD16<Float>.self)  // 2^n, n ∈ [−126, 127]
}
