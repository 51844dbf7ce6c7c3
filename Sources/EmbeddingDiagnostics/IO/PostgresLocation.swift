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
/// key=value string without its `password` (quoted or not). A URL whose user info libpq would read
/// differently from other tools (a raw '@', '/', '?' or '#' in the password) or whose refusal by
/// libpq would quote the password (an invalid percent escape) is refused before libpq sees it.
public struct PostgresLocation: Sendable, Equatable {
    /// The URL handed to libpq (embdiag's parameters removed, password kept).
    public var connectionURL: String
    /// The URL without password and without embdiag's parameters: safe to print and record.
    public var redacted: String
    public var query: String?
    public var table: String?
    public var column: String?
    public var labelColumn: String?

    /// Whether `path` names a PostgreSQL source rather than a file: it starts with
    /// `postgresql://` or `postgres://` in any case, byte by byte as libpq reads it (a combining
    /// mark after "://" does not hide the scheme).
    public static func isURL(_ path: String) -> Bool {
        urlSchemeLength(Array(path.unicodeScalars.prefix(13)), at: 0) > 0
    }

    private static let schemes = [Array("postgresql://".unicodeScalars), Array("postgres://".unicodeScalars)]

    /// The length of `postgresql://` or `postgres://` (ASCII, any case) at `i` in `s`, else 0.
    static func urlSchemeLength(_ s: [Unicode.Scalar], at i: Int) -> Int {
        guard i < s.count, s[i] == "p" || s[i] == "P" else { return 0 }
        for scheme in schemes where i + scheme.count <= s.count {
            let matches = scheme.indices.allSatisfy { k in
                let u = s[i + k].value
                return ((0x41...0x5A).contains(u) ? u + 32 : u) == scheme[k].value
            }
            if matches { return scheme.count }
        }
        return 0
    }

    /// Unicode scalars, not Characters, for everything that splits a URL: libpq reads bytes, and
    /// a delimiter followed by a combining mark (`@` + U+0301) is one Character that a Character
    /// search would not see.
    static func string<S: Sequence>(_ scalars: S) -> String where S.Element == Unicode.Scalar {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }

    /// The index just after "://" in `s`.
    static func afterScheme(_ s: [Unicode.Scalar]) -> Int? {
        guard s.count >= 3 else { return nil }
        return (0...(s.count - 3)).first { s[$0] == ":" && s[$0 + 1] == "/" && s[$0 + 2] == "/" }.map { $0 + 3 }
    }

    /// Where the authority ends: the first '/', '?' or '#' from `start`, else the end.
    static func authorityEnd(_ s: [Unicode.Scalar], from start: Int) -> Int {
        (start..<s.count).first { s[$0] == "/" || s[$0] == "?" || s[$0] == "#" } ?? s.count
    }

