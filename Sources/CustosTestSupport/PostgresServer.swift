import Foundation
import Synchronization
import WorkerThreads

#if canImport(Glibc)
    import Glibc
#endif

/// A throwaway PostgreSQL 15 server for tests and benchmarks: `initdb` in a temporary directory and
/// `pg_ctl` on a free loopback port, trust authentication for one user. PostgreSQL refuses to run as
/// root, so when the tests run as root (CI) the server runs as the `postgres` system user that Debian's
/// package creates. `stop()` (or deinit) stops it and removes the directory.
public final class PostgresServer: @unchecked Sendable {
    // @unchecked: every property is set in init; `stopped` is only touched by stop() under `lock`.
    public let directory: String
    public let port: Int
    public let user = "custos"
    public let database = "custos"
    private let runAs: String?
    private let settings: [String: String]
    /// `postgres` options: port, socket directory, loopback only, no fsync, `settings`.
    private var options: String { Self.options(port: port, directory: directory, settings: settings) }
    private let lock = NSLock()
    private var stopped = false

    /// Debian's PostgreSQL 15 programs.
    public static let binaries = "/usr/lib/postgresql/15/bin"

    /// Whether PostgreSQL 15 is installed.
    public static var isInstalled: Bool { FileManager.default.isExecutableFile(atPath: binaries + "/initdb") }

    /// Starts a new server; `settings` are extra `postgres -c` settings (name → value).
    public init(port: Int, settings: [String: String] = [:]) throws {
        (directory, runAs) = try Self.makeDirectory()
        self.port = port
        self.settings = settings
        try run(
            "initdb",
            ["-D", directory + "/data", "-U", user, "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"]
        )
        try start(options: options)
        try run(
            "psql",
            ["-h", "127.0.0.1", "-p", "\(port)", "-U", user, "-d", "postgres", "-c", "CREATE DATABASE \(database)"]
        )
    }

    /// Starts a streaming replica of `primary` (a hot standby: reads only), as a second site would run.
    /// It holds every database of the primary and follows its changes.
    public init(replicaOf primary: PostgresServer, port: Int) throws {
        (directory, runAs) = try Self.makeDirectory()
        self.port = port
        settings = [:]
        // -R writes the standby signal and the connection to the primary; initdb's trust rules allow
        // replication from 127.0.0.1. A fast checkpoint: the default spreads it over minutes.
        try run(
            "pg_basebackup",
            [
                "-h", "127.0.0.1", "-p", "\(primary.port)", "-U", user, "-D", directory + "/data", "-R", "-X", "stream",
                "-c", "fast",
                "--no-sync",
            ]
        )
        try start(options: options)
    }

