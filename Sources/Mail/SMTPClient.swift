import Foundation
public import NIOCore
public import NIOPosix
public import NIOSSL

/// How an SMTP connection is protected.
public enum SMTPSecurity: String, Sendable, CaseIterable {
    /// TLS from the first byte (port 465, RFC 8314).
    case tls
    /// Plain TCP upgraded by STARTTLS before anything else is sent (port 587, RFC 3207); a relay that
    /// does not offer STARTTLS is refused.
    case starttls
    /// No TLS (a relay on the same host); credentials are never sent this way.
    case none
}

/// SASL mechanisms the client speaks (RFC 4954, 4616).
public enum SMTPAuthMechanism: String, Sendable, CaseIterable {
    case plain = "PLAIN"
    case login = "LOGIN"
}

/// A relay and how to reach it.
public struct SMTPRelay: Sendable {
    public var host: String
    public var port: Int
    public var security: SMTPSecurity
    /// Trust roots for the relay's certificate (the system's when empty).
    public var trustRoots: [NIOSSLCertificate]
    /// What the client calls itself in EHLO.
    public var clientName: String
    /// For the whole conversation, connection included.
    public var timeout: Duration

    public init(
        host: String,
        port: Int,
        security: SMTPSecurity,
        trustRoots: [NIOSSLCertificate] = [],
        clientName: String = "custos.localdomain",
        timeout: Duration = .seconds(30)
    ) {
        self.host = host
        self.port = port
        self.security = security
        self.trustRoots = trustRoots
        self.clientName = clientName
        self.timeout = timeout
    }
}

/// A user name and password for AUTH; the password is wiped by the caller after `send`.
public struct SMTPCredentials: Sendable {
    public var username: String
    public var password: [UInt8]
    /// Nil: PLAIN when the relay offers it, else LOGIN.
    public var mechanism: SMTPAuthMechanism?

    public init(username: String, password: [UInt8], mechanism: SMTPAuthMechanism? = nil) {
        self.username = username
        self.password = password
        self.mechanism = mechanism
    }
}

/// Why a mail was not accepted: the step, and the relay's reply when it gave one.
public struct SMTPError: Error, CustomStringConvertible, Sendable {
    public var step: String
    public var reply: SMTPReply?
    public var reason: String
    /// Whether trying again later can help (4xx replies, connection failures), as opposed to a relay
    /// that refuses for good (5xx).
    public var isTransient: Bool { reply.map { $0.code < 500 } ?? true }

    public init(step: String, reply: SMTPReply? = nil, reason: String) {
        self.step = step
        self.reply = reply
        self.reason = reason
    }

    public var description: String {
        if let reply { return "\(step): the relay answered \(reply.code) \(reply.lines.joined(separator: " / "))" }
        return "\(step): \(reason)"
    }
}

/// Sends mail through one relay, one message per connection (notifications are few; a fresh
/// connection needs no care for a relay's idle timeout).
public struct SMTPClient: Sendable {
    public let relay: SMTPRelay
    private let group: any EventLoopGroup

    public init(relay: SMTPRelay, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.relay = relay
        self.group = group
    }

    /// Delivers `message` to its `to` addresses from its `from` address.
    public func send(_ message: MailMessage, credentials: SMTPCredentials? = nil) async throws(SMTPError) {
        if credentials != nil && relay.security == .none {
            throw SMTPError(step: "AUTH", reason: "credentials are sent over TLS only (security tls or starttls)")
        }
        let connection: SMTPConnection
        do {
            connection = try await SMTPConnection.open(relay, group: group)
        } catch let error as SMTPError {
            throw error
        } catch {
            throw SMTPError(step: "connect", reason: "\(relay.host):\(relay.port): \(error)")
        }
        do {
            try await converse(connection, message, credentials)
            await connection.close()
        } catch {
            await connection.close()
            throw error
        }
    }

    private func converse(_ connection: SMTPConnection, _ message: MailMessage, _ credentials: SMTPCredentials?)
        async throws(SMTPError)
    {
        try await connection.expect("greeting", nil, 220)
        var capabilities = try await connection.expect("EHLO", "EHLO \(relay.clientName)", 250).lines
        if relay.security == .starttls {
            guard capabilities.contains(where: { $0.uppercased() == "STARTTLS" }) else {
                throw SMTPError(step: "STARTTLS", reason: "the relay does not offer STARTTLS")
            }
            try await connection.expect("STARTTLS", "STARTTLS", 220)
            try await connection.startTLS()
            capabilities = try await connection.expect("EHLO", "EHLO \(relay.clientName)", 250).lines
        }
        if let credentials { try await authenticate(connection, credentials, capabilities) }
        try await connection.expect("MAIL FROM", "MAIL FROM:<\(message.from)>", 250)
        for recipient in message.to {
            try await connection.expect("RCPT TO", "RCPT TO:<\(recipient)>", 250, 251)
        }
        try await connection.expect("DATA", "DATA", 354)
        try await connection.expect("end of data", Self.dotStuffed(message.rendered()), 250)
        _ = try? await connection.expect("QUIT", "QUIT", 221)
    }

    private func authenticate(
        _ connection: SMTPConnection,
        _ credentials: SMTPCredentials,
        _ capabilities: [String]
    ) async throws(SMTPError) {
        let offered = Set(
            capabilities.filter { $0.uppercased().hasPrefix("AUTH ") }
                .flatMap { $0.uppercased().split(separator: " ").dropFirst().map(String.init) }
        )
        let mechanism =
            credentials.mechanism ?? (offered.contains("PLAIN") ? .plain : offered.contains("LOGIN") ? .login : nil)
        guard let mechanism, offered.contains(mechanism.rawValue) else {
            throw SMTPError(
                step: "AUTH",
                reason: "the relay offers \(offered.isEmpty ? "no AUTH" : offered.sorted().joined(separator: ", "))"
                    + ", not \(credentials.mechanism?.rawValue ?? "PLAIN or LOGIN")"
            )
        }
        switch mechanism {
        case .plain:
            var token = [UInt8(0)] + Array(credentials.username.utf8) + [0] + credentials.password
            defer { token.withUnsafeMutableBytes { _ = $0.initializeMemory(as: UInt8.self, repeating: 0) } }
            try await connection.expect("AUTH PLAIN", "AUTH PLAIN " + Data(token).base64EncodedString(), 235)
        case .login:
            try await connection.expect("AUTH LOGIN", "AUTH LOGIN", 334)
            try await connection.expect("AUTH LOGIN user", Data(credentials.username.utf8).base64EncodedString(), 334)
            try await connection.expect("AUTH LOGIN password", Data(credentials.password).base64EncodedString(), 235)
        }
    }

    /// DATA's payload: a "." that begins a line doubled (RFC 5321 §4.5.2), ended by CRLF "." (the
    /// message already ends with CRLF).
    static func dotStuffed(_ rendered: [UInt8]) -> String {
        var text = String(decoding: rendered, as: UTF8.self)
        if text.hasPrefix(".") { text = "." + text }
        text = text.replacingOccurrences(of: "\r\n.", with: "\r\n..")
        return text + "."
    }
}
