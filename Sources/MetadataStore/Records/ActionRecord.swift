/// A triggered action: what an external system may set off through `POST /v1/actions/{name}/run` (a
/// bulk revocation of the certificates whose metadata matches its parameters). The Notifications
/// module encodes it as a JSON document.
public struct ActionRecord: StoredRecord, Hashable {
    public static let table = "actions"
    public static let formatVersions: ClosedRange<UInt8> = 1...1

    public var name: String
    /// The tenant of its CA.
    public var tenant: String
    public var document: [UInt8]
    public var updated: Int64

    public init(name: String, tenant: String, document: [UInt8], updated: Int64) {
        self.name = name
        self.tenant = tenant
        self.document = document
        self.updated = updated
    }

    public var primaryKey: Key { Key().appending(name) }
    public var indexEntries: [IndexEntry] { [] }

    public func encode(into writer: inout RecordWriter) {
        writer.write(name)
        writer.write(tenant)
        writer.write(document)
        writer.write(updated)
    }

    public init(from reader: inout RecordReader) throws(StoreError) {
        name = try reader.readString()
        tenant = try reader.readString()
        document = try reader.readBytes()
        updated = try reader.readInt64()
    }
}

extension MetadataReading {
    public func action(_ name: String) throws -> ActionRecord? {
        try record(ActionRecord.self, key: Key().appending(name))
    }
}

extension MetadataWriting {
    @discardableResult
    public func removeAction(_ name: String) throws -> Bool {
        try remove(ActionRecord.self, key: Key().appending(name))
    }
}
