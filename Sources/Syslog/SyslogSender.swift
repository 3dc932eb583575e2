import Foundation
public import NIOCore
public import NIOPosix
public import NIOSSL
import Synchronization

/// Sends syslog messages to one destination without ever making the caller wait: messages go into a
/// bounded queue (the newest 10,000 are kept; older ones are dropped and counted), and one task sends
/// them, connecting again (after 1 s, doubling to 30 s) when a stream breaks or cannot be opened.
/// A message that a broken stream took is lost: syslog over TCP has no acknowledgements.
public final class SyslogSender: Sendable {
    public let destination: SyslogDestination
    private let continuation: AsyncStream<[UInt8]>.Continuation
    private let task: Task<Void, Never>
    private let counters = Counters()
    /// How many messages the queue keeps while the destination is slow or away.
    public static let queueLimit = 10_000

    /// Starts sending to `destination`; `tls` is the client configuration for `tls://` (its trust roots:
    /// the collector's CA).
    public init(
        destination: SyslogDestination,
        tls: TLSConfiguration = .makeClientConfiguration(),
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) throws {
        self.destination = destination
        let (stream, continuation) = AsyncStream.makeStream(
            of: [UInt8].self,
            bufferingPolicy: .bufferingNewest(Self.queueLimit)
        )
        self.continuation = continuation
        let context = destination.transport == .tls ? try NIOSSLContext(configuration: tls) : nil
        let counters = counters
        task = Task {
            var connection = Connection(destination: destination, context: context, group: group)
            var delay = Duration.seconds(1)
            for await message in stream {
                while !Task.isCancelled {
                    do {
                        try await connection.send(destination.framed(message))
                        counters.value.withLock { $0.sent += 1 }
                        delay = .seconds(1)
                        break
                    } catch {
                        counters.value.withLock { $0.failures += 1 }
                        await connection.close()
                        try? await Task.sleep(for: delay)
                        delay = min(delay * 2, .seconds(30))
                        // A datagram that could not be sent is not tried again.
                        if destination.transport == .udp { break }
                    }
                }
            }
            await connection.close()
        }
    }

    deinit {
        continuation.finish()
    }

    /// Queues a message (its RFC 5424 bytes, unframed); never waits.
    public func send(_ message: [UInt8]) {
        if case .dropped = continuation.yield(message) { counters.value.withLock { $0.dropped += 1 } }
    }

    /// Messages sent, dropped from a full queue, and failed sends (each followed by a reconnection).
    public var statistics: (sent: Int, dropped: Int, failures: Int) { counters.value.withLock { $0 } }

    private final class Counters: Sendable {
        let value = Mutex<(sent: Int, dropped: Int, failures: Int)>((0, 0, 0))
    }

    /// Sends what is queued, then stops (at most `timeout`).
    public func finish(timeout: Duration = .seconds(2)) async {
        continuation.finish()
        let task = task
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await task.value }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
            task.cancel()
        }
    }

    /// The channel to the destination, opened on first use.
    private struct Connection {
        let destination: SyslogDestination
        let context: NIOSSLContext?
        let group: any EventLoopGroup
        var channel: (any Channel)?
        var address: SocketAddress?

        mutating func send(_ bytes: [UInt8]) async throws {
            if channel == nil || channel?.isActive == false { try await open() }
            guard let channel else { return }
            let buffer = channel.allocator.buffer(bytes: bytes)
            if destination.transport == .udp, let address {
                try await channel.writeAndFlush(AddressedEnvelope(remoteAddress: address, data: buffer)).get()
            } else {
                try await channel.writeAndFlush(buffer).get()
            }
        }

        mutating func open() async throws {
            await close()
            let address = try SocketAddress.makeAddressResolvingHost(destination.host, port: destination.port)
            self.address = address
            switch destination.transport {
            case .udp:
                let bind = address.protocol == .inet6 ? "::" : "0.0.0.0"
                channel = try await DatagramBootstrap(group: group).bind(host: bind, port: 0).get()
            case .tcp, .tls:
                let context = context
                let host = destination.host
                channel = try await ClientBootstrap(group: group)
                    .connectTimeout(.seconds(5))
                    .channelInitializer { channel in
                        guard let context else { return channel.eventLoop.makeSucceededVoidFuture() }
                        return channel.eventLoop.makeCompletedFuture {
                            let handler = try NIOSSLClientHandler(
                                context: context,
                                serverHostname: host.first?.isNumber == true || host.contains(":") ? nil : host
                            )
                            try channel.pipeline.syncOperations.addHandler(handler)
                        }
                    }
                    .connect(to: address).get()
            }
        }

        mutating func close() async {
            if let channel { try? await channel.close().get() }
            channel = nil
        }
    }
}
