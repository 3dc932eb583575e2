import Foundation

/// PEM text (RFC 7468) for DER bytes: base64 in 64-character lines between the labels. Written with
/// Foundation's base64 encoder, which is several times faster than building the text character by
/// character; every issuance answer carries a few of these.
public enum PEMText {
    public static func encode(_ der: [UInt8], label: String = "CERTIFICATE") -> String {
        let body = Data(der).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
        return "-----BEGIN \(label)-----\n\(body)\n-----END \(label)-----"
    }
}
