import CStoreLoop
import CustosTestSupport
import Foundation
import MetadataStore

// Metadata-store figures as ratios of raw LMDB loops in C measured in the same run: point reads
// (1 and 2 threads), durable writes (group commit vs one fsync per write), and a scan of 1,000,000
// certificate index entries. LMDB forbids opening one environment twice in a process, so the store
// is closed while the C loops run on its files.

let arguments = CommandLine.arguments
func option(_ name: String, _ fallback: Int) -> Int {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return fallback }
    return Int(arguments[index + 1]) ?? fallback
}
let readKeys = option("--read-keys", 100_000)
let writes = option("--writes", 2000)
let scanEntries = option("--scan-entries", 1_000_000)
let seconds = 1.0

func key(_ index: Int) -> [UInt8] { Key().appending(UInt64(index)).bytes }

func open(_ path: String) throws -> (Environment, StoreWriter, Database) {
    let environment = try Environment(.init(path: path, mapSize: 8 << 30, databases: ["a"]))
    return (environment, StoreWriter(environment: environment), try environment.database("a"))
}

func perSecond(_ count: Int, since start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(count) / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
}

print("Custos metadata store benchmark (LMDB from liblmdb-dev)")
print("")

// Point reads.
let readPath = try makeTemporaryDirectory("bench-reads")
do {
    let (_, writer, a) = try open(readPath)
    let value = [UInt8](repeating: 7, count: 200)
    try await writer.write { txn in for index in 0..<readKeys { try txn.put(a, key(index), value) } }
    writer.shutdown()
}
for threads in [1, 2] {
    let raw = csl_lmdb_reads(readPath, "a", UInt(readKeys), Int32(threads), seconds)
    let (environment, writer, a) = try open(readPath)
    let counts = ThreadCounts(threads)
    let deadline = ContinuousClock.now + .seconds(seconds)
    let start = ContinuousClock.now
    let workers = (0..<threads).map { slot in
        Thread {
            var generator = SystemRandomNumberGenerator()
            var done = 0
            while ContinuousClock.now < deadline {
                let index = Int(generator.next(upperBound: UInt(readKeys)))
                if (try? environment.read { try $0.get(a, key(index)) }) != nil { done += 1 }
            }
            counts.set(slot, done)
        }
    }
    workers.forEach { $0.start() }
    while counts.finished < threads { try await Task.sleep(for: .milliseconds(20)) }
    let ours = perSecond(counts.total, since: start)
    writer.shutdown()
    print(
        String(
            format: "point reads, %d thread(s): raw %.0f/s, store %.0f/s, ratio %.3f",
            threads,
            raw,
            ours,
            ours / raw
        )
    )
}

// Durable writes.
let rawWrites = csl_lmdb_serial_writes(try makeTemporaryDirectory("bench-raw-writes"), "a", UInt(writes))
var serial = 0.0
do {
    let (_, writer, a) = try open(try makeTemporaryDirectory("bench-serial"))
    let value = [UInt8](repeating: 7, count: 200)
    let start = ContinuousClock.now
    for index in 0..<writes { try await writer.write { try $0.put(a, key(index), value) } }
    serial = perSecond(writes, since: start)
    writer.shutdown()
}
var grouped = 0.0
var commits = 0
do {
    let (_, writer, a) = try open(try makeTemporaryDirectory("bench-group"))
    let value = [UInt8](repeating: 7, count: 200)
    let start = ContinuousClock.now
    try await withThrowingTaskGroup(of: Void.self) { group in
        for task in 0..<64 {
            group.addTask {
                for index in stride(from: task, to: writes, by: 64) {
                    try await writer.write { try $0.put(a, key(index), value) }
                }
            }
        }
        try await group.waitForAll()
    }
    grouped = perSecond(writes, since: start)
    commits = writer.statistics.commits
    writer.shutdown()
}
print(String(format: "durable writes (one fsync per write, raw C): %.0f/s", rawWrites))
print(String(format: "durable writes, one writer awaiting each: %.0f/s, ratio %.3f", serial, serial / rawWrites))
print(
    String(
        format: "durable writes, 64 concurrent writers (group commit, %d commits for %d writes): %.0f/s, ratio %.2f",
        commits,
        writes,
        grouped,
        grouped / rawWrites
    )
)

