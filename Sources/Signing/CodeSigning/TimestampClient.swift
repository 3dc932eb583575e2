public import Foundation
public import PKCS11
import SwiftASN1

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// An RFC 3161 client: asks time-stamping authorities, in order, for a token over a hash.
///
/// Each URL is tried `attempts` times (with a short growing pause) before the next one; a token is
/// accepted only if it answers our request (same message imprint, same nonce). The token's own
/// signature is the relying party's to check against the TSA's certificate, which the token carries.
public struct TimestampClient: Sendable {
    public struct Configuration: Sendable, Hashable {
        /// Tried in order: the first is the primary TSA, the rest are fallbacks.
        public var urls: [URL]
        /// Tries per URL.
        public var attempts: Int
        /// Per try.
        public var timeout: Duration

        public init(urls: [URL], attempts: Int = 2, timeout: Duration = .seconds(10)) {
            self.urls = urls
            self.attempts = attempts
            self.timeout = timeout
        }
    }

    public let configuration: Configuration

    public init(_ configuration: Configuration) { self.configuration = configuration }

    /// A timestamp token (a CMS ContentInfo, DER) over `digest`, made with `hash`. Throws
    /// `timestamp_unavailable` naming each TSA's failure when none answers.
    public func token(digest: [UInt8], hash: HashAlgorithm) async throws(SigningError) -> [UInt8] {
        let nonce = UInt64.random(in: 1...UInt64(Int64.max))
        let imprint = Self.messageImprint(digest: digest, hash: hash)
        let request = Self.request(imprint: imprint, nonce: nonce)
        var failures: [String] = []
        for url in configuration.urls {
            for attempt in 0..<max(1, configuration.attempts) {
                if attempt > 0 { try? await Task.sleep(for: .milliseconds(200 << attempt)) }
                do {
                    let reply = try await post(request, to: url)
                    return try Self.acceptedToken(reply, imprint: imprint, nonce: nonce)
                } catch let error as TSAFailure {
                    failures.append("\(url.absoluteString): \(error.reason)")
                    if error.final { break }
                } catch {
                    failures.append("\(url.absoluteString): \(error.localizedDescription)")
                }
            }
        }
        throw SigningError(
            .timestampUnavailable,
            failures.isEmpty
                ? "no time-stamping authority is configured"
                : "no time-stamping authority answered: "
                    + failures.joined(separator: "; ")
        )
    }

    private func post(_ body: [UInt8], to url: URL) async throws -> [UInt8] {
        var request = URLRequest(url: url)
        request.httpMethod = "POST"
        request.setValue("application/timestamp-query", forHTTPHeaderField: "Content-Type")
        request.timeoutInterval =
            Double(configuration.timeout.components.seconds)
            + Double(configuration.timeout.components.attoseconds) / 1e18
        request.httpBody = Data(body)
        let (data, response) = try await URLSession.shared.data(for: request)
        guard let http = response as? HTTPURLResponse else { throw TSAFailure("no HTTP response") }
        guard http.statusCode == 200 else { throw TSAFailure("HTTP status \(http.statusCode)") }
        return Array(data)
    }

    /// `MessageImprint ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier, hashedMessage OCTET STRING }`.
    static func messageImprint(digest: [UInt8], hash: HashAlgorithm) -> [UInt8] {
        var serializer = DER.Serializer()
        try? serializer.appendConstructedNode(identifier: .sequence) { imprint in
            try imprint.serialize(CMSSignedData.digestAlgorithmIdentifier(hash))
            try imprint.serialize(ASN1OctetString(contentBytes: digest[...]))
        }
        return serializer.serializedBytes
    }

    /// `TimeStampReq` v1 with a nonce, asking for the TSA's certificate in the token.
    static func request(imprint: [UInt8], nonce: UInt64) -> [UInt8] {
        var serializer = DER.Serializer()
        try? serializer.appendConstructedNode(identifier: .sequence) { request in
            try request.serialize(1)
            request.serializeRawBytes(imprint)
            try request.serialize(nonce)
            try request.serialize(true)  // certReq
        }
        return serializer.serializedBytes
    }

    /// The token from a `TimeStampResp`, if the TSA granted it and it answers this request. Public for
    /// the fuzz target: a TSA's reply (over plain HTTP, as RFC 3161 services are) is input from the
    /// network.
    public static func acceptedToken(_ reply: [UInt8], imprint: [UInt8], nonce: UInt64) throws -> [UInt8] {
        let malformed = TSAFailure("the reply is not a well-formed RFC 3161 TimeStampResp")
        guard let response = try? DER.parse(reply), let parts = children(response), parts.count >= 1,
            let status = children(parts[0])?.first, status.identifier == .integer,
            let code = try? Int(derEncoded: status)
        else { throw malformed }
        // 0 granted, 1 granted with modifications; anything else is a refusal, final for this TSA.
        guard code == 0 || code == 1 else {
            throw TSAFailure("the TSA refused the request (PKIStatus \(code))", final: true)
        }
        guard parts.count >= 2 else { throw malformed }
        let token = parts[1]
        guard let info = tstInfo(token) else { throw TSAFailure("the token holds no TSTInfo") }
        guard let fields = children(info), fields.count >= 5 else { throw malformed }
        guard Array(fields[2].encodedBytes) == imprint else {
            throw TSAFailure("the token's message imprint is not the one requested", final: true)
        }
        let sentNonce: [UInt8] = {
            var serializer = DER.Serializer()
            try? serializer.serialize(nonce)
            return serializer.serializedBytes
        }()
        guard fields.dropFirst(5).contains(where: { Array($0.encodedBytes) == sentNonce }) else {
            throw TSAFailure("the token does not carry the request's nonce", final: true)
        }
        return Array(token.encodedBytes)
    }

    /// The TSTInfo inside a token: ContentInfo → [0] SignedData → encapContentInfo → [0] OCTET STRING.
    static func tstInfo(_ token: ASN1Node) -> ASN1Node? {
        guard let contentInfo = children(token), contentInfo.count == 2,
            let contentType = try? ASN1ObjectIdentifier(derEncoded: contentInfo[0]),
            contentType == ObjectIdentifiers.signedData,
            let signedData = children(contentInfo[1])?.first, let fields = children(signedData), fields.count >= 3,
            let encapsulated = children(fields[2]), encapsulated.count == 2,
            let eContentType = try? ASN1ObjectIdentifier(derEncoded: encapsulated[0]),
            eContentType == ObjectIdentifiers.tstInfo,
            let octets = children(encapsulated[1])?.first,
            let bytes = try? ASN1OctetString(derEncoded: octets)
        else { return nil }
        return try? DER.parse(bytes.bytes)
    }

    private static func children(_ node: ASN1Node) -> [ASN1Node]? {
        guard case .constructed(let nodes) = node.content else { return nil }
        return Array(nodes)
    }
}

private struct TSAFailure: Error {
    let reason: String
    /// No use asking the same TSA again.
    let final: Bool
    init(_ reason: String, final: Bool = false) {
        self.reason = reason
        self.final = final
    }
}
