import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// URLs whose password libpq reads differently from their writer (a raw '/', '@', '?' or '#' in
/// it) or quotes in its own error (an invalid percent escape, the word after a raw '&'): refused
/// before libpq sees them, and hidden by the message filter however they reach a message. Without
/// a server; `PostgresHostileTests.ambiguousURLsAreRefusedAndNeverPrinted` runs the CLI on each.
@Suite struct PostgresURLRedactionTests {
    typealias Refusal = PostgresLocation.Refusal

    /// Whether any 4 characters in a row of `secret` are in `text`.
    static func showsPiece(of secret: String, in text: String) -> Bool {
        let c = Array(secret)
        guard c.count >= 4 else { return text.contains(secret) }
        return (0...(c.count - 4)).contains { text.contains(String(c[$0..<($0 + 4)])) }
    }

    /// (URL, the refusal, the password as written)
    static let refused: [(String, String, String)] = [
        ("postgresql://lowpriv:ab/S3cretS@127.0.0.1:54329/postgres", Refusal.atAfterHost, "ab/S3cretS"),
        ("postgresql://lowpriv:Rt5?Kc2wE@127.0.0.1:54329/postgres", Refusal.atAfterHost, "Rt5?Kc2wE"),
        ("postgresql://lowpriv:Ny6#Bq1Zs@127.0.0.1:54329/postgres", Refusal.atAfterHost, "Ny6#Bq1Zs"),
        ("postgresql://lowpriv:Pd4/Sg7Tk@127.0.0.1:54329", Refusal.atAfterHost, "Pd4/Sg7Tk"),
        ("postgresql://lowpriv:Jw4/Nt6Pk@[::1]:54329/postgres", Refusal.atAfterHost, "Jw4/Nt6Pk"),
        ("postgresql://lowpriv:Yk1Mh4Qp@127.0.0.1:54329/postgres?application_name=a@b", Refusal.atAfterHost, "Yk1Mh4Qp"),
        ("postgresql://lowpriv@127.0.0.1:54329/postgres?password=Pw7/Xy@Zq9", Refusal.atAfterHost, "Pw7/Xy@Zq9"),
        ("postgresql://lowpriv@127.0.0.1:54329/postgres?password=Rk2@Tm6Vw", Refusal.atAfterHost, "Rk2@Tm6Vw"),
        ("POSTGRES://lowpriv:Fj8/Sn1Xw@127.0.0.1:54329/postgres", Refusal.atAfterHost, "Fj8/Sn1Xw"),
        ("postgresql://lowpriv:ab@S3cretM@127.0.0.1:54329/postgres", Refusal.severalAts, "ab@S3cretM"),
        ("postgresql://lowpriv:Ce2@Dx5@Fy7Hu@127.0.0.1:54329/postgres", Refusal.severalAts, "Ce2@Dx5@Fy7Hu"),
        ("postgresql://low@priv:Mz3Qv8Wt@127.0.0.1:54329/postgres", Refusal.severalAts, "Mz3Qv8Wt"),
        ("postgresql://lowpriv:Jx4@Nu6Pm@[::1]:54329/postgres", Refusal.severalAts, "Jx4@Nu6Pm"),
        ("postgresql://lowpriv:S3cret%ZZ@127.0.0.1:54329/postgres", Refusal.userInfoEscape, "S3cret%ZZ"),
        ("postgresql://lowpriv:Jm8Tr4%4@127.0.0.1:54329/postgres", Refusal.userInfoEscape, "Jm8Tr4%4"),
        ("postgresql://lowpriv:Kw2%00Vn5@127.0.0.1:54329/postgres", Refusal.userInfoEscape, "Kw2%00Vn5"),
        ("postgresql://lowpriv:Lp9%G1Xs3@127.0.0.1:54329/postgres", Refusal.userInfoEscape, "Lp9%G1Xs3"),
        ("postgresql://lowpriv:Zl2Ni5Rq@127.0.0.1:54329/post%ZZgres", Refusal.escape, "Zl2Ni5Rq"),
        ("postgresql://lowpriv@127.0.0.1:54329/postgres?password=Sn3%ZZq8H", Refusal.escape, "Sn3%ZZq8H"),
        ("postgresql://lowpriv@127.0.0.1:54329/postgres?password=Tb5%00Gc2", Refusal.escape, "Tb5%00Gc2"),
        ("postgresql://lowpriv@127.0.0.1:54329/postgres?password=Uf6&Hd9Kj", Refusal.parameter, "Uf6&Hd9Kj"),
        ("postgresql://lowpriv@127.0.0.1:54329/postgres?password=Wh8=Kf2Ml", Refusal.parameter, "Wh8=Kf2Ml"),
        // A combining mark after a delimiter makes one Character of both: libpq reads bytes.
        ("postgresql://lowpriv:ab/\u{301}Sx4Kd7Wm@127.0.0.1:54329/postgres", Refusal.atAfterHost, "Sx4Kd7Wm"),
        ("postgresql://lowpriv:Tc6@\u{301}Yv3Np@127.0.0.1:54329/postgres", Refusal.severalAts, "Tc6@\u{301}Yv3Np"),
        ("postgresql://\u{301}lowpriv:Rf2/Gh5Jk@127.0.0.1:54329/postgres", Refusal.atAfterHost, "Rf2/Gh5Jk"),
        ("postgresql://lowpriv@127.0.0.1:54329/postgres?password=Ud7&\u{301}Wq2Zx", Refusal.parameter, "Wq2Zx"),
        ("dbname=postgresql://lowpriv:Ae3/Oj6Sr@127.0.0.1:54329/postgres host=127.0.0.1", Refusal.urlInKeyValueString, "Ae3/Oj6Sr"),
        ("host=127.0.0.1 dbname=postgresql://lowpriv:Bf4Pk7Ts@127.0.0.1:54329/postgres", Refusal.urlInKeyValueString, "Bf4Pk7Ts"),
        ("dbname='postgresql://lowpriv:Cg5%ZZUt@127.0.0.1:54329/postgres' host=127.0.0.1", Refusal.urlInKeyValueString, "Cg5%ZZUt"),
    ]

