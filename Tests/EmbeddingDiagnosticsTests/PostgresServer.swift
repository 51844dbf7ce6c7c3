import Foundation
import Testing
@testable import EmbeddingDiagnostics

/// A throwaway PostgreSQL 15 server for the tests: `initdb` in a temporary folder, listening on
/// 127.0.0.1 (a free port, password auth, scram-sha-256) and on a Unix socket in that folder,
/// stopped and deleted at the end of the suite (also when a test fails). As root, the server runs
/// as the `postgres` user (created by Debian's postgresql package, which scripts/install-deps
/// installs): initdb and postgres refuse to run as root.
///
/// Missing server binaries are a test failure, not a skip: CI must exercise this reader.
final class PostgresServer: Sendable {
    static let binDirectory = ProcessInfo.processInfo.environment["EMBDIAG_PG_BINDIR"] ?? "/usr/lib/postgresql/15/bin"
    static let user = "embdiag"
    static let password = "s3cret-Test-Pw"

    @TaskLocal static var current: PostgresServer?

    /// Where the server's folder goes: as root /tmp (the 'postgres' user must reach it, which a
    /// private TMPDIR may not allow), else the temporary directory.
    static var temporaryBase: String { getuid() == 0 ? "/tmp/" : NSTemporaryDirectory() }

    let directory: String
    let port: Int
    let runAs: (uid: uid_t, gid: gid_t)?

    struct Failure: Error, CustomStringConvertible { let description: String }

    /// URL of database `db` as `user`, with `password` in it (nil = none in the URL).
    func url(password: String? = PostgresServer.password, database: String = "postgres") -> String {
        "postgresql://\(Self.user)\(password.map { ":" + $0 } ?? "")@127.0.0.1:\(port)/\(database)"
    }

    /// The server's log (every statement is logged: the streaming test counts FETCHes).
    var log: String { (try? String(contentsOfFile: directory + "/server.log", encoding: .utf8)) ?? "" }

    /// A superuser connection (read-write) for setting up tables.
    func admin() throws -> PostgresConnection { try PostgresConnection(PostgresLocation(url()), writable: true) }

