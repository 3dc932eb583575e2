import CA
import Codecs
import Enrollment
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import NIOSSL
import X509

/// EST's message formats over HTTP (RFC 7030 section 4, RFC 8951): base64 bodies (line breaks in
/// requests allowed; `Content-Transfer-Encoding` is ignored, as RFC 8951 section 3.2 says), PKCS#7 certs-only
/// answers, and refusals as a status with a text body.
enum ESTMessages {
    /// The PKCS#10 request in a `simpleenroll` / `simplereenroll` body: base64 of DER, or (from clients
    /// that ignore RFC 8951) DER itself.
    static func csr(_ body: ByteBuffer) throws(ESTFailure) -> [UInt8] {
        let bytes = Array(body.readableBytesView)
        if let der = Base64.decode(ignoringWhitespace: bytes), !der.isEmpty { return der }
        if bytes.first == 0x30 { return bytes }
        throw ESTFailure(.badRequest, "the body is not a base64 PKCS#10 request (application/pkcs10)")
    }

    /// Throws 415 unless the request declares `application/pkcs10`.
    static func requirePKCS10(_ request: Request) throws(ESTFailure) {
        let declared = request.headers[.contentType] ?? ""
        let type = declared.split(separator: ";", maxSplits: 1).first?.trimmingCharacters(in: .whitespaces)
        guard type?.lowercased() == "application/pkcs10" else {
            throw ESTFailure(
                .unsupportedMediaType,
                "an enrollment request is sent as application/pkcs10, not \(declared.isEmpty ? "nothing" : declared)"
            )
        }
    }

    /// User and password from `Authorization: Basic …`, if the request has one that reads.
    static func basicCredentials(_ request: Request) -> (user: String, password: String)? {
        basicCredentials(header: request.headers[.authorization])
    }

    /// User and password from an `Authorization` value `Basic base64(user:password)` (RFC 7617).
    static func basicCredentials(header: String?) -> (user: String, password: String)? {
        guard let header, header.utf8.count > 6, header.prefix(6).lowercased() == "basic " else { return nil }
        guard let decoded = Base64.decode(ignoringWhitespace: Array(header.utf8.dropFirst(6))),
            let text = String(validating: decoded, as: UTF8.self), let colon = text.firstIndex(of: ":")
        else { return nil }
        return (String(text[..<colon]), String(text[text.index(after: colon)...]))
    }

    /// A base64 answer of `type`, in one line: RFC 8951 section 3.2 points at RFC 4648, which adds no
    /// line breaks, and clients such as strongSwan's decode only the alphabet.
    static func base64(_ der: [UInt8], type: String, status: HTTPResponse.Status = .ok) -> Response {
        var body: [UInt8] = []
        Base64.encode(der, into: &body, lineLength: 1 << 40)
        return Response(
            status: status,
            headers: [.contentType: type, .contentTransferEncoding: "base64"],
            body: .init(byteBuffer: ByteBuffer(bytes: body))
        )
    }

    /// Certificates as `application/pkcs7-mime; smime-type=certs-only`.
    static func certsOnly(_ certificates: [[UInt8]]) throws -> Response {
        base64(
            try PKCS7CertificateBundle.der(encoded: certificates),
            type: "application/pkcs7-mime; smime-type=certs-only"
        )
    }

    /// A server-generated key (RFC 7030 section 4.4.2): `multipart/mixed` with the key as
    /// `application/pkcs7-mime; smime-type=server-generated-key` (a CMS EnvelopedData) and the certificate
    /// as certs-only PKCS#7.
    static func serverGeneratedKey(envelope: [UInt8], certificate: [UInt8], boundary: String) throws -> Response {
        Response(
            status: .ok,
            headers: [.contentType: "multipart/mixed; boundary=\(boundary)"],
            body: .init(
                byteBuffer: ByteBuffer(
                    string: try serverGeneratedKeyBody(envelope: envelope, certificate: certificate, boundary: boundary)
                )
            )
        )
    }

    /// The two parts of a server-generated key's answer and the closing delimiter, each part's body base64
    /// in one line.
    static func serverGeneratedKeyBody(envelope: [UInt8], certificate: [UInt8], boundary: String) throws -> String {
        func part(_ type: String, _ der: [UInt8]) -> String {
            var encoded: [UInt8] = []
            Base64.encode(der, into: &encoded, lineLength: 1 << 40)
            return "--\(boundary)\r\nContent-Type: \(type)\r\nContent-Transfer-Encoding: base64\r\n\r\n"
                + String(decoding: encoded, as: UTF8.self) + "\r\n"
        }
        return part("application/pkcs7-mime; smime-type=server-generated-key", envelope)
            + part(
                "application/pkcs7-mime; smime-type=certs-only",
                try PKCS7CertificateBundle.der(encoded: [certificate])
            )
            + "--\(boundary)--\r\n"
    }

}

/// An EST refusal: a status and a text body.
struct ESTFailure: Error {
    var status: HTTPResponse.Status
    var message: String
    var headers: HTTPFields = [:]

    init(_ status: HTTPResponse.Status, _ message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.message = message
        self.headers = headers
    }

    /// EST's answer for an enrollment error.
    init(_ error: EnrollmentError, profile: String) {
        let text = "\(error.code): \(error.message)"
        switch error.code {
        case .unauthenticated:
            self.init(.unauthorized, text, headers: [.wwwAuthenticate: "Basic realm=\"est/\(profile)\""])
        case .unknownProfile, .unknownRequest: self.init(.notFound, text)
        case .forbidden, .rejected, .policyViolation: self.init(.forbidden, text)
        case .notImplemented: self.init(.notImplemented, text)
        case .unavailable, .storeUnavailable: self.init(.serviceUnavailable, text, headers: [.retryAfter: "5"])
        case .upstreamUnavailable: self.init(.serviceUnavailable, text, headers: [.retryAfter: "30"])
        case .internalError: self.init(.internalServerError, text)
        default: self.init(.badRequest, text)
        }
    }

    var response: Response {
        var headers = self.headers
        headers[.contentType] = "text/plain; charset=utf-8"
        return Response(
            status: status,
            headers: headers,
            body: .init(byteBuffer: ByteBuffer(string: message + "\n"))
        )
    }
}

extension HTTPField.Name {
    static let contentTransferEncoding = Self("Content-Transfer-Encoding")!
}
