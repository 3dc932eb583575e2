import CustosTestSupport
import Foundation

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

// Single-node REST issuance on PostgreSQL against LMDB, measured in one run, and what one certificate
// costs the database.
//
// Two `custos serve` processes (each on its own SoftHSM token): one on LMDB in its data directory, one
// on a throwaway PostgreSQL 15 with durable commits (fsync on, synchronous_commit on) and
// pg_stat_statements. wrk posts one CSR (P-256, device category) per request to an ECDSA P-256 CA from
// 32 connections; rounds alternate LMDB and PostgreSQL so that drift hits both alike; the figure is
// the median of the per-round ratios. During the PostgreSQL rounds the bench reads the database's own
// counters (statements, rows written, WAL bytes, commits) and the CPU time of the PostgreSQL processes.
// Usage: ClusterBench --custos PATH [--rounds 5] [--seconds 3]

let arguments = CommandLine.arguments
func option(_ name: String) -> String? {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}
guard let custos = option("--custos") else {
    FileHandle.standardError.write(Data("usage: ClusterBench --custos PATH [--rounds N] [--seconds S]\n".utf8))
    exit(2)
}
let rounds = Int(option("--rounds") ?? "5") ?? 5
let seconds = Int(option("--seconds") ?? "3") ?? 3

struct Failure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

func which(_ name: String) throws -> String {
    for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
        let candidate = "\(directory)/\(name)"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    throw Failure("\(name) is not installed (apt-get install \(name))")
}

let work = FileManager.default.temporaryDirectory.appendingPathComponent("custos-clusterbench-\(UUID())").path
try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
let postgres = try PostgresServer(
    port: try freeLoopbackPort(),
    settings: ["fsync": "on", "synchronous_commit": "on", "shared_preload_libraries": "pg_stat_statements"]
)
_ = try postgres.psql("CREATE EXTENSION pg_stat_statements")

/// A running `custos serve`: its base URL and administrator token.
final class Node {
    let process = Process()
    let base: String
    let admin: String

    init(name: String, binary: String, work: String, store: String?) throws {
        let directory = "\(work)/\(name)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments =
            ["serve", "--data-dir", directory, "--port", "0", "--sessions", "2"]
            + (store.map { ["--store", $0] } ?? [])
        var environment = ProcessInfo.processInfo.environment
        environment["CUSTOS_PROFILES_DIR"] =
            environment["CUSTOS_PROFILES_DIR"]
            ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath).deletingLastPathComponent()
            .appendingPathComponent("HSMProfiles").path
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        var printed = ""
        var port: Int?
        while port == nil {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else { throw Failure("custos serve stopped: \(printed)") }
            printed += String(decoding: chunk, as: UTF8.self)
            if let range = printed.range(of: #"serving HTTP on [^:]+:(\d+)"#, options: .regularExpression) {
                port = Int(printed[range].split(separator: ":").last!)
            }
        }
        Thread.detachNewThread { while !output.fileHandleForReading.availableData.isEmpty {} }
        base = "http://127.0.0.1:\(port!)"
        admin = try String(contentsOfFile: "\(directory)/admin.token", encoding: .utf8)
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func post(_ path: String, _ json: [String: Any]) async throws {
        var request = URLRequest(url: URL(string: base + path)!)
        request.httpMethod = "POST"
        request.setValue("Bearer \(admin)", forHTTPHeaderField: "Authorization")
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.httpBody = try JSONSerialization.data(withJSONObject: json)
        let (data, response) = try await URLSession.shared.data(for: request)
        guard let http = response as? HTTPURLResponse, (200..<300).contains(http.statusCode) else {
            throw Failure("POST \(path): \(String(decoding: data, as: UTF8.self))")
        }
    }

    func stop() { kill(process.processIdentifier, SIGKILL) }
}

