/// A vault namespace: its key-encryption keys (AES-256 in the HSM, referenced by label and
/// `CKA_ID`, never held here) and its policy. Entries are `VaultEntryRecord`s under its name.
public struct VaultNamespaceRecord: StoredRecord, Hashable {
    public static let table = "vault-namespaces"
    public static let formatVersions: ClosedRange<UInt8> = 1...1

    /// One version of the namespace's key-encryption key.
    public struct KEK: Sendable, Hashable {
        public var version: UInt64
        /// `CKA_LABEL` and `CKA_ID` on the token.
        public var label: String
        public var id: [UInt8]
        public var created: Int64

        public init(version: UInt64, label: String, id: [UInt8], created: Int64) {
            self.version = version
            self.label = label
            self.id = id
            self.created = created
        }
    }

    public var name: String
    /// Oldest first; the last one encrypts new writes.
    public var keks: [KEK]
    /// The largest secret value accepted, in bytes.
    public var maxSecretBytes: Int
    /// How many versions of a secret are kept (older ones are destroyed on write).
    public var keepVersions: Int
    /// Whether keys may be imported or exported in plaintext (each time audited).
    public var allowPlaintextImport: Bool
    public var allowPlaintextExport: Bool
    public var created: Int64

    public init(
        name: String,
        keks: [KEK],
        maxSecretBytes: Int,
        keepVersions: Int,
        allowPlaintextImport: Bool,
        allowPlaintextExport: Bool,
        created: Int64
    ) {
        self.name = name
        self.keks = keks
        self.maxSecretBytes = maxSecretBytes
        self.keepVersions = keepVersions
        self.allowPlaintextImport = allowPlaintextImport
        self.allowPlaintextExport = allowPlaintextExport
        self.created = created
    }

    public var primaryKey: Key { Self.key(name: name) }

    static func key(name: String) -> Key { Key().appending(name) }
    public var indexEntries: [IndexEntry] { [] }

    public func encode(into writer: inout RecordWriter) {
        writer.write(name)
        writer.write(UInt64(keks.count))
        for kek in keks {
            writer.write(kek.version)
            writer.write(kek.label)
            writer.write(kek.id)
            writer.write(kek.created)
        }
        writer.write(maxSecretBytes)
        writer.write(keepVersions)
        writer.write(allowPlaintextImport)
        writer.write(allowPlaintextExport)
        writer.write(created)
    }

    public init(from reader: inout RecordReader) throws(StoreError) {
        name = try reader.readString()
        let count = try reader.readUInt64()
        guard count <= 10_000 else {
            throw StoreError(code: .invalidData, reason: "vault namespace \(name) lists \(count) keys")
        }
        var keks: [KEK] = []
        for _ in 0..<count {
            keks.append(
                KEK(
                    version: try reader.readUInt64(),
                    label: try reader.readString(),
                    id: try reader.readBytes(),
                    created: try reader.readInt64()
                )
            )
        }
        self.keks = keks
        maxSecretBytes = try reader.readInt()
        keepVersions = try reader.readInt()
        allowPlaintextImport = try reader.readBool()
        allowPlaintextExport = try reader.readBool()
        created = try reader.readInt64()
    }
}

extension MetadataReading {
    /// The vault namespace `name`.
    public func vaultNamespace(name: String) throws -> VaultNamespaceRecord? {
        try record(VaultNamespaceRecord.self, key: VaultNamespaceRecord.key(name: name))
    }
}
