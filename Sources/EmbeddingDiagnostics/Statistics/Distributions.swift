import CGSL
import Foundation

/// Cumulative distribution functions from GSL (accurate in the tails, unlike 1 − Φ(x)).
public enum Distributions {
    private static let disableAbort: Void = { embdiag_gsl_disable_abort() }()

    /// Φ(x), the standard normal CDF.
    public static func normalCDF(_ x: Double) -> Double { _ = disableAbort; return gsl_cdf_ugaussian_P(x) }
    /// 1 − Φ(x), computed without cancellation.
    public static func normalSurvival(_ x: Double) -> Double { _ = disableAbort; return gsl_cdf_ugaussian_Q(x) }
    /// Φ⁻¹(p).
    public static func normalQuantile(_ p: Double) -> Double { _ = disableAbort; return gsl_cdf_ugaussian_Pinv(p) }
    /// Student t CDF with ν degrees of freedom.
    public static func studentTCDF(_ t: Double, degreesOfFreedom nu: Double) -> Double { _ = disableAbort; return gsl_cdf_tdist_P(t, nu) }
    public static func studentTSurvival(_ t: Double, degreesOfFreedom nu: Double) -> Double { _ = disableAbort; return gsl_cdf_tdist_Q(t, nu) }
    /// χ² survival function.
    public static func chiSquaredSurvival(_ x: Double, degreesOfFreedom k: Double) -> Double { _ = disableAbort; return gsl_cdf_chisq_Q(x, k) }
    /// log C(n, k).
    public static func logBinomial(_ n: Int, _ k: Int) -> Double { _ = disableAbort; return gsl_sf_lnchoose(UInt32(n), UInt32(k)) }
}
