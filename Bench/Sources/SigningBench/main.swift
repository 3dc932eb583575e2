import CSignLoop
import CustosTestSupport
import Foundation
import HSM
import PKCS11

// Signing throughput through the session pool as a ratio of the raw limit: a plain C loop over
// C_SignInit/C_Sign on the same token, the same keys and the same input, with the same number of
// sessions. Rounds alternate raw and pool so that noise from a shared machine hits both alike.

let arguments = CommandLine.arguments
func option(_ name: String, _ fallback: Double) -> Double {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return fallback }
    return Double(arguments[index + 1]) ?? fallback
}
let seconds = option("--seconds", 0.3)
let rounds = Int(option("--rounds", 21))
let callersPerSession = Int(option("--callers", 8))

struct Case {
    var name: String
    var algorithm: KeyAlgorithm
    var scheme: SignatureScheme
}
let cases = [
    Case(name: "ECDSA P-256", algorithm: .ecP256, scheme: .ecdsa(.sha256)),
    Case(name: "RSA-2048 PKCS#1", algorithm: .rsa2048, scheme: .rsaPKCS1v15(.sha256)),
]

let environment = SoftHSMEnvironment.shared
let token = try environment.makeToken(prefix: "bench")
let setup = try await SessionPool.start(
    SessionPoolConfiguration(modulePath: environment.modulePath, token: .label(token.label), pin: token.userPIN)
)
var generated: [KeyAlgorithm: KeyReference] = [:]
for testCase in cases {
    generated[testCase.algorithm] = try await KeyStore(pool: setup).generate(
        testCase.algorithm,
        label: "bench-\(testCase.algorithm.rawValue)"
    )
}
let keys = generated

/// Ops per second through `pool` from `callers` async tasks, each looping `body` (which returns how
/// many operations it did) until the time is up.
func throughput(
    _ pool: SessionPool,
    callers: Int,
    for duration: Duration,
    _ body: @escaping @Sendable (SessionContext) throws -> Int
) async throws -> Double {
    let start = ContinuousClock.now
    let deadline = start + duration
    let total = try await withThrowingTaskGroup(of: Int.self) { group in
        for _ in 0..<callers {
            group.addTask {
                var count = 0
                while ContinuousClock.now < deadline { count += try await pool.withSession(body) }
                return count
            }
        }
        return try await group.reduce(0, +)
    }
    let elapsed = ContinuousClock.now - start
    return Double(total) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
}

/// A pool with `sessions` sessions on the benchmark token.
func startPool(sessions: Int) async throws -> SessionPool {
    try await SessionPool.start(
        SessionPoolConfiguration(
            modulePath: environment.modulePath,
            token: .label(token.label),
            pin: token.userPIN,
            sessions: sessions
        )
    )
}

func noop(sessions: Int, spin: Int) async throws -> Double {
    let pool = try await startPool(sessions: sessions)
    defer { pool.shutdown() }
    return try await throughput(pool, callers: sessions * callersPerSession, for: .seconds(2)) { _ in
        let until = ContinuousClock.now + .microseconds(spin)
        while ContinuousClock.now < until {}
        return 1
    }
}
if arguments.contains("--noop") {
    for sessions in [1, 2] {
        for spin in [0, 100] {
            print(
                "spin \(spin)µs sessions \(sessions): \(try await noop(sessions: sessions, spin: spin)) ops/s (ideal \(spin == 0 ? 0 : sessions * 1_000_000 / spin))"
            )
        }
    }
    exit(0)
}

func raw(_ testCase: Case, sessions: Int, data: [UInt8], mechanism: MechanismType) throws -> Double {
    var result = csl_result()
    let rc = data.withUnsafeBufferPointer { buffer in
        csl_run(
            environment.modulePath,
            token.label,
            token.userPIN,
            "bench-\(testCase.algorithm.rawValue)",
            mechanism.rawValue,
            buffer.baseAddress,
            UInt(buffer.count),
            Int32(sessions),
            seconds,
            &result
        )
    }
    guard rc == 0, result.errors == 0 else {
        throw CocoaError(
            .featureUnsupported,
            userInfo: [
                NSLocalizedDescriptionKey:
                    "raw loop failed: \(rc), errors \(result.errors), rv 0x\(String(result.first_error, radix: 16))"
            ]
        )
    }
    return Double(result.operations) / result.seconds
}

