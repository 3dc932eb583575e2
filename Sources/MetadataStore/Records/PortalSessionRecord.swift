/// A self-service portal session: a person who signed in with an enrollment password of a profile (a
/// one-time password, or the shared one with a user name). As with console sessions the browser holds a
/// random secret and the store only its SHA-256; the password itself is never kept, only the id of the
/// enrollment secret it matched, which each request is checked against again.
public struct PortalSessionRecord: StoredRecord, Hashable {
    public static let table = "portal-sessions"
    public static let formatVersions: ClosedRange<UInt8> = 1...1

    /// SHA-256 of the cookie's secret.
    public var secretHash: [UInt8]
    public var profile: String
    /// The enrollment secret the person signed in with (`EnrollmentSecretRecord.id`).
    public var enrollmentSecretID: String
    /// The user name given with a shared password ("" for a one-time password).
    public var user: String
    public var csrfToken: String
    /// Nanoseconds since 1970.
    public var created: Int64
    public var lastSeen: Int64

    public init(
        secretHash: [UInt8],
        profile: String,
        enrollmentSecretID: String,
        user: String,
        csrfToken: String,
        created: Int64,
        lastSeen: Int64
    ) {
        self.secretHash = secretHash
        self.profile = profile
        self.enrollmentSecretID = enrollmentSecretID
        self.user = user
        self.csrfToken = csrfToken
        self.created = created
        self.lastSeen = lastSeen
    }

    public var primaryKey: Key { Self.key(secretHash: secretHash) }
    public var indexEntries: [IndexEntry] { [] }

    static func key(secretHash: [UInt8]) -> Key {
        var key = Key()
        key.append(bytes: secretHash)
        return key
    }

    public func encode(into writer: inout RecordWriter) {
        writer.write(secretHash)
        writer.write(profile)
        writer.write(enrollmentSecretID)
        writer.write(user)
        writer.write(csrfToken)
        writer.write(created)
        writer.write(lastSeen)
    }

    public init(from reader: inout RecordReader) throws(StoreError) {
        secretHash = try reader.readBytes()
        guard secretHash.count == 32 else {
            throw StoreError(code: .invalidData, reason: "malformed record: a portal session hash has 32 bytes")
        }
        profile = try reader.readString()
        enrollmentSecretID = try reader.readString()
        user = try reader.readString()
        csrfToken = try reader.readString()
        created = try reader.readInt64()
        lastSeen = try reader.readInt64()
    }
}

extension MetadataReading {
    /// The portal session whose cookie secret hashes to `secretHash`.
    public func portalSession(secretHash: [UInt8]) throws -> PortalSessionRecord? {
        try record(PortalSessionRecord.self, key: PortalSessionRecord.key(secretHash: secretHash))
    }

    /// Portal sessions in key order after `after`, at most `limit` (for removing expired ones).
    public func portalSessions(after: PortalSessionRecord?, limit: Int) throws -> [PortalSessionRecord] {
        try records(PortalSessionRecord.self, after: after?.primaryKey, limit: limit)
    }
}

extension MetadataWriting {
    /// Removes a portal session; returns whether it existed.
    @discardableResult
    public func removePortalSession(secretHash: [UInt8]) throws -> Bool {
        try remove(PortalSessionRecord.self, key: PortalSessionRecord.key(secretHash: secretHash))
    }
}
