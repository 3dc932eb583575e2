import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// The http-01 responder both ACME servers validate against: answers
/// `GET /.well-known/acme-challenge/<token>` with the key authorization the load client set for it.
final class ChallengeResponder: Sendable {
    final class Answers: Sendable {
        let table = Mutex<[String: String]>([:])
    }
    let answers = Answers()
    let port: Int
    private let channel: any Channel

    init() throws {
        let answers = self.answers
        channel = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(answers: answers))
                }
            }
            .bind(host: "127.0.0.1", port: 0).wait()
        port = channel.localAddress?.port ?? 0
    }

    func set(_ token: String, _ keyAuthorization: String) { answers.table.withLock { $0[token] = keyAuthorization } }
    func remove(_ token: String) { _ = answers.table.withLock { $0.removeValue(forKey: token) } }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let answers: Answers
        var path = ""

        init(answers: Answers) { self.answers = answers }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head): path = head.uri
            case .body: break
            case .end:
                let token = path.split(separator: "/").last.map(String.init) ?? ""
                let answer = answers.table.withLock { $0[token] }
                var head = HTTPResponseHead(version: .http1_1, status: answer == nil ? .notFound : .ok)
                let body = Array((answer ?? "").utf8)
                head.headers.add(name: "Content-Length", value: String(body.count))
                context.write(wrapOutboundOut(.head(head)), promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            }
        }
    }
}
