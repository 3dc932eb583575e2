public import Foundation
public import HSM
public import MetadataStore
public import PKCS11
public import X509

/// A key of the signing service as callers see it: the reference to its HSM half, its public key,
/// state and (for code signing) its certificate chain. Never a private key.
public struct SigningKey: Sendable {
    public let name: String
    public let reference: KeyReference
    public let algorithm: KeyAlgorithm
    public let publicKey: PublicKey
    /// The same public key as swift-certificates holds it, parsed once when the key is loaded
    /// (converting an EC key between the two costs a field inversion each time); nil if it does not
    /// parse there, which only matters to certificate and CRL signing.
    public let certificatePublicKey: Certificate.PublicKey?
    public var state: KeyRecord.State
    public let created: Date
    /// Custos' own keys (`custos-…`, e.g. the TLS server key): never used or listed through the API.
    public var isServiceKey: Bool { name.hasPrefix("custos-") }
    /// Label of the token that holds it.
    public var token: String { record.token }
    /// Leaf first.
    public var certificateChain: [Certificate]
    /// The stored form, kept so that updates rewrite exactly what was read.
    var record: KeyRecord

    init(_ record: KeyRecord) throws {
        guard let algorithm = KeyAlgorithm(rawValue: record.algorithm) else {
            throw SigningError(.unknownAlgorithm, "key \(record.name) has unknown algorithm \(record.algorithm)")
        }
        self.name = record.name
        self.reference = KeyReference(label: record.label, id: record.id)
        self.algorithm = algorithm
        self.publicKey = try PublicKey(derRepresentation: record.publicKey, algorithm: algorithm)
        self.certificatePublicKey = try? Certificate.PublicKey(derEncoded: record.publicKey)
        self.state = record.state
        self.created = Date(timeIntervalSince1970: Double(record.created) / 1e9)
        self.certificateChain = try record.certificateChain.map { try Certificate(derEncoded: $0) }
        self.record = record
    }

    /// Key names: 1 to 64 of `A-Z a-z 0-9 . _ -`, starting with a letter or digit. Names starting
    /// with `custos-` belong to Custos' own service keys.
    public static func validate(name: String) throws(SigningError) {
        let bytes = Array(name.utf8)
        let allowed = { (byte: UInt8) in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2E || byte == 0x5F || byte == 0x2D
        }
        guard (1...64).contains(bytes.count), bytes.allSatisfy(allowed), bytes[0] != 0x2E, bytes[0] != 0x5F,
            bytes[0] != 0x2D
        else {
            throw SigningError(
                .invalidInput,
                "a key name has 1 to 64 characters from A-Z a-z 0-9 . _ - and starts with a letter or digit"
            )
        }
        guard !name.hasPrefix("custos-") else {
            throw SigningError(.invalidInput, "key names starting with \"custos-\" are reserved for Custos itself")
        }
    }
}
