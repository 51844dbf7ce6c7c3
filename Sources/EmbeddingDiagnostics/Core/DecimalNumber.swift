import Foundation

/// The one grammar of numbers embdiag reads from people (options, lists, gates, budgets):
/// decimal, `[+-]digits[.digits][e[+-]digits]` or `[+-].digits…`, and finite. Swift's
/// `Double(String)` also reads C99 hexadecimal (`0x10` = 16, `0x1p3`), `inf` and `nan`, which no
/// other tool's numeric option takes: `--bandwidth 0x10` must not become σ = 16.
public enum DecimalNumber {
    /// The value of `text` (surrounding spaces ignored), or nil when it is not a finite decimal.
    /// - Complexity: O(length).
    public static func parse<S: StringProtocol>(_ text: S) -> Double? {
        let t = text.trimmingCharacters(in: .whitespaces)
        var digits = 0, seenPoint = false, seenExponent = false, exponentDigits = 0
        var previous: Unicode.Scalar?
        for c in t.unicodeScalars {
            defer { previous = c }
            switch c {
            case "0"..."9": if seenExponent { exponentDigits += 1 } else { digits += 1 }
            case "+", "-":
                // A sign first, or right after the exponent's e.
                guard previous == nil || previous == "e" || previous == "E" else { return nil }
            case ".": guard !seenPoint, !seenExponent else { return nil }; seenPoint = true
            case "e", "E": guard !seenExponent, digits > 0 else { return nil }; seenExponent = true
            default: return nil
            }
        }
        guard digits > 0, !seenExponent || exponentDigits > 0, let v = Double(t), v.isFinite else { return nil }
        return v
    }
}
