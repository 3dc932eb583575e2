// Over 400 lines: a benchmark script that starts one server and measures its sections in sequence.
import CSignLoop
import CustosX509
import Foundation

// EST enrollment against the REST API's issuance, and device keys made by the server against the
// token's raw key generation, measured in one run on one server and CA:
//
// - a `custos serve` over HTTPS (`custos tls init --self-signed`: the TLS key in the HSM), a CA
//   `bench-ca` (ECDSA P-256) and an enrollment profile `bench` for it with a shared password;
// - REST: wrk posts one CSR as JSON to `POST /v1/cas/bench-ca/certificates` (an admin's bearer
//   credential);
// - EST: wrk posts the same CSR as base64 DER to `/.well-known/est/bench/simpleenroll` (HTTP Basic
//   with the profile's password);
// - both over HTTPS from the same number of kept-alive connections, rounds alternating, each answer a
//   new certificate signed in the HSM and stored durably with its audit entry.
//
// The figure is the median over rounds of EST certificates/s ÷ REST certificates/s.
//
// REST is measured twice: as a client posts it, and with the two metadata pairs EST adds to every
// certificate it issues (`enrollment.profile`, `enrollment.protocol`), which cost index entries.
//
// Device keys: wrk posts `POST /v1/cas/bench-ca/device-keys` (P-256, wrapped to an RSA-2048 key with
// OAEP-SHA-1, as SoftHSM 2.6 can; PKCS#12 needs CKM_AES_CBC_PAD wrapping, which it lacks): a key pair
// made in the HSM, wrapped there, certified, stored and audited, the wrapped key answered. The raw limit is a C loop of C_GenerateKeyPair (P-256,
// session objects) and C_DestroyObject on the server's token from two threads (its two sessions).
//
// SCEP: wrk posts one PKCSReq (an RSA-2048 client key, the profile's shared password as challengePassword,
// AES-128, SHA-256) to `/scep/bench-scep?operation=PKIOperation`; the same message again and again, which
// each time opens in the HSM with the RA key, issues a certificate and answers it encrypted and signed.
// REST posts the same CSR. Where the time goes is read from the token's raw rates measured in the run:
// a PKCSReq costs the HSM two RSA-2048 private-key operations (unwrapping the request's key, signing the
// CertRep) besides the certificate's ECDSA signature.
//
// ACME: `--accounts` clients (16), each with its own account and kept-alive HTTPS connection, complete
// orders for new names for a round's seconds: newOrder, the authorization, http-01 answered by a
// responder in this process, polls every 50 ms until valid, finalize with a new P-256 CSR, the order,
// the certificate. The same client load runs against pebble (Debian's `pebble`: a Go ACME server that
// keeps everything in memory and signs with a software key) with the same responder and DNS
// (pebble-challtestsrv), and wrk measures REST issuance on the same server; rounds alternate.
//
// CMP: `--connections` clients each send irs over a kept-alive HTTPS connection (`CMPSection.swift`: every
// ir a new transaction, MAC-protected with the profile's shared secret, asking for implicit confirmation,
// so one message is one certificate), against wrk's REST issuance from as many connections; rounds
// alternate. HSM operations per ir are read from the server's metrics.
//
// Usage: EnrollmentBench --custos PATH [--rounds 5] [--seconds 3] [--connections 32] [--accounts 16]
//        [--only est,scep,keys,acme,cmp] [--module /usr/lib/softhsm/libsofthsm2.so]

let arguments = CommandLine.arguments
func option(_ name: String) -> String? {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}
guard let custos = option("--custos") else {
    FileHandle.standardError.write(Data("usage: EnrollmentBench --custos PATH-TO-RELEASE-CUSTOS\n".utf8))
    exit(2)
}
let rounds = Int(option("--rounds") ?? "5") ?? 5
let seconds = Int(option("--seconds") ?? "3") ?? 3
let connections = Int(option("--connections") ?? "32") ?? 32
let modulePath = option("--module") ?? "/usr/lib/softhsm/libsofthsm2.so"
/// `est`, `scep`, `keys`, `acme`, `cmp`, or all (default).
let sections = Set((option("--only") ?? "est,scep,keys,acme,cmp").split(separator: ",").map(String.init))
/// ACME clients (each its own account and connection) of the acme section.
let acmeAccounts = Int(option("--accounts") ?? "16") ?? 16

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

