/// The CRL sequence of one CA (RFC 5280 section 5.2.3): monotonically increasing per CA.
public struct CRLNumberRecord: StoredRecord, Hashable {
    public static let table = "crl-numbers"
    public static let formatVersions: ClosedRange<UInt8> = 1...1

    public var issuer: String
    /// The number of the last CRL issued.
    public var number: UInt64
    /// thisUpdate and nextUpdate of that CRL, nanoseconds since 1970 (UTC).
    public var thisUpdate: Int64
    public var nextUpdate: Int64

    public init(issuer: String, number: UInt64, thisUpdate: Int64, nextUpdate: Int64) {
        self.issuer = issuer
        self.number = number
        self.thisUpdate = thisUpdate
        self.nextUpdate = nextUpdate
    }

    public var primaryKey: Key { Self.key(scope: issuer) }

    static func key(scope: String) -> Key { Key().appending(scope) }
    /// CRLs by next update, to find those due for reissue.
    public var indexEntries: [IndexEntry] { [IndexEntry("next-update", Key().appending(nextUpdate))] }

    public func encode(into writer: inout RecordWriter) {
        writer.write(issuer)
        writer.write(number)
        writer.write(thisUpdate)
        writer.write(nextUpdate)
    }

    public init(from reader: inout RecordReader) throws(StoreError) {
        issuer = try reader.readString()
        number = try reader.readUInt64()
        thisUpdate = try reader.readInt64()
        nextUpdate = try reader.readInt64()
    }
}

extension MetadataReading {
    /// The CRL numbers of `scope` (a CA, or a CA key's scope).
    public func crlNumber(scope: String) throws -> CRLNumberRecord? {
        try record(CRLNumberRecord.self, key: CRLNumberRecord.key(scope: scope))
    }
}
