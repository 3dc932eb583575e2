import ACME
import Codecs
import Crypto

/// dns-01 (RFC 8555 section 8.4): a TXT record at `_acme-challenge.<domain>` holds the base64url
/// SHA-256 digest of the key authorization (among other records, perhaps).
struct DNS01Check: Sendable {
    let resolver: DNSResolver

    static func digest(_ keyAuthorization: String) -> String {
        Base64URL.encode(Array(SHA256.hash(data: Array(keyAuthorization.utf8))))
    }

    func check(_ identifier: ACMEIdentifier, keyAuthorization: String) async throws(ACMEProblem) {
        guard identifier.kind == .dns else { throw ACMEProblem(.malformed, "dns-01 proves DNS names only") }
        let name = "_acme-challenge." + identifier.authorizationValue
        let response: DNSMessage.Response
        do { response = try await resolver.lookup(name, .txt) } catch {
            throw ACMEProblem(.dns, "the TXT lookup of \(name) failed: \(error)")
        }
        if response.responseCode == 3 { throw ACMEProblem(.dns, "\(name) does not exist (NXDOMAIN)") }
        let values = response.records(.txt, for: name).compactMap(\.text)
        guard !values.isEmpty else { throw ACMEProblem(.unauthorized, "\(name) has no TXT record") }
        let expected = Self.digest(keyAuthorization)
        guard values.contains(expected) else {
            throw ACMEProblem(
                .unauthorized,
                "no TXT record of \(name) holds the key authorization's digest (found "
                    + values.prefix(4).map { "\"\($0.prefix(64))\"" }.joined(separator: ", ") + ")"
            )
        }
    }
}