/// Runs a program to completion; its standard output.
@discardableResult
func run(_ tool: String, _ arguments: [String], input: String? = nil) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: tool.hasPrefix("/") ? tool : try which(tool))
    process.arguments = arguments
    process.currentDirectoryURL = URL(fileURLWithPath: directory)
    let output = Pipe()
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    let inputPipe = Pipe()
    if input != nil { process.standardInput = inputPipe }
    try process.run()
    if let input {
        inputPipe.fileHandleForWriting.write(Data(input.utf8))
        try inputPipe.fileHandleForWriting.close()
    }
    let data = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw Failure("\(tool) \(arguments) failed") }
    return String(decoding: data, as: UTF8.self)
}

// MARK: - The server, over HTTPS

let directory = FileManager.default.temporaryDirectory.appendingPathComponent("custos-estbench-\(UUID())").path
try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
let data = "\(directory)/data"
var environment = ProcessInfo.processInfo.environment
environment["CUSTOS_PROFILES_DIR"] =
    environment["CUSTOS_PROFILES_DIR"]
    ?? URL(fileURLWithPath: FileManager.default.currentDirectoryPath).deletingLastPathComponent()
    .appendingPathComponent("HSMProfiles").path
setenv("CUSTOS_PROFILES_DIR", environment["CUSTOS_PROFILES_DIR"]!, 1)
try run(custos, ["tls", "init", "--data-dir", data, "--self-signed"])
// ACME: names resolve through pebble-challtestsrv to 127.0.0.1, http-01 is answered by this process.
let acmePeers = sections.contains("acme") ? try ACMEPeers.start() : nil
defer { acmePeers?.stop() }
let acmeConfiguration =
    acmePeers.map { "acme:\n  resolvers: [\"127.0.0.1:\($0.dnsPort)\"]\n  http01Port: \($0.responder.port)\n" } ?? ""
try ("tls:\n  certificateChain: \(data)/tls-chain.pem\n" + acmeConfiguration).write(
    toFile: "\(data)/custos.yaml",
    atomically: true,
    encoding: .utf8
)
let server = Process()
server.executableURL = URL(fileURLWithPath: custos)
server.arguments = ["serve", "--data-dir", data, "--port", "0", "--sessions", "2"]
server.environment = environment
let serverOutput = Pipe()
server.standardOutput = serverOutput
server.standardError = serverOutput
try server.run()
defer {
    kill(server.processIdentifier, SIGKILL)
    try? FileManager.default.removeItem(atPath: directory)
}
var printed = ""
var port: Int?
while port == nil {
    let chunk = serverOutput.fileHandleForReading.availableData
    guard !chunk.isEmpty else { throw Failure("custos serve stopped: \(printed)") }
    printed += String(decoding: chunk, as: UTF8.self)
    if let range = printed.range(of: #"serving HTTPS on [^:]+:(\d+)"#, options: .regularExpression) {
        port = Int(printed[range].split(separator: ":").last!)
    }
}
Thread.detachNewThread { while !serverOutput.fileHandleForReading.availableData.isEmpty {} }
let base = "https://localhost:\(port!)"
let admin = try String(contentsOfFile: "\(data)/admin.token", encoding: .utf8)
    .trimmingCharacters(in: .whitespacesAndNewlines)

/// An API call with curl (it trusts the server's self-signed certificate); the JSON answer.
func call(_ method: String, _ path: String, json: [String: Any]) throws -> [String: Any] {
    let body = String(decoding: try JSONSerialization.data(withJSONObject: json), as: UTF8.self)
    let answer = try run(
        "curl",
        [
            "-sS", "--fail-with-body", "--cacert", "\(data)/tls-chain.pem", "-X", method, "-H",
            "Authorization: Bearer \(admin)", "-H", "Content-Type: application/json", "--data-binary", body,
            base + path,
        ]
    )
    return (try JSONSerialization.jsonObject(with: Data(answer.utf8))) as? [String: Any] ?? [:]
}

