/// An issued or imported certificate: its DER, the fields the CA searches by, and free-form metadata.
public struct CertificateRecord: StoredRecord, Hashable {
    public static let table = "certificates"
    /// Version 2 added category, alternative names and status.
    public static let formatVersions: ClosedRange<UInt8> = 1...2

    public enum Status: String, Sendable, Hashable, CaseIterable {
        case valid
        case revoked
    }

    /// The issuing CA's identifier in Custos.
    public var issuer: String
    /// Serial number bytes (as in the certificate, big-endian, positive).
    public var serial: [UInt8]
    /// Subject distinguished name as an RFC 4514 string.
    public var subject: String
    /// Validity, nanoseconds since 1970 (UTC).
    public var notBefore: Int64
    public var notAfter: Int64
    /// The certificate in DER.
    public var der: [UInt8]
    /// Free-form key/value metadata (production batch, device id, …), each pair indexed.
    public var metadata: [String: String]
    /// The issuance category (`tls-server`, …, `ca` for CA certificates, empty for imported ones).
    public var category: String
    /// Subject alternative names as text (`dns:host.example`, `ip:10.0.0.1`, …), each indexed.
    public var alternativeNames: [String]
    /// Revocation status; the details are in the `RevocationRecord`. Expiry is read from `notAfter`.
    public var status: Status

    public init(
        issuer: String,
        serial: [UInt8],
        subject: String,
        notBefore: Int64,
        notAfter: Int64,
        der: [UInt8],
        metadata: [String: String],
        category: String = "",
        alternativeNames: [String] = [],
        status: Status = .valid
    ) {
        self.issuer = issuer
        self.serial = serial
        self.subject = subject
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.der = der
        self.metadata = metadata
        self.category = category
        self.alternativeNames = alternativeNames
        self.status = status
    }

    /// Certificates are identified by issuer and serial (RFC 5280 section 4.1.2.2).
    public var primaryKey: Key { Self.key(issuer: issuer, serial: serial) }

    /// The key of the certificate `serial` of `issuer` (its revocation has the same key).
    static func key(issuer: String, serial: [UInt8]) -> Key {
        var key = Key().appending(issuer)
        key.append(bytes: serial)
        return key
    }

    /// The position before every certificate of `issuer`, and the prefix of their keys.
    public static func position(issuer: String) -> Key { Key().appending(issuer) }

    static func serialValue(_ serial: [UInt8]) -> Key {
        var key = Key()
        key.append(bytes: serial)
        return key
    }

    public var indexEntries: [IndexEntry] {
        // Only what searches look up: each entry is a B-tree leaf written and synced per issuance, and
        // entries keyed by random values (SANs, metadata) land on a different page each time. (A CA's
        // certificates are a range of primary keys, which start with the issuer.)
        var entries = [
            IndexEntry("serial", Self.serialValue(serial)), IndexEntry("not-after", Key().appending(notAfter)),
        ]
        if status != .valid { entries.append(IndexEntry("status", Key().appending(status.rawValue))) }
        for name in Set(alternativeNames.map { $0.lowercased() }) {
            entries.append(IndexEntry("san", Key().appending(name)))
        }
        for (name, value) in metadata.sorted(by: { $0.key < $1.key }) {
            entries.append(IndexEntry("metadata", Key().appending(name).appending(value)))
        }
        return entries
    }

    public func encode(into writer: inout RecordWriter) {
        writer.write(issuer)
        writer.write(serial)
        writer.write(subject)
        writer.write(notBefore)
        writer.write(notAfter)
        writer.write(der)
        writer.write(metadata)
        writer.write(category)
        writer.write(alternativeNames)
        writer.write(status.rawValue)
    }

    public init(from reader: inout RecordReader) throws(StoreError) {
        issuer = try reader.readString()
        serial = try reader.readBytes()
        subject = try reader.readString()
        notBefore = try reader.readInt64()
        notAfter = try reader.readInt64()
        der = try reader.readBytes()
        metadata = try reader.readStringMap()
        guard reader.formatVersion >= 2 else {
            (category, alternativeNames, status) = ("", [], .valid)
            return
        }
        category = try reader.readString()
        alternativeNames = try reader.readStrings()
        status = try reader.readEnum(Status.self)
    }
}

extension MetadataReading {
    /// The certificate `serial` of `issuer`.
    public func certificate(issuer: String, serial: [UInt8]) throws -> CertificateRecord? {
        try record(CertificateRecord.self, key: CertificateRecord.key(issuer: issuer, serial: serial))
    }

    /// Keys of the certificates with `serial`, of any issuer.
    public func certificateKeys(serial: [UInt8]) throws -> [Key] {
        try keys(CertificateRecord.self, index: "serial", value: CertificateRecord.serialValue(serial), limit: .max)
    }

    /// Keys of the certificates whose metadata `name` is `value`.
    public func certificateKeys(metadata name: String, value: String) throws -> [Key] {
        try keys(CertificateRecord.self, index: "metadata", value: Key().appending(name).appending(value), limit: .max)
    }

    /// Keys of the certificates whose notAfter (nanoseconds) lies in `lower ..< upper`, in that order.
    public func certificateKeys(notAfterFrom lower: Int64, to upper: Int64) throws -> [Key] {
        try keys(
            CertificateRecord.self,
            index: "not-after",
            from: Key().appending(lower),
            to: Key().appending(upper),
            limit: .max
        )
    }

    /// Keys of the certificates with `status` (only statuses other than valid are indexed).
    public func certificateKeys(status: CertificateRecord.Status) throws -> [Key] {
        precondition(status != .valid, "valid certificates are not indexed by status")
        return try keys(CertificateRecord.self, index: "status", value: Key().appending(status.rawValue), limit: .max)
    }
}
