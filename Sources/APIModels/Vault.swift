public import Foundation

/// `POST /v1/vault`: a namespace and its policy; absent limits take the service's defaults.
public struct CreateNamespaceBody: APIModel {
    public var name: String
    public var maxSecretBytes: Int?
    public var keepVersions: Int?
    /// Whether keys may be imported in plaintext (audited); default false.
    public var allowPlaintextImport: Bool?
    /// Whether keys may be exported in plaintext (audited); default false.
    public var allowPlaintextExport: Bool?

    public init(
        name: String,
        maxSecretBytes: Int? = nil,
        keepVersions: Int? = nil,
        allowPlaintextImport: Bool? = nil,
        allowPlaintextExport: Bool? = nil
    ) {
        self.name = name
        self.maxSecretBytes = maxSecretBytes
        self.keepVersions = keepVersions
        self.allowPlaintextImport = allowPlaintextImport
        self.allowPlaintextExport = allowPlaintextExport
    }

    public static let example = CreateNamespaceBody(
        name: "payments",
        maxSecretBytes: 65536,
        keepVersions: 10,
        allowPlaintextImport: false,
        allowPlaintextExport: false
    )
}

/// A vault namespace: its policy and its key-encryption keys (which stay in the HSM).
public struct VaultNamespaceView: APIModel {
    public var name: String
    public var kekVersions: [UInt64]
    public var currentKEKVersion: UInt64
    public var maxSecretBytes: Int
    public var keepVersions: Int
    public var allowPlaintextImport: Bool
    public var allowPlaintextExport: Bool
    public var created: Date
    /// While older KEKs are being retired: their versions and how many entries they still encrypt.
    public var rotation: VaultRotationProgress?

    public init(
        name: String,
        kekVersions: [UInt64],
        currentKEKVersion: UInt64,
        maxSecretBytes: Int,
        keepVersions: Int,
        allowPlaintextImport: Bool,
        allowPlaintextExport: Bool,
        created: Date,
        rotation: VaultRotationProgress?
    ) {
        self.name = name
        self.kekVersions = kekVersions
        self.currentKEKVersion = currentKEKVersion
        self.maxSecretBytes = maxSecretBytes
        self.keepVersions = keepVersions
        self.allowPlaintextImport = allowPlaintextImport
        self.allowPlaintextExport = allowPlaintextExport
        self.created = created
        self.rotation = rotation
    }

    public static let example = VaultNamespaceView(
        name: "payments",
        kekVersions: [1, 2],
        currentKEKVersion: 2,
        maxSecretBytes: 65536,
        keepVersions: 10,
        allowPlaintextImport: false,
        allowPlaintextExport: false,
        created: Date(timeIntervalSince1970: 1_795_000_000),
        rotation: .example
    )
}

/// How far a KEK rotation has come.
public struct VaultRotationProgress: APIModel {
    public var retiring: [UInt64]
    public var remaining: Int

    public init(retiring: [UInt64], remaining: Int) {
        self.retiring = retiring
        self.remaining = remaining
    }

    public static let example = VaultRotationProgress(retiring: [1], remaining: 120)
}

/// `GET /v1/vault`.
public struct VaultNamespacePage: APIModel {
    public var items: [VaultNamespaceView]
    /// The cursor of the next page, if any.
    public var next: String?

    public init(items: [VaultNamespaceView], next: String? = nil) {
        self.items = items
        self.next = next
    }

    public static let example = VaultNamespacePage(items: [.example], next: "payments")
}

/// `PUT /v1/vault/{namespace}/secrets/{path}`: exactly one of `value` and `text`.
public struct WriteSecretBody: APIModel {
    /// The value in standard base64 (binary values, small files).
    public var value: String?
    /// The value as text (UTF-8).
    public var text: String?
    /// Absent: the previous version's.
    public var metadata: [String: String]?

    public init(value: String? = nil, text: String? = nil, metadata: [String: String]? = nil) {
        self.value = value
        self.text = text
        self.metadata = metadata
    }

    public static let example = WriteSecretBody(value: "c2VjcmV0", text: "secret", metadata: ["owner": "ops"])
}

/// `PUT /v1/vault/{namespace}/metadata/{path}`.
public struct SecretMetadataBody: APIModel {
    public var metadata: [String: String]

    public init(metadata: [String: String]) { self.metadata = metadata }

    public static let example = SecretMetadataBody(metadata: ["owner": "ops"])
}

/// A version of a secret; the value only in answers that read it.
public struct VaultSecretView: APIModel {
    public var namespace: String
    public var path: String
    public var version: UInt64
    /// Bytes of ciphertext (the value's length).
    public var size: Int
    public var metadata: [String: String]
    public var archived: Bool
    public var created: Date
    public var kekVersion: UInt64
    /// Only when a value is read: base64, and as text when it is UTF-8.
    public var value: String?
    public var text: String?

    public init(
        namespace: String,
        path: String,
        version: UInt64,
        size: Int,
        metadata: [String: String],
        archived: Bool,
        created: Date,
        kekVersion: UInt64,
        value: String? = nil,
        text: String? = nil
    ) {
        self.namespace = namespace
        self.path = path
        self.version = version
        self.size = size
        self.metadata = metadata
        self.archived = archived
        self.created = created
        self.kekVersion = kekVersion
        self.value = value
        self.text = text
    }

    public static let example = VaultSecretView(
        namespace: "payments",
        path: "db/primary",
        version: 3,
        size: 6,
        metadata: ["owner": "ops"],
        archived: false,
        created: Date(timeIntervalSince1970: 1_795_000_000),
        kekVersion: 2,
        value: "c2VjcmV0",
        text: "secret"
    )
}

