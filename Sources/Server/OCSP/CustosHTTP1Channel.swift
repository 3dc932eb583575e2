import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// Hummingbird's HTTP/1.1 child channel with `OCSPFastPath` right behind NIO's HTTP/1 decoder, ahead of
/// the conversion to HTTPTypes: Hummingbird's own channel only takes extra handlers after that
/// conversion, which cost a pre-signed OCSP answer about a sixth of its CPU (request head in, response
/// head out). The pipeline is otherwise Hummingbird's (`HTTP1Channel.setup`): no pipelining assistance,
/// its decoder limits, the connection-state handler for graceful close; `ConnectionGuard` (and its
/// byte watcher in front of the decoder) adds the timeouts, connection limits and JSON errors for
/// requests the decoder cannot read.
struct CustosHTTP1Channel: HTTPChannelHandler {
    typealias Value = NIOAsyncChannel<HTTPRequestPart, HTTPResponsePart>

    let responder: HTTPChannelHandler.Responder
    /// Shared by the connections of one server.
    let ocspAnswers: PresignedAnswerCache
    let limits: ConnectionLimits
    /// Shared by the connections of one server.
    let counter: ConnectionCounter

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try Self.addGuardedCodec(to: channel.pipeline.syncOperations, limits: limits, counter: counter)
            try channel.pipeline.syncOperations.addHandler(OCSPFastPath(answers: ocspAnswers))
            try channel.pipeline.syncOperations.addHandler(HTTP1ToHTTPServerCodec(secure: false))
            try channel.pipeline.syncOperations.addHandler(HTTPConnectionStateHandler(idleTimeout: nil, logger: logger))
            return try NIOAsyncChannel(
                wrappingChannelSynchronously: channel,
                configuration: .init(isOutboundHalfClosureEnabled: true)
            )
        }
    }

    /// NIO's HTTP/1 codec with the server's limits, the connection guard behind the decoder and its
    /// byte watcher in front of it: the head of every connection's pipeline (and of the HTTP fuzz target).
    static func addGuardedCodec(
        to pipeline: ChannelPipeline.SynchronousOperations,
        limits: ConnectionLimits,
        counter: ConnectionCounter
    ) throws {
        var decoderLimits = NIOHTTPDecoderLimitConfiguration()
        decoderLimits.maxHeaderFieldCount = 1000
        try pipeline.configureHTTPServerPipeline(
            withPipeliningAssistance: false,
            withErrorHandling: false,
            withOutboundHeaderValidation: false,
            withEncoderConfiguration: .init(),
            withDecoderLimitConfiguration: decoderLimits
        )
        let guardHandler = ConnectionGuard(limits: limits, counter: counter)
        try pipeline.addHandler(HeadBytesWatcher(guardHandler), position: .first)
        try pipeline.addHandler(guardHandler)
    }

    func handle(value: Value, logger: Logger) async {
        await handleHTTP(asyncChannel: value, logger: logger)
    }
}