_ = try call("POST", "/v1/cas", json: ["id": "bench-ca", "subject": "CN=Bench CA", "algorithm": "ec-p256"])
_ = try call(
    "POST",
    "/v1/enrollment/profiles",
    json: ["id": "bench", "ca": "bench-ca", "category": "device", "authentication": ["sharedPassword": true]]
)
let password = try call("POST", "/v1/enrollment/profiles/bench/password", json: [:])["secret"] as? String ?? ""

try run(
    "openssl",
    [
        "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "bench.key",
        "-subj", "/CN=bench device", "-out", "bench.csr",
    ]
)
let csrPEM = try String(contentsOfFile: "\(directory)/bench.csr", encoding: .utf8)
let csrBase64 = try run("sh", ["-c", "openssl req -in bench.csr -outform DER | openssl base64 -A"])

// MARK: - wrk

struct WrkResult {
    var requestsPerSecond: Double
    var p50: Double
    var p99: Double
    var errors: Int
}

/// wrk posting `body` with `headers` to `path` from `connections` connections.
func wrk(_ path: String, body: String, headers: [String: String], connections: Int = connections) throws -> WrkResult {
    try wrk(path, body: Array(body.utf8), headers: headers, connections: connections)
}

/// wrk posting the bytes `body` (any bytes: Lua strings are escaped byte by byte).
func wrk(_ path: String, body: [UInt8], headers: [String: String], connections: Int = connections) throws -> WrkResult {
    let script = "\(directory)/wrk-\(UUID()).lua"
    let escaped = { (bytes: [UInt8]) in "\"" + bytes.map { String(format: "\\%03d", $0) }.joined() + "\"" }
    let quoted = { (text: String) in escaped(Array(text.utf8)) }
    try """
    wrk.method = "POST"
    \(headers.map { "wrk.headers[\(quoted($0.key))] = \(quoted($0.value))" }.joined(separator: "\n"))
    wrk.body = \(escaped(body))
    function done(summary, latency, requests)
      local errors = summary.errors.status + summary.errors.connect + summary.errors.read
        + summary.errors.write + summary.errors.timeout
      io.write(string.format("RESULT %d %f %f %f %d\\n", summary.requests, summary.duration / 1e6,
        latency:percentile(50) / 1000, latency:percentile(99) / 1000, errors))
    end
    """.write(toFile: script, atomically: true, encoding: .utf8)
    let text = try run(
        "wrk",
        ["-t", "1", "-c", "\(connections)", "-d", "\(seconds)s", "--timeout", "10s", "-s", script, base + path]
    )
    guard let line = text.split(separator: "\n").first(where: { $0.hasPrefix("RESULT ") }) else {
        throw Failure("wrk printed no result: \(text)")
    }
    let fields = line.split(separator: " ").dropFirst().map { Double($0) ?? 0 }
    return WrkResult(requestsPerSecond: fields[0] / fields[1], p50: fields[2], p99: fields[3], errors: Int(fields[4]))
}

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

let restBody = String(
    decoding: try JSONSerialization.data(withJSONObject: ["csr": csrPEM, "category": "device"]),
    as: UTF8.self
)
let restMetadataBody = String(
    decoding: try JSONSerialization.data(
        withJSONObject: [
            "csr": csrPEM, "category": "device",
            "metadata": ["enrollment.profile": "bench", "enrollment.protocol": "est"],
        ]
    ),
    as: UTF8.self
)
let basic = Data("bench:\(password)".utf8).base64EncodedString()
func rest(metadata: Bool = false) throws -> WrkResult {
    try wrk(
        "/v1/cas/bench-ca/certificates",
        body: metadata ? restMetadataBody : restBody,
        headers: ["Content-Type": "application/json", "Authorization": "Bearer \(admin)"]
    )
}
func est() throws -> WrkResult {
    try wrk(
        "/.well-known/est/bench/simpleenroll",
        body: csrBase64,
        headers: ["Content-Type": "application/pkcs10", "Authorization": "Basic \(basic)"]
    )
}

