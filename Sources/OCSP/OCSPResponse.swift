public import CustosX509
import SwiftASN1
import X509

/// `OCSPResponseStatus` (RFC 6960 section 4.2.1).
///
/// ```
/// OCSPResponseStatus ::= ENUMERATED {
///     successful            (0),  -- Response has valid confirmations
///     malformedRequest      (1),  -- Illegal confirmation request
///     internalError         (2),  -- Internal error in issuer
///     tryLater              (3),  -- Try again later
///                                 -- (4) is not used
///     sigRequired           (5),  -- Must sign the request
///     unauthorized          (6)   -- Request unauthorized }
/// ```
public enum OCSPResponseStatus: UInt8, Sendable, CustomStringConvertible {
    case successful = 0
    case malformedRequest = 1
    case internalError = 2
    case tryLater = 3
    case sigRequired = 5
    case unauthorized = 6

    public var description: String {
        switch self {
        case .successful: "successful"
        case .malformedRequest: "malformedRequest"
        case .internalError: "internalError"
        case .tryLater: "tryLater"
        case .sigRequired: "sigRequired"
        case .unauthorized: "unauthorized"
        }
    }

    /// `OCSPResponse ::= SEQUENCE { responseStatus OCSPResponseStatus, responseBytes [0] EXPLICIT
    /// ResponseBytes OPTIONAL }` without responseBytes: what every unsuccessful answer is.
    var unsuccessfulResponse: [UInt8] { [0x30, 0x03, 0x0A, 0x01, rawValue] }
}

/// What one certificate's status is (RFC 6960 section 4.2.1).
///
/// ```
/// CertStatus ::= CHOICE {
///     good        [0]     IMPLICIT NULL,
///     revoked     [1]     IMPLICIT RevokedInfo,
///     unknown     [2]     IMPLICIT UnknownInfo }
///
/// RevokedInfo ::= SEQUENCE {
///     revocationTime              GeneralizedTime,
///     revocationReason    [0]     EXPLICIT CRLReason OPTIONAL }
/// ```
public enum CertificateStatus: Sendable, Hashable {
    case good
    /// Seconds since 1970 and the reason (left out for `unspecified`, as in CRLs).
    case revoked(time: Int64, reason: CRLReason)
    case unknown

    func serialize(into coder: inout DER.Serializer) throws {
        switch self {
        case .good:
            coder.appendPrimitiveNode(identifier: ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific)) { _ in }
        case .unknown:
            coder.appendPrimitiveNode(identifier: ASN1Identifier(tagWithNumber: 2, tagClass: .contextSpecific)) { _ in }
        case .revoked(let time, let reason):
            try coder.appendConstructedNode(identifier: ASN1Identifier(tagWithNumber: 1, tagClass: .contextSpecific)) {
                info in
                try info.serialize(X509Time.generalizedTime(time))
                if reason != .unspecified {
                    info.appendConstructedNode(
                        identifier: ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific)
                    ) { explicit in
                        explicit.appendPrimitiveNode(identifier: .enumerated) { $0.append(reason.rawValue) }
                    }
                }
            }
        }
    }
}

/// A signed OCSP answer (RFC 6960 section 4.2.1), built with swift-asn1 (swift-certificates keeps its
/// OCSP types internal).
///
/// ```
/// BasicOCSPResponse ::= SEQUENCE {
///    tbsResponseData      ResponseData,
///    signatureAlgorithm   AlgorithmIdentifier,
///    signature            BIT STRING,
///    certs            [0] EXPLICIT SEQUENCE OF Certificate OPTIONAL }
///
/// ResponseData ::= SEQUENCE {
///    version              [0] EXPLICIT Version DEFAULT v1,
///    responderID              ResponderID,
///    producedAt               GeneralizedTime,
///    responses                SEQUENCE OF SingleResponse,
///    responseExtensions   [1] EXPLICIT Extensions OPTIONAL }
///
/// ResponderID ::= CHOICE {
///    byName   [1] Name,
///    byKey    [2] KeyHash }   -- SHA-1 hash of the responder's public key
///
/// SingleResponse ::= SEQUENCE {
///    certID                       CertID,
///    certStatus                   CertStatus,
///    thisUpdate                   GeneralizedTime,
///    nextUpdate         [0]       EXPLICIT GeneralizedTime OPTIONAL,
///    singleExtensions   [1]       EXPLICIT Extensions OPTIONAL }
/// ```
///
/// The responder is named by key (RFC 5019 section 2.2.3 asks for byKey); version v1 is the DEFAULT
/// and so not encoded.
struct BasicOCSPResponse {
    struct Single {
        var certID: [UInt8]
        var status: CertificateStatus
    }

