/// base64url without padding (RFC 4648 section 5, as JWS uses it: RFC 7515 section 2). Decoding is
/// strict: the URL-safe alphabet only, no `=`, and no length that cannot end a base64 text (one
/// character over a multiple of four).
public enum Base64URL {
    /// The bytes `text` encodes, or nil when it is not unpadded base64url.
    public static func decode(_ text: some Collection<UInt8>) -> [UInt8]? {
        var standard: [UInt8] = []
        standard.reserveCapacity(text.count + 3)
        for character in text {
            switch character {
            case UInt8(ascii: "-"): standard.append(UInt8(ascii: "+"))
            case UInt8(ascii: "_"): standard.append(UInt8(ascii: "/"))
            case UInt8(ascii: "+"), UInt8(ascii: "/"), UInt8(ascii: "="): return nil
            default: standard.append(character)
            }
        }
        switch standard.count % 4 {
        case 1: return nil
        case 2: standard += [UInt8(ascii: "="), UInt8(ascii: "=")]
        case 3: standard.append(UInt8(ascii: "="))
        default: break
        }
        return Base64.decode(standard)
    }

    /// The bytes of a UTF-8 string in base64url.
    public static func decode(_ text: String) -> [UInt8]? { decode(text.utf8) }

    /// `data` in unpadded base64url.
    public static func encode(_ data: [UInt8]) -> String {
        var standard: [UInt8] = []
        Base64.encode(data, into: &standard, lineLength: 1 << 40)
        var output: [UInt8] = []
        output.reserveCapacity(standard.count)
        for character in standard {
            switch character {
            case UInt8(ascii: "+"): output.append(UInt8(ascii: "-"))
            case UInt8(ascii: "/"): output.append(UInt8(ascii: "_"))
            case UInt8(ascii: "="): continue
            default: output.append(character)
            }
        }
        return String(decoding: output, as: UTF8.self)
    }
}