/// `GET /v1/vault/{namespace}/secrets` and `…/versions/{path}`.
public struct VaultSecretPage: APIModel {
    public var items: [VaultSecretView]
    /// The cursor of the next page, if any.
    public var next: String?

    public init(items: [VaultSecretView], next: String? = nil) {
        self.items = items
        self.next = next
    }

    public static let example = VaultSecretPage(items: [.example], next: "db/primary")
}

/// `DELETE /v1/vault/{namespace}/secrets/{path}`.
public struct DestroyedVersions: APIModel {
    public var destroyedVersions: Int

    public init(destroyedVersions: Int) { self.destroyedVersions = destroyedVersions }

    public static let example = DestroyedVersions(destroyedVersions: 3)
}

/// `POST /v1/vault/{namespace}/keys/{name}`: generates a key (only `type`), or imports one: `value`
/// (base64 plaintext, where the namespace allows it) or `wrapped` (base64) with `transport` (`rsa` for
/// the namespace's transport key, or the name of an AES key of the namespace) and, for RSA, `oaepHash`.
public struct CreateVaultKeyBody: APIModel {
    public var type: String
    public var metadata: [String: String]?
    public var value: String?
    public var wrapped: String?
    public var transport: String?
    public var oaepHash: String?

    public init(
        type: String,
        metadata: [String: String]? = nil,
        value: String? = nil,
        wrapped: String? = nil,
        transport: String? = nil,
        oaepHash: String? = nil
    ) {
        self.type = type
        self.metadata = metadata
        self.value = value
        self.wrapped = wrapped
        self.transport = transport
        self.oaepHash = oaepHash
    }

    public static let example = CreateVaultKeyBody(
        type: "aes-256",
        metadata: ["use": "tokens"],
        value: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        wrapped: "q83vASNFZ4k=",
        transport: "rsa",
        oaepHash: "sha256"
    )
}

/// `POST /v1/vault/{namespace}/keys/{name}/export`: exactly one of `rsaPublicKey` (PEM, with
/// `oaepHash`), `transportKey` (an AES key of the namespace) and `plaintext: true`.
public struct ExportVaultKeyBody: APIModel {
    public var rsaPublicKey: String?
    public var oaepHash: String?
    public var transportKey: String?
    public var plaintext: Bool?

    public init(
        rsaPublicKey: String? = nil,
        oaepHash: String? = nil,
        transportKey: String? = nil,
        plaintext: Bool? = nil
    ) {
        self.rsaPublicKey = rsaPublicKey
        self.oaepHash = oaepHash
        self.transportKey = transportKey
        self.plaintext = plaintext
    }

    public static let example = ExportVaultKeyBody(
        rsaPublicKey: "-----BEGIN PUBLIC KEY-----…",
        oaepHash: "sha256",
        transportKey: "wrapping",
        plaintext: false
    )
}

/// An exported key: `wrapped`, or `value` for a plaintext export (both base64).
public struct ExportedVaultKey: APIModel {
    public var wrapped: String?
    public var value: String?
    public var mechanism: String
    public var oaepHash: String?

    public init(wrapped: String? = nil, value: String? = nil, mechanism: String, oaepHash: String? = nil) {
        self.wrapped = wrapped
        self.value = value
        self.mechanism = mechanism
        self.oaepHash = oaepHash
    }

    public static let example = ExportedVaultKey(
        wrapped: "q83vASNFZ4k=",
        value: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
        mechanism: "CKM_RSA_PKCS_OAEP",
        oaepHash: "sha256"
    )
}

/// A symmetric key kept in a namespace (never its value).
public struct VaultKeyView: APIModel {
    public var namespace: String
    public var name: String
    public var type: String
    /// `generated`, `imported-wrapped` or `imported-plaintext`.
    public var origin: String
    public var metadata: [String: String]
    public var created: Date
    public var kekVersion: UInt64

    public init(
        namespace: String,
        name: String,
        type: String,
        origin: String,
        metadata: [String: String],
        created: Date,
        kekVersion: UInt64
    ) {
        self.namespace = namespace
        self.name = name
        self.type = type
        self.origin = origin
        self.metadata = metadata
        self.created = created
        self.kekVersion = kekVersion
    }

    public static let example = VaultKeyView(
        namespace: "payments",
        name: "tokens",
        type: "aes-256",
        origin: "generated",
        metadata: ["use": "tokens"],
        created: Date(timeIntervalSince1970: 1_795_000_000),
        kekVersion: 2
    )
}

/// `GET /v1/vault/{namespace}/keys`.
public struct VaultKeyPage: APIModel {
    public var items: [VaultKeyView]
    /// The cursor of the next page, if any.
    public var next: String?

    public init(items: [VaultKeyView], next: String? = nil) {
        self.items = items
        self.next = next
    }

    public static let example = VaultKeyPage(items: [.example], next: "tokens")
}

/// A namespace's RSA transport public key, which senders wrap imported keys under.
public struct TransportKeyView: APIModel {
    public var namespace: String
    /// PEM `PUBLIC KEY`.
    public var publicKey: String
    public var algorithm: String
    public var mechanism: String

    public init(
        namespace: String,
        publicKey: String,
        algorithm: String = "rsa-3072",
        mechanism: String = "CKM_RSA_PKCS_OAEP"
    ) {
        self.namespace = namespace
        self.publicKey = publicKey
        self.algorithm = algorithm
        self.mechanism = mechanism
    }

    public static let example = TransportKeyView(namespace: "payments", publicKey: "-----BEGIN PUBLIC KEY-----…")
}