let lmdb = try Node(name: "lmdb", binary: custos, work: work, store: nil)
let onPostgres = try Node(name: "postgres", binary: custos, work: work, store: postgres.url)
defer {
    lmdb.stop()
    onPostgres.stop()
    postgres.stop()
    try? FileManager.default.removeItem(atPath: work)
}
for node in [lmdb, onPostgres] {
    try await node.post("/v1/cas", ["id": "bench-ca", "subject": "CN=Bench CA", "algorithm": "ec-p256"])
}

let openssl = Process()
openssl.executableURL = URL(fileURLWithPath: try which("openssl"))
openssl.arguments = [
    "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "\(work)/bench.key",
    "-subj", "/CN=bench device", "-out", "\(work)/bench.csr",
]
openssl.standardError = FileHandle.nullDevice
try openssl.run()
openssl.waitUntilExit()
let csr = try String(contentsOfFile: "\(work)/bench.csr", encoding: .utf8)
let body =
    "[["
    + String(decoding: try JSONSerialization.data(withJSONObject: ["csr": csr, "category": "device"]), as: UTF8.self)
    + "]]"

struct WrkResult {
    var requests: Int
    var requestsPerSecond: Double
    var p50: Double
    var p99: Double
    var errors: Int
}

func wrk(_ node: Node, connections: Int = 32, duration: Int = seconds) throws -> WrkResult {
    let script = "\(work)/wrk-\(UUID()).lua"
    try """
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/json"
    wrk.headers["Authorization"] = "Bearer \(node.admin)"
    wrk.body = \(body)
    function done(summary, latency, requests)
      local errors = summary.errors.status + summary.errors.connect + summary.errors.read
        + summary.errors.write + summary.errors.timeout
      io.write(string.format("RESULT %d %f %f %f %d\\n", summary.requests, summary.duration / 1e6,
        latency:percentile(50) / 1000, latency:percentile(99) / 1000, errors))
    end
    """.write(toFile: script, atomically: true, encoding: .utf8)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: try which("wrk"))
    process.arguments = [
        "-t", "2", "-c", "\(connections)", "-d", "\(duration)s", "-s", script,
        node.base + "/v1/cas/bench-ca/certificates",
    ]
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("RESULT ") }) else {
        throw Failure("wrk printed no result: \(text)")
    }
    let fields = line.split(separator: " ").dropFirst().map(String.init)
    let requests = Int(fields[0]) ?? 0
    return WrkResult(
        requests: requests,
        requestsPerSecond: Double(requests) / (Double(fields[1]) ?? 1),
        p50: Double(fields[2]) ?? 0,
        p99: Double(fields[3]) ?? 0,
        errors: Int(fields[4]) ?? 0
    )
}

/// The database's counters: statements (pg_stat_statements), rows written, WAL bytes, commits, and the
/// CPU seconds of every PostgreSQL process.
struct DatabaseCounters {
    var statements: Double
    var rows: Double
    var walBytes: Double
    var commits: Double
    var cpuSeconds: Double

    static func read() throws -> DatabaseCounters {
        let line = try postgres.psql(
            "SELECT (SELECT sum(calls) FROM pg_stat_statements), "
                + "(SELECT tup_inserted + tup_updated + tup_deleted FROM pg_stat_database WHERE datname = 'custos'), "
                + "(SELECT wal_bytes FROM pg_stat_wal), "
                + "(SELECT xact_commit FROM pg_stat_database WHERE datname = 'custos')"
        )
        let values = line.split(separator: "|").map { Double($0) ?? 0 }
        return DatabaseCounters(
            statements: values[0],
            rows: values[1],
            walBytes: values[2],
            commits: values[3],
            cpuSeconds: postgresCPUSeconds()
        )
    }

    static func - (lhs: Self, rhs: Self) -> Self {
        DatabaseCounters(
            statements: lhs.statements - rhs.statements,
            rows: lhs.rows - rhs.rows,
            walBytes: lhs.walBytes - rhs.walBytes,
            commits: lhs.commits - rhs.commits,
            cpuSeconds: lhs.cpuSeconds - rhs.cpuSeconds
        )
    }
}

