import COpenBLAS
import Foundation

/// Σ x_j² of `count` Float32 values, summed in Float64 eight lanes at a time (widened from
/// Float32). Shared by `rowNorms` and fused passes so that all norms agree to the last bit.
@inlinable @inline(__always)
public func squaredNorm(_ r: UnsafeRawPointer, count d: Int) -> Double {
    var acc0 = SIMD4<Double>(), acc1 = SIMD4<Double>()
    var j = 0
    while j + 8 <= d {
        let v = r.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self)
        let lo = SIMD4<Double>(v.lowHalf), hi = SIMD4<Double>(v.highHalf)
        acc0 += lo * lo
        acc1 += hi * hi
        j += 8
    }
    var acc = (acc0 + acc1).sum()
    while j < d {
        let x = Double(r.load(fromByteOffset: j * 4, as: Float.self))
        acc += x * x
        j += 1
    }
    return acc
}

/// Σ x_t·y_t of two Float32 rows in Float64, eight lanes then their sum: a fixed summation order,
/// so the value is the same on every CPU (unlike a BLAS dot product, whose order depends on the
/// kernel); exact for integer-valued rows. Shared by `pairedDotProducts`, `ExactScores` and the
/// deterministic subspace removal.
@inlinable @inline(__always)
public func fixedOrderDot(_ x: UnsafeRawPointer, _ y: UnsafeRawPointer, count d: Int) -> Double {
    var acc = SIMD8<Double>()
    var t = 0
    while t + 8 <= d {
        let u = x.loadUnaligned(fromByteOffset: t * 4, as: SIMD8<Float>.self)
        let v = y.loadUnaligned(fromByteOffset: t * 4, as: SIMD8<Float>.self)
        acc += SIMD8<Double>(u) * SIMD8<Double>(v)
        t += 8
    }
    var s = acc.sum()
    while t < d { s += Double(x.load(fromByteOffset: t * 4, as: Float.self)) * Double(y.load(fromByteOffset: t * 4, as: Float.self)); t += 1 }
    return s
}
