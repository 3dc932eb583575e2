/// Bytes as a dictionary key, hashed in one pass (an `[UInt8]` key is hashed byte by byte).
struct BytesKey: Hashable, Sendable {
    let bytes: [UInt8]

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}
