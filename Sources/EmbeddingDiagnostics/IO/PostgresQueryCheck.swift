import Foundation

/// What `--query` may be: exactly one `SELECT` (or `WITH … SELECT`, `VALUES`, `TABLE`)
/// statement. Checked here for a clear message before anything reaches the server; the server
/// enforces the same independently (the extended query protocol refuses several statements,
/// `DECLARE … CURSOR FOR` takes only a query, and the session is read-only), so a query this
/// scanner misreads is still refused there.
enum PostgresQueryCheck {
    /// Statement keywords a cursor can read from.
    static let queryKeywords: Set<String> = ["select", "with", "values", "table"]

    /// The statement to run: `sql` up to a final `;` (with only spaces and comments after it).
    /// Throws a usage error (exit 2) for an empty query, a second statement, or a first keyword
    /// that does not start a query (`DROP`, `COPY`, `SET`, `COMMIT`, …).
    /// - Complexity: O(length of the query).
    static func singleQuery(_ sql: String, source: String) throws -> String {
        let scalars = Array(sql.unicodeScalars)
        var firstWord: String?
        var statementEnd: Int?
        var i = 0
        func isIdentifier(_ c: Unicode.Scalar) -> Bool { c == "_" || c == "$" || c.properties.isAlphabetic || ("0"..."9").contains(c) }
        while i < scalars.count {
            let c = scalars[i]
            let next: Unicode.Scalar? = i + 1 < scalars.count ? scalars[i + 1] : nil
            if c == "-" && next == "-" {
                while i < scalars.count && scalars[i] != "\n" { i += 1 }
                continue
            }
            if c == "/" && next == "*" {
                var depth = 0
                while i < scalars.count {
                    if scalars[i] == "/" && i + 1 < scalars.count && scalars[i + 1] == "*" { depth += 1; i += 2; continue }
                    if scalars[i] == "*" && i + 1 < scalars.count && scalars[i + 1] == "/" { depth -= 1; i += 2; if depth == 0 { break }; continue }
                    i += 1
                }
                continue
            }
            if c.properties.isWhitespace { i += 1; continue }
            if let end = statementEnd {
                // Something other than spaces and comments after the first top-level ';'.
                if c == ";" { i += 1; continue }
                throw EmbdiagError.usage("\(source): \(Setting.query) holds more than one statement (text follows the ';' at character \(end + 1)); embdiag runs exactly one SELECT")
            }
            if c == ";" { statementEnd = i; i += 1; continue }
            if c == "'" {
                // E'…' strings take backslash escapes; '' is a quote in every string.
                let escapes = i > 0 && (scalars[i - 1] == "e" || scalars[i - 1] == "E") && (i < 2 || !isIdentifier(scalars[i - 2]))
                i += 1
                while i < scalars.count {
                    if escapes && scalars[i] == "\\" { i += 2; continue }
                    if scalars[i] == "'" {
                        if i + 1 < scalars.count && scalars[i + 1] == "'" { i += 2; continue }
                        break
                    }
                    i += 1
                }
                i += 1
                if firstWord == nil { firstWord = "'" }
                continue
            }
            if c == "\"" {
                i += 1
                while i < scalars.count {
                    if scalars[i] == "\"" {
                        if i + 1 < scalars.count && scalars[i + 1] == "\"" { i += 2; continue }
                        break
                    }
                    i += 1
                }
                i += 1
                if firstWord == nil { firstWord = "\"" }
                continue
            }
            if c == "$" && (i == 0 || !isIdentifier(scalars[i - 1])) {
                // $tag$ … $tag$ (dollar quoting); $1 is a parameter.
                var j = i + 1
                while j < scalars.count && scalars[j] != "$" && isIdentifier(scalars[j]) && !(j == i + 1 && ("0"..."9").contains(scalars[j])) { j += 1 }
                if j < scalars.count && scalars[j] == "$" {
                    let tag = Array(scalars[i...j])
                    var k = j + 1
                    while k + tag.count <= scalars.count && Array(scalars[k..<(k + tag.count)]) != tag { k += 1 }
                    i = min(k + tag.count, scalars.count)
                    if firstWord == nil { firstWord = "$" }
                    continue
                }
            }
            if isIdentifier(c) {
                var j = i
                while j < scalars.count && isIdentifier(scalars[j]) { j += 1 }
                if firstWord == nil { firstWord = String(String.UnicodeScalarView(scalars[i..<j])).lowercased() }
                i = j
                continue
            }
            if c == "(" && firstWord == nil { i += 1; continue }
            if firstWord == nil { firstWord = String(c) }
            i += 1
        }
        guard let firstWord else { throw EmbdiagError.usage("\(source): \(Setting.query) is empty") }
        guard queryKeywords.contains(firstWord) else {
            throw EmbdiagError.usage("\(source): \(Setting.query) must be one SELECT statement (or WITH … SELECT, VALUES, TABLE); it starts with '\(firstWord.prefix(40))'")
        }
        let statement = statementEnd.map { String(String.UnicodeScalarView(scalars[..<$0])) } ?? sql
        return statement.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
