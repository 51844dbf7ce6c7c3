import Foundation

extension ModelFingerprint: ReportConvertible {
    /// The report of `embdiag fingerprint FILE --write model.fp`: what was recorded.
    public func report() -> Report {
        let name = modelName.map { "'\($0)'" } ?? "the model"
        let orientation = self.orientation
        let metrics: [ReportMetric] = [
            ReportMetric("rows", "rows in the sample", .int(rows)),
            ReportMetric("dim", "dimensions", .int(dimension)),
            ReportMetric("principal_directions", "principal directions recorded", .int(directionCount)),
            ReportMetric("mean_norm_ratio", "‖mean‖ / median row norm", ReportValue(meanNormRatio)),
            ReportMetric("mean_cosine", "mean cosine between rows (anisotropy)", ReportValue(meanCosine)),
            ReportMetric("explained_variance_top", "variance share of the recorded directions", ReportValue(explainedShare)),
            ReportMetric("median_norm", "median row norm", ReportValue(normQuantiles[3])),
            ReportMetric("near_constant_dimensions", "dimensions with scale < \(floorDescription)", .int(nearConstantDimensions.count)),
            ReportMetric("traceless_strength", "‖M − tr(M)/d·I‖²_F (unbiased)", ReportValue(tracelessStrength)),
            ReportMetric("off_diagonal_strength", "Σ_{j≠l} M_jl² (unbiased): the sign-carrying part", offDiagonalStrength.map { ReportValue($0) } ?? .null),
            ReportMetric("orientation_checkable", "a check can confirm the coordinates' signs", .bool(orientation.checkable)),
            ReportMetric("row_score_threshold", "per-row score above which --mixed flags a row", ReportValue(rowScoreThreshold)),
        ]
        let spectrumChart = ReportChart(
            name: "spectrum", title: "Covariance spectrum", kind: .line, xLabel: "component", yLabel: "eigenvalue", logY: true,
            series: [ReportChart.Series(name: "eigenvalue", points: spectrum.enumerated().filter { $0.element > 0 }.map { ChartPoint(x: Double($0.offset + 1), y: $0.element) })],
            caption: "Rotation-invariant: the same for a rotated copy of the space. The mean, the per-dimension scale and the principal directions are recorded in the fixed basis, which a rotation changes.")
        var notes: [String] = []
        if directionCount == dimension && dimension < Self.defaultDirections {
            notes.append("\(Setting.directions): \(directionCount) principal directions recorded, all the sample's \(dimension) dimensions (the default, \(Self.defaultDirections), is more than the dimension).")
        }
        if let blindness = orientation.blindness {
            notes.append("Orientation: " + FingerprintCheck.blindnessText(blindness, diagonalScore: nil, score: nil)
                         + " A check against this fingerprint answers same_model null (\"Cannot tell\") where its score reaches the threshold.")
        }
        if Self.scaleReference(scale).fromRMS {
            notes.append("The median scale (\(ReportFormatting.number(Statistics.quantile(scale.sorted(), 0.5), significant: 3))) is below \(Self.rmsReferenceFraction) × the RMS scale — most coordinates (near) constant, as with vectors zero-padded to a larger dimension, or a few coordinates dominating — so the row-score floor is \(floorDescription) (\(ReportFormatting.number(Self.scaleFloor(scale), significant: 3))) instead of \(Self.scaleFloorFraction) × median; \(nearConstantDimensions.count) of \(dimension) dimensions lie below it. Constant coordinates are a mark of this model: another model's rows that vary there score high in --mixed.")
        }
        return Report(
            analyzer: "fingerprint", title: "Model fingerprint of \(source.path)", inputs: [source],
            parameters: [ReportParameter("directions", .int(directionCount)), ReportParameter("model_name", modelName.map { .string($0) } ?? .null)],
            metrics: metrics,
            tables: [ReportTable(name: "norm_quantiles", title: "Row norms", columns: ["quantile", "norm"],
                                 rows: zip(Self.normQuantileLevels, normQuantiles).map { [ReportValue($0.0), ReportValue($0.1)] })],
            charts: [spectrumChart],
            notes: notes,
            verdict: ReportVerdict(question: "What identifies this model's space?",
                                   answer: "Fingerprint of \(name) from \(rows) rows × \(dimension) dimensions: mean direction, \(directionCount) principal directions and the spectrum, per-dimension scale (\(nearConstantDimensions.count) near-constant dimensions), norms and anisotropy (mean cosine \(ReportVerdict.text(meanCosine)))."
                                       + (orientation.checkable ? "" : " Checks against it cannot confirm the coordinates' signs (orientation_checkable no, see the notes): they answer same_model null where the score matches."),
                                   decidingMetrics: ["rows", "dim", "mean_cosine", "near_constant_dimensions", "orientation_checkable"]))
    }

