import CLibPQ
import Foundation

/// A `postgresql://` (or `postgres://`) input, or a libpq key=value connection string
/// (`host=db user=me dbname=app`), accepted wherever an embedding file is.
///
/// The URL is libpq's (`postgresql://user:password@host:port/db?sslmode=require`, see the
/// PostgreSQL manual, "Connection URIs"). embdiag adds four parameters of its own, removed before
/// the URL reaches libpq, so that two inputs of one command can read different tables:
/// `query`, `table`, `column` and `label_column` (percent-encoded), which override `--query`,
/// `--table`, `--column` and `--label-column`.
///
/// `redacted` is what reports and error messages show: the URL without the password (neither the
/// `user:password@` form nor a `password=` parameter) and without embdiag's parameters; a
/// key=value string without its `password` (quoted or not).
public struct PostgresLocation: Sendable, Equatable {
    /// The URL handed to libpq (embdiag's parameters removed, password kept).
    public var connectionURL: String
    /// The URL without password and without embdiag's parameters: safe to print and record.
    public var redacted: String
    public var query: String?
    public var table: String?
    public var column: String?
    public var labelColumn: String?

    /// Whether `path` names a PostgreSQL source rather than a file.
    public static func isURL(_ path: String) -> Bool {
        let lower = path.prefix(13).lowercased()
        return lower.hasPrefix("postgresql://") || lower.hasPrefix("postgres://")
    }

    /// Whether `text` is a libpq key=value connection string: libpq parses it, every word is
    /// `keyword=value` and it names a host, database, user, port or service. A file of that name
    /// that exists is a file.
    /// - Complexity: O(length of the text).
    public static func isConnectionString(_ text: String) -> Bool {
        guard !isURL(text), text.contains("="), !FileManager.default.fileExists(atPath: text),
              let options = connectionOptions(text) else { return false }
        return options.map(\.key).contains { ["host", "hostaddr", "dbname", "user", "port", "service"].contains($0) }
    }

    /// Whether `path` is read from PostgreSQL (a URL or a key=value connection string).
    public static func isSource(_ path: String) -> Bool { isURL(path) || isConnectionString(path) }

