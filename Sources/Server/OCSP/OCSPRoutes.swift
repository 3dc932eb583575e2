import CA
import Codecs
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import OCSP
import PKCS11

/// `/ocsp`: the OCSP responder for relying parties (RFC 6960 appendix A, RFC 5019 section 5), without
/// credentials. POST carries the DER request in the body; GET carries it base64-encoded (and
/// URL-encoded) in the path. Every answer is an `application/ocsp-response`, errors included (as OCSP
/// statuses, never an HTTP error without a body).
struct OCSPRoutes {
    let responder: OCSPResponder
    static let maxRequestBytes = OCSPGetPath.maxRequestBytes

    func add(to router: Router<CustosRequestContext>) {
        router.post("ocsp") { request, _ in
            guard request.headers[.contentType]?.lowercased().hasPrefix("application/ocsp-request") == true,
                let body = try? await request.body.collect(upTo: Self.maxRequestBytes)
            else {
                ServerMetrics.ocspAnswered(.error(.malformedRequest), duration: .zero)
                return Self.response(.error(.malformedRequest), request: request)
            }
            let started = ContinuousClock.now
            let answer = await responder.respond(to: Array(body.readableBytesView))
            ServerMetrics.ocspAnswered(answer, duration: .now - started)
            return Self.response(answer, request: request, cacheable: false)
        }
        // A GET without a request (`/ocsp`, `/ocsp/`) is a malformed OCSP request, answered as one.
        router.get("ocsp") { request, _ in
            ServerMetrics.ocspAnswered(.error(.malformedRequest), duration: .zero)
            return Self.response(.error(.malformedRequest), request: request, cacheable: false)
        }
        router.get("ocsp/**") { request, _ in
            let started = ContinuousClock.now
            var answer = OCSPResponder.Answer.error(.malformedRequest)
            if let text = OCSPGetPath.base64Text(request.uri.path) {
                // The path as it came is answered first; only a malformed one is worth repairing.
                if let der = Base64.decode(text) { answer = await responder.respond(to: der) }
                if answer.status == .malformedRequest, let repaired = OCSPGetPath.repaired(text) {
                    answer = await responder.respond(to: repaired)
                }
            }
            ServerMetrics.ocspAnswered(answer, duration: .now - started)
            return Self.response(answer, request: request, cacheable: true)
        }
    }

    /// The HTTP response for an answer. Successful answers without a nonce to GET requests carry
    /// caching headers from thisUpdate/nextUpdate (RFC 5019 section 6) and an ETag honoured with 304;
    /// everything else says `no-store`.
    static func response(_ answer: OCSPResponder.Answer, request: Request, cacheable: Bool = false) -> Response {
        let (status, headers, body) = httpAnswer(
            answer,
            ifNoneMatch: request.headers[.ifNoneMatch],
            cacheable: cacheable
        )
        return Response(
            status: status,
            headers: headers,
            body: body.map { .init(byteBuffer: ByteBuffer(bytes: $0)) } ?? .init()
        )
    }

    /// Status, headers and body (nil for 304) of the HTTP answer carrying `answer`.
    static func httpAnswer(_ answer: OCSPResponder.Answer, ifNoneMatch: String?, cacheable: Bool) -> (
        HTTPResponse.Status, HTTPFields, [UInt8]?
    ) {
        var headers: HTTPFields = [.contentType: "application/ocsp-response"]
        guard cacheable, let caching = CachingHeaders(answer) else {
            headers[.cacheControl] = "no-store"
            return (.ok, headers, answer.der)
        }
        for (name, value) in caching.fields(now: Int64(Date().timeIntervalSince1970)) {
            if let name = HTTPField.Name(name) { headers[name] = value }
        }
        return caching.matches(ifNoneMatch) ? (.notModified, headers, nil) : (.ok, headers, answer.der)
    }

    /// The caching headers of a cacheable answer (RFC 5019 section 6): validity from thisUpdate and
    /// nextUpdate, and a strong ETag, the SHA-1 of the answer's bytes.
    struct CachingHeaders: Sendable {
        let nextUpdate: Int64
        let lastModified: String
        let expires: String
        let eTag: String

        /// Nil for an answer that must not be cached (an error, or one with a nonce).
        init?(_ answer: OCSPResponder.Answer) {
            guard answer.cacheable, let thisUpdate = answer.thisUpdate, let nextUpdate = answer.nextUpdate else {
                return nil
            }
            self.nextUpdate = nextUpdate
            lastModified = HTTPDate.format(thisUpdate)
            expires = HTTPDate.format(nextUpdate)
            eTag = "\"" + Hex.encode(Array(Insecure.SHA1.hash(data: answer.der))) + "\""
        }

        /// The headers, in the order they are written (the router's answers and the fast path's alike).
        func fields(now: Int64) -> [(name: String, value: String)] {
            [
                ("Cache-Control", "max-age=\(max(0, nextUpdate - now)), public, no-transform, must-revalidate"),
                ("Last-Modified", lastModified), ("Expires", expires), ("ETag", eTag),
            ]
        }

        /// Whether an If-None-Match header names this answer (then 304 Not Modified).
        func matches(_ ifNoneMatch: String?) -> Bool {
            guard let ifNoneMatch else { return false }
            return ifNoneMatch.split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces) == eTag }
        }
    }

}
