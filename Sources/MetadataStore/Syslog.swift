import Foundation
import Glibc

/// Sends audit entries to a syslog collector as RFC 5424 messages over UDP (RFC 5426): facility
/// authpriv, severity notice (warning for outcomes other than "success"), MSGID the action, and the
/// entry's fields as structured data. Sending never blocks the writer: a lost datagram is lost.
public final class SyslogAuditSink: Sendable {
    private let socket: Int32
    private let address: sockaddr_in
    private let hostname: String
    private let processID: Int32

    /// Creates a sink for `host` (an IPv4 address) and `port` (514 by default).
    public init(host: String = "127.0.0.1", port: UInt16 = 514) throws {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            throw StoreError(code: .unavailable, reason: "syslog host \(host) is not an IPv4 address")
        }
        let descriptor = Glibc.socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard descriptor >= 0 else {
            throw StoreError(
                code: .unavailable,
                reason: "cannot open a UDP socket for syslog: \(String(cString: strerror(errno)))"
            )
        }
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        self.socket = descriptor
        self.address = address
        self.hostname = ProcessInfo.processInfo.hostName.isEmpty ? "-" : ProcessInfo.processInfo.hostName
        self.processID = getpid()
    }

    deinit { close(socket) }

    /// Sends each entry as one datagram.
    public func send(_ entries: [AuditEntry]) {
        for entry in entries {
            let bytes = Array(Self.message(entry, hostname: hostname, processID: processID).utf8)
            var target = address
            _ = withUnsafePointer(to: &target) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(socket, bytes, bytes.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
    }

    /// The RFC 5424 form of one entry.
    public static func message(_ entry: AuditEntry, hostname: String, processID: Int32) -> String {
        let event = entry.event
        let severity = event.outcome == "success" ? 5 : 4
        let priority = 10 * 8 + severity  // facility 10: security/authorization (authpriv)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let time = formatter.string(from: Date(timeIntervalSince1970: Double(event.time) / 1e9))
        var parameters = [
            ("seq", String(entry.sequence)), ("actor", event.actor), ("object", event.object),
            ("outcome", event.outcome),
        ]
        if let request = event.requestID { parameters.append(("requestId", request)) }
        // 32473 is the private enterprise number reserved for documentation (RFC 5612).
        let data = "[custos@32473 " + parameters.map { "\($0.0)=\"\(escape($0.1))\"" }.joined(separator: " ") + "]"
        let messageID = field(event.action, limit: 32)
        return "<\(priority)>1 \(time) \(field(hostname, limit: 255)) custos \(processID) \(messageID) \(data) "
            + "\(event.actor) \(event.action) \(event.object): \(event.outcome)"
    }

    /// PARAM-VALUE escaping (RFC 5424 section 6.3.3): backslash, quote and closing bracket.
    private static func escape(_ value: String) -> String {
        var escaped = ""
        for character in value {
            if character == "\\" || character == "\"" || character == "]" { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }

    /// Header fields are printable US-ASCII without spaces (RFC 5424 section 6), "-" when empty.
    private static func field(_ value: String, limit: Int) -> String {
        let cleaned = String(value.unicodeScalars.filter { $0.value > 32 && $0.value < 127 }.prefix(limit))
        return cleaned.isEmpty ? "-" : cleaned
    }
}
