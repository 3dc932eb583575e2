import Foundation
public import Logging

/// A swift-log handler that sends each log event at or above its level to a `SyslogSender` as an RFC
/// 5424 message: the severity from the level, MSGID the logger's label, the metadata as structured
/// data, the message as MSG. It never waits for the network (the sender queues).
public struct SyslogLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let label: String
    private let sender: SyslogSender
    private let facility: SyslogMessage.Facility
    private let appName: String
    private static let hostname = ProcessInfo.processInfo.hostName
    private static let processID = String(ProcessInfo.processInfo.processIdentifier)

    public init(
        label: String,
        sender: SyslogSender,
        level: Logger.Level = .info,
        facility: SyslogMessage.Facility = .daemon,
        appName: String = "custos"
    ) {
        self.label = label
        self.sender = sender
        self.logLevel = level
        self.facility = facility
        self.appName = appName
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        let parameters = merged.sorted { $0.key < $1.key }.map { (name: $0.key, value: Self.plain($0.value)) }
        let message = SyslogMessage(
            facility: facility,
            severity: Self.severity(event.level),
            hostname: Self.hostname,
            appName: appName,
            processID: Self.processID,
            messageID: label,
            structuredData: (SyslogMessage.structuredDataID, parameters),
            text: "\(event.message)"
        )
        sender.send(message.encoded)
    }

    /// swift-log's levels as syslog severities (trace and debug are both debug).
    public static func severity(_ level: Logger.Level) -> SyslogMessage.Severity {
        switch level {
        case .trace, .debug: .debug
        case .info: .informational
        case .notice: .notice
        case .warning: .warning
        case .error: .error
        case .critical: .critical
        }
    }

    private static func plain(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let text): text
        case .stringConvertible(let value): value.description
        case .array(let values): "[" + values.map(plain).joined(separator: ", ") + "]"
        case .dictionary(let values):
            "{" + values.sorted { $0.key < $1.key }.map { "\($0.key): \(plain($0.value))" }.joined(separator: ", ")
                + "}"
        }
    }
}
