import NIOCore
import NIOPosix
import NIOSSL

/// One connection to a relay: commands written, replies read in order, TLS at the start or after
/// STARTTLS, and the whole conversation bounded by the relay's timeout (the channel is closed then,
/// which fails the reply being waited for).
final class SMTPConnection: Sendable {
    let channel: any Channel
    let relay: SMTPRelay
    private let replies: NIOLoopBound<ReplyReader>
    private let deadline: Scheduled<Void>

    private init(channel: any Channel, relay: SMTPRelay, replies: NIOLoopBound<ReplyReader>) {
        self.channel = channel
        self.relay = relay
        self.replies = replies
        deadline = channel.eventLoop.scheduleTask(in: TimeAmount(relay.timeout)) { channel.close(promise: nil) }
    }

    static func open(_ relay: SMTPRelay, group: any EventLoopGroup) async throws -> SMTPConnection {
        let context = try Self.tlsContext(relay)
        let channel = try await ClientBootstrap(group: group)
            .connectTimeout(TimeAmount(relay.timeout))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if relay.security == .tls {
                        try channel.pipeline.syncOperations.addHandler(
                            try NIOSSLClientHandler(
                                context: context,
                                serverHostname: relay.host.isIPAddress ? nil : relay.host
                            )
                        )
                    }
                    try channel.pipeline.syncOperations.addHandler(ReplyReader())
                }
            }
            .connect(host: relay.host, port: relay.port).get()
        let replies = try await channel.eventLoop.submit {
            NIOLoopBound(
                try channel.pipeline.syncOperations.handler(type: ReplyReader.self),
                eventLoop: channel.eventLoop
            )
        }.get()
        return SMTPConnection(channel: channel, relay: relay, replies: replies)
    }

    static func tlsContext(_ relay: SMTPRelay) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        if !relay.trustRoots.isEmpty { configuration.trustRoots = .certificates(relay.trustRoots) }
        return try NIOSSLContext(configuration: configuration)
    }

    /// Sends `command` (nil: only reads, as for the greeting) and returns the reply if its code is one of
    /// `codes`; any other reply, or none, is an `SMTPError` for `step`.
    @discardableResult
    func expect(_ step: String, _ command: String?, _ codes: Int...) async throws(SMTPError) -> SMTPReply {
        let promise = channel.eventLoop.makePromise(of: SMTPReply.self)
        let channel = channel
        let replies = replies
        channel.eventLoop.execute {
            replies.value.wait(promise)
            if let command {
                channel.writeAndFlush(ByteBuffer(string: command + "\r\n"), promise: nil)
            }
        }
        let reply: SMTPReply
        do {
            reply = try await promise.futureResult.get()
        } catch {
            throw SMTPError(step: step, reason: "no reply (\(error))")
        }
        guard codes.contains(reply.code) else { throw SMTPError(step: step, reply: reply, reason: "refused") }
        return reply
    }

    /// Puts TLS under the conversation (after the relay's 220 to STARTTLS).
    func startTLS() async throws(SMTPError) {
        do {
            let context = try Self.tlsContext(relay)
            let host = relay.host.isIPAddress ? nil : relay.host
            let channel = channel
            try await channel.eventLoop.submit {
                let handler = try NIOSSLClientHandler(context: context, serverHostname: host)
                try channel.pipeline.syncOperations.addHandler(handler, position: .first)
            }.get()
        } catch {
            throw SMTPError(step: "STARTTLS", reason: "TLS could not be started: \(error)")
        }
    }

    func close() async {
        deadline.cancel()
        try? await channel.close()
    }
}

/// Reads replies and hands each to the oldest waiter; fails every waiter when the connection ends.
final class ReplyReader: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private var parser = SMTPReplyParser()
    private var waiting: [EventLoopPromise<SMTPReply>] = []
    private var arrived: [SMTPReply] = []
    private var failure: (any Error)?

    struct Closed: Error, CustomStringConvertible {
        var description: String { "the connection closed (or timed out)" }
    }

    func wait(_ promise: EventLoopPromise<SMTPReply>) {
        if !arrived.isEmpty { return promise.succeed(arrived.removeFirst()) }
        if let failure { return promise.fail(failure) }
        waiting.append(promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        do {
            for reply in try parser.feed(buffer.readableBytesView) {
                if waiting.isEmpty { arrived.append(reply) } else { waiting.removeFirst().succeed(reply) }
            }
        } catch {
            failAll("the relay sent a malformed reply: \(error)")
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failAll("\(error)")
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(nil)
        context.fireChannelInactive()
    }

    private func failAll(_ reason: String?) {
        let error: any Error = reason.map { SMTPError(step: "read", reason: $0) } ?? Closed()
        if failure == nil { failure = error }
        for promise in waiting { promise.fail(error) }
        waiting = []
    }
}

extension String {
    /// Whether this is an IPv4 or IPv6 literal (TLS sends no server name for those).
    var isIPAddress: Bool {
        (try? SocketAddress(ipAddress: self, port: 0)) != nil
    }
}
