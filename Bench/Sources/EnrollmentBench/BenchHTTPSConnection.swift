import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// One kept-alive HTTPS connection of the ACME load client: requests one after the other, the whole
/// body of each answer collected. The server's certificate is not checked (a benchmark on loopback).
struct BenchHTTPSConnection {
    struct Answer {
        var status: Int
        var headers: HTTPHeaders
        var body: [UInt8]
    }

    let outbound: NIOAsyncChannelOutboundWriter<HTTPClientRequestPart>
    var inbound: NIOAsyncChannelInboundStream<HTTPClientResponsePart>.AsyncIterator
    let host: String

    /// Opens a connection to `host:port` and runs `body` with it; closes it after.
    static func with<T: Sendable>(
        host: String,
        port: Int,
        _ body: (inout BenchHTTPSConnection) async throws -> T
    ) async throws -> T {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .none
        let context = try NIOSSLContext(configuration: configuration)
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        try NIOSSLClientHandler(context: context, serverHostname: nil)
                    )
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
                        wrappingChannelSynchronously: channel
                    )
                }
            }
        // A connection lives for one round: one that outlives two minutes has hung and is closed.
        let raw = channel.channel
        raw.eventLoop.scheduleTask(in: .seconds(120)) { raw.close(promise: nil) }
        return try await channel.executeThenClose { inbound, outbound in
            var connection = BenchHTTPSConnection(
                outbound: outbound,
                inbound: inbound.makeAsyncIterator(),
                host: "\(host):\(port)"
            )
            return try await body(&connection)
        }
    }

    mutating func request(_ method: HTTPMethod, _ path: String, contentType: String? = nil, body: [UInt8] = [])
        async throws -> Answer
    {
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: path)
        head.headers.add(name: "Host", value: host)
        if let contentType { head.headers.add(name: "Content-Type", value: contentType) }
        head.headers.add(name: "Content-Length", value: String(body.count))
        try await outbound.write(.head(head))
        if !body.isEmpty { try await outbound.write(.body(.byteBuffer(ByteBuffer(bytes: body)))) }
        try await outbound.write(.end(nil))
        var answer = Answer(status: 0, headers: [:], body: [])
        while let part = try await inbound.next() {
            switch part {
            case .head(let response):
                answer.status = Int(response.status.code)
                answer.headers = response.headers
            case .body(let buffer): answer.body += Array(buffer: buffer)
            case .end: return answer
            }
        }
        throw BenchACMEFailure("the server closed the connection")
    }
}

struct BenchACMEFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
