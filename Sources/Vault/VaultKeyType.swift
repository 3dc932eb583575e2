public import HSM
import PKCS11

/// The kinds of symmetric key the vault keeps: `aes-128`, `aes-192`, `aes-256`; `hmac-sha256`,
/// `hmac-sha384`, `hmac-sha512` (generic secrets as long as the hash's output, RFC 2104's
/// recommendation); and `secret-N`, a generic secret of N bits (64 to 4096, a multiple of 64) for
/// device keys of any other algorithm. Lengths are whole 8-byte blocks because RFC 5649 padding is
/// handled differently by tokens (SoftHSM 2.6 keeps it on unwrap).
public struct VaultKeyType: Sendable, Hashable, CustomStringConvertible {
    /// The name callers use (`aes-256`).
    public let name: String
    /// What the HSM generates and wraps.
    public let spec: SecretKeySpec

    public var description: String { name }

    /// Parses a type name; nil when it names no supported type.
    public init?(_ name: String) {
        switch name {
        case "aes-128", "aes-192", "aes-256":
            guard let bits = Int(name.dropFirst(4)) else { return nil }
            spec = SecretKeySpec(keyType: .aes, byteCount: bits / 8)
        case "hmac-sha256": spec = SecretKeySpec(keyType: .genericSecret, byteCount: 32)
        case "hmac-sha384": spec = SecretKeySpec(keyType: .genericSecret, byteCount: 48)
        case "hmac-sha512": spec = SecretKeySpec(keyType: .genericSecret, byteCount: 64)
        default:
            guard name.hasPrefix("secret-"), let bits = Int(name.dropFirst(7)), (64...4096).contains(bits),
                bits % 64 == 0, String(bits) == name.dropFirst(7)
            else { return nil }
            spec = SecretKeySpec(keyType: .genericSecret, byteCount: bits / 8)
        }
        self.name = name
    }

    /// Whether other keys can travel wrapped under a key of this type (AES keys only).
    public var isTransportCapable: Bool { spec.keyType == .aes }

    /// The type names, for error messages.
    public static let summary =
        "aes-128, aes-192, aes-256, hmac-sha256, hmac-sha384, hmac-sha512, secret-N (N bits, 64 to 4096, a multiple of 64)"
}
