public import CA
import Crypto
import Foundation
public import MetadataStore

/// Enrollment through standard protocols: named profiles, the secrets clients present, the enrollment
/// of a request (authenticate, check, issue or hold for approval) and officers' decisions. Protocol
/// endpoints (EST, SCEP) parse their messages and call `enroll`; every outcome is an audit entry that
/// names the profile, the client and what happened.
public final class EnrollmentService: Sendable {
    public let authority: CertificateAuthority
    var store: any MetadataBackend { authority.store }
    /// Profiles as decoded, by name, while no profile changes (every enrollment reads one).
    let profiles = ChangeStampedCache<String, EnrollmentProfile?>()
    /// The AES key in the HSM that seals the secrets CMP's MACs need.
    let secretSealingKey = TokenSecretKey(label: EnrollmentService.secretSealingKeyLabel)

    public init(authority: CertificateAuthority) { self.authority = authority }

    // MARK: Profiles

    /// The profile `id`.
    public func profile(_ id: String) async throws(EnrollmentError) -> EnrollmentProfile {
        let found: EnrollmentProfile?
        do {
            found = try await profiles.value(id, watching: EnrollmentProfileRecord.self, in: store) { reader in
                try reader.enrollmentProfile(id: id).map { try Self.decode($0) }
            }
        } catch {
            throw EnrollmentError.from(error)
        }
        guard let found else { throw EnrollmentError(.unknownProfile, "no enrollment profile is named \"\(id)\"") }
        return found
    }

    /// Profiles in name order after `cursor`.
    public func profiles(after cursor: String?, limit: Int) async throws(EnrollmentError) -> [EnrollmentProfile] {
        do {
            return try await store.read { try $0.enrollmentProfiles(after: cursor, limit: limit) }.map {
                try Self.decode($0)
            }
        } catch {
            throw EnrollmentError.from(error)
        }
    }

    /// Creates `profile`, or with `replacing` changes the existing one of that name.
    public func save(_ profile: EnrollmentProfile, replacing: Bool, requester: Requester) async throws(EnrollmentError)
        -> EnrollmentProfile
    {
        try profile.validate()
        let ca: Authority
        do { ca = try await authority.authority(profile.ca) } catch {
            throw EnrollmentError(.invalidInput, "ca: \(error.message)")
        }
        if ca.record.kind == .upstream, profile.protocols.contains(.scep) {
            // SCEP clients encrypt to the RA; an upstream CA's RA key only signs.
            throw EnrollmentError(
                .invalidInput,
                "protocols: CA \(profile.ca) is upstream, and SCEP needs an RA key that decrypts; offer EST, CMP or ACME"
            )
        }
        let record: EnrollmentProfileRecord
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            record = EnrollmentProfileRecord(
                id: profile.id,
                ca: profile.ca,
                document: Array(try encoder.encode(profile)),
                updated: Int64(Date().timeIntervalSince1970 * 1e9)
            )
        } catch {
            throw EnrollmentError(.internalError, "the profile cannot be encoded: \(error)")
        }
        do {
            try await store.write { txn in
                let exists = try txn.enrollmentProfile(id: record.id) != nil
                if exists && !replacing {
                    throw EnrollmentError(.profileExists, "an enrollment profile named \"\(record.id)\" exists already")
                }
                if !exists && replacing {
                    throw EnrollmentError(.unknownProfile, "no enrollment profile is named \"\(record.id)\"")
                }
                try txn.save(record)
                try txn.appendAudit(
                    AuditEvent(
                        actor: requester.actor,
                        action: replacing ? "enrollment.profile.update" : "enrollment.profile.create",
                        object: "enrollment-profile/\(record.id)",
                        outcome: "success: " + Self.summary(profile),
                        requestID: requester.requestID
                    )
                )
            }
        } catch {
            throw EnrollmentError.from(error)
        }
        return profile
    }

    /// Deletes the profile `id` and its secrets; requests waiting for approval under it are rejected.
    public func delete(_ id: String, requester: Requester) async throws(EnrollmentError) {
        do {
            try await store.write { txn in
                guard let existing = try txn.enrollmentProfile(id: id) else {
                    throw EnrollmentError(.unknownProfile, "no enrollment profile is named \"\(id)\"")
                }
                try txn.remove(EnrollmentProfileRecord.self, key: existing.primaryKey)
                var cursor: String?
                while true {
                    let pending = try txn.enrollmentRequests(state: .pending, after: cursor, limit: 1000)
                    for var request in pending where request.profile == id {
                        request.state = .rejected
                        request.reason = "the enrollment profile was deleted"
                        request.decidedBy = requester.actor
                        request.decided = Self.now()
                        try txn.save(request)
                    }
                    guard pending.count == 1000, let last = pending.last else { break }
                    cursor = last.id
                }
                for kind in EnrollmentSecretRecord.Kind.allCases {
                    for secret in try txn.enrollmentSecrets(profile: id, kind: kind) {
                        try txn.remove(EnrollmentSecretRecord.self, key: secret.primaryKey)
                    }
                }
                try txn.appendAudit(
                    AuditEvent(
                        actor: requester.actor,
                        action: "enrollment.profile.delete",
                        object: "enrollment-profile/\(id)",
                        outcome: "success",
                        requestID: requester.requestID
                    )
                )
            }
        } catch {
            throw EnrollmentError.from(error)
        }
    }

    static func decode(_ record: EnrollmentProfileRecord) throws -> EnrollmentProfile {
        try JSONDecoder().decode(EnrollmentProfile.self, from: Data(record.document))
    }

    /// A profile in one line for the audit log (anchors by count, not content).
    static func summary(_ profile: EnrollmentProfile) -> String {
        var parts = [
            "CA \(profile.ca)", profile.category.rawValue, profile.protocols.map(\.rawValue).joined(separator: "+"),
            "approval \(profile.approval.rawValue)",
        ]
        var methods: [String] = []
        if profile.authentication.sharedPassword { methods.append("shared password") }
        if profile.authentication.oneTimePasswords { methods.append("one-time passwords") }
        let anchors = profile.authentication.clientCertificateAnchors.count
        if anchors > 0 { methods.append("client certificates (\(anchors) anchors)") }
        parts.append("authentication: " + (methods.isEmpty ? "renewal only" : methods.joined(separator: ", ")))
        if let template = profile.subjectTemplate { parts.append("subject \(template)") }
        return parts.joined(separator: ", ")
    }

    // MARK: Helpers

    /// Random ids and secrets from the OS generator.
    static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1e9) }

    static func sha256(_ bytes: some Sequence<UInt8>) -> [UInt8] { Array(SHA256.hash(data: Array(bytes))) }
}
