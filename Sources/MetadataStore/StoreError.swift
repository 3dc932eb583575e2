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
}
