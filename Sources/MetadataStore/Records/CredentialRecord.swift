/// An API credential. Only a hash of the bearer secret is stored: the secret itself is shown once,
/// when the credential is created, and never kept.
public struct CredentialRecord: StoredRecord, Hashable {
    public static let table = "credentials"
    /// Version 2 added `certificates`.
    public static let formatVersions: ClosedRange<UInt8> = 1...2
    /// Read on every request that uses it; readers cache it by change stamp.
    public static let tracksChanges = true

    public enum Role: String, Sendable, Hashable, CaseIterable {
        /// `vault`: an application or device that reads and writes secrets in some vault namespaces.
        /// `trigger`: an external system (a QA station, a ticketing system) that runs named actions only.
        case admin, officer, signer, auditor, vault, trigger
    }

    public var id: String
    /// SHA-256 of the bearer secret (secrets are long and random, so no slow hash is needed).
    public var secretHash: [UInt8]
    public var role: Role
    /// Key-name patterns a signer may use; for a vault credential, the namespaces it may use; for a
    /// trigger credential, the actions it may run.
    public var keyPatterns: [String]
    /// The tenant it is limited to, if any.
    public var tenant: String?
    public var created: Int64
    public var revoked: Bool
    /// SHA-256 (hex) of the DER of TLS client certificates that sign in to the web console as this
    /// credential (a smartcard's certificate); the TLS handshake proves the key.
    public var certificates: [String]

    public init(
        id: String,
        secretHash: [UInt8],
        role: Role,
        keyPatterns: [String],
        tenant: String?,
        created: Int64,
        revoked: Bool,
        certificates: [String] = []
    ) {
        self.id = id
        self.secretHash = secretHash
        self.role = role
        self.keyPatterns = keyPatterns
        self.tenant = tenant
        self.created = created
        self.revoked = revoked
        self.certificates = certificates
    }

    public var primaryKey: Key { Self.key(id: id) }
    public var indexEntries: [IndexEntry] {
        [
            IndexEntry("secret-hash", Self.secretHashValue(secretHash)),
            IndexEntry("role", Key().appending(role.rawValue)),
        ] + certificates.map { IndexEntry("certificate", Key().appending($0)) }
    }

    static func key(id: String) -> Key { Key().appending(id) }

    static func secretHashValue(_ hash: [UInt8]) -> Key {
        var key = Key()
        key.append(bytes: hash)
        return key
    }

    public func encode(into writer: inout RecordWriter) {
        writer.write(id)
        writer.write(secretHash)
        writer.write(role.rawValue)
        writer.write(keyPatterns)
        writer.write(tenant)
        writer.write(created)
        writer.write(revoked)
        writer.write(certificates)
    }

    public init(from reader: inout RecordReader) throws(StoreError) {
        id = try reader.readString()
        secretHash = try reader.readBytes()
        guard secretHash.count == 32 else {
            throw StoreError(code: .invalidData, reason: "malformed record: a credential hash has 32 bytes")
        }
        role = try reader.readEnum(Role.self)
        keyPatterns = try reader.readStrings()
        tenant = try reader.readOptionalString()
        created = try reader.readInt64()
        revoked = try reader.readBool()
        certificates = reader.formatVersion >= 2 ? try reader.readStrings() : []
    }
}

extension MetadataReading {
    /// The credential `id`, revoked or not.
    public func credential(id: String) throws -> CredentialRecord? {
        try record(CredentialRecord.self, key: CredentialRecord.key(id: id))
    }

    /// The credential a TLS client certificate is bound to (by the SHA-256 hex of its DER), revoked or not.
    public func credential(certificateHash: String) throws -> CredentialRecord? {
        try records(CredentialRecord.self, index: "certificate", value: Key().appending(certificateHash), limit: 1)
            .first
    }

    /// The credential whose bearer secret hashes to `secretHash`, revoked or not.
    public func credential(secretHash: [UInt8]) throws -> CredentialRecord? {
        try records(
            CredentialRecord.self,
            index: "secret-hash",
            value: CredentialRecord.secretHashValue(secretHash),
            limit: 1
        )
        .first
    }
}
