public import Foundation

/// `POST /v1/cas`: a root, a sub-CA under a Custos CA, or a sub-CA of a parent outside Custos.
public struct CreateCABody: APIModel {
    public var id: String
    /// Subject DN as RFC 4514 text.
    public var subject: String
    /// `ec-p256`, `ec-p384`, `ec-p521`, `rsa-2048`, `rsa-3072`, `rsa-4096` or `ed25519`.
    public var algorithm: String
    public var validityDays: Int?
    public var pathLength: Int?
    /// The parent CA's id; none: a root.
    public var parent: String?
    public var tenant: String?
    /// A sub-CA of a parent outside Custos (pending until its certificate is imported).
    public var external: Bool?

    public init(
        id: String,
        subject: String,
        algorithm: String,
        validityDays: Int? = nil,
        pathLength: Int? = nil,
        parent: String? = nil,
        tenant: String? = nil,
        external: Bool? = nil
    ) {
        self.id = id
        self.subject = subject
        self.algorithm = algorithm
        self.validityDays = validityDays
        self.pathLength = pathLength
        self.parent = parent
        self.tenant = tenant
        self.external = external
    }

    public static let example = CreateCABody(
        id: "issuing",
        subject: "CN=Issuing CA,O=Acme",
        algorithm: "ec-p256",
        validityDays: 3650,
        pathLength: 0,
        parent: "root",
        tenant: "factory",
        external: false
    )
}

/// `PUT /v1/cas/{ca}/certificate`: the certificate an external parent issued, and its chain.
public struct CACertificateBody: APIModel {
    /// PEM: the certificate the external parent issued.
    public var certificate: String
    /// PEM: the parent's chain above it, parent first.
    public var issuerChain: String

    public init(certificate: String, issuerChain: String) {
        self.certificate = certificate
        self.issuerChain = issuerChain
    }

    public static let example = CACertificateBody(
        certificate: "-----BEGIN CERTIFICATE-----…",
        issuerChain: "-----BEGIN CERTIFICATE-----…"
    )
}

/// `POST /v1/cas/{ca}/renew`.
public struct RenewCABody: APIModel {
    /// A new key (a re-key) instead of the same one.
    public var rekey: Bool?
    public var validityDays: Int?

    public init(rekey: Bool? = nil, validityDays: Int? = nil) {
        self.rekey = rekey
        self.validityDays = validityDays
    }

    public static let example = RenewCABody(rekey: true, validityDays: 3650)
}

/// `POST /v1/cas/import`: a CA of another PKI, by its certificate or with its key from PKCS#12.
public struct ImportCABody: APIModel {
    public var id: String
    /// PEM: a CA certificate of another PKI.
    public var certificate: String?
    /// Base64: a PKCS#12 file with a CA's certificate and private key, which moves into the HSM.
    public var pkcs12: String?
    /// The PKCS#12 file's password.
    public var password: String?
    /// An imported CA that signed it.
    public var parent: String?
    public var tenant: String?

    public init(
        id: String,
        certificate: String? = nil,
        pkcs12: String? = nil,
        password: String? = nil,
        parent: String? = nil,
        tenant: String? = nil
    ) {
        self.id = id
        self.certificate = certificate
        self.pkcs12 = pkcs12
        self.password = password
        self.parent = parent
        self.tenant = tenant
    }

    public static let example = ImportCABody(
        id: "partner-root",
        certificate: "-----BEGIN CERTIFICATE-----…",
        pkcs12: "MIIK…",
        password: "secret",
        parent: "partner-ca",
        tenant: "factory"
    )
}

/// `POST /v1/cas/import-ceremony`: a CA whose key a key ceremony made on this token.
public struct ImportCeremonyBody: APIModel {
    public var id: String
    /// The signed transcript (the file's text).
    public var transcript: String
    /// PEM: the CA certificate.
    public var certificate: String
    /// PEM: for a sub-CA, its issuers.
    public var chain: [String]?
    /// The audit key's SPKI SHA-256 (hex) the transcript must be signed by.
    public var auditKey: String?
    public var tenant: String?

    public init(
        id: String,
        transcript: String,
        certificate: String,
        chain: [String]? = nil,
        auditKey: String? = nil,
        tenant: String? = nil
    ) {
        self.id = id
        self.transcript = transcript
        self.certificate = certificate
        self.chain = chain
        self.auditKey = auditKey
        self.tenant = tenant
    }

    public static let example = ImportCeremonyBody(
        id: "root",
        transcript: "{…}",
        certificate: "-----BEGIN CERTIFICATE-----…",
        chain: ["-----BEGIN CERTIFICATE-----…"],
        auditKey: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        tenant: "factory"
    )
}

