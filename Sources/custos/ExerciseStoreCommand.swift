import ArgumentParser
import Foundation
import MetadataStore

/// `custos store exercise`: writes certificates and audit entries from many concurrent writers and
/// prints `ack N` after each write is durable. Hidden: the crash-durability test kills it at random
/// moments and checks that every acknowledged write survived.
struct ExerciseStoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exercise",
        abstract: "Write under load and acknowledge durable writes (for tests).",
        shouldDisplay: false
    )

    @OptionGroup var data: DataDirectoryOption

    @Option(help: "Concurrent writers.")
    var writers = 16

    @Option(help: "Writes in all (0: until killed).")
    var count = 0

    func run() async throws {
        let opened = try await OpenedStore.open(dataDirectory: data.dataDir, url: data.storeURL)
        let store = opened.backend
        let first = try await store.read { try $0.records(CertificateRecord.self, after: nil, limit: .max).count }
        let next = Counter(first)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<writers {
                group.addTask {
                    while let index = next.take(limit: count == 0 ? nil : first + count) {
                        _ = try await store.write { txn in
                            let serial = withUnsafeBytes(of: UInt64(index).bigEndian) { Array($0) }
                            try txn.save(
                                CertificateRecord(
                                    issuer: "exercise",
                                    serial: serial,
                                    subject: "CN=unit-\(index)",
                                    notBefore: 0,
                                    notAfter: Int64(index),
                                    der: [UInt8](repeating: UInt8(index & 0xFF), count: 256),
                                    metadata: ["batch": "b\(index % 7)"]
                                )
                            )
                            try txn.appendAudit(
                                AuditEvent(
                                    actor: "exercise",
                                    action: "certificate.issue",
                                    object: "unit-\(index)",
                                    outcome: "success"
                                )
                            )
                        }
                        // Only now is the write durable: tell the parent.
                        FileHandle.standardOutput.write(Data("ack \(index)\n".utf8))
                    }
                }
            }
            try await group.waitForAll()
        }
        opened.shutdown()
    }
}

/// Hands out increasing numbers to concurrent writers.
private final class Counter: @unchecked Sendable {
    // @unchecked: guarded by `lock`.
    private let lock = NSLock()
    private var value: Int
    init(_ start: Int) { value = start }
    func take(limit: Int?) -> Int? {
        lock.withLock {
            if let limit, value >= limit { return nil }
            defer { value += 1 }
            return value
        }
    }
}
