import Foundation

/// Where a PIN comes from: a file or an environment variable, never a command-line argument
/// (arguments are visible to every user through /proc).
public enum PINSource: Sendable, Hashable, CustomStringConvertible {
    case file(String)
    case environment(String)

    /// Reads the PIN; one trailing newline is dropped.
    public func read() throws -> String {
        var value: String
        switch self {
        case .file(let path):
            guard let data = FileManager.default.contents(atPath: path) else {
                throw HSMError(code: .invalidConfiguration, reason: "cannot read PIN file \(path)")
            }
            value = String(decoding: data, as: UTF8.self)
        case .environment(let name):
            guard let text = ProcessInfo.processInfo.environment[name] else {
                throw HSMError(code: .invalidConfiguration, reason: "environment variable \(name) is not set")
            }
            value = text
        }
        if value.hasSuffix("\n") { value.removeLast() }
        if value.hasSuffix("\r") { value.removeLast() }
        guard !value.isEmpty else { throw HSMError(code: .invalidConfiguration, reason: "\(self) is empty") }
        return value
    }

    public var description: String {
        switch self {
        case .file(let path): "PIN file \(path)"
        case .environment(let name): "PIN variable \(name)"
        }
    }
}
