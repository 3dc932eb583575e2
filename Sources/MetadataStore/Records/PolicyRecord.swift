/// An issuance policy: its rules travel as the CA module's own encoded document; the store indexes
/// it by CA and certificate category.
public struct PolicyRecord: StoredRecord, Hashable {
    public static let table = "policies"
    public static let formatVersions: ClosedRange<UInt8> = 1...1
    /// Read on every request that uses it; readers cache it by change stamp.
    public static let tracksChanges = true

    public var id: String
    /// The CA it applies to; nil for a policy shared by every CA of the tenant.
    public var ca: String?
    /// `tls-server`, `tls-client`, `device`, `user`, `code-signing`, `ocsp-signing`.
    public var category: String
    /// The policy document as the CA module encodes it.
    public var document: [UInt8]
    public var updated: Int64

    public init(id: String, ca: String?, category: String, document: [UInt8], updated: Int64) {
        self.id = id
        self.ca = ca
        self.category = category
        self.document = document
        self.updated = updated
    }

    public var primaryKey: Key { Key().appending(id) }

    static func caCategoryValue(ca: String?, category: String) -> Key { Key().appending(ca ?? "").appending(category) }
    public var indexEntries: [IndexEntry] {
        [IndexEntry("ca-category", Self.caCategoryValue(ca: ca, category: category))]
    }

    public func encode(into writer: inout RecordWriter) {
        writer.write(id)
        writer.write(ca)
        writer.write(category)
        writer.write(document)
        writer.write(updated)
    }

    public init(from reader: inout RecordReader) throws(StoreError) {
        id = try reader.readString()
        ca = try reader.readOptionalString()
        category = try reader.readString()
        document = try reader.readBytes()
        updated = try reader.readInt64()
    }
}

extension MetadataReading {
    /// The policy of `ca` for `category`; with `ca` nil, the one for every CA.
    public func policy(ca: String?, category: String) throws -> PolicyRecord? {
        try records(
            PolicyRecord.self,
            index: "ca-category",
            value: PolicyRecord.caCategoryValue(ca: ca, category: category),
            limit: 1
        )
        .first
    }
}
