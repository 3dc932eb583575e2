import CA
import Codecs
import Foundation

/// A CA as the API shows it.
struct CAView: Encodable {
    var id: String
    var tenant: String
    var kind: String
    var state: String
    var subject: String
    var parent: String?
    var created: Date
    var serial: String?
    var notBefore: Date?
    var notAfter: Date?
    var pathLength: Int?
    var certificate: String?
    /// For an external sub-CA: the CSR to send to the parent.
    var csr: String?
    var previousCertificates: Int

    init(_ authority: Authority) {
        id = authority.id
        tenant = authority.record.tenant
        kind = authority.record.kind.rawValue
        state = authority.record.state.rawValue
        subject = authority.record.subject
        parent = authority.record.parent
        created = Date(timeIntervalSince1970: Double(authority.record.created) / 1e9)
        serial = authority.certificate.map { Hex.encode(Array($0.serialNumber.bytes)) }
        notBefore = authority.certificate?.notValidBefore
        notAfter = authority.certificate?.notValidAfter
        pathLength = authority.maxPathLength
        certificate = authority.record.certificate.map { PEM.encode($0) }
        csr = authority.record.csr.map { PEM.encode($0, label: "CERTIFICATE REQUEST") }
        previousCertificates = authority.record.previousCertificates.count
    }
}

/// A page of CAs.
struct CAList: Encodable {
    var cas: [CAView]
    var nextCursor: String?
}
