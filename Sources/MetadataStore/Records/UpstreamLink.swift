/// How Custos reaches a CA whose key is elsewhere (a CA record of kind `upstream`): the protocol and
/// address of that CA, and the registration authority Custos acts as toward it. The RA's key is in the
/// HSM; its certificate, issued by the upstream PKI for the RA's CSR (`CARecord.csr`), is nil until it
/// is imported.
public struct UpstreamLink: Sendable, Hashable {
    /// The protocol spoken to the upstream CA (`cmp`).
    public var protocolName: String
    /// Where its messages go, for CMP the full URL of the CMP endpoint.
    public var url: String
    /// The RA key's `KeyRecord` name (a Custos service key).
    public var raKeyName: String
    /// The RA's certificate (DER) from the upstream PKI; nil while the CA is pending.
    public var raCertificate: [UInt8]?
    /// The certificates above the RA's certificate that the upstream may need (DER, issuer first).
    public var raChain: [[UInt8]]
    /// Trust anchors for the upstream's answers (DER): their protection must chain to one of them.
    public var responseAnchors: [[UInt8]]
    /// How long one exchange with the upstream may take, polling included.
    public var timeoutSeconds: Int
    /// How many times a request is sent when the upstream cannot be reached or answers garbage.
    public var attempts: Int
    /// ACME external account binding (RFC 8555 section 7.3.4): the key id the upstream gave, and its MAC
    /// key wrapped under the AES key `externalAccountKEK` in the HSM (never stored in the clear).
    public var externalAccountKeyID: String?
    public var externalAccountKey: [UInt8]?
    public var externalAccountKEK: String?

    public init(
        protocolName: String,
        url: String,
        raKeyName: String,
        raCertificate: [UInt8]? = nil,
        raChain: [[UInt8]] = [],
        responseAnchors: [[UInt8]],
        timeoutSeconds: Int,
        attempts: Int,
        externalAccountKeyID: String? = nil,
        externalAccountKey: [UInt8]? = nil,
        externalAccountKEK: String? = nil
    ) {
        self.externalAccountKeyID = externalAccountKeyID
        self.externalAccountKey = externalAccountKey
        self.externalAccountKEK = externalAccountKEK
        self.protocolName = protocolName
        self.url = url
        self.raKeyName = raKeyName
        self.raCertificate = raCertificate
        self.raChain = raChain
        self.responseAnchors = responseAnchors
        self.timeoutSeconds = timeoutSeconds
        self.attempts = attempts
    }

    func encode(into writer: inout RecordWriter) {
        writer.write(protocolName)
        writer.write(url)
        writer.write(raKeyName)
        writer.write(raCertificate)
        writer.write(raChain)
        writer.write(responseAnchors)
        writer.write(timeoutSeconds)
        writer.write(attempts)
        writer.write(externalAccountKeyID)
        writer.write(externalAccountKey)
        writer.write(externalAccountKEK)
    }

    init(from reader: inout RecordReader) throws(StoreError) {
        protocolName = try reader.readString()
        url = try reader.readString()
        raKeyName = try reader.readString()
        raCertificate = try reader.readOptionalBytes()
        raChain = try reader.readByteStrings()
        responseAnchors = try reader.readByteStrings()
        timeoutSeconds = try reader.readInt()
        attempts = try reader.readInt()
        guard reader.formatVersion >= 4 else {
            (externalAccountKeyID, externalAccountKey, externalAccountKEK) = (nil, nil, nil)
            return
        }
        externalAccountKeyID = try reader.readOptionalString()
        externalAccountKey = try reader.readOptionalBytes()
        externalAccountKEK = try reader.readOptionalString()
    }
}
