/// An ACME account (RFC 8555 section 7.1.2) of an enrollment profile: its public key as a JWK, its
/// contacts and status. Found by id (the account URL's last segment) or by the key's RFC 7638
/// thumbprint within the profile.
public struct ACMEAccountRecord: StoredRecord, Hashable {
    public static let table = "acme-accounts"
    public static let formatVersions: ClosedRange<UInt8> = 1...1

    public enum Status: String, Sendable, Hashable, CaseIterable {
        case valid, deactivated, revoked
    }

    public var id: String
    public var profile: String
    /// The account key's JWK, canonical (RFC 7638 members only).
    public var key: String
    /// Base64url SHA-256 thumbprint of `key`.
    public var thumbprint: String
    public var status: Status
    /// `mailto:` URLs.
    public var contacts: [String]
    /// The external account key the account was bound to (RFC 8555 section 7.3.4), if any.
    public var externalAccountKey: String?
    /// Nanoseconds since 1970.
    public var created: Int64
    public var updated: Int64

    public init(
        id: String,
        profile: String,
        key: String,
        thumbprint: String,
        status: Status = .valid,
        contacts: [String],
        externalAccountKey: String? = nil,
        created: Int64,
        updated: Int64
    ) {
        self.id = id
        self.profile = profile
        self.key = key
        self.thumbprint = thumbprint
        self.status = status
        self.contacts = contacts
        self.externalAccountKey = externalAccountKey
        self.created = created
        self.updated = updated
    }

    public var primaryKey: Key { Self.key(id: id) }
    static func key(id: String) -> Key { Key().appending(id) }

    public var indexEntries: [IndexEntry] {
        [
            IndexEntry("thumbprint", Key().appending(profile).appending(thumbprint)),
            IndexEntry("profile", Key().appending(profile).appending(id)),
        ]
    }

    public func encode(into writer: inout RecordWriter) {
        writer.write(id)
        writer.write(profile)
        writer.write(key)
        writer.write(thumbprint)
        writer.write(status.rawValue)
        writer.write(contacts)
        writer.write(externalAccountKey)
        writer.write(created)
        writer.write(updated)
    }

    public init(from reader: inout RecordReader) throws(StoreError) {
        id = try reader.readString()
        profile = try reader.readString()
        key = try reader.readString()
        thumbprint = try reader.readString()
        status = try reader.readEnum(Status.self)
        contacts = try reader.readStrings()
        externalAccountKey = try reader.readOptionalString()
        created = try reader.readInt64()
        updated = try reader.readInt64()
    }
}

extension MetadataReading {
    /// The ACME account `id`.
    public func acmeAccount(id: String) throws -> ACMEAccountRecord? {
        try record(ACMEAccountRecord.self, key: ACMEAccountRecord.key(id: id))
    }

    /// The account of `profile` whose key has `thumbprint`.
    public func acmeAccount(profile: String, thumbprint: String) throws -> ACMEAccountRecord? {
        try records(
            ACMEAccountRecord.self,
            index: "thumbprint",
            value: Key().appending(profile).appending(thumbprint),
            limit: 1
        ).first
    }

    /// Accounts of `profile` in id order after `cursor`.
    public func acmeAccounts(profile: String, after cursor: String?, limit: Int) throws -> [ACMEAccountRecord] {
        let prefix = Key().appending(profile)
        let lower = cursor.map { prefix.appending($0) } ?? prefix
        return try keys(
            ACMEAccountRecord.self,
            index: "profile",
            from: lower,
            to: Key(bytes: prefix.prefixEnd ?? [0xFF]),
            limit: limit + 1
        )
        .filter { cursor == nil || $0 != ACMEAccountRecord.key(id: cursor!) }
        .prefix(limit)
        .compactMap { try record(ACMEAccountRecord.self, key: $0) }
    }
}