var errors = 0
if sections.contains("est") {
    // Warm up both paths (connections, caches).
    _ = try rest()
    _ = try est()
    var restRates: [Double] = []
    var restMetadataRates: [Double] = []
    var estRates: [Double] = []
    var ratios: [Double] = []
    var metadataRatios: [Double] = []
    var latencies: (rest: WrkResult?, est: WrkResult?) = (nil, nil)
    for round in 0..<rounds {
        // Alternate the order, so that drift over a round hits all alike.
        var results: [String: WrkResult] = [:]
        for path in round % 2 == 0 ? ["rest", "metadata", "est"] : ["est", "metadata", "rest"] {
            results[path] = try path == "est" ? est() : rest(metadata: path == "metadata")
        }
        let (restResult, metadataResult, estResult) = (results["rest"]!, results["metadata"]!, results["est"]!)
        errors += restResult.errors + metadataResult.errors + estResult.errors
        restRates.append(restResult.requestsPerSecond)
        restMetadataRates.append(metadataResult.requestsPerSecond)
        estRates.append(estResult.requestsPerSecond)
        ratios.append(estResult.requestsPerSecond / restResult.requestsPerSecond)
        metadataRatios.append(estResult.requestsPerSecond / metadataResult.requestsPerSecond)
        latencies = (restResult, estResult)
    }
    print("EST simpleenroll vs REST issuance, HTTPS, \(connections) connections, \(rounds) rounds of \(seconds) s")
    print("| path | certificates/s | p50 / p99 (last round) |")
    print("| --- | --- | --- |")
    print(
        "| REST POST /v1/cas/{ca}/certificates | \(Int(median(restRates))) | "
            + String(format: "%.1f / %.1f ms", latencies.rest?.p50 ?? 0, latencies.rest?.p99 ?? 0) + " |"
    )
    print("| REST with EST's two metadata pairs | \(Int(median(restMetadataRates))) | |")
    print(
        "| EST simpleenroll (Basic, shared password) | \(Int(median(estRates))) | "
            + String(format: "%.1f / %.1f ms", latencies.est?.p50 ?? 0, latencies.est?.p99 ?? 0) + " |"
    )
    print(
        "EST ÷ REST: " + String(format: "%.2f", median(ratios)) + " (per round: "
            + ratios.map { String(format: "%.2f", $0) }.joined(separator: ", ") + "); bar ≥ 0.80"
    )
    print(
        "EST ÷ REST with the same metadata: " + String(format: "%.2f", median(metadataRatios)) + " (per round: "
            + metadataRatios.map { String(format: "%.2f", $0) }.joined(separator: ", ") + ")"
    )
}

// MARK: - SCEP

setenv("SOFTHSM2_CONF", "\(data)/softhsm2.conf", 1)
let userPIN = try String(contentsOfFile: "\(data)/user.pin", encoding: .utf8)
    .trimmingCharacters(in: .whitespacesAndNewlines)

/// A `curl` GET of `path`, the body's bytes.
func fetch(_ path: String) throws -> [UInt8] {
    let file = "\(directory)/fetch-\(UUID())"
    try run("curl", ["-sS", "--fail", "--cacert", "\(data)/tls-chain.pem", "-o", file, base + path])
    return Array(try Data(contentsOf: URL(fileURLWithPath: file)))
}

/// The raw rate of `mechanism` signatures by the key labelled `key` on the server's token (two threads).
func rawSign(_ key: String, mechanism: UInt, data: [UInt8]) throws -> Double {
    var result = csl_result()
    let rc = csl_run(
        modulePath,
        "custos-dev",
        userPIN,
        key,
        mechanism,
        data,
        UInt(data.count),
        2,
        Double(seconds),
        &result
    )
    guard rc == 0, result.errors == 0 else {
        throw Failure("raw sign loop for \(key) failed: \(rc), errors \(result.errors)")
    }
    return Double(result.operations) / result.seconds
}

