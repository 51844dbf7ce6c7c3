import Foundation

/// Every failure embdiag reports to a user: one line, naming the file (when there is one) and
/// the problem. The CLI prints `embdiag: <description>` on stderr and exits with `exitCode`.
public struct EmbdiagError: Error, CustomStringConvertible, Equatable, Sendable {
    public enum Kind: String, Sendable {
        /// The file cannot be read as an embedding matrix (truncated, malformed, wrong dtype...).
        case malformedInput
        /// The values are unusable for the analysis (NaN/Inf, zero rows, too few rows...).
        case invalidValues
        /// Inputs that must agree do not (row counts, dimensions, labels).
        case mismatch
        /// Words or labels the analysis needs are not in the vocabulary.
        case missingWords
        /// Wrong options or arguments.
        case usage
        /// Reading or writing a file failed at the OS level.
        case io
    }

    public let kind: Kind
    /// The file the problem is about, if any.
    public let path: String?
    public let message: String

    public init(_ kind: Kind, path: String? = nil, _ message: String) {
        self.kind = kind
        self.path = path
        self.message = message
    }

    /// Usage and input errors exit 2 (gates that fail exit 1, elsewhere).
    public var exitCode: Int32 { 2 }

    public var description: String {
        let oneLine = Self.escapingControlCharacters(message)
        if let path { return "\(Self.escapingControlCharacters(path)): \(oneLine)" }
        return oneLine
    }

    /// One printable line: newlines become spaces, other control characters (a corrupt header's
    /// bytes, an escape sequence in a file name) become `\xNN`, so a message cannot rewrite the
    /// terminal or split into several lines.
    public static func escapingControlCharacters(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for u in text.unicodeScalars {
            if u == "\n" || u == "\r" { out.append(" ") } else if u.value < 0x20 || u.value == 0x7F || (0x80..<0xA0).contains(u.value) {
                out += String(format: "\\x%02X", u.value)
            } else { out.unicodeScalars.append(u) }
        }
        return out
    }

    public static func malformed(_ path: String?, _ message: String) -> EmbdiagError { .init(.malformedInput, path: path, message) }
    public static func invalid(_ path: String?, _ message: String) -> EmbdiagError { .init(.invalidValues, path: path, message) }
    public static func mismatch(_ path: String?, _ message: String) -> EmbdiagError { .init(.mismatch, path: path, message) }
    public static func usage(_ message: String) -> EmbdiagError { .init(.usage, path: nil, message) }
    public static func io(_ path: String?, _ message: String) -> EmbdiagError { .init(.io, path: path, message) }
}
