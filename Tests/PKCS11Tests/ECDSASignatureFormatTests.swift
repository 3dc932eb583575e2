import Crypto
import PKCS11
import Testing

/// `ECDSASignatureFormat.der(fromRaw:)` writes `ECDSA-Sig-Value` itself; swift-crypto's signature
/// types are the reference it must agree with byte for byte.
@Suite struct ECDSASignatureFormatTests {
    static let curves: [(KeyAlgorithm, size: Int)] = [(.ecP256, 32), (.ecP384, 48), (.ecP521, 66)]

    static func reference(_ raw: [UInt8], _ algorithm: KeyAlgorithm) throws -> [UInt8] {
        switch algorithm {
        case .ecP256: Array(try P256.Signing.ECDSASignature(rawRepresentation: raw).derRepresentation)
        case .ecP384: Array(try P384.Signing.ECDSASignature(rawRepresentation: raw).derRepresentation)
        default: Array(try P521.Signing.ECDSASignature(rawRepresentation: raw).derRepresentation)
        }
    }

    /// Halves that exercise each encoding rule: leading zero bytes stripped, a zero byte added for a
    /// set top bit, zero itself, and the longest values (the P-521 SEQUENCE needs a long-form length).
    static func awkwardHalves(_ size: Int) -> [[UInt8]] {
        var generator = SystemRandomNumberGenerator()
        func random() -> [UInt8] { (0..<size).map { _ in UInt8.random(in: 0...255, using: &generator) } }
        var halves: [[UInt8]] = [
            [UInt8](repeating: 0, count: size),
            [UInt8](repeating: 0, count: size - 1) + [1],
            [UInt8](repeating: 0, count: size - 1) + [0x80],
            [UInt8](repeating: 0xFF, count: size),
            [0x80] + [UInt8](repeating: 0, count: size - 1),
            [0x7F] + [UInt8](repeating: 0xFF, count: size - 1),
        ]
        for zeros in [1, 2, 5] {
            var high = random()
            for index in 0..<zeros { high[index] = 0 }
            high[zeros] |= 0x80
            var low = random()
            for index in 0..<zeros { low[index] = 0 }
            low[zeros] &= 0x7F
            halves += [high, low]
        }
        return halves
    }

    @Test(arguments: [KeyAlgorithm.ecP256, .ecP384, .ecP521])
    func agreesWithSwiftCrypto(_ algorithm: KeyAlgorithm) throws {
        let size = try #require(Self.curves.first { $0.0 == algorithm }).size
        var generator = SystemRandomNumberGenerator()
        var cases: [[UInt8]] = (0..<2000).map { _ in
            (0..<2 * size).map { _ in UInt8.random(in: 0...255, using: &generator) }
        }
        let halves = Self.awkwardHalves(size)
        for r in halves { for s in halves { cases.append(r + s) } }
        var longForm = 0
        for raw in cases {
            let der = try ECDSASignatureFormat.der(fromRaw: raw, algorithm: algorithm)
            #expect(der == (try Self.reference(raw, algorithm)), "raw \(raw)")
            #expect(try ECDSASignatureFormat.raw(fromDER: der, algorithm: algorithm) == raw)
            if der[1] == 0x81 { longForm += 1 }
        }
        // Only P-521 signatures can be long enough for a long-form SEQUENCE length.
        #expect((longForm > 0) == (algorithm == .ecP521))
    }

    @Test func refusesAWrongLengthOrANonECDSAKey() {
        #expect(throws: PKCS11Error.self) { try ECDSASignatureFormat.der(fromRaw: [1, 2, 3], algorithm: .ecP256) }
        #expect(throws: PKCS11Error.self) {
            try ECDSASignatureFormat.der(fromRaw: [UInt8](repeating: 1, count: 96), algorithm: .ecP256)
        }
        #expect(throws: PKCS11Error.self) {
            try ECDSASignatureFormat.der(fromRaw: [UInt8](repeating: 1, count: 64), algorithm: .ed25519)
        }
    }
}
