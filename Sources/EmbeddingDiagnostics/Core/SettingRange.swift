/// Range checks of configuration values, with one message shape for every analysis and front
/// end: the setting, its valid range and the value given ("--queries must be an integer ≥ 0
/// (0 = all rows; got -5)"). A value out of range is a usage error (exit 2), never a silent cap
/// or a fallback to a default. Each check takes a `Setting` (named as the front end names it) or
/// the name itself, for options that exist only in a front end.
public enum SettingRange {
    /// `value` in low…high (high nil = no upper bound). `meaning` explains special values ("0 = all").
    ///
    /// - Complexity: O(1).
    public static func integer(_ value: Int, _ name: String, atLeast low: Int, atMost high: Int? = nil, meaning: String? = nil) throws {
        guard value < low || (high.map { value > $0 } ?? false) else { return }
        let range = high.map { "in \(low)…\($0)" } ?? "≥ \(low)"
        throw EmbdiagError.usage("\(name) must be an integer \(range) (\(meaning.map { "\($0); " } ?? "")got \(value))")
    }

    public static func integer(_ value: Int, _ setting: Setting, atLeast low: Int, atMost high: Int? = nil, meaning: String? = nil) throws {
        try integer(value, "\(setting)", atLeast: low, atMost: high, meaning: meaning)
    }

    /// A finite `value` in the interval given by `above`/`atLeast` and `below`/`atMost` (open or
    /// closed ends; none = unbounded on that side).
    ///
    /// - Complexity: O(1).
    public static func number(_ value: Double, _ name: String, above low: Double? = nil, atLeast lowClosed: Double? = nil,
                              below high: Double? = nil, atMost highClosed: Double? = nil) throws {
        var ok = value.isFinite
        if let l = low { ok = ok && value > l }
        if let l = lowClosed { ok = ok && value >= l }
        if let h = high { ok = ok && value < h }
        if let h = highClosed { ok = ok && value <= h }
        guard !ok else { return }
        func show(_ x: Double) -> String { x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(x) }
        let lower = low.map { "(\(show($0))" } ?? lowClosed.map { "[\(show($0))" } ?? "(−∞"
        let upper = high.map { "\(show($0)))" } ?? highClosed.map { "\(show($0))]" } ?? "∞)"
        throw EmbdiagError.usage("\(name) must be a finite number in \(lower), \(upper) (got \(value))")
    }

    public static func number(_ value: Double, _ setting: Setting, above low: Double? = nil, atLeast lowClosed: Double? = nil,
                              below high: Double? = nil, atMost highClosed: Double? = nil) throws {
        try number(value, "\(setting)", above: low, atLeast: lowClosed, below: high, atMost: highClosed)
    }

    /// A list of integers ≥ `low`, non-empty, each value once.
    ///
    /// - Complexity: O(n).
    public static func integers(_ values: [Int], _ name: String, atLeast low: Int) throws {
        guard !values.isEmpty else { throw EmbdiagError.usage("\(name) needs at least one value") }
        for v in values { try integer(v, name, atLeast: low) }
        var seen = Set<Int>()
        for v in values where !seen.insert(v).inserted { throw EmbdiagError.usage("\(name) lists \(v) twice") }
    }

    public static func integers(_ values: [Int], _ setting: Setting, atLeast low: Int) throws {
        try integers(values, "\(setting)", atLeast: low)
    }
}
