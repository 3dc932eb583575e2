/// Who runs a background job that one process at a time should run on a store several processes share
/// (`StoreLease`), and until when.
public struct LeaseRecord: StoredRecord, Hashable {
    public static let table = "leases"
    public static let formatVersions: ClosedRange<UInt8> = 1...1

    /// The job, e.g. `ocsp-sign-ahead`.
    public var name: String
    /// The process holding it (unique per process start).
    public var holder: String
    /// A holder of a higher rank takes the lease from a lower one without waiting for it to expire.
    public var rank: Int64
    /// Nanoseconds since 1970: when others may take it unless the holder renews it.
    public var expires: Int64

    public init(name: String, holder: String, rank: Int64, expires: Int64) {
        self.name = name
        self.holder = holder
        self.rank = rank
        self.expires = expires
    }

    public var primaryKey: Key { Key().appending(name) }
    public var indexEntries: [IndexEntry] { [] }

    public func encode(into writer: inout RecordWriter) {
        writer.write(name)
        writer.write(holder)
        writer.write(rank)
        writer.write(expires)
    }

    public init(from reader: inout RecordReader) throws(StoreError) {
        name = try reader.readString()
        holder = try reader.readString()
        rank = try reader.readInt64()
        expires = try reader.readInt64()
    }
}
