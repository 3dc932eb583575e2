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
    /// A request with a few CertIDs is well under 1 KiB; anything much larger is not one.
    static let maxRequestBytes = 16 * 1024

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
            if let text = Self.base64Text(request.uri.path) {
                // The path as it came is answered first; only a malformed one is worth repairing.
                if let der = Base64.decode(text) { answer = await responder.respond(to: der) }
                if answer.status == .malformedRequest, let repaired = Self.repaired(text) {
                    answer = await responder.respond(to: repaired)
                }
            }
            ServerMetrics.ocspAnswered(answer, duration: .now - started)
            return Self.response(answer, request: request, cacheable: true)
        }
    }

    /// The base64 text of the request in a GET path: everything after `/ocsp/`, URL-decoded, with
    /// leading slashes dropped and `+` restored where a proxy turned it into a space. Works on the
    /// path's bytes (Foundation's string functions cost more than the rest of an answer).
    static func base64Text(_ path: String) -> [UInt8]? {
        let bytes = Array(path.utf8)
        let marker = Array("/ocsp/".utf8)
        guard
            let start = (0...max(0, bytes.count - marker.count)).first(where: { at in
                bytes.count >= at + marker.count && bytes[at..<at + marker.count].elementsEqual(marker)
            })
        else { return nil }
        var index = start + marker.count
        while index < bytes.count, bytes[index] == UInt8(ascii: "/") { index += 1 }
        var text: [UInt8] = []
        text.reserveCapacity(bytes.count - index)
        while index < bytes.count {
            var byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < bytes.count, let high = Hex.value(ofDigit: bytes[index + 1]),
                    let low = Hex.value(ofDigit: bytes[index + 2])
                else { return nil }
                byte = high << 4 | low
                index += 2
            }
            text.append(byte == UInt8(ascii: " ") ? UInt8(ascii: "+") : byte)
            index += 1
        }
        guard !text.isEmpty, text.count <= maxRequestBytes * 2 else { return nil }
        return text
    }

    /// The request in base64 `text` whose run of slashes a proxy collapsed to one (losing one to three
    /// characters): the slashes are put back at each slash in turn, and the first repair that is an
    /// OCSP request is kept. Bounded, so that a path full of slashes costs no more than a real request
    /// (a few CertIDs are well under 2 KiB of base64).
    static func repaired(_ text: [UInt8]) -> [UInt8]? {
        guard text.count <= 2048 else { return nil }
        var tries = 0
        for (slash, byte) in text.enumerated() where byte == UInt8(ascii: "/") {
            guard tries < 32 else { break }
            tries += 1
            for missing in 1...3 {
                var repaired = text
                repaired.insert(contentsOf: repeatElement(UInt8(ascii: "/"), count: missing), at: slash)
                if let der = Base64.decode(repaired), OCSPResponder.isRequest(der) { return der }
            }
        }
        return nil
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
