import CA
import Foundation
import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Answers OCSP GET requests that have a stored, pre-signed answer right on the event loop, before
/// Hummingbird's router: the answer is one LMDB read away (a read never blocks on a writer), and
/// skipping the hop into a task and the middleware more than doubles what one core serves (see
/// Bench/README.md, "OCSP responder"). Anything else (a miss, POST, errors, every other route) goes
/// on down the pipeline unchanged.
///
/// Clients may pipeline: while a request handed on has not been answered, every later request on
/// the connection is handed on too, so answers never overtake one another.
final class OCSPFastPath: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let responder: OCSPResponder
    /// The answer to write once the request's end arrives, while this handler holds the request.
    private var pending: (answer: OCSPResponder.Answer, ifNoneMatch: String?, close: Bool)?
    /// Whether parts of a request handed on are still passing (its body and end go on as well).
    private var forwarding = false
    /// Requests handed on whose response has not ended yet.
    private var unanswered = 0

    init(responder: OCSPResponder) { self.responder = responder }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        switch part {
        case .head(let request):
            if unanswered == 0, request.method == .get, let path = request.path, let answer = presigned(path) {
                let close = request.headerFields[.connection]?.lowercased().contains("close") == true
                pending = (answer, request.headerFields[.ifNoneMatch], close)
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
            guard !forwarding, let (answer, ifNoneMatch, close) = pending else {
                context.fireChannelRead(data)
                return
            }
            pending = nil
            write(answer, ifNoneMatch: ifNoneMatch, close: close, context: context)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { unanswered = max(0, unanswered - 1) }
        context.write(data, promise: promise)
    }

    private func presigned(_ path: String) -> OCSPResponder.Answer? {
        guard path.utf8.starts(with: "/ocsp/".utf8), let text = OCSPRoutes.base64Text(path),
            let der = Base64.decode(text)
        else { return nil }
        return responder.presignedAnswer(to: der)
    }

    private func write(
        _ answer: OCSPResponder.Answer,
        ifNoneMatch: String?,
        close: Bool,
        context: ChannelHandlerContext
    ) {
        var (status, headers, body) = OCSPRoutes.httpAnswer(answer, ifNoneMatch: ifNoneMatch, cacheable: true)
        headers[.contentLength] = String(body?.count ?? 0)
        headers[.date] = HTTPDate.format(Int64(Date().timeIntervalSince1970))
        if close { headers[.connection] = "close" }
        context.write(wrapOutboundOut(.head(HTTPResponse(status: status, headerFields: headers))), promise: nil)
        if let body {
            context.write(wrapOutboundOut(.body(context.channel.allocator.buffer(bytes: body))), promise: nil)
        }
        let done = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: done)
        if close {
            let channel = context.channel
            done.futureResult.whenComplete { _ in channel.close(promise: nil) }
        }
        ServerMetrics.ocspAnswered(answer, duration: .zero)
    }
}
