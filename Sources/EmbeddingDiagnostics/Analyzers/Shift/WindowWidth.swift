import Foundation

/// The width of a time window (`--window 1d`, `7d`, `12h`, `30m`, `90s`, `2w`): a positive whole
/// number and one unit (s, m, h, d, w). Windows are aligned to the Unix epoch (1970-01-01T00:00Z,
/// UTC), so `1d` windows start at UTC midnight and the same row always falls into the same window
/// whatever else is in the batch. Guide: Guides/Shift.md ("Windows").
public struct WindowWidth: Sendable, Equatable, CustomStringConvertible {
    /// The width in seconds (at least 1, at most 100 years).
    public let seconds: Int64
    /// As written (`7d`).
    public let text: String

    static let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800]
    static let maximumSeconds: Int64 = 100 * 366 * 86_400

    /// - Complexity: O(length of `text`).
    public init(parsing raw: String) throws {
        let text = raw.trimmingCharacters(in: .whitespaces)
        let usage = "\(Setting.window) '\(raw)' is not a window width: write a whole number and a unit, e.g. 1d, 7d, 12h, 30m, 90s, 2w"
        guard let unitCharacter = text.last, let unit = Self.units[Character(unitCharacter.lowercased())] else { throw EmbdiagError.usage(usage) }
        let digits = text.dropLast()
        if digits.hasPrefix("-"), digits.count > 1, digits.dropFirst().utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            throw EmbdiagError.usage("\(Setting.window) '\(raw)': a window must be at least 1 \(unitCharacter) long")
        }
        guard !digits.isEmpty, digits.utf8.count <= 12, digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let count = Int64(digits) else {
            throw EmbdiagError.usage(usage)
        }
        guard count >= 1 else { throw EmbdiagError.usage("\(Setting.window) '\(raw)': a window must be at least 1 \(unitCharacter) long") }
        let (total, overflow) = count.multipliedReportingOverflow(by: unit)
        guard !overflow, total <= Self.maximumSeconds else {
            throw EmbdiagError.usage("\(Setting.window) '\(raw)' is longer than 100 years")
        }
        seconds = total
        self.text = text
    }

    public var description: String { text }

    /// Start of the window holding time `t` (seconds since the epoch): ⌊t / width⌋ · width.
    public func start(of t: Double) -> Double {
        (t / Double(seconds)).rounded(.down) * Double(seconds)
    }
}
