import CLibPQ
import Foundation

extension PostgresLocation {
    /// libpq keywords that mark a text as meant for a key=value connection string even when libpq
    /// cannot parse it (an unterminated quote, an unknown keyword): such a text is refused with
    /// what is wrong, not looked up as a file ("no such file").
    static let connectionKeywords: Set<String> = ["host", "hostaddr", "dbname", "user", "port", "service", "password", "sslmode", "application_name", "options", "connect_timeout", "passfile"]

    /// Whether `text` reads as a key=value connection string that libpq refuses: its first word
    /// is `keyword=` for a connection keyword, and no file has that name.
    static func isBrokenConnectionString(_ text: String) -> Bool {
        guard !isURL(text), text.contains("="), connectionOptions(text) == nil, !FileManager.default.fileExists(atPath: text) else { return false }
        let s = Array(text.unicodeScalars)
        var i = 0
        while i < s.count, isCSpace(s[i]) { i += 1 }
        let start = i
        while i < s.count, s[i] != "=", !isCSpace(s[i]) { i += 1 }
        let keyword = string(s[start..<i]).lowercased()
        while i < s.count, isCSpace(s[i]) { i += 1 }
        return i < s.count && s[i] == "=" && connectionKeywords.contains(keyword)
    }

    /// How a key=value string libpq refuses is shown: up to its first password keyword, then
    /// "(redacted) …". libpq cannot say where such a string's password ends (`password=a b` is
    /// the password `a` and a stray word `b` that may be the rest of it), so nothing after the
    /// keyword is shown.
    static func printableBrokenConnectionString(_ text: String) -> String {
        guard let keyword = text.range(of: "password", options: .caseInsensitive) else { return redactingURLs(in: text) }
        return redactingURLs(in: String(text[..<keyword.lowerBound])) + text[keyword] + "=(redacted) …"
    }

    /// The word that follows a password's value in `text` (`b` in `password=a b=c`, which may be
    /// the rest of a password holding a space), read as libpq reads the value (quoted with `'`
    /// and backslash escapes, or up to whitespace); nil without one. Every password keyword
    /// counts: the first word after any of them is returned when one is found.
    static func wordAfterPasswordValue(_ text: String) -> String? {
        let s = Array(text.unicodeScalars)
        var i = 0
        while i < s.count {
            let wordStart = i
            while i < s.count, s[i] != "=", !isCSpace(s[i]) { i += 1 }
            let keyword = string(s[wordStart..<i]).lowercased()
            while i < s.count, isCSpace(s[i]) { i += 1 }
            guard i < s.count, s[i] == "=" else { return nil }
            i += 1
            while i < s.count, isCSpace(s[i]) { i += 1 }
            if i < s.count, s[i] == "'" {
                i += 1
                while i < s.count, s[i] != "'" { i += s[i] == "\\" ? 2 : 1 }
                i += 1
            } else {
                while i < s.count, !isCSpace(s[i]) { i += s[i] == "\\" ? 2 : 1 }
            }
            while i < s.count, isCSpace(s[i]) { i += 1 }
            guard i < s.count else { return nil }
            if keyword == "password" || keyword == "sslpassword" {
                let next = i
                while i < s.count, s[i] != "=", !isCSpace(s[i]) { i += 1 }
                return string(s[next..<i])
            }
        }
        return nil
    }

    /// Why libpq refuses the key=value string `text`, in words that never quote it: libpq's own
    /// message quotes the word it stopped at, which may be part of a password. An unknown keyword
    /// is not named when it is the word right after a password's value (a password holding a
    /// space makes its next word look like a keyword).
    static func connectionStringProblem(_ text: String) -> String {
        var error: UnsafeMutablePointer<CChar>?
        if let parsed = PQconninfoParse(text, &error) { PQconninfoFree(parsed); return "libpq cannot read the key=value connection string" }
        let message = error.map { String(cString: $0) } ?? ""
        if let error { PQfreemem(error) }
        let hasPassword = text.range(of: "password", options: .caseInsensitive) != nil
        if message.contains("unterminated quoted string") {
            return "the key=value connection string has an unterminated quoted value (a ' without its closing ')"
        }
        if message.contains("invalid connection option"), let open = message.firstIndex(of: "\""),
           let close = message[message.index(after: open)...].firstIndex(of: "\"") {
            let name = String(message[message.index(after: open)..<close])
            return (hasPassword && wordAfterPasswordValue(text) == name) || !name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" })
                ? "the key=value connection string has a keyword libpq does not know (quote a value that holds a space)"
                : "the key=value connection string has a keyword libpq does not know: '\(name)'"
        }
        if message.contains("missing \"=\"") {
            return "the key=value connection string has a word without '=' (quote a value that holds a space)"
        }
        return "libpq cannot read the key=value connection string"
    }
}
