import CustosTestSupport
import Foundation
import Glibc
import MetadataStore
import Server
import Syslog
import Testing

/// A UDP socket on 127.0.0.1 that collects datagrams, standing in for a syslog collector.
final class Collector: Sendable {
    let socket: Int32
    let port: UInt16

    init() throws {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        self.socket = socket
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) }
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(socket, $0, &length) }
        }
        self.port = UInt16(bigEndian: address.sin_port)
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(socket) }

    /// The next datagram, or nil after `seconds` of silence (waited for on a thread of its own). The
    /// sender sends from a task of its own: under a loaded machine a datagram can take seconds.
    func next(within seconds: Int = 30) async -> String? {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: self.receive(within: seconds)) }
        }
    }

    /// The next datagram, or nil after `seconds` of silence.
    func receive(within seconds: Int) -> String? {
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = recv(socket, &buffer, buffer.count, 0)
        return count > 0 ? String(decoding: buffer.prefix(count), as: UTF8.self) : nil
    }
}

struct SyslogRefused: Error {}

@Suite struct AuditSyslogTests {
    @Test func committedAuditEntriesReachSyslogAndRolledBackOnesDoNot() async throws {
        let collector = try Collector()
        let sender = try SyslogSender(
            destination: SyslogDestination(transport: .udp, host: "127.0.0.1", port: Int(collector.port))
        )
        let directory = try makeTemporaryDirectory("syslog")
        let (schema, writer) = try await CustosStore.open(dataDirectory: directory, auditSink: AuditSyslog.sink(sender))
        try await writer.write { txn in
            try txn.appendAudit(
                AuditEvent(
                    actor: "officer",
                    action: "ca.create",
                    object: "root \"R1\"]",
                    outcome: "success",
                    requestID: "r-1"
                ),
                in: schema
            )
        }
        let message = try #require(await collector.next())
        #expect(message.hasPrefix("<85>1 "), "\(message)")
        #expect(message.contains(" custos \(getpid()) ca.create [custos@32473 seq=\"1\" actor=\"officer\""))
        #expect(message.contains(#"object="root \"R1\"\]""#), "\(message)")
        #expect(message.contains("requestId=\"r-1\""))

        await #expect(throws: SyslogRefused.self) {
            try await writer.write { txn in
                try txn.appendAudit(
                    AuditEvent(actor: "officer", action: "ca.delete", object: "x", outcome: "success"),
                    in: schema
                )
                throw SyslogRefused()
            }
        }
        try await writer.write { txn in
            try txn.appendAudit(
                AuditEvent(actor: "signer", action: "key.sign", object: "k", outcome: "denied"),
                in: schema
            )
        }
        let next = try #require(await collector.next())
        #expect(next.hasPrefix("<84>1 "), "a failure is logged as a warning: \(next)")
        #expect(next.contains("key.sign"))
        #expect(!next.contains("ca.delete"))
        // Nothing more (the rolled-back entry was never queued; the sender keeps order).
        #expect(await collector.next(within: 2) == nil)
        writer.shutdown()
    }
}
