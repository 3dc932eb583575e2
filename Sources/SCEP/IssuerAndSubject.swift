import SwiftASN1

/// What a CertPoll names (RFC 8894 section 3.3.3): the issuer and the subject asked for, each a `Name`.
///
/// ```
/// IssuerAndSubject ::= SEQUENCE {
///   issuer Name,
///   subject Name }
/// ```
public struct IssuerAndSubject: Sendable, Hashable {
    /// DER of each `Name`.
    public let issuer: [UInt8]
    public let subject: [UInt8]

    public init(derEncoded bytes: [UInt8]) throws(SCEPError) {
        guard let root = try? DER.parse(bytes), root.identifier == .sequence,
            case .constructed(let fields) = root.content
        else { throw SCEPError(.badRequest, "a CertPoll's content is not an IssuerAndSubject") }
        var iterator = fields.makeIterator()
        guard let issuer = iterator.next(), issuer.identifier == .sequence, let subject = iterator.next(),
            subject.identifier == .sequence, iterator.next() == nil
        else { throw SCEPError(.badRequest, "a CertPoll's content is not an issuer Name and a subject Name") }
        self.issuer = Array(issuer.encodedBytes)
        self.subject = Array(subject.encodedBytes)
    }
}
