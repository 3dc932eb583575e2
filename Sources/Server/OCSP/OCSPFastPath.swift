import CA
import Codecs
import Foundation
import NIOCore
import NIOHTTP1
import OCSP

/// Answers OCSP GET requests that have a stored, pre-signed answer right on the event loop, before
/// Hummingbird's router: the answer is one LMDB read away (a read never blocks on a writer), and
/// skipping the hop into a task and the middleware more than doubles what one core serves (see
/// Bench/README.md, "OCSP responder"). It sits right behind NIO's HTTP/1 decoder, ahead of the
/// conversion to HTTPTypes (`CustosHTTP1Channel`), so an answer written here is not converted twice.
/// Anything else (a miss, POST, errors, every other route) goes on down the pipeline unchanged.
///
/// Clients may pipeline: while a request handed on has not been answered, every later request on
/// the connection is handed on too, so answers never overtake one another.
final class OCSPFastPath: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let answers: PresignedAnswerCache
    /// The answer to write once the request's end arrives, while this handler holds the request.
    private var pending:
        (served: PresignedAnswerCache.Served, ifNoneMatch: String?, version: HTTPVersion, keepAlive: Bool)?
    /// The Date header of the last answer and the second it was formatted for.
    private var date: (second: Int64, text: String) = (0, "")
    /// Whether parts of a request handed on are still passing (its body and end go on as well).
    private var forwarding = false
    /// Requests handed on whose response has not ended yet.
    private var unanswered = 0

    init(answers: PresignedAnswerCache) { self.answers = answers }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        switch part {
        case .head(let request):
            if unanswered == 0, request.method == .GET, let served = answers.answer(path: request.uri) {
                pending = (served, request.headers.first(name: "if-none-match"), request.version, request.isKeepAlive)
                forwarding = false
                return
            }
            forwarding = true
            unanswered += 1
            context.fireChannelRead(data)
        case .body:
            // A GET answered here has no body worth reading; a forwarded request's body goes on.
            if forwarding { context.fireChannelRead(data) }
        case .end:
            guard !forwarding, let (served, ifNoneMatch, version, keepAlive) = pending else {
                context.fireChannelRead(data)
                return
            }
            pending = nil
            write(served, ifNoneMatch: ifNoneMatch, version: version, keepAlive: keepAlive, context: context)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { unanswered = max(0, unanswered - 1) }
        context.write(data, promise: promise)
    }

    private func write(
        _ served: PresignedAnswerCache.Served,
        ifNoneMatch: String?,
        version: HTTPVersion,
        keepAlive: Bool,
        context: ChannelHandlerContext
    ) {
        let caching = served.headers
        let now = Int64(Date().timeIntervalSince1970)
        if date.second != now { date = (now, HTTPDate.format(now)) }
        let notModified = caching.matches(ifNoneMatch)
        let body = notModified ? nil : served.answer.der
        let headers = HTTPHeaders(
            [("Content-Type", "application/ocsp-response")] + caching.fields(now: now) + [
                ("Content-Length", String(body?.count ?? 0)), ("Date", date.text),
            ]
        )
        var head = HTTPResponseHead(version: version, status: notModified ? .notModified : .ok, headers: headers)
        if !keepAlive { head.headers.add(name: "Connection", value: "close") }
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if let body {
            context.write(
                wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(bytes: body)))),
                promise: nil
            )
        }
        let done = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: done)
        if !keepAlive {
            let channel = context.channel
            done.futureResult.whenComplete { _ in channel.close(promise: nil) }
        }
        ServerMetrics.ocspAnswered(served.answer, duration: .zero)
    }
}
