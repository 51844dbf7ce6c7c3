/// e^x in Float32 (Cephes `expf`: x = n·ln2 + r, |r| ≤ ln2/2, degree-6 polynomial for e^r, 2^n
/// built in the exponent bits). Relative error ≤ 2 ulp on [−87.3, 88]; inputs are clamped to that
/// range so that 2^n stays a normal float (e^−87.3 ≈ 1.2e−38 stands in for smaller values, which
/// only ever add to sums of terms ≥ 1 here). Branch-free scalar code that LLVM vectorizes in loops
/// over buffers — unlike Foundation's exp (a call per value) or Swift's generic SIMD types
/// (lane-by-lane min/max/conversions): the partition function needs 2·d exponentials per row.
@inlinable @inline(__always)
public func exponential(_ x: Float) -> Float {
    let clamped = Swift.min(Swift.max(x, -87.3), 88.0)
    // n = round(x·log2 e) by the 1.5·2^23 trick: the addition rounds to an integer (to nearest,
    // even on ties) that then sits in the low mantissa bits.
    let magic: Float = 12_582_912
    let shifted = clamped * 1.442_695_04 + magic
    let n = shifted - magic
    // r = x − n·ln2 with ln2 split in two parts (Cody–Waite) so that r keeps its low bits.
    var r = clamped - n * 0.693_359_375
    r = r + n * 2.121_944_4e-4
    let r2 = r * r
    var p: Float = 1.987_569_15e-4
    p = p * r + 1.398_199_95e-3
    p = p * r + 8.333_451_9e-3
    p = p * r + 4.166_579_59e-2
    p = p * r + 1.666_666_55e-1
    p = p * r + 5.000_000_12e-1
    let er = p * r2 + r + 1
    // 2^n, n ∈ [−126, 127]: (bits(shifted) − bits(magic) + 127) << 23.
    let exponentBits = (Int32(bitPattern: shifted.bitPattern) &- 0x4B40_0000 &+ 127) &<< 23
    return er * Float(bitPattern: UInt32(bitPattern: exponentBits))
}
