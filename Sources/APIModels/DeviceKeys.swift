/// How a generated device key is delivered: a PKCS#12 file under the caller's password.
public struct DeviceKeyPKCS12Body: APIModel {
    /// 8 to 1024 bytes; Custos keeps no copy.
    public var password: String
    /// PBKDF2 and MAC iterations, 2048 (default, as OpenSSL) to 1,000,000.
    public var iterations: Int?

    public init(password: String, iterations: Int? = nil) {
        self.password = password
        self.iterations = iterations
    }

    public static let example = DeviceKeyPKCS12Body(password: "correct horse battery staple", iterations: 100_000)
}

/// `POST /v1/cas/{ca}/device-keys`: a key pair made in the HSM for a device, and its certificate.
public struct GenerateDeviceKeyBody: APIModel {
    public var category: String
    /// RFC 4514 text.
    public var subject: String
    /// `dns:…`, `ip:…`, `email:…`, `uri:…`.
    public var alternativeNames: [String]?
    /// `ec-p256` (default), `ec-p384`, `ec-p521`, `rsa-2048`, `rsa-3072`, `rsa-4096`.
    public var algorithm: String?
    public var validityDays: Int?
    public var metadata: [String: String]?
    /// Deliver the key in a PKCS#12 file under this password (needs a token that wraps private keys
    /// with `CKM_AES_CBC_PAD`). Exactly one of `pkcs12` and `rsaPublicKey`.
    public var pkcs12: DeviceKeyPKCS12Body?
    /// Deliver the key wrapped to this RSA public key (PEM, 2048 bits or more).
    public var rsaPublicKey: String?
    /// The RSA-OAEP hash for `rsaPublicKey`: `sha256` (default), `sha1` (SoftHSM 2.6 has no other),
    /// `sha384`, `sha512`.
    public var oaepHash: String?

    public init(
        category: String,
        subject: String,
        alternativeNames: [String]? = nil,
        algorithm: String? = nil,
        validityDays: Int? = nil,
        metadata: [String: String]? = nil,
        pkcs12: DeviceKeyPKCS12Body? = nil,
        rsaPublicKey: String? = nil,
        oaepHash: String? = nil
    ) {
        self.category = category
        self.subject = subject
        self.alternativeNames = alternativeNames
        self.algorithm = algorithm
        self.validityDays = validityDays
        self.metadata = metadata
        self.pkcs12 = pkcs12
        self.rsaPublicKey = rsaPublicKey
        self.oaepHash = oaepHash
    }

    public static let example = GenerateDeviceKeyBody(
        category: "device",
        subject: "CN=PLC 4711,O=Acme",
        alternativeNames: ["dns:plc-4711.line3.acme.example"],
        algorithm: "ec-p256",
        validityDays: 365,
        metadata: ["line": "3"],
        pkcs12: .example,
        rsaPublicKey: "-----BEGIN PUBLIC KEY-----…",
        oaepHash: "sha256"
    )
}

/// A generated device key: its certificate (with the chain) and the key as asked.
public struct DeviceKeyAnswer: APIModel {
    public var certificate: CertificateView
    /// The PKCS#12 file in standard base64: the key (PBES2, AES-256-CBC) and the certificate chain.
    public var pkcs12: String?
    /// The key wrapped to `rsaPublicKey`, standard base64: RSA-OAEP of a one-use AES-256 key (the
    /// modulus' length), then the PKCS#8 private key wrapped under it with RFC 5649 (the layout of
    /// PKCS#11's `CKM_RSA_AES_KEY_WRAP`).
    public var wrappedKey: String?

    public init(certificate: CertificateView, pkcs12: String?, wrappedKey: String?) {
        self.certificate = certificate
        self.pkcs12 = pkcs12
        self.wrappedKey = wrappedKey
    }

    public static let example = DeviceKeyAnswer(certificate: .example, pkcs12: "MIIG…", wrappedKey: "hT0v…")
}