    /// A new temporary directory the server's user owns.
    private static func makeDirectory() throws -> (String, runAs: String?) {
        guard isInstalled else {
            throw TestSupportError("PostgreSQL 15 is not installed (apt-get install postgresql-15)")
        }
        let template = NSTemporaryDirectory() + "custos-pg-XXXXXX"
        var path = Array(template.utf8CString)
        guard mkdtemp(&path) != nil else { throw TestSupportError("mkdtemp failed for \(template)") }
        let directory = String(decoding: path.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let runAs = getuid() == 0 ? "postgres" : nil
        if runAs != nil {
            // The server's own user must own its directory (and reach it through /tmp).
            _ = try runCommand("/bin/chown", ["postgres:postgres", directory])
            chmod(directory, 0o700)
        }
        return (directory, runAs)
    }

    private static func options(port: Int, directory: String, settings: [String: String]) -> String {
        var options = ["-p \(port)", "-k \(directory)", "-c listen_addresses=127.0.0.1", "-c fsync=off"]
        for (name, value) in settings.sorted(by: { $0.key < $1.key }) { options.append("-c \(name)=\(value)") }
        return options.joined(separator: " ")
    }

    /// The store URL of a database on this server (a replica holds the primary's).
    public func url(database name: String) -> String { "postgres://\(user)@127.0.0.1:\(port)/\(name)" }

    deinit { stop() }

    /// The store URL of the database.
    public var url: String { "postgres://\(user)@127.0.0.1:\(port)/\(database)" }

    /// Runs `sql` with psql and returns its unaligned, tuples-only output.
    public func psql(_ sql: String) throws -> String {
        try run(
            "psql",
            ["-h", "127.0.0.1", "-p", "\(port)", "-U", user, "-d", database, "-At", "-v", "ON_ERROR_STOP=1", "-c", sql]
        )
        .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// A new, empty database on this server; its store URL.
    public func newDatabase() async throws -> String {
        let name = "custos_" + UUID().uuidString.prefix(8).lowercased()
        _ = try await runOnDedicatedThread(name: "custos-test-psql") { [self] in
            try run(
                "psql",
                ["-h", "127.0.0.1", "-p", "\(port)", "-U", user, "-d", "postgres", "-c", "CREATE DATABASE \(name)"]
            )
        }
        return "postgres://\(user)@127.0.0.1:\(port)/\(name)"
    }

    private static let sharedServer = Mutex<Task<PostgresServer, any Error>?>(nil)

    /// Stops the server of `directory` at once (SIGQUIT to the postmaster, as `pg_ctl -m immediate`)
    /// and removes the directory: only system calls, so that it may run at exit.
    static func kill(directory: String) {
        if let text = try? String(contentsOfFile: directory + "/data/postmaster.pid", encoding: .utf8),
            let line = text.split(separator: "\n").first, let pid = Int32(line)
        {
            Glibc.kill(pid, SIGQUIT)
        }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// One server for a whole test process, started at first use (on a port the kernel picked free).
    /// Started on a dedicated thread: a blocked cooperative thread would starve the dispatch threads
    /// that tell Foundation's `Process` its child has exited.
    public static func shared() async throws -> PostgresServer {
        let task = sharedServer.withLock { current in
            if let current { return current }
            let started = Task {
                let server = try await runOnDedicatedThread(name: "custos-test-pg") {
                    try PostgresServer(port: freeLoopbackPort())
                }
                // The process ends without deinitialising statics: stop the server on the way out.
                sharedPostgresDirectory.withLock { $0 = server.directory }
                atexit(stopSharedPostgres)
                return server
            }
            current = started
            return started
        }
        return try await task.value
    }

    /// Stops the server fast: connections are cut, as when a primary fails.
    public func pause() async throws {
        _ = try await runOnDedicatedThread(name: "custos-test-pg") { [self] in
            try run("pg_ctl", ["-D", directory + "/data", "-m", "fast", "-w", "stop"])
        }
    }

    /// Starts the server again after `pause()`.
    public func resume() async throws {
        try await runOnDedicatedThread(name: "custos-test-pg") { [self] in try start(options: options) }
    }

    /// Stops the server and removes its directory.
    /// `stop()` on a thread of its own, not waited for: for a `defer` in an async test, which must not
    /// hold one of the cooperative pool's two threads while `pg_ctl` waits (servers in the test process
    /// need them). The test's normal end calls `stopAndWait()`; this covers the paths that throw.
    public func stopInBackground() {
        let server = self
        Thread { server.stop() }.start()
    }

    /// `stop()` on a thread of its own, awaited without holding a cooperative thread.
    public func stopAndWait() async throws {
        let server = self
        try await runOnDedicatedThread(name: "custos-test-postgres-stop") { server.stop() }
    }

    public func stop() {
        lock.lock()
        defer { lock.unlock() }
        guard !stopped else { return }
        stopped = true
        _ = try? run("pg_ctl", ["-D", directory + "/data", "-m", "immediate", "-w", "stop"])
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// `pg_ctl start` through Python's `subprocess`, which closes every inherited descriptor: the server
    /// it leaves running must hold none of ours (a pipe, or the socket by which Foundation's `Process`
    /// notices its child's exit), or whoever waits for them to close waits forever.
    private func start(options: String) throws {
        let pgctl = ["pg_ctl", "-D", directory + "/data", "-w", "-l", directory + "/log", "-o", options, "start"]
        let script =
            "import subprocess, sys; d = subprocess.DEVNULL; "
            + "sys.exit(subprocess.call(sys.argv[1:], stdin=d, stdout=d, stderr=d, close_fds=True))"
        let command =
            (runAs.map { ["/usr/sbin/runuser", "-u", $0, "--"] } ?? []) + [Self.binaries + "/" + pgctl[0]]
            + pgctl.dropFirst()
        let result = try runCommand("/usr/bin/python3", ["-c", script] + command)
        guard result.status == 0 else {
            let log = (try? String(contentsOfFile: directory + "/log", encoding: .utf8)) ?? ""
            throw TestSupportError("pg_ctl start failed (\(result.status)): \(log.suffix(2000))")
        }
    }

    @discardableResult
    private func run(_ program: String, _ arguments: [String]) throws -> String {
        let executable = Self.binaries + "/" + program
        let result =
            if let runAs {
                try runCommand("/usr/sbin/runuser", ["-u", runAs, "--", executable] + arguments)
            } else {
                try runCommand(executable, arguments)
            }
        guard result.status == 0 else {
            let log = (try? String(contentsOfFile: directory + "/log", encoding: .utf8)) ?? ""
            throw TestSupportError(
                "\(program) failed (\(result.status)): \(result.stderr) \(result.stdout) \(log.suffix(2000))"
            )
        }
        return result.stdout
    }
}

/// A test fixture that could not be set up.
public struct TestSupportError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A TCP port on 127.0.0.1 that nothing listens on now (the kernel's choice).
public func freeLoopbackPort() throws -> Int {
    let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard socket >= 0 else { throw TestSupportError("socket() failed") }
    defer { close(socket) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0
        }
    }
    guard bound else { throw TestSupportError("bind() failed") }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// The shared server's directory, for `stopSharedPostgres` at exit.
private let sharedPostgresDirectory = Mutex<String?>(nil)

private func stopSharedPostgres() {
    guard let directory = sharedPostgresDirectory.withLock({ $0 }) else { return }
    PostgresServer.kill(directory: directory)
}
