/// An External Account Binding key of an ACME profile (RFC 8555 section 7.3.4): the MAC key an
/// operator hands to a team so that its ACME client may open one account. The key is stored only
/// wrapped under an AES key in the HSM; HMACs are computed inside the token.
public struct ACMEExternalKeyRecord: StoredRecord, Hashable {
    public static let table = "acme-external-keys"
    public static let formatVersions: ClosedRange<UInt8> = 1...1

    /// The key identifier clients send as `kid`.
    public var id: String
    public var profile: String
    /// Who it is for.
    public var label: String?
    /// The HMAC-SHA-256 key, wrapped with `CKM_AES_KEY_WRAP_PAD` under `kek`.
    public var wrapped: [UInt8]
    /// The label of the key-encryption key in the token.
    public var kek: String
    public var created: Int64
    /// The account it was bound to; a key binds one account.
    public var account: String?

    public init(
        id: String,
        profile: String,
        label: String?,
        wrapped: [UInt8],
        kek: String,
        created: Int64,
        account: String? = nil
    ) {
        self.id = id
        self.profile = profile
        self.label = label
        self.wrapped = wrapped
        self.kek = kek
        self.created = created
        self.account = account
    }

    public var primaryKey: Key { Self.key(id: id) }
    static func key(id: String) -> Key { Key().appending(id) }
    public var indexEntries: [IndexEntry] { [IndexEntry("profile", Key().appending(profile).appending(id))] }

    public func encode(into writer: inout RecordWriter) {
        writer.write(id)
        writer.write(profile)
        writer.write(label)
        writer.write(wrapped)
        writer.write(kek)
        writer.write(created)
        writer.write(account)
    }

    public init(from reader: inout RecordReader) throws(StoreError) {
        id = try reader.readString()
        profile = try reader.readString()
        label = try reader.readOptionalString()
        wrapped = try reader.readBytes()
        kek = try reader.readString()
        created = try reader.readInt64()
        account = try reader.readOptionalString()
    }
}

extension MetadataReading {
    /// The external account key `id`.
    public func acmeExternalKey(id: String) throws -> ACMEExternalKeyRecord? {
        try record(ACMEExternalKeyRecord.self, key: ACMEExternalKeyRecord.key(id: id))
    }

    /// The external account keys of `profile`, in id order.
    public func acmeExternalKeys(profile: String) throws -> [ACMEExternalKeyRecord] {
        try records(ACMEExternalKeyRecord.self, index: "profile", value: Key().appending(profile))
    }
}
