import CA
import Crypto
import Foundation
import HTTPTypes
import Hummingbird

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
        router.get("ocsp/**") { request, _ in
            let started = ContinuousClock.now
            var answer = OCSPResponder.Answer.error(.malformedRequest)
            if let text = Self.base64Text(request.uri.path) {
                // The path as it came is answered first; only a malformed one is worth repairing.
                if let der = Data(base64Encoded: text) { answer = await responder.respond(to: Array(der)) }
                if answer.status == .malformedRequest, let repaired = Self.repaired(text) {
                    answer = await responder.respond(to: repaired)
                }
            }
            ServerMetrics.ocspAnswered(answer, duration: .now - started)
            return Self.response(answer, request: request, cacheable: true)
        }
    }

    /// The base64 text of the request in a GET path: everything after `/ocsp/`, URL-decoded, with
    /// leading slashes dropped and `+` restored where a proxy turned it into a space.
    static func base64Text(_ path: String) -> String? {
        guard let range = path.range(of: "/ocsp/") else { return nil }
        var encoded = String(path[range.upperBound...])
        while encoded.hasPrefix("/") { encoded.removeFirst() }
        guard let decoded = encoded.removingPercentEncoding else { return nil }
        let text = decoded.replacingOccurrences(of: " ", with: "+")
        guard !text.isEmpty, text.count <= maxRequestBytes * 2 else { return nil }
        return text
    }

    /// The request in base64 `text` whose run of slashes a proxy collapsed to one (losing one to three
    /// characters; Foundation may decode such text to garbage rather than fail): the slashes are put
    /// back at each slash in turn, and the first repair that is an OCSP request is kept. Bounded, so
    /// that a path full of slashes costs no more than a real request (a few CertIDs are well under
    /// 2 KiB of base64).
    static func repaired(_ text: String) -> [UInt8]? {
        guard text.count <= 2048 else { return nil }
        var index = text.startIndex
        var tries = 0
        while tries < 32, let slash = text[index...].firstIndex(of: "/") {
            tries += 1
            for missing in 1...3 {
                var repaired = text
                repaired.insert(contentsOf: String(repeating: "/", count: missing), at: slash)
                if let data = Data(base64Encoded: repaired), OCSPResponder.isRequest(Array(data)) { return Array(data) }
            }
            index = text.index(after: slash)
        }
        return nil
    }

    /// The HTTP response for an answer. Successful answers without a nonce to GET requests carry
    /// caching headers from thisUpdate/nextUpdate (RFC 5019 section 6) and an ETag honoured with 304;
    /// everything else says `no-store`.
    static func response(_ answer: OCSPResponder.Answer, request: Request, cacheable: Bool = false) -> Response {
        var headers: HTTPFields = [.contentType: "application/ocsp-response"]
        guard cacheable, answer.cacheable, let thisUpdate = answer.thisUpdate, let nextUpdate = answer.nextUpdate else {
            headers[.cacheControl] = "no-store"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: answer.der)))
        }
        let now = Int64(Date().timeIntervalSince1970)
        let tag = "\"" + hex(Insecure.SHA1.hash(data: answer.der)) + "\""
        headers[.cacheControl] = "max-age=\(max(0, nextUpdate - now)), public, no-transform, must-revalidate"
        headers[.lastModified] = HTTPDate.format(thisUpdate)
        headers[.expires] = HTTPDate.format(nextUpdate)
        headers[.eTag] = tag
        if let match = request.headers[.ifNoneMatch],
            match.split(separator: ",").contains(where: {
                $0.trimmingCharacters(in: .whitespaces) == tag
            })
        {
            return Response(status: .notModified, headers: headers)
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: answer.der)))
    }

    private static let digits = Array("0123456789abcdef".utf8)

    /// Lower-case hex (`String(format:)` per byte is slow on Linux).
    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        var text: [UInt8] = []
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
