public import Foundation

/// `POST /v1/keys`: a signing key generated in the HSM.
public struct CreateKeyBody: APIModel {
    public var name: String
    /// `ecdsa-p256`, `ecdsa-p384`, `ed25519`, `rsa-2048`, `rsa-3072` or `rsa-4096`.
    public var algorithm: String

    public init(name: String, algorithm: String) {
        self.name = name
        self.algorithm = algorithm
    }

    public static let example = CreateKeyBody(name: "release", algorithm: "ecdsa-p256")
}

/// `PUT /v1/keys/{name}/certificate`.
public struct KeyCertificateBody: APIModel {
    /// PEM certificates, leaf first.
    public var certificateChain: String

    public init(certificateChain: String) { self.certificateChain = certificateChain }

    public static let example = KeyCertificateBody(certificateChain: "-----BEGIN CERTIFICATE-----…")
}

/// `POST /v1/keys/{name}/csr`.
public struct KeyCertificateRequestBody: APIModel {
    /// The subject as RFC 4514 text, e.g. `CN=Release signing,O=Example`.
    public var subject: String

    public init(subject: String) { self.subject = subject }

    public static let example = KeyCertificateRequestBody(subject: "CN=Release signing,O=Example")
}

/// A certificate request signed by a key.
public struct KeyCertificateRequestView: APIModel {
    /// PEM `CERTIFICATE REQUEST`.
    public var csr: String

    public init(csr: String) { self.csr = csr }

    public static let example = KeyCertificateRequestView(csr: "-----BEGIN CERTIFICATE REQUEST-----…")
}

/// A signing key (its private half never leaves the HSM).
public struct KeyView: APIModel {
    public var name: String
    public var algorithm: String
    /// `active` or `disabled`.
    public var state: String
    public var created: Date
    /// PEM `PUBLIC KEY`.
    public var publicKey: String
    /// The token's label.
    public var token: String
    /// `CKA_ID`, hex.
    public var keyId: String
    /// PEM, leaf first, once a chain is attached.
    public var certificateChain: [String]?

    public init(
        name: String,
        algorithm: String,
        state: String,
        created: Date,
        publicKey: String,
        token: String,
        keyId: String,
        certificateChain: [String]?
    ) {
        self.name = name
        self.algorithm = algorithm
        self.state = state
        self.created = created
        self.publicKey = publicKey
        self.token = token
        self.keyId = keyId
        self.certificateChain = certificateChain
    }

    public static let example = KeyView(
        name: "release",
        algorithm: "ecdsa-p256",
        state: "active",
        created: Date(timeIntervalSince1970: 1_795_000_000),
        publicKey: "-----BEGIN PUBLIC KEY-----…",
        token: "custos",
        keyId: "0a1b2c3d",
        certificateChain: ["-----BEGIN CERTIFICATE-----…"]
    )
}

/// `GET /v1/keys`.
public struct KeyList: APIModel {
    public var keys: [KeyView]
    public var nextCursor: String?

    public init(keys: [KeyView], nextCursor: String?) {
        self.keys = keys
        self.nextCursor = nextCursor
    }

    public static let example = KeyList(keys: [.example], nextCursor: "release")
}
