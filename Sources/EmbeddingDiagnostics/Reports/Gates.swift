import Foundation

/// A requested check on a report metric, e.g. `recall_at_10_cross>=0.9` (`--require`, audit gates).
/// A failed requirement makes embdiag exit 1 after the report is written.
public struct Requirement: Sendable, Equatable, CustomStringConvertible {
    public enum Comparison: String, Sendable, CaseIterable {
        case greaterOrEqual = ">=", lessOrEqual = "<=", equal = "==", notEqual = "!=", greater = ">", less = "<"

        func holds(_ a: Double, _ b: Double) -> Bool {
            switch self {
            case .greaterOrEqual: return a >= b
            case .lessOrEqual: return a <= b
            case .equal: return a == b
            case .notEqual: return a != b
            case .greater: return a > b
            case .less: return a < b
            }
        }
    }

    public var metric: String
    public var comparison: Comparison
    public var threshold: Double
    /// The threshold was written as a boolean (true/false, yes/no): the metric must be one.
    public var isBoolean: Bool
    /// The boolean as typed (yes, no, true, false), so messages echo what the user wrote (not
    /// part of equality: `== yes` and `== true` are one requirement).
    public var booleanSpelling: String?

    public static func == (a: Requirement, b: Requirement) -> Bool {
        (a.metric, a.comparison, a.threshold, a.isBoolean) == (b.metric, b.comparison, b.threshold, b.isBoolean)
    }

    public init(metric: String, _ comparison: Comparison, _ threshold: Double, boolean: Bool = false) {
        self.metric = metric
        self.comparison = comparison
        self.threshold = threshold
        self.isBoolean = boolean
    }

