/// An ACME nonce handed out in a `Replay-Nonce` header (RFC 8555 section 6.5) and not yet used. Nonces
/// live in the store so that any process sharing it accepts them, also after a restart; a request
/// consumes its nonce by removing the record in a write, so a second use finds none (`badNonce`).
///
/// The primary key starts with the expiry, so expired nonces are swept by one scan from the start.
public struct ACMENonceRecord: StoredRecord, Hashable {
    public static let table = "acme-nonces"
    public static let formatVersions: ClosedRange<UInt8> = 1...1

    /// Nanoseconds since 1970 after which the nonce is refused.
    public var expires: Int64
    /// The random part.
    public var value: [UInt8]

    public init(expires: Int64, value: [UInt8]) {
        self.expires = expires
        self.value = value
    }

    public var primaryKey: Key { Self.key(expires: expires, value: value) }
    public static func key(expires: Int64, value: [UInt8]) -> Key {
        var key = Key().appending(expires)
        key.append(bytes: value)
        return key
    }
    public var indexEntries: [IndexEntry] { [] }

    public func encode(into writer: inout RecordWriter) {
        writer.write(expires)
        writer.write(value)
    }

    public init(from reader: inout RecordReader) throws(StoreError) {
        expires = try reader.readInt64()
        value = try reader.readBytes()
    }
}

extension MetadataReading {
    /// Nonces in expiry order, the soonest first.
    public func acmeNonces(limit: Int) throws -> [ACMENonceRecord] {
        try records(ACMENonceRecord.self, after: nil, limit: limit)
    }
}
