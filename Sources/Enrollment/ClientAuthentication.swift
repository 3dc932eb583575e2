import CA
import Codecs
import CustosX509
import Foundation
public import MetadataStore
import SwiftASN1
public import X509

/// What an enrolling client presented: HTTP Basic (EST) or a challenge password (SCEP), and the TLS
/// client certificate chain whose leaf key the handshake proved the client holds.
public struct ClientCredentials: Sendable {
    public var username: String?
    public var password: String?
    /// Leaf first.
    public var certificateChain: [Certificate]
    /// A secret whose MAC over the request the protocol checked (CMP's MAC-based protection).
    public var macSecret: EnrollmentSecretRecord?
    /// A Custos credential the server authenticated (`credential/<id>`): an officer requesting a
    /// certificate in the console on someone's behalf.
    public var officer: String?

    public init(
        username: String? = nil,
        password: String? = nil,
        certificateChain: [Certificate] = [],
        macSecret: EnrollmentSecretRecord? = nil,
        officer: String? = nil
    ) {
        self.username = username
        self.password = password
        self.certificateChain = certificateChain
        self.macSecret = macSecret
        self.officer = officer
    }
}

/// Who a client proved to be.
public enum ClientIdentity: Sendable {
    /// The profile's shared password, with the user name the client gave.
    case sharedPassword(user: String)
    /// A one-time password (perhaps used already: then only its own request may be polled).
    case oneTimePassword(EnrollmentSecretRecord)
    /// A TLS client certificate that chains to one of the profile's anchors (an IDevID).
    case anchoredCertificate(Certificate)
    /// A TLS client certificate the profile's CA issued, valid and not revoked.
    case issuedCertificate(CertificateRecord)
    /// An officer's credential (`credential/<id>`), signed in to the console.
    case officer(String)

    /// How the audit log and the request records name the client.
    public var name: String {
        switch self {
        case .sharedPassword(let user): "password/\(user.isEmpty ? "-" : user)"
        case .oneTimePassword(let secret): "one-time/\(secret.id)" + (secret.label.map { " (\($0))" } ?? "")
        case .anchoredCertificate(let certificate):
            "certificate/\(DistinguishedNameText.format(certificate.subject))"
        case .issuedCertificate(let record): "certificate/\(record.issuer)/\(Hex.encode(record.serial))"
        case .officer(let actor): actor
        }
    }
}

extension EnrollmentService {
    /// Checks what the client presented against the profile: a certificate first (its key was proven in
    /// the TLS handshake), else a password. Refuses with `unauthenticated` when nothing fits.
    func authenticate(_ credentials: ClientCredentials, for profile: EnrollmentProfile, now: Date = Date())
        async throws(EnrollmentError) -> ClientIdentity
    {
        if let officer = credentials.officer { return .officer(officer) }
        if let secret = credentials.macSecret {
            return try secretIdentity(secret, user: credentials.username ?? "", profile, now: now)
        }
        var certificateProblem: EnrollmentError?
        if let leaf = credentials.certificateChain.first {
            do {
                return try await certificateIdentity(leaf, chain: credentials.certificateChain, profile, now: now)
            } catch {
                certificateProblem = error
            }
        }
        if let password = credentials.password {
            return try await passwordIdentity(user: credentials.username ?? "", password: password, profile, now: now)
        }
        if let certificateProblem { throw certificateProblem }
        throw EnrollmentError(
            .unauthenticated,
            "profile \(profile.id) needs a password or a TLS client certificate it trusts"
        )
    }

    private func certificateIdentity(
        _ leaf: Certificate,
        chain: [Certificate],
        _ profile: EnrollmentProfile,
        now: Date
    ) async throws(EnrollmentError) -> ClientIdentity {
        // A certificate of the profile's own CA: the stored record must be this very certificate.
        if let ca = try? await authority.authority(profile.ca), let caCertificate = ca.certificate,
            leaf.issuer == caCertificate.subject
        {
            let serial = Array(leaf.serialNumber.bytes)
            let record: CertificateRecord?
            let revoked: Bool
            do {
                (record, revoked) = try await store.read { reader in
                    (
                        try reader.certificate(issuer: profile.ca, serial: serial),
                        try reader.revocation(issuer: profile.ca, serial: serial) != nil
                    )
                }
            } catch {
                throw EnrollmentError.from(error)
            }
            if let record, (try? derBytes(leaf)) == record.der {
                guard !revoked else {
                    throw EnrollmentError(.forbidden, "the client certificate \(Hex.encode(serial)) is revoked")
                }
                guard leaf.notValidBefore <= now, now <= leaf.notValidAfter else {
                    throw EnrollmentError(.forbidden, "the client certificate \(Hex.encode(serial)) is not valid now")
                }
                return .issuedCertificate(record)
            }
        }
        let anchors = try profile.anchorCertificates()
        guard !anchors.isEmpty else {
            throw EnrollmentError(
                .forbidden,
                "the client certificate \(DistinguishedNameText.format(leaf.subject)) was not issued by CA "
                    + "\(profile.ca) and profile \(profile.id) trusts no other issuer"
            )
        }
        var verifier = Verifier(rootCertificates: CertificateStore(anchors)) {
            RFC5280Policy()
        }
        let result = await verifier.validate(leaf: leaf, intermediates: CertificateStore(Array(chain.dropFirst())))
        guard case .validCertificate = result else {
            throw EnrollmentError(
                .forbidden,
                "the client certificate \(DistinguishedNameText.format(leaf.subject)) does not chain to an anchor "
                    + "of profile \(profile.id), or is not valid now"
            )
        }
        return .anchoredCertificate(leaf)
    }

    private func passwordIdentity(user: String, password: String, _ profile: EnrollmentProfile, now: Date)
        async throws(EnrollmentError) -> ClientIdentity
    {
        let refused = EnrollmentError(.unauthenticated, "the password is not one profile \(profile.id) accepts")
        let secret: EnrollmentSecretRecord?
        do { secret = try await store.read { try $0.enrollmentSecret(secretHash: Self.sha256(password.utf8)) } } catch {
            throw EnrollmentError.from(error)
        }
        guard let secret, secret.profile == profile.id else { throw refused }
        return try secretIdentity(secret, user: user, profile, now: now)
    }

    /// The identity a secret of `profile` gives, if it has not expired and the profile accepts its kind.
    func secretIdentity(_ secret: EnrollmentSecretRecord, user: String, _ profile: EnrollmentProfile, now: Date)
        throws(EnrollmentError) -> ClientIdentity
    {
        let refused = EnrollmentError(.unauthenticated, "the secret is not one profile \(profile.id) accepts")
        guard secret.profile == profile.id else { throw refused }
        if let expires = secret.expires, Int64(now.timeIntervalSince1970 * 1e9) > expires {
            throw EnrollmentError(.unauthenticated, "the one-time password \(secret.id) has expired")
        }
        switch secret.kind {
        case .shared:
            guard profile.authentication.sharedPassword else { throw refused }
            return .sharedPassword(user: String(user.prefix(64)))
        case .oneTime:
            guard profile.authentication.oneTimePasswords else { throw refused }
            return .oneTimePassword(secret)
        }
    }
}
