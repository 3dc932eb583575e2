import CSignLoop
import Foundation
import PKCS11

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

// The CryptoAPI under HTTP load as a ratio of the raw limit, measured in one run on one token:
//
// - raw: the plain C C_Sign loop (CSignLoop, no Custos code), 2 threads with a session each, on the
//   token of a running `custos serve`, with the key the server generated;
// - batch: wrk (a second process) posting 64 digests per request;
// - single: wrk posting one digest per request from 64 connections (the server coalesces them);
// - latency: wrk paced at half the single-request maximum, p50/p99.
//
// Rounds alternate raw, batch and single so that a shared machine's drift hits all alike; each
// figure is the median of the per-round ratios. Usage:
//   HTTPBench --custos PATH [--rounds 5] [--seconds 3] [--only signing|issuance]
//             [--module /usr/lib/softhsm/libsofthsm2.so]
//
// Issuance: wrk posts one CSR (P-256, device category) per request to an ECDSA P-256 CA from 32
// connections; each answer is a new certificate, signed in the HSM and durably stored. Its raw limit
// is the C loop signing with the CA's own key.

let arguments = CommandLine.arguments
func option(_ name: String) -> String? {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}
guard let custos = option("--custos") else {
    FileHandle.standardError.write(
        Data("usage: HTTPBench --custos PATH-TO-RELEASE-CUSTOS [--rounds N] [--seconds S]\n".utf8)
    )
    exit(2)
}
let rounds = Int(option("--rounds") ?? "5") ?? 5
let seconds = Int(option("--seconds") ?? "3") ?? 3
let modulePath = option("--module") ?? "/usr/lib/softhsm/libsofthsm2.so"
let sessions = 2
let batchSize = 64
let singleConnections = 64
let only = option("--only")

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

// MARK: - The server

let directory = FileManager.default.temporaryDirectory.appendingPathComponent("custos-httpbench-\(UUID())").path
try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
let server = Process()
server.executableURL = URL(fileURLWithPath: custos)
server.arguments = ["serve", "--data-dir", directory, "--port", "0", "--sessions", "\(sessions)"]
let serverOutput = Pipe()
server.standardOutput = serverOutput
server.standardError = serverOutput
// HSM profiles of the repository this package sits in (make bench-http runs from Bench/).
var serverEnvironment = ProcessInfo.processInfo.environment
serverEnvironment["CUSTOS_PROFILES_DIR"] =
    serverEnvironment["CUSTOS_PROFILES_DIR"]
    ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath).deletingLastPathComponent()
    .appendingPathComponent("HSMProfiles").path
server.environment = serverEnvironment
try server.run()
// A thrown error leaves through this defer; `exit` at the end does not, so it stops the server itself.
defer { kill(server.processIdentifier, SIGKILL) }
var printed = ""
var port: Int?
while port == nil {
    let chunk = serverOutput.fileHandleForReading.availableData
    guard !chunk.isEmpty else { throw Failure("custos serve stopped: \(printed)") }
    printed += String(decoding: chunk, as: UTF8.self)
    if let range = printed.range(of: #"serving HTTP on [^:]+:(\d+)"#, options: .regularExpression) {
        port = Int(printed[range].split(separator: ":").last!)
    }
}
let base = "http://127.0.0.1:\(port!)"
// Keep draining the server's output so it never blocks on a full pipe.
Thread.detachNewThread { while !serverOutput.fileHandleForReading.availableData.isEmpty {} }

