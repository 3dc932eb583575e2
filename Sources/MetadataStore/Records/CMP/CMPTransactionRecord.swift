/// A CMP transaction (RFC 9810 section 5.1.1, RFC 9483 section 3.5): what a request started, so that
/// the messages after it (certConf, pollReq) are checked against it and a repeated or out-of-order
/// message is refused. One record per profile and transactionID; it outlives its transaction by a day so
/// that a replayed first message finds its id in use.
public struct CMPTransactionRecord: StoredRecord, Hashable {
    public static let table = "cmp-transactions"
    public static let formatVersions: ClosedRange<UInt8> = 1...1

    public enum State: String, Sendable, Hashable {
        /// The first message is being answered.
        case open
        /// A certificate was sent; its certConf is awaited.
        case awaitingConfirmation = "awaiting-confirmation"
        /// The request waits for an officer; the client polls.
        case waiting
        /// Finished (confirmed, refused, or failed): later messages are refused.
        case closed
    }

    public var profile: String
    public var transactionID: [UInt8]
    public var state: State
    /// The tag of the first message's body (ir 0, cr 2, p10cr 4, kur 7, …).
    public var requestBody: Int64
    public var certReqID: Int64
    /// How the client authenticated (`ClientIdentity.name`).
    public var client: String
    /// The secret whose MAC protected the first message; later messages must use it too.
    public var macSecret: String?
    /// SHA-256 of the certificate that signed the first message; later messages must be signed by it.
    public var signerHash: [UInt8]?
    /// The senderNonce of Custos' last answer: the next message's recipNonce.
    public var lastNonce: [UInt8]
    /// The request waiting for approval, if any.
    public var enrollmentRequest: String?
    /// The certificate sent (issuer CA and serial), if any.
    public var ca: String?
    public var serial: [UInt8]?
    /// Whether the answer granted implicit confirmation.
    public var implicitConfirm: Bool
    /// Nanoseconds since 1970.
    public var created: Int64
    /// After this instant a waiting-for-confirmation transaction is closed, and a closed one removed.
    public var expires: Int64

    public init(
        profile: String,
        transactionID: [UInt8],
        state: State,
        requestBody: Int64,
        certReqID: Int64,
        client: String,
        macSecret: String?,
        signerHash: [UInt8]?,
        lastNonce: [UInt8],
        created: Int64,
        expires: Int64
    ) {
        self.profile = profile
        self.transactionID = transactionID
        self.state = state
        self.requestBody = requestBody
        self.certReqID = certReqID
        self.client = client
        self.macSecret = macSecret
        self.signerHash = signerHash
        self.lastNonce = lastNonce
        self.implicitConfirm = false
        self.created = created
        self.expires = expires
    }

    public var primaryKey: Key { Self.key(profile: profile, transactionID: transactionID) }
    static func key(profile: String, transactionID: [UInt8]) -> Key {
        var key = Key().appending(profile)
        key.append(bytes: transactionID)
        return key
    }
    public var indexEntries: [IndexEntry] {
        [IndexEntry("expires", Key().appending(expires))]
    }

    public func encode(into writer: inout RecordWriter) {
        writer.write(profile)
        writer.write(transactionID)
        writer.write(state.rawValue)
        writer.write(requestBody)
        writer.write(certReqID)
        writer.write(client)
        writer.write(macSecret)
        writer.write(signerHash)
        writer.write(lastNonce)
        writer.write(enrollmentRequest)
        writer.write(ca)
        writer.write(serial)
        writer.write(implicitConfirm)
        writer.write(created)
        writer.write(expires)
    }

    public init(from reader: inout RecordReader) throws(StoreError) {
        profile = try reader.readString()
        transactionID = try reader.readBytes()
        state = try reader.readEnum(State.self)
        requestBody = try reader.readInt64()
        certReqID = try reader.readInt64()
        client = try reader.readString()
        macSecret = try reader.readOptionalString()
        signerHash = try reader.readOptionalBytes()
        lastNonce = try reader.readBytes()
        enrollmentRequest = try reader.readOptionalString()
        ca = try reader.readOptionalString()
        serial = try reader.readOptionalBytes()
        implicitConfirm = try reader.readBool()
        created = try reader.readInt64()
        expires = try reader.readInt64()
    }
}

extension MetadataReading {
    /// The transaction `transactionID` of `profile`.
    public func cmpTransaction(profile: String, transactionID: [UInt8]) throws -> CMPTransactionRecord? {
        try record(
            CMPTransactionRecord.self,
            key: CMPTransactionRecord.key(profile: profile, transactionID: transactionID)
        )
    }

    /// Transactions whose `expires` is before `before` (nanoseconds since 1970), soonest first.
    public func cmpTransactions(expiringBefore before: Int64, limit: Int) throws -> [CMPTransactionRecord] {
        try keys(CMPTransactionRecord.self, index: "expires", from: Key(), to: Key().appending(before), limit: limit)
            .compactMap { try record(CMPTransactionRecord.self, key: $0) }
    }
}
