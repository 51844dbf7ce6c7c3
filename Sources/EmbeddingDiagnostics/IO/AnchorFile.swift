import Foundation

/// Anchor files of `embdiag relrep` (--anchor-rows, --anchor-labels).
public enum AnchorFile {
    /// Reads anchor rows from a file: one 0-based row index per line (commas and blanks also separate;
    /// `#` starts a comment).
    public static func readRows(path: String, rowCount: Int) throws -> [Int] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw EmbdiagError.io(path, "cannot read the anchor-rows file")
        }
        var rows: [Int] = []
        for (lineNumber, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            for token in content.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" || $0 == "\r" }) {
                guard let r = Int(token) else {
                    throw EmbdiagError.malformed(path, "line \(lineNumber + 1): '\(token)' is not a row index")
                }
                guard r >= 0, r < rowCount else {
                    throw EmbdiagError.invalid(path, "line \(lineNumber + 1): row \(r) is outside 0..<\(rowCount)")
                }
                rows.append(r)
            }
        }
        return try validatedAnchors(rows, path: path)
    }

    /// Reads anchor labels: one per line, blank lines skipped; at least one.
    public static func readLabels(path: String) throws -> [String] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw EmbdiagError.io(path, "cannot read the anchor-labels file")
        }
        let labels = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !labels.isEmpty else { throw EmbdiagError.invalid(path, "no anchors listed") }
        return labels
    }

    private static func validatedAnchors(_ rows: [Int], path: String) throws -> [Int] {
        guard !rows.isEmpty else { throw EmbdiagError.invalid(path, "no anchors listed") }
        var seen = Set<Int>()
        for r in rows where !seen.insert(r).inserted {
            throw EmbdiagError.invalid(path, "row \(r) is listed twice as an anchor")
        }
        return rows
    }
}