func call(_ method: String, _ path: String, token: String, json: [String: Any]) async throws -> [String: Any] {
    var request = URLRequest(url: URL(string: base + path)!)
    request.httpMethod = method
    request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
    request.setValue("application/json", forHTTPHeaderField: "Content-Type")
    request.httpBody = try JSONSerialization.data(withJSONObject: json)
    let (data, response) = try await URLSession.shared.data(for: request)
    guard let http = response as? HTTPURLResponse, (200..<300).contains(http.statusCode) else {
        throw Failure("\(method) \(path): \(String(decoding: data, as: UTF8.self))")
    }
    return (try JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
}

let admin = try String(contentsOfFile: "\(directory)/admin.token", encoding: .utf8)
    .trimmingCharacters(in: .whitespacesAndNewlines)
let signerToken =
    try await call("POST", "/v1/credentials", token: admin, json: ["role": "signer", "keys": ["bench-*"]])["token"]
    as? String ?? ""

// MARK: - Measurements

struct Case {
    var name: String
    var key: String
    var algorithm: String
    var scheme: SignatureScheme
}
let cases = [
    Case(name: "ECDSA P-256", key: "bench-ec", algorithm: "ec-p256", scheme: .ecdsa(.sha256)),
    Case(name: "RSA-2048 PKCS#1", key: "bench-rsa", algorithm: "rsa-2048", scheme: .rsaPKCS1v15(.sha256)),
]
for testCase in cases {
    _ = try await call("POST", "/v1/keys", token: admin, json: ["name": testCase.key, "algorithm": testCase.algorithm])
}

setenv("SOFTHSM2_CONF", "\(directory)/softhsm2.conf", 1)
let userPIN = try String(contentsOfFile: "\(directory)/user.pin", encoding: .utf8)
    .trimmingCharacters(in: .whitespacesAndNewlines)
let digest = [UInt8](repeating: 0x5A, count: 32)

/// The raw limit: signatures per second from the C loop on the server's token and key.
func raw(_ testCase: Case) throws -> Double {
    let prepared = try testCase.scheme.prepare(.digest(digest))
    var result = csl_result()
    let rc = prepared.data.withUnsafeBufferPointer { buffer in
        csl_run(
            modulePath,
            "custos-dev",
            userPIN,
            testCase.key,
            prepared.mechanism.type.rawValue,
            buffer.baseAddress,
            UInt(buffer.count),
            Int32(sessions),
            Double(seconds),
            &result
        )
    }
    guard rc == 0, result.errors == 0 else {
        throw Failure("raw loop failed: \(rc), errors \(result.errors), rv 0x\(String(result.first_error, radix: 16))")
    }
    return Double(result.operations) / result.seconds
}

struct WrkResult {
    var requestsPerSecond: Double
    var p50: Double
    var p99: Double
    var errors: Int
}

/// Runs wrk with a Lua script that posts `body`; `pace` (requests per second over all connections)
/// paces each connection with wrk's `delay()`.
func wrk(_ path: String, body: String, connections: Int, pace: Double? = nil, token: String = signerToken) throws
    -> WrkResult
{
    let script = "\(directory)/wrk-\(UUID()).lua"
    // Random gaps averaging the pace's interval: fixed gaps keep the connections in lockstep, which
    // turns a steady rate into bursts as large as the connection count.
    let delay = pace.map { "function delay() return math.random() * 2 * \(Double(connections) / $0 * 1000) end" } ?? ""
    try """
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/json"
    wrk.headers["Authorization"] = "Bearer \(token)"
    wrk.body = [[\(body)]]
    \(delay)
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
        "-t", "1", "-c", "\(connections)", "-d", "\(seconds)s", "--timeout", "10s", "-s", script, base + path,
    ]
    let output = Pipe()
    process.standardOutput = output
    try process.run()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("RESULT ") }) else {
        throw Failure("wrk printed no result: \(text)")
    }
    let fields = line.split(separator: " ").dropFirst().map { Double($0) ?? 0 }
    return WrkResult(requestsPerSecond: fields[0] / fields[1], p50: fields[2], p99: fields[3], errors: Int(fields[4]))
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

let encodedDigest = Data(digest).base64EncodedString()
let singleBody = #"{"digest":"\#(encodedDigest)"}"#
let batchBody =
    #"{"items":["# + Array(repeating: #"{"digest":"\#(encodedDigest)"}"#, count: batchSize).joined(separator: ",")
    + "]}"

print("HTTP API vs raw C_Sign, \(sessions) sessions, \(rounds) rounds of \(seconds) s each, same token and keys")
if only == nil || only == "signing" {
    print(
        "| case | raw C_Sign/s | batched sig/s | batched ÷ raw | single req/s | single ÷ raw | p50 / p99 at half load |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
}
var failed = false
for testCase in cases where only == nil || only == "signing" {
    let path = "/v1/keys/\(testCase.key)/sign"
    // Warm up: connections, caches, the JIT-less but lazy parts of the server.
    _ = try wrk(path, body: singleBody, connections: 8)
    var rawRates: [Double] = []
    var batchRatios: [Double] = []
    var singleRatios: [Double] = []
    var batchRates: [Double] = []
    var singleRates: [Double] = []
    var errors = 0
    for _ in 0..<rounds {
        let limit = try raw(testCase)
        let batch = try wrk(path, body: batchBody, connections: 4)
        let single = try wrk(path, body: singleBody, connections: singleConnections)
        errors += batch.errors + single.errors
        rawRates.append(limit)
        batchRates.append(batch.requestsPerSecond * Double(batchSize))
        singleRates.append(single.requestsPerSecond)
        batchRatios.append(batch.requestsPerSecond * Double(batchSize) / limit)
        singleRatios.append(single.requestsPerSecond / limit)
    }
    let half = median(singleRates) / 2
    let paced = try wrk(path, body: singleBody, connections: singleConnections, pace: half)
    errors += paced.errors
    let batchRatio = median(batchRatios)
    let singleRatio = median(singleRatios)
    print(
        "| \(testCase.name) | \(Int(median(rawRates))) | \(Int(median(batchRates))) | "
            + String(format: "%.2f", batchRatio) + " | \(Int(median(singleRates))) | "
            + String(format: "%.2f", singleRatio) + " | "
            + String(format: "%.1f / %.1f ms at %.0f req/s", paced.p50, paced.p99, paced.requestsPerSecond) + " |"
    )
    if errors > 0 { print("  \(testCase.name): \(errors) requests failed") }
    failed = failed || errors > 0
}
if only == nil || only == "signing" { print("bars: batched ≥ 0.85, single ≥ 0.50, p99 at half load < 10 ms") }

// MARK: - Issuance

if only == nil || only == "issuance" {
    _ = try await call(
        "POST",
        "/v1/cas",
        token: admin,
        json: ["id": "bench-ca", "subject": "CN=Bench CA", "algorithm": "ec-p256"]
    )
    let csrPath = "\(directory)/bench.csr"
    let openssl = Process()
    openssl.executableURL = URL(fileURLWithPath: try which("openssl"))
    openssl.arguments = [
        "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
        "\(directory)/bench.key", "-subj", "/CN=bench device", "-out", csrPath,
    ]
    openssl.standardError = FileHandle.nullDevice
    try openssl.run()
    openssl.waitUntilExit()
    let csr = try String(contentsOfFile: csrPath, encoding: .utf8)
    let issueBody = String(
        decoding: try JSONSerialization.data(withJSONObject: ["csr": csr, "category": "device"]),
        as: UTF8.self
    )
    let caKey = Case(name: "issuance", key: "custos-ca-bench-ca", algorithm: "ec-p256", scheme: .ecdsa(.sha256))
    let path = "/v1/cas/bench-ca/certificates"
    _ = try wrk(path, body: issueBody, connections: 8, token: admin)
    var rawRates: [Double] = []
    var rates: [Double] = []
    var ratios: [Double] = []
    var errors = 0
    for _ in 0..<rounds {
        let limit = try raw(caKey)
        let issued = try wrk(path, body: issueBody, connections: 32, token: admin)
        errors += issued.errors
        rawRates.append(limit)
        rates.append(issued.requestsPerSecond)
        ratios.append(issued.requestsPerSecond / limit)
    }
    print("")
    print("| issuance (ECDSA P-256 CA, durable store) | raw C_Sign/s | certificates/s | ÷ raw | p50 / p99 |")
    print("| --- | --- | --- | --- | --- |")
    let last = try wrk(path, body: issueBody, connections: 32, token: admin)
    print(
        "| 32 connections | \(Int(median(rawRates))) | \(Int(median(rates))) | "
            + String(format: "%.2f", median(ratios)) + " | "
            + String(format: "%.1f / %.1f ms", last.p50, last.p99) + " |"
    )
    if errors > 0 { print("  issuance: \(errors) requests failed") }
    failed = failed || errors > 0
    print("bars: at least 2,000 certificates/s and 0.25 of raw")
}
kill(server.processIdentifier, SIGTERM)
server.waitUntilExit()
exit(failed ? 1 : 0)
