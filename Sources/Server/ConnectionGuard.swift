import Foundation
import NIOCore
import NIOHTTP1
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// How long a connection may take over each part of a request, and how many connections are served.
public struct ConnectionLimits: Sendable {
    /// From the first byte of a request (or from accepting the connection) to the end of its head.
    public var headerTimeout: Duration = .seconds(10)
    /// The longest pause between two pieces of a request body.
    public var bodyTimeout: Duration = .seconds(30)
    /// How long a kept-alive connection may wait for its next request.
    public var idleTimeout: Duration = .seconds(60)
    /// Open connections served at once; nil: the descriptor limit less a reserve for the store, the
    /// token and logs. Connections beyond it are closed as soon as they are accepted.
    public var maxConnections: Int?
    /// Open connections one client address may hold; more are closed as soon as they are accepted,
    /// so that one host cannot take every connection from the others.
    public var maxConnectionsPerClient = 1024

    public init() {}
}

/// The open connections, in total and per client address, against `ConnectionLimits`.
final class ConnectionCounter: Sendable {
    let maxTotal: Int
    let maxPerClient: Int
    private let state = Mutex<(total: Int, perClient: [String: Int])>((0, [:]))

    init(_ limits: ConnectionLimits) {
        maxTotal = limits.maxConnections ?? max(64, FileDescriptorLimit.raise() - 256)
        maxPerClient = limits.maxConnectionsPerClient
    }

    /// Counts a new connection from `client`; false, counting nothing, when a limit is reached.
    func admit(_ client: String) -> Bool {
        let open: Int? = state.withLock { state in
            let mine = state.perClient[client, default: 0]
            guard state.total < maxTotal, mine < maxPerClient else { return nil }
            state.total += 1
            state.perClient[client] = mine + 1
            return state.total
        }
        if let open { ServerMetrics.connectionsOpen(open) }
        return open != nil
    }

    func release(_ client: String) {
        let open = state.withLock { state in
            state.total -= 1
            let mine = state.perClient[client, default: 1] - 1
            state.perClient[client] = mine > 0 ? mine : nil
            return state.total
        }
        ServerMetrics.connectionsOpen(open)
    }

    var open: Int { state.withLock { $0.total } }
}

/// The process's open-file limit.
enum FileDescriptorLimit {
    /// Raises the soft limit to the hard one (once per process) and returns the soft limit in force.
    static func raise() -> Int {
        raised.withLock { value in
            if let value { return value }
            var limit = rlimit()
            guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
            if limit.rlim_cur < limit.rlim_max {
                var wanted = limit
                wanted.rlim_cur = limit.rlim_max
                if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &wanted) == 0 { limit = wanted }
            }
            let soft = limit.rlim_cur > rlim_t(1 << 24) ? 1 << 24 : Int(limit.rlim_cur)
            value = soft
            return soft
        }
    }

    private static let raised = Mutex<Int?>(nil)
}

/// Notes when the bytes of a request head start to arrive. It sits in front of NIO's HTTP/1 decoder,
/// which reports a head only once it is whole; `ConnectionGuard` (behind the decoder) holds the clock.
final class HeadBytesWatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    let guardHandler: ConnectionGuard

    init(_ guardHandler: ConnectionGuard) { self.guardHandler = guardHandler }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guardHandler.bytesArrived()
        context.fireChannelRead(data)
    }
}

