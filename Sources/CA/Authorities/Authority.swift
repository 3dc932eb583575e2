import CustosX509
import Foundation
public import MetadataStore
public import X509

/// A CA as Custos holds it: its stored record and, unless pending, its parsed certificate.
public struct Authority: Sendable {
    public let record: CARecord
    /// Nil while an external parent has not yet returned the certificate.
    public let certificate: Certificate?

    /// The subject key identifier of the CA certificate, which becomes the AKI of what it signs.
    let subjectKeyIdentifier: ArraySlice<UInt8>?

    public init(_ record: CARecord) throws(CAError) {
        self.record = record
        do {
            certificate = try record.certificate.map { try ParsedCertificates.certificate($0) }
        } catch {
            throw CAError(.internalError, "the stored certificate of CA \(record.id) does not parse: \(error)")
        }
        subjectKeyIdentifier = certificate.map { certificate in
            if let identifier = try? certificate.extensions.subjectKeyIdentifier { return identifier.keyIdentifier }
            return SubjectKeyIdentifier(hash: certificate.publicKey).keyIdentifier
        }
    }

    public var id: String { record.id }

    /// The CA stored as `id` in the snapshot `reader` reads, if there is one.
    static func stored(_ id: String, in reader: any MetadataReading) throws -> Authority? {
        try reader.ca(id: id).map { record throws(CAError) in try Authority(record) }
    }

    /// The CA's key, if Custos holds it (not for trust anchors).
    public var keyName: String? { record.keyName }

    /// The path length constraint of the CA certificate (nil: none).
    public var maxPathLength: Int? {
        guard let constraints = try? certificate?.extensions.basicConstraints,
            case .isCertificateAuthority(let length) = constraints
        else { return nil }
        return length
    }

    /// Whether the CA can issue now: it is active, has its certificate, and Custos holds its key (for an
    /// upstream CA: its RA's certificate).
    public func requireUsable() throws(CAError) {
        let canIssue =
            record.kind == .upstream
            ? record.upstream.map { $0.raCertificate != nil || $0.protocolName == "acme" } ?? false
            : record.keyName != nil
        guard record.state == .active, certificate != nil, canIssue else {
            let why =
                switch (record.state, record.kind) {
                case (.pending, .upstream): "it waits for the certificate of its registration authority"
                case (.pending, _): "it waits for its certificate from the external parent"
                case (.retired, _): "it is retired"
                case (_, .trustAnchor): "it is a trust anchor; Custos does not hold its key"
                default: "it has no certificate or key"
                }
            throw CAError(.caNotUsable, "CA \(record.id) cannot sign: \(why)")
        }
    }

    var notAfter: Date? { certificate?.notValidAfter }
}
