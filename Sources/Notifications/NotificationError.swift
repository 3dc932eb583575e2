import CA
import MetadataStore
import Vault

/// Why a notification setting or query failed. `code` is stable (the API's error code).
public struct NotificationError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// A field is missing, malformed or out of range (the message names it).
        case invalidInput = "invalid_input"
        case unknownChannel = "unknown_channel"
        case unknownRule = "unknown_rule"
        case unknownNotification = "unknown_notification"
        case unknownAction = "unknown_action"
        /// A run matched more certificates than its action allows, or the set changed meanwhile.
        case conflict
        /// A channel still used by rules cannot be removed.
        case channelInUse = "channel_in_use"
        /// The caller's tenant does not reach it.
        case forbidden
        case storeUnavailable = "store_unavailable"
        case internalError = "internal_error"
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }

    static func from(_ error: any Error) -> NotificationError {
        switch error {
        case let error as NotificationError: return error
        case let error as StoreError where error.isUnavailable:
            return NotificationError(.storeUnavailable, "the store is unavailable: \(error.reason)")
        case let error as CAError: return NotificationError(.internalError, error.message)
        case let error as VaultError: return NotificationError(.internalError, error.message)
        default: return NotificationError(.internalError, "\(error)")
        }
    }
}