    /// The keywords and values of a key=value connection string, in libpq's keyword order (nil if
    /// libpq refuses it). libpq's own parse message is not kept: it may quote the password.
    static func connectionOptions(_ text: String) -> [(key: String, value: String)]? {
        var error: UnsafeMutablePointer<CChar>?
        guard let parsed = PQconninfoParse(text, &error) else {
            if let error { PQfreemem(error) }
            return nil
        }
        defer { PQconninfoFree(parsed) }
        var options: [(key: String, value: String)] = []
        var option = parsed
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val { options.append((String(cString: keyword), String(cString: value))) }
            option += 1
        }
        return options
    }

    /// A value quoted as libpq reads it back: bare if it has no space, quote or backslash.
    static func quotedConnectionValue(_ value: String) -> String {
        guard value.isEmpty || value.contains(where: { $0 == " " || $0 == "'" || $0 == "\\" || $0.isWhitespace }) else { return value }
        return "'" + value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
    }

    /// Splits `url` into the libpq URL, the printable form and embdiag's parameters; a key=value
    /// connection string is handed to libpq as it is and printed without its password.
    /// - Complexity: O(length of the URL).
    public init(_ url: String) throws {
        if !Self.isURL(url), url.contains("="), let options = Self.connectionOptions(url) {
            connectionURL = url
            redacted = options.filter { $0.key != "password" }.map { "\($0.key)=\(Self.quotedConnectionValue($0.value))" }.joined(separator: " ")
            return
        }
        guard Self.isURL(url), let schemeEnd = url.range(of: "://") else {
            throw EmbdiagError.usage("not a postgresql:// URL or a key=value connection string (host=… dbname=…)")
        }
        let scheme = String(url[..<schemeEnd.upperBound])
        let rest = url[schemeEnd.upperBound...]
        let base: Substring, parameters: Substring?
        if let q = rest.firstIndex(of: "?") { base = rest[..<q]; parameters = rest[rest.index(after: q)...] } else { base = rest; parameters = nil }
        let authorityEnd = base.firstIndex(of: "/") ?? base.endIndex
        let authority = base[..<authorityEnd], pathPart = base[authorityEnd...]
        var printableAuthority = String(authority)
        if let at = authority.lastIndex(of: "@") {
            let userInfo = authority[..<at]
            let user = userInfo.firstIndex(of: ":").map { userInfo[..<$0] } ?? userInfo
            printableAuthority = String(user) + String(authority[at...])
        }
        var kept: [String] = [], printable: [String] = []
        for item in (parameters ?? "").split(separator: "&", omittingEmptySubsequences: true) {
            let key = (item.firstIndex(of: "=").map { item[..<$0] } ?? item).lowercased()
            let value = item.firstIndex(of: "=").map { String(item[item.index(after: $0)...]) } ?? ""
            let decoded = { () throws -> String in
                guard let d = value.removingPercentEncoding else {
                    throw EmbdiagError.usage("\(Self.redactedPrefix(scheme, printableAuthority, pathPart)): parameter '\(key)' is not valid percent-encoding")
                }
                return d
            }
            switch key {
            case "query": query = try decoded()
            case "table": table = try decoded()
            case "column": column = try decoded()
            case "label_column": labelColumn = try decoded()
            case "password": kept.append(String(item))
            default: kept.append(String(item)); printable.append(String(item))
            }
        }
        connectionURL = scheme + String(base) + (kept.isEmpty ? "" : "?" + kept.joined(separator: "&"))
        redacted = Self.redactedPrefix(scheme, printableAuthority, pathPart) + (printable.isEmpty ? "" : "?" + printable.joined(separator: "&"))
    }

    private static func redactedPrefix(_ scheme: String, _ authority: String, _ path: Substring) -> String {
        scheme + authority + path
    }

    /// `text` with the password removed from every postgresql:// URL in it (URLs end at a space,
    /// a quote or a parenthesis) and every `password=value` of a key=value connection string
    /// (quoted `'a b'` or up to the next space): the CLI passes every message it prints through
    /// this, so that a message quoting a raw input argument cannot leak a password.
    /// - Complexity: O(length of the text).
    public static func redactingURLs(in text: String) -> String {
        guard text.range(of: "postgres", options: .caseInsensitive) != nil || text.range(of: "password", options: .caseInsensitive) != nil else { return text }
        var out = "", rest = Substring(text)
        while let start = rest.range(of: "postgres", options: .caseInsensitive) {
            out += rest[..<start.lowerBound]
            let tail = rest[start.lowerBound...]
            let end = tail.firstIndex { $0 == " " || $0 == "'" || $0 == "\"" || $0 == "(" || $0 == ")" || $0.isNewline } ?? tail.endIndex
            let token = String(tail[..<end])
            out += isURL(token) ? printable(token) : token
            rest = tail[end...]
        }
        return redactingPasswordPairs(in: out + rest)
    }

    /// Removes `password = value` pairs (libpq's key=value syntax: the value quoted with `'`, in
    /// which `\'` and `\\` are escapes, or ending at whitespace).
    /// - Complexity: O(length of the text).
    static func redactingPasswordPairs(in text: String) -> String {
        guard text.range(of: "password", options: .caseInsensitive) != nil else { return text }
        var out = "", rest = Substring(text)
        while let start = rest.range(of: "password", options: .caseInsensitive) {
            var i = start.upperBound
            while i < rest.endIndex, rest[i] == " " || rest[i] == "\t" { i = rest.index(after: i) }
            guard i < rest.endIndex, rest[i] == "=" else {
                out += rest[..<start.upperBound]
                rest = rest[start.upperBound...]
                continue
            }
            i = rest.index(after: i)
            while i < rest.endIndex, rest[i] == " " || rest[i] == "\t" { i = rest.index(after: i) }
            // A quote written as HTML escapes it (&#39;) in a rendered page.
            let entity = ["&#39;", "&#x27;", "&apos;"].first { rest[i...].hasPrefix($0) }
            if let entity {
                i = rest.index(i, offsetBy: entity.count)
                i = rest[i...].range(of: entity)?.upperBound ?? rest.endIndex
            } else if i < rest.endIndex, rest[i] == "'" {
                i = rest.index(after: i)
                while i < rest.endIndex, rest[i] != "'" {
                    if rest[i] == "\\" { i = rest.index(after: i); if i == rest.endIndex { break } }
                    i = rest.index(after: i)
                }
                if i < rest.endIndex { i = rest.index(after: i) }
            } else {
                while i < rest.endIndex, !rest[i].isWhitespace, rest[i] != "'", rest[i] != "\"" { i = rest.index(after: i) }
            }
            out += rest[..<start.lowerBound] + "password=(redacted)"
            rest = rest[i...]
        }
        return out + rest
    }

    /// The printable form of any string that may be a PostgreSQL URL (other strings unchanged).
    public static func printable(_ path: String) -> String {
        guard isURL(path) || path.contains("="), let location = try? PostgresLocation(path) else { return redactingPasswordPairs(in: path) }
        return location.redacted
    }
}
