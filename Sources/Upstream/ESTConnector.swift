public import AsyncHTTPClient
public import CA
import Codecs
import CustosX509
import Foundation
import HSMTLS
import NIOHTTP1
import NIOSSL
import X509

/// Forwards requests to an upstream CA over EST (RFC 7030): the client's own PKCS#10 request goes to
/// `<url>simpleenroll` over TLS, where the RA authenticates with its certificate and its HSM key
/// (section 3.3.2) and the upstream's TLS certificate must chain to the link's response anchors. A `202`
/// with Retry-After is asked again after that wait (section 4.2.3), within the link's timeout; another
/// 4xx is the upstream's refusal; no answer, a 5xx or something that is not a certs-only PKCS#7 is sent
/// again up to the link's attempts.
///
/// EST carries only PKCS#10: a request of another form (CRMF from a CMP client) or one whose subject a
/// profile changed cannot travel, and EST has no revocation.
public struct ESTConnector: UpstreamConnector {
    let http: UpstreamHTTP

    /// A connector over `client`, by default one shared by every connector of the process.
    public init(client: HTTPClient? = nil) { http = UpstreamHTTP(client: client ?? UpstreamHTTP.shared) }

    public func enroll(_ request: UpstreamEnrollment) async throws(CAError) -> UpstreamCertificate {
        let target = request.target
        let csr = try request.clientCSR(protocolName: "EST")
        let tls = try tlsConfiguration(target)
        let url = target.link.url.hasSuffix("/") ? target.link.url : target.link.url + "/"
        var body: [UInt8] = []
        Base64.encode(csr, into: &body)
        return try await attempting(target) {
            while true {
                let answer = try await http.send(
                    body,
                    to: url + "simpleenroll",
                    headers: ["Content-Type": "application/pkcs10", "Content-Transfer-Encoding": "base64"],
                    tls: tls,
                    maxBytes: 256 * 1024,
                    deadline: target.deadline
                )
                switch answer.status.code {
                case 200:
                    let issued = try certificate(from: answer, for: request)
                    do throws(CAError) { try request.accept(issued.certificate) } catch let refusal {
                        throw CAError(
                            refusal.code,
                            refusal.message + "; EST cannot reject it: revoke it at the upstream CA"
                        )
                    }
                    return issued
                case 202:
                    // Pending at the upstream (an approval there): ask again after its Retry-After.
                    let wait = max(1, answer.headers.first(name: "Retry-After").flatMap(Int.init) ?? 5)
                    guard Date().addingTimeInterval(Double(wait)) < target.deadline else {
                        throw CAError(
                            .upstreamUnavailable,
                            "upstream CA \(target.ca) still had the request pending after "
                                + "\(target.link.timeoutSeconds) s; ask again later"
                        )
                    }
                    try await Task.sleep(for: .seconds(wait))
                case 400..<500:
                    let text = String(decoding: answer.body.prefix(300), as: UTF8.self)
                    throw CAError(
                        .upstreamRefused,
                        "upstream CA \(target.ca) refused the request: HTTP \(answer.status.code) \(text)"
                    )
                default:
                    throw UpstreamHTTP.Failure(description: "it answered HTTP \(answer.status.code)")
                }
            }
        }
    }

    public func revoke(_ request: UpstreamRevocation) async throws(CAError) {
        throw CAError(
            .caNotUsable,
            "upstream CA \(request.target.ca) is reached over EST, which has no revocation: revoke the certificate "
                + "at the upstream CA"
        )
    }

    /// The certificate a `200` carries: base64 certs-only PKCS#7 whose certificate for the requested key
    /// is the issued one (section 4.2.3).
    private func certificate(from answer: UpstreamHTTP.Answer, for request: UpstreamEnrollment) throws
        -> UpstreamCertificate
    {
        guard answer.contentType == "application/pkcs7-mime" else {
            throw UpstreamHTTP.Failure(
                description: "it answered \(answer.contentType ?? "no content type"), not PKCS#7"
            )
        }
        guard let der = Base64.decode(ignoringWhitespace: answer.body),
            let certificates = try? PKCS7CertificateBundle.certificates(fromDER: der)
        else { throw UpstreamHTTP.Failure(description: "its answer is not a base64 certs-only PKCS#7") }
        let encoded = try certificates.map { try derBytes($0) }
        guard let index = try certificates.firstIndex(where: { try derBytes($0.publicKey) == request.publicKeyInfo })
        else {
            // What comes back is checked by the CA; a certificate for another key is its refusal to give.
            return UpstreamCertificate(certificate: encoded.first ?? [], extraCertificates: Array(encoded.dropFirst()))
        }
        var others = encoded
        others.remove(at: index)
        return UpstreamCertificate(certificate: encoded[index], extraCertificates: others)
    }

    /// The RA's TLS identity (its certificate and chain, its HSM key) and the anchors the upstream's
    /// TLS certificate must chain to.
    private func tlsConfiguration(_ target: UpstreamTarget) throws(CAError) -> TLSConfiguration {
        do {
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.minimumTLSVersion = .tlsv12
            guard let raCertificate = target.raCertificate else {
                throw CAError(.caNotUsable, "CA \(target.ca) has no RA certificate to authenticate over EST with")
            }
            configuration.certificateChain = try ([raCertificate] + target.raChain).map { der in
                .certificate(try NIOSSLCertificate(bytes: der, format: .der))
            }
            configuration.privateKey = .privateKey(NIOSSLPrivateKey(customPrivateKey: try HSMTLSKey(target.raKey)))
            configuration.trustRoots = .certificates(
                try target.link.responseAnchors.map { try NIOSSLCertificate(bytes: $0, format: .der) }
            )
            return configuration
        } catch let error as CAError {
            throw error
        } catch {
            throw CAError(.internalError, "the TLS identity of CA \(target.ca)'s RA cannot be used: \(error)")
        }
    }
}
