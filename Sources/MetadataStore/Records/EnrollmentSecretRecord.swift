/// A secret an enrolling client presents: a profile's shared password or a one-time password for one
/// device (an EST Basic password, a SCEP challenge password, a CMP shared secret). A SHA-256 of the
/// secret is kept to recognise it; for a profile that offers CMP, whose MACs need the secret itself, it
/// is also kept sealed (AES-GCM under a key in the HSM). Secrets are random and long, made by Custos and
/// shown once.
public struct EnrollmentSecretRecord: StoredRecord, Hashable {
    public static let table = "enrollment-secrets"
    public static let formatVersions: ClosedRange<UInt8> = 1...2

    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// The profile's password, usable until replaced.
        case shared
        /// Usable for one enrollment (and to poll for that enrollment's approval).
        case oneTime = "one-time"
    }

    public var id: String
    public var profile: String
    public var kind: Kind
    /// SHA-256 of the secret.
    public var secretHash: [UInt8]
    /// Who the secret is for (a device name, a serial number); shown in audit entries.
    public var label: String?
    public var created: Int64
    /// Not accepted after this time (nanoseconds since 1970).
    public var expires: Int64?
    /// When a one-time secret was used; nil while unused.
    public var used: Int64?
    /// The secret sealed for CMP's MACs: IV (12 bytes) ‖ ciphertext ‖ tag (16 bytes), under the AES key
    /// `sealingKey` names; nil for profiles without CMP (format 2).
    public var sealed: [UInt8]?
    public var sealingKey: String?

    public init(
        id: String,
        profile: String,
        kind: Kind,
        secretHash: [UInt8],
        label: String?,
        created: Int64,
        expires: Int64?,
        used: Int64?,
        sealed: [UInt8]? = nil,
        sealingKey: String? = nil
    ) {
        self.sealed = sealed
        self.sealingKey = sealingKey
        self.id = id
        self.profile = profile
        self.kind = kind
        self.secretHash = secretHash
        self.label = label
        self.created = created
        self.expires = expires
        self.used = used
    }

    public var primaryKey: Key { Self.key(id: id) }
    static func key(id: String) -> Key { Key().appending(id) }

    public var indexEntries: [IndexEntry] {
        var hash = Key()
        hash.append(bytes: secretHash)
        return [
            IndexEntry("secret-hash", hash), IndexEntry("profile", Key().appending(profile).appending(kind.rawValue)),
        ]
    }

    public func encode(into writer: inout RecordWriter) {
        writer.write(id)
        writer.write(profile)
        writer.write(kind.rawValue)
        writer.write(secretHash)
        writer.write(label)
        writer.write(created)
        writer.write(expires)
        writer.write(used)
        writer.write(sealed)
        writer.write(sealingKey)
    }

    public init(from reader: inout RecordReader) throws(StoreError) {
        id = try reader.readString()
        profile = try reader.readString()
        kind = try reader.readEnum(Kind.self)
        secretHash = try reader.readBytes()
        guard secretHash.count == 32 else {
            throw StoreError(code: .invalidData, reason: "malformed record: an enrollment secret hash has 32 bytes")
        }
        label = try reader.readOptionalString()
        created = try reader.readInt64()
        expires = try reader.readOptionalInt64()
        used = try reader.readOptionalInt64()
        if reader.formatVersion >= 2 {
            sealed = try reader.readOptionalBytes()
            sealingKey = try reader.readOptionalString()
        }
    }
}

extension MetadataReading {
    /// The enrollment secret `id`.
    public func enrollmentSecret(id: String) throws -> EnrollmentSecretRecord? {
        try record(EnrollmentSecretRecord.self, key: EnrollmentSecretRecord.key(id: id))
    }

    /// The enrollment secret whose value hashes to `secretHash`.
    public func enrollmentSecret(secretHash: [UInt8]) throws -> EnrollmentSecretRecord? {
        var hash = Key()
        hash.append(bytes: secretHash)
        return try records(EnrollmentSecretRecord.self, index: "secret-hash", value: hash, limit: 1).first
    }

    /// The secrets of `kind` of `profile`.
    public func enrollmentSecrets(profile: String, kind: EnrollmentSecretRecord.Kind) throws
        -> [EnrollmentSecretRecord]
    {
        try records(
            EnrollmentSecretRecord.self,
            index: "profile",
            value: Key().appending(profile).appending(kind.rawValue)
        )
    }
}
