import Foundation
public import Logging
import Synchronization

/// Logs as one JSON object per line on standard error, for log shippers:
/// `{"level":"info","logger":"custos","message":"…","metadata":{"hb.request.id":"…"},"time":"…"}`.
/// Request logs carry `hb.request.id`, the same id as the response's `X-Request-Id` and the error
/// body's `requestId`. Messages and metadata never hold PINs or key material (callers ensure it).
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let label: String

    public init(label: String, level: Logger.Level = .info) {
        self.label = label
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        var object: [String: Any] = [
            "time": Self.timestamp(),
            "level": event.level.rawValue,
            "logger": label,
            "message": "\(event.message)",
        ]
        if !merged.isEmpty { object["metadata"] = merged.mapValues(Self.plain) }
        if event.level >= .error { object["source"] = "\(event.file):\(event.line)" }
        guard var line = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
        line.append(0x0A)
        Self.output.withLock { _ in FileHandle.standardError.write(line) }
    }

    private static let output = Mutex(())

    private static func plain(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case .string(let text): text
        case .stringConvertible(let value): value.description
        case .array(let values): values.map(plain)
        case .dictionary(let values): values.mapValues(plain)
        }
    }

    private static func timestamp() -> String {
        Date().formatted(
            .iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted)
        )
    }
}
