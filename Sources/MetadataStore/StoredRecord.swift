/// A record type kept in its own table, with secondary indexes maintained in the same write
/// transaction as the record.
public protocol StoredRecord: Sendable {
    /// The table (LMDB database) name.
    static var table: String { get }
    /// Format versions this build reads; it writes the highest.
    static var formatVersions: ClosedRange<UInt8> { get }
    /// The primary key.
    var primaryKey: Key { get }
    /// Secondary index entries: the index name and the indexed value (the primary key is appended).
    var indexEntries: [IndexEntry] { get }
    /// Writes the fields in order.
    func encode(into writer: inout RecordWriter)
    /// Reads the fields in order.
    init(from reader: inout RecordReader) throws(StoreError)
    /// Whether every change to this table counts up its change stamp (`MetadataReading.changeStamp`),
    /// so readers can reuse what they decoded until the table changes. For small, hot, rarely written
    /// tables (CAs, policies, credentials); a write of such a record also writes the stamp.
    static var tracksChanges: Bool { get }
}

/// One secondary-index entry of a record.
public struct IndexEntry: Hashable, Sendable {
    public var index: String
    public var value: Key
    public init(_ index: String, _ value: Key) {
        self.index = index
        self.value = value
    }
}

extension StoredRecord {
    public static var tracksChanges: Bool { false }

    /// The record in its binary form.
    public func encoded() -> [UInt8] {
        var writer = RecordWriter(formatVersion: Self.formatVersions.upperBound)
        encode(into: &writer)
        return writer.bytes
    }

    /// Decodes a stored record.
    public static func decode(_ bytes: [UInt8]) throws(StoreError) -> Self {
        var reader = try RecordReader(bytes, supported: formatVersions, record: table)
        return try Self(from: &reader)
    }
}