    /// Parses "metric OP number" (spaces allowed; OP one of >= <= == != > <; true/false allowed
    /// as numbers 1/0 for boolean metrics such as `compatible`).
    public init(parsing text: String) throws {
        let s = text.trimmingCharacters(in: .whitespaces)
        // Two-character operators first so ">=" is not read as ">".
        for op in Comparison.allCases {
            guard let r = s.range(of: op.rawValue) else { continue }
            let name = s[..<r.lowerBound].trimmingCharacters(in: .whitespaces)
            let value = s[r.upperBound...].trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
                throw EmbdiagError.usage("requirement '\(text)': '\(name)' is not a metric key (snake_case letters, digits, _)")
            }
            let number: Double?
            var boolean = false
            switch value.lowercased() {
            case "true", "yes": number = 1; boolean = true
            case "false", "no": number = 0; boolean = true
            // Swift's Double(String) reads C99 hex ("0x100" = 256, "0x1p3"), which no other
            // number rule (Python's float) does: refused like "1_000".
            default: number = DecimalNumber.parse(value)
            }
            guard let number, number.isFinite else {
                throw EmbdiagError.usage("requirement '\(text)': '\(value)' is not a number (or true/false, yes/no)")
            }
            if boolean && op != .equal && op != .notEqual {
                throw EmbdiagError.usage("requirement '\(text)': a yes/no value is compared with == or !=")
            }
            self.init(metric: name, op, number, boolean: boolean)
            if boolean { booleanSpelling = value.lowercased() }
            return
        }
        throw EmbdiagError.usage("requirement '\(text)' has no comparison; write e.g. \"recall_at_10_cross>=0.9\" (>=, <=, >, <, ==, !=)")
    }

    /// The range a metric cannot leave, for the metrics whose range is fixed by their definition
    /// (p-values, shares, fractions, rates, recalls, precisions, explained variance, MAUVE, AUC,
    /// quality indices in [0, 1]; counts and densities ≥ 0); nil for the others.
    public static func knownRange(of metric: String) -> ClosedRange<Double>? {
        let unitInterval = ["p_value", "seat_p_value", "weat_p_", "min_p_", "recall", "precision", "coverage", "mauve", "auc", "pc1_explained",
                            "pc2_explained", "subspace_explained", "explained_variance_", "knn_jaccard", "knn_overlap_at_", "neighbor_overlap",
                            "unit_norm_fraction", "negative_flip_rate", "negative_flip_index", "band_false_alarm", "depth_q", "q_pooled",
                            "energy_homogeneity", "isoscore", "partition_isotropy", "mutual_knn", "relative_top", "relative_mrr",
                            "absolute_top", "absolute_mrr", "chance_", "mrr_", "map_", "mean_unit_vector_norm", "word_list_coverage",
                            "cross_duplicate_share", "cross_duplicate_reference_share", "new_region_share", "uncovered_share",
                            "top_dimension_share", "cluster_max_share_change", "mixed_share"]
        if metric == "q" || unitInterval.contains(where: { metric.hasPrefix($0) }) || metric.hasSuffix("_share") || metric.hasSuffix("_fraction") {
            // Standard errors of a [0, 1] quantity are not in [0, 1] by definition's bounds in the same way: left out.
            if metric.hasSuffix("_stderr") { return 0...Double.infinity }
            return 0...1
        }
        // Differences and correlations of [0, 1] or cosine quantities, rank-biserial effect sizes.
        let signedUnit = ["similarity_spearman", "mean_cosine", "relative_cosine_mean", "compatibility_margin", "effect_size", "mapped_cosine_mean",
                          "mean_top1_similarity", "mean_kth_similarity"]
        if signedUnit.contains(where: { metric.hasPrefix($0) }) { return -1...1 }
        if metric.hasPrefix("score_shift_ks_") || metric == "cka_linear" || metric == "procrustes_residual" { return 0...1 }
        // exp(entropy) and (Σλ)²/Σλ² of a spectrum are at least 1; a report has at least one row and dimension.
        if ["effective_rank", "participation_ratio"].contains(where: { metric.hasPrefix($0) }) || metric == "rows" || metric == "dim" {
            return 1...Double.infinity
        }
        // The energy distance (a V-statistic) is at least 0.
        if metric == "energy" { return 0...Double.infinity }
        let counts = ["n_", "windows", "clusters", "cross_duplicates", "checks", "queries", "paired_rows", "train_rows", "rows",
                      "heldout_rows", "evaluation_rows", "gallery_rows", "nan_rows", "inf_rows", "zero_rows", "null_rows", "duplicate_labels",
                      "antihubs", "similarity_pairs", "knn_overlap_k_effective", "candidates_per_query", "anchor_count",
                      "mmd_bandwidth"]
        if counts.contains(where: { metric.hasPrefix($0) }) || metric == "density" || metric == "cosine_std" || metric.hasPrefix("norm_") {
            return 0...Double.infinity
        }
        return nil
    }

    /// Metrics that are strictly above the lower bound of their range: a mean reciprocal rank
    /// without a cut-off (every evaluated query has a relevant row, so 1/rank > 0) and chance
    /// levels (1 / rows, relevant / rows). Their "> 0" can never fail either.
    public static func isStrictlyAboveLowerBound(_ metric: String) -> Bool {
        (metric.contains("mrr") && !metric.contains("_at_") && !metric.hasSuffix("_stderr")) || metric.hasPrefix("chance_")
    }

    /// Whether the requirement holds for every value in `range` (a gate that can never fail).
    public func cannotFail(in range: ClosedRange<Double>) -> Bool {
        switch comparison {
        case .greaterOrEqual: return threshold <= range.lowerBound
        case .greater: return threshold < range.lowerBound || (threshold == range.lowerBound && Self.isStrictlyAboveLowerBound(metric))
        case .lessOrEqual: return threshold >= range.upperBound
        case .less: return threshold > range.upperBound
        case .notEqual: return !range.contains(threshold)
        case .equal: return false
        }
    }

    /// Refuses (exit 2) a requirement that can never fail because its metric's range is fixed by
    /// its definition (`knownRange(of:)`): known from the key alone, so front ends check every
    /// requirement before any analysis runs (an audit: every check's, before the first runs).
    public func refuseIfCannotFail() throws {
        guard !isBoolean, let range = Requirement.knownRange(of: metric), cannotFail(in: range) else { return }
        let where_ = range.upperBound.isInfinite ? "is at least \(ReportFormatting.number(range.lowerBound))"
            : "lies in [\(ReportFormatting.number(range.lowerBound)), \(ReportFormatting.number(range.upperBound))]"
        throw EmbdiagError.usage("\(Setting.require) \(self): '\(metric)' \(where_), so this requirement can never fail; give a threshold inside that range")
    }

    /// Refuses (exit 2) a requirement on a p-value whose floor decides it whatever the data: one
    /// that every value at or above `floor` satisfies (`p_value >= 0.0005` with B = 1000
    /// relabellings, every p-value being ≥ 1/1001) can never fail, one that none satisfies
    /// (`p_value <= 0.0005`) can never pass; both are configuration mistakes. The one rule for
    /// every p-value floor: a report's `<key>_floor` metrics (`Report.evaluate`) and the floors a
    /// command knows from its options before it reads any input (`ShiftConfiguration`).
    ///
    /// - Parameters:
    ///   - floor: the smallest value the p-value can take (> 0).
    ///   - because: where the floor comes from, after "is at least <floor>".
    ///   - remedy: what raises or lowers the floor, after "give a threshold … or".
    public func refuseIfDecided(byPValueFloor floor: Double, because: String, remedy: String) throws {
        guard floor > 0, !isBoolean else { return }
        let atLeast = "'\(metric)' is at least \(ReportFormatting.number(floor, significant: 3)) \(because)"
        switch comparison {
        case .greaterOrEqual where threshold <= floor, .greater where threshold < floor:
            throw EmbdiagError.usage("\(Setting.require) \(self): \(atLeast), so this requirement can never fail; give a threshold above that or \(remedy)")
        case .lessOrEqual where threshold < floor, .less where threshold <= floor:
            throw EmbdiagError.usage("\(Setting.require) \(self): \(atLeast), so this requirement can never pass; give a threshold of at least that or \(remedy)")
        default:
            return
        }
    }

    public var description: String {
        let value = threshold == threshold.rounded() && abs(threshold) < 1e15 ? String(Int(threshold)) : "\(threshold)"
        if isBoolean { return "\(metric)\(comparison.rawValue)\(booleanSpelling ?? (threshold == 1 ? "true" : "false"))" }
        return "\(metric)\(comparison.rawValue)\(value)"
    }
}

