/// A certificate authority Custos operates (or a trust anchor it imported).
public struct CARecord: StoredRecord, Hashable {
    public static let table = "cas"
    /// Version 2 added the CSR, the external issuer chain and previous certificates; version 3 the
    /// upstream link; version 4 its external account binding.
    public static let formatVersions: ClosedRange<UInt8> = 1...4
    /// Read on every request that uses it; readers cache it by change stamp.
    public static let tracksChanges = true

    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// Self-signed root held by Custos.
        case root
        /// Sub-CA under a CA held by Custos.
        case intermediate
        /// Sub-CA of an external parent (Custos holds the key, the parent signs).
        case externalSubordinate = "external-subordinate"
        /// A certificate of another PKI, trusted but without a key here.
        case trustAnchor = "trust-anchor"
        /// A CA elsewhere that Custos forwards requests to as its registration authority.
        case upstream
    }

    public enum State: String, Sendable, Hashable, CaseIterable {
        /// Waiting for the external parent's certificate (for an upstream CA: the RA's certificate).
        case pending
        case active
        case retired
    }

    public var id: String
    public var tenant: String
    public var kind: Kind
    public var state: State
    /// Subject DN (RFC 4514).
    public var subject: String
    /// The parent CA's id, for intermediates held by Custos.
    public var parent: String?
    /// The signing key's `KeyRecord` name; nil for trust anchors and upstream CAs.
    public var keyName: String?
    /// The CA certificate (DER); nil while pending.
    public var certificate: [UInt8]?
    public var created: Int64
    /// For an external subordinate: the CSR Custos made for the parent (DER); for an upstream CA: the
    /// RA's CSR.
    public var csr: [UInt8]?
    /// For an external subordinate: the parent's chain above the certificate (DER, parent first).
    public var issuerChain: [[UInt8]]
    /// Certificates the CA had before renewals (DER, oldest first).
    public var previousCertificates: [[UInt8]]
    /// For an upstream CA: how Custos reaches it.
    public var upstream: UpstreamLink?

    public init(
        id: String,
        tenant: String,
        kind: Kind,
        state: State,
        subject: String,
        parent: String?,
        keyName: String?,
        certificate: [UInt8]?,
        created: Int64,
        csr: [UInt8]? = nil,
        issuerChain: [[UInt8]] = [],
        previousCertificates: [[UInt8]] = [],
        upstream: UpstreamLink? = nil
    ) {
        self.id = id
        self.tenant = tenant
        self.kind = kind
        self.state = state
        self.subject = subject
        self.parent = parent
        self.keyName = keyName
        self.certificate = certificate
        self.created = created
        self.csr = csr
        self.issuerChain = issuerChain
        self.previousCertificates = previousCertificates
        self.upstream = upstream
    }

    public var primaryKey: Key { Self.key(id: id) }

    static func key(id: String) -> Key { Key().appending(id) }
    public var indexEntries: [IndexEntry] {
        var entries = [
            IndexEntry("tenant", Key().appending(tenant)), IndexEntry("state", Key().appending(state.rawValue)),
        ]
        if let parent { entries.append(IndexEntry("parent", Key().appending(parent))) }
        return entries
    }

    public func encode(into writer: inout RecordWriter) {
        writer.write(id)
        writer.write(tenant)
        writer.write(kind.rawValue)
        writer.write(state.rawValue)
        writer.write(subject)
        writer.write(parent)
        writer.write(keyName)
        writer.write(certificate)
        writer.write(created)
        writer.write(csr)
        writer.write(issuerChain)
        writer.write(previousCertificates)
        writer.write(upstream != nil)
        upstream?.encode(into: &writer)
    }

    public init(from reader: inout RecordReader) throws(StoreError) {
        id = try reader.readString()
        tenant = try reader.readString()
        kind = try reader.readEnum(Kind.self)
        state = try reader.readEnum(State.self)
        subject = try reader.readString()
        parent = try reader.readOptionalString()
        keyName = try reader.readOptionalString()
        certificate = try reader.readOptionalBytes()
        created = try reader.readInt64()
        guard reader.formatVersion >= 2 else {
            (csr, issuerChain, previousCertificates) = (nil, [], [])
            return
        }
        csr = try reader.readOptionalBytes()
        issuerChain = try reader.readByteStrings()
        previousCertificates = try reader.readByteStrings()
        let linked = reader.formatVersion >= 3 ? try reader.readBool() : false
        upstream = linked ? try UpstreamLink(from: &reader) : nil
    }
}

extension MetadataReading {
    /// The CA `id`.
    public func ca(id: String) throws -> CARecord? { try record(CARecord.self, key: CARecord.key(id: id)) }

    /// CAs in id order after `id` (exclusive), or from the first.
    public func cas(after id: String?, limit: Int) throws -> [CARecord] {
        try records(CARecord.self, after: id.map { CARecord.key(id: $0) }, limit: limit)
    }

    /// The CAs of `tenant`, in id order.
    public func cas(tenant: String) throws -> [CARecord] {
        try records(CARecord.self, index: "tenant", value: Key().appending(tenant))
    }
}