    /// ‖μ‖ / median row norm: how strong the common direction is.
    public var meanNormRatio: Double {
        let m = mean.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return normQuantiles[3] > 0 ? m / normQuantiles[3] : .nan
    }

    /// Share of the total variance in the recorded principal directions.
    public var explainedShare: Double {
        let total = spectrum.reduce(0, +)
        return total > 0 ? spectrum.prefix(directionCount).reduce(0, +) / total : .nan
    }

    /// Dimensions whose scale is below the floor of the per-row score (constant for this model),
    /// exactly constant ones (scale 0) included.
    public var nearConstantDimensions: [Int] {
        let floor = Self.scaleFloor(scale)
        return scale.indices.filter { scale[$0] < floor }
    }

    /// The row-score floor as the report states it ("0.05 × median", or "0.005 × RMS scale").
    var floorDescription: String {
        Self.scaleReference(scale).fromRMS
            ? "\(ReportFormatting.number(Self.scaleFloorFraction * Self.rmsReferenceFraction, significant: 3)) × RMS scale"
            : "\(Self.scaleFloorFraction) × median"
    }
}

extension FingerprintCheck: ReportConvertible {
    /// The report of `embdiag fingerprint --check model.fp FILE [--mixed]`, verdict first.
    public func report() -> Report {
        let model = fingerprint.modelName.map { "'\($0)'" } ?? "the fingerprint's model (\(fingerprint.source.path))"
        let d = fingerprint.dimension
        let threshold = Self.threshold(dimension: d)
        let cut = ReportFormatting.number(threshold, significant: 3)
        let orientationCut = orientation.threshold.map { ReportFormatting.number($0, significant: 3) } ?? "—"
        var metrics: [ReportMetric] = [
            ReportMetric("same_model", "same model as the fingerprint, coordinates' orientation confirmed (null: cannot tell)", sameModel.map { .bool($0) } ?? .null),
            ReportMetric("same_model_score", "disattenuated second-moment similarity (same model ≥ \(cut))", ReportValue(sameModelScore)),
            ReportMetric("orientation_score", "its off-diagonal, sign-carrying part (orientation confirmed ≥ \(orientationCut))", orientationScore.map { ReportValue($0) } ?? .null),
            ReportMetric("orientation_checkable", "the fingerprint's structure shows the coordinates' signs", .bool(orientation.checkable)),
            ReportMetric("diagonal_score", "the sign-blind part of same_model_score (per-coordinate entries)", ReportValue(diagonalScore)),
            ReportMetric("mean_direction_cosine", "cosine of the two mean vectors", ReportValue(meanDirectionCosine)),
            ReportMetric("principal_subspace_overlap", "overlap of the top \(fingerprint.directionCount) principal directions (chance \(ReportFormatting.number(Double(fingerprint.directionCount) / Double(fingerprint.dimension), significant: 2)))", ReportValue(principalSubspaceOverlap)),
            ReportMetric("spectrum_correlation", "correlation of the log spectra (rotation-invariant)", ReportValue(spectrumCorrelation)),
            ReportMetric("norm_ratio", "median row norm / the fingerprint's", ReportValue(normRatio)),
            ReportMetric("mean_cosine", "mean cosine between rows (anisotropy)", ReportValue(meanCosine)),
            ReportMetric("mean_cosine_fingerprint", "the fingerprint's mean cosine", ReportValue(fingerprint.meanCosine)),
            ReportMetric("rows", "rows checked", .int(rows)),
        ]
        var tables: [ReportTable] = []
        var notes: [String] = []
        var question = "Do these vectors come from \(model)?"
        let which = threshold > Self.sameModelThreshold
            ? "the threshold at \(d) dimensions, four standard deviations of a rotated copy's score" : "the calibrated threshold"
        let scoreText = "same_model_score \(ReportVerdict.text(sameModelScore)) ≥ \(cut) (\(which))"
        var answer: String
        if !Self.canDecide(dimension: d) {
            answer = "Cannot tell: at \(d) dimensions the score of a randomly rotated copy spreads ±\(ReportFormatting.number(Self.rotationSpread(dimension: d), significant: 2)) (one standard deviation), so no threshold the same model can reach separates it from a rotated copy or another model; same_model_score \(ReportVerdict.text(sameModelScore))."
        } else if !scoreReachesThreshold {
            answer = "No: same_model_score \(ReportVerdict.text(sameModelScore)) < \(cut) (\(which)): the coordinates do not carry this model's structure (another model, or a rotated or re-signed copy)."
        } else if let blindness = orientation.blindness {
            answer = "Cannot tell: \(scoreText), but " + Self.blindnessText(blindness, diagonalScore: diagonalScore, score: sameModelScore)
        } else if let o = orientationScore, let oc = orientation.threshold, o >= oc, sign != .confirmed {
            let signs = "\(scoreText), and orientation_score \(ReportVerdict.text(o)) ≥ \(orientationCut) confirms the coordinates' relative signs"
            switch sign {
            case .negated:
                answer = "No: \(signs), but the mean points the other way (mean_direction_cosine \(ReportVerdict.text(meanDirectionCosine))): every coordinate negated (x → −x keeps every second moment), which turns every cosine with the index's vectors around."
            case .fingerprintMeanIsNoise:
                answer = "Cannot tell: \(signs), but the fingerprint's mean is within four standard errors of 0 (a centred space), so a copy with every coordinate negated (x → −x) would score the same; check on paired rows with `embdiag compat`."
            default:
                answer = "Cannot tell: \(signs), but this sample's mean along the fingerprint's mean direction is within four standard errors of 0, so it cannot show whether every coordinate was negated (x → −x keeps every second moment); check more rows, or on paired rows with `embdiag compat`."
            }
        } else if let o = orientationScore, let oc = orientation.threshold {
            answer = o >= oc
                ? "Yes: \(scoreText), orientation_score \(ReportVerdict.text(o)) ≥ \(orientationCut) confirms the coordinates' signs, and the means point the same way (mean_direction_cosine \(ReportVerdict.text(meanDirectionCosine)))."
                : "No: \(scoreText), but orientation_score \(ReportVerdict.text(o)) < \(orientationCut): the per-coordinate structure matches while the correlations between coordinates do not — coordinates sign-flipped (or permuted) relative to the fingerprint's space, which changes every cosine with the index's vectors."
        } else {
            answer = "Cannot tell: \(scoreText), but this sample's off-diagonal structure is \(ReportFormatting.number(100 * Swift.max(0, sampleOffDiagonalShare), significant: 2)) % of its sampling noise (\(ReportFormatting.number(100 * FingerprintStatistics.minimumSignalShare, significant: 2)) % needed), so the coordinates' signs cannot be confirmed (a sign-flipped copy would score the same); check more rows, or check on paired rows with `embdiag compat`."
        }
        var deciding = ["same_model", "same_model_score", "orientation_score", "orientation_checkable", "mean_direction_cosine", "rows"]
        if let flaggedRows, let share = mixedShare, let mixed = isMixed, let flaggedScores {
            metrics.append(ReportMetric("mixed", "rows from another model (share > \(Self.mixedShareThreshold))", .bool(mixed)))
            metrics.append(ReportMetric("mixed_share", "share of rows that look like another model", ReportValue(share)))
            metrics.append(ReportMetric("mixed_rows", "rows that look like another model", .int(flaggedRows.count)))
            metrics.append(ReportMetric("row_score_median", "median per-row score (the fingerprint's: \(ReportFormatting.number(fingerprint.rowScoreMedian, significant: 3)))", ReportValue(rowScoreMedian)))
            tables.append(ReportTable(name: "mixed_rows", title: "Rows that look like another model (score > \(ReportFormatting.number(fingerprint.rowScoreThreshold, significant: 3)))",
                                      columns: ["row", "score"], rows: zip(flaggedRows, flaggedScores).map { [.int($0.0), ReportValue($0.1)] },
                                      textRowLimit: 20, isPerRow: true))
            question = "Do these vectors come from \(model), and which rows do not?"
            // Nearly every row flagged: not a mix, another model altogether — say that first.
            answer = mixed && share >= 0.95 && sameModel == false
                ? answer + " Every row but \(rows - flaggedRows.count) looks like another model's (mixed_share \(ReportFormatting.number(share, significant: 3)))."
                : mixed
                ? "Mixed: \(flaggedRows.count) of \(rows) rows (\(ReportFormatting.number(100 * share, significant: 3)) %) look like another model's (rows in mixed_rows). " + answer
                : (flaggedRows.isEmpty ? "No row looks like another model's. " : "\(flaggedRows.count) row(s) look atypical, below the \(ReportFormatting.number(100 * Self.mixedShareThreshold, significant: 2)) % that makes a file mixed. ") + answer
            deciding = ["mixed", "mixed_share", "same_model", "same_model_score", "orientation_score", "rows"]
            notes.append("--mixed compares each row with the fingerprint's per-coordinate spread, which a sign flip of coordinates centred near 0 leaves unchanged: re-signed rows are not flagged (the file-level orientation_score sees a re-signed file).")
        }
        if normRatio.isFinite, normRatio > 0, abs(Foundation.log(normRatio)) > Foundation.log(1.1) {
            notes.append("Row norms differ from the fingerprint's by a factor \(ReportFormatting.number(normRatio, significant: 3)) (median): another normalisation or pooling, even where the score says same model.")
        }
        if principalSubspaceOverlap.isNaN {
            notes.append("principal_subspace_overlap is not reported (null): eigenvalues \(fingerprint.directionCount) and \(fingerprint.directionCount + 1) of the checked sample or of the fingerprint are equal (within \(EigenClusters.relativeGapTolerance) relative, or both ≈ 0), so its top \(fingerprint.directionCount) directions are an arbitrary choice of LAPACK's inside their span, which changes with the BLAS kernel.")
        }
        notes.append("same_model_score: 1 = the same anisotropic structure in the same coordinates, ≈ 0 = unrelated (another model, or a rotation of this one). Calibrated on four real models and random rotations over eight topics (Guides/Fingerprint.md): the threshold \(Self.sameModelThreshold) separated every same-model sample (≥ 0.14) from every other (≤ 0.06). A sign flip of coordinates keeps the score's diagonal part (diagonal_score); orientation_score, the off-diagonal part, must reach its own threshold for a yes.")
        if scoreReachesThreshold, orientation.checkable, let o = orientationScore, let oc = orientation.threshold, oc > threshold {
            notes.append("The orientation threshold is \(orientationCut), four standard deviations of a half-sign-flipped copy's orientation score (\(ReportFormatting.number(orientation.flipSpread ?? .nan, significant: 2))): the fingerprint's off-diagonal structure sits on few coordinate pairs; orientation_score \(ReportVerdict.text(o)).")
        }
        return Report(
            analyzer: "fingerprint", title: "Fingerprint check of \(source.path)", inputs: [fingerprint.source, source],
            parameters: [ReportParameter("threshold", ReportValue(Self.threshold(dimension: fingerprint.dimension))),
                         ReportParameter("orientation_threshold", orientation.threshold.map { ReportValue($0) } ?? .null), ReportParameter("mixed", .bool(flaggedRows != nil)),
                         ReportParameter("model_name", fingerprint.modelName.map { .string($0) } ?? .null)],
            metrics: metrics, tables: tables, notes: notes,
            verdict: ReportVerdict(question: question, answer: answer, decidingMetrics: deciding))
    }

