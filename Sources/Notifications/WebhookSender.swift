import AsyncHTTPClient
import Codecs
import Crypto
import Foundation
import NIOCore
import NIOHTTP1

/// POSTs a notification's JSON to a webhook, signed so the receiver can tell it came from Custos and is
/// fresh: `Custos-Signature: t=<unix seconds>,v1=<hex HMAC-SHA-256(secret, "<t>.<body>")>`. A receiver
/// recomputes the HMAC over the raw body and refuses timestamps older than a few minutes (replays).
struct WebhookSender: Sendable {
    /// One client for the process: redirects are not followed (a receiver that moves is configured anew),
    /// a connection must be made within 5 seconds.
    static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(5))
        )
        configuration.connectionPool.retryConnectionEstablishment = false
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    /// The signature header's value for `body` sent at `timestamp`.
    static func signature(body: [UInt8], timestamp: Int, secret: [UInt8]) -> String {
        let mac = HMAC<SHA256>.authenticationCode(
            for: Array("\(timestamp).".utf8) + body,
            using: SymmetricKey(data: secret)
        )
        return "t=\(timestamp),v1=\(Hex.encode(Array(mac)))"
    }

    /// Sends `body`; throws a `DeliveryFailure` unless the receiver answers 2xx within `timeout`.
    func send(
        _ body: [UInt8],
        id: String,
        event: String,
        to url: String,
        secret: [UInt8],
        timeout: Duration,
        now: Date = Date()
    ) async throws(DeliveryFailure) {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        let timestamp = Int(now.timeIntervalSince1970)
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "Custos-Notifications/1")
        request.headers.add(name: "Custos-Notification-Id", value: id)
        request.headers.add(name: "Custos-Event", value: event)
        request.headers.add(name: "Custos-Timestamp", value: String(timestamp))
        request.headers.add(
            name: "Custos-Signature",
            value: Self.signature(body: body, timestamp: timestamp, secret: secret)
        )
        request.body = .bytes(ByteBuffer(bytes: body))
        let response: HTTPClientResponse
        do {
            response = try await Self.client.execute(request, timeout: TimeAmount(timeout))
            // The receiver's answer is not needed; read a little so that the connection can be reused.
            _ = try? await response.body.collect(upTo: 64 * 1024)
        } catch {
            throw DeliveryFailure("the webhook did not answer: \(error)", permanent: false)
        }
        guard (200..<300).contains(Int(response.status.code)) else {
            // A receiver that refuses what it got (4xx other than 408/429) will refuse it again.
            let code = Int(response.status.code)
            let permanent = (400..<500).contains(code) && code != 408 && code != 429
            throw DeliveryFailure("the webhook answered HTTP \(code)", permanent: permanent)
        }
    }
}

/// Why a delivery attempt failed, and whether trying again can help.
struct DeliveryFailure: Error, CustomStringConvertible {
    let description: String
    let permanent: Bool

    init(_ description: String, permanent: Bool) {
        self.description = description
        self.permanent = permanent
    }
}
