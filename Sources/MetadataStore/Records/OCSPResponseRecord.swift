/// A signed OCSP response kept for answering requests without a nonce (RFC 5019 section 2.2.1), one
/// per certificate and CertID hash algorithm. It holds only public data: the DER response.
public struct OCSPResponseRecord: StoredRecord, Hashable {
    public static let table = "ocsp-responses"
    public static let formatVersions: ClosedRange<UInt8> = 1...1

    /// The issuing CA's id.
    public var issuer: String
    /// Serial number bytes of the certificate.
    public var serial: [UInt8]
    /// The CertID hash algorithm the response answers: 1 SHA-1, 2 SHA-256.
    public var hashAlgorithm: UInt8
    /// The DER `OCSPResponse`.
    public var der: [UInt8]
    /// thisUpdate and nextUpdate, seconds since 1970 (UTC).
    public var thisUpdate: Int64
    public var nextUpdate: Int64

    public init(
        issuer: String,
        serial: [UInt8],
        hashAlgorithm: UInt8,
        der: [UInt8],
        thisUpdate: Int64,
        nextUpdate: Int64
    ) {
        self.issuer = issuer
        self.serial = serial
        self.hashAlgorithm = hashAlgorithm
        self.der = der
        self.thisUpdate = thisUpdate
        self.nextUpdate = nextUpdate
    }

    /// The key of the response for `serial` of `issuer` under `hashAlgorithm`.
    static func key(issuer: String, serial: [UInt8], hashAlgorithm: UInt8) -> Key {
        var key = Key().appending(issuer)
        key.append(bytes: serial)
        key.append(bytes: [hashAlgorithm])
        return key
    }

    public var primaryKey: Key { Self.key(issuer: issuer, serial: serial, hashAlgorithm: hashAlgorithm) }
    /// Responses by thisUpdate, to find those due for refresh.
    public var indexEntries: [IndexEntry] { [IndexEntry("this-update", Key().appending(thisUpdate))] }

    public func encode(into writer: inout RecordWriter) {
        writer.write(issuer)
        writer.write(serial)
        writer.write(UInt64(hashAlgorithm))
        writer.write(der)
        writer.write(thisUpdate)
        writer.write(nextUpdate)
    }

    public init(from reader: inout RecordReader) throws(StoreError) {
        issuer = try reader.readString()
        serial = try reader.readBytes()
        hashAlgorithm = UInt8(truncatingIfNeeded: try reader.readUInt64())
        der = try reader.readBytes()
        thisUpdate = try reader.readInt64()
        nextUpdate = try reader.readInt64()
    }
}

extension MetadataReading {
    /// The stored response for `serial` of `issuer` to a CertID hashed with `hashAlgorithm` (1 SHA-1,
    /// 2 SHA-256).
    public func ocspResponse(issuer: String, serial: [UInt8], hashAlgorithm: UInt8) throws -> OCSPResponseRecord? {
        try record(
            OCSPResponseRecord.self,
            key: OCSPResponseRecord.key(issuer: issuer, serial: serial, hashAlgorithm: hashAlgorithm)
        )
    }

    /// Stored responses whose thisUpdate (seconds) is before `time`, oldest first.
    public func ocspResponses(thisUpdateBefore time: Int64, limit: Int) throws -> [OCSPResponseRecord] {
        try keys(
            OCSPResponseRecord.self,
            index: "this-update",
            from: Key().appending(Int64(0)),
            to: Key().appending(time),
            limit: limit
        )
        .compactMap { try record(OCSPResponseRecord.self, key: $0) }
    }
}

extension MetadataWriting {
    /// Removes every stored response for `serial` of `issuer` (both CertID hash algorithms).
    public func removeOCSPResponses(issuer: String, serial: [UInt8]) throws {
        for algorithm: UInt8 in [1, 2] {
            try remove(
                OCSPResponseRecord.self,
                key: OCSPResponseRecord.key(issuer: issuer, serial: serial, hashAlgorithm: algorithm)
            )
        }
    }
}
