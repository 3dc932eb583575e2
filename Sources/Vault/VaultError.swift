import HSM
import MetadataStore
import PKCS11

/// Why a vault operation failed. `code` is stable (the API's error code); `message` names the problem
/// and never contains a secret.
public struct VaultError: Error, Sendable, CustomStringConvertible {
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// A name, path, value or version is malformed or out of range.
        public static let invalidInput = Code(rawValue: "invalid_input")
        /// No namespace has that name.
        public static let unknownNamespace = Code(rawValue: "unknown_namespace")
        /// A namespace with that name exists already.
        public static let namespaceExists = Code(rawValue: "namespace_exists")
        /// No secret (or no such version of it) at that path.
        public static let unknownSecret = Code(rawValue: "unknown_secret")
        /// No key of that name in the namespace.
        public static let unknownKey = Code(rawValue: "unknown_key")
        /// A key of that name exists already.
        public static let keyExists = Code(rawValue: "key_exists")
        /// The namespace's policy forbids it (plaintext import or export).
        public static let forbiddenByPolicy = Code(rawValue: "forbidden_by_policy")
        /// A KEK rotation is running, or finished while this write was under way: try again.
        public static let rotationInProgress = Code(rawValue: "rotation_in_progress")
        /// Other writers kept taking the secret's next version: try again.
        public static let writeConflict = Code(rawValue: "write_conflict")
        /// The secret is archived: restore it first.
        public static let archived = Code(rawValue: "archived")
        /// The value is larger than the namespace allows.
        public static let tooLarge = Code(rawValue: "too_large")
        /// A stored ciphertext, IV, tag or its binding to path and version does not verify.
        public static let integrityError = Code(rawValue: "integrity_error")
        /// Not built yet.
        public static let notImplemented = Code(rawValue: "not_implemented")
        /// The HSM did not answer in time or is being recovered.
        public static let hsmUnavailable = Code(rawValue: "hsm_unavailable")
        /// The HSM or the store failed.
        public static let internalError = Code(rawValue: "internal_error")
        /// The metadata store cannot answer now (its database is away); try again.
        public static let storeUnavailable = Code(rawValue: "store_unavailable")
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }

    static func from(_ error: any Error) -> VaultError {
        switch error {
        case let error as VaultError: return error
        case let error as StoreError where error.isUnavailable:
            return VaultError(.storeUnavailable, "the store is unavailable: \(error.reason)")
        case let error as StoreError: return VaultError(.internalError, "the store failed: \(error)")
        case let error as HSMError where error.code == .poolTimeout || error.code == .poolShutDown:
            return VaultError(.hsmUnavailable, "the HSM is busy or unavailable: \(error)")
        default: return VaultError(.internalError, "the HSM failed: \(error)")
        }
    }
}