    /// Why the fingerprint cannot confirm the coordinates' orientation, with what to do (the end of
    /// a "Cannot tell" verdict, and of the `--write` note).
    static func blindnessText(_ b: ModelFingerprint.OrientationBlindness, diagonalScore: Double?, score: Double?) -> String {
        let remedy = "check on rows embedded by both (paired rows) with `embdiag compat`, which sees any change of the coordinates"
        let scored = diagonalScore.map { " (diagonal_score \(ReportVerdict.text($0)) of \(ReportVerdict.text(score)))" } ?? ""
        switch b {
        case .olderFormat:
            return "the fingerprint was written by an older embdiag (format version 1), which did not record the off-diagonal strength, so the coordinates' signs cannot be confirmed (a sign-flipped copy would score the same); write the fingerprint again with this embdiag, or \(remedy)."
        case .diagonal(let share):
            return "the fingerprint's structure is per-coordinate\(scored): its coordinates are uncorrelated (off-diagonal structure \(ReportFormatting.number(100 * Swift.max(0, share), significant: 2)) % of what its directions rebuild, \(ReportFormatting.number(100 * FingerprintStatistics.minimumSignalShare, significant: 2)) % needed), as in a PCA-rotated store, and a copy with any coordinates sign-flipped (a PCA refit flips eigenvector signs arbitrarily) would score the same; \(remedy)."
        case .concentrated(let spread):
            return "the fingerprint's off-diagonal structure sits on so few coordinate pairs that a copy with a random half of its coordinates sign-flipped keeps much of it (its orientation score spreads ±\(ReportFormatting.number(spread, significant: 2)), four of which reach 1), so the coordinates' signs cannot be confirmed; \(remedy)."
        case .dimension:
            return "the dimension is too small for any threshold; \(remedy)."
        }
    }
}