    /// Whether the user info of the URL `s` (after "://" at `start`) is ambiguous: an '@' after
    /// the first '/', '?' or '#', or more than one '@' before it.
    static func ambiguity(_ s: [Unicode.Scalar], from start: Int) -> String? {
        let end = authorityEnd(s, from: start)
        if s[end...].contains("@") { return Refusal.atAfterHost }
        if s[start..<end].filter({ $0 == "@" }).count > 1 { return Refusal.severalAts }
        return nil
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
    public static func isSource(_ path: String) -> Bool { isURL(path) || isConnectionString(path) || isBrokenConnectionString(path) }

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
    /// connection string is handed to libpq as it is and printed without its password. A URL that
    /// libpq would read differently from what its writer meant, or whose refusal by libpq would
    /// quote the password, is refused here, before libpq sees it (`Refusal`).
    /// - Complexity: O(length of the URL).
    public init(_ url: String) throws {
        // libpq reads C strings: a NUL would end the string there, and the rest (a filter, a
        // table name's suffix) would be dropped without a word. A URL refuses raw control
        // characters below; a key=value string is checked here, before libpq parses it.
        if !Self.isURL(url), url.unicodeScalars.contains("\0") {
            throw EmbdiagError.usage(Self.nulRefusal(inKeyValueString: url))
        }
        if !Self.isURL(url), url.contains("="), let options = Self.connectionOptions(url) {
            // libpq does not expand a URL inside a key=value string: it would go to the server as
            // a database (or other) name, password and all.
            guard !options.contains(where: { Self.isURL($0.value) }) else { throw EmbdiagError.usage(Refusal.urlInKeyValueString) }
            connectionURL = url
            redacted = options.filter { $0.key != "password" }
                .map { "\($0.key)=\(Self.quotedConnectionValue(Self.redactingURLs(in: $0.value)))" }.joined(separator: " ")
            return
        }
        // A key=value string libpq refuses (an unterminated quote, an unknown keyword): what is
        // wrong, after the string without its password, rather than "no such file".
        if !Self.isURL(url), Self.isBrokenConnectionString(url) {
            throw EmbdiagError.usage("\(Self.printableBrokenConnectionString(url)): \(Self.connectionStringProblem(url))")
        }
        guard Self.isURL(url), let parts = Self.urlParts(url) else {
            throw EmbdiagError.usage("not a postgresql:// URL or a key=value connection string (host=… dbname=…)")
        }
        // libpq takes a space or a double quote in a URL as part of a value (a password "a b"),
        // but a message quoting the URL ends it there (`redactingURLs`), so the rest of the
        // password could be shown: refused (without quoting it); URLs write them %20, %22.
        guard !url.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F || $0 == "\"" }) else {
            throw EmbdiagError.usage(Refusal.whitespace)
        }
        var kept: [String] = [], own: [(key: String, value: String)] = []
        for item in parts.parameters {
            switch item.key {
            case "query", "table", "column", "label_column": own.append((item.key, item.value))
            default: kept.append(item.text)
            }
        }
        // libpq knows the scheme in lower case only: `POSTGRES://…` would be a key=value string
        // to it (whose error quotes the text before an '=') or, without '=', a database name
        // sent to the default server, password and all.
        connectionURL = parts.scheme.lowercased() + parts.base + (kept.isEmpty ? "" : "?" + kept.joined(separator: "&"))
        let passwordParameter = parts.parameters.contains { Self.passwordKeys.contains($0.key) }
        // Checked before anything quotes the URL: the user info as written (embdiag's own
        // parameters included, so that every '@' a message may show is the user info's), the
        // escapes and parameters on what libpq will read.
        try Self.refuseAmbiguousUserInfo(url)
        try Self.refuseAmbiguous(connectionURL)
        redacted = Self.printableURL(parts)
        for (key, value) in own {
            guard let decoded = value.removingPercentEncoding else {
                throw EmbdiagError.usage("\(redacted): parameter '\(key)' is not valid percent-encoding")
            }
            // libpq would end the SQL (or the name) at the NUL, while the report showed it whole.
            guard !decoded.unicodeScalars.contains("\0") else {
                throw EmbdiagError.usage("\(redacted): parameter '\(key)' holds %00 (a NUL character), which libpq cannot send: the text after it would be dropped")
            }
            switch key {
            case "query": query = decoded
            case "table": table = decoded
            case "column": column = decoded
            default: labelColumn = decoded
            }
        }
        // Anything else libpq refuses in a URL (an unknown parameter, a broken IPv6 address) is
        // refused now rather than when connecting, with libpq's message made safe to print.
        var error: UnsafeMutablePointer<CChar>?
        if let parsed = PQconninfoParse(connectionURL, &error) {
            PQconninfoFree(parsed)
        } else {
            let message = error.map { String(cString: $0) } ?? "out of memory"
            if let error { PQfreemem(error) }
            // With a password parameter, the parameters after it may be the rest of a password
            // holding a raw '&' (the unknown parameter libpq refuses): none is named.
            let name = passwordParameter ? Self.redactingPasswordPairs(in: Self.redactingUserInfo(parts.printableBase)) : redacted
            throw EmbdiagError.usage("\(name): libpq cannot read the URL: \(Self.safeLibpqMessage(message, hidingQuotedWords: passwordParameter))")
        }
    }

    /// The refusal of a key=value connection string holding a NUL, naming the keyword whose value
    /// holds it (libpq parses a copy with the NUL replaced) but never the value.
    static func nulRefusal(inKeyValueString text: String) -> String {
        let marker: Unicode.Scalar = "\u{E000}"
        let replaced = string(text.unicodeScalars.map { $0 == "\0" ? marker : $0 })
        let keys = (connectionOptions(replaced) ?? []).filter { $0.value.unicodeScalars.contains(marker) }.map(\.key)
        let named = keys.isEmpty ? "the key=value connection string holds" : "the value of '\(keys[0])' in the key=value connection string holds"
        return "\(named) a NUL character, which libpq cannot send: it would drop the text after it"
    }

    /// A NUL in a setting that reaches libpq as a C string (`--query`, `--table`, `--column`,
    /// `--label-column`, from the command line, an audit file or the library): refused, naming
    /// the setting, since libpq would end the text there.
    public static func refuseNUL(_ value: String?, setting: String, source: String) throws {
        guard let value, value.unicodeScalars.contains("\0") else { return }
        throw EmbdiagError.usage("\(source): \(setting) holds a NUL character, which libpq cannot send: the text after it would be dropped")
    }

    /// Why a URL is refused before libpq sees it. None of them quotes the URL: each is a URL whose
    /// password libpq would read differently from its writer (and could print in part), or that
    /// libpq would refuse with a message quoting (part of) the password.
    public enum Refusal {
        static let advice = "percent-encode the password (@ is %40, / is %2F, ? is %3F, # is %23, % is %25) or give it through PGPASSWORD, ~/.pgpass or a service file"
        public static let whitespace = "a postgresql:// URL cannot contain spaces, double quotes or control characters; percent-encode them (a space is %20, \" is %22)"
        public static let atAfterHost = "a postgresql:// URL with an '@' after a '/', '?' or '#' is ambiguous (a user name or password holding a raw '/', '?' or '#', or an '@' in the database name or a parameter): libpq would not read such a password as one and could print part of it; \(advice) (an '@' in a parameter is %40 too)"
        public static let severalAts = "a postgresql:// URL with more than one '@' before its host is ambiguous (a user name or password holding a raw '@'): libpq would read the user info up to its first '@' and take the rest for the host name; \(advice)"
        public static let userInfoEscape = "a postgresql:// URL whose user name or password holds a '%' not followed by two hex digits (or %00) is refused: libpq would quote the password in its error; \(advice)"
        public static let escape = "a postgresql:// URL whose host, database name or parameters hold a '%' not followed by two hex digits (or %00) is refused: libpq would quote the value in its error, which may be a password; percent-encode the values (% is %25)"
        public static let parameter = "a postgresql:// URL parameter without '=' or with more than one is refused: libpq would quote what follows a raw '&' or '=', which may be part of a password; percent-encode them in values (& is %26, = is %3D) or give the password through PGPASSWORD, ~/.pgpass or a service file"
        public static let urlInKeyValueString = "a key=value connection string cannot hold a postgresql:// URL as a value: libpq does not read it as a URL but sends it to the server as a name, password included; give the URL on its own"
        /// Every refusal message (the fuzz harness counts their words as shown by the message, not
        /// as a piece of a password).
        public static let all = [whitespace, atAfterHost, severalAts, userInfoEscape, escape, parameter, urlInKeyValueString]
    }

    /// Refuses a URL (as handed to libpq) whose authority is ambiguous or whose percent-escapes
    /// libpq would refuse by quoting them: an '@' after the first '/', '?' or '#' after `://` (a
    /// password with a raw '/', '?' or '#', which libpq and other tools split differently), more
    /// than one '@' before the host (libpq splits at the first, SQLAlchemy at the last), a '%' not
    /// followed by two hex digits or a %00 (libpq's message quotes the whole token), a parameter
    /// without '=' or with two (libpq quotes the word after a raw '&').
    /// - Complexity: O(length of the URL).
    static func refuseAmbiguous(_ url: String) throws {
        try refuseAmbiguousUserInfo(url)
        let s = Array(url.unicodeScalars)
        guard let start = afterScheme(s) else { return }
        let end = authorityEnd(s, from: start)
        if let at = s[start..<end].firstIndex(of: "@"), hasInvalidEscape(string(s[start..<at])) { throw EmbdiagError.usage(Refusal.userInfoEscape) }
        if hasInvalidEscape(string(s[start...])) { throw EmbdiagError.usage(Refusal.escape) }
        if let q = s[start...].firstIndex(of: "?") {
            for item in s[(q + 1)...].split(separator: "&") where item.filter({ $0 == "=" }).count != 1 {
                throw EmbdiagError.usage(Refusal.parameter)
            }
        }
    }

    /// The '@' rules of `refuseAmbiguous` alone.
    static func refuseAmbiguousUserInfo(_ url: String) throws {
        let s = Array(url.unicodeScalars)
        if let start = afterScheme(s), let refusal = ambiguity(s, from: start) { throw EmbdiagError.usage(refusal) }
    }

    /// Whether `text` holds a '%' that libpq's URL decoder refuses: not followed by two hex digits,
    /// or `%00`.
    static func hasInvalidEscape<S: StringProtocol>(_ text: S) -> Bool {
        let u = Array(text.utf8)
        func isHex(_ b: UInt8) -> Bool { (0x30...0x39).contains(b) || (0x41...0x46).contains(b) || (0x61...0x66).contains(b) }
        var i = 0
        while i < u.count {
            guard u[i] == UInt8(ascii: "%") else { i += 1; continue }
            guard i + 2 < u.count, isHex(u[i + 1]), isHex(u[i + 2]), !(u[i + 1] == 0x30 && u[i + 2] == 0x30) else { return true }
            i += 3
        }
        return false
    }

    /// libpq's message about a URL it cannot read, safe to print: a URL it quotes is shown without
    /// its password, and with a password parameter in the URL every other quoted word goes (the
    /// word after a raw '&' in the password would be quoted as an unknown parameter).
    static func safeLibpqMessage(_ message: String, hidingQuotedWords: Bool) -> String {
        let line = redactingURLs(in: PostgresConnection.oneLine(message))
        guard hidingQuotedWords else { return line }
        let s = Array(line.unicodeScalars)
        var out = String.UnicodeScalarView(), i = 0
        while let open = s[i...].firstIndex(of: "\""), let close = s[(open + 1)...].firstIndex(of: "\"") {
            out.append(contentsOf: s[i...open])
            out.append(contentsOf: close - open - 1 > 1 ? redactedMarker[...] : s[(open + 1)..<close])
            out.append("\"")
            i = close + 1
        }
        out.append(contentsOf: s[i...])
        return String(out)
    }

    /// A URL cut where libpq cuts it: user info runs to the first '@' met before any '/' (it may
    /// hold a '?', as in `u?x@host/db?password=…`), and the parameters start at the first '?'
    /// after it (splitting at the first '?' instead left libpq's password parameter in the part
    /// printed as user info). Parameters with their keys percent-decoded (libpq decodes keys too:
    /// `pass%77ord=` is the password) and lowercased.
    private struct URLParts {
        /// The whole URL, and its scalars.
        var url: String
        var scalars: [Unicode.Scalar]
        var scheme: String
        /// User info, host and path as libpq reads them (the parameters removed).
        var base: String
        /// `scheme` + `base` without the password of its user info.
        var printableBase: String
        /// Each parameter, its scalars' range in `scalars`, its key percent-decoded and lowercased.
        var parameters: [(text: String, range: Range<Int>, key: String, value: String)]
    }

    private static func urlParts(_ url: String) -> URLParts? {
        let s = Array(url.unicodeScalars)
        guard let start = afterScheme(s) else { return nil }
        func first(_ c: Unicode.Scalar, _ r: Range<Int>) -> Int? { r.first { s[$0] == c } }
        let slash = first("/", start..<s.count) ?? s.count
        let hostStart = first("@", start..<slash).map { $0 + 1 } ?? start
        let baseEnd = first("?", hostStart..<s.count) ?? s.count
        let authorityEnd = first("/", hostStart..<baseEnd) ?? baseEnd
        var printableAuthority = string(s[start..<authorityEnd])
        if let at = (start..<authorityEnd).last(where: { s[$0] == "@" }) {
            // Every password goes, also one that reads "(redacted)" (a printed form printed
            // again loses its marker): all print alike.
            printableAuthority = string(s[start..<(first(":", start..<at) ?? at)]) + string(s[at..<authorityEnd])
        }
        var parameters: [(text: String, range: Range<Int>, key: String, value: String)] = []
        var i = baseEnd + 1
        while i <= s.count {
            let j = first("&", i..<s.count) ?? s.count
            if j > i {
                let equals = first("=", i..<j)
                let rawKey = string(s[i..<(equals ?? j)])
                parameters.append((string(s[i..<j]), i..<j, (rawKey.removingPercentEncoding ?? rawKey).lowercased(), equals.map { string(s[($0 + 1)..<j]) } ?? ""))
            }
            i = j + 1
        }
        let scheme = string(s[..<start])
        return URLParts(url: url, scalars: s, scheme: scheme, base: string(s[start..<baseEnd]),
                        printableBase: scheme + printableAuthority + string(s[authorityEnd..<baseEnd]), parameters: parameters)
    }

    /// The printable form of a URL: without the password of its user info, without a `password`
    /// or `sslpassword` parameter and without embdiag's parameters, and no `password=` value. A
    /// URL whose user info is ambiguous (`printableAmbiguous`) shows nothing between its user
    /// name and its last '@'.
    private static func printableURL(_ parts: URLParts) -> String {
        let own: Set<String> = ["query", "table", "column", "label_column"]
        if let shown = printableAmbiguous(parts.url) { return shown }
        // After a password parameter, only libpq's own parameters, each `key=value`: another one
        // may be the rest of a password holding a raw '&' (and libpq would refuse it anyway).
        var shown: [String] = [], afterPassword = false
        for item in parts.parameters {
            if passwordKeys.contains(item.key) { afterPassword = true; continue }
            if own.contains(item.key) { continue }
            if afterPassword, !(libpqKeywords.contains(item.key) || item.key == "ssl") || item.text.unicodeScalars.filter({ $0 == "=" }).count != 1 { continue }
            shown.append(item.text)
        }
        return redactingPasswordPairs(in: redactingUserInfo(parts.printableBase + (shown.isEmpty ? "" : "?" + shown.joined(separator: "&"))))
    }

    /// The printable form of a URL whose user info is ambiguous — an '@' after the first '/', '?'
    /// or '#' after `://`, or more than one '@' before the host — nil for another: its user name,
    /// ":(redacted)@", and what follows the last '@' printed as a URL (the host, path and
    /// parameters other tools read there). Where libpq reads a password
    /// parameter that runs past that '@' (`?password=ab/c@d`), the rest is that password too:
    /// ":(redacted)@(redacted)". The union of what libpq and other tools take for the password
    /// is hidden.
    static func printableAmbiguous(_ url: String) -> String? {
        guard let parts = urlParts(url) else { return nil }
        let s = parts.scalars
        guard let start = afterScheme(s), ambiguity(s, from: start) != nil, let lastAt = s[start...].lastIndex(of: "@"),
              let userEnd = s[start...].firstIndex(where: { $0 == ":" || $0 == "@" || $0 == "/" || $0 == "?" || $0 == "#" }) else { return nil }
        let marker = string(redactedMarker)
        let prefix = string(s[..<userEnd]) + ":" + marker + "@"
        if parts.parameters.contains(where: { passwordKeys.contains($0.key) && $0.range.contains(lastAt) }) { return prefix + marker }
        // No '@' follows: printed as an unambiguous URL, less its scheme.
        return prefix + string(printable(parts.scheme + string(s[(lastAt + 1)...])).unicodeScalars.dropFirst(start))
    }

    /// libpq's parameters that hold a secret (the server's password, the client key's).
    static let passwordKeys: Set<String> = ["password", "sslpassword"]

    /// The keywords libpq takes (`host`, `sslmode`, …), from its own option table.
    static let libpqKeywords: Set<String> = {
        var error: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse("", &error) else {
            if let error { PQfreemem(error) }
            return []
        }
        defer { PQconninfoFree(options) }
        var keywords: Set<String> = [], option = options
        while let keyword = option.pointee.keyword {
            keywords.insert(String(cString: keyword))
            option += 1
        }
        return keywords
    }()

    /// `url` with everything between its user name (after `://`, up to the first ':', '@', '/',
    /// '?' or '#') and its last '@' replaced by ":(redacted)": a password holding a raw '@', '/'
    /// or '?' ends at the last '@' for other tools (SQLAlchemy, urllib), wherever libpq ends it.
    /// A URL with no '@' after its user name is returned as it is.
    static func redactingUserInfo(_ url: String) -> String {
        let s = Array(url.unicodeScalars)
        guard let start = afterScheme(s), let lastAt = s[start...].lastIndex(of: "@"),
              let userEnd = s[start...].firstIndex(where: { $0 == ":" || $0 == "@" || $0 == "/" || $0 == "?" || $0 == "#" }),
              userEnd < lastAt else { return url }
        return string(s[..<userEnd]) + ":" + string(redactedMarker) + string(s[lastAt...])
    }

    /// `text` with the password removed from every postgresql:// URL in it (URLs end at
    /// whitespace or a double quote, less up to two closing characters such as `'` `)` `:`; in
    /// each, nothing between the user name and the last '@' is kept), every `password=value` of a
    /// key=value connection string (quoted `'a b'` or up to the next space) and the token quoted
    /// by libpq's percent-encoding errors: the CLI passes every message it prints through this, so
    /// that a message quoting a raw input argument cannot leak a password.
    /// - Complexity: O(length of the text).
    public static func redactingURLs(in text: String) -> String {
        let text = text.range(of: "percent-encoded", options: .caseInsensitive) != nil ? redactingLibpqTokens(in: text) : text
        // Most text (a report) holds no "://": no copy of it as scalars.
        var slashes = 0
        guard text.utf8.contains(where: { byte in
            slashes = byte == UInt8(ascii: "/") ? slashes + 1 : 0
            return slashes == 2
        }) else { return redactingPasswordPairs(in: text) }
        let s = Array(text.unicodeScalars)
        var out = String.UnicodeScalarView(), copied = 0, i = 0
        while i < s.count {
            // A URL may follow another word holding "postgres" (`mypostgres,postgresql://…`).
            guard urlSchemeLength(s, at: i) > 0 else { i += 1; continue }
            // A URL runs to whitespace or a double quote (neither can be in a URL embdiag takes,
            // see `init`); a quote or parenthesis inside belongs to it (libpq reads on), and up
            // to two that close the surrounding message (`'…':`, `(…)`) are left outside.
            var end = i
            while end < s.count, !s[end].properties.isWhitespace, s[end] != "\"" { end += 1 }
            for _ in 0..<2 {
                guard end > i, "')>,.;:".unicodeScalars.contains(s[end - 1]) else { break }
                end -= 1
            }
            out.append(contentsOf: s[copied..<i])
            out.append(contentsOf: printable(string(s[i..<end])).unicodeScalars)
            copied = end
            i = max(end, i + 1)
        }
        guard copied > 0 else { return redactingPasswordPairs(in: text) }
        out.append(contentsOf: s[copied...])
        return redactingPasswordPairs(in: String(out))
    }

    /// libpq's messages that quote the token of a URL they refuse, which may be the whole password
    /// (`invalid percent-encoded token: "S3cret%ZZ"`).
    private static let tokenQuotingMessages = ["invalid percent-encoded token:", "forbidden value %00 in percent-encoded value:"]

    /// `text` with the token quoted by libpq's percent-encoding errors replaced by "(redacted)":
    /// quoted with `"` (or `\"` inside a JSON string) up to the closing quote on that line, else to
    /// the end of the line; unquoted up to whitespace.
    /// - Complexity: O(length of the text).
    static func redactingLibpqTokens(in text: String) -> String {
        var out = "", rest = Substring(text)
        while let found = tokenQuotingMessages.compactMap({ rest.range(of: $0, options: .caseInsensitive) }).min(by: { $0.lowerBound < $1.lowerBound }) {
            out += rest[..<found.upperBound]
            var tail = rest[found.upperBound...]
            while let first = tail.first, first == " " || first == "\t" { out.append(first); tail = tail.dropFirst() }
            let quote = tail.hasPrefix("\\\"") ? "\\\"" : tail.hasPrefix("\"") ? "\"" : ""
            tail = tail.dropFirst(quote.count)
            let lineEnd = tail.firstIndex(where: \.isNewline) ?? tail.endIndex
            let end = quote.isEmpty ? (tail.firstIndex(where: \.isWhitespace) ?? tail.endIndex) : (tail[..<lineEnd].range(of: quote)?.lowerBound ?? lineEnd)
            out += quote + "(redacted)"
            rest = tail[end...]
        }
        return out + rest
    }

    /// Removes password values (libpq's key=value syntax: the value quoted with `'`, in which `\'`
    /// and `\\` are escapes, or ending at whitespace, where a backslash escapes too): each value is
    /// replaced by "(redacted)", its key kept. Two passes mark what to remove and the union goes:
    /// libpq's own tokenizer run from every word start (`markLibpqPasswordValues`), and a pattern
    /// scan for `password = value` (`markPasswordPatterns`) that also catches what libpq refuses
    /// (prose, HTML-escaped quotes). Removing more than needed is safe; each pass alone has missed
    /// a case the other sees.
    /// - Complexity: O(length of the text) for prose; see `markLibpqPasswordValues`.
    static func redactingPasswordPairs(in text: String) -> String {
        guard text.range(of: "password", options: .caseInsensitive) != nil else { return text }
        // Unicode scalars, not Characters: libpq reads bytes, and a quote or space followed by a
        // combining mark is one Character that a Character comparison would not see.
        let s = Array(text.unicodeScalars)
        var secret = [Bool](repeating: false, count: s.count)
        markLibpqPasswordValues(s, &secret)
        markPasswordPatterns(s, &secret)
        guard secret.contains(true) else { return text }
        var out = String.UnicodeScalarView()
        var k = 0
        while k < s.count {
            guard secret[k] else { out.append(s[k]); k += 1; continue }
            while k < s.count, secret[k] { k += 1 }
            out.append(contentsOf: redactedMarker)
        }
        return String(out)
    }

    private static let redactedMarker = Array("(redacted)".unicodeScalars)
    /// Characters that may close the text around a value (`'…':`, a JSON string's `",`).
    private static let closingCharacters = Array("\"'`),;:]}".unicodeScalars)

    /// The end of libpq's unquoted value from `start` (up to whitespace; a backslash escapes the
    /// next character, a quote inside is part of the value), and the end to redact: up to two
    /// closing characters of the surrounding text are left out of it so that messages, JSON and
    /// CSV stay well-formed (at most those two characters of a password ending in them are shown).
    /// The redaction end is nil for a value that is already "(redacted)" (a message quoting a
    /// printable form is redacted again without change).
    private static func unquotedValue(_ s: [Unicode.Scalar], from start: Int) -> (end: Int, redactTo: Int?) {
        var j = start
        var escaped = Set<Int>()
        while j < s.count, !isCSpace(s[j]) {
            if s[j] == "\\" { j += 1; if j == s.count { break }; escaped.insert(j) }
            j += 1
        }
        var to = j
        for _ in 0..<2 {
            guard to > start, closingCharacters.contains(s[to - 1]), !escaped.contains(to - 1) else { break }
            to -= 1
        }
        if to - start == redactedMarker.count, Array(s[start..<to]) == redactedMarker { return (j, nil) }
        if to - start == redactedMarker.count - 1, Array(s[start..<to]) == Array(redactedMarker.dropLast()), to < j, s[to] == ")" {
            return (j, nil)
        }
        return (j, to)
    }

    /// Marks every value libpq would read as a password (or sslpassword). A message does not say
    /// where a connection string in it starts, so libpq's tokenizer (conninfo_parse) is run from
    /// every word start, and every password value any run meets is marked: a run from a wrong start
    /// can only mark more. No guess about quotes or whole words is needed.
    /// - Complexity: O(w · t) for w word starts and runs of t characters; a run stops at the first
    ///   word that is not `keyword=` (of at most 64 characters), so prose costs O(length).
    static func markLibpqPasswordValues(_ s: [Unicode.Scalar], _ secret: inout [Bool]) {
        for start in s.indices where isWordScalar(s[start]) && (start == 0 || !isWordScalar(s[start - 1])) {
            var i = start
            // Keyword up to '=' or whitespace, optional whitespace, '=', optional whitespace, then
            // a value quoted with ' (\ escapes) or up to whitespace.
            while i < s.count {
                while i < s.count, isCSpace(s[i]) { i += 1 }
                guard i < s.count else { break }
                let keyStart = i
                while i < s.count, s[i] != "=", !isCSpace(s[i]), i - keyStart <= 64 { i += 1 }
                // libpq's keywords are short: a longer word is no keyword, and libpq stops there
                // (this also keeps a long run of text without spaces linear).
                guard i - keyStart <= 64 else { break }
                let keyword = String(String.UnicodeScalarView(s[keyStart..<i])).lowercased()
                while i < s.count, isCSpace(s[i]) { i += 1 }
                guard i < s.count, s[i] == "=" else { break }
                i += 1
                while i < s.count, isCSpace(s[i]) { i += 1 }
                let valueStart = i
                var redactTo: Int?
                var closed = true
                if i < s.count, s[i] == "'" {
                    // Unterminated: libpq refuses the string, but the rest is marked anyway.
                    i += 1
                    closed = false
                    while i < s.count {
                        if s[i] == "\\" { i += 2; continue }
                        if s[i] == "'" { i += 1; closed = true; break }
                        i += 1
                    }
                    i = min(i, s.count)
                    redactTo = i
                } else {
                    (i, redactTo) = unquotedValue(s, from: i)
                }
                if keyword == "password" || keyword == "sslpassword", let redactTo, redactTo > valueStart {
                    for k in valueStart..<redactTo { secret[k] = true }
                }
                if !closed { break }
            }
        }
    }

    /// Marks the values of `password = value` found by pattern (case-insensitive, also in prose
    /// libpq would refuse, and with a quote written as an HTML escape in a rendered page).
    /// - Complexity: O(length of the text).
    static func markPasswordPatterns(_ s: [Unicode.Scalar], _ secret: inout [Bool]) {
        let key = Array("password".unicodeScalars)
        let entities = ["&#39;", "&#x27;", "&apos;"].map { Array($0.unicodeScalars) }
        func lower(_ u: Unicode.Scalar) -> Unicode.Scalar { (0x41...0x5A).contains(u.value) ? Unicode.Scalar(u.value + 32) ?? u : u }
        func matches(_ pattern: [Unicode.Scalar], at i: Int, caseInsensitive: Bool = false) -> Bool {
            i + pattern.count <= s.count && pattern.indices.allSatisfy { (caseInsensitive ? lower(s[i + $0]) : s[i + $0]) == pattern[$0] }
        }
        var i = 0
        while i < s.count {
            guard matches(key, at: i, caseInsensitive: true) else { i += 1; continue }
            var j = i + key.count
            while j < s.count, isCSpace(s[j]) { j += 1 }
            guard j < s.count, s[j] == "=" else { i += key.count; continue }
            j += 1
            while j < s.count, isCSpace(s[j]) { j += 1 }
            let valueStart = j
            // A key starts a token (libpq's keys are whole words; `sslpassword` is one too). Inside
            // another token (`service=ppassword='…`) the word is no key: its value is marked only
            // up to whitespace, never as a quoted value, which could swallow the real key after it.
            var tokenStart = i
            while tokenStart > 0, isWordScalar(s[tokenStart - 1]) { tokenStart -= 1 }
            let prefix = String(String.UnicodeScalarView(s[tokenStart..<i])).lowercased()
            let isKey = prefix.isEmpty || prefix == "ssl"
            var redactTo: Int?
            if isKey, let entity = entities.first(where: { matches($0, at: j) }) {
                // A quote written as HTML escapes it (&#39;) in a rendered page.
                j += entity.count
                while j < s.count, !matches(entity, at: j) { j += 1 }
                j = min(s.count, j + entity.count)
                redactTo = j
            } else if isKey, j < s.count, s[j] == "'" {
                j += 1
                while j < s.count, s[j] != "'" {
                    if s[j] == "\\" { j += 1; if j == s.count { break } }
                    j += 1
                }
                if j < s.count { j += 1 }
                // A closing quote with more text glued to it is not where libpq ends a value: the
                // "password" matched may sit inside another key's unquoted value and the real
                // password's own quote closed this one. Marked up to whitespace.
                let glued = unquotedValue(s, from: j)
                j = glued.end
                redactTo = glued.redactTo ?? j
            } else {
                (j, redactTo) = unquotedValue(s, from: j)
            }
            if let redactTo, redactTo > valueStart {
                for k in valueStart..<redactTo { secret[k] = true }
            }
            i = max(j, i + key.count)
        }
    }

    /// A letter, digit or underscore: what a word (and a libpq keyword) is made of, for both passes.
    static func isWordScalar(_ u: Unicode.Scalar) -> Bool { u.properties.isAlphabetic || u == "_" || ("0"..."9").contains(u) }

    /// Whitespace as libpq's key=value parser sees it (C `isspace`: space, \t, \n, \v, \f, \r —
    /// not a no-break or other Unicode space, which libpq keeps inside a value).
    static func isCSpace(_ u: Unicode.Scalar) -> Bool { u == " " || (0x09...0x0D).contains(u.value) }

    /// The printable form of any string that may be a PostgreSQL URL or connection string, also
    /// of one `init` refuses (other strings unchanged).
    public static func printable(_ path: String) -> String {
        if isURL(path), let parts = urlParts(path) { return printableURL(parts) }
        if path.contains("="), let location = try? PostgresLocation(path) { return location.redacted }
        return redactingURLs(in: path)
    }
}
