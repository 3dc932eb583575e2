/// A CA's delegated OCSP signer (RFC 6960 section 4.2.2.2): a service key in the HSM and the
/// short-lived certificate the CA issued for it (EKU id-kp-OCSPSigning, id-pkix-ocsp-nocheck). One
/// record per CA holds the current signer and the keys of earlier ones, which are destroyed once
/// their certificates have expired (answers they signed stay verifiable until then).
public struct OCSPSignerRecord: StoredRecord, Hashable {
    public static let table = "ocsp-signers"
    public static let formatVersions: ClosedRange<UInt8> = 1...1

    /// An earlier signer's key, kept until its certificate expires.
    public struct Retired: Sendable, Hashable {
        public var keyName: String
        /// Seconds since 1970: the certificate's notAfter.
        public var notAfter: Int64

        public init(keyName: String, notAfter: Int64) {
            self.keyName = keyName
            self.notAfter = notAfter
        }
    }

    /// The CA's id.
    public var ca: String
    /// Counts the CA's signers from 1.
    public var generation: Int64
    /// The current signer's service key.
    public var keyName: String
    /// The CA key that issued the signer's certificate (answers for certificates of other CA keys
    /// cannot use it).
    public var caKeyName: String
    /// The signer's certificate (DER).
    public var certificate: [UInt8]
    /// Seconds since 1970.
    public var notBefore: Int64
    public var notAfter: Int64
    public var retired: [Retired]

    public init(
        ca: String,
        generation: Int64,
        keyName: String,
        caKeyName: String,
        certificate: [UInt8],
        notBefore: Int64,
        notAfter: Int64,
        retired: [Retired] = []
    ) {
        self.ca = ca
        self.generation = generation
        self.keyName = keyName
        self.caKeyName = caKeyName
        self.certificate = certificate
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.retired = retired
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
        writer.write(notBefore)
        writer.write(notAfter)
        writer.write(retired.map(\.keyName))
        writer.write(UInt64(retired.count))
        for entry in retired { writer.write(entry.notAfter) }
    }

    public init(from reader: inout RecordReader) throws(StoreError) {
        ca = try reader.readString()
        generation = try reader.readInt64()
        keyName = try reader.readString()
        caKeyName = try reader.readString()
        certificate = try reader.readBytes()
        notBefore = try reader.readInt64()
        notAfter = try reader.readInt64()
        let names = try reader.readStrings()
        let count = try reader.readUInt64()
        guard count == UInt64(names.count) else {
            throw StoreError(code: .invalidData, reason: "ocsp-signers record of \(ca): retired lists differ")
        }
        var retired: [Retired] = []
        for name in names { retired.append(Retired(keyName: name, notAfter: try reader.readInt64())) }
        self.retired = retired
    }
}

extension MetadataReading {
    /// The delegated OCSP signer of `ca`.
    public func ocspSigner(ca: String) throws -> OCSPSignerRecord? {
        try record(OCSPSignerRecord.self, key: OCSPSignerRecord.key(ca: ca))
    }
}
