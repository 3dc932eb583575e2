public import AsyncHTTPClient
public import CA
import Codecs
import CustosX509
import Foundation
import NIOSSL
import Signing
import X509

/// Forwards requests to an upstream CA over ACME (RFC 8555): the RA's HSM key is its account key,
/// bound once to the link's external account key if the upstream asks for one. For each request it
/// orders the names the request's CSR carries (DNS names and IP addresses), answers each pending
/// authorization's first challenge (an upstream that trusts the account for those names, as corporate
/// CAs with external account binding do, validates it by policy; Custos does not serve challenges),
/// finalizes with the client's own CSR, waits for the order within the link's timeout, and downloads the
/// certificate. Revocation goes as revokeCert signed by the account.
///
/// ACME carries only PKCS#10 requests for names: CRMF requests, subjects set by a profile template and
/// requests without names are refused for ACME upstreams. The upstream's TLS certificate must chain to
/// the link's response anchors.
public struct ACMEConnector: UpstreamConnector {
    let http: UpstreamHTTP
    let accounts = ACMEAccountURLs()

    /// A connector over `client`, by default one shared by every connector of the process.
    public init(client: HTTPClient? = nil) { http = UpstreamHTTP(client: client ?? UpstreamHTTP.shared) }

    public func enroll(_ request: UpstreamEnrollment) async throws(CAError) -> UpstreamCertificate {
        let target = request.target
        let csr = try request.clientCSR(protocolName: "ACME")
        let identifiers: [[String: String]] = request.alternativeNames.compactMap { name in
            switch name {
            case .dnsName(let value): ["type": "dns", "value": value]
            case .ipAddress(let bytes):
                (try? SubjectAlternativeName(.ipAddress(bytes))).map { ["type": "ip", "value": $0.value] }
            default: nil
            }
        }
        guard !identifiers.isEmpty else {
            throw CAError(
                .caNotUsable,
                "upstream CA \(target.ca) is reached over ACME, which certifies DNS names and IP addresses; the request has none"
            )
        }
        let tls = try Self.tlsConfiguration(target)
        return try await attempting(target) {
            var session = try await ACMEUpstreamSession.open(target, http: http, tls: tls)
            try await session.useAccount(accounts)
            let ordered = try await session.post(session.directory["newOrder"]!, payload: ["identifiers": identifiers])
            guard let orderURL = ordered.location, let authorizations = ordered.json["authorizations"] as? [String],
                let finalize = ordered.json["finalize"] as? String
            else { throw session.refused("answered the order without its URL, authorizations or finalize URL") }
            for authorization in authorizations {
                try await authorize(authorization, in: &session)
            }
            _ = try await session.post(finalize, payload: ["csr": Base64URL.encode(csr)])
            let order = try await poll(orderURL, until: "valid", what: "the order", in: &session)
            guard let certificateURL = order["certificate"] as? String else {
                throw session.refused("marked the order valid without its certificate")
            }
            let chain = try await session.post(certificateURL, payload: nil)
            let certificates: [Certificate]
            do { certificates = try PEMCertificates.parse(String(decoding: chain.body, as: UTF8.self)) } catch {
                throw UpstreamHTTP.Failure(description: "its certificate is not a PEM chain")
            }
            let encoded = try certificates.map { try derBytes($0) }
            guard let first = encoded.first else {
                throw UpstreamHTTP.Failure(description: "its certificate chain is empty")
            }
            do throws(CAError) { try request.accept(first) } catch let refusal {
                // Not left valid upstream while missing here: revoked (cessationOfOperation) at once.
                guard let revokeCert = session.directory["revokeCert"] else {
                    throw CAError(
                        refusal.code,
                        refusal.message + "; the upstream offers no revocation: revoke it there"
                    )
                }
                // Its own time: an issuance that used the link's time up must still be undone upstream.
                session.target.deadline = Date().addingTimeInterval(Double(target.link.timeoutSeconds))
                do {
                    _ = try await session.post(
                        revokeCert,
                        payload: ["certificate": Base64URL.encode(first), "reason": 5]
                    )
                } catch {
                    throw CAError(refusal.code, refusal.message + "; revoking it there failed: \(error)")
                }
                throw CAError(refusal.code, refusal.message + "; it was revoked there")
            }
            return UpstreamCertificate(certificate: first, extraCertificates: Array(encoded.dropFirst()))
        }
    }

    public func revoke(_ request: UpstreamRevocation) async throws(CAError) {
        let target = request.target
        let tls = try Self.tlsConfiguration(target)
        try await attempting(target) {
            var session = try await ACMEUpstreamSession.open(target, http: http, tls: tls)
            guard let revokeCert = session.directory["revokeCert"] else {
                throw session.refused("offers no revokeCert")
            }
            try await session.useAccount(accounts)
            _ = try await session.post(
                revokeCert,
                payload: ["certificate": Base64URL.encode(request.certificate), "reason": request.reason]
            )
        }
    }

    /// Answers an authorization's first pending challenge and waits until the upstream marks it valid.
    private func authorize(_ url: String, in session: inout ACMEUpstreamSession) async throws {
        let authorization = try await session.post(url, payload: nil).json
        guard authorization["status"] as? String != "valid" else { return }
        let challenges = authorization["challenges"] as? [[String: Any]] ?? []
        guard let challenge = challenges.first(where: { $0["status"] as? String == "pending" }),
            let challengeURL = challenge["url"] as? String
        else { throw session.refused("left an authorization without a pending challenge") }
        _ = try await session.post(challengeURL, payload: [:])
        _ = try await poll(url, until: "valid", what: "an authorization", in: &session)
    }

    /// POSTs-as-GET `url` until its status is `wanted` (after Retry-After, or a second); `invalid` is the
    /// upstream's refusal, and the link's deadline ends the wait.
    private func poll(_ url: String, until wanted: String, what: String, in session: inout ACMEUpstreamSession)
        async throws -> [String: Any]
    {
        while true {
            let reply = try await session.post(url, payload: nil)
            let object = reply.json
            let status = object["status"] as? String
            if status == wanted { return object }
            if status == "invalid" {
                let error = (object["error"] as? [String: Any]).map { "\($0["type"] ?? ""): \($0["detail"] ?? "")" }
                throw session.refused("found \(what) invalid: \(error ?? "no reason given")")
            }
            let wait = Double(max(1, min(reply.retryAfter ?? 1, 60)))
            guard Date().addingTimeInterval(wait) < session.target.deadline else {
                throw CAError(
                    .upstreamUnavailable,
                    "upstream CA \(session.target.ca) still had \(what) \(status ?? "unfinished") after "
                        + "\(session.target.link.timeoutSeconds) s; ask again later"
                )
            }
            try await Task.sleep(for: .seconds(wait))
        }
    }

    /// Trust for the upstream's TLS certificate: the link's response anchors.
    static func tlsConfiguration(_ target: UpstreamTarget) throws(CAError) -> TLSConfiguration {
        do {
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.minimumTLSVersion = .tlsv12
            configuration.trustRoots = .certificates(
                try target.link.responseAnchors.map { try NIOSSLCertificate(bytes: $0, format: .der) }
            )
            return configuration
        } catch {
            throw CAError(.internalError, "the response anchors of CA \(target.ca) cannot be used for TLS: \(error)")
        }
    }
}
