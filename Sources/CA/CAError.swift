import CustosX509
import MetadataStore
import Signing

/// Why a CA operation failed. `code` is stable (the API's error code); `message` names the problem
/// (for a policy, the rule) and never contains key material.
public struct CAError: Error, Sendable, CustomStringConvertible {
    /// A stable, documented error code.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// A request field is missing, malformed or out of range.
        public static let invalidInput = Code(rawValue: "invalid_input")
        /// The CSR cannot be parsed or its signature does not verify (no proof of possession).
        public static let invalidCSR = Code(rawValue: "invalid_csr")
        /// A certificate or CRL given to Custos cannot be parsed or does not fit.
        public static let invalidCertificate = Code(rawValue: "invalid_certificate")
        /// The request breaks an issuance-policy rule (the message names the rule).
        public static let policyViolation = Code(rawValue: "policy_violation")
        /// No CA has that id.
        public static let unknownCA = Code(rawValue: "unknown_ca")
        /// No certificate has that serial number at that CA.
        public static let unknownCertificate = Code(rawValue: "unknown_certificate")
        /// A CA with that id exists already.
        public static let caExists = Code(rawValue: "ca_exists")
        /// The CA cannot do this in its state (pending, retired, a trust anchor without a key).
        public static let caNotUsable = Code(rawValue: "ca_not_usable")
        /// The certificate is revoked already (with a reason other than certificateHold).
        public static let alreadyRevoked = Code(rawValue: "already_revoked")
        /// A condition the caller's part of an issuance checks no longer held when it was stored (a
        /// one-time password used meanwhile); nothing was stored.
        public static let conflict = Code(rawValue: "conflict")
        /// An upstream CA could not be reached in time or answered something unreadable; nothing was stored.
        public static let upstreamUnavailable = Code(rawValue: "upstream_unavailable")
        /// An upstream CA refused the request, or what it issued does not fit it; nothing was stored.
        public static let upstreamRefused = Code(rawValue: "upstream_refused")
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

    /// Maps errors from the layers below.
    public static func from(_ error: any Error) -> CAError {
        switch error {
        case let error as CAError: return error
        case let error as SigningError:
            switch error.code {
            case .hsmUnavailable, .overloaded: return CAError(.hsmUnavailable, error.message)
            case .storeUnavailable: return CAError(.storeUnavailable, error.message)
            case .keyExists: return CAError(.caExists, error.message)
            default: return CAError(.internalError, error.message)
            }
        case let error as StoreError where error.isUnavailable:
            return CAError(.storeUnavailable, "the store is unavailable: \(error.reason)")
        case let error as StoreError: return CAError(.internalError, "the store failed: \(error)")
        case let error as X509EncodingError: return CAError(.internalError, error.description)
        default: return CAError.from(SigningError.from(error))
        }
    }
}
