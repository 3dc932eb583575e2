/// A web-console session. The browser holds a random secret in a cookie; the store keeps only its SHA-256,
/// so that reading the store does not let anyone take over a session. A session belongs to one API
/// credential and acts with its role; it ends at sign-out, after `idle` without use, or when the
/// credential is revoked.
public struct ConsoleSessionRecord: StoredRecord, Hashable {
    public static let table = "console-sessions"
    public static let formatVersions: ClosedRange<UInt8> = 1...1

    /// SHA-256 of the cookie's secret.
    public var secretHash: [UInt8]
    /// The credential the session acts as.
    public var credentialID: String
    /// The token every form of the session carries (not a secret key: it proves a form came from a page
    /// this session rendered).
    public var csrfToken: String
    /// Nanoseconds since 1970.
    public var created: Int64
    /// Nanoseconds since 1970; refreshed at most every few seconds of use.
    public var lastSeen: Int64

    public init(secretHash: [UInt8], credentialID: String, csrfToken: String, created: Int64, lastSeen: Int64) {
        self.secretHash = secretHash
        self.credentialID = credentialID
        self.csrfToken = csrfToken
        self.created = created
        self.lastSeen = lastSeen
    }

    public var primaryKey: Key { Self.key(secretHash: secretHash) }
    public var indexEntries: [IndexEntry] { [] }

    static func key(secretHash: [UInt8]) -> Key {
        var key = Key()
        key.append(bytes: secretHash)
        return key
    }

    public func encode(into writer: inout RecordWriter) {
        writer.write(secretHash)
        writer.write(credentialID)
        writer.write(csrfToken)
        writer.write(created)
        writer.write(lastSeen)
    }

    public init(from reader: inout RecordReader) throws(StoreError) {
        secretHash = try reader.readBytes()
        guard secretHash.count == 32 else {
            throw StoreError(code: .invalidData, reason: "malformed record: a console session hash has 32 bytes")
        }
        credentialID = try reader.readString()
        csrfToken = try reader.readString()
        created = try reader.readInt64()
        lastSeen = try reader.readInt64()
    }
}

extension MetadataReading {
    /// The console session whose cookie secret hashes to `secretHash`.
    public func consoleSession(secretHash: [UInt8]) throws -> ConsoleSessionRecord? {
        try record(ConsoleSessionRecord.self, key: ConsoleSessionRecord.key(secretHash: secretHash))
    }

    /// Console sessions in key order after `after`, at most `limit` (for removing expired ones).
    public func consoleSessions(after: ConsoleSessionRecord?, limit: Int) throws -> [ConsoleSessionRecord] {
        try records(ConsoleSessionRecord.self, after: after?.primaryKey, limit: limit)
    }
}

extension MetadataWriting {
    /// Removes a console session; returns whether it existed.
    @discardableResult
    public func removeConsoleSession(secretHash: [UInt8]) throws -> Bool {
        try remove(ConsoleSessionRecord.self, key: ConsoleSessionRecord.key(secretHash: secretHash))
    }
}