/// utime + stime of every process run by the postgres user (the bench's server is the only one).
func postgresCPUSeconds() -> Double {
    let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
    var total = 0.0
    for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] where Int(entry) != nil {
        guard let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
            let command = try? String(contentsOfFile: "/proc/\(entry)/comm", encoding: .utf8),
            command.hasPrefix("postgres")
        else { continue }
        let fields = stat.split(separator: ")").last?.split(separator: " ") ?? []
        // After the command: state is field 3, utime 14 and stime 15 (1-based, counted from the pid).
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { continue }
        total += (user + system) / ticks
    }
    return total
}

// Warm both (connections, caches, the CA's key handle).
_ = try wrk(lmdb, connections: 8, duration: 1)
_ = try wrk(onPostgres, connections: 8, duration: 1)
var lmdbRates: [Double] = []
var postgresRates: [Double] = []
var ratios: [Double] = []
var errors = 0
var cost = DatabaseCounters(statements: 0, rows: 0, walBytes: 0, commits: 0, cpuSeconds: 0)
var certificates = 0
var postgresLatency = (p50: 0.0, p99: 0.0)
var lmdbLatency = (p50: 0.0, p99: 0.0)
for _ in 0..<rounds {
    let onLMDB = try wrk(lmdb)
    let before = try DatabaseCounters.read()
    let onPG = try wrk(onPostgres)
    let after = try DatabaseCounters.read()
    let delta = after - before
    cost.statements += delta.statements
    cost.rows += delta.rows
    cost.walBytes += delta.walBytes
    cost.commits += delta.commits
    cost.cpuSeconds += delta.cpuSeconds
    certificates += onPG.requests
    errors += onLMDB.errors + onPG.errors
    lmdbRates.append(onLMDB.requestsPerSecond)
    postgresRates.append(onPG.requestsPerSecond)
    ratios.append(onPG.requestsPerSecond / onLMDB.requestsPerSecond)
    postgresLatency = (onPG.p50, onPG.p99)
    lmdbLatency = (onLMDB.p50, onLMDB.p99)
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
}

let perCertificate = Double(max(certificates, 1))
print("")
print("| single-node issuance, 32 connections | certificates/s | p50 / p99 (last round) |")
print("| --- | --- | --- |")
print(
    "| LMDB (embedded) | \(Int(median(lmdbRates))) | "
        + String(format: "%.1f / %.1f ms", lmdbLatency.p50, lmdbLatency.p99)
        + " |"
)
print(
    "| PostgreSQL 15 (fsync, synchronous commit) | \(Int(median(postgresRates))) | "
        + String(format: "%.1f / %.1f ms", postgresLatency.p50, postgresLatency.p99) + " |"
)
print("PostgreSQL ÷ LMDB: " + String(format: "%.2f", median(ratios)) + " (bar ≥ 0.50)")
print(
    "  per round (LMDB → PostgreSQL): "
        + zip(lmdbRates, postgresRates).map { "\(Int($0)) → \(Int($1))" }.joined(separator: ", ")
)
print("")
print("What one certificate cost PostgreSQL (\(certificates) certificates over \(rounds) rounds):")
print(
    String(
        format: "  statements %.2f, rows written %.2f, WAL %.0f bytes, commits %.3f, server CPU %.0f µs",
        cost.statements / perCertificate,
        cost.rows / perCertificate,
        cost.walBytes / perCertificate,
        cost.commits / perCertificate,
        cost.cpuSeconds / perCertificate * 1e6
    )
)
if errors > 0 { print("  \(errors) requests failed") }
// `exit` skips the top-level `defer`: stop the servers and the database first.
lmdb.stop()
onPostgres.stop()
postgres.stop()
try? FileManager.default.removeItem(atPath: work)
exit(errors > 0 ? 1 : 0)
