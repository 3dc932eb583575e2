/// A CA's SCEP registration authority (RFC 8894 section 2.1): an RSA service key in the HSM that signs
/// CertReps and unwraps the keys of requests encrypted to it, and the certificate the CA issued for it.
/// One record per CA; a new generation replaces the old when the certificate nears its end or the CA's
/// key changes (clients fetch the RA certificate with GetCACert before each enrollment).
public struct RegistrationAuthorityRecord: StoredRecord, Hashable {
    public static let table = "registration-authorities"
    public static let formatVersions: ClosedRange<UInt8> = 1...1

    public var ca: String
    /// Counts the CA's RA keys from 1.
    public var generation: Int64
    public var keyName: String
    /// The CA key that issued the certificate.
    public var caKeyName: String
    /// DER.
    public var certificate: [UInt8]
    /// Seconds since 1970: the certificate's notAfter.
    public var notAfter: Int64
    /// Earlier generations' keys, kept so that a request encrypted to the previous certificate while it
    /// was being replaced still opens; destroyed with the generation after.
    public var previousKeyName: String?

    public init(
        ca: String,
        generation: Int64,
        keyName: String,
        caKeyName: String,
        certificate: [UInt8],
        notAfter: Int64,
        previousKeyName: String? = nil
    ) {
        self.ca = ca
        self.generation = generation
        self.keyName = keyName
        self.caKeyName = caKeyName
        self.certificate = certificate
        self.notAfter = notAfter
        self.previousKeyName = previousKeyName
    }

    public var primaryKey: Key { Self.key(ca: ca) }
    static func key(ca: String) -> Key { Key().appending(ca) }
    public var indexEntries: [IndexEntry] { [] }

    public func encode(into writer: inout RecordWriter) {
        writer.write(ca)
        writer.write(generation)
        writer.write(keyName)
        writer.write(caKeyName)
        writer.write(certificate)
        writer.write(notAfter)
        writer.write(previousKeyName)
    }

    public init(from reader: inout RecordReader) throws(StoreError) {
        ca = try reader.readString()
        generation = try reader.readInt64()
        keyName = try reader.readString()
        caKeyName = try reader.readString()
        certificate = try reader.readBytes()
        notAfter = try reader.readInt64()
        previousKeyName = try reader.readOptionalString()
    }
}

extension MetadataReading {
    /// The SCEP registration authority of `ca`.
    public func registrationAuthority(ca: String) throws -> RegistrationAuthorityRecord? {
        try record(RegistrationAuthorityRecord.self, key: RegistrationAuthorityRecord.key(ca: ca))
    }
}