/// The outcome of one requirement on one report.
public struct RequirementOutcome: Sendable, Equatable {
    public internal(set) var requirement: Requirement
    public internal(set) var actual: Double?
    public internal(set) var passed: Bool

    /// "recall_at_10_cross = 0.85, required >= 0.9 (short by 0.05)".
    public var message: String {
        guard let actual else { return "\(requirement.metric) is not available (NaN or missing): required \(requirement.comparison.rawValue) \(ReportFormatting.number(requirement.threshold))" }
        if requirement.isBoolean {
            let word = { (v: Double) in v == 1 ? "yes" : "no" }
            return "\(requirement.metric) = \(word(actual)), required \(requirement.comparison.rawValue) \(word(requirement.threshold))"
        }
        var m = "\(requirement.metric) = \(ReportFormatting.number(actual)), required \(requirement.comparison.rawValue) \(ReportFormatting.number(requirement.threshold))"
        if !passed {
            let gap = abs(actual - requirement.threshold)
            m += gap > 0 ? " (off by \(ReportFormatting.number(gap)))" : ""
        }
        return m
    }
}

extension Report {
    /// Evaluates requirements on this report's metrics. An unknown metric key is a usage error
    /// (exit 2, listing the available keys) — a typo must not pass or fail silently.
    public func evaluate(_ requirements: [Requirement]) throws -> [RequirementOutcome] {
        try requirements.map { r in
            guard let value = metric(r.metric) else {
                throw EmbdiagError.usage("\(Setting.require) \(r): no metric '\(r.metric)' in the \(analyzer) report\(Suggestions.didYouMean(r.metric, among: metrics.map(\.key))); available: \(metrics.map(\.key).joined(separator: ", "))")
            }
            // A metric the analysis left null (not computable here: no window tested, a test that
            // cannot reach α) fails every gate on it, whatever its type would have been.
            if case .null = value { return RequirementOutcome(requirement: r, actual: nil, passed: false) }
            // Types must agree: a yes/no metric against a number, or a number against yes/no, is a
            // mistake in the gate (exit 2), not a failed or passed check.
            if case .bool = value {
                guard r.isBoolean || ((r.threshold == 0 || r.threshold == 1) && (r.comparison == .equal || r.comparison == .notEqual)) else {
                    throw EmbdiagError.usage("\(Setting.require) \(r): '\(r.metric)' is yes/no; compare it with == yes, == no (or true/false)")
                }
            } else if case .string = value {
                throw EmbdiagError.usage("\(Setting.require) \(r): '\(r.metric)' is a text (a name), not a number or yes/no, so it cannot be gated")
            } else if r.isBoolean {
                throw EmbdiagError.usage("\(Setting.require) \(r): '\(r.metric)' is a number, not yes/no; compare it with a number, e.g. \(r.metric)>=0.5")
            }
            try r.refuseIfCannotFail()
            // A p-value with a floor the data set (`<key>_floor`: 1/(B + 1) permutations, 1/N of an
            // exact enumeration over N partitions).
            if let floor = metric(r.metric + "_floor")?.number, floor > 0 {
                try r.refuseIfDecided(byPValueFloor: floor, because: "here (\(r.metric)_floor, the smallest p-value the test can give)",
                                      remedy: "raise the permutations")
            }
            guard let x = value.number, x.isFinite else { return RequirementOutcome(requirement: r, actual: nil, passed: false) }
            return RequirementOutcome(requirement: r, actual: x, passed: r.comparison.holds(x, r.threshold))
        }
    }

    /// This report with what a front end did around the analysis appended after the analysis's
    /// own parameters, notes and tables (side files written, options naming them, rows a reader
    /// dropped), and the wall time when the analysis did not stamp one. The analysis's own content
    /// is never edited.
    public func adding(parameters: [ReportParameter] = [], notes: [String] = [], tables: [ReportTable] = [],
                       elapsedSeconds: Double? = nil) -> Report {
        var r = self
        r.parameters += parameters
        r.notes += notes
        r.tables += tables
        if let elapsedSeconds { r.elapsedSeconds = elapsedSeconds }
        return r
    }

    /// Adds the `gates` table and the `gates_passed` metric.
    public mutating func record(_ outcomes: [RequirementOutcome]) {
        guard !outcomes.isEmpty else { return }
        metrics.append(ReportMetric("gates_passed", "all requirements met", .bool(outcomes.allSatisfy(\.passed))))
        tables.append(ReportTable(
            name: "gates", title: "Requirements", columns: ["requirement", "actual", "result"],
            rows: outcomes.map { [.string($0.requirement.description), $0.actual.map { ReportValue($0) } ?? .null, .string($0.passed ? "pass" : "FAIL")] }))
    }
}
