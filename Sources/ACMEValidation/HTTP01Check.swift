import ACME
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// http-01 (RFC 8555 section 8.3): `GET http://<identifier>/.well-known/acme-challenge/<token>` must
/// answer 200 with the key authorization (white space around it ignored). Redirects to http or https
/// URLs are followed up to a limit; certificates of https redirects are not checked (the section
/// allows it, since the key authorization is what proves control).
struct HTTP01Check: Sendable {
    let resolver: DNSResolver
    let settings: ValidationSettings
    static let maxBodyBytes = 8 * 1024

    func check(_ identifier: ACMEIdentifier, token: String, keyAuthorization: String) async throws(ACMEProblem) {
        let host = identifier.kind == .ip && identifier.value.contains(":") ? "[\(identifier.value)]" : identifier.value
        var url = "http://\(host)/.well-known/acme-challenge/\(token)"
        for _ in 0...settings.maxRedirects {
            guard let target = URLComponents(string: url), let scheme = target.scheme?.lowercased(),
                scheme == "http" || scheme == "https", var hostName = target.host, !hostName.isEmpty
            else { throw ACMEProblem(.connection, "the redirect to \"\(url.prefix(200))\" is not an http(s) URL") }
            if hostName.hasPrefix("[") { hostName = String(hostName.dropFirst().dropLast()) }
            let port = try self.port(of: target, scheme: scheme)
            let path =
                (target.percentEncodedPath.isEmpty ? "/" : target.percentEncodedPath)
                + (target.percentEncodedQuery.map { "?" + $0 } ?? "")
            let addresses = try await resolver.addresses(ofHost: hostName, port: port)
            let answer = try await fetch(
                addresses: addresses,
                hostHeader: target.port.map { "\(bracketed(hostName)):\($0)" } ?? bracketed(hostName),
                serverName: scheme == "https" && ACMEIdentifier.addressBytes(hostName) == nil ? hostName : nil,
                tls: scheme == "https",
                path: path
            )
            switch answer.status {
            case 200:
                let text = String(decoding: answer.body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                guard text == keyAuthorization else {
                    throw ACMEProblem(
                        .incorrectResponse,
                        "\(url.prefix(200)) answered \"\(text.prefix(100))\", not the key authorization"
                    )
                }
                return
            case 301, 302, 303, 307, 308:
                guard let location = answer.location, let next = URL(string: location, relativeTo: URL(string: url))
                else { throw ACMEProblem(.connection, "\(url.prefix(200)) redirected without a Location") }
                url = next.absoluteString
            default:
                throw ACMEProblem(.unauthorized, "\(url.prefix(200)) answered HTTP \(answer.status)")
            }
        }
        throw ACMEProblem(.connection, "more than \(settings.maxRedirects) redirects")
    }

    private func bracketed(_ name: String) -> String { name.contains(":") ? "[\(name)]" : name }

    /// Port 80 or 443 (here: the configured ports), as the section requires of redirects.
    private func port(of url: URLComponents, scheme: String) throws(ACMEProblem) -> Int {
        let defaultPort = scheme == "http" ? settings.http01Port : 443
        guard let port = url.port else { return defaultPort }
        guard [80, 443, settings.http01Port, settings.tlsALPN01Port].contains(port) else {
            throw ACMEProblem(.connection, "redirects go to ports 80 and 443 only, not \(port)")
        }
        return port
    }

    struct Answer: Sendable {
        var status: Int
        var location: String?
        var body: [UInt8]
    }

    /// One GET to the first address that accepts a connection.
    private func fetch(addresses: [SocketAddress], hostHeader: String, serverName: String?, tls: Bool, path: String)
        async throws(ACMEProblem) -> Answer
    {
        var failure = ACMEProblem(.connection, "no address to connect to")
        for address in addresses {
            do {
                return try await fetch(
                    address: address,
                    hostHeader: hostHeader,
                    serverName: serverName,
                    tls: tls,
                    path: path
                )
            } catch let problem as ACMEProblem {
                failure = problem
                if problem.kind != .connection { throw problem }
            } catch {
                failure = ACMEProblem(tls ? .tls : .connection, "\(address): \(error)")
            }
        }
        throw failure
    }

    private func fetch(address: SocketAddress, hostHeader: String, serverName: String?, tls: Bool, path: String)
        async throws -> Answer
    {
        let timeout = settings.attemptTimeout.nanoseconds
        let sslContext: NIOSSLContext? =
            if tls {
                try {
                    var configuration = TLSConfiguration.makeClientConfiguration()
                    configuration.certificateVerification = .none
                    return try NIOSSLContext(configuration: configuration)
                }()
            } else { nil }
        let channel: NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(.nanoseconds(timeout))
                .connect(to: address) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let sslContext {
                            try channel.pipeline.syncOperations.addHandler(
                                try NIOSSLClientHandler(context: sslContext, serverHostname: serverName)
                            )
                        }
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
                            wrappingChannelSynchronously: channel
                        )
                    }
                }
        } catch {
            throw ACMEProblem(.connection, "cannot connect to \(address): \(error)")
        }
        let raw = channel.channel
        raw.eventLoop.scheduleTask(in: .nanoseconds(timeout)) { raw.close(promise: nil) }
        return try await channel.executeThenClose { inbound, outbound in
            var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path)
            head.headers.add(name: "Host", value: hostHeader)
            head.headers.add(name: "User-Agent", value: "Custos ACME validator")
            head.headers.add(name: "Accept", value: "*/*")
            head.headers.add(name: "Connection", value: "close")
            try await outbound.write(.head(head))
            try await outbound.write(.end(nil))
            var answer = Answer(status: 0, body: [])
            for try await part in inbound {
                switch part {
                case .head(let response):
                    answer.status = Int(response.status.code)
                    answer.location = response.headers.first(name: "Location")
                case .body(let buffer):
                    answer.body += Array(buffer: buffer)
                    guard answer.body.count <= Self.maxBodyBytes else {
                        throw ACMEProblem(.unauthorized, "the answer is longer than \(Self.maxBodyBytes) bytes")
                    }
                case .end:
                    return answer
                }
            }
            throw ACMEProblem(.connection, "\(address) closed the connection before answering within the time allowed")
        }
    }
}
