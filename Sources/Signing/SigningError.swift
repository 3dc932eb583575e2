import HSM
import MetadataStore
import PKCS11

/// Why a signing-service operation failed. `code` is stable (it becomes the API's error code);
/// `message` is for people and never contains key material or PINs.
public struct SigningError: Error, Sendable, CustomStringConvertible {
    /// A stable, documented error code.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// A request field is missing, malformed or out of range.
        public static let invalidInput = Code(rawValue: "invalid_input")
        /// A digest's length does not match its hash algorithm.
        public static let invalidDigest = Code(rawValue: "invalid_digest")
        /// No key has that name.
        public static let unknownKey = Code(rawValue: "unknown_key")
        /// A key with that name exists already.
        public static let keyExists = Code(rawValue: "key_exists")
        /// The key is disabled or retired.
        public static let keyDisabled = Code(rawValue: "key_disabled")
        /// Key algorithm not supported.
        public static let unknownAlgorithm = Code(rawValue: "unknown_algorithm")
        /// The scheme, hash or format does not fit the key.
        public static let unsupportedScheme = Code(rawValue: "unsupported_scheme")
        /// The key has no (suitable) certificate.
        public static let noCertificate = Code(rawValue: "no_certificate")
        /// An uploaded certificate is malformed or does not belong to the key.
        public static let invalidCertificate = Code(rawValue: "invalid_certificate")
        /// Too much work is queued; try again later.
        public static let overloaded = Code(rawValue: "overloaded")
        /// The HSM did not answer in time or is being recovered.
        public static let hsmUnavailable = Code(rawValue: "hsm_unavailable")
        /// The metadata store cannot answer now (its database is away); try again.
        public static let storeUnavailable = Code(rawValue: "store_unavailable")
        /// The HSM refused the operation.
        public static let hsmError = Code(rawValue: "hsm_error")
        /// A timestamp was required and no TSA answered.
        public static let timestampUnavailable = Code(rawValue: "timestamp_unavailable")
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }

    /// Maps errors from the layers below to what an API caller can act on.
    public static func from(_ error: any Error) -> SigningError {
        switch error {
        case let error as SigningError:
            return error
        case let error as StoreError where error.isUnavailable:
            return SigningError(.storeUnavailable, "the store is unavailable: \(error.reason)")
        case let error as HSMError where error.code == .poolTimeout || error.code == .poolShutDown:
            return SigningError(.hsmUnavailable, error.reason)
        case let error as HSMError where error.code == .keyNotFound:
            return SigningError(.hsmError, "the key is missing from the token: \(error.reason)")
        case let error as HSMError:
            return SigningError(.hsmError, error.description)
        case let error as PKCS11Error where error.code == .invalidArgument:
            return SigningError(.invalidInput, error.reason)
        case let error as PKCS11Error:
            if let returnValue = error.returnValue,
                returnValue.invalidatesSession || returnValue.requiresReinitialization
            {
                return SigningError(.hsmUnavailable, error.description)
            }
            return SigningError(.hsmError, error.description)
        default:
            return SigningError(.hsmError, String(describing: error))
        }
    }
}
