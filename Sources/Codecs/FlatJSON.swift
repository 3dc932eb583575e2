/// A reader for the common shape of hot request bodies: one JSON object whose values are strings,
/// integers, null, or objects of strings (an issuance request: `{"csr": "…", "category": "device",
/// "metadata": {"line": "3"}}`). `JSONDecoder` costs several times more than this for such a body.
///
/// It only ever answers for bodies it reads exactly as `JSONDecoder` does; for anything else — another
/// shape, a rare escape, a fraction, a duplicate key, malformed JSON — it answers nil and the caller
/// decodes with `JSONDecoder`, which also words the errors. So the fast path changes speed, never
/// what a body means.
public enum FlatJSON {
    /// A member's value.
    public enum Value: Equatable, Sendable {
        case string(String)
        case integer(Int)
        case null
        case strings([String: String])
    }

    /// The members of the object in `bytes`, or nil when the body is not of the flat shape.
    public static func object(_ bytes: UnsafeRawBufferPointer) -> [String: Value]? {
        var reader = Reader(bytes: bytes)
        guard let members = reader.object(nested: false) else { return nil }
        reader.skipWhitespace()
        return reader.atEnd ? members : nil
    }

    private struct Reader {
        let bytes: UnsafeRawBufferPointer
        var index = 0

        var atEnd: Bool { index == bytes.count }

        mutating func skipWhitespace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        mutating func take(_ byte: UInt8) -> Bool {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        /// `{ "name": value, … }`; nested objects may hold strings only.
        mutating func object(nested: Bool) -> [String: Value]? {
            guard take(UInt8(ascii: "{")) else { return nil }
            var members: [String: Value] = [:]
            if take(UInt8(ascii: "}")) { return members }
            repeat {
                skipWhitespace()
                guard let name = string(), take(UInt8(ascii: ":")), members[name] == nil else { return nil }
                skipWhitespace()
                guard index < bytes.count else { return nil }
                switch bytes[index] {
                case UInt8(ascii: "\""):
                    guard let text = string() else { return nil }
                    members[name] = .string(text)
                case UInt8(ascii: "{") where !nested:
                    guard let inner = object(nested: true) else { return nil }
                    var strings: [String: String] = [:]
                    for (key, value) in inner {
                        guard case .string(let text) = value else { return nil }
                        strings[key] = text
                    }
                    members[name] = .strings(strings)
                case UInt8(ascii: "n") where !nested:
                    guard literal("null") else { return nil }
                    members[name] = .null
                case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                    guard !nested, let number = integer() else { return nil }
                    members[name] = .integer(number)
                default:
                    return nil
                }
            } while take(UInt8(ascii: ","))
            return take(UInt8(ascii: "}")) ? members : nil
        }

        mutating func literal(_ word: StaticString) -> Bool {
            let length = word.utf8CodeUnitCount
            guard bytes.count - index >= length else { return false }
            for offset in 0..<length where bytes[index + offset] != word.utf8Start[offset] { return false }
            index += length
            return true
        }

        /// An integer without fraction, exponent or leading zeros, small enough for any `Int`.
        mutating func integer() -> Int? {
            let start = index
            if bytes[index] == UInt8(ascii: "-") { index += 1 }
            let digitsStart = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            let digits = index - digitsStart
            guard digits >= 1, digits <= 18, !(digits > 1 && bytes[digitsStart] == UInt8(ascii: "0")) else {
                return nil
            }
            if index < bytes.count, [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(bytes[index]) {
                return nil
            }
            var value = 0
            for position in digitsStart..<index { value = value * 10 + Int(bytes[position] - UInt8(ascii: "0")) }
            return bytes[start] == UInt8(ascii: "-") ? -value : value
        }

        /// A string with the escapes `\"`, `\\`, `\/`, `\n`, `\r`, `\t`; valid UTF-8, no raw control
        /// characters.
        mutating func string() -> String? {
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { return nil }
            index += 1
            var decoded: [UInt8] = []
            var runStart = index
            while index < bytes.count {
                let byte = bytes[index]
                switch byte {
                case UInt8(ascii: "\""):
                    decoded.append(contentsOf: bytes[runStart..<index])
                    index += 1
                    return String(validating: decoded, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    decoded.append(contentsOf: bytes[runStart..<index])
                    guard index + 1 < bytes.count else { return nil }
                    switch bytes[index + 1] {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded.append(bytes[index + 1])
                    case UInt8(ascii: "n"): decoded.append(0x0A)
                    case UInt8(ascii: "r"): decoded.append(0x0D)
                    case UInt8(ascii: "t"): decoded.append(0x09)
                    default: return nil
                    }
                    index += 2
                    runStart = index
                case 0..<0x20:
                    return nil
                default:
                    index += 1
                }
            }
            return nil
        }
    }
}
