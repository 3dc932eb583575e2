import ACME
import Crypto
import NIOCore
import NIOPosix
import NIOSSL
import NIOTLS
import SwiftASN1
import X509

/// tls-alpn-01 (RFC 8737): a TLS handshake offering only the `acme-tls/1` protocol, with the
/// identifier as SNI (RFC 8738 section 6: its reverse name for an address), must negotiate that
/// protocol and present a certificate whose only SAN is the identifier and which carries the critical
/// acmeIdentifier extension holding SHA-256 of the key authorization.
struct TLSALPN01Check: Sendable {
    let resolver: DNSResolver
    let settings: ValidationSettings
    static let protocolName = "acme-tls/1"
    /// id-pe-acmeIdentifier (RFC 8737 section 6.1).
    static let acmeIdentifier: ASN1ObjectIdentifier = [1, 3, 6, 1, 5, 5, 7, 1, 31]

    struct Handshake: Sendable {
        var negotiated: String?
        var certificate: [UInt8]?
    }

    func check(_ identifier: ACMEIdentifier, keyAuthorization: String) async throws(ACMEProblem) {
        guard !identifier.isWildcard else { throw ACMEProblem(.malformed, "tls-alpn-01 cannot prove a wildcard") }
        let addresses = try await resolver.addresses(of: identifier, port: settings.tlsALPN01Port)
        let serverName = identifier.kind == .ip ? identifier.reverseName : identifier.value
        var failure = ACMEProblem(.connection, "no address to connect to")
        var handshake: Handshake?
        for address in addresses {
            do {
                do {
                    handshake = try await self.handshake(address, serverName: serverName, rsaKeyTransport: false)
                } catch  where "\(error)".contains("KEY_USAGE_BIT_INCORRECT") {
                    // A certificate whose key usage is keyEncipherment alone (lego's) cannot sign a
                    // handshake; it can only take part in TLS 1.2 with RSA key transport.
                    handshake = try await self.handshake(address, serverName: serverName, rsaKeyTransport: true)
                }
                break
            } catch let problem as ACMEProblem {
                failure = problem
            } catch {
                failure = ACMEProblem(.tls, "the TLS handshake with \(address) failed: \(error)")
            }
        }
        guard let handshake else { throw failure }
        guard handshake.negotiated == Self.protocolName else {
            throw ACMEProblem(.tls, "the server did not negotiate \(Self.protocolName)")
        }
        guard let der = handshake.certificate, let certificate = try? Certificate(derEncoded: der) else {
            throw ACMEProblem(.tls, "the server presented no certificate that parses")
        }
        try Self.checkCertificate(certificate, identifier: identifier, keyAuthorization: keyAuthorization)
    }

    static func checkCertificate(_ certificate: Certificate, identifier: ACMEIdentifier, keyAuthorization: String)
        throws(ACMEProblem)
    {
        let names = (try? certificate.extensions.subjectAlternativeNames).flatMap { $0 }.map(Array.init) ?? []
        let matches: Bool
        switch (names.first, identifier.kind) {
        case (.dnsName(let name), .dns): matches = name.lowercased() == identifier.value
        case (.ipAddress(let bytes), .ip): matches = Array(bytes.bytes) == identifier.addressBytes
        default: matches = false
        }
        guard names.count == 1, matches else {
            throw ACMEProblem(
                .unauthorized,
                "the certificate's subject alternative names are not exactly \(identifier.value)"
            )
        }
        guard let field = certificate.extensions.first(where: { $0.oid == acmeIdentifier }) else {
            throw ACMEProblem(.unauthorized, "the certificate has no acmeIdentifier extension")
        }
        guard field.critical else { throw ACMEProblem(.unauthorized, "the acmeIdentifier extension is not critical") }
        let digest = Array(SHA256.hash(data: Array(keyAuthorization.utf8)))
        guard let value = try? ASN1OctetString(derEncoded: field.value), Array(value.bytes) == digest else {
            throw ACMEProblem(
                .unauthorized,
                "the acmeIdentifier extension does not hold the key authorization's digest"
            )
        }
    }

    private func handshake(_ address: SocketAddress, serverName: String?, rsaKeyTransport: Bool) async throws
        -> Handshake
    {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .none
        configuration.applicationProtocols = [Self.protocolName]
        configuration.minimumTLSVersion = .tlsv12
        if rsaKeyTransport {
            configuration.maximumTLSVersion = .tlsv12
            configuration.cipherSuiteValues = [.TLS_RSA_WITH_AES_128_GCM_SHA256, .TLS_RSA_WITH_AES_256_GCM_SHA384]
        }
        let context = try NIOSSLContext(configuration: configuration)
        let timeout = settings.attemptTimeout.nanoseconds
        let group = MultiThreadedEventLoopGroup.singleton
        let promise = group.next().makePromise(of: Handshake.self)
        let channel: any Channel
        do {
            channel = try await ClientBootstrap(group: group)
                .connectTimeout(.nanoseconds(timeout))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(
                            try NIOSSLClientHandler(context: context, serverHostname: serverName)
                        )
                        try channel.pipeline.syncOperations.addHandler(HandshakeObserver(promise: promise))
                    }
                }
                .connect(to: address).get()
        } catch {
            promise.fail(error)
            throw ACMEProblem(.connection, "cannot connect to \(address): \(error)")
        }
        channel.eventLoop.scheduleTask(in: .nanoseconds(timeout)) { channel.close(promise: nil) }
        defer { channel.close(promise: nil) }
        return try await promise.futureResult.get()
    }
}

/// Completes a promise with what the TLS handshake negotiated, or fails it when the connection ends first.
private final class HandshakeObserver: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let promise: EventLoopPromise<TLSALPN01Check.Handshake>

    init(promise: EventLoopPromise<TLSALPN01Check.Handshake>) { self.promise = promise }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted(let negotiated) = event {
            let handler = try? context.pipeline.syncOperations.handler(type: NIOSSLClientHandler.self)
            let certificate = try? handler?.peerCertificate?.toDERBytes()
            promise.succeed(.init(negotiated: negotiated, certificate: certificate))
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(ChannelError.eof)
        context.fireChannelInactive()
    }
}
