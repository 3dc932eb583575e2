import ACME
import Codecs
import Foundation
import HSM
public import MetadataStore

/// External Account Binding (RFC 8555 section 7.3.4): MAC keys an operator makes for a profile and
/// hands to a team, and the check of the binding a new account brings. The key's value exists in
/// Custos' memory only while it is made and answered once; it is kept wrapped under an AES key in the
/// HSM (`custos-acme-eab-kek`), and every HMAC is computed inside the token.
extension ACMEService {
    static let externalKeyKEKLabel = "custos-acme-eab-kek"

    /// Makes a key for `profile`; returns its record and the key (base64url), shown this once.
    public func createExternalKey(profile id: String, label: String?, requester: Requester)
        async throws(EnrollmentError)
        -> (record: ACMEExternalKeyRecord, key: String)
    {
        let profile = try await enrollment.profile(id)
        guard profile.protocols.contains(.acme) else {
            throw EnrollmentError(.invalidInput, "profile \(profile.id) does not offer ACME")
        }
        if let label, label.isEmpty || label.utf8.count > 128 {
            throw EnrollmentError(.invalidInput, "a label has 1 to 128 bytes")
        }
        var value = EnrollmentService.randomBytes(32)
        defer { for index in value.indices { value[index] = 0 } }
        // The answer's text first: the import wipes its template, which shares `value`'s storage.
        let text = Base64URL.encode(value)
        let record: ACMEExternalKeyRecord
        do {
            let kek = try await externalKeyKEK.reference(keyStore)
            let wrapped = try await keyStore.importPlaintextKey(
                value,
                spec: SecretKeySpec(keyType: .genericSecret, byteCount: 32),
                kek: kek
            )
            record = ACMEExternalKeyRecord(
                id: Base64URL.encode(EnrollmentService.randomBytes(12)),
                profile: profile.id,
                label: label,
                wrapped: wrapped,
                kek: kek.label,
                created: EnrollmentService.now()
            )
        } catch { throw EnrollmentError(.unavailable, "the HSM could not make the key: \(error)") }
        let event = AuditEvent(
            actor: requester.actor,
            action: "acme.external-key.create",
            object: "acme-external-key/\(record.id)",
            outcome: "success: profile \(profile.id)" + (label.map { ", for \($0)" } ?? ""),
            requestID: requester.requestID
        )
        do {
            try await store.write { txn in
                try txn.save(record)
                try txn.appendAudit(event)
            }
        } catch { throw EnrollmentError.from(error) }
        return (record, text)
    }

    /// The profile's external account keys (without their values, which Custos cannot show).
    public func externalKeys(profile id: String) async throws(EnrollmentError) -> [ACMEExternalKeyRecord] {
        _ = try await enrollment.profile(id)
        do { return try await store.read { try $0.acmeExternalKeys(profile: id) } } catch {
            throw EnrollmentError.from(error)
        }
    }

    /// Checks a new account's `externalAccountBinding` (a JWS MACed with HS256 by the key `kid`, over the
    /// account's JWK, for the newAccount URL); returns the key's id. The key must be the profile's and
    /// unbound.
    func checkExternalBinding(_ value: Any, accountKey: JWK, url: String, _ context: Context) async throws(ACMEProblem)
        -> String
    {
        guard let object = value as? [String: Any], let protected = object["protected"] as? String,
            let payload = object["payload"] as? String, let signature = object["signature"] as? String,
            let headerBytes = Base64URL.decode(protected),
            let header = try? JSONSerialization.jsonObject(with: Data(headerBytes)) as? [String: Any],
            let payloadBytes = Base64URL.decode(payload), let mac = Base64URL.decode(signature)
        else { throw ACMEProblem(.malformed, "externalAccountBinding is a flattened JWS") }
        guard header["alg"] as? String == "HS256" else {
            throw ACMEProblem(.badSignatureAlgorithm, "externalAccountBinding is MACed with HS256")
        }
        guard header["nonce"] == nil, header["url"] as? String == url, let kid = header["kid"] as? String else {
            throw ACMEProblem(.malformed, "externalAccountBinding names its key (kid) and this URL, and has no nonce")
        }
        guard let bound = try? JSONSerialization.jsonObject(with: Data(payloadBytes)) as? [String: Any],
            (try? JWK(json: bound)) == accountKey
        else { throw ACMEProblem(.malformed, "externalAccountBinding's payload is not the account's key") }
        guard let record = try await read({ try $0.acmeExternalKey(id: kid) }), record.profile == context.profile.id
        else {
            throw ACMEProblem(.unauthorized, "no external account key \(kid.prefix(64)) of this profile")
        }
        guard record.account == nil else {
            throw ACMEProblem(.unauthorized, "the external account key \(kid) is bound to an account already")
        }
        let expected: [UInt8]
        do {
            let kek = try await externalKeyKEK.reference(keyStore)
            expected = try await keyStore.hmacSHA256(
                wrapped: record.wrapped,
                kek: kek,
                data: Array(protected.utf8) + [UInt8(ascii: ".")] + Array(payload.utf8)
            )
        } catch { throw ACMEProblem(.serverInternal, "the HSM could not check the binding: \(error)", status: 503) }
        // Compared in time independent of where they differ.
        guard expected.count == mac.count, zip(expected, mac).reduce(UInt8(0), { $0 | ($1.0 ^ $1.1) }) == 0 else {
            throw ACMEProblem(.unauthorized, "the externalAccountBinding MAC does not verify")
        }
        return kid
    }

    var keyStore: KeyStore { enrollment.authority.signing.keyStore }
}
