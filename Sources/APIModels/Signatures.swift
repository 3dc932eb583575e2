/// One item to sign or verify: exactly one of `digest` and `data` (base64); for verification also
/// `signature`. A body is one item, or `items` with top-level defaults (`SignatureBody` in the document).
public struct SignatureItem: APIModel {
    public var digest: String?
    public var data: String?
    public var signature: String?
    /// `ecdsa`, `eddsa`, `pkcs1` or `pss`; default by key.
    public var scheme: String?
    public var hash: String?
    public var saltLength: Int?
    /// `der` or `raw` (ECDSA).
    public var signatureFormat: String?
    /// The caller's label, echoed in batch results.
    public var reference: String?

    public init(
        digest: String? = nil,
        data: String? = nil,
        signature: String? = nil,
        scheme: String? = nil,
        hash: String? = nil,
        saltLength: Int? = nil,
        signatureFormat: String? = nil,
        reference: String? = nil
    ) {
        self.digest = digest
        self.data = data
        self.signature = signature
        self.scheme = scheme
        self.hash = hash
        self.saltLength = saltLength
        self.signatureFormat = signatureFormat
        self.reference = reference
    }

    public static let example = SignatureItem(
        digest: "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=",
        data: "aGVsbG8=",
        signature: "MEUCIQ…",
        scheme: "pss",
        hash: "sha256",
        saltLength: 32,
        signatureFormat: "der",
        reference: "build-17"
    )
}

/// The result of signing one item; in a batch, either `signature` or `error`.
public struct SignResult: APIModel {
    public var reference: String?
    /// Base64.
    public var signature: String?
    public var scheme: String?
    public var hash: String?
    public var signatureFormat: String?
    public var error: ItemError?

    public init(
        reference: String? = nil,
        signature: String? = nil,
        scheme: String? = nil,
        hash: String? = nil,
        signatureFormat: String? = nil,
        error: ItemError? = nil
    ) {
        self.reference = reference
        self.signature = signature
        self.scheme = scheme
        self.hash = hash
        self.signatureFormat = signatureFormat
        self.error = error
    }

    public static let example = SignResult(
        reference: "build-17",
        signature: "MEUCIQ…",
        scheme: "ecdsa",
        hash: "sha256",
        signatureFormat: "der",
        error: .example
    )
}

/// The result of verifying one item; in a batch, either `valid` or `error`.
public struct VerifyResult: APIModel {
    public var reference: String?
    public var valid: Bool?
    public var error: ItemError?

    public init(reference: String? = nil, valid: Bool? = nil, error: ItemError? = nil) {
        self.reference = reference
        self.valid = valid
        self.error = error
    }

    public static let example = VerifyResult(reference: "build-17", valid: true, error: .example)
}

/// Why one item of a batch failed (the others are unaffected).
public struct ItemError: APIModel {
    public var code: String
    public var message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }

    public static let example = ItemError(code: "invalid_input", message: "give either digest or data")
}

/// `POST /v1/codesign/{name}` as JSON: exactly one of `digest` and `data` (base64).
public struct CodeSignBody: APIModel {
    public var digest: String?
    public var data: String?
    public var hash: String?
    public var scheme: String?
    public var saltLength: Int?
    /// `none`, `preferred` or `required`: whether the signature carries a time-stamp token.
    public var timestamp: String?

    public init(
        digest: String? = nil,
        data: String? = nil,
        hash: String? = nil,
        scheme: String? = nil,
        saltLength: Int? = nil,
        timestamp: String? = nil
    ) {
        self.digest = digest
        self.data = data
        self.hash = hash
        self.scheme = scheme
        self.saltLength = saltLength
        self.timestamp = timestamp
    }

    public static let example = CodeSignBody(
        digest: "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=",
        data: "aGVsbG8=",
        hash: "sha256",
        scheme: "pss",
        saltLength: 32,
        timestamp: "preferred"
    )
}
