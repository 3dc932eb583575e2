import Codecs

/// A key whose bytes sort (LMDB compares with memcmp) in the order of its parts.
///
/// - Unsigned integers: 8 bytes big-endian. Signed integers: the same with the sign bit flipped, so
///   negative numbers sort first.
/// - Strings and byte strings: their bytes with 0x00 escaped as 0x00 0xFF, ended by 0x00 0x01. Unlike a
///   length prefix this keeps lexicographic order ("ab" < "b") and makes prefix range scans possible,
///   while a part still ends unambiguously ("a" < "a\0" < "ab").
public struct Key: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// The encoded key.
    public private(set) var bytes: [UInt8]

    public init() { bytes = [] }
    public init(bytes: [UInt8]) { self.bytes = bytes }

    public mutating func append(_ value: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
    }

    public mutating func append(_ value: Int64) { append(UInt64(bitPattern: value) ^ (1 << 63)) }

    public mutating func append(_ value: String) { append(bytes: Array(value.utf8)) }

    public mutating func append(bytes value: [UInt8]) {
        for byte in value {
            bytes.append(byte)
            if byte == 0 { bytes.append(0xFF) }
        }
        bytes.append(contentsOf: [0x00, 0x01])
    }

    /// A copy with `part` appended.
    public func appending(_ part: some KeyPart) -> Key {
        var key = self
        part.append(to: &key)
        return key
    }

    /// The first byte string after every key that starts with these bytes: the exclusive upper bound of a
    /// prefix scan. Nil when no such bound exists (all bytes 0xFF).
    public var prefixEnd: [UInt8]? {
        var end = bytes
        while let last = end.last {
            if last < 0xFF {
                end[end.count - 1] = last + 1
                return end
            }
            end.removeLast()
        }
        return nil
    }

    public static func < (lhs: Key, rhs: Key) -> Bool { lhs.bytes.lexicographicallyPrecedes(rhs.bytes) }

    public var description: String { bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined() }
}

/// A value that can be part of a `Key`.
public protocol KeyPart {
    func append(to key: inout Key)
}

extension UInt64: KeyPart { public func append(to key: inout Key) { key.append(self) } }
extension Int64: KeyPart { public func append(to key: inout Key) { key.append(self) } }
extension String: KeyPart { public func append(to key: inout Key) { key.append(self) } }

/// Reads the parts of a key back, in the order they were appended.
public struct KeyReader {
    private let bytes: [UInt8]
    private var offset = 0

    public init(_ key: [UInt8]) { bytes = key }

    /// Whether every byte has been read.
    public var isAtEnd: Bool { offset == bytes.count }

    public mutating func readUInt64() throws(StoreError) -> UInt64 {
        guard bytes.count - offset >= 8 else { throw Self.malformed("an 8-byte integer", at: offset) }
        var value: UInt64 = 0
        for byte in bytes[offset..<(offset + 8)] { value = value << 8 | UInt64(byte) }
        offset += 8
        return value
    }

    public mutating func readInt64() throws(StoreError) -> Int64 {
        Int64(bitPattern: try readUInt64() ^ (1 << 63))
    }

    public mutating func readBytes() throws(StoreError) -> [UInt8] {
        var value: [UInt8] = []
        var index = offset
        while index < bytes.count {
            let byte = bytes[index]
            if byte != 0 {
                value.append(byte)
                index += 1
                continue
            }
            guard index + 1 < bytes.count else { break }
            switch bytes[index + 1] {
            case 0x01:
                offset = index + 2
                return value
            case 0xFF:
                value.append(0)
                index += 2
            default:
                throw Self.malformed("an escaped byte string", at: index)
            }
        }
        throw Self.malformed("a terminated byte string", at: offset)
    }

    public mutating func readString() throws(StoreError) -> String {
        let data = try readBytes()
        guard let text = String(validating: data, as: UTF8.self) else {
            throw Self.malformed("UTF-8 text", at: offset)
        }
        return text
    }

    private static func malformed(_ expected: String, at offset: Int) -> StoreError {
        StoreError(code: .invalidData, reason: "malformed key: expected \(expected) at byte \(offset)")
    }
}

extension Key {
    /// A key as the opaque page cursor an API hands out (hex), so that callers never see its layout.
    public var cursorText: String { Hex.encode(bytes) }

    /// The key of a cursor this store handed out as `cursorText`; nil for anything else.
    public init?(cursorText text: String) {
        guard text.utf8.count <= 1024, let bytes = Hex.decode(text), !bytes.isEmpty else { return nil }
        self.init(bytes: bytes)
    }
}