    @Test func ambiguousURLsAreRefusedWithoutQuotingThem() throws {
        for (url, refusal, password) in Self.refused {
            #expect(throws: EmbdiagError.usage(refusal), "\(url)") { try PostgresLocation(url) }
            // However the raw URL reaches a message or report, the filter hides the password.
            for shown in [PostgresLocation.printable(url), PostgresLocation.redactingURLs(in: "cannot read \(url): refused"),
                          PostgresLocation.redactingURLs(in: "{\"path\": \"\(url)\"}"), PostgresLocation.redactingURLs(in: "'\(url)':")] {
                #expect(!Self.showsPiece(of: password, in: shown), "\(url) → \(shown)")
            }
        }
        // The refusals quote nothing of a URL.
        for refusal in Refusal.all {
            #expect(!refusal.contains("lowpriv") && !refusal.contains("127.0.0.1") && !refusal.contains("\n"))
        }
    }

    /// The reported messages, as the filter now prints them.
    @Test func theFilterHidesEverythingBetweenUserAndLastAt() throws {
        #expect(PostgresLocation.redactingURLs(in: "embdiag: error: postgresql://lowpriv:ab/S3cretS@127.0.0.1:54329/postgres: cannot connect: x")
                == "embdiag: error: postgresql://lowpriv:(redacted)@127.0.0.1:54329/postgres: cannot connect: x")
        #expect(PostgresLocation.printable("postgresql://lowpriv:ab@S3cretM@127.0.0.1:54329/postgres") == "postgresql://lowpriv:(redacted)@127.0.0.1:54329/postgres")
        // A password parameter running past the last '@' (libpq's reading): nothing after it either.
        #expect(PostgresLocation.printable("postgresql://lowpriv@h:1/postgres?password=Pw7/Xy@Zq9&sslmode=x") == "postgresql://lowpriv:(redacted)@(redacted)")
        // Found by the postgres-url fuzzer: a password parameter inside the password ran past the
        // last '@'; dropping it first left '@…h/db' of the meant password in the printed form.
        let fuzzed = "postgresql://lowpriv:Abpostgresql://u@\u{FFFD}\u{FFFD}\u{FFFD}h/db?pass%77ord=se2/Cd2@Ef3Gh@127.0.0.1:54329/postgres"
        #expect(PostgresLocation.printable(fuzzed) == "postgresql://lowpriv:(redacted)@(redacted)")
        #expect(PostgresLocation.printable("postgresql://u:a?b/c#d@h/db?sslmode=require") == "postgresql://u:(redacted)@h/db?sslmode=require")
        #expect(PostgresLocation.printable("postgresql://u@h/db?password=Vg7&Je1=Lk&sslmode=require") == "postgresql://u@h/db?sslmode=require")
        #expect(PostgresLocation.printable("postgresql://u:ab/cd@h/db?pass%77ord=Secret99&sslmode=x") == "postgresql://u:(redacted)@h/db?sslmode=x")
        #expect(PostgresLocation.printable("postgresql://h/db?application_name=Tn6@Rb3Wx") == "postgresql://h:(redacted)@Rb3Wx")
        #expect(PostgresLocation.printable("postgresql://[::1]:5432/db?x=a@b") == "postgresql://[:(redacted)@b")
        // Printed again, a printed form loses the marker of its user info like any password (a
        // password that reads "(redacted)" prints as every other; found by the postgres-url
        // fuzzer), and then stays as it is.
        #expect(PostgresLocation.redactingURLs(in: "postgresql://lowpriv:(redacted)@127.0.0.1:54329/postgres") == "postgresql://lowpriv@127.0.0.1:54329/postgres")
        #expect(PostgresLocation.printable("POSTGRES://lowpri:(redacted)@127.0.0.1:54329/postgres") == "POSTGRES://lowpri@127.0.0.1:54329/postgres")
        for text in ["postgresql://lowpriv@127.0.0.1:54329/postgres", "see postgresql://u@h/db and postgres://h@x", "postgresql://lowpriv@(redacted)",
                     "invalid percent-encoded token: \"(redacted)\""] {
            #expect(PostgresLocation.redactingURLs(in: text) == text)
        }
        // A URL glued to a word holding "postgres", and two URLs in one token.
        #expect(PostgresLocation.redactingURLs(in: "mypostgres,postgresql://u:Secret99@h/db") == "mypostgres,postgresql://u@h/db")
        #expect(!PostgresLocation.redactingURLs(in: "postgresql://a@b/c,postgresql://u:Secret99@h/db").contains("Secret99"))
        // The client key's password parameter goes like the password (and what follows it is
        // only shown if libpq knows it).
        #expect(PostgresLocation.printable("postgresql://u@h/db?sslpassword=Kx5Sq7Wt&Ly8=1&sslmode=require") == "postgresql://u@h/db?sslmode=require")
        #expect(throws: EmbdiagError.usage("postgresql://u@h/db: libpq cannot read the URL: invalid URI query parameter: \"(redacted)\"")) {
            try PostgresLocation("postgresql://u@h/db?sslpassword=Kx5Sq7Wt&Ly8=1")
        }
        // A combining mark after the '@' of a valid URL: the user info is still found.
        let marked = "postgresql://lowpriv:Qb5Xr8Lz@\u{301}127.0.0.1:54329/postgres"
        #expect(try PostgresLocation(marked).redacted == "postgresql://lowpriv@\u{301}127.0.0.1:54329/postgres")
        #expect(PostgresLocation.connectionOptions(try PostgresLocation(marked).connectionURL)?.first { $0.key == "password" }?.value == "Qb5Xr8Lz")
        #expect(!PostgresLocation.redactingURLs(in: "cannot read \(marked): refused").contains("Qb5Xr8Lz"))
        #expect(PostgresLocation.isURL("postgresql://\u{301}h/db") && !PostgresLocation.isURL("postgresql:/\u{301}/h/db"))
        // Valid URLs print as before.
        #expect(PostgresLocation.printable("postgresql://u:pw@[::1]:5432/db?sslmode=require") == "postgresql://u@[::1]:5432/db?sslmode=require")
        #expect(PostgresLocation.printable("postgresql://u:@h/db") == "postgresql://u@h/db")
        #expect(PostgresLocation.printable("postgresql://u:5432@h:5433/db") == "postgresql://u@h:5433/db")
    }

    @Test func libpqsPercentMessagesLoseTheirToken() throws {
        let cases = [
            ("x: cannot connect: invalid percent-encoded token: \"S3cret%ZZ\"", "x: cannot connect: invalid percent-encoded token: \"(redacted)\""),
            ("invalid percent-encoded token: \"S3cret%ZZ\"; more", "invalid percent-encoded token: \"(redacted)\"; more"),
            ("{\"message\": \"invalid percent-encoded token: \\\"S3cret%ZZ\\\"\"}", "{\"message\": \"invalid percent-encoded token: \\\"(redacted)\\\"\"}"),
            ("forbidden value %00 in percent-encoded value: \"Kw2%00Vn5\"", "forbidden value %00 in percent-encoded value: \"(redacted)\""),
            ("Invalid Percent-Encoded Token: S3cret%ZZ and on", "Invalid Percent-Encoded Token: (redacted) and on"),
            ("invalid percent-encoded token: \"S3cret%ZZ", "invalid percent-encoded token: \"(redacted)"),
        ]
        for (text, expected) in cases {
            #expect(PostgresLocation.redactingURLs(in: text) == expected, "\(text)")
        }
    }

    /// libpq refuses an unknown parameter by quoting it: named, unless a password parameter comes
    /// first (its value may hold a raw '&', and the "parameter" be the rest of the password).
    @Test func libpqsURLErrorsAreRefusedBeforeConnecting() throws {
        #expect(throws: EmbdiagError.usage("postgresql://h/db?sslmdoe=require: libpq cannot read the URL: invalid URI query parameter: \"sslmdoe\"")) {
            try PostgresLocation("postgresql://h/db?sslmdoe=require")
        }
        #expect(throws: EmbdiagError.usage("postgresql://lowpriv@h/db: libpq cannot read the URL: invalid URI query parameter: \"(redacted)\"")) {
            try PostgresLocation("postgresql://lowpriv@h/db?password=Vg7&Je1=Lk")
        }
        for url in ["postgresql://lowpriv:Dh6Ql8Vu@[::1]x:54329/postgres", "postgresql://lowpriv:Ei7Rm9Wv@[::1", "postgresql://lowpriv:Ei7Rm9Wv@[]/db"] {
            do {
                _ = try PostgresLocation(url)
                Issue.record("\(url) was taken")
            } catch let e as EmbdiagError {
                #expect(e.description.contains("libpq cannot read the URL") && !e.description.contains("Dh6Ql8Vu") && !e.description.contains("Ei7Rm9Wv"), "\(e)")
            }
        }
    }

    /// Percent-encoded passwords are taken as before: libpq decodes them; they are never printed.
    @Test func percentEncodedPasswordsStillWork() throws {
        let location = try PostgresLocation("postgresql://u:Pc7%40Wd3%2FKs9%3FLm%23Q%25@h:5433/db?sslmode=require")
        #expect(location.redacted == "postgresql://u@h:5433/db?sslmode=require")
        #expect(PostgresLocation.connectionOptions(location.connectionURL)?.first { $0.key == "password" }?.value == "Pc7@Wd3/Ks9?Lm#Q%")
        let parameter = try PostgresLocation("postgresql://u@h/db?password=Pc7%40Wd3%2F%26x%3D&sslmode=require")
        #expect(parameter.redacted == "postgresql://u@h/db?sslmode=require")
        #expect(PostgresLocation.connectionOptions(parameter.connectionURL)?.first { $0.key == "password" }?.value == "Pc7@Wd3/&x=")
        // libpq knows the scheme in lower case only (found by the postgres-url fuzzer: it read
        // `POSTGRES://u:a&b=c@h` as a key=value string and quoted "POSTGRES://u:a&b").
        for url in ["POSTGRES://lowpri:Jn3&Wr5=Bc@127.0.0.1:54329/postgres", "PostgreSQL://u:Jn3Wr5Bc@h/db"] {
            let upper = try PostgresLocation(url)
            #expect(upper.connectionURL.hasPrefix("postgres") && upper.redacted.hasPrefix(String(url.prefix(8))), "\(upper.connectionURL)")
            #expect(PostgresLocation.connectionOptions(upper.connectionURL)?.first { $0.key == "password" }?.value.hasPrefix("Jn3") == true)
        }
        // A raw '&' or '=' in the user info is no parameter: libpq reads it as part of the password.
        let raw = try PostgresLocation("postgresql://u:Jn3&Wr5=Bc@h/db")
        #expect(raw.redacted == "postgresql://u@h/db")
        // embdiag's own parameters write '@' as %40 too: a message quoting the URL as written
        // hides everything up to its last '@' (found by the postgres-url fuzzer: a raw '@' in
        // `column=` made the printed form differ from what the filter makes of the raw URL).
        let own = try PostgresLocation("postgresql://u:pw@h/db?query=SELECT%20v%20FROM%20t%20WHERE%20e%20LIKE%20'%25%40x'")
        #expect(own.query == "SELECT v FROM t WHERE e LIKE '%@x'" && own.redacted == "postgresql://u@h/db")
        #expect(throws: EmbdiagError.usage(Refusal.atAfterHost)) {
            try PostgresLocation("postgresql://alice:s3cretpw@db.example:5432/app?table=items&column=embedding*postgres://bob@localhost")
        }
        #expect(PostgresLocation.printable("postgresql://alice:s3cretpw@db.example:5432/app?table=items&column=x@localhost")
                == "postgresql://alice:(redacted)@localhost")
    }

    /// A URL inside a key=value value is not read as a URL by libpq: refused; one inside a longer
    /// value is printed without its password.
    @Test func keyValueStringsDoNotCarryURLs() throws {
        let location = try PostgresLocation("host=h application_name='see postgresql://u:Secret99@h/db' dbname=x")
        #expect(!location.redacted.contains("Secret99") && location.redacted.contains("postgresql://u@h/db"), "\(location.redacted)")
    }

    /// A NUL ends a C string: libpq would run the SQL (or read the name) up to it while the report
    /// showed it whole (`query=…items%00%20WHERE%20id%20%3C%2010` read every row). Refused, with
    /// exit 2, in each place a NUL could reach libpq, naming the place and never the password.
    @Test func aNULIsRefusedWhereverItCouldReachLibpq() throws {
        let base = "postgresql://u:Pw7Secret@127.0.0.1:1/db"
        for (parameter, value) in [("query", "SELECT%20embedding%20FROM%20items%00%20WHERE%20id%20%3C%2010"),
                                   ("table", "items%00_archive"), ("column", "embedding%00x"), ("label_column", "id%00x")] {
            let url = "\(base)?\(parameter)=\(value)"
            let error = try #require(throws: EmbdiagError.self, "\(parameter)") { try PostgresLocation(url) }
            #expect(error.kind == .usage && error.exitCode == 2)
            #expect(error.message.contains("parameter '\(parameter)' holds %00") && !error.message.contains("Pw7Secret"), "\(error.message)")
            #expect(throws: EmbdiagError.self) { try PostgresReader.read(url, request: .init()) }
        }
        // libpq's own parameters (and the database name) are refused before libpq sees them.
        for url in ["\(base)?application_name=a%00b", "postgresql://u:Pw7Secret@127.0.0.1:1/db%00x"] {
            #expect(throws: EmbdiagError.usage(Refusal.escape), "\(url)") { try PostgresLocation(url) }
        }
        // A key=value string: the keyword is named, its value is not.
        for (text, key) in [("host=127.0.0.1 port=1 dbname=db\0x user=u", "dbname"), ("host=127.0.0.1 port=1 password=Pw7\0Secret dbname=db", "password")] {
            let error = try #require(throws: EmbdiagError.self, "\(key)") { try PostgresLocation(text) }
            #expect(error.message.contains("the value of '\(key)'") && error.message.contains("NUL") && !error.message.contains("Pw7"), "\(error.message)")
        }
        // --query, --table, --column, --label-column (command line, audit file, library): refused
        // before connecting (nothing listens on port 1), naming the option.
        let requests: [(PostgresReader.Request, Setting)] = [
            (.init(query: "SELECT embedding FROM items\0 WHERE id < 10"), .query), (.init(table: "items\0_archive"), .table),
            (.init(table: "items", column: "embedding\0x"), .column), (.init(table: "items", labelColumn: "id\0x"), .labelColumn),
        ]
        for (request, setting) in requests {
            let error = try #require(throws: EmbdiagError.self, "\(setting)") { try PostgresReader.read(base, request: request) }
            #expect(error.kind == .usage && error.message.contains("\(setting) holds a NUL character"), "\(error.message)")
        }
    }
}
