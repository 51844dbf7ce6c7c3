/// Test tolerances that follow the arithmetic, not one machine's last bits.
public enum Tolerance {
    /// Unit roundoff of Float32 (2⁻²⁴).
    public static let float32Roundoff = 0x1p-24

    /// Worst-case relative error of a Float32 dot product of length `d` (d·u, the bound BLAS
    /// kernels of any summation order satisfy), for comparing a Float32 pipeline with Float64.
    public static func float32Dot(dimension d: Int) -> Double { Double(d) * float32Roundoff }

    /// |a − b| ≤ absolute + relative·max(|a|, |b|).
    public static func isClose(_ a: Double, _ b: Double, relative: Double = 0, absolute: Double = 0) -> Bool {
        if a == b { return true }
        return abs(a - b) <= absolute + relative * max(abs(a), abs(b))
    }
}
