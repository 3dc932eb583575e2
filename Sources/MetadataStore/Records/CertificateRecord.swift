/// An issued or imported certificate: its DER, the fields the CA searches by, and free-form metadata.
public struct CertificateRecord: StoredRecord, Hashable {
    public static let table = "certificates"
    public static let formatVersions: ClosedRange<UInt8> = 1...1

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

    public init(
        issuer: String,
        serial: [UInt8],
        subject: String,
        notBefore: Int64,
        notAfter: Int64,
        der: [UInt8],
        metadata: [String: String]
    ) {
        self.issuer = issuer
        self.serial = serial
        self.subject = subject
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.der = der
        self.metadata = metadata
    }

    /// Certificates are identified by issuer and serial (RFC 5280 section 4.1.2.2).
    public var primaryKey: Key {
        var key = Key().appending(issuer)
        key.append(bytes: serial)
        return key
    }

    public var indexEntries: [IndexEntry] {
        var serialKey = Key()
        serialKey.append(bytes: serial)
        var entries = [
            IndexEntry("serial", serialKey),
            IndexEntry("issuer", Key().appending(issuer)),
            IndexEntry("not-after", Key().appending(notAfter)),
            IndexEntry("subject", Key().appending(subject)),
        ]
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
    }

    public init(from reader: inout RecordReader) throws(StoreError) {
        issuer = try reader.readString()
        serial = try reader.readBytes()
        subject = try reader.readString()
        notBefore = try reader.readInt64()
        notAfter = try reader.readInt64()
        der = try reader.readBytes()
        metadata = try reader.readStringMap()
    }
}