if sections.contains("scep") {
    _ = try call(
        "POST",
        "/v1/enrollment/profiles",
        json: [
            "id": "bench-scep", "ca": "bench-ca", "category": "device", "protocols": ["scep"],
            "authentication": ["sharedPassword": true, "oneTimePasswords": false],
        ]
    )
    let scepPassword =
        try call("POST", "/v1/enrollment/profiles/bench-scep/password", json: [:])["secret"] as? String ?? ""
    let bundle = try CMSSignedDataMessage(derEncoded: try fetch("/scep/bench-scep?operation=GetCACert"))
    // The RA's certificate is the one whose subject says so (`<ca> SCEP RA <n>`).
    guard let ra = bundle.certificates.first(where: { String(decoding: $0, as: UTF8.self).contains("SCEP RA") }) else {
        throw Failure("GetCACert has no RA certificate")
    }
    let request = try SCEPMessage.pkcsReq(raCertificate: ra, password: scepPassword, in: directory) { tool, arguments in
        try run(tool, arguments)
    }
    try Data(request.message).write(to: URL(fileURLWithPath: "\(directory)/scep.msg"))
    try run(
        "curl",
        [
            "-sS", "--fail", "--cacert", "\(data)/tls-chain.pem", "-H", "Content-Type: application/x-pki-message",
            "--data-binary", "@scep.msg", "-o", "scep.reply", base + "/scep/bench-scep?operation=PKIOperation",
        ]
    )
    let status = try SCEPMessage.pkiStatus(Array(try Data(contentsOf: URL(fileURLWithPath: "\(directory)/scep.reply"))))
    guard status == "0" else { throw Failure("the bench's PKCSReq was answered with pkiStatus \(status), not SUCCESS") }
    let rsaRestBody = String(
        decoding: try JSONSerialization.data(withJSONObject: ["csr": request.csr, "category": "device"]),
        as: UTF8.self
    )
    func scep() throws -> WrkResult {
        try wrk(
            "/scep/bench-scep?operation=PKIOperation",
            body: request.message,
            headers: ["Content-Type": "application/x-pki-message"]
        )
    }
    func rsaRest() throws -> WrkResult {
        try wrk(
            "/v1/cas/bench-ca/certificates",
            body: rsaRestBody,
            headers: ["Content-Type": "application/json", "Authorization": "Bearer \(admin)"]
        )
    }
    _ = try scep()
    _ = try rsaRest()
    var scepRates: [Double] = []
    var restRates: [Double] = []
    var ratios: [Double] = []
    var last: (rest: WrkResult?, scep: WrkResult?) = (nil, nil)
    for round in 0..<rounds {
        var results: [String: WrkResult] = [:]
        for path in round % 2 == 0 ? ["rest", "scep"] : ["scep", "rest"] {
            results[path] = try path == "scep" ? scep() : rsaRest()
        }
        errors += results["rest"]!.errors + results["scep"]!.errors
        restRates.append(results["rest"]!.requestsPerSecond)
        scepRates.append(results["scep"]!.requestsPerSecond)
        ratios.append(results["scep"]!.requestsPerSecond / results["rest"]!.requestsPerSecond)
        last = (results["rest"], results["scep"])
    }
    _ = try waitForIdleHSM()
    let rsaSigns = try rawSign("custos-scep-ra-bench-ca-g1", mechanism: 0x40, data: Array(repeating: 1, count: 200))
    // CKM_ECDSA over a SHA-256 digest, as Custos signs (it hashes first).
    let ecdsaSigns = try rawSign("custos-ca-bench-ca", mechanism: 0x1041, data: Array(repeating: 1, count: 32))
    let bound = 1 / (2 / rsaSigns + 1 / ecdsaSigns)
    print("")
    print(
        "SCEP PKCSReq vs REST issuance of the same RSA-2048 CSR, HTTPS, \(connections) connections, \(rounds) rounds of \(seconds) s"
    )
    print("| path | certificates/s | p50 / p99 (last round) |")
    print("| --- | --- | --- |")
    print(
        "| REST POST /v1/cas/{ca}/certificates | \(Int(median(restRates))) | "
            + String(format: "%.1f / %.1f ms", last.rest?.p50 ?? 0, last.rest?.p99 ?? 0) + " |"
    )
    print(
        "| SCEP PKIOperation PKCSReq (shared password, AES-128) | \(Int(median(scepRates))) | "
            + String(format: "%.1f / %.1f ms", last.scep?.p50 ?? 0, last.scep?.p99 ?? 0) + " |"
    )
    print(
        "SCEP ÷ REST: " + String(format: "%.2f", median(ratios)) + " (per round: "
            + ratios.map { String(format: "%.2f", $0) }.joined(separator: ", ") + ")"
    )
    print(
        "  the token alone (two threads, server idle): RSA-2048 signatures \(Int(rsaSigns))/s, ECDSA P-256 \(Int(ecdsaSigns))/s; "
            + "two RSA private-key operations and one ECDSA signature per PKCSReq bound SCEP at \(Int(bound))/s "
            + "(SCEP reached " + String(format: "%.0f%%", 100 * median(scepRates) / bound) + " of that)"
    )
}

