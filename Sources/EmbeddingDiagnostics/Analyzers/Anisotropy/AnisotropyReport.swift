import Foundation

extension AnisotropyMetrics {
    /// (key, label, value) of every scalar metric, in report order.
    func scalarMetrics(top k: Int) -> [(String, String, ReportValue)] {
        var metrics: [(String, String, ReportValue)] = [
            ("mean_cosine", "mean pairwise cosine (exact)", ReportValue(meanCosine)),
            ("cosine_std", "cosine std (sampled pairs)", cosineStandardDeviation.map { ReportValue($0) } ?? .null),
            ("mean_vector_ratio", "‖mean vector‖ / mean ‖x‖", ReportValue(meanVectorRatio)),
            ("mean_unit_vector_norm", "‖mean of unit vectors‖", ReportValue(meanUnitVectorNorm)),
            ("isoscore", "IsoScore (1 = isotropic)", ReportValue(isoScore)),
            ("isoscore_null", "IsoScore of isotropic Gaussian, same n and d", ReportValue(isoScoreNullBaseline)),
            ("partition_isotropy", "partition isotropy I(W) (1 = isotropic)", ReportValue(partitionIsotropy)),
            ("effective_rank", "effective rank", ReportValue(effectiveRank)),
            ("participation_ratio", "participation ratio", ReportValue(participationRatio)),
            ("explained_variance_top1", "variance explained by PC1", ReportValue(explainedVariance(top: 1))),
            ("explained_variance_top10", "variance explained by top 10 PCs", ReportValue(explainedVariance(top: 10))),
        ]
        if k != 1 && k != 10 {
            metrics.append(("explained_variance_top\(k)", "variance explained by top \(k) PCs", ReportValue(explainedVariance(top: k))))
        }
        metrics += [
            ("top_dimension_share", "share of mean cosine from the top dimension",
             topDimensionShare.map { ReportValue($0) } ?? .null),
            ("mean_norm", "mean row norm", ReportValue(meanNorm)),
        ]
        return metrics
    }

    func spectrumTable(name: String, title: String) -> ReportTable {
        let total = spectrum.reduce(0, +)
        var cumulative = 0.0
        return ReportTable(name: name, title: title, columns: ["component", "eigenvalue", "explained", "cumulative"],
                           rows: spectrum.enumerated().map { k, v in
                               cumulative += v
                               return [.int(k + 1), ReportValue(v), ReportValue(total > 0 ? v / total : .nan), ReportValue(total > 0 ? cumulative / total : .nan)]
                           }, textRowLimit: 10)
    }

    func rogueTable(name: String, title: String, top k: Int) -> ReportTable {
        let totalVariance = dimensionVariances.reduce(0, +)
        return ReportTable(name: name, title: title, columns: ["dimension", "cosine_contribution", "share_of_mean_cosine", "variance_share"],
                           rows: rogueDimensions.prefix(k).map { j in
                               [.int(j), ReportValue(cosineContributions[j]), ReportValue(topDimensionShare != nil ? cosineContributions[j] / meanCosine : .nan),
                                ReportValue(totalVariance > 0 ? dimensionVariances[j] / totalVariance : .nan)]
                           })
    }
}

