/// An error from the metadata store.
public struct StoreError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of failure; extensible.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private var name: String
        private init(_ name: String) { self.name = name }
        /// An LMDB call failed; `lmdbCode` and `function` say which and how.
        public static let lmdb = Code("LMDB error")
        /// The map (the file's maximum size) is full.
        public static let mapFull = Code("store full")
        /// The data file is not an LMDB environment of a compatible version.
        public static let corrupt = Code("corrupt or foreign data file")
        /// The store cannot be opened or written at its path.
        public static let unavailable = Code("store unavailable")
        /// A key or value is malformed (for example, a key that does not decode).
        public static let invalidData = Code("invalid data")
        /// The writer was shut down.
        public static let shutDown = Code("store shut down")
        /// Another node changed what this transaction read (a PostgreSQL serialization failure) more
        /// often than the writer retries.
        public static let conflict = Code("store conflict")
        /// The store is a read-only replica.
        public static let readOnly = Code("store read-only")
        /// The database refused a statement for another reason (`reason` has its message).
        public static let database = Code("database error")
        public var description: String { name }
    }

    public var code: Code
    /// The LMDB return code, for `.lmdb` and the codes derived from it.
    public var lmdbCode: Int32?
    /// The LMDB function that failed.
    public var function: String?
    public var reason: String

    public init(code: Code, lmdbCode: Int32? = nil, function: String? = nil, reason: String) {
        self.code = code
        self.lmdbCode = lmdbCode
        self.function = function
        self.reason = reason
    }

    public var description: String { "\(code): \(reason)" }

    /// Whether the store could not do the work now (a database away, a conflict retried too often, a
    /// read-only replica, a shut-down writer), as opposed to data that is wrong: callers answer 503.
    public var isUnavailable: Bool { [.unavailable, .conflict, .shutDown, .readOnly].contains(code) }
}
