import Foundation
public import MetadataStore

/// The secrets clients present: a profile's shared password and one-time passwords for single devices.
///
/// Custos makes every secret (120 random bits as 24 characters of `a-z 2-7` in groups of six joined by
/// `-`, which fits a SCEP challengePassword's PrintableString) and shows it once; the store keeps its
/// SHA-256 only. A secret chosen by people would need a slow hash, and a slow hash on every enrollment
/// would cost more than the certificate.
extension EnrollmentService {
    /// A secret and its record; the secret is not kept.
    public struct NewSecret: Sendable {
        public let record: EnrollmentSecretRecord
        public let secret: String
    }

    /// Makes a new shared password for `profile`, replacing the one it had.
    public func rotateSharedPassword(profile id: String, requester: Requester) async throws(EnrollmentError)
        -> NewSecret
    {
        let profile = try await profile(id)
        guard profile.authentication.sharedPassword else {
            throw EnrollmentError(
                .invalidInput,
                "profile \(id) does not accept a shared password (authentication.sharedPassword is false)"
            )
        }
        return try await create(
            profile: id,
            kind: .shared,
            label: nil,
            expires: nil,
            sealed: profile.protocols.contains(.cmp),
            requester: requester
        )
    }

    /// Makes a one-time password of `profile` for one device, valid for `validHours`.
    public func createOneTimePassword(
        profile id: String,
        label: String?,
        validHours: Int,
        requester: Requester
    ) async throws(EnrollmentError) -> NewSecret {
        let profile = try await profile(id)
        guard profile.authentication.oneTimePasswords else {
            throw EnrollmentError(
                .invalidInput,
                "profile \(id) does not accept one-time passwords (authentication.oneTimePasswords is false)"
            )
        }
        guard (1...8760).contains(validHours) else {
            throw EnrollmentError(.invalidInput, "validHours must be from 1 to 8760 (a year)")
        }
        if let label,
            label.isEmpty || label.utf8.count > 128 || label.unicodeScalars.contains(where: { $0.value < 0x20 })
        {
            throw EnrollmentError(.invalidInput, "label has 1 to 128 printable characters")
        }
        let expires = Self.now() + Int64(validHours) * 3_600_000_000_000
        return try await create(
            profile: id,
            kind: .oneTime,
            label: label,
            expires: expires,
            sealed: profile.protocols.contains(.cmp),
            requester: requester
        )
    }

    /// The one-time passwords of `profile` (used or not), newest first.
    public func oneTimePasswords(profile id: String) async throws(EnrollmentError) -> [EnrollmentSecretRecord] {
        _ = try await profile(id)
        do {
            return try await store.read { try $0.enrollmentSecrets(profile: id, kind: .oneTime) }.sorted {
                $0.created > $1.created
            }
        } catch {
            throw EnrollmentError.from(error)
        }
    }

    /// Withdraws a secret of `profile` before it is used.
    public func deleteSecret(profile id: String, secret secretID: String, requester: Requester)
        async throws(EnrollmentError)
    {
        do {
            try await store.write { txn in
                guard let secret = try txn.enrollmentSecret(id: secretID), secret.profile == id else {
                    throw EnrollmentError(.unknownRequest, "profile \(id) has no secret \(secretID)")
                }
                try txn.remove(EnrollmentSecretRecord.self, key: secret.primaryKey)
                try txn.appendAudit(
                    AuditEvent(
                        actor: requester.actor,
                        action: "enrollment.secret.delete",
                        object: "enrollment-profile/\(id)/secret/\(secretID)",
                        outcome: "success",
                        requestID: requester.requestID
                    )
                )
            }
        } catch {
            throw EnrollmentError.from(error)
        }
    }

