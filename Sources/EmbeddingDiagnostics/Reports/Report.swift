import Foundation

/// embdiag's version, written into every report.
public let embdiagVersion = "0.1.0"

/// A value in a report: metrics, table cells, parameters.
public enum ReportValue: Sendable, Equatable, Codable {
    case int(Int)
    case double(Double)
    case string(String)
    case bool(Bool)
    case null

    public init(_ v: Int) { self = .int(v) }
    /// NaN is null (JSON has no NaN); −0 is reported as 0 (a sum of exact zeros, not a sign).
    public init(_ v: Double) { self = v.isFinite ? .double(v == 0 ? 0 : v) : (v.isNaN ? .null : .double(v)) }
    public init(_ v: Float) { self.init(Double(v)) }
    public init(_ v: String) { self = .string(v) }
    public init(_ v: Bool) { self = .bool(v) }
    public init<T>(_ v: T?) where T: ReportValueConvertible { self = v?.reportValue ?? .null }

    /// The numeric value, if any (gates compare these).
    public var number: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }
}

public protocol ReportValueConvertible { var reportValue: ReportValue { get } }
extension Int: ReportValueConvertible { public var reportValue: ReportValue { .int(self) } }
extension Double: ReportValueConvertible { public var reportValue: ReportValue { ReportValue(self) } }
extension Float: ReportValueConvertible { public var reportValue: ReportValue { ReportValue(Double(self)) } }
extension String: ReportValueConvertible { public var reportValue: ReportValue { .string(self) } }
extension Bool: ReportValueConvertible { public var reportValue: ReportValue { .bool(self) } }
extension UInt64: ReportValueConvertible { public var reportValue: ReportValue { .int(Int(truncatingIfNeeded: self)) } }
extension ReportValue: ReportValueConvertible { public var reportValue: ReportValue { self } }

extension ReportValue: ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByBooleanLiteral {
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self.init(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

/// A named scalar result. `key` is stable snake_case (the JSON key, documented in the guide);
/// `label` is what a person reads in the text report.
public struct ReportMetric: Sendable, Equatable {
    public internal(set) var key: String
    public internal(set) var label: String
    public internal(set) var value: ReportValue
    public init(_ key: String, _ label: String, _ value: ReportValue) {
        self.key = key
        self.label = label
        self.value = Self.withinDefinedRange(key, value)
    }

    /// A metric whose range is fixed by its definition (a cosine ≤ 1, a share ≥ 0:
    /// `Requirement.knownRange(of:)`) is reported inside it when floating-point round-off alone
    /// put it outside — by at most 10⁻⁵ of the bound (Float32 dot products of unit vectors reach
    /// 1 + a few 10⁻⁷). Otherwise `mean_cosine` could print 1.0000001 on identical rows while
    /// the gate `mean_cosine<=1` is refused as one that can never fail. A value further out is
    /// kept as computed.
    static func withinDefinedRange(_ key: String, _ value: ReportValue) -> ReportValue {
        guard case .double(let v) = value, v.isFinite, let range = Requirement.knownRange(of: key) else { return value }
        let lower = range.lowerBound, upper = range.upperBound
        if v < lower, lower - v <= 1e-5 * max(1, abs(lower)) { return .double(lower) }
        if v > upper, upper.isFinite, v - upper <= 1e-5 * max(1, abs(upper)) { return .double(upper) }
        return value
    }
}

/// A named parameter the analysis ran with (recorded for reproducibility).
public struct ReportParameter: Sendable, Equatable {
    public internal(set) var key: String
    public internal(set) var value: ReportValue
    public init(_ key: String, _ value: ReportValue) {
        self.key = key
        self.value = value
    }
}

/// A table: columns and rows of values. `name` is snake_case (CSV file `<name>.csv`).
public struct ReportTable: Sendable, Equatable {
    public internal(set) var name: String
    public internal(set) var title: String
    public internal(set) var columns: [String]
    public internal(set) var rows: [[ReportValue]]
    /// How many rows the text report shows (all of them go to CSV). nil = all.
    public internal(set) var textRowLimit: Int?
    /// Large per-row tables are left out of JSON unless `--json-tables all`.
    public internal(set) var isPerRow: Bool

    public init(name: String, title: String, columns: [String], rows: [[ReportValue]], textRowLimit: Int? = nil, isPerRow: Bool = false) {
        self.name = name
        self.title = title
        self.columns = columns
        self.rows = rows
        self.textRowLimit = textRowLimit
        self.isPerRow = isPerRow
    }
}

/// A chart, drawn by the HTML renderer as inline SVG.
public struct ReportChart: Sendable, Equatable {
    public enum Kind: String, Sendable { case line, histogram, bar, scatter, map }
    public struct Series: Sendable, Equatable {
        public internal(set) var name: String
        public internal(set) var points: [ChartPoint]
        public init(name: String, points: [ChartPoint]) {
            self.name = name
            self.points = points
        }
    }
    public internal(set) var name: String
    public internal(set) var title: String
    public internal(set) var kind: Kind
    public internal(set) var xLabel: String
    public internal(set) var yLabel: String
    public internal(set) var logY: Bool
    public internal(set) var series: [Series]
    public internal(set) var caption: String
    /// The layers of a `.map` chart (nil for every other kind).
    public internal(set) var map: MapLayers?

    public init(name: String, title: String, kind: Kind, xLabel: String, yLabel: String, logY: Bool = false, series: [Series], caption: String = "") {
        self.name = name
        self.title = title
        self.kind = kind
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.logY = logY
        self.series = series
        self.caption = caption
    }
}

public struct ChartPoint: Sendable, Equatable {
    public internal(set) var x: Double
    public internal(set) var y: Double
    /// Bar/category label (bar charts), optional.
    public internal(set) var label: String?
    public init(x: Double, y: Double, label: String? = nil) {
        self.x = x
        self.y = y
        self.label = label
    }
}

/// The generic report every analyzer's typed result is turned into; renderers are shared.
public struct Report: Sendable {
    public internal(set) var analyzer: String
    public internal(set) var title: String
    public internal(set) var inputs: [Source]
    public internal(set) var parameters: [ReportParameter]
    public internal(set) var metrics: [ReportMetric]
    public internal(set) var tables: [ReportTable]
    public internal(set) var charts: [ReportChart]
    /// Sentences for a person: caveats, what was dropped, how to read a number.
    public internal(set) var notes: [String]
    /// The answer the report leads with (question, one sentence, deciding metrics).
    public internal(set) var verdict: ReportVerdict?
    public internal(set) var elapsedSeconds: Double
    public internal(set) var toolVersion: String

    public init(analyzer: String, title: String, inputs: [Source] = [], parameters: [ReportParameter] = [],
                metrics: [ReportMetric] = [], tables: [ReportTable] = [], charts: [ReportChart] = [],
                notes: [String] = [], elapsedSeconds: Double = 0, verdict: ReportVerdict? = nil) {
        self.analyzer = analyzer
        self.title = title
        self.inputs = inputs
        self.parameters = parameters
        self.metrics = metrics
        self.tables = tables
        self.charts = charts
        self.notes = notes
        self.verdict = verdict
        self.elapsedSeconds = elapsedSeconds
        self.toolVersion = embdiagVersion
    }

    /// The metric with this key, if present.
    public func metric(_ key: String) -> ReportValue? { metrics.first { $0.key == key }?.value }
    public func table(_ name: String) -> ReportTable? { tables.first { $0.name == name } }
}

/// Typed analyzer results conform to this to be rendered.
public protocol ReportConvertible {
    func report() -> Report
}
