/// The newest signed full and delta CRL of one CRL scope (a CA, or one of its keys), kept in the store
/// so that every node on a shared store serves the same CRLs and a node that starts serves them without
/// issuing new ones. Changes are counted (`tracksChanges`): a node learns of another node's CRL through
/// the change stamp.
public struct CRLRecord: StoredRecord, Hashable {
    public static let table = "crls"
    public static let formatVersions: ClosedRange<UInt8> = 1...1
    public static let tracksChanges = true

    public var scope: String
    /// The full CRL's number; the delta CRL has `number + 1` and the full CRL as its base.
    public var number: UInt64
    /// Seconds since 1970.
    public var thisUpdate: Int64
    public var fullNextUpdate: Int64
    public var deltaNextUpdate: Int64
    /// Nanoseconds since 1970: revocations committed before this instant are in the full CRL.
    public var snapshot: Int64
    /// The revocations' change stamp of the snapshot the CRLs were made from: a larger stamp means
    /// revocations (of some CA) committed since.
    public var revocationStamp: UInt64
    public var fullEntries: Int
    /// The revocations the delta CRL lists (those since `snapshot` less the overlap), as serial and
    /// revocation time: what a later check compares the store's recent revocations with.
    public var recent: [Revoked]
    public var full: [UInt8]
    public var delta: [UInt8]

    /// A certificate in the delta CRL.
    public struct Revoked: Hashable, Sendable {
        public var serial: [UInt8]
        /// Nanoseconds since 1970.
        public var revokedAt: Int64
        public init(serial: [UInt8], revokedAt: Int64) {
            self.serial = serial
            self.revokedAt = revokedAt
        }
    }

    public init(
        scope: String,
        number: UInt64,
        thisUpdate: Int64,
        fullNextUpdate: Int64,
        deltaNextUpdate: Int64,
        snapshot: Int64,
        revocationStamp: UInt64,
        fullEntries: Int,
        recent: [Revoked],
        full: [UInt8],
        delta: [UInt8]
    ) {
        self.scope = scope
        self.number = number
        self.thisUpdate = thisUpdate
        self.fullNextUpdate = fullNextUpdate
        self.deltaNextUpdate = deltaNextUpdate
        self.snapshot = snapshot
        self.revocationStamp = revocationStamp
        self.fullEntries = fullEntries
        self.recent = recent
        self.full = full
        self.delta = delta
    }

    public var primaryKey: Key { Self.key(scope: scope) }
    public static func key(scope: String) -> Key { Key().appending(scope) }
    public var indexEntries: [IndexEntry] { [] }

    public func encode(into writer: inout RecordWriter) {
        writer.write(scope)
        writer.write(number)
        writer.write(thisUpdate)
        writer.write(fullNextUpdate)
        writer.write(deltaNextUpdate)
        writer.write(snapshot)
        writer.write(revocationStamp)
        writer.write(fullEntries)
        writer.write(UInt64(recent.count))
        for revoked in recent {
            writer.write(revoked.serial)
            writer.write(revoked.revokedAt)
        }
        writer.write(full)
        writer.write(delta)
    }

    public init(from reader: inout RecordReader) throws(StoreError) {
        scope = try reader.readString()
        number = try reader.readUInt64()
        thisUpdate = try reader.readInt64()
        fullNextUpdate = try reader.readInt64()
        deltaNextUpdate = try reader.readInt64()
        snapshot = try reader.readInt64()
        revocationStamp = try reader.readUInt64()
        fullEntries = try reader.readInt()
        let count = try reader.readUInt64()
        // Each entry takes at least two bytes: a count beyond what is left is a broken record.
        guard count <= UInt64(reader.remaining / 2) else {
            throw StoreError(code: .invalidData, reason: "malformed record: \(count) recent revocations")
        }
        recent = []
        for _ in 0..<count {
            recent.append(Revoked(serial: try reader.readBytes(), revokedAt: try reader.readInt64()))
        }
        full = try reader.readBytes()
        delta = try reader.readBytes()
    }
}

extension MetadataReading {
    /// The stored CRLs of `scope`.
    public func crl(scope: String) throws -> CRLRecord? {
        try record(CRLRecord.self, key: CRLRecord.key(scope: scope))
    }
}
