import CA
import Codecs
public import CustosX509
import Foundation
public import MetadataStore

/// The self-service portal's side of enrollment: a person signs in with an enrollment password of a
/// profile that offers the portal, and then requests certificates under it like any other client, and
/// sees the requests and certificates of that identity.
extension EnrollmentService {
    /// Metadata key of certificates issued through the portal: the client who asked (how the portal
    /// finds a person's certificates).
    public static let clientMetadataKey = "enrollment.client"

    /// Checks a portal sign-in and returns the enrollment secret it matched (a session keeps its id, never
    /// the password). A refusal is an audit entry naming the profile and the source.
    public func portalSignIn(profile id: String, user: String, password: String, source: String, requestID: String?)
        async throws(EnrollmentError) -> EnrollmentSecretRecord
    {
        var client = "anonymous"
        do throws(EnrollmentError) {
            let profile = try await profile(id)
            guard profile.protocols.contains(.portal) else {
                throw EnrollmentError(.unknownProfile, "profile \(profile.id) does not offer the portal")
            }
            let identity = try await authenticate(ClientCredentials(username: user, password: password), for: profile)
            client = identity.name
            let secret: EnrollmentSecretRecord
            switch identity {
            case .oneTimePassword(let record): secret = record
            case .sharedPassword:
                guard let shared = try? await store.read({ try $0.enrollmentSecrets(profile: id, kind: .shared) }).first
                else { throw EnrollmentError(.unauthenticated, "the password is not one profile \(id) accepts") }
                secret = shared
            case .anchoredCertificate, .issuedCertificate, .officer:
                throw EnrollmentError(.unauthenticated, "the portal signs in with a password")
            }
            try await audit(
                actor: "portal/\(id)/\(client)",
                action: "portal.signin",
                object: "enrollment-profile/\(id)",
                outcome: "success: from \(source)",
                requestID: requestID
            )
            return secret
        } catch {
            try? await audit(
                actor: "portal/\(id)/\(client)",
                action: "portal.signin",
                object: "enrollment-profile/\(id)",
                outcome: "failure: \(error.message), from \(source)",
                requestID: requestID
            )
            throw error
        }
    }

    /// What a portal session presents for a request: the secret it signed in with, read again (a
    /// withdrawn password ends what the session may do).
    public func portalCredentials(secretID: String, user: String) async throws(EnrollmentError) -> ClientCredentials {
        let secret: EnrollmentSecretRecord?
        do { secret = try await store.read { try $0.enrollmentSecret(id: secretID) } } catch {
            throw EnrollmentError.from(error)
        }
        guard let secret else {
            throw EnrollmentError(.unauthenticated, "the password this session signed in with was withdrawn")
        }
        return ClientCredentials(username: user, macSecret: secret)
    }

    /// How the portal's client is named in requests, certificates and the audit log.
    public func portalClientName(profile id: String, secretID: String, user: String) async throws(EnrollmentError)
        -> String
    {
        let profile = try await profile(id)
        return try await authenticate(try await portalCredentials(secretID: secretID, user: user), for: profile).name
    }

    /// The requests a portal client made under `profile` (held, issued after approval, rejected), newest
    /// first, and the certificates issued to it.
    public func portalHistory(profile: String, client: String) async throws(EnrollmentError) -> (
        requests: [EnrollmentRequestRecord], certificates: [CertificateRecord]
    ) {
        do {
            return try await store.read { reader in
                var requests: [EnrollmentRequestRecord] = []
                for state in EnrollmentRequestRecord.State.allCases {
                    requests += try reader.enrollmentRequests(state: state, after: nil, limit: 10_000).filter {
                        $0.profile == profile && $0.client == client
                    }
                }
                let certificates = try reader.certificateKeys(metadata: Self.clientMetadataKey, value: client)
                    .compactMap { try reader.record(CertificateRecord.self, key: $0) }
                    .filter { $0.metadata[Self.profileMetadataKey] == profile }
                return (
                    requests.sorted { $0.created > $1.created }, certificates.sorted { $0.notBefore > $1.notBefore }
                )
            }
        } catch {
            throw EnrollmentError.from(error)
        }
    }

    /// A certificate issued to the portal client `client` under `profile` (found by the metadata the
    /// portal wrote when it was issued), or `unknownRequest` as if it did not exist.
    public func portalCertificate(profile: String, client: String, ca: String, serial: String)
        async throws(EnrollmentError) -> CertificateRecord
    {
        let record: CertificateRecord
        do { record = try await authority.certificate(ca: ca, serial: serial) } catch {
            throw EnrollmentError(.unknownRequest, "you have no certificate \(serial)")
        }
        guard record.metadata[Self.clientMetadataKey] == client, record.metadata[Self.profileMetadataKey] == profile
        else { throw EnrollmentError(.unknownRequest, "you have no certificate \(serial)") }
        return record
    }

    /// The reasons a holder may give for revoking their own certificate (RFC 5280 section 5.3.1): those
    /// about the holder and the key, not the CA's.
    public static let portalRevocationReasons: [CRLReason] = [
        .unspecified, .keyCompromise, .affiliationChanged, .superseded, .cessationOfOperation,
    ]

    /// Revokes a portal client's own certificate; the audit entry names the client.
    public func portalRevoke(
        profile: String,
        client: String,
        ca: String,
        serial: String,
        reason: CRLReason,
        requestID: String?
    ) async throws(EnrollmentError) -> CertificateRecord {
        guard Self.portalRevocationReasons.contains(reason) else {
            throw EnrollmentError(
                .invalidInput,
                "a holder revokes for one of: "
                    + Self.portalRevocationReasons.map(\.description).joined(separator: ", ")
            )
        }
        let record = try await portalCertificate(profile: profile, client: client, ca: ca, serial: serial)
        do {
            return try await authority.revoke(
                ca: record.issuer,
                serial: Hex.encode(record.serial),
                reason: reason,
                requester: Requester(actor: "portal/\(profile)/\(client)", requestID: requestID)
            )
        } catch {
            throw EnrollmentError.from(error)
        }
    }

    private func audit(actor: String, action: String, object: String, outcome: String, requestID: String?)
        async throws(EnrollmentError)
    {
        do {
            _ = try await store.write { txn in
                try txn.appendAudit(
                    AuditEvent(actor: actor, action: action, object: object, outcome: outcome, requestID: requestID)
                )
            }
        } catch {
            throw EnrollmentError.from(error)
        }
    }
}
