/// Standard base64 (RFC 4648 section 4) over bytes. Decoding is strict about what it accepts: the
/// alphabet only, a length that is a multiple of four, and `=` padding only at the end. Foundation's
/// decoder bridges through NSString on Linux (it was a sixth of the CPU of an OCSP GET) and turns
/// some malformed texts into bytes instead of failing.
public enum Base64 {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// 0–63 for the alphabet, 0xFF for anything else.
    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (value, character) in alphabet.enumerated() {
            table[Int(character)] = UInt8(value)
        }
        return table
    }()

    /// The bytes `text` encodes, or nil when it is not standard, padded base64.
    public static func decode(_ text: some Collection<UInt8>) -> [UInt8]? {
        let input = Array(text)
        guard input.count % 4 == 0 else { return nil }
        var padding = 0
        if input.last == UInt8(ascii: "=") { padding += 1 }
        if input.count >= 2, input[input.count - 2] == UInt8(ascii: "=") { padding += 1 }
        var output: [UInt8] = []
        output.reserveCapacity(input.count / 4 * 3)
        var index = 0
        while index < input.count {
            let last = index + 4 == input.count
            var quad: UInt32 = 0
            for offset in 0..<4 {
                let character = input[index + offset]
                if last && offset >= 4 - padding {
                    quad <<= 6
                    continue
                }
                let value = values[Int(character)]
                guard value != 0xFF else { return nil }
                quad = quad << 6 | UInt32(value)
            }
            output.append(UInt8(truncatingIfNeeded: quad >> 16))
            if !last || padding < 2 { output.append(UInt8(truncatingIfNeeded: quad >> 8)) }
            if !last || padding < 1 { output.append(UInt8(truncatingIfNeeded: quad)) }
            index += 4
        }
        return output
    }

    /// The bytes of a UTF-8 string in base64.
    public static func decode(_ text: String) -> [UInt8]? { decode(text.utf8) }

    /// The bytes of base64 broken into lines (MIME bodies, RFC 2045 section 6.8): spaces, tabs, carriage
    /// returns and line feeds are skipped; anything else must be standard, padded base64.
    public static func decode(ignoringWhitespace text: some Collection<UInt8>) -> [UInt8]? {
        decode(text.filter { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D && $0 != 0x0A })
    }

    /// Appends the base64 of `data` to `output`, padded, with `separator` after every `lineLength`
    /// characters except at the very end (Foundation's `.lineLength64Characters` and
    /// `.endLineWithLineFeed` with 64 and a line feed).
    public static func encode(
        _ data: [UInt8],
        into output: inout [UInt8],
        lineLength: Int = 64,
        separator: [UInt8] = [0x0A]
    ) {
        precondition(lineLength > 0 && lineLength % 4 == 0)
        let groups = (data.count + 2) / 3
        let groupsPerLine = lineLength / 4
        let breaks = groups == 0 ? 0 : (groups - 1) / groupsPerLine
        let start = output.count
        // Sized first, then written in place: appending byte by byte checked uniqueness every time.
        output.append(contentsOf: repeatElement(0, count: groups * 4 + breaks * separator.count))
        output.withUnsafeMutableBufferPointer { output in
            alphabet.withUnsafeBufferPointer { alphabet in
                var at = start
                for group in 0..<groups {
                    if group > 0 && group % groupsPerLine == 0 {
                        for byte in separator {
                            output[at] = byte
                            at += 1
                        }
                    }
                    let index = group * 3
                    let remaining = data.count - index
                    let first = data[index]
                    let second = remaining > 1 ? data[index + 1] : 0
                    let third = remaining > 2 ? data[index + 2] : 0
                    output[at] = alphabet[Int(first >> 2)]
                    output[at + 1] = alphabet[Int((first & 0x03) << 4 | second >> 4)]
                    output[at + 2] =
                        remaining > 1 ? alphabet[Int((second & 0x0F) << 2 | third >> 6)] : UInt8(ascii: "=")
                    output[at + 3] = remaining > 2 ? alphabet[Int(third & 0x3F)] : UInt8(ascii: "=")
                    at += 4
                }
            }
        }
    }
}
