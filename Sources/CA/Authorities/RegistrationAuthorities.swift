import Codecs
import CustosX509
import Foundation
public import MetadataStore
import Signing
import X509

/// SCEP registration authorities (RFC 8894 section 2.1): for each CA that enrolls over SCEP, an RSA-2048
/// key in the HSM that may sign and unwrap (never decrypt out of the token), and a certificate the CA
/// issues for it (category `registration-authority`: digitalSignature and keyEncipherment, EKU
/// id-kp-cmcRA). Clients encrypt their requests to it and verify the CertReps it signs.
extension CertificateAuthority {
    /// A certificate with less than this left is replaced at the next use.
    static let registrationAuthorityRenewalSeconds: Int64 = 30 * 86_400

    /// The key name of `ca`'s RA key of `generation`: `custos-scep-ra-<ca>-g<n>`.
    static func registrationAuthorityKeyName(ca: String, generation: Int64) -> String {
        "custos-scep-ra-\(ca)-g\(generation)"
    }

    /// The CA's current registration authority, made or replaced first when it has none, its certificate
    /// ends within 30 days, or the CA's key has changed since it was issued. The previous key is kept for
    /// one generation (a request encrypted to it while it was replaced still opens).
    public func registrationAuthority(ca id: String, requester: Requester) async throws(CAError)
        -> RegistrationAuthorityRecord
    {
        if let link = try await authority(id).record.upstream { return try upstreamRegistrationAuthority(ca: id, link) }
        if let current = try await currentRegistrationAuthority(ca: id) { return current }
        // Missing or due: one caller makes it; the others find it made when their turn comes.
        return try await creations.run("scep-ra/\(id)") { () async throws(CAError) in
            if let current = try await currentRegistrationAuthority(ca: id) { return current }
            return try await makeRegistrationAuthority(ca: id, requester: requester)
        }
    }

    /// The CA's RA if it has one that needs no replacing.
    private func currentRegistrationAuthority(ca id: String) async throws(CAError) -> RegistrationAuthorityRecord? {
        let authority = try await authority(id)
        let current: RegistrationAuthorityRecord?
        do { current = try await store.read { try $0.registrationAuthority(ca: id) } } catch {
            throw CAError.from(error)
        }
        let now = Int64(Date().timeIntervalSince1970)
        guard let current, current.caKeyName == authority.keyName,
            current.notAfter - now > Self.registrationAuthorityRenewalSeconds
        else { return nil }
        return current
    }

    private func makeRegistrationAuthority(ca id: String, requester: Requester) async throws(CAError)
        -> RegistrationAuthorityRecord
    {
        let authority = try await authority(id)
        let current: RegistrationAuthorityRecord?
        do { current = try await store.read { try $0.registrationAuthority(ca: id) } } catch {
            throw CAError.from(error)
        }
        try authority.requireUsable()
        guard let caKeyName = authority.keyName else { throw CAError(.caNotUsable, "CA \(id) cannot sign") }
        let generation = (current?.generation ?? 0) + 1
        let name = Self.registrationAuthorityKeyName(ca: id, generation: generation)
        do {
            let key: SigningKey
            if let leftover = try? await signing.keys.serviceKey(name) {
                key = leftover  // made by an attempt that failed before storing its record
            } else {
                key = try await signing.keys.createServiceKey(
                    name: name,
                    algorithm: .rsa2048,
                    requester: requester,
                    unwraps: true
                )
            }
            let issued = try await keep(
                try await sign(
                    ca: id,
                    subject: CertifiedSubject(
                        name: try DistinguishedName { CommonName("\(id) SCEP RA \(generation)") },
                        publicKey: try privateKey(key).publicKey,
                        alternativeNames: []
                    ),
                    category: .registrationAuthority,
                    validityDays: 365,
                    metadata: ["scep-ra-key": name],
                    requester: requester,
                    action: "scep.ra.issue",
                    cutToIssuer: true
                )
            )
            let record = RegistrationAuthorityRecord(
                ca: id,
                generation: generation,
                keyName: name,
                caKeyName: caKeyName,
                certificate: issued.record.der,
                notAfter: issued.record.notAfter / 1_000_000_000,
                previousKeyName: current?.keyName
            )
            let stored: RegistrationAuthorityRecord = try await store.write { txn in
                // Another request made one meanwhile: keep it, not two.
                let latest = try txn.registrationAuthority(ca: id)
                guard latest?.generation == current?.generation else { return latest ?? record }
                try txn.save(record)
                try txn.appendAudit(
                    AuditEvent(
                        actor: requester.actor,
                        action: "scep.ra.rotate",
                        object: "ca/\(id)",
                        outcome: "success: RA \(generation) (key \(name), certificate "
                            + "\(Hex.encode(issued.record.serial)))"
                            + (current.map { " replaces RA \($0.generation)" } ?? ""),
                        requestID: requester.requestID
                    )
                )
                return record
            }
            if stored.keyName != name {
                _ = try? await signing.keys.destroyServiceKey(name, requester: requester)
            } else if let retired = current?.previousKeyName, await (try? signing.keys.serviceKey(retired)) != nil {
                try await signing.keys.destroyServiceKey(retired, requester: requester)
            }
            return stored
        } catch {
            throw CAError.from(error)
        }
    }

    /// An upstream CA's registration authority is the one Custos is toward it: its key (made for
    /// signing only, so it signs CMP answers but opens no SCEP envelope) and the upstream's certificate.
    private func upstreamRegistrationAuthority(ca id: String, _ link: UpstreamLink) throws(CAError)
        -> RegistrationAuthorityRecord
    {
        guard let der = link.raCertificate, let certificate = try? ParsedCertificates.certificate(der) else {
            throw CAError(.caNotUsable, "CA \(id) waits for the certificate of its registration authority")
        }
        return RegistrationAuthorityRecord(
            ca: id,
            generation: 0,
            keyName: link.raKeyName,
            caKeyName: "",
            certificate: der,
            notAfter: Int64(certificate.notValidAfter.timeIntervalSince1970)
        )
    }
}
