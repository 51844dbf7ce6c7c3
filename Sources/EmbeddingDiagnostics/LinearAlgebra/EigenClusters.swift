import Foundation

/// Clusters of (relatively) equal eigenvalues of a symmetric matrix, and whether truncating its
/// eigendecomposition after K directions splits one.
///
/// Inside a cluster the eigenvectors LAPACK returns are one arbitrary orthonormal basis of the
/// span: exactly equal eigenvalues leave the basis undefined, and eigenvalues closer than the
/// matrix's round-off let it rotate freely, differently on every BLAS kernel and thread count.
/// Anything built on all of a cluster's directions together (a projection onto the span, a sum
/// over it, whitening with every component) is basis-independent; anything that keeps some of a
/// cluster's directions and drops the others is LAPACK's arbitrary choice (Guides/Architecture.md,
/// "Determinism", rule 4).
public enum EigenClusters {
    /// Relative gap (λᵢ − λᵢ₊₁)/λᵢ below which two consecutive eigenvalues belong to one cluster.
    /// The matrices come from Float32 rows, so their entries carry relative errors around 1e-6;
    /// eigenvectors whose eigenvalues are closer than ~1e-3 rotate inside their span under such
    /// errors by angles up to ~1e-3 rad and more, far beyond the documented float noise.
    public static let relativeGapTolerance = 1e-3
    /// Eigenvalue differences below this fraction of the largest |λ| are the matrix's round-off
    /// (Float32 rows: ~1e-6 relative to its norm), whatever the eigenvalues' own size: the
    /// eigenvalues of a null space (±1e-17 λ₁) form one cluster, not "relatively" distinct ones.
    public static let absoluteGapTolerance = 1e-6

    /// Whether consecutive eigenvalues a ≥ b (of a spectrum whose largest |λ| is `scale`) are one
    /// cluster.
    @inlinable
    public static func sameCluster(_ a: Double, _ b: Double, scale: Double) -> Bool {
        if a == b { return true }
        return a - b < max(relativeGapTolerance * abs(a), absoluteGapTolerance * scale)
    }

    /// Cluster ranges (0-based, consecutive, covering 0..<count) of descending `values`.
    ///
    /// - Complexity: O(n).
    public static func clusters(_ values: [Double]) -> [Range<Int>] {
        guard !values.isEmpty else { return [] }
        let scale = values.map(abs).max() ?? 0
        var out: [Range<Int>] = []
        var start = 0
        for i in 1..<values.count where !sameCluster(values[i - 1], values[i], scale: scale) {
            out.append(start..<i)
            start = i
        }
        out.append(start..<values.count)
        return out
    }

    /// The cluster that keeping the first `k` of the descending `values` splits (some of its
    /// members kept, others dropped), or nil when the cut falls between clusters (k = 0 or
    /// k = count never splits).
    ///
    /// - Complexity: O(n).
    public static func split(_ values: [Double], keeping k: Int) -> Range<Int>? {
        guard k > 0, k < values.count else { return nil }
        return clusters(values).first { $0.lowerBound < k && k < $0.upperBound }
    }

    /// The refusal of a cut at `k` that splits `cluster`: names the eigenvalues and the nearest
    /// counts in `allowed` that do not split a cluster. `what` names the setting (e.g.
    /// "--components 1", "transform 'abtt:1'").
    public static func splitMessage(_ what: String, values: [Double], cluster: Range<Int>, allowed: ClosedRange<Int>) -> String {
        let shown = values[cluster].prefix(6).map { ReportFormatting.number($0, significant: 6) }.joined(separator: ", ")
            + (cluster.count > 6 ? ", …" : "")
        let below = cluster.lowerBound, above = cluster.upperBound
        let suggestions = [(above, "keeps the whole cluster"), (below, "leaves it out")]
            .filter { allowed.contains($0.0) }.map { "\($0.0) (\($0.1))" }
        let advice = suggestions.isEmpty
            ? "no count in \(allowed.lowerBound)…\(allowed.upperBound) keeps the whole cluster"
            : "use \(suggestions.joined(separator: " or "))"
        return "\(what) splits principal directions \(below + 1)–\(above) whose eigenvalues are equal within \(relativeGapTolerance) relative (\(shown)): any basis of their span is principal, so the kept directions would be LAPACK's arbitrary choice and change with the CPU's BLAS kernel; \(advice)"
    }
}
