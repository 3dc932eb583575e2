/// A report counted once and kept for the next start (the web console's dashboard overview): the first
/// page after a start shows it, with the time it was counted, instead of waiting for a count of every
/// certificate. The CA module encodes the report; the store only keeps it by name.
public struct ReportSnapshotRecord: StoredRecord, Hashable {
    public static let table = "report-snapshots"
    public static let formatVersions: ClosedRange<UInt8> = 1...1

    public var name: String
    /// When it was counted (nanoseconds since 1970).
    public var counted: Int64
    public var document: [UInt8]

    public init(name: String, counted: Int64, document: [UInt8]) {
        self.name = name
        self.counted = counted
        self.document = document
    }

    public var primaryKey: Key { Key().appending(name) }
    public var indexEntries: [IndexEntry] { [] }

    public func encode(into writer: inout RecordWriter) {
        writer.write(name)
        writer.write(counted)
        writer.write(document)
    }

    public init(from reader: inout RecordReader) throws(StoreError) {
        name = try reader.readString()
        counted = try reader.readInt64()
        document = try reader.readBytes()
    }
}

extension MetadataReading {
    /// The kept report `name`, if one was counted.
    public func reportSnapshot(name: String) throws -> ReportSnapshotRecord? {
        try record(ReportSnapshotRecord.self, key: Key().appending(name))
    }
}
