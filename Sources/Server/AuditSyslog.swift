import Foundation
public import MetadataStore
public import Syslog

/// Audit entries as syslog messages: facility authpriv, severity notice (warning for outcomes other
/// than success), MSGID the action, the entry's fields as structured data. Sent once their write
/// commits (the store's audit sink), so a rolled-back change is never reported.
public enum AuditSyslog {
    public static func message(_ entry: AuditEntry, hostname: String, processID: String) -> SyslogMessage {
        let event = entry.event
        var parameters = [
            (name: "seq", value: String(entry.sequence)), (name: "actor", value: event.actor),
            (name: "object", value: event.object), (name: "outcome", value: event.outcome),
        ]
        if let request = event.requestID { parameters.append((name: "requestId", value: request)) }
        return SyslogMessage(
            facility: .authpriv,
            severity: event.outcome == "success" || event.outcome.hasPrefix("success:") ? .notice : .warning,
            time: Date(timeIntervalSince1970: Double(event.time) / 1e9),
            hostname: hostname,
            appName: "custos",
            processID: processID,
            messageID: event.action,
            structuredData: (SyslogMessage.structuredDataID, parameters),
            text: "\(event.actor) \(event.action) \(event.object): \(event.outcome)"
        )
    }

    /// A store audit sink that sends each committed entry through `sender`.
    public static func sink(_ sender: SyslogSender) -> @Sendable ([AuditEntry]) -> Void {
        let hostname = ProcessInfo.processInfo.hostName
        let processID = String(ProcessInfo.processInfo.processIdentifier)
        return { entries in
            for entry in entries { sender.send(message(entry, hostname: hostname, processID: processID).encoded) }
        }
    }
}
