import Foundation

/// The kinds of NEW → OLD map `--fit` names, one case per family. A family owns its spelling
/// (`rawValue` and `aliases`), the syntax of its optional parameter (`family:PARAM`) and how that
/// parameter becomes a `MappingFit`. Adding a family is one case here, one arm in
/// `fit(parameter:text:)` and one case in `MappingFit`. Guide: Guides/Compatibility.md.
public enum MappingFamily: String, CaseIterable, Sendable {
    case none
    case procrustes
    case procrustesScaled = "procrustes-scaled"
    case rotation
    case linear
    case linearNoIntercept = "linear-no-intercept"
    case ridge
    case lowRank = "low-rank"
    case mlp
    case auto
    case unpaired

    /// Drift-Adapter's default rank of the low-rank affine map.
    public static let defaultLowRank = 64
    /// Hidden width of the residual MLP when `mlp` is given without one.
    public static let defaultHiddenWidth = 256
    /// Largest hidden width / rank accepted (parameters and memory grow linearly with it).
    public static let maximumWidth = 16_384

    /// The families `--fit auto` fits and compares (closed-form fits first).
    public static let autoCandidates: [MappingFit] = [
        .rotation, .procrustes, .procrustesScaled, .ridgeAuto,
        .lowRank(defaultLowRank), .mlp(defaultHiddenWidth),
    ]

    /// Other spellings accepted for the family (whole `--fit` values, lower case).
    public var aliases: [String] {
        switch self {
        case .procrustesScaled: return ["procrustes:scaled"]
        case .rotation: return ["procrustes-uncentered", "procrustes-uncentred"]
        case .linear: return ["lstsq", "least-squares"]
        case .linearNoIntercept: return ["lstsq-no-intercept"]
        case .ridge: return ["ridge-auto", "ridgecv"]
        case .lowRank: return ["lowrank", "low-rank-affine"]
        case .mlp: return ["residual-mlp"]
        case .unpaired: return ["without-pairs"]
        default: return []
        }
    }

    /// How the family is written in `--fit` (for the help text and error messages).
    public var syntax: String {
        switch self {
        case .ridge: return "ridge, ridge:λ (λ > 0), ridge:auto"
        case .lowRank: return "low-rank[:R] (R ≥ 1, default \(Self.defaultLowRank))"
        case .mlp: return "mlp[:H] (H ≥ 1, default \(Self.defaultHiddenWidth))"
        default: return rawValue
        }
    }

    /// Trained by gradient descent with a validation split, not solved in closed form.
    public var isAdapter: Bool { self == .lowRank || self == .mlp }

    /// Parses a `--fit` value: a family name or alias, optionally `:PARAMETER`.
    public static func parse(_ text: String) throws -> MappingFit {
        let s = text.trimmingCharacters(in: .whitespaces).lowercased()
        for family in allCases where family.rawValue == s || family.aliases.contains(s) {
            if family == .ridge && s != "ridge" { return .ridgeAuto }  // "ridge-auto", "ridgecv"
            return try family.fit(parameter: nil, text: text)
        }
        if let colon = s.firstIndex(of: ":") {
            let head = String(s[..<colon]), parameter = String(s[s.index(after: colon)...])
            if let family = allCases.first(where: { $0.rawValue == head || $0.aliases.contains(head) }) {
                return try family.fit(parameter: parameter, text: text)
            }
        }
        throw EmbdiagError.usage("\(Setting.fit) '\(text)': unknown mapping; use \(allCases.map(\.syntax).joined(separator: ", "))")
    }

    /// The fit this family makes of its parameter (nil = none given).
    func fit(parameter: String?, text: String) throws -> MappingFit {
        func refuse(_ why: String) -> EmbdiagError { .usage("\(Setting.fit) '\(text)': \(why)") }
        /// A positive integer width (rank, hidden units) up to `maximumWidth`.
        func width(_ p: String, _ what: String) throws -> Int {
            guard let v = Int(p) else { throw refuse("\(what) must be a whole number ≥ 1 (got '\(p)')") }
            guard v >= 1 else { throw refuse("\(what) must be ≥ 1 (got \(v))") }
            guard v <= Self.maximumWidth else { throw refuse("\(what) \(v) is above the largest accepted, \(Self.maximumWidth)") }
            return v
        }
        switch self {
        case .ridge:
            guard let p = parameter else { return .ridge(MappingFit.defaultRidgeLambda) }
            if p == "auto" { return .ridgeAuto }
            guard let l = DecimalNumber.parse(p), l > 0 else { throw refuse("λ must be a finite decimal number > 0 or auto (got '\(p)')") }
            return .ridge(l)
        case .lowRank:
            return .lowRank(try parameter.map { try width($0, "the rank R") } ?? Self.defaultLowRank)
        case .mlp:
            return .mlp(try parameter.map { try width($0, "the hidden width H") } ?? Self.defaultHiddenWidth)
        default:
            guard parameter == nil else { throw refuse("\(rawValue) takes no parameter") }
            switch self {
            case .none: return .none
            case .procrustes: return .procrustes
            case .procrustesScaled: return .procrustesScaled
            case .rotation: return .rotation
            case .linear: return .linear
            case .linearNoIntercept: return .linearNoIntercept
            case .auto: return .auto
            case .unpaired: return .unpaired
            case .ridge, .lowRank, .mlp: fatalError("handled above")
            }
        }
    }
}