    private func create(
        profile id: String,
        kind: EnrollmentSecretRecord.Kind,
        label: String?,
        expires: Int64?,
        sealed: Bool,
        requester: Requester
    ) async throws(EnrollmentError) -> NewSecret {
        let secret = Self.makeSecret()
        var made = EnrollmentSecretRecord(
            id: Self.randomBytes(8).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(),
            profile: id,
            kind: kind,
            secretHash: Self.sha256(secret.utf8),
            label: label,
            created: Self.now(),
            expires: expires,
            used: nil
        )
        if sealed {
            var plaintext = Array(secret.utf8)
            defer { for index in plaintext.indices { plaintext[index] = 0 } }
            do {
                let keyStore = authority.signing.keyStore
                let key = try await secretSealingKey.reference(keyStore)
                let iv = try await keyStore.random(12)
                let box = try await keyStore.encryptGCM(
                    key,
                    iv: iv,
                    additionalData: Self.sealingContext(made),
                    plaintext: plaintext
                )
                made.sealed = iv + box.ciphertext + box.tag
                made.sealingKey = key.label
            } catch {
                throw EnrollmentError(.unavailable, "the HSM could not seal the secret: \(error)")
            }
        }
        let record = made
        do {
            try await store.write { txn in
                guard try txn.enrollmentProfile(id: id) != nil else {
                    throw EnrollmentError(.unknownProfile, "no enrollment profile is named \"\(id)\"")
                }
                if kind == .shared {
                    for old in try txn.enrollmentSecrets(profile: id, kind: .shared) {
                        try txn.remove(EnrollmentSecretRecord.self, key: old.primaryKey)
                    }
                }
                try txn.save(record)
                try txn.appendAudit(
                    AuditEvent(
                        actor: requester.actor,
                        action: kind == .shared ? "enrollment.password.rotate" : "enrollment.one-time-password.create",
                        object: "enrollment-profile/\(id)/secret/\(record.id)",
                        outcome: "success" + (label.map { ": for \($0)" } ?? ""),
                        requestID: requester.requestID
                    )
                )
            }
        } catch {
            throw EnrollmentError.from(error)
        }
        return NewSecret(record: record, secret: secret)
    }

    /// The label of the AES key that seals secrets of profiles offering CMP.
    static let secretSealingKeyLabel = "custos-enrollment-secret-kek"

    /// What a sealed secret is bound to: its id and profile (a sealed value moved to another record
    /// does not open).
    static func sealingContext(_ record: EnrollmentSecretRecord) -> [UInt8] {
        Array("custos-enrollment-secret/\(record.profile)/\(record.id)".utf8)
    }

    /// The value of a sealed secret, opened in the HSM; the caller wipes it as soon as it has used it.
    func openSealedSecret(_ record: EnrollmentSecretRecord) async throws(EnrollmentError) -> [UInt8] {
        guard let sealed = record.sealed, sealed.count > 28, let label = record.sealingKey else {
            throw EnrollmentError(
                .unauthenticated,
                "secret \(record.id) was made before profile \(record.profile) offered CMP; make a new one"
            )
        }
        do {
            let keyStore = authority.signing.keyStore
            let found =
                label == secretSealingKey.label
                ? try await secretSealingKey.existing(keyStore) : try await keyStore.findSecretKey(label: label)
            guard let key = found else {
                throw EnrollmentError(.internalError, "the sealing key \(label) is not in the token")
            }
            return try await keyStore.decryptGCM(
                key,
                iv: Array(sealed.prefix(12)),
                additionalData: Self.sealingContext(record),
                ciphertext: Array(sealed.dropFirst(12).dropLast(16)),
                tag: Array(sealed.suffix(16))
            )
        } catch let error as EnrollmentError {
            throw error
        } catch {
            throw EnrollmentError(.unavailable, "the HSM could not open secret \(record.id): \(error)")
        }
    }

    /// 24 characters of `a-z 2-7` (120 bits) in four groups of six.
    static func makeSecret() -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567")
        var generator = SystemRandomNumberGenerator()
        let characters = (0..<24).map { _ in alphabet[Int.random(in: 0..<32, using: &generator)] }
        return stride(from: 0, to: 24, by: 6).map { String(characters[$0..<($0 + 6)]) }.joined(separator: "-")
    }
}