// MARK: - Device keys

/// The server's count of HSM operations (`custos_hsm_operations` in its metrics).
func hsmOperations() throws -> Int {
    let metrics = try run(
        "curl",
        ["-sS", "--cacert", "\(data)/tls-chain.pem", "-H", "Authorization: Bearer \(admin)", base + "/metrics"]
    )
    let line = metrics.split(separator: "\n").first { $0.hasPrefix("custos_hsm_operations ") }
    return line.flatMap { Int(Double($0.split(separator: " ").last ?? "") ?? -1) } ?? -1
}

/// Waits (at most `limit` seconds) until the server's HSM has done nothing for six seconds: after
/// issuing it signs OCSP responses ahead for the new certificates, which should not run while the raw
/// loop measures the token (when the wait ends at the limit it still does, and the raw figure is low:
/// the output says so). Returns the seconds waited.
func waitForIdleHSM(limit: Double = 45) throws -> Double {
    let start = Date()
    var last = try hsmOperations()
    var unchangedSince = Date()
    while Date().timeIntervalSince(unchangedSince) < 6 && Date().timeIntervalSince(start) < limit {
        Thread.sleep(forTimeInterval: 0.5)
        let now = try hsmOperations()
        if now != last {
            last = now
            unchangedSince = Date()
        }
    }
    return Date().timeIntervalSince(start)
}

func rawKeygen() throws -> Double {
    var result = csl_result()
    let rc = csl_run_keygen(modulePath, "custos-dev", userPIN, 2, Double(seconds), &result)
    guard rc == 0, result.errors == 0 else {
        throw Failure(
            "raw keygen loop failed: \(rc), errors \(result.errors), rv 0x\(String(result.first_error, radix: 16))"
        )
    }
    return Double(result.operations) / result.seconds
}
let recipient = try run(
    "sh",
    ["-c", "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 2>/dev/null | openssl pkey -pubout"]
)
let keygenBody = String(
    decoding: try JSONSerialization.data(
        withJSONObject: [
            "category": "device", "subject": "CN=bench device", "algorithm": "ec-p256",
            "rsaPublicKey": recipient, "oaepHash": "sha1",
        ]
    ),
    as: UTF8.self
)
func serverKeygen() throws -> WrkResult {
    try wrk(
        "/v1/cas/bench-ca/device-keys",
        body: keygenBody,
        headers: ["Content-Type": "application/json", "Authorization": "Bearer \(admin)"]
    )
}
if sections.contains("keys") {
    _ = try serverKeygen()
    var rawKeyRates: [Double] = []
    var keyRates: [Double] = []
    var keyRatios: [Double] = []
    var lastKeygen: WrkResult?
    var idleWaits: [Double] = []
    for _ in 0..<rounds {
        idleWaits.append(try waitForIdleHSM())
        let raw = try rawKeygen()
        let served = try serverKeygen()
        errors += served.errors
        rawKeyRates.append(raw)
        keyRates.append(served.requestsPerSecond)
        keyRatios.append(served.requestsPerSecond / raw)
        lastKeygen = served
    }
    print("")
    print(
        "| device keys (P-256 wrapped to RSA-2048, certified and stored) | raw C_GenerateKeyPair/s | keys/s | ÷ raw | p50 / p99 |"
    )
    print("| --- | --- | --- | --- | --- |")
    print(
        "| \(connections) connections | \(Int(median(rawKeyRates))) | \(Int(median(keyRates))) | "
            + String(format: "%.2f", median(keyRatios)) + " | "
            + String(format: "%.1f / %.1f ms", lastKeygen?.p50 ?? 0, lastKeygen?.p99 ?? 0) + " |"
    )
    print(
        "  per round: "
            + zip(rawKeyRates, keyRates).map { raw, rate in
                "\(Int(raw)) → \(Int(rate)) = " + String(format: "%.2f", rate / raw)
            }.joined(separator: ", ") + "; bar ≥ 0.50"
    )
    print(
        "  before each raw round the server's HSM was left to go idle (OCSP answers signed ahead for the new "
            + "certificates): " + idleWaits.map { String(format: "%.0f s", $0) }.joined(separator: ", ")
    )
}
// MARK: - ACME