    static func start() throws -> PostgresServer {
        let initdb = binDirectory + "/initdb", pgCtl = binDirectory + "/pg_ctl"
        guard FileManager.default.isExecutableFile(atPath: initdb), FileManager.default.isExecutableFile(atPath: pgCtl) else {
            throw Failure(description: "PostgreSQL 15 server binaries not found in \(binDirectory) (initdb, pg_ctl): run scripts/install-deps (Debian package postgresql-15), or set EMBDIAG_PG_BINDIR")
        }
        var runAs: (uid: uid_t, gid: gid_t)?
        if getuid() == 0 {
            guard let pw = getpwnam("postgres") else {
                throw Failure(description: "running as root, and there is no 'postgres' user to run initdb/postgres as (scripts/install-deps creates it)")
            }
            runAs = (pw.pointee.pw_uid, pw.pointee.pw_gid)
        }
        removeAbandonedServers()
        var template = Array((temporaryBase + "embdiag-pg-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw Failure(description: "mkdtemp failed: \(String(cString: strerror(errno)))") }
        let directory = String(cString: made)
        if let runAs { chown(directory, runAs.uid, runAs.gid) }
        try? String(getpid()).write(toFile: directory + "/owner.pid", atomically: false, encoding: .utf8)
        var server: PostgresServer?
        do {
            let passwordFile = directory + "/pwfile"
            try password.write(toFile: passwordFile, atomically: false, encoding: .utf8)
            if let runAs { chown(passwordFile, runAs.uid, runAs.gid) }
            try run(initdb, ["-D", directory + "/data", "-U", user, "--pwfile=" + passwordFile, "-A", "scram-sha-256",
                             "--auth-local=trust", "-E", "UTF8", "--locale=C", "-N"], runAs: runAs, log: directory + "/initdb.log")
            // A free port can be taken between the probe and the start: try a few.
            var lastError: Error?
            for _ in 0..<3 {
                let port = try freePort()
                do {
                    try run(pgCtl, ["-D", directory + "/data", "-l", directory + "/server.log", "-w", "-t", "60", "-o",
                                    "-k \(directory) -p \(port) -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c log_statement=all",
                                    "start"], runAs: runAs, log: directory + "/pg_ctl.log")
                    server = PostgresServer(directory: directory, port: port, runAs: runAs)
                    break
                } catch { lastError = error }
            }
            guard let server else { throw lastError ?? Failure(description: "pg_ctl start failed") }
            return server
        } catch {
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
    }

    private init(directory: String, port: Int, runAs: (uid: uid_t, gid: gid_t)?) {
        self.directory = directory
        self.port = port
        self.runAs = runAs
    }

    /// Stops the server (immediate shutdown) and deletes its folder.
    func stop() {
        try? Self.run(Self.binDirectory + "/pg_ctl", ["-D", directory + "/data", "-m", "immediate", "-w", "stop"],
                      runAs: runAs, log: directory + "/pg_ctl-stop.log")
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// A test process that crashed (a trap skips every `defer`) leaves its server running: stop the
    /// servers whose owning process is gone (servers of test runs still alive are left alone).
    static func removeAbandonedServers() {
        let temporary = temporaryBase
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: temporary)) ?? [] where entry.hasPrefix("embdiag-pg-") {
            let directory = temporary + entry
            guard let text = try? String(contentsOfFile: directory + "/owner.pid", encoding: .utf8), let owner = pid_t(text),
                  kill(owner, 0) != 0 && errno == ESRCH else { continue }
            var runAs: (uid: uid_t, gid: gid_t)?
            if getuid() == 0, let pw = getpwnam("postgres") { runAs = (pw.pointee.pw_uid, pw.pointee.pw_gid) }
            if FileManager.default.fileExists(atPath: directory + "/data/postmaster.pid") {
                try? run(binDirectory + "/pg_ctl", ["-D", directory + "/data", "-m", "immediate", "-w", "stop"], runAs: runAs, log: directory + "/pg_ctl-stop.log")
            }
            try? FileManager.default.removeItem(atPath: directory)
        }
    }

    /// Runs a server binary (through runuser as root), output to `log`; throws with the log's end.
    /// posix_spawn + waitpid rather than Foundation's Process, whose waitUntilExit never returned
    /// here once pg_ctl had left the server running in the background.
    static func run(_ executable: String, _ arguments: [String], runAs: (uid: uid_t, gid: gid_t)?, log: String) throws {
        FileManager.default.createFile(atPath: log, contents: nil)
        if let runAs { chown(log, runAs.uid, runAs.gid) }
        var argv = [executable] + arguments
        if runAs != nil {
            let runuser = ["/usr/sbin/runuser", "/sbin/runuser"].first { FileManager.default.isExecutableFile(atPath: $0) }
            guard let runuser else { throw Failure(description: "running as root needs runuser (util-linux) to start PostgreSQL as 'postgres'") }
            argv = [runuser, "-u", "postgres", "--"] + argv
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_APPEND, 0)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let cArguments = argv.map { strdup($0) } + [nil]
        defer { cArguments.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, argv[0], &actions, nil, cArguments, environ)
        guard spawned == 0 else { throw Failure(description: "cannot start \(argv[0]): \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let exited = (status & 0x7F) == 0, code = (status >> 8) & 0xFF
        guard exited && code == 0 else {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            throw Failure(description: "\(URL(fileURLWithPath: executable).lastPathComponent) \(arguments.last ?? "") failed (wait status \(status)): \(text.suffix(600))")
        }
    }

    /// A TCP port that was free on 127.0.0.1 a moment ago.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        guard bound == 0 else { throw Failure(description: "bind() failed") }
        let named = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        guard named == 0 else { throw Failure(description: "getsockname() failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// Suite trait: one server for the whole suite, stopped when the suite ends however it ends.
/// In-process reads put the password in the URL (which wins over PGPASSWORD and ~/.pgpass);
/// tests of the environment run the CLI with its own environment.
struct PostgresServerTrait: SuiteTrait, TestScoping {
    var isRecursive: Bool { false }

    func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        let server = try PostgresServer.start()
        defer { server.stop() }
        try await PostgresServer.$current.withValue(server) { try await function() }
    }
}

extension Trait where Self == PostgresServerTrait {
    /// Runs the suite against a fresh PostgreSQL server (`PostgresServer.current`).
    static var postgresServer: PostgresServerTrait { PostgresServerTrait() }
}
