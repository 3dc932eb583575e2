/// A key Custos uses: where it lives on which token, and its public half. There is no field for a
/// private key: the store has no way to hold one.
public struct KeyRecord: StoredRecord, Hashable {
    public static let table = "keys"
    public static let formatVersions: ClosedRange<UInt8> = 1...2
    /// Counted, so that every node learns of a key made, disabled or retired elsewhere.
    public static let tracksChanges = true

    /// Lifecycle state.
    public enum State: String, Sendable, Hashable, CaseIterable {
        case active, disabled, retired
    }

    /// Custos' name for the key (unique).
    public var name: String
    /// Label of the token that holds it.
    public var token: String
    /// `CKA_LABEL` and `CKA_ID` on that token.
    public var label: String
    public var id: [UInt8]
    /// `ec-p256`, `rsa-2048`, … (as `KeyAlgorithm`'s raw values).
    public var algorithm: String
    /// DER SubjectPublicKeyInfo.
    public var publicKey: [UInt8]
    /// What the key may do (`sign`, `verify`, …).
    public var usage: [String]
    public var state: State
    /// Creation time, nanoseconds since 1970 (UTC).
    public var created: Int64
    /// The key's certificate and the chain above it (DER, leaf first), if one is attached. Format version 2.
    public var certificateChain: [[UInt8]]

    public init(
        name: String,
        token: String,
        label: String,
        id: [UInt8],
        algorithm: String,
        publicKey: [UInt8],
        usage: [String],
        state: State,
        created: Int64,
        certificateChain: [[UInt8]] = []
    ) {
        self.name = name
        self.token = token
        self.label = label
        self.id = id
        self.algorithm = algorithm
        self.publicKey = publicKey
        self.usage = usage
        self.state = state
        self.created = created
        self.certificateChain = certificateChain
    }

    public var primaryKey: Key { Self.key(name: name) }

    static func key(name: String) -> Key { Key().appending(name) }
    public var indexEntries: [IndexEntry] {
        [
            IndexEntry("token-label", Key().appending(token).appending(label)),
            IndexEntry("state", Key().appending(state.rawValue)),
        ]
    }

    public func encode(into writer: inout RecordWriter) {
        writer.write(name)
        writer.write(token)
        writer.write(label)
        writer.write(id)
        writer.write(algorithm)
        writer.write(publicKey)
        writer.write(usage)
        writer.write(state.rawValue)
        writer.write(created)
        writer.write(certificateChain)
    }

    public init(from reader: inout RecordReader) throws(StoreError) {
        name = try reader.readString()
        token = try reader.readString()
        label = try reader.readString()
        id = try reader.readBytes()
        algorithm = try reader.readString()
        publicKey = try reader.readBytes()
        usage = try reader.readStrings()
        state = try reader.readEnum(State.self)
        created = try reader.readInt64()
        certificateChain = reader.formatVersion >= 2 ? try reader.readByteStrings() : []
    }
}

extension MetadataReading {
    /// The signing key `name`.
    public func keyRecord(name: String) throws -> KeyRecord? {
        try record(KeyRecord.self, key: KeyRecord.key(name: name))
    }
}
