import CA
import CustosTestSupport
import Foundation
import HSM
import MetadataStore
import PKCS11
import Signing

// A CRL with a million revoked entries: generated from the store and signed in the HSM (ECDSA P-256
// CA on a throwaway SoftHSM2 token), timed, with the process's peak resident memory during the issue.
// The store is filled first (not timed). Usage: CRLBench [--entries 1000000]

let arguments = CommandLine.arguments
func option(_ name: String) -> String? {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}
let entries = Int(option("--entries") ?? "1000000") ?? 1_000_000

let environment = SoftHSMEnvironment.shared
let token = try environment.makeToken(prefix: "crlbench", on: environment.module)
let pool = try await SessionPool.start(
    SessionPoolConfiguration(
        modulePath: environment.modulePath,
        token: .label(token.label),
        pin: token.userPIN,
        sessions: 2,
        waitTimeout: .seconds(60)
    )
)
let directory = FileManager.default.temporaryDirectory.appendingPathComponent("custos-crlbench-\(UUID())").path
try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
let (schema, writer) = try await CustosStore.open(dataDirectory: directory, mapSize: 8 << 30)
let store = LMDBBackend(schema: schema, writer: writer)
let signing = try await SigningService(pool: pool, store: store)
let authority = CertificateAuthority(
    signing: signing,
    store: store,
    configuration: CAConfiguration(publicBaseURL: "http://pki.example.com")
)
let ca = try await authority.create(
    .init(id: "big", subject: "CN=Big CRL CA,O=Custos Bench", algorithm: .ecP256),
    requester: Requester(actor: "bench")
)

// Fill: revoked a day ago (so the delta CRL issued with the full one is small), a third without reason.
let filling = ContinuousClock.now
let dayAgo = Int64((Date().timeIntervalSince1970 - 86_400) * 1e9)
for start in stride(from: 0, to: entries, by: 20_000) {
    let end = min(start + 20_000, entries)
    try await store.write { txn in
        for index in start..<end {
            var serial = [UInt8](repeating: 0, count: 16)
            serial[0] = 0x40
            withUnsafeBytes(of: UInt64(index).bigEndian) { serial.replaceSubrange(8..<16, with: $0) }
            withUnsafeBytes(of: (UInt64(index) &* 0x9E37_79B9_7F4A_7C15).bigEndian) {
                serial.replaceSubrange(1..<8, with: $0.prefix(7))
            }
            try txn.save(
                RevocationRecord(
                    issuer: "big",
                    serial: serial,
                    revokedAt: dayAgo + Int64(index),
                    reason: index % 3 == 0 ? 0 : 1,
                    invalidityDate: nil
                )
            )
        }
    }
}
print("filled \(entries) revocations in \(ContinuousClock.now - filling)")

func peakResidentMB() -> Double {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") } ?? ""
    return Double(line.split(separator: " ").dropFirst().first ?? "0").map { $0 / 1024 } ?? 0
}

let before = peakResidentMB()
// Reset the peak to the current resident size, so the figure is the issue's own (Linux 4.0+).
try "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
let start = ContinuousClock.now
let full = try await authority.crls.publish("big")
let elapsed = ContinuousClock.now - start
let peak = peakResidentMB()

let crlPath = "\(directory)/big.crl"
try Data(full.der).write(to: URL(fileURLWithPath: crlPath))
let caPath = "\(directory)/big.pem"
try ca.certificate!.serializeAsPEM().pemString.write(toFile: caPath, atomically: true, encoding: .utf8)
let check = try runCommand(
    "openssl",
    ["crl", "-inform", "DER", "-in", crlPath, "-CAfile", caPath, "-noout", "-verify"]
)
let verified = (check.stdout + check.stderr).contains("verify OK")

print("| revoked entries | CRL size | generate + sign (full and delta) | peak RSS during issue | openssl crl -verify |")
print("| --- | --- | --- | --- | --- |")
print(
    "| \(full.entries) | \(full.der.count / 1_048_576) MiB | \(elapsed) | "
        + String(format: "%.0f MiB (%.0f MiB before)", peak, before) + " | \(verified ? "OK" : "FAILED") |"
)
print("bars: under 5 s, peak memory under 1 GiB")
pool.shutdown()
writer.shutdown()
try? FileManager.default.removeItem(atPath: directory)
exit(verified && full.entries == entries ? 0 : 1)