/// Guards one HTTP/1 connection, right behind NIO's decoder:
/// - closes it when a head takes longer than `headerTimeout`, a body pauses longer than
///   `bodyTimeout`, or a kept-alive connection waits longer than `idleTimeout` (a slow or silent client
///   holds a descriptor and a little memory, and enough of them stop everyone else);
/// - refuses it at once when the server or its client already has as many connections as allowed;
/// - answers a request the decoder cannot read with the API's JSON error, then closes: 431 when the
///   request line or headers are over the limit, 400 for anything else that is not HTTP.
/// Everything runs on the connection's event loop; a one-second tick checks the clock, so that a
/// request costs two clock reads and no timer.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private enum Phase {
        /// Waiting for a request; `started` when the connection opened or the last response ended.
        case awaitingHead(started: NIODeadline, firstRequest: Bool)
        /// A head came; its body (if any) is arriving.
        case readingBody(lastRead: NIODeadline)
        /// The request is whole; the server is working on it (no limit: signing can queue).
        case processing
    }

    private let limits: ConnectionLimits
    private let counter: ConnectionCounter
    private var phase = Phase.awaitingHead(started: .now(), firstRequest: true)
    /// When the bytes of the awaited head started to arrive.
    private var headStarted: NIODeadline?
    /// Requests whose response has not ended.
    private var inFlight = 0
    /// Whether a response head went out whose end has not.
    private var responding = false
    private var closing = false
    private var client: String?
    private var tick: RepeatedTask?

    init(limits: ConnectionLimits, counter: ConnectionCounter) {
        self.limits = limits
        self.counter = counter
    }

    func bytesArrived() {
        if headStarted == nil, case .awaitingHead = phase { headStarted = .now() }
    }

    func channelActive(context: ChannelHandlerContext) {
        let address = context.channel.remoteAddress?.ipAddress ?? "unknown"
        guard counter.admit(address) else {
            ServerMetrics.connectionRefused()
            context.close(promise: nil)
            return
        }
        client = address
        phase = .awaitingHead(started: .now(), firstRequest: true)
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        tick = context.eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in
            bound.value.handler.check(bound.value.context)
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        tick?.cancel()
        tick = nil
        if let client { counter.release(client) }
        client = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            inFlight += 1
            headStarted = nil
            phase = .readingBody(lastRead: .now())
        case .body:
            if case .readingBody = phase { phase = .readingBody(lastRead: .now()) }
        case .end:
            phase = .processing
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head: responding = true
        case .body: break
        case .end:
            responding = false
            inFlight = max(0, inFlight - 1)
            if inFlight == 0, case .processing = phase { phase = .awaitingHead(started: .now(), firstRequest: false) }
        }
        context.write(data, promise: promise)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        switch parserError {
        case .headerOverflow:
            answerAndClose(
                context,
                .requestHeaderFieldsTooLarge,
                "headers_too_large",
                "the request line and headers exceed the server's limit"
            )
        default:
            answerAndClose(context, .badRequest, "malformed_request", "the request is not HTTP/1.1 the server can read")
        }
    }

    private func check(_ context: ChannelHandlerContext) {
        guard !closing else { return }
        let now = NIODeadline.now()
        switch phase {
        case .awaitingHead(let started, let firstRequest):
            if let headStarted, now - headStarted > limits.headerTimeout.timeAmount {
                ServerMetrics.connectionTimedOut("header")
                answerAndClose(context, .requestTimeout, "request_timeout", "the request head took too long")
            } else if headStarted == nil,
                now - started > (firstRequest ? limits.headerTimeout : limits.idleTimeout).timeAmount
            {
                ServerMetrics.connectionTimedOut(firstRequest ? "header" : "idle")
                closing = true
                context.close(promise: nil)
            }
        case .readingBody(let lastRead):
            if now - lastRead > limits.bodyTimeout.timeAmount {
                ServerMetrics.connectionTimedOut("body")
                answerAndClose(context, .requestTimeout, "request_timeout", "the request body stalled")
            }
        case .processing:
            break
        }
    }

    /// Writes the API's JSON error (unless a response is under way, which is not interrupted by a
    /// second one) and closes the connection.
    private func answerAndClose(
        _ context: ChannelHandlerContext,
        _ status: HTTPResponseStatus,
        _ code: String,
        _ message: String
    ) {
        guard !closing else { return }
        closing = true
        guard !responding else {
            context.close(promise: nil)
            return
        }
        // The shape of every error answer (`ErrorBody`), by hand: the router is never reached.
        let body = "{\"error\":{\"code\":\"\(code)\",\"message\":\"\(message)\"}}"
        let head = HTTPResponseHead(
            version: .http1_1,
            status: status,
            headers: [
                "Content-Type": "application/json", "Content-Length": String(body.utf8.count), "Connection": "close",
            ]
        )
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
    }
}

extension Duration {
    fileprivate var timeAmount: TimeAmount {
        .nanoseconds(components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000)
    }
}
