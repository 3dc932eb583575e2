import CustosX509
import SwiftASN1
public import X509

/// What a requester asks to be certified, or which certificate a revocation names (RFC 4211 section 5).
///
/// ```
/// CertTemplate ::= SEQUENCE {
///   version      [0] Version               OPTIONAL,
///   serialNumber [1] INTEGER               OPTIONAL,
///   signingAlg   [2] AlgorithmIdentifier   OPTIONAL,
///   issuer       [3] Name                  OPTIONAL,
///   validity     [4] OptionalValidity      OPTIONAL,
///   subject      [5] Name                  OPTIONAL,
///   publicKey    [6] SubjectPublicKeyInfo  OPTIONAL,
///   issuerUID    [7] UniqueIdentifier      OPTIONAL,
///   subjectUID   [8] UniqueIdentifier      OPTIONAL,
///   extensions   [9] Extensions            OPTIONAL }
/// OptionalValidity ::= SEQUENCE { notBefore [0] Time OPTIONAL, notAfter [1] Time OPTIONAL }
/// ```
/// The CRMF module has implicit tags; `Name` and `Time` are CHOICEs, so their tags are explicit.
public struct CertTemplate: Sendable, Hashable {
    public var serialNumber: [UInt8]?
    public var issuer: DistinguishedName?
    public var subject: DistinguishedName?
    /// The SubjectPublicKeyInfo in DER (its tag restored to SEQUENCE).
    public var publicKeyInfo: [UInt8]?
    public var extensions: [Certificate.Extension]

    public init(
        serialNumber: [UInt8]? = nil,
        issuer: DistinguishedName? = nil,
        subject: DistinguishedName? = nil,
        publicKeyInfo: [UInt8]? = nil,
        extensions: [Certificate.Extension] = []
    ) {
        self.serialNumber = serialNumber
        self.issuer = issuer
        self.subject = subject
        self.publicKeyInfo = publicKeyInfo
        self.extensions = extensions
    }

    /// The requested key, parsed.
    public func publicKey() throws(CMPError) -> Certificate.PublicKey? {
        guard let publicKeyInfo else { return nil }
        return try parsing("the template's public key") { try Certificate.PublicKey(derEncoded: publicKeyInfo) }
    }

    /// The subject alternative names the template asks for.
    public var alternativeNames: [GeneralName] {
        get throws(CMPError) {
            try parsing("the subjectAltName extension") {
                try Certificate.Extensions(extensions).subjectAlternativeNames.map(Array.init) ?? []
            }
        }
    }

    init(node: ASN1Node) throws(CMPError) {
        extensions = []
        var last: Int = -1
        for field in try children(of: node, .sequence, "a CertTemplate") {
            let number = Int(field.identifier.tagNumber)
            guard field.identifier.tagClass == .contextSpecific, number <= 9, number > last else {
                throw CMPError(.badCertTemplate, "a CertTemplate has a field out of order or unknown")
            }
            last = number
            switch number {
            case 1:
                serialNumber = try parsing("the template's serialNumber") {
                    Array(try ArraySlice<UInt8>(derEncoded: field, withIdentifier: .context(1)))
                }
            case 3: issuer = try parsing("the template's issuer") { try DistinguishedName(derEncoded: explicit(field)) }
            case 5:
                subject = try parsing("the template's subject") { try DistinguishedName(derEncoded: explicit(field)) }
            case 6:
                var spki = Array(field.encodedBytes)
                spki[0] = 0x30  // [6] IMPLICIT SubjectPublicKeyInfo
                publicKeyInfo = spki
            case 9:
                extensions = try children(of: field, .context(9), "the template's extensions").map {
                    node throws(CMPError) in
                    try parsing("a requested extension") { try Certificate.Extension(derEncoded: node) }
                }
            default: break  // version, signingAlg, validity, unique identifiers: the CA and profile decide them
            }
        }
    }

    func serialize(into coder: inout DER.Serializer) throws {
        try coder.appendConstructedNode(identifier: .sequence) { sequence in
            if let serialNumber {
                sequence.appendPrimitiveNode(identifier: .context(1)) { $0.append(contentsOf: serialNumber) }
            }
            if let issuer { try sequence.appendConstructedNode(identifier: .context(3)) { try $0.serialize(issuer) } }
            if let subject {
                try sequence.appendConstructedNode(identifier: .context(5)) { try $0.serialize(subject) }
            }
            if var spki = publicKeyInfo {
                spki[0] = 0xA6
                sequence.serializeRawBytes(spki)
            }
            if !extensions.isEmpty {
                try sequence.appendConstructedNode(identifier: .context(9)) { list in
                    for item in extensions { try list.serialize(item) }
                }
            }
        }
    }
}

private func explicit(_ node: ASN1Node) throws -> ASN1Node { try explicit(node, "a tagged field") }
