/// A revoked certificate (RFC 5280 section 5.3).
public struct RevocationRecord: StoredRecord, Hashable {
    public static let table = "revocations"
    public static let formatVersions: ClosedRange<UInt8> = 1...1
    /// Counted, so that a node learns that another node revoked (its CRLs may be behind).
    public static let tracksChanges = true

    /// The issuing CA's id.
    public var issuer: String
    public var serial: [UInt8]
    /// Revocation time, nanoseconds since 1970 (UTC).
    public var revokedAt: Int64
    /// CRLReason code (RFC 5280 section 5.3.1): 0 unspecified, 1 keyCompromise, … 10 aACompromise.
    public var reason: UInt8
    /// Invalidity date (RFC 5280 section 5.3.2), if known.
    public var invalidityDate: Int64?

    public init(issuer: String, serial: [UInt8], revokedAt: Int64, reason: UInt8, invalidityDate: Int64?) {
        self.issuer = issuer
        self.serial = serial
        self.revokedAt = revokedAt
        self.reason = reason
        self.invalidityDate = invalidityDate
    }

    public var primaryKey: Key { CertificateRecord.key(issuer: issuer, serial: serial) }

    /// Revocations by CA in time order: what a CRL lists.
    public var indexEntries: [IndexEntry] { [IndexEntry("ca-time", Key().appending(issuer).appending(revokedAt))] }

    public func encode(into writer: inout RecordWriter) {
        writer.write(issuer)
        writer.write(serial)
        writer.write(revokedAt)
        writer.write(UInt64(reason))
        writer.write(invalidityDate)
    }

    public init(from reader: inout RecordReader) throws(StoreError) {
        issuer = try reader.readString()
        serial = try reader.readBytes()
        revokedAt = try reader.readInt64()
        let code = try reader.readUInt64()
        guard code <= 10, code != 7 else {
            throw StoreError(code: .invalidData, reason: "malformed record: CRL reason \(code) is not defined")
        }
        reason = UInt8(code)
        invalidityDate = try reader.readOptionalInt64()
    }
}

extension MetadataReading {
    /// The revocation of the certificate `serial` of `issuer`.
    public func revocation(issuer: String, serial: [UInt8]) throws -> RevocationRecord? {
        try record(RevocationRecord.self, key: CertificateRecord.key(issuer: issuer, serial: serial))
    }

    /// The revocations of `issuer`'s certificates dated `since` (ns since 1970) or later, in time order:
    /// one range of the `ca-time` index.
    public func revocations(issuer: String, since: Int64) throws -> [RevocationRecord] {
        try keys(
            RevocationRecord.self,
            index: "ca-time",
            from: Key().appending(issuer).appending(since),
            to: Key().appending(issuer).appending(Int64.max),
            limit: .max
        ).compactMap { try record(RevocationRecord.self, key: $0) }
    }

    /// Every revocation of `issuer`'s certificates, in serial order, read in pages of `page`.
    public func revocations(issuer: String, page: Int = 10_000) throws -> [RevocationRecord] {
        var all: [RevocationRecord] = []
        var cursor = CertificateRecord.position(issuer: issuer)
        while true {
            let batch = try records(RevocationRecord.self, after: cursor, limit: page)
            let mine = batch.prefix { $0.issuer == issuer }
            all.append(contentsOf: mine)
            guard mine.count == batch.count, batch.count == page, let last = batch.last else { return all }
            cursor = last.primaryKey
        }
    }
}