/// A CA as the API shows it.
public struct CAView: APIModel {
    public var id: String
    public var tenant: String
    /// `root`, `intermediate`, `external-subordinate`, `trust-anchor` or `upstream`.
    public var kind: String
    /// `active`, `pending` or `retired`.
    public var state: String
    public var subject: String
    public var parent: String?
    public var created: Date
    /// The current certificate's serial (hex).
    public var serial: String?
    public var notBefore: Date?
    public var notAfter: Date?
    public var pathLength: Int?
    /// PEM: the current certificate.
    public var certificate: String?
    /// For an external sub-CA: the CSR to send to the parent (PEM); for an upstream CA: its RA's CSR.
    public var csr: String?
    /// Certificates the CA had before its current one.
    public var previousCertificates: Int
    /// For an upstream CA: how Custos reaches it.
    public var upstream: UpstreamLinkView?

    public init(
        id: String,
        tenant: String,
        kind: String,
        state: String,
        subject: String,
        parent: String?,
        created: Date,
        serial: String?,
        notBefore: Date?,
        notAfter: Date?,
        pathLength: Int?,
        certificate: String?,
        csr: String?,
        previousCertificates: Int,
        upstream: UpstreamLinkView? = nil
    ) {
        self.id = id
        self.tenant = tenant
        self.kind = kind
        self.state = state
        self.subject = subject
        self.parent = parent
        self.created = created
        self.serial = serial
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.pathLength = pathLength
        self.certificate = certificate
        self.csr = csr
        self.previousCertificates = previousCertificates
        self.upstream = upstream
    }

    public static let example = CAView(
        id: "issuing",
        tenant: "default",
        kind: "intermediate",
        state: "active",
        subject: "CN=Issuing CA,O=Acme",
        parent: "root",
        created: Date(timeIntervalSince1970: 1_795_000_000),
        serial: "4a1b",
        notBefore: Date(timeIntervalSince1970: 1_795_000_000),
        notAfter: Date(timeIntervalSince1970: 2_110_000_000),
        pathLength: 0,
        certificate: "-----BEGIN CERTIFICATE-----…",
        csr: "-----BEGIN CERTIFICATE REQUEST-----…",
        previousCertificates: 1,
        upstream: .example
    )
}

/// A page of CAs.
public struct CAList: APIModel {
    public var cas: [CAView]
    /// The cursor of the next page, if any.
    public var nextCursor: String?

    public init(cas: [CAView], nextCursor: String?) {
        self.cas = cas
        self.nextCursor = nextCursor
    }

    public static let example = CAList(cas: [.example], nextCursor: "issuing")
}

/// What publishing a CRL made: the full CRL and the delta that goes with it.
public struct CRLView: APIModel {
    public var ca: String
    /// The CRL number.
    public var number: UInt64
    public var thisUpdate: Date
    public var nextUpdate: Date
    /// Revoked certificates listed.
    public var entries: Int
    public var delta: CRLDelta?

    public init(ca: String, number: UInt64, thisUpdate: Date, nextUpdate: Date, entries: Int, delta: CRLDelta?) {
        self.ca = ca
        self.number = number
        self.thisUpdate = thisUpdate
        self.nextUpdate = nextUpdate
        self.entries = entries
        self.delta = delta
    }

    public static let example = CRLView(
        ca: "issuing",
        number: 12,
        thisUpdate: Date(timeIntervalSince1970: 1_795_000_000),
        nextUpdate: Date(timeIntervalSince1970: 1_795_086_400),
        entries: 3,
        delta: .example
    )
}

/// The delta CRL published with a full CRL.
public struct CRLDelta: APIModel {
    public var number: UInt64
    public var entries: Int
    public var nextUpdate: Date

    public init(number: UInt64, entries: Int, nextUpdate: Date) {
        self.number = number
        self.entries = entries
        self.nextUpdate = nextUpdate
    }

    public static let example = CRLDelta(number: 13, entries: 1, nextUpdate: Date(timeIntervalSince1970: 1_795_003_600))
}

/// A CA's delegated OCSP signer (`/v1/cas/{ca}/ocsp-signer`).
public struct OCSPSignerView: APIModel {
    public var ca: String
    public var generation: Int64
    /// The signer's service key (in the HSM; never usable through the signing API).
    public var key: String
    /// The CA key that issued its certificate.
    public var caKey: String
    /// PEM.
    public var certificate: String
    public var notBefore: Date
    public var notAfter: Date
    /// Keys of earlier signers, kept until their certificates expire.
    public var retiredKeys: [String]
    /// Whether answers are signed with it (delegated signers are on).
    public var inUse: Bool

    public init(
        ca: String,
        generation: Int64,
        key: String,
        caKey: String,
        certificate: String,
        notBefore: Date,
        notAfter: Date,
        retiredKeys: [String],
        inUse: Bool
    ) {
        self.ca = ca
        self.generation = generation
        self.key = key
        self.caKey = caKey
        self.certificate = certificate
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.retiredKeys = retiredKeys
        self.inUse = inUse
    }

    public static let example = OCSPSignerView(
        ca: "issuing",
        generation: 2,
        key: "ocsp-issuing-2",
        caKey: "issuing",
        certificate: "-----BEGIN CERTIFICATE-----…",
        notBefore: Date(timeIntervalSince1970: 1_795_000_000),
        notAfter: Date(timeIntervalSince1970: 1_797_592_000),
        retiredKeys: ["ocsp-issuing-1"],
        inUse: true
    )
}
