import SwiftASN1
import X509

/// A revocation request's entry (RFC 9810 section 5.3.9) and the answer (section 5.3.10).
///
/// ```
/// RevReqContent ::= SEQUENCE OF RevDetails
/// RevDetails ::= SEQUENCE {
///   certDetails      CertTemplate,
///   crlEntryDetails  Extensions OPTIONAL }
/// RevRepContent ::= SEQUENCE {
///   status       SEQUENCE SIZE (1..MAX) OF PKIStatusInfo,
///   revCerts [0] SEQUENCE SIZE (1..MAX) OF CertId OPTIONAL,
///   crls     [1] SEQUENCE SIZE (1..MAX) OF CertificateList OPTIONAL }
/// ```
public struct RevocationDetails: Sendable, Hashable {
    /// Names the certificate: RFC 9483 section 4.2 asks for its issuer and serial number.
    public var certificate: CertTemplate
    /// The CRLReason code in crlEntryDetails, if given.
    public var reason: Int?

    public init(certificate: CertTemplate, reason: Int? = nil) {
        self.certificate = certificate
        self.reason = reason
    }

    init(node: ASN1Node) throws(CMPError) {
        var iterator = try children(of: node, .sequence, "a RevDetails").makeIterator()
        guard let template = iterator.next() else { throw CMPError(.badDataFormat, "a RevDetails is empty") }
        certificate = try CertTemplate(node: template)
        reason = nil
        if let details = iterator.next() {
            for node in try children(of: details, .sequence, "crlEntryDetails") {
                let item = try parsing("a crlEntryDetails extension") { try Certificate.Extension(derEncoded: node) }
                guard item.oid == CMPObjectIdentifiers.crlReason else { continue }
                reason = try parsing("the CRL reason") {
                    try Int(derEncoded: try DER.parse(item.value), withIdentifier: .enumerated)
                }
            }
        }
        guard iterator.next() == nil else { throw CMPError(.badDataFormat, "a RevDetails has extra fields") }
    }

    func serialize(into coder: inout DER.Serializer) throws {
        try coder.appendConstructedNode(identifier: .sequence) { details in
            try certificate.serialize(into: &details)
            guard let reason else { return }
            var value = DER.Serializer()
            try reason.serialize(into: &value, withIdentifier: .enumerated)
            try details.appendConstructedNode(identifier: .sequence) { extensions in
                try extensions.serialize(
                    Certificate.Extension(
                        oid: CMPObjectIdentifiers.crlReason,
                        critical: false,
                        value: value.serializedBytes[...]
                    )
                )
            }
        }
    }
}

/// RevRepContent: one status per revocation request.
public struct RevocationResponse: Sendable, Hashable {
    public var statuses: [PKIStatusInfo]

    public init(statuses: [PKIStatusInfo]) { self.statuses = statuses }

    func serialize(into coder: inout DER.Serializer) throws {
        try coder.appendConstructedNode(identifier: .sequence) { content in
            try content.appendConstructedNode(identifier: .sequence) { list in
                for status in statuses { try status.serialize(into: &list) }
            }
        }
    }

    init(node: ASN1Node) throws(CMPError) {
        var iterator = try children(of: node, .sequence, "a RevRepContent").makeIterator()
        guard let list = iterator.next() else { throw CMPError(.badDataFormat, "a RevRepContent is empty") }
        statuses = try children(of: list, .sequence, "the statuses").map { node throws(CMPError) in
            try PKIStatusInfo(node: node)
        }
    }
}