if let acmePeers, sections.contains("acme") {
    _ = try call(
        "POST",
        "/v1/enrollment/profiles",
        json: [
            "id": "bench-acme", "ca": "bench-ca", "category": "tls-server", "protocols": ["acme"],
            "acme": ["allowedDomains": ["bench.test"], "ordersPerAccountPerHour": 1_000_000],
        ]
    )
    let (pebble, pebblePort) = try acmePeers.startPebble(in: directory)
    defer { kill(pebble.processIdentifier, SIGKILL) }
    func custosACME() async throws -> (rate: Double, requestsPerOrder: Double) {
        try await acmeOrdersPerSecond(
            port: port!,
            directoryPath: "/acme/bench-acme/directory",
            accounts: acmeAccounts,
            seconds: seconds,
            responder: acmePeers.responder
        )
    }
    func pebbleACME() async throws -> (rate: Double, requestsPerOrder: Double) {
        try await acmeOrdersPerSecond(
            port: pebblePort,
            directoryPath: "/dir",
            accounts: acmeAccounts,
            seconds: seconds,
            responder: acmePeers.responder
        )
    }
    _ = try await custosACME()
    _ = try await pebbleACME()
    var custosRates: [Double] = []
    var pebbleRates: [Double] = []
    var restRates: [Double] = []
    var requestsPerOrder: (custos: Double, pebble: Double) = (0, 0)
    var hsmPerOrder: [Double] = []
    for round in 0..<rounds {
        var results: [String: Double] = [:]
        for path in round % 2 == 0 ? ["custos", "pebble", "rest"] : ["rest", "pebble", "custos"] {
            FileHandle.standardError.write(Data("acme round \(round): \(path)\n".utf8))
            switch path {
            case "custos":
                let before = try hsmOperations()
                let measured = try await custosACME()
                let operations = Double(try hsmOperations() - before)
                results[path] = measured.rate
                requestsPerOrder.custos = measured.requestsPerOrder
                hsmPerOrder.append(operations / max(1, measured.rate * Double(seconds)))
            case "pebble":
                let measured = try await pebbleACME()
                results[path] = measured.rate
                requestsPerOrder.pebble = measured.requestsPerOrder
            default:
                let rest = try rest()
                errors += rest.errors
                results[path] = rest.requestsPerSecond
            }
        }
        custosRates.append(results["custos"]!)
        pebbleRates.append(results["pebble"]!)
        restRates.append(results["rest"]!)
    }
    let versusREST = zip(custosRates, restRates).map { $0 / $1 }
    let versusPebble = zip(custosRates, pebbleRates).map { $0 / $1 }
    print("")
    print(
        "ACME complete orders (newOrder → http-01 → finalize → download), \(acmeAccounts) accounts, "
            + "\(rounds) rounds of \(seconds) s; REST: wrk, \(connections) connections"
    )
    print("| server | per second (median) |")
    print("| --- | --- |")
    print("| REST POST /v1/cas/{ca}/certificates (certificates) | \(Int(median(restRates))) |")
    print("| Custos ACME (orders) | " + String(format: "%.0f", median(custosRates)) + " |")
    print("| pebble 2.4 (orders) | " + String(format: "%.0f", median(pebbleRates)) + " |")
    print(
        "Custos ACME ÷ REST: " + String(format: "%.2f", median(versusREST)) + " (per round: "
            + versusREST.map { String(format: "%.2f", $0) }.joined(separator: ", ") + ")"
    )
    print(
        "Custos ACME ÷ pebble: " + String(format: "%.2f", median(versusPebble)) + " (per round: "
            + versusPebble.map { String(format: "%.2f", $0) }.joined(separator: ", ") + "); bar ≥ 0.50"
    )
    print(
        "  JWS requests per order (last round): Custos " + String(format: "%.1f", requestsPerOrder.custos)
            + ", pebble " + String(format: "%.1f", requestsPerOrder.pebble) + "; Custos HSM operations per order "
            + "(signatures, incl. OCSP answers signed ahead): " + String(format: "%.1f", median(hsmPerOrder))
    )
}