// Index scan.
let scanPath = try makeTemporaryDirectory("bench-scan")
do {
    let environment = try Environment(.init(path: scanPath, mapSize: 8 << 30, databases: ["index"]))
    let writer = StoreWriter(environment: environment)
    let index = try environment.database("index")
    for batch in stride(from: 0, to: scanEntries, by: 50_000) {
        try await writer.write { txn in
            for serial in batch..<min(batch + 50_000, scanEntries) {
                // Shaped like a certificate's not-after index entry: table, index, time, issuer+serial.
                var primary = Key().appending("ca-1")
                primary.append(bytes: withUnsafeBytes(of: UInt64(serial).bigEndian) { Array($0) })
                let entry = Key().appending("certificates").appending("not-after").appending(Int64(serial * 1000))
                try txn.put(index, entry.bytes + primary.bytes, primary.bytes)
            }
        }
    }
    writer.shutdown()
}
var rawEntries: UInt = 0
let rawScan = csl_lmdb_scan(scanPath, "index", &rawEntries)
do {
    let environment = try Environment(.init(path: scanPath, mapSize: 8 << 30, databases: ["index"]))
    let index = try environment.database("index")
    let start = ContinuousClock.now
    var seen = 0
    try environment.read { txn in
        try txn.forEach(index, from: []) { _, _ in
            seen += 1
            return true
        }
    }
    let ours = perSecond(seen, since: start)
    let elapsed = Double(seen) / ours
    print(
        String(
            format: "scan of %d index entries: raw %.0f/s, store %.0f/s (%.2f s), ratio %.3f",
            seen,
            rawScan,
            ours,
            elapsed,
            ours / rawScan
        )
    )
}

// Typed record reads through the async store protocol (`MetadataBackend.read`, what services call since
// the cluster store) against the synchronous read services made before (`Environment.read` and the
// schema's typed lookup), alternated in rounds, one task, 20,000 certificates.
do {
    let (schema, writer) = try await CustosStore.open(dataDirectory: try makeTemporaryDirectory("bench-typed"))
    let backend = LMDBBackend(schema: schema, writer: writer)
    let count = 20_000
    @Sendable func serial(_ index: Int) -> [UInt8] { withUnsafeBytes(of: UInt64(index).bigEndian) { Array($0) } }
    for batch in stride(from: 0, to: count, by: 5_000) {
        try await backend.write { txn in
            for index in batch..<(batch + 5_000) {
                try txn.save(
                    CertificateRecord(
                        issuer: "bench",
                        serial: serial(index),
                        subject: "CN=device-\(index)",
                        notBefore: 0,
                        notAfter: Int64(index),
                        der: [UInt8](repeating: 0x30, count: 600),
                        metadata: ["line": "7"]
                    )
                )
            }
        }
    }
    let keys = (0..<count).map {
        CertificateRecord(
            issuer: "bench",
            serial: serial($0),
            subject: "",
            notBefore: 0,
            notAfter: 0,
            der: [],
            metadata: [:]
        )
        .primaryKey
    }
    // On the cooperative pool, where services run (top-level code runs on the main actor, and every
    // call of a nonisolated async function from there would hop off it and back).
    let (syncTotal, asyncTotal, ratios) = try await Task.detached {
        var syncTotal = 0.0
        var asyncTotal = 0.0
        var ratios: [Double] = []
        for _ in 0..<5 {
            var generator = SystemRandomNumberGenerator()
            var done = 0
            var start = ContinuousClock.now
            var deadline = start + .milliseconds(500)
            while ContinuousClock.now < deadline {
                let key = keys[Int(generator.next(upperBound: UInt(count)))]
                if try schema.environment.read({ try $0.record(CertificateRecord.self, key: key, in: schema) }) != nil {
                    done += 1
                }
            }
            let sync = perSecond(done, since: start)
            done = 0
            start = ContinuousClock.now
            deadline = start + .milliseconds(500)
            while ContinuousClock.now < deadline {
                let key = keys[Int(generator.next(upperBound: UInt(count)))]
                if try await backend.read({ try $0.record(CertificateRecord.self, key: key) }) != nil { done += 1 }
            }
            let async = perSecond(done, since: start)
            syncTotal += sync
            asyncTotal += async
            ratios.append(async / sync)
        }
        return (syncTotal, asyncTotal, ratios)
    }.value
    writer.shutdown()
    print(
        String(
            format:
                "certificate reads, one task: synchronous %.0f/s, async store protocol %.0f/s, ratio %.3f (rounds %.2f–%.2f)",
            syncTotal / 5,
            asyncTotal / 5,
            asyncTotal / syncTotal,
            ratios.min() ?? 0,
            ratios.max() ?? 0
        )
    )
}

/// Per-thread results of the read loops.
final class ThreadCounts: @unchecked Sendable {
    // @unchecked: guarded by `lock`.
    private let lock = NSLock()
    private var values: [Int?]
    init(_ count: Int) { values = Array(repeating: nil, count: count) }
    func set(_ slot: Int, _ value: Int) { lock.withLock { values[slot] = value } }
    var finished: Int { lock.withLock { values.compactMap { $0 }.count } }
    var total: Int { lock.withLock { values.compactMap { $0 }.reduce(0, +) } }
}
