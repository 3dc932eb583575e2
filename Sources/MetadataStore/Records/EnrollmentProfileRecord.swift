/// An enrollment profile: what a protocol endpoint (`/.well-known/est/<id>/`, `/scep/<id>`) may do. Its
/// rules travel as the Enrollment module's own encoded document, as a policy's do.
public struct EnrollmentProfileRecord: StoredRecord, Hashable {
    public static let table = "enrollment-profiles"
    public static let formatVersions: ClosedRange<UInt8> = 1...1
    /// Read on every enrollment request; readers cache it by change stamp.
    public static let tracksChanges = true

    /// The profile's label, as it appears in URLs.
    public var id: String
    /// The CA that issues under it (indexed: a CA with profiles is not deleted from under them).
    public var ca: String
    /// The profile document as the Enrollment module encodes it.
    public var document: [UInt8]
    public var updated: Int64

    public init(id: String, ca: String, document: [UInt8], updated: Int64) {
        self.id = id
        self.ca = ca
        self.document = document
        self.updated = updated
    }

    public var primaryKey: Key { Self.key(id: id) }
    static func key(id: String) -> Key { Key().appending(id) }
    public var indexEntries: [IndexEntry] { [IndexEntry("ca", Key().appending(ca))] }

    public func encode(into writer: inout RecordWriter) {
        writer.write(id)
        writer.write(ca)
        writer.write(document)
        writer.write(updated)
    }

    public init(from reader: inout RecordReader) throws(StoreError) {
        id = try reader.readString()
        ca = try reader.readString()
        document = try reader.readBytes()
        updated = try reader.readInt64()
    }
}

extension MetadataReading {
    /// The enrollment profile `id`.
    public func enrollmentProfile(id: String) throws -> EnrollmentProfileRecord? {
        try record(EnrollmentProfileRecord.self, key: EnrollmentProfileRecord.key(id: id))
    }

    /// Enrollment profiles in id order after `cursor`.
    public func enrollmentProfiles(after cursor: String?, limit: Int) throws -> [EnrollmentProfileRecord] {
        try records(
            EnrollmentProfileRecord.self,
            after: cursor.map { EnrollmentProfileRecord.key(id: $0) },
            limit: limit
        )
    }

    /// The enrollment profiles that issue from `ca`.
    public func enrollmentProfiles(ca: String) throws -> [EnrollmentProfileRecord] {
        try records(EnrollmentProfileRecord.self, index: "ca", value: Key().appending(ca))
    }
}