if sections.contains("cmp") {
    _ = try call(
        "POST",
        "/v1/enrollment/profiles",
        json: [
            "id": "bench-cmp", "ca": "bench-ca", "category": "device", "protocols": ["cmp"],
            "authentication": ["sharedPassword": true, "oneTimePasswords": false],
        ]
    )
    let shared = try call("POST", "/v1/enrollment/profiles/bench-cmp/password", json: [:])
    let reference = shared["id"] as? String ?? ""
    let secret = shared["secret"] as? String ?? ""
    func cmp() async throws -> (rate: Double, failures: Int) {
        try await cmpIRsPerSecond(
            port: port!,
            path: "/.well-known/cmp/p/bench-cmp",
            clients: connections,
            seconds: seconds,
            reference: reference,
            secret: secret
        )
    }
    _ = try await cmp()
    _ = try rest()
    var cmpRates: [Double] = []
    var restRates: [Double] = []
    var hsmPerIR: [Double] = []
    for round in 0..<rounds {
        for path in round % 2 == 0 ? ["cmp", "rest"] : ["rest", "cmp"] {
            if path == "cmp" {
                let before = try hsmOperations()
                let measured = try await cmp()
                errors += measured.failures
                cmpRates.append(measured.rate)
                hsmPerIR.append(Double(try hsmOperations() - before) / max(1, measured.rate * Double(seconds)))
            } else {
                let result = try rest()
                errors += result.errors
                restRates.append(result.requestsPerSecond)
            }
        }
    }
    let ratios = zip(cmpRates, restRates).map { $0 / $1 }
    print("")
    print("CMP ir (MAC, implicit confirmation) vs REST issuance, HTTPS, \(connections) connections, \(rounds) rounds")
    print("| path | certificates/s (median) |")
    print("| --- | --- |")
    print("| REST POST /v1/cas/{ca}/certificates | \(Int(median(restRates))) |")
    print("| CMP ir, PasswordBasedMac, answered ip | \(Int(median(cmpRates))) |")
    print(
        "CMP ÷ REST: " + String(format: "%.2f", median(ratios)) + " (per round: "
            + ratios.map { String(format: "%.2f", $0) }.joined(separator: ", ") + "); bar ≥ 0.50"
    )
    print("  HSM operations per ir (incl. OCSP answers signed ahead): " + String(format: "%.1f", median(hsmPerIR)))
}

if errors > 0 { print("  \(errors) requests failed") }
kill(server.processIdentifier, SIGKILL)
try? FileManager.default.removeItem(atPath: directory)
exit(errors > 0 ? 1 : 0)
