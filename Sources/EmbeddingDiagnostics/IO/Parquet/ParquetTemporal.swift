import Foundation

/// A Parquet DATE or TIMESTAMP column (logical type, or the legacy converted type), so that its
/// integers are written out as dates and times rather than day or microsecond counts.
enum ParquetTemporal: Equatable {
    /// Days since 1970-01-01 (INT32).
    case date
    /// A count of seconds·10⁻ᵏ since the epoch (INT64): k = 3, 6 or 9.
    case timestamp(perSecond: Int64)

    /// From the schema element's logical type (field 10: DATE = 6, TIMESTAMP = 8 with its unit
    /// union MILLIS = 1, MICROS = 2, NANOS = 3) or converted type (DATE = 6,
    /// TIMESTAMP_MILLIS = 9, TIMESTAMP_MICROS = 10).
    init?(logical: [Int16: ThriftValue]?, converted: Int64?, physical: ParquetMetadata.Physical) {
        if logical?[6] != nil || (logical == nil && converted == 6), physical == .int32 {
            self = .date
            return
        }
        if let t = logical?[8]?.fields, physical == .int64 {
            let unit = t[2]?.fields
            if unit?[1] != nil { self = .timestamp(perSecond: 1000); return }
            if unit?[2] != nil { self = .timestamp(perSecond: 1_000_000); return }
            if unit?[3] != nil { self = .timestamp(perSecond: 1_000_000_000); return }
            return nil
        }
        guard logical == nil, physical == .int64 else { return nil }
        switch converted {
        case 9: self = .timestamp(perSecond: 1000)
        case 10: self = .timestamp(perSecond: 1_000_000)
        default: return nil
        }
    }

    /// `YYYY-MM-DD` for a date; `YYYY-MM-DDTHH:MM:SS[.fraction]Z` for a timestamp (exact: the
    /// fraction keeps every digit of the unit).
    func iso8601(_ value: Int64) -> String {
        switch self {
        case .date:
            let (y, m, d) = WindowTimestamp.civil(fromDays: Int(value))
            return String(format: "%04d-%02d-%02d", y, m, d)
        case .timestamp(let perSecond):
            var seconds = value / perSecond, fraction = value % perSecond
            if fraction < 0 { seconds -= 1; fraction += perSecond }
            let days = Int((Double(seconds) / 86_400).rounded(.down))
            let rest = Int(seconds) - days * 86_400
            let (y, m, d) = WindowTimestamp.civil(fromDays: days)
            var s = String(format: "%04d-%02d-%02dT%02d:%02d:%02d", y, m, d, rest / 3600, (rest % 3600) / 60, rest % 60)
            if fraction != 0 {
                let digits = perSecond == 1000 ? 3 : perSecond == 1_000_000 ? 6 : 9
                let text = String(fraction)
                s += "." + String(repeating: "0", count: digits - text.count) + text
            }
            return s + "Z"
        }
    }
}
