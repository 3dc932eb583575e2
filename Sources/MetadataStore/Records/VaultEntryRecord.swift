/// One version of a vault secret or key: ciphertext only, made in the HSM under the namespace's
/// key-encryption key. A secret is AES-GCM ciphertext with its path and version bound as associated
/// data; a key is wrapped with `CKM_AES_KEY_WRAP_PAD` and bound to its path by a GMAC (`iv`, `tag`).
/// Format 2 added `keyType` and `origin`.
public struct VaultEntryRecord: StoredRecord, Hashable {
    public static let table = "vault"
    public static let formatVersions: ClosedRange<UInt8> = 1...2

    public enum State: String, Sendable, Hashable, CaseIterable {
        case active, archived
    }

    public var namespace: String
    public var path: String
    public var version: UInt64
    public var ciphertext: [UInt8]
    public var iv: [UInt8]
    public var tag: [UInt8]
    /// Which version of the namespace's key-encryption key encrypted it.
    public var kekVersion: UInt64
    public var metadata: [String: String]
    public var state: State
    public var created: Int64
    /// For keys: `aes-256`, `hmac-sha256`, `secret-512` …; empty for secrets.
    public var keyType: String
    /// For keys: `generated`, `imported-wrapped` or `imported-plaintext`; empty for secrets.
    public var origin: String

    public init(
        namespace: String,
        path: String,
        version: UInt64,
        ciphertext: [UInt8],
        iv: [UInt8],
        tag: [UInt8],
        kekVersion: UInt64,
        metadata: [String: String],
        state: State,
        created: Int64,
        keyType: String = "",
        origin: String = ""
    ) {
        self.namespace = namespace
        self.path = path
        self.version = version
        self.ciphertext = ciphertext
        self.iv = iv
        self.tag = tag
        self.kekVersion = kekVersion
        self.metadata = metadata
        self.state = state
        self.created = created
        self.keyType = keyType
        self.origin = origin
    }

    /// Versions of one path sort together, oldest first.
    public var primaryKey: Key { Self.key(namespace: namespace, path: path, version: version) }

    static func key(namespace: String, path: String, version: UInt64) -> Key {
        Key().appending(namespace).appending(path).appending(version)
    }

    /// The position before every version of `path` in `namespace`.
    public static func position(namespace: String, path: String) -> Key { Key().appending(namespace).appending(path) }

    /// The position after every version of `path` in `namespace`.
    public static func position(namespace: String, after path: String) -> Key {
        key(namespace: namespace, path: path, version: .max)
    }

    /// The position before every path of `namespace` that starts with `prefix` (the raw prefix bytes,
    /// with no terminator, so that every path starting with it sorts after).
    public static func position(namespace: String, pathPrefix prefix: String) -> Key {
        Key(bytes: Key().appending(namespace).bytes + Array(prefix.utf8))
    }

    static func kekVersionValue(namespace: String, kekVersion: UInt64) -> Key {
        Key().appending(namespace).appending(kekVersion)
    }
    public var indexEntries: [IndexEntry] {
        [
            IndexEntry("kek-version", Self.kekVersionValue(namespace: namespace, kekVersion: kekVersion)),
            IndexEntry("state", Key().appending(namespace).appending(state.rawValue)),
        ]
    }

    public func encode(into writer: inout RecordWriter) {
        writer.write(namespace)
        writer.write(path)
        writer.write(version)
        writer.write(ciphertext)
        writer.write(iv)
        writer.write(tag)
        writer.write(kekVersion)
        writer.write(metadata)
        writer.write(state.rawValue)
        writer.write(created)
        writer.write(keyType)
        writer.write(origin)
    }

    public init(from reader: inout RecordReader) throws(StoreError) {
        namespace = try reader.readString()
        path = try reader.readString()
        version = try reader.readUInt64()
        ciphertext = try reader.readBytes()
        iv = try reader.readBytes()
        tag = try reader.readBytes()
        kekVersion = try reader.readUInt64()
        metadata = try reader.readStringMap()
        state = try reader.readEnum(State.self)
        created = try reader.readInt64()
        keyType = reader.formatVersion >= 2 ? try reader.readString() : ""
        origin = reader.formatVersion >= 2 ? try reader.readString() : ""
    }
}

extension MetadataReading {
    /// Version `version` of `path` in `namespace`.
    public func vaultEntry(namespace: String, path: String, version: UInt64) throws -> VaultEntryRecord? {
        try record(VaultEntryRecord.self, key: VaultEntryRecord.key(namespace: namespace, path: path, version: version))
    }

    /// Keys of up to `limit` entries of `namespace` still encrypted under its KEK `kekVersion`.
    public func vaultEntryKeys(namespace: String, kekVersion: UInt64, limit: Int) throws -> [Key] {
        try keys(
            VaultEntryRecord.self,
            index: "kek-version",
            value: VaultEntryRecord.kekVersionValue(namespace: namespace, kekVersion: kekVersion),
            limit: limit
        )
    }
}
