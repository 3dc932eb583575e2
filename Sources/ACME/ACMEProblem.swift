import Foundation

/// An ACME problem document (RFC 8555 section 6.7, RFC 7807): a type from
/// `urn:ietf:params:acme:error:`, a detail for people, and subproblems for identifiers.
public struct ACMEProblem: Error, Sendable, CustomStringConvertible {
    /// The error types of RFC 8555 section 6.7 that Custos sends.
    public enum Kind: String, Sendable, CaseIterable {
        case accountDoesNotExist, alreadyRevoked, badCSR, badNonce, badPublicKey, badRevocationReason
        case badSignatureAlgorithm, caa, compound, connection, dns, externalAccountRequired
        case incorrectResponse, invalidContact, malformed, orderNotReady, rateLimited, rejectedIdentifier
        case serverInternal, tls, unauthorized, unsupportedContact, unsupportedIdentifier, userActionRequired

        /// The HTTP status RFC 8555 implies for it (403 for authorization failures, 404 for unknown
        /// accounts, 429 for rate limits, 500 for the server's own, 400 otherwise).
        public var status: Int {
            switch self {
            case .unauthorized, .userActionRequired, .externalAccountRequired, .rejectedIdentifier: 403
            case .accountDoesNotExist: 400
            case .rateLimited: 429
            case .serverInternal: 500
            case .orderNotReady: 403
            default: 400
            }
        }
    }

    public var kind: Kind
    public var detail: String
    /// The HTTP status: the kind's, unless the problem is about a resource that does not exist (404) or a
    /// request of the wrong method or media type (405, 415).
    public var status: Int
    /// Problems per identifier (RFC 8555 section 6.7.1): each a type, detail and the identifier.
    public var subproblems: [(kind: Kind, detail: String, identifier: (type: String, value: String))]

    public init(
        _ kind: Kind,
        _ detail: String,
        subproblems: [(kind: Kind, detail: String, identifier: (type: String, value: String))] = [],
        status: Int? = nil
    ) {
        self.kind = kind
        self.detail = detail
        self.status = status ?? kind.status
        self.subproblems = subproblems
    }

    public var type: String { "urn:ietf:params:acme:error:\(kind.rawValue)" }

    public var description: String { "\(type): \(detail)" }

    /// The `application/problem+json` body.
    public var json: [UInt8] {
        var object: [String: Any] = ["type": type, "detail": detail, "status": status]
        if !subproblems.isEmpty {
            object["subproblems"] = subproblems.map { subproblem in
                [
                    "type": "urn:ietf:params:acme:error:\(subproblem.kind.rawValue)", "detail": subproblem.detail,
                    "identifier": ["type": subproblem.identifier.type, "value": subproblem.identifier.value],
                ]
            }
        }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return Array(data)
    }
}
