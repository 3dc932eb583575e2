import CustosX509
import SwiftASN1
import X509

/// Names and OIDs in policies.
enum ExtensionBuilder {
    static func extendedKeyUsage(_ name: String) throws(CAError) -> ExtendedKeyUsage.Usage {
        switch name {
        case "serverAuth": .serverAuth
        case "clientAuth": .clientAuth
        case "codeSigning": .codeSigning
        case "emailProtection": .emailProtection
        case "timeStamping": .timeStamping
        case "ocspSigning": .ocspSigning
        default: ExtendedKeyUsage.Usage(oid: try objectIdentifier(name, field: "extendedKeyUsage"))
        }
    }

    static func objectIdentifier(_ text: String, field: String) throws(CAError) -> ASN1ObjectIdentifier {
        guard let oid = ObjectIdentifierText.parse(text) else {
            throw CAError(
                .invalidInput,
                "policy: \(field) has \"\(text)\", which is neither a known name nor a dotted OID"
            )
        }
        return oid
    }
}