func pooled(_ testCase: Case, sessions: Int, data: [UInt8], mechanism: Mechanism, batch: Int = 1) async throws -> Double
{
    let pool = try await startPool(sessions: sessions)
    defer { pool.shutdown() }
    let reference = keys[testCase.algorithm]!
    // Warm the handle cache, as the raw loop finds its key before measuring.
    _ = try await pool.withSession { try $0.session.sign(mechanism, key: try $0.privateKey(reference), data: data) }
    return try await throughput(pool, callers: sessions * callersPerSession, for: .milliseconds(Int(seconds * 1000))) {
        context in
        let key = try context.privateKey(reference)
        for _ in 0..<batch { _ = try context.session.sign(mechanism, key: key, data: data) }
        return batch
    }
}

if let index = arguments.firstIndex(of: "--only") {
    // One measurement, for profilers: --only raw|pool SESSIONS
    let prepared = try SignatureScheme.ecdsa(.sha256).prepare(.message(Array("benchmark payload".utf8)))
    let sessions = Int(arguments[index + 2]) ?? 1
    let rate =
        arguments[index + 1] == "raw"
        ? try raw(cases[0], sessions: sessions, data: prepared.data, mechanism: prepared.mechanism.type)
        : try await pooled(cases[0], sessions: sessions, data: prepared.data, mechanism: prepared.mechanism)
    print("\(arguments[index + 1]) \(sessions): \(rate)/s")
    exit(0)
}
func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.count % 2 == 1
        ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

print(
    "Custos signing benchmark: \(rounds) rounds × \(seconds) s per measurement, \(callersPerSession) async callers per pooled session"
)
print(
    "machine: \(ProcessInfo.processInfo.activeProcessorCount) cores; SoftHSM \(try environment.module.info().libraryVersion) at \(environment.modulePath)"
)
print("")
print(
    "case               sessions   raw C_Sign/s   pool sign/s   ratio (median)   batch-16 ratio   per-round ratios (single)"
)
var worst = Double.infinity
for testCase in cases {
    let prepared = try testCase.scheme.prepare(.message(Array("benchmark payload".utf8)))
    for sessions in [1, 2] {
        var raws: [Double] = []
        var pools: [Double] = []
        var ratios: [Double] = []
        var batchRatios: [Double] = []
        for _ in 0..<rounds {
            let r = try raw(testCase, sessions: sessions, data: prepared.data, mechanism: prepared.mechanism.type)
            let p = try await pooled(testCase, sessions: sessions, data: prepared.data, mechanism: prepared.mechanism)
            let b = try await pooled(
                testCase,
                sessions: sessions,
                data: prepared.data,
                mechanism: prepared.mechanism,
                batch: 16
            )
            raws.append(r)
            pools.append(p)
            ratios.append(p / r)
            batchRatios.append(b / r)
        }
        let ratio = median(ratios)
        worst = min(worst, ratio)
        let line = [
            testCase.name.padding(toLength: 18, withPad: " ", startingAt: 0),
            String(sessions).padding(toLength: 10, withPad: " ", startingAt: 0),
            String(format: "%12.0f", median(raws)), String(format: "%13.0f", median(pools)),
            String(format: "%9.3f", ratio).padding(toLength: 16, withPad: " ", startingAt: 0),
            String(format: "%9.3f", median(batchRatios)).padding(toLength: 16, withPad: " ", startingAt: 0),
            ratios.map { String(format: "%.3f", $0) }.joined(separator: " "),
        ]
        print(line.joined(separator: " "))
    }
}
setup.shutdown()
print("")
print(String(format: "lowest ratio %.3f; bar 0.90: %@", worst, worst >= 0.9 ? "met" : "NOT met"))
