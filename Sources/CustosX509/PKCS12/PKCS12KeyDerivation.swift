import Crypto

/// The key derivation of PKCS#12 (RFC 7292 appendix B.2) with SHA-256, for the integrity key of a
/// PFX's MAC (`id` 3). The password is used as a BMPString (UTF-16 big-endian) with two zero bytes at
/// its end, as appendix B.1 says.
///
/// Compared with OpenSSL's `PKCS12KDF` in `CustosX509Tests.PKCS12Tests`.
public enum PKCS12KeyDerivation {
    /// Purpose bytes of appendix B.3.
    public static let integrityKey: UInt8 = 3

    /// `count` bytes derived from `password` and `salt` with `iterations` rounds.
    public static func derive(password: String, salt: [UInt8], iterations: Int, id: UInt8, count: Int) -> [UInt8] {
        let u = 32  // SHA-256 output
        let v = 64  // SHA-256 block
        var passwordBytes: [UInt8] = []
        for unit in password.utf16 { passwordBytes += [UInt8(unit >> 8), UInt8(unit & 0xFF)] }
        passwordBytes += [0, 0]
        defer { wipe(&passwordBytes) }
        let diversifier = [UInt8](repeating: id, count: v)
        func repeated(_ bytes: [UInt8]) -> [UInt8] {
            guard !bytes.isEmpty else { return [] }
            let length = v * ((bytes.count + v - 1) / v)
            return (0..<length).map { bytes[$0 % bytes.count] }
        }
        var input = repeated(salt) + repeated(passwordBytes)
        defer { wipe(&input) }
        var output: [UInt8] = []
        while output.count < count {
            var block = Array(SHA256.hash(data: diversifier + input))
            for _ in 1..<max(iterations, 1) { block = Array(SHA256.hash(data: block)) }
            output += block
            // I_j = (I_j + B + 1) mod 2^(v*8) for each v-byte block of I, B being A repeated to v bytes.
            let b = (0..<v).map { block[$0 % u] }
            for start in stride(from: 0, to: input.count, by: v) {
                var carry: UInt16 = 1
                for index in (0..<v).reversed() {
                    let sum = UInt16(input[start + index]) + UInt16(b[index]) + carry
                    input[start + index] = UInt8(sum & 0xFF)
                    carry = sum >> 8
                }
            }
        }
        return Array(output.prefix(count))
    }

    private static func wipe(_ bytes: inout [UInt8]) {
        for index in bytes.indices { bytes[index] = 0 }
    }
}
