import APIModels
import CA
import Codecs
import Foundation

extension CAView {
    /// The view of a CA as the API shows it.
    init(_ authority: Authority) {
        self.init(
            id: authority.id,
            tenant: authority.record.tenant,
            kind: authority.record.kind.rawValue,
            state: authority.record.state.rawValue,
            subject: authority.record.subject,
            parent: authority.record.parent,
            created: Date(timeIntervalSince1970: Double(authority.record.created) / 1e9),
            serial: authority.certificate.map { Hex.encode(Array($0.serialNumber.bytes)) },
            notBefore: authority.certificate?.notValidBefore,
            notAfter: authority.certificate?.notValidAfter,
            pathLength: authority.maxPathLength,
            certificate: authority.record.certificate.map { PEM.encode($0) },
            csr: authority.record.csr.map { PEM.encode($0, label: "CERTIFICATE REQUEST") },
            previousCertificates: authority.record.previousCertificates.count,
            upstream: authority.record.upstream.map { link in
                UpstreamLinkView(
                    protocol: link.protocolName,
                    url: link.url,
                    raCertificate: link.raCertificate.map { PEM.encode($0) },
                    timeoutSeconds: link.timeoutSeconds,
                    attempts: link.attempts,
                    externalAccountKeyID: link.externalAccountKeyID
                )
            }
        )
    }
}
