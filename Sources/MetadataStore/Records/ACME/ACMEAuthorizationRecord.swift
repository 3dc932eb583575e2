/// An ACME authorization (RFC 8555 section 7.1.4): an account's proof, pending or done, that it controls
/// one identifier, and its challenges. All challenges of an authorization share one token; only the one
/// the client answered has a state of its own (the others stay pending).
public struct ACMEAuthorizationRecord: StoredRecord, Hashable {
    public static let table = "acme-authorizations"
    public static let formatVersions: ClosedRange<UInt8> = 1...1

    public enum Status: String, Sendable, Hashable, CaseIterable {
        case pending, valid, invalid, deactivated, expired, revoked
    }

    public enum ChallengeStatus: String, Sendable, Hashable, CaseIterable {
        case pending, processing, valid, invalid
    }

    public var id: String
    public var profile: String
    public var account: String
    /// `dns:<name>` (without `*.` for a wildcard) or `ip:<address>`.
    public var identifier: String
    public var wildcard: Bool
    public var status: Status
    /// Nanoseconds since 1970.
    public var expires: Int64
    /// Base64url, 32 random bytes.
    public var token: String
    /// The challenge types offered (`http-01`, `dns-01`, `tls-alpn-01`).
    public var challenges: [String]
    /// The challenge the client answered, and how that went.
    public var attempted: String?
    public var challengeStatus: ChallengeStatus
    /// When the challenge was validated (nanoseconds since 1970).
    public var validated: Int64?
    /// Why the challenge failed: a problem document (JSON).
    public var error: String?
    public var created: Int64

    public init(
        id: String,
        profile: String,
        account: String,
        identifier: String,
        wildcard: Bool,
        status: Status = .pending,
        expires: Int64,
        token: String,
        challenges: [String],
        attempted: String? = nil,
        challengeStatus: ChallengeStatus = .pending,
        validated: Int64? = nil,
        error: String? = nil,
        created: Int64
    ) {
        self.id = id
        self.profile = profile
        self.account = account
        self.identifier = identifier
        self.wildcard = wildcard
        self.status = status
        self.expires = expires
        self.token = token
        self.challenges = challenges
        self.attempted = attempted
        self.challengeStatus = challengeStatus
        self.validated = validated
        self.error = error
        self.created = created
    }

    public var primaryKey: Key { Self.key(id: id) }
    static func key(id: String) -> Key { Key().appending(id) }

    public var indexEntries: [IndexEntry] {
        [
            IndexEntry(
                "account-identifier",
                Key().appending(account).appending(identifier).appending(expires).appending(id)
            ),
            IndexEntry("expires", Key().appending(expires).appending(id)),
        ]
    }

    public func encode(into writer: inout RecordWriter) {
        writer.write(id)
        writer.write(profile)
        writer.write(account)
        writer.write(identifier)
        writer.write(wildcard)
        writer.write(status.rawValue)
        writer.write(expires)
        writer.write(token)
        writer.write(challenges)
        writer.write(attempted)
        writer.write(challengeStatus.rawValue)
        writer.write(validated)
        writer.write(error)
        writer.write(created)
    }

    public init(from reader: inout RecordReader) throws(StoreError) {
        id = try reader.readString()
        profile = try reader.readString()
        account = try reader.readString()
        identifier = try reader.readString()
        wildcard = try reader.readBool()
        status = try reader.readEnum(Status.self)
        expires = try reader.readInt64()
        token = try reader.readString()
        challenges = try reader.readStrings()
        attempted = try reader.readOptionalString()
        challengeStatus = try reader.readEnum(ChallengeStatus.self)
        validated = try reader.readOptionalInt64()
        error = try reader.readOptionalString()
        created = try reader.readInt64()
    }
}

extension MetadataReading {
    /// The ACME authorization `id`.
    public func acmeAuthorization(id: String) throws -> ACMEAuthorizationRecord? {
        try record(ACMEAuthorizationRecord.self, key: ACMEAuthorizationRecord.key(id: id))
    }

    /// Authorizations of `account` for `identifier` that expire after `after`, latest expiry last.
    public func acmeAuthorizations(account: String, identifier: String, expiringAfter after: Int64) throws
        -> [ACMEAuthorizationRecord]
    {
        let prefix = Key().appending(account).appending(identifier)
        return try keys(
            ACMEAuthorizationRecord.self,
            index: "account-identifier",
            from: prefix.appending(after),
            to: Key(bytes: prefix.prefixEnd ?? [0xFF]),
            limit: 100
        ).compactMap { try record(ACMEAuthorizationRecord.self, key: $0) }
    }

    /// Authorizations whose `expires` is before `before` (nanoseconds), soonest first.
    public func acmeAuthorizations(expiringBefore before: Int64, limit: Int) throws -> [ACMEAuthorizationRecord] {
        try keys(
            ACMEAuthorizationRecord.self,
            index: "expires",
            from: Key(),
            to: Key().appending(before),
            limit: limit
        ).compactMap { try record(ACMEAuthorizationRecord.self, key: $0) }
    }
}