extension AnisotropyAnalysis: ReportConvertible {
    public func report() -> Report {
        let c = configuration
        let k = max(1, c.top)
        var parameters: [ReportParameter] = [
            ReportParameter("top", .int(k)), ReportParameter("pair_sample", .int(before.sampledPairs)),
            ReportParameter("partition_rows", .int(before.partitionFunctionRows)), ReportParameter("seed", .int(Int(truncatingIfNeeded: c.seed))),
        ]
        if let z = c.isoScoreStarZeta {
            parameters.append(ReportParameter("isoscore_zeta", .double(z)))
            parameters.append(ReportParameter("isoscore_prior", .string(c.isoScoreStarPrior.rawValue)))
        }
        if let t = transform {
            parameters.append(ReportParameter("transform", .string(t.steps.map { s in s.components.map { "\(s.step):\($0)" } ?? s.step }.joined(separator: ","))))
        }
        var metrics = [ReportMetric("rows", "rows", .int(before.rows)), ReportMetric("dim", "dimension", .int(before.dimension))]
        var beforeScalars = before.scalarMetrics(top: k)
        func starMetric(_ s: IsoScoreStar?) -> (String, String, ReportValue)? {
            s.map { ("isoscore_star", "IsoScore* (ζ = \(ReportFormatting.number($0.zeta)), C0 = \($0.prior == .identity ? "I" : "tr(C)/d·I"))", ReportValue($0.value)) }
        }
        // IsoScore* right after the IsoScore null baseline.
        let insertAt = (beforeScalars.firstIndex { $0.0 == "isoscore_null" } ?? 0) + 1
        if let s = starMetric(isoScoreStar) { beforeScalars.insert(s, at: insertAt) }
        metrics += beforeScalars.map { ReportMetric($0.0, $0.1, $0.2) }
        var tables: [ReportTable] = []
        if let after {
            metrics.append(ReportMetric("dim_after", "dimension after", .int(after.dimension)))
            var afterScalars = after.scalarMetrics(top: k)
            if let s = starMetric(isoScoreStarAfter) { afterScalars.insert(s, at: insertAt) }
            metrics += afterScalars.map { ReportMetric($0.0 + "_after", $0.1 + " (after)", $0.2) }
            tables.append(ReportTable(name: "before_after", title: "Before and after the transform",
                                      columns: ["metric", "before", "after"],
                                      rows: zip(beforeScalars, afterScalars).map { [.string($0.0.0), $0.0.2, $0.1.2] }))
        }
        tables.append(before.rogueTable(name: "rogue_dimensions", title: "Dimensions contributing most to the mean cosine (rogue dimensions)", top: k))
        tables.append(before.spectrumTable(name: "spectrum", title: "Covariance spectrum"))
        if let after {
            tables.append(after.rogueTable(name: "rogue_dimensions_after", title: "Rogue dimensions after", top: k))
            tables.append(after.spectrumTable(name: "spectrum_after", title: "Covariance spectrum after"))
        }
        func spectrumSeries(_ m: AnisotropyMetrics, _ name: String) -> ReportChart.Series {
            ReportChart.Series(name: name, points: m.spectrum.enumerated().filter { $0.element > 0 }.map { ChartPoint(x: Double($0.offset + 1), y: $0.element) })
        }
        func cumulativeSeries(_ m: AnisotropyMetrics, _ name: String) -> ReportChart.Series {
            let total = m.spectrum.reduce(0, +)
            var acc = 0.0
            return ReportChart.Series(name: name, points: m.spectrum.enumerated().map { acc += $0.element; return ChartPoint(x: Double($0.offset + 1), y: total > 0 ? acc / total : 0) })
        }
        var spectra = [spectrumSeries(before, "before")]
        var cumulative = [cumulativeSeries(before, "before")]
        if let after { spectra.append(spectrumSeries(after, "after")); cumulative.append(cumulativeSeries(after, "after")) }
        let charts = [
            ReportChart(name: "spectrum", title: "Covariance spectrum", kind: .line, xLabel: "principal component", yLabel: "eigenvalue", logY: true,
                        series: spectra, caption: "A few large eigenvalues followed by a long tail means a few directions dominate (anisotropy)."),
            ReportChart(name: "cumulative_variance", title: "Cumulative explained variance", kind: .line, xLabel: "principal components", yLabel: "fraction of variance",
                        series: cumulative, caption: "An isotropic space climbs linearly to 1; a cone climbs steeply."),
        ]
        var notes: [String] = []
        let m = before
        if m.meanCosine > 0.3 {
            notes.append("Mean cosine \(ReportFormatting.number(m.meanCosine, significant: 3)): random pairs look similar, so raw cosine similarities are inflated; rank or threshold them only after centring (--transform center or abtt).")
        }
        notes.append("IsoScore \(ReportFormatting.number(m.isoScore, significant: 3)) vs \(ReportFormatting.number(m.isoScoreNullBaseline, significant: 3)) for an isotropic Gaussian of the same size: with finite n even perfectly isotropic data scores below 1 (≈ (n−1)/(n+d) participation).")
        if let top = m.rogueDimensions.first, let share = m.topDimensionShare, m.meanCosine > 0, share > 0.2 {
            notes.append("Dimension \(top) alone contributes \(ReportFormatting.number(100 * share, significant: 3))% of the mean cosine: a rogue dimension (Timkey & van Schijndel 2021).")
        } else if m.topDimensionShare == nil && m.rows > 1 {
            notes.append("Mean cosine \(ReportFormatting.number(m.meanCosine, significant: 3)) is within the sampling noise of 0 (3 × √(2/(d·n(n − 1))) = \(ReportFormatting.number(3 * m.meanCosineNoise, significant: 3)) for independent random directions): no dimension can dominate it, so top_dimension_share is not reported.")
        }
        let states: [(String, AnisotropyMetrics?)] = [("", before), (" after the transforms", after)]
        for (state, measured) in states {
            guard let g = measured?.partitionDegeneracy else { continue }
            notes.append("Partition isotropy\(state) is not reported (null): principal directions \(g.firstComponent)–\(g.lastComponent) have nearly equal eigenvalues (relative gaps < \(AnisotropyMetrics.degenerateGapTolerance)), so any basis of their span is principal, and log Z varies by more than \(AnisotropyMetrics.partitionBasisTolerance) over directions of that span: I(W) would be an arbitrary choice of LAPACK's that changes with the BLAS kernel and thread count.")
        }
        if m.partitionFunctionRows < m.rows {
            notes.append("Partition isotropy was computed on a seeded sample of \(m.partitionFunctionRows) rows (Z(c)/n is a mean over rows).")
        }
        return Report(analyzer: "anisotropy", title: "Anisotropy of \(URL(fileURLWithPath: source.path).lastPathComponent)",
                      inputs: [source], parameters: parameters, metrics: metrics, tables: tables, charts: charts,
                      notes: caps.map { Report.warningPrefix + $0.message } + notes, verdict: verdict)
    }

    /// Parameters this data could not support, capped (each becomes a warning of the report):
    /// `--top` beyond the dimension, `--pairs` beyond the distinct pairs (their defaults are
    /// documented as "at most" and not warned about), and the components of the fitted remedies
    /// (a saved transform is applied as it was fitted).
    public var caps: [ParameterCap] {
        var caps: [ParameterCap] = []
        let c = configuration, defaults = AnisotropyConfiguration()
        let dimensions = min(before.dimension, after?.dimension ?? before.dimension)
        if c.top > dimensions && c.top != defaults.top {
            caps.append(ParameterCap(parameter: "--top", asked: c.top, used: dimensions,
                                     reason: "there are \(dimensions) dimensions: explained_variance_top\(c.top) is the variance of all of them, and the rogue-dimension tables list every dimension"))
        }
        if c.pairSample > before.sampledPairs && c.pairSample != defaults.pairSample {
            caps.append(ParameterCap(parameter: "--pairs", asked: c.pairSample, used: before.sampledPairs,
                                     reason: "\(before.rows) rows have \(before.sampledPairs) distinct pairs, and every one is used"))
        }
        guard configuration.savedTransform == nil, let t = transform else { return caps }
        return caps + IsotropyTransform.caps(requested: configuration.steps, fitted: t.steps, dimension: source.dim)
    }
}
