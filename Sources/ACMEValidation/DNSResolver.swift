import Codecs
import Foundation
import NIOCore
import NIOPosix

/// Asks DNS resolvers over UDP, and over TCP when an answer is truncated (RFC 7766). Nothing blocks a
/// thread: getaddrinfo is not used (it would), and every exchange is closed at its deadline.
struct DNSResolver: Sendable {
    let servers: [SocketAddress]
    let timeout: Duration

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    init(resolvers: [String], timeout: Duration) throws {
        var texts = resolvers
        if texts.isEmpty { texts = Self.systemResolvers() }
        servers = try texts.map { text in
            guard let address = Self.address(text) else {
                throw Failure(description: "resolver \"\(text)\" is not address:port")
            }
            return address
        }
        guard !servers.isEmpty else { throw Failure(description: "no DNS resolver is configured") }
        self.timeout = timeout
    }

    /// `1.2.3.4:53`, `[::1]:53`, or an address alone (port 53).
    static func address(_ text: String) -> SocketAddress? {
        var host = text
        var port = 53
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            if rest.hasPrefix(":") {
                guard let number = Int(rest.dropFirst()) else { return nil }
                port = number
            }
        } else if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":") {
            host = String(text[..<colon])
            guard let number = Int(text[text.index(after: colon)...]) else { return nil }
            port = number
        }
        guard (1...65535).contains(port) else { return nil }
        return try? SocketAddress(ipAddress: host, port: port)
    }

    /// The `nameserver` lines of /etc/resolv.conf.
    static func systemResolvers() -> [String] {
        guard let text = try? String(contentsOfFile: "/etc/resolv.conf", encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 2, fields[0] == "nameserver" else { return nil }
            let host = String(fields[1])
            return host.contains(":") ? "[\(host)]:53" : "\(host):53"
        }
    }

    /// The answer for `name` and `type` from the first resolver that answers.
    func lookup(_ name: String, _ type: DNSMessage.RecordType) async throws -> DNSMessage.Response {
        var lastError: any Error = Failure(description: "no resolver answered")
        for server in servers {
            do {
                let id = UInt16.random(in: .min ... .max)
                let query = try DNSMessage.query(id: id, name: name, type: type)
                var response = try DNSMessage.response(try await udp(query, id: id, server: server))
                if response.truncated {
                    response = try DNSMessage.response(try await tcp(query, id: id, server: server))
                }
                guard response.id == id else { throw Failure(description: "the answer's id is not the query's") }
                // SERVFAIL and REFUSED: the next resolver may do better.
                if response.responseCode == 2 || response.responseCode == 5 {
                    lastError = Failure(description: "resolver \(server) answered rcode \(response.responseCode)")
                    continue
                }
                return response
            } catch {
                lastError = error
            }
        }
        throw lastError
    }

    private func udp(_ query: [UInt8], id: UInt16, server: SocketAddress) async throws -> [UInt8] {
        let bindHost = server.protocol == .inet6 ? "::" : "0.0.0.0"
        let channel = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: bindHost, port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<AddressedEnvelope<ByteBuffer>, AddressedEnvelope<ByteBuffer>>(
                        wrappingChannelSynchronously: channel
                    )
                }
            }
        closeAtDeadline(channel.channel)
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(AddressedEnvelope(remoteAddress: server, data: ByteBuffer(bytes: query)))
            for try await envelope in inbound where envelope.remoteAddress == server {
                let bytes = Array(buffer: envelope.data)
                if bytes.count >= 2, UInt16(bytes[0]) << 8 | UInt16(bytes[1]) == id { return bytes }
            }
            throw Failure(description: "resolver \(server) did not answer within \(timeout)")
        }
    }

    private func tcp(_ query: [UInt8], id: UInt16, server: SocketAddress) async throws -> [UInt8] {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.nanoseconds(Int64(timeout.nanoseconds)))
            .connect(to: server) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        closeAtDeadline(channel.channel)
        return try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(bytes: [UInt8(query.count >> 8), UInt8(query.count & 0xFF)] + query))
            var received: [UInt8] = []
            for try await buffer in inbound {
                received += Array(buffer: buffer)
                guard received.count < 2 + 65_535 else { break }
                if received.count >= 2 {
                    let length = Int(received[0]) << 8 | Int(received[1])
                    if received.count >= 2 + length { return Array(received[2..<2 + length]) }
                }
            }
            throw Failure(description: "resolver \(server) closed the TCP connection before answering")
        }
    }

    private func closeAtDeadline(_ channel: any Channel) {
        let nanoseconds = Int64(timeout.nanoseconds)
        channel.eventLoop.scheduleTask(in: .nanoseconds(nanoseconds)) { channel.close(promise: nil) }
    }
}
