import Codecs
import PKCS11

/// How Custos names a key on a token: its label and `CKA_ID`. This, never a handle, is what the
/// metadata store keeps; handles are cached per process and re-found when they go stale.
public struct KeyReference: Hashable, Sendable, Codable, CustomStringConvertible {
    /// `CKA_LABEL`.
    public var label: String
    /// `CKA_ID`.
    public var id: [UInt8]

    public init(label: String, id: [UInt8]) {
        self.label = label
        self.id = id
    }

    public var description: String {
        "key \"\(label)\" (id \(idHex))"
    }

    /// `CKA_ID` in lowercase hex.
    public var idHex: String {
        Hex.encode(id)
    }

    /// The search template for one half of the pair.
    func template(_ objectClass: ObjectClass) -> AttributeTemplate {
        [.objectClass(objectClass), .label(label), .id(id)]
    }
}
