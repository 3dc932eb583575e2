import CA
import Codecs
import CustosX509
import Foundation
import Hummingbird
import SwiftASN1
import X509

/// Certificates and CRLs as HTTP answers in the formats the API offers.
enum CertificateResponses {
    /// Certificates as `pem` (concatenated), `der` (one certificate) or `pkcs7` (certs-only SignedData, DER).
    static func certificates(_ chain: [Certificate], format: String, leafOnly: Bool = false) throws -> Response {
        let certificates = leafOnly ? Array(chain.prefix(1)) : chain
        switch format {
        case "pem":
            let text = try certificates.map { PEM.encode(try derBytes($0)) + "\n" }.joined()
            return binary(Array(text.utf8), type: "application/pem-certificate-chain")
        case "der":
            guard certificates.count == 1 || leafOnly else {
                throw APIError.badRequest(
                    "invalid_input",
                    "DER holds one certificate; use format=pem or pkcs7 for a chain"
                )
            }
            return binary(try derBytes(certificates[0]), type: "application/pkix-cert")
        case "pkcs7":
            return binary(
                try PKCS7CertificateBundle.der(certificates),
                type: "application/pkcs7-mime; smime-type=certs-only"
            )
        default:
            throw APIError.badRequest("invalid_input", "format must be pem, der or pkcs7")
        }
    }

    /// A CRL with caching headers from its validity: relying parties and proxies may keep it until
    /// nextUpdate.
    static func crl(_ crl: CRLPublisher.Published) -> Response {
        let now = Int64(Date().timeIntervalSince1970)
        return Response(
            status: .ok,
            headers: [
                .contentType: "application/pkix-crl",
                .cacheControl: "public, max-age=\(max(0, crl.nextUpdate - now)), no-transform",
                .expires: HTTPDate.format(crl.nextUpdate),
                .lastModified: HTTPDate.format(crl.thisUpdate),
                .eTag: "\"\(crl.number)\"",
            ],
            body: .init(byteBuffer: ByteBuffer(bytes: crl.der))
        )
    }

    /// Bytes with a content type.
    static func binary(_ bytes: [UInt8], type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

}
