import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A background job that one process at a time runs on a store several processes share, such as
/// signing OCSP responses ahead when `custos serve` and any number of `custos ocsp serve` work on one
/// data directory: without it each would sign the same responses.
///
/// The holder renews the lease each time it runs the job (`hold`); another process takes it once it has
/// expired (its holder stopped or hung), or at once if it has a higher rank. The record is read and
/// written in one transaction, so two processes never both get it at the same time.
public final class StoreLease: Sendable {
    /// The job's name, the record's key.
    public let name: String
    /// This process's claim: host, process id and a random part (a restarted process with the pid of
    /// the one before is another holder).
    public let holder: String
    public let rank: Int64
    /// How long a hold lasts without renewal.
    public let term: Duration
    private let store: any MetadataBackend

    public init(name: String, rank: Int64 = 0, term: Duration, store: any MetadataBackend) {
        self.name = name
        self.rank = rank
        self.term = term
        self.store = store
        let random = (0..<4).map { _ in String(UInt8.random(in: 0...255), radix: 16) }.joined()
        self.holder = "\(Self.hostName())/\(getpid())/\(random)"
    }

    /// The host's name as the kernel has it (Foundation's `hostName` may ask DNS and wait).
    private static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "unknown-host" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Takes or renews the lease if it is free, expired, held by this process or by a lower rank.
    /// Returns whether this process holds it now (for `term` from now). Time is the store's clock
    /// (`MetadataReading.clock`: the database server's when nodes share PostgreSQL, so a node whose
    /// clock runs ahead cannot take a lease early); `now` overrides it in tests.
    public func hold(now: Int64? = nil) async throws -> Bool {
        let key = Key().appending(name)
        let termNanoseconds = term.components.seconds * 1_000_000_000 + term.components.attoseconds / 1_000_000_000
        // A read first: a process that does not get the lease writes nothing.
        let free = try await store.read { [holder, rank] reader in
            guard let current = try reader.record(LeaseRecord.self, key: key) else { return true }
            return Self.takes(holder: holder, rank: rank, from: current, now: try now ?? reader.clock())
        }
        guard free else { return false }
        return try await store.write { [name, holder, rank] txn in
            let time = try now ?? txn.clock()
            // Again in the transaction: another process may have taken it since the read.
            if let stored = try txn.record(LeaseRecord.self, key: key),
                !Self.takes(holder: holder, rank: rank, from: stored, now: time)
            {
                return false
            }
            try txn.save(LeaseRecord(name: name, holder: holder, rank: rank, expires: time + termNanoseconds))
            return true
        }
    }

    /// Gives the lease up if this process holds it, so another takes it at its next try (at shutdown).
    public func release() async throws {
        let key = Key().appending(name)
        try await store.write { [holder] txn in
            if let stored = try txn.record(LeaseRecord.self, key: key), stored.holder == holder {
                try txn.remove(LeaseRecord.self, key: key)
            }
        }
    }

    /// The lease as stored (nil: nobody has held it, or the last holder released it).
    public func current() async throws -> LeaseRecord? {
        let key = Key().appending(name)
        return try await store.read { try $0.record(LeaseRecord.self, key: key) }
    }

    private static func takes(holder: String, rank: Int64, from stored: LeaseRecord, now: Int64) -> Bool {
        stored.holder == holder || stored.expires <= now || rank > stored.rank
    }

    /// Nanoseconds since 1970.
    public static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1e9) }
}
