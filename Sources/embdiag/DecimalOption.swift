import ArgumentParser
import EmbeddingDiagnostics

extension DecimalNumber {
    /// The `transform:` of every numeric option that takes a fraction: a finite decimal number
    /// (`DecimalNumber.parse`), so `0x10`, `inf` and `nan` are refused like any other non-number.
    /// Spaces around the number are refused, as the integer options (Swift's `Int(_:)`) refuse
    /// them, so every numeric option reads one grammar.
    static func option(_ text: String) throws -> Double {
        guard text.trimmingCharacters(in: .whitespacesAndNewlines) == text else {
            throw ValidationError("'\(text)' has spaces around the number; write it without them")
        }
        guard let v = parse(text) else {
            throw ValidationError("'\(text)' is not a decimal number (write e.g. 0.5, 16 or 1e-3; hexadecimal, inf and nan are not accepted)")
        }
        return v
    }
}
