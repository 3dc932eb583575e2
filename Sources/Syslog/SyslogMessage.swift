public import Foundation

/// One syslog message in the RFC 5424 format: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD MSG`.
/// Header fields are printable US-ASCII without spaces, cut to their limits, `-` when empty;
/// structured-data values are escaped (section 6.3.3) and names kept to what section 6.3 allows. This is
/// Custos' only syslog encoder; rsyslog's parser reads it back in `SyslogRsyslogTests`.
public struct SyslogMessage: Sendable, Equatable {
    /// Severities of section 6.2.1.
    public enum Severity: Int, Sendable, CaseIterable {
        case emergency = 0, alert, critical, error, warning, notice, informational, debug
    }

    /// Facilities of section 6.2.1 that Custos uses.
    public enum Facility: Int, Sendable, CaseIterable {
        case daemon = 3, authpriv = 10
        case local0 = 16, local1, local2, local3, local4, local5, local6, local7

        /// The facility named `name` (`daemon`, `authpriv`, `local0` … `local7`).
        public init?(name: String) {
            switch name {
            case "daemon": self = .daemon
            case "authpriv": self = .authpriv
            default:
                guard name.hasPrefix("local"), let digit = Int(name.dropFirst(5)), (0...7).contains(digit) else {
                    return nil
                }
                self.init(rawValue: 16 + digit)
            }
        }
    }

    public var facility: Facility
    public var severity: Severity
    public var time: Date
    public var hostname: String
    public var appName: String
    public var processID: String
    public var messageID: String
    /// One SD-ELEMENT: its id (`custos@32473`) and parameters, in order; none when empty.
    public var structuredData: (id: String, parameters: [(name: String, value: String)])?
    public var text: String

    public init(
        facility: Facility,
        severity: Severity,
        time: Date = Date(),
        hostname: String,
        appName: String,
        processID: String,
        messageID: String,
        structuredData: (id: String, parameters: [(name: String, value: String)])? = nil,
        text: String
    ) {
        self.facility = facility
        self.severity = severity
        self.time = time
        self.hostname = hostname
        self.appName = appName
        self.processID = processID
        self.messageID = messageID
        self.structuredData = structuredData
        self.text = text
    }

    /// 32473 is the private enterprise number reserved for documentation (RFC 5612), as SD-IDs need one.
    public static let structuredDataID = "custos@32473"

    /// The message's bytes (without any transport framing).
    public var encoded: [UInt8] {
        var line = "<\(facility.rawValue * 8 + severity.rawValue)>1 \(Self.timestamp(time)) "
        line += Self.field(hostname, limit: 255) + " " + Self.field(appName, limit: 48) + " "
        line += Self.field(processID, limit: 128) + " " + Self.field(messageID, limit: 32) + " "
        if let data = structuredData, !data.parameters.isEmpty {
            line += "[" + Self.name(data.id, limit: 32)
            for parameter in data.parameters {
                line += " " + Self.name(parameter.name, limit: 32) + "=\"" + Self.escape(parameter.value) + "\""
            }
            line += "]"
        } else {
            line += "-"
        }
        // A message is one line for collectors that split on newlines.
        let text = text.replacingOccurrences(of: "\n", with: " ").replacingOccurrences(of: "\r", with: " ")
        if !text.isEmpty { line += " " + text }
        return Array(line.utf8)
    }

    public static func == (left: SyslogMessage, right: SyslogMessage) -> Bool { left.encoded == right.encoded }

    /// RFC 3339 in UTC with microseconds (section 6.2.3 allows at most six fraction digits).
    static func timestamp(_ time: Date) -> String {
        let seconds = time.timeIntervalSince1970
        let whole = floor(seconds)
        var parts = tm()
        var value = time_t(whole)
        gmtime_r(&value, &parts)
        let micros = min(999_999, Int(((seconds - whole) * 1_000_000).rounded()))
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ",
            parts.tm_year + 1900,
            parts.tm_mon + 1,
            parts.tm_mday,
            parts.tm_hour,
            parts.tm_min,
            parts.tm_sec,
            micros
        )
    }

    /// Header fields are printable US-ASCII without spaces (section 6), `-` when empty.
    static func field(_ value: String, limit: Int) -> String {
        let cleaned = String(
            String.UnicodeScalarView(value.unicodeScalars.filter { $0.value > 32 && $0.value < 127 }.prefix(limit))
        )
        return cleaned.isEmpty ? "-" : cleaned
    }

    /// SD-NAME: printable US-ASCII except `=`, space, `]` and `"` (section 6.3.2).
    static func name(_ value: String, limit: Int) -> String {
        let cleaned = String(
            String.UnicodeScalarView(
                value.unicodeScalars.filter { $0.value > 32 && $0.value < 127 && !"=]\"".unicodeScalars.contains($0) }
                    .prefix(limit)
            )
        )
        return cleaned.isEmpty ? "_" : cleaned
    }

    /// PARAM-VALUE escaping (section 6.3.3): backslash, quote and closing bracket.
    static func escape(_ value: String) -> String {
        var escaped = ""
        for character in value {
            if character == "\\" || character == "\"" || character == "]" { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }
}
