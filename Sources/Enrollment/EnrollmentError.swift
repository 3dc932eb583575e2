import CA
import MetadataStore

/// Why an enrollment or a profile change was refused. `code` is stable (the API's error code); each
/// protocol maps it to its own answer (EST: an HTTP status with a text body; SCEP: a failInfo).
public struct EnrollmentError: Error, Sendable, CustomStringConvertible {
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// A field is missing, malformed or out of range.
        public static let invalidInput = Code(rawValue: "invalid_input")
        /// No enrollment profile has that name, or it does not offer the protocol.
        public static let unknownProfile = Code(rawValue: "unknown_profile")
        /// A profile with that name exists already.
        public static let profileExists = Code(rawValue: "profile_exists")
        /// The client presented no credential the profile accepts.
        public static let unauthenticated = Code(rawValue: "unauthenticated")
        /// The client is known but may not do this (a certificate outside the renewal window, a
        /// one-time password used already, a certificate that is not the one being renewed).
        public static let forbidden = Code(rawValue: "forbidden")
        /// The PKCS#10 request cannot be read or its signature does not verify.
        public static let invalidCSR = Code(rawValue: "invalid_csr")
        /// The request breaks the CA's policy or the profile's rules (the message names the rule).
        public static let policyViolation = Code(rawValue: "policy_violation")
        /// An officer rejected the request.
        public static let rejected = Code(rawValue: "rejected")
        /// No enrollment request or secret has that id.
        public static let unknownRequest = Code(rawValue: "unknown_request")
        /// The request is decided already.
        public static let alreadyDecided = Code(rawValue: "already_decided")
        /// The operation is not built yet.
        public static let notImplemented = Code(rawValue: "not_implemented")
        /// The HSM is busy or being recovered; try again.
        public static let unavailable = Code(rawValue: "unavailable")
        /// The profile's upstream CA could not be reached or gave no usable answer; try again later.
        public static let upstreamUnavailable = Code(rawValue: "upstream_unavailable")
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

    /// Maps a CA refusal to the enrollment's terms.
    public static func from(_ error: any Error) -> EnrollmentError {
        switch error {
        case let error as EnrollmentError: return error
        case let error as CAError:
            switch error.code {
            case .invalidCSR: return EnrollmentError(.invalidCSR, error.message)
            case .policyViolation, .upstreamRefused: return EnrollmentError(.policyViolation, error.message)
            case .upstreamUnavailable: return EnrollmentError(.upstreamUnavailable, error.message)
            case .invalidInput: return EnrollmentError(.invalidInput, error.message)
            case .unknownCA, .caNotUsable: return EnrollmentError(.invalidInput, error.message)
            case .conflict: return EnrollmentError(.forbidden, error.message)
            case .hsmUnavailable: return EnrollmentError(.unavailable, error.message)
            case .storeUnavailable: return EnrollmentError(.storeUnavailable, error.message)
            default: return EnrollmentError(.internalError, error.message)
            }
        case let error as StoreError where error.isUnavailable:
            return EnrollmentError(.storeUnavailable, "the store is unavailable: \(error.reason)")
        case let error as StoreError: return EnrollmentError(.internalError, "the store failed: \(error)")
        default: return EnrollmentError.from(CAError.from(error))
        }
    }
}
