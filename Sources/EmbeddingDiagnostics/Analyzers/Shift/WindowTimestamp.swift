import Foundation

/// Dates and timestamps of window keys, in the ISO 8601 forms that CSV, JSONL, Parquet (its DATE
/// and TIMESTAMP columns are written out this way by the reader) and databases print:
/// `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM`, `…:SS`, `…:SS.fff` (`T` or one space between date and time),
/// optionally followed by `Z` or an offset `±HH:MM` / `±HHMM`; without one the time is read as
/// UTC. Calendar checks are strict (month 1–12, the month's days with leap years, hours 0–23,
/// minutes and seconds 0–59): `2024-02-30` is refused, not rolled over into March.
public enum WindowTimestamp {
    /// Seconds since 1970-01-01T00:00Z, or nil when `text` is not one of the forms above.
    ///
    /// - Complexity: O(length of `text`).
    public static func parse(_ text: String) -> Double? {
        let s = Array(text.trimmingCharacters(in: .whitespaces).utf8)
        guard s.count >= 10, s.count <= 40 else { return nil }
        var at = 0
        func number(_ width: Int) -> Int? {
            guard at + width <= s.count else { return nil }
            var v = 0
            for k in 0..<width {
                let c = s[at + k]
                guard c >= 0x30 && c <= 0x39 else { return nil }
                v = v * 10 + Int(c - 0x30)
            }
            at += width
            return v
        }
        func expect(_ c: UInt8) -> Bool {
            guard at < s.count, s[at] == c else { return false }
            at += 1
            return true
        }
        guard let year = number(4), expect(UInt8(ascii: "-")), let month = number(2), expect(UInt8(ascii: "-")), let day = number(2) else { return nil }
        guard year >= 1, (1...12).contains(month), day >= 1, day <= daysIn(month: month, year: year) else { return nil }
        var seconds = Double(daysFromCivil(year: year, month: month, day: day)) * 86_400
        if at == s.count { return seconds }
        guard s[at] == UInt8(ascii: "T") || s[at] == UInt8(ascii: "t") || s[at] == UInt8(ascii: " ") else { return nil }
        at += 1
        guard let hour = number(2), expect(UInt8(ascii: ":")), let minute = number(2), hour <= 23, minute <= 59 else { return nil }
        seconds += Double(hour * 3600 + minute * 60)
        if expect(UInt8(ascii: ":")) {
            guard let second = number(2), second <= 59 else { return nil }
            seconds += Double(second)
            if expect(UInt8(ascii: ".")) {
                var fraction = 0.0, scale = 0.1, digits = 0
                while at < s.count, s[at] >= 0x30 && s[at] <= 0x39 {
                    fraction += Double(s[at] - 0x30) * scale
                    scale /= 10
                    digits += 1
                    at += 1
                }
                guard digits >= 1 && digits <= 9 else { return nil }
                seconds += fraction
            }
        }
        if at == s.count { return seconds }
        if s[at] == UInt8(ascii: "Z") || s[at] == UInt8(ascii: "z") { return at + 1 == s.count ? seconds : nil }
        guard s[at] == UInt8(ascii: "+") || s[at] == UInt8(ascii: "-") else { return nil }
        let sign: Double = s[at] == UInt8(ascii: "+") ? 1 : -1
        at += 1
        guard let offsetHours = number(2), offsetHours <= 23 else { return nil }
        _ = expect(UInt8(ascii: ":"))
        guard let offsetMinutes = number(2), offsetMinutes <= 59, at == s.count else { return nil }
        // Local time = UTC + offset.
        return seconds - sign * Double(offsetHours * 3600 + offsetMinutes * 60)
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
    static func daysFromCivil(year y0: Int, month m: Int, day d: Int) -> Int {
        let y = m <= 2 ? y0 - 1 : y0
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// (year, month, day) of a day count since 1970-01-01 (civil_from_days).
    static func civil(fromDays z0: Int) -> (year: Int, month: Int, day: Int) {
        let z = z0 + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp + (mp < 10 ? 3 : -9)
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }

    /// `YYYY-MM-DD` when `t` is a UTC midnight and `dateOnly`, else `YYYY-MM-DDTHH:MM[:SS]Z`.
    ///
    /// - Complexity: O(1).
    public static func format(_ t: Double, dateOnly: Bool) -> String {
        let whole = Int(t.rounded(.down))
        let days = Int((Double(whole) / 86_400).rounded(.down))
        let rest = whole - days * 86_400
        let (y, m, d) = civil(fromDays: days)
        let date = String(format: "%04d-%02d-%02d", y, m, d)
        if dateOnly && rest == 0 { return date }
        let hh = rest / 3600, mm = (rest % 3600) / 60, ss = rest % 60
        return ss == 0 ? date + String(format: "T%02d:%02dZ", hh, mm) : date + String(format: "T%02d:%02d:%02dZ", hh, mm, ss)
    }
}
