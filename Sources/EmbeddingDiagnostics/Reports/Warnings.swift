import Foundation

/// Warnings: notes a person must not miss (a capped parameter, a word list mostly missing, rows
/// that look misaligned). They come first among the notes, start with "Warning: ", and the CLI
/// repeats them on stderr (also with --quiet), so a CI log shows them. Guide: Architecture.md.
extension Report {
    public static let warningPrefix = "Warning: "

    /// Adds a warning before the other notes.
    public mutating func warn(_ text: String) {
        let firstNote = notes.firstIndex { !$0.hasPrefix(Self.warningPrefix) } ?? notes.count
        notes.insert(Self.warningPrefix + text, at: firstNote)
    }

    /// The warnings among the notes, without the prefix.
    public var warnings: [String] {
        notes.filter { $0.hasPrefix(Self.warningPrefix) }.map { String($0.dropFirst(Self.warningPrefix.count)) }
    }
}

/// The one rule for parameters larger than the data allows (Guides/Architecture.md, "Caps"):
/// a value outside its domain whatever the data (0 components, a negative count) is a usage
/// error; a valid value that this data cannot support (k above the candidates, more anchors
/// than rows, more directions than the rank) is capped to the largest supported value, the
/// metric keys keep the asked value, and the report carries a warning naming asked and used.
public struct ParameterCap: Sendable, Equatable {
    public internal(set) var parameter: String
    public internal(set) var asked: Int
    public internal(set) var used: Int
    public internal(set) var reason: String

    public init(parameter: String, asked: Int, used: Int, reason: String) {
        self.parameter = parameter
        self.asked = asked
        self.used = used
        self.reason = reason
    }

    public var message: String { "\(parameter) \(asked) capped to \(used): \(reason)" }
}
