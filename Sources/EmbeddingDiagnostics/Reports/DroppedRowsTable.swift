import Foundation

extension Array where Element == DroppedRow {
    /// The report table listing dropped rows.
    public func reportTable(name: String = "dropped_rows", input: String) -> ReportTable {
        ReportTable(name: name, title: "Rows dropped from \(PostgresLocation.printable(input)) (--on-invalid drop)",
                    columns: ["row", "label", "reason"],
                    rows: map { [.int($0.row), $0.label.map { .string($0) } ?? .null, .string($0.reason)] })
    }
}
