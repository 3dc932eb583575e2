/// An ACME order (RFC 8555 section 7.1.3): the identifiers an account wants certified, the
/// authorizations that prove control of them, and, once finalized, the certificate.
public struct ACMEOrderRecord: StoredRecord, Hashable {
    public static let table = "acme-orders"
    public static let formatVersions: ClosedRange<UInt8> = 1...1

    public enum Status: String, Sendable, Hashable, CaseIterable {
        case pending, ready, processing, valid, invalid
    }

    public var id: String
    public var profile: String
    public var account: String
    public var status: Status
    /// `dns:<name>` or `ip:<address>`, in the order asked for.
    public var identifiers: [String]
    /// Ids of the authorizations, one per identifier, in the same order.
    public var authorizations: [String]
    /// Nanoseconds since 1970: a pending or ready order is invalid after this.
    public var expires: Int64
    /// The validity the client asked for (nanoseconds), if any.
    public var notBefore: Int64?
    public var notAfter: Int64?
    /// Why the order is invalid: a problem document (JSON).
    public var error: String?
    /// The issued certificate's serial (hex) at the profile's CA.
    public var serial: String?
    /// The ARI certificate id (RFC 9773 section 5) of the certificate this order replaces.
    public var replaces: String?
    public var created: Int64

    public init(
        id: String,
        profile: String,
        account: String,
        status: Status = .pending,
        identifiers: [String],
        authorizations: [String],
        expires: Int64,
        notBefore: Int64? = nil,
        notAfter: Int64? = nil,
        error: String? = nil,
        serial: String? = nil,
        replaces: String? = nil,
        created: Int64
    ) {
        self.id = id
        self.profile = profile
        self.account = account
        self.status = status
        self.identifiers = identifiers
        self.authorizations = authorizations
        self.expires = expires
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.error = error
        self.serial = serial
        self.replaces = replaces
        self.created = created
    }

    public var primaryKey: Key { Self.key(id: id) }
    static func key(id: String) -> Key { Key().appending(id) }

    public var indexEntries: [IndexEntry] {
        var entries = [
            IndexEntry("account", Key().appending(account).appending(created).appending(id)),
            IndexEntry("expires", Key().appending(expires).appending(id)),
        ]
        for identifier in Set(identifiers) {
            entries.append(
                IndexEntry(
                    "identifier",
                    Key().appending(profile).appending(identifier).appending(created).appending(id)
                )
            )
        }
        return entries
    }

    public func encode(into writer: inout RecordWriter) {
        writer.write(id)
        writer.write(profile)
        writer.write(account)
        writer.write(status.rawValue)
        writer.write(identifiers)
        writer.write(authorizations)
        writer.write(expires)
        writer.write(notBefore)
        writer.write(notAfter)
        writer.write(error)
        writer.write(serial)
        writer.write(replaces)
        writer.write(created)
    }

    public init(from reader: inout RecordReader) throws(StoreError) {
        id = try reader.readString()
        profile = try reader.readString()
        account = try reader.readString()
        status = try reader.readEnum(Status.self)
        identifiers = try reader.readStrings()
        authorizations = try reader.readStrings()
        expires = try reader.readInt64()
        notBefore = try reader.readOptionalInt64()
        notAfter = try reader.readOptionalInt64()
        error = try reader.readOptionalString()
        serial = try reader.readOptionalString()
        replaces = try reader.readOptionalString()
        created = try reader.readInt64()
    }
}

extension MetadataReading {
    /// The ACME order `id`.
    public func acmeOrder(id: String) throws -> ACMEOrderRecord? {
        try record(ACMEOrderRecord.self, key: ACMEOrderRecord.key(id: id))
    }

    /// Orders of `account` created at or after `since` (nanoseconds), oldest first, at most `limit`.
    public func acmeOrders(account: String, since: Int64 = .min, limit: Int) throws -> [ACMEOrderRecord] {
        let prefix = Key().appending(account)
        return try keys(
            ACMEOrderRecord.self,
            index: "account",
            from: prefix.appending(since),
            to: Key(bytes: prefix.prefixEnd ?? [0xFF]),
            limit: limit
        ).compactMap { try record(ACMEOrderRecord.self, key: $0) }
    }

    /// How many orders of `profile` name `identifier` (`dns:…`, `ip:…`) and were created at or after
    /// `since`, counting up to `limit`.
    public func acmeOrderCount(profile: String, identifier: String, since: Int64, limit: Int) throws -> Int {
        let prefix = Key().appending(profile).appending(identifier)
        return try keys(
            ACMEOrderRecord.self,
            index: "identifier",
            from: prefix.appending(since),
            to: Key(bytes: prefix.prefixEnd ?? [0xFF]),
            limit: limit
        ).count
    }

    /// Orders whose `expires` is before `before` (nanoseconds), soonest first.
    public func acmeOrders(expiringBefore before: Int64, limit: Int) throws -> [ACMEOrderRecord] {
        try keys(
            ACMEOrderRecord.self,
            index: "expires",
            from: Key(),
            to: Key().appending(before),
            limit: limit
        ).compactMap { try record(ACMEOrderRecord.self, key: $0) }
    }
}
