import HSM
import PKCS11
import SwiftASN1
import Synchronization

/// Certificate serial numbers (RFC 5280 section 4.1.2.2): 16 bytes from the HSM's RNG, positive, never
/// with a leading zero byte, so always exactly 16 bytes in DER and 126 bits of randomness (the CA/Browser
/// Forum asks for at least 64). Uniqueness per CA is checked when the certificate is stored.
///
/// The token's RNG is read 4 KiB at a time (256 serials per pool round trip); the bytes are handed
/// out once each and never stored.
final class SerialNumbers: Sendable {
    static let length = 16
    private static let refill = 4096

    private let keyStore: KeyStore
    private let buffer = Mutex<[UInt8]>([])

    init(keyStore: KeyStore) { self.keyStore = keyStore }

    func next() async throws -> [UInt8] {
        while true {
            let taken: [UInt8]? = buffer.withLock { bytes in
                guard bytes.count >= Self.length else { return nil }
                defer { bytes.removeLast(Self.length) }
                return Array(bytes.suffix(Self.length))
            }
            if var serial = taken {
                // Top bit clear: positive. Next bit set: no leading zero byte to strip, so the length is fixed.
                serial[0] = (serial[0] & 0x3F) | 0x40
                return serial
            }
            let fresh = try await keyStore.random(Self.refill)
            buffer.withLock { $0.append(contentsOf: fresh) }
        }
    }

    static func hex(_ bytes: [UInt8]) -> String { Hex.encode(bytes) }

    /// Bytes of a hex serial (any case, optional colons), with leading zero bytes removed as in DER.
    static func bytes(hex text: String) -> [UInt8]? {
        let digits = Array(text.lowercased().filter { $0 != ":" })
        guard !digits.isEmpty, digits.count <= 80 else { return nil }
        let padded = digits.count % 2 == 1 ? ["0"] + digits : digits
        var bytes: [UInt8] = []
        for index in stride(from: 0, to: padded.count, by: 2) {
            guard let byte = UInt8(String(padded[index...index + 1]), radix: 16) else { return nil }
            bytes.append(byte)
        }
        while bytes.count > 1 && bytes[0] == 0 && bytes[1] < 0x80 { bytes.removeFirst() }
        return bytes
    }
}

/// DER bytes of an X.509 value.
func derBytes(_ value: some DERSerializable) throws -> [UInt8] {
    var serializer = DER.Serializer()
    try serializer.serialize(value)
    return serializer.serializedBytes
}
