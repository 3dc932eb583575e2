/// Where syslog messages go: `udp://host:port` (RFC 5426, one message per datagram, default port 514),
/// `tcp://host:port` (RFC 6587 octet counting, default 601) or `tls://host:port` (RFC 5425, octet
/// counting over TLS, default 6514).
public struct SyslogDestination: Sendable, Equatable, CustomStringConvertible {
    public enum Transport: String, Sendable {
        case udp, tcp, tls
    }

    public var transport: Transport
    public var host: String
    public var port: Int

    public init(transport: Transport, host: String, port: Int) {
        self.transport = transport
        self.host = host
        self.port = port
    }

    /// Parses `udp://host[:port]`, `tcp://…` or `tls://…`; nil with anything else.
    public init?(url: String) {
        guard let range = url.range(of: "://"), let transport = Transport(rawValue: String(url[..<range.lowerBound]))
        else { return nil }
        var rest = Substring(url[range.upperBound...])
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        var host = rest
        var port: Int
        switch transport {
        case .udp: port = 514
        case .tcp: port = 601
        case .tls: port = 6514
        }
        if rest.hasPrefix("[") {
            // [IPv6]:port
            guard let close = rest.firstIndex(of: "]") else { return nil }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":"), let number = Int(after.dropFirst()) else { return nil }
                port = number
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            guard let number = Int(rest[rest.index(after: colon)...]) else { return nil }
            port = number
        }
        guard !host.isEmpty, !host.contains("/"), (1...65535).contains(port) else { return nil }
        self.init(transport: transport, host: String(host), port: port)
    }

    public var description: String {
        "\(transport.rawValue)://\(host.contains(":") ? "[\(host)]" : host):\(port)"
    }

    /// The bytes on the wire for one message: the message itself in a datagram, `LENGTH SP MESSAGE` on
    /// a stream (RFC 6587 section 3.4.1; RFC 5425 section 4.3).
    public func framed(_ message: [UInt8]) -> [UInt8] {
        transport == .udp ? message : Array("\(message.count) ".utf8) + message
    }
}
