/// PEM text (RFC 7468) for DER bytes: base64 in 64-character lines between the labels, written with
/// our byte-level `Base64` (Foundation's encoder bridges through NSString on Linux).
public enum PEMText {
    public static func encode(_ der: [UInt8], label: String = "CERTIFICATE") -> String {
        var text: [UInt8] = []
        append(der, label: label, to: &text)
        return String(decoding: text, as: UTF8.self)
    }

    /// Appends the PEM text of `der` to `output`, with `lineBreak` between its lines: a line feed, or
    /// for a writer of JSON string literals its escaped form, so the text goes straight into a string.
    public static func append(_ der: [UInt8], label: String, to output: inout [UInt8], lineBreak: [UInt8] = [0x0A]) {
        output.append(contentsOf: "-----BEGIN \(label)-----".utf8)
        output.append(contentsOf: lineBreak)
        Base64.encode(der, into: &output, separator: lineBreak)
        output.append(contentsOf: lineBreak)
        output.append(contentsOf: "-----END \(label)-----".utf8)
    }
}
