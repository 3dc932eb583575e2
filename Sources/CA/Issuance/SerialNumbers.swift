import Codecs
import HSM
import PKCS11
import SwiftASN1
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Certificate serial numbers (RFC 5280 section 4.1.2.2), 16 bytes, positive, never with a leading
/// zero byte (so always exactly 16 bytes in DER):
///
///     0b01 | 46-bit milliseconds since 1970 (6 bytes) | 80 bits from the HSM's RNG (10 bytes)
///
/// The 80 random bits are what the CA/Browser Forum asks for (at least 64 bits of CSPRNG output, so
/// serials cannot be predicted); the time prefix only orders them. A CA's certificates are stored
/// under its id and their serial, so ordered serials make each issuance append to the end of the
/// certificate and serial B-trees — a few pages per group commit — where fully random serials wrote
/// two pages per tree and certificate. Uniqueness per CA is still checked when the certificate is
/// stored. The prefix tells no more than the certificate's notBefore already does.
///
/// The token's RNG is read 4 KiB at a time (409 serials per pool round trip); the bytes are handed
/// out once each and never stored.
public final class SerialNumbers: Sendable {
    static let length = 16
    /// Bytes of the serial that come from the RNG.
    static let randomLength = 10
    private static let refill = 4096

    private let keyStore: KeyStore
    private let buffer = Mutex<[UInt8]>([])

    init(keyStore: KeyStore) { self.keyStore = keyStore }

    func next() async throws -> [UInt8] {
        while true {
            let random: [UInt8]? = buffer.withLock { bytes in
                guard bytes.count >= Self.randomLength else { return nil }
                defer { bytes.removeLast(Self.randomLength) }
                return Array(bytes.suffix(Self.randomLength))
            }
            if let random { return Self.serial(milliseconds: Self.systemMilliseconds(), random: random) }
            let fresh = try await keyStore.random(Self.refill)
            buffer.withLock { $0.append(contentsOf: fresh) }
        }
    }

    /// The serial for a time and 10 random bytes.
    static func serial(milliseconds: UInt64, random: [UInt8]) -> [UInt8] {
        precondition(random.count == randomLength)
        // 46 bits of milliseconds last until the year 4199; top bit clear (positive), next bit set (no
        // leading zero byte to strip, so the length is fixed).
        let time = (milliseconds & (1 << 46 - 1)) | (1 << 46)
        var serial = (0..<6).map { UInt8(truncatingIfNeeded: time >> (8 * (5 - $0))) }
        serial.append(contentsOf: random)
        return serial
    }

    /// Milliseconds since 1970 by the system clock.
    static func systemMilliseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return UInt64(now.tv_sec) * 1000 + UInt64(now.tv_nsec) / 1_000_000
    }

    /// Bytes of a hex serial (any case, optional colons), with leading zero bytes removed as in DER.
    public static func bytes(hex text: String) -> [UInt8]? {
        var digits = text.utf8.filter { $0 != UInt8(ascii: ":") }
        guard !digits.isEmpty, digits.count <= 80 else { return nil }
        if digits.count % 2 == 1 { digits.insert(UInt8(ascii: "0"), at: 0) }
        guard var bytes = Hex.decode(String(decoding: digits, as: UTF8.self)) else { return nil }
        while bytes.count > 1 && bytes[0] == 0 && bytes[1] < 0x80 { bytes.removeFirst() }
        return bytes
    }
}
