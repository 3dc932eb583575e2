/// Writes a record in Custos' compact binary form: one format-version byte, then the fields in a
/// fixed order. Integers are LEB128 varints (signed ones zigzag-encoded), byte strings and text are a
/// varint length and the bytes, optionals a presence byte, arrays a varint count and the elements.
/// Fields are only ever appended in later format versions, so a reader can stop early.
public struct RecordWriter {
    /// The encoded record.
    public private(set) var bytes: [UInt8]

    public init(formatVersion: UInt8) { bytes = [formatVersion] }

    public mutating func write(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    public mutating func write(_ value: Int64) { write(UInt64(bitPattern: (value << 1) ^ (value >> 63))) }
    public mutating func write(_ value: Int) { write(Int64(value)) }
    public mutating func write(_ value: Bool) { bytes.append(value ? 1 : 0) }

    public mutating func write(_ value: [UInt8]) {
        write(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    public mutating func write(_ value: String) { write(Array(value.utf8)) }

    public mutating func write(_ value: String?) {
        write(value != nil)
        if let value { write(value) }
    }

    public mutating func write(_ value: [String]) {
        write(UInt64(value.count))
        for item in value { write(item) }
    }

    public mutating func write(_ value: [[UInt8]]) {
        write(UInt64(value.count))
        for item in value { write(item) }
    }

    public mutating func write(_ value: Int64?) {
        write(value != nil)
        if let value { write(value) }
    }

    public mutating func write(_ value: [UInt8]?) {
        write(value != nil)
        if let value { write(value) }
    }

    public mutating func write(_ value: [String: String]) {
        write(UInt64(value.count))
        for key in value.keys.sorted() {
            write(key)
            write(value[key]!)
        }
    }
}

/// Reads what `RecordWriter` wrote; every read checks bounds and fails with `.invalidData`.
public struct RecordReader {
    private let bytes: [UInt8]
    private var offset = 1
    /// The format version the record was written with.
    public let formatVersion: UInt8

    /// Starts reading `bytes`, which must have a format version in `supported`.
    public init(_ bytes: [UInt8], supported: ClosedRange<UInt8>, record: String) throws(StoreError) {
        guard let version = bytes.first else {
            throw StoreError(code: .invalidData, reason: "empty \(record) record")
        }
        guard supported.contains(version) else {
            throw StoreError(
                code: .invalidData,
                reason: "\(record) record has format version \(version); this build reads \(supported)"
            )
        }
        self.bytes = bytes
        self.formatVersion = version
    }

    /// Whether every byte has been read.
    public var isAtEnd: Bool { offset == bytes.count }
    /// How many bytes are left to read (to bound a count read before its elements).
    public var remaining: Int { bytes.count - offset }

    public mutating func readUInt64() throws(StoreError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while offset < bytes.count, shift < 64 {
            let byte = bytes[offset]
            offset += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
        throw malformed("a varint")
    }

    public mutating func readInt64() throws(StoreError) -> Int64 {
        let raw = try readUInt64()
        return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    public mutating func readInt() throws(StoreError) -> Int { Int(try readInt64()) }

    public mutating func readBool() throws(StoreError) -> Bool {
        guard offset < bytes.count, bytes[offset] <= 1 else { throw malformed("a boolean") }
        offset += 1
        return bytes[offset - 1] == 1
    }

    public mutating func readBytes() throws(StoreError) -> [UInt8] {
        let count = try readUInt64()
        guard count <= UInt64(bytes.count - offset) else { throw malformed("\(count) bytes") }
        defer { offset += Int(count) }
        return Array(bytes[offset..<(offset + Int(count))])
    }

    public mutating func readString() throws(StoreError) -> String {
        guard let text = String(validating: try readBytes(), as: UTF8.self) else { throw malformed("UTF-8 text") }
        return text
    }

    public mutating func readOptionalString() throws(StoreError) -> String? {
        try readBool() ? try readString() : nil
    }

    public mutating func readStrings() throws(StoreError) -> [String] {
        let count = try readUInt64()
        guard count <= UInt64(bytes.count - offset) else { throw malformed("a list of \(count) strings") }
        var items: [String] = []
        for _ in 0..<count { items.append(try readString()) }
        return items
    }

    public mutating func readByteStrings() throws(StoreError) -> [[UInt8]] {
        let count = try readUInt64()
        guard count <= UInt64(bytes.count - offset) else { throw malformed("a list of \(count) byte strings") }
        var items: [[UInt8]] = []
        for _ in 0..<count { items.append(try readBytes()) }
        return items
    }

    public mutating func readOptionalInt64() throws(StoreError) -> Int64? {
        try readBool() ? try readInt64() : nil
    }

    public mutating func readOptionalBytes() throws(StoreError) -> [UInt8]? {
        try readBool() ? try readBytes() : nil
    }

    /// Reads a string that must be one of `Value`'s raw values.
    public mutating func readEnum<Value: RawRepresentable>(_ type: Value.Type) throws(StoreError) -> Value
    where Value.RawValue == String {
        let name = try readString()
        guard let value = Value(rawValue: name) else {
            throw StoreError(code: .invalidData, reason: "malformed record: unknown \(Value.self) \"\(name)\"")
        }
        return value
    }

    public mutating func readStringMap() throws(StoreError) -> [String: String] {
        let count = try readUInt64()
        guard count <= UInt64(bytes.count - offset) else { throw malformed("a map of \(count) entries") }
        var map: [String: String] = [:]
        for _ in 0..<count { map[try readString()] = try readString() }
        return map
    }

    private func malformed(_ what: String) -> StoreError {
        StoreError(code: .invalidData, reason: "malformed record: expected \(what) at byte \(offset)")
    }
}