    /// SHA-1 of the signer's subjectPublicKey BIT STRING value.
    var responderKeyHash: [UInt8]
    /// Seconds since 1970.
    var producedAt: Int64
    var thisUpdate: Int64
    var nextUpdate: Int64
    var responses: [Single]
    /// The request's nonce extension value, echoed (RFC 8954).
    var nonceExtensionValue: [UInt8]?
    /// Certificates that help verify the signature (a delegated signer's).
    var certificates: [[UInt8]] = []

    /// id-pkix-ocsp-basic.
    static let basicOID: ASN1ObjectIdentifier = [1, 3, 6, 1, 5, 5, 7, 48, 1, 1]

    func tbsBytes() throws -> [UInt8] {
        var coder = DER.Serializer()
        try coder.appendConstructedNode(identifier: .sequence) { data in
            try data.appendConstructedNode(identifier: ASN1Identifier(tagWithNumber: 2, tagClass: .contextSpecific)) {
                try $0.serialize(ASN1OctetString(contentBytes: responderKeyHash[...]))
            }
            try data.serialize(X509Time.generalizedTime(producedAt))
            try data.appendConstructedNode(identifier: .sequence) { list in
                for single in responses {
                    try list.appendConstructedNode(identifier: .sequence) { response in
                        response.serializeRawBytes(single.certID)
                        try single.status.serialize(into: &response)
                        try response.serialize(X509Time.generalizedTime(thisUpdate))
                        try response.appendConstructedNode(
                            identifier: ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific)
                        ) { try $0.serialize(X509Time.generalizedTime(nextUpdate)) }
                    }
                }
            }
            if let nonceExtensionValue {
                try data.appendConstructedNode(
                    identifier: ASN1Identifier(tagWithNumber: 1, tagClass: .contextSpecific)
                ) { explicit in
                    try explicit.appendConstructedNode(identifier: .sequence) { extensions in
                        try CRLExtension.serialize(
                            oid: OCSPRequest.nonceOID,
                            critical: false,
                            value: nonceExtensionValue,
                            into: &extensions
                        )
                    }
                }
            }
        }
        return coder.serializedBytes
    }

    /// The complete `OCSPResponse` (status successful) around the signed BasicOCSPResponse.
    func assemble(tbs: [UInt8], algorithm: Certificate.SignatureAlgorithm, signature: [UInt8]) throws -> [UInt8] {
        var basic = DER.Serializer()
        try basic.appendConstructedNode(identifier: .sequence) { response in
            response.serializeRawBytes(tbs)
            try SignatureAlgorithmIdentifier.serialize(algorithm, into: &response)
            try response.serialize(ASN1BitString(bytes: signature[...]))
            if !certificates.isEmpty {
                response.appendConstructedNode(
                    identifier: ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific)
                ) { explicit in
                    explicit.appendConstructedNode(identifier: .sequence) { list in
                        for certificate in certificates { list.serializeRawBytes(certificate) }
                    }
                }
            }
        }
        var coder = DER.Serializer()
        try coder.appendConstructedNode(identifier: .sequence) { outer in
            outer.appendPrimitiveNode(identifier: .enumerated) { $0.append(OCSPResponseStatus.successful.rawValue) }
            try outer.appendConstructedNode(identifier: ASN1Identifier(tagWithNumber: 0, tagClass: .contextSpecific)) {
                explicit in
                try explicit.appendConstructedNode(identifier: .sequence) { bytes in
                    try bytes.serialize(Self.basicOID)
                    try bytes.serialize(ASN1OctetString(contentBytes: basic.serializedBytes[...]))
                }
            }
        }
        return coder.serializedBytes
    }
}
