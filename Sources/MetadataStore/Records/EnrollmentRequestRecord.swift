/// A certificate request that came through an enrollment protocol and waits for, or got, an
/// officer's decision. Requests issued at once leave no such record (their certificate and audit
/// entries tell their story).
public struct EnrollmentRequestRecord: StoredRecord, Hashable {
    public static let table = "enrollment-requests"
    /// Version 2 added `awaitingUpstream` and `upstreamError`.
    public static let formatVersions: ClosedRange<UInt8> = 1...2

    public enum State: String, Sendable, Hashable, CaseIterable {
        case pending, issued, rejected
    }

    public var id: String
    public var profile: String
    /// `est`, `scep`, …
    public var protocolName: String
    /// How the client authenticated (`password/<user>`, `one-time/<secret id>`, `certificate/<subject>`).
    public var client: String
    /// The subject (RFC 4514) of the client's certificate, when it authenticated with one: a profile's
    /// subject template may use it when an officer approves.
    public var clientSubject: String?
    /// The PKCS#10 request in DER.
    public var csr: [UInt8]
    /// SHA-256 of the request's public key (SubjectPublicKeyInfo DER): how a polling client is found.
    public var keyHash: [UInt8]
    /// A protocol's own transaction identifier (SCEP's transactionID), if any.
    public var transaction: String?
    /// For a re-enrollment, the serial (hex) of the certificate it renews.
    public var renews: String?
    public var state: State
    public var created: Int64
    /// Who decided, and when (nanoseconds since 1970).
    public var decidedBy: String?
    public var decided: Int64?
    /// A rejection's reason.
    public var reason: String?
    /// The issued certificate's serial (hex) at the profile's CA.
    public var serial: String?
    /// Held because the profile's upstream CA could not be reached (not for an officer): sent to it again
    /// until it answers.
    public var awaitingUpstream: Bool
    /// Why the last attempt to reach the upstream CA failed.
    public var upstreamError: String?

    public init(
        id: String,
        profile: String,
        protocolName: String,
        client: String,
        clientSubject: String? = nil,
        csr: [UInt8],
        keyHash: [UInt8],
        transaction: String? = nil,
        renews: String? = nil,
        state: State = .pending,
        created: Int64,
        decidedBy: String? = nil,
        decided: Int64? = nil,
        reason: String? = nil,
        serial: String? = nil,
        awaitingUpstream: Bool = false,
        upstreamError: String? = nil
    ) {
        self.id = id
        self.profile = profile
        self.protocolName = protocolName
        self.client = client
        self.clientSubject = clientSubject
        self.csr = csr
        self.keyHash = keyHash
        self.transaction = transaction
        self.renews = renews
        self.state = state
        self.created = created
        self.decidedBy = decidedBy
        self.decided = decided
        self.reason = reason
        self.serial = serial
        self.awaitingUpstream = awaitingUpstream
        self.upstreamError = upstreamError
    }

    public var primaryKey: Key { Self.key(id: id) }
    static func key(id: String) -> Key { Key().appending(id) }

    static func keyHashValue(profile: String, keyHash: [UInt8]) -> Key {
        var key = Key().appending(profile)
        key.append(bytes: keyHash)
        return key
    }

    public var indexEntries: [IndexEntry] {
        var entries = [
            IndexEntry("key", Self.keyHashValue(profile: profile, keyHash: keyHash)),
            IndexEntry("state", Key().appending(state.rawValue).appending(id)),
        ]
        if let transaction {
            entries.append(IndexEntry("transaction", Key().appending(profile).appending(transaction)))
        }
        return entries
    }

    public func encode(into writer: inout RecordWriter) {
        writer.write(id)
        writer.write(profile)
        writer.write(protocolName)
        writer.write(client)
        writer.write(clientSubject)
        writer.write(csr)
        writer.write(keyHash)
        writer.write(transaction)
        writer.write(renews)
        writer.write(state.rawValue)
        writer.write(created)
        writer.write(decidedBy)
        writer.write(decided)
        writer.write(reason)
        writer.write(serial)
        writer.write(awaitingUpstream)
        writer.write(upstreamError)
    }

    public init(from reader: inout RecordReader) throws(StoreError) {
        id = try reader.readString()
        profile = try reader.readString()
        protocolName = try reader.readString()
        client = try reader.readString()
        clientSubject = try reader.readOptionalString()
        csr = try reader.readBytes()
        keyHash = try reader.readBytes()
        transaction = try reader.readOptionalString()
        renews = try reader.readOptionalString()
        state = try reader.readEnum(State.self)
        created = try reader.readInt64()
        decidedBy = try reader.readOptionalString()
        decided = try reader.readOptionalInt64()
        reason = try reader.readOptionalString()
        serial = try reader.readOptionalString()
        guard reader.formatVersion >= 2 else {
            (awaitingUpstream, upstreamError) = (false, nil)
            return
        }
        awaitingUpstream = try reader.readBool()
        upstreamError = try reader.readOptionalString()
    }
}

extension MetadataReading {
    /// The enrollment request `id`.
    public func enrollmentRequest(id: String) throws -> EnrollmentRequestRecord? {
        try record(EnrollmentRequestRecord.self, key: EnrollmentRequestRecord.key(id: id))
    }

    /// The requests of `profile` for the public key hashing to `keyHash`, oldest first.
    public func enrollmentRequests(profile: String, keyHash: [UInt8]) throws -> [EnrollmentRequestRecord] {
        try records(
            EnrollmentRequestRecord.self,
            index: "key",
            value: EnrollmentRequestRecord.keyHashValue(profile: profile, keyHash: keyHash)
        )
        .sorted { $0.created < $1.created }
    }

    /// The request of `profile` with a protocol's `transaction` id.
    public func enrollmentRequest(profile: String, transaction: String) throws -> EnrollmentRequestRecord? {
        try records(
            EnrollmentRequestRecord.self,
            index: "transaction",
            value: Key().appending(profile).appending(transaction),
            limit: 1
        )
        .first
    }

    /// Requests in `state`, in id order after `cursor`.
    public func enrollmentRequests(state: EnrollmentRequestRecord.State, after cursor: String?, limit: Int) throws
        -> [EnrollmentRequestRecord]
    {
        let prefix = Key().appending(state.rawValue)
        let lower = cursor.map { prefix.appending($0) } ?? prefix
        let upper = Key(bytes: prefix.prefixEnd ?? [0xFF])
        return try keys(EnrollmentRequestRecord.self, index: "state", from: lower, to: upper, limit: limit + 1)
            .filter { cursor == nil || $0 != EnrollmentRequestRecord.key(id: cursor!) }
            .prefix(limit)
            .compactMap { try record(EnrollmentRequestRecord.self, key: $0) }
    }
}
