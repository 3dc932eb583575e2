import Foundation
import FuzzDriver
import NIOCore
import NIOEmbedded
import NIOHTTP1

@testable import Server

/// Bytes from a client, through the same pipeline head as a real connection
/// (`CustosHTTP1Channel.addGuardedCodec`): NIO's HTTP/1 decoder with the server's limits and the
/// connection guard (timeouts, caps, JSON errors for what cannot be
/// read), then a stand-in for the application that answers every whole request. Checked: everything
/// written back is HTTP responses, and once the connection is gone the guard has given back its slot.
let limits = ConnectionLimits()
let counter = ConnectionCounter(limits)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let channel = EmbeddedChannel()
    do {
        try CustosHTTP1Channel.addGuardedCodec(to: channel.pipeline.syncOperations, limits: limits, counter: counter)
        try channel.pipeline.syncOperations.addHandler(Answerer())
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.9", port: 40000)).wait()
    } catch {
        fatalError("the pipeline cannot be built: \(error)")
    }
    // In two pieces, as a network may deliver them, then the clock runs past every timeout.
    let cut = bytes.isEmpty ? 0 : Int(bytes[0]) % (bytes.count + 1)
    for piece in [bytes[..<cut], bytes[cut...]] where channel.isActive {
        _ = try? channel.writeInbound(ByteBuffer(bytes: piece))
    }
    channel.embeddedEventLoop.advanceTime(by: .seconds(120))
    var written: [UInt8] = []
    while let buffer = try? channel.readOutbound(as: ByteBuffer.self) { written += buffer.readableBytesView }
    _ = try? channel.finish()
    precondition(
        written.isEmpty || written.starts(with: Array("HTTP/1.1 ".utf8)),
        "not an HTTP response: \(String(decoding: written.prefix(80), as: UTF8.self).debugDescription)"
    )
    precondition(counter.open == 0, "the guard kept a connection slot after the connection closed")
    return 0
}

/// Answers every whole request with an empty 204, as the application would answer it.
final class Answerer: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .end = unwrapInboundIn(data) else { return }
        let head = HTTPResponseHead(version: .http1_1, status: .noContent, headers: ["Content-Length": "0"])
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }
}

exit(custos_fuzz_run(CommandLine.argc, CommandLine.unsafeArgv) { data, size in fuzz(data!, size) })
