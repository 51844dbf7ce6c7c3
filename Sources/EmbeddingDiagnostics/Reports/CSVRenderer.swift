import Foundation

/// One CSV file per table (RFC 4180 quoting), full precision.
public enum CSVRenderer {
    public static func render(_ table: ReportTable) -> String {
        var out = table.columns.map(field).joined(separator: ",") + "\n"
        for r in table.rows {
            out += r.map { field(ReportFormatting.plain($0)) }.joined(separator: ",") + "\n"
        }
        return out
    }

    static func field(_ s: String) -> String {
        if s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return s
    }
}
