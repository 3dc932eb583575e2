import Codecs
import Crypto
import PKCS11

/// M-of-N shares of a token PIN: Shamir's secret sharing over GF(2^8), byte by byte (Shamir, "How to
/// share a secret", 1979). Each byte of the secret is the constant term of a random polynomial of
/// degree M-1; share x holds the polynomial's values at x. Any M shares give the secret back by
/// Lagrange interpolation at 0; fewer reveal nothing about it.
///
/// A share travels as one line of text an officer can keep in a file or on paper:
///
///     custos-share-1.<set>.<threshold>.<x>.<y as hex>.<check>
///
/// `set` (8 hex digits) names the splitting the share belongs to, so shares of different splittings
/// are never combined; `check` is the first 8 hex digits of SHA-256 over everything before it, so a
/// mistyped share is refused before any HSM call; and every share carries a commitment to the
/// secret (the first 8 bytes of SHA-256 over the set and the secret), so a combination of genuine
/// but wrong shares is refused instead of logging in with a wrong PIN.
public struct PINShare: Sendable, Hashable, CustomStringConvertible {
    /// Which splitting the share belongs to.
    public let set: [UInt8]
    /// M: how many shares reconstruct the secret.
    public let threshold: Int
    /// The share's x coordinate, 1 to 255.
    public let x: UInt8
    /// The polynomials' values at x, then the commitment.
    public let y: [UInt8]

    static let prefix = "custos-share-1"
    static let commitmentLength = 8

    public var description: String {
        let body = "\(Self.prefix).\(Hex.encode(set)).\(threshold).\(x).\(Hex.encode(y))"
        return body + "." + Hex.encode(Array(SHA256.hash(data: Array(body.utf8)).prefix(4)))
    }

    /// Parses a share's text; surrounding white space and line breaks are ignored.
    public init(text: String) throws(CeremonyError) {
        let line = text.split(whereSeparator: \.isWhitespace).joined()
        let parts = line.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 6, parts[0] == Self.prefix else {
            throw CeremonyError("a share looks like custos-share-1.<set>.<m>.<x>.<hex>.<check>; this is not one")
        }
        let body = parts[0...4].joined(separator: ".")
        guard Hex.encode(Array(SHA256.hash(data: Array(body.utf8)).prefix(4))) == parts[5] else {
            throw CeremonyError("share \(parts[3]) fails its checksum: it was mistyped or damaged")
        }
        guard let set = Hex.decode(parts[1]), set.count == 4, let threshold = Int(parts[2]),
            (2...255).contains(threshold),
            let x = UInt8(parts[3]), x > 0, let y = Hex.decode(parts[4]), y.count > Self.commitmentLength
        else {
            throw CeremonyError("share \(parts[3]) has a valid checksum but impossible fields")
        }
        self.init(set: set, threshold: threshold, x: x, y: y)
    }

    init(set: [UInt8], threshold: Int, x: UInt8, y: [UInt8]) {
        self.set = set
        self.threshold = threshold
        self.x = x
        self.y = y
    }
}

public enum PINSharing {
    /// Splits `secret` into `count` shares of which `threshold` reconstruct it. `random` supplies the
    /// polynomials' coefficients and the set name (a ceremony passes the HSM's RNG).
    public static func split(_ secret: [UInt8], threshold: Int, count: Int, random: (Int) throws -> [UInt8]) throws
        -> [PINShare]
    {
        guard (2...255).contains(threshold), (threshold...255).contains(count) else {
            throw CeremonyError("shares: M must be 2 to 255 and N from M to 255 (got M=\(threshold), N=\(count))")
        }
        guard (1...255).contains(secret.count) else { throw CeremonyError("the PIN must have 1 to 255 bytes") }
        let set = try random(4)
        let payload = secret + commitment(set: set, secret: secret)
        // coefficients[i] holds the random coefficients of degree 1…M-1 for payload byte i.
        let randomBytes = try random(payload.count * (threshold - 1))
        guard randomBytes.count == payload.count * (threshold - 1) else {
            throw CeremonyError("the random source gave too few bytes")
        }
        var shares: [PINShare] = []
        for x in 1...count {
            let point = UInt8(x)
            var y = [UInt8](repeating: 0, count: payload.count)
            for index in payload.indices {
                // Horner's rule from the highest coefficient down to the secret byte.
                var value: UInt8 = 0
                for degree in stride(from: threshold - 1, through: 1, by: -1) {
                    value = GF256.multiply(value, point) ^ randomBytes[index * (threshold - 1) + degree - 1]
                }
                y[index] = GF256.multiply(value, point) ^ payload[index]
            }
            shares.append(PINShare(set: set, threshold: threshold, x: point, y: y))
        }
        return shares
    }

    /// The secret from `shares`: at least the threshold of them, of one set, distinct. The result is
    /// checked against the shares' commitment.
    public static func combine(_ shares: [PINShare]) throws(CeremonyError) -> [UInt8] {
        guard let first = shares.first else { throw CeremonyError("no shares given") }
        guard shares.allSatisfy({ $0.set == first.set && $0.threshold == first.threshold }) else {
            throw CeremonyError("the shares come from different splittings; use shares of one set")
        }
        guard shares.allSatisfy({ $0.y.count == first.y.count }) else {
            throw CeremonyError("the shares have different lengths")
        }
        let distinct = Dictionary(shares.map { ($0.x, $0) }, uniquingKeysWith: { a, _ in a })
        guard distinct.count >= first.threshold else {
            throw CeremonyError(
                "\(distinct.count) distinct share(s) given; this PIN needs \(first.threshold) of them"
            )
        }
        let used = Array(distinct.values.sorted { $0.x < $1.x }.prefix(first.threshold))
        var payload = [UInt8](repeating: 0, count: first.y.count)
        for (j, share) in used.enumerated() {
            // Lagrange basis at 0: product of x_m / (x_m - x_j) over m ≠ j (minus is xor in GF(2^8)).
            var basis: UInt8 = 1
            for (m, other) in used.enumerated() where m != j {
                basis = GF256.multiply(basis, GF256.divide(other.x, other.x ^ share.x))
            }
            for index in payload.indices { payload[index] ^= GF256.multiply(share.y[index], basis) }
        }
        let secret = Array(payload.dropLast(PINShare.commitmentLength))
        guard Array(payload.suffix(PINShare.commitmentLength)) == commitment(set: first.set, secret: secret) else {
            wipe(&payload)
            throw CeremonyError("the shares do not fit together (one is from another officer's set or was altered)")
        }
        wipe(&payload)
        return secret
    }

    static func commitment(set: [UInt8], secret: [UInt8]) -> [UInt8] {
        Array(SHA256.hash(data: Array("custos-share-commitment".utf8) + set + secret).prefix(PINShare.commitmentLength))
    }

    static func wipe(_ bytes: inout [UInt8]) {
        for index in bytes.indices { bytes[index] = 0 }
    }
}

/// Arithmetic in GF(2^8) with the AES polynomial x^8 + x^4 + x^3 + x + 1, through log tables of the
/// generator 3.
enum GF256 {
    static let tables: (exp: [UInt8], log: [UInt8]) = {
        var exp = [UInt8](repeating: 0, count: 510)
        var log = [UInt8](repeating: 0, count: 256)
        var value: UInt8 = 1
        for power in 0..<255 {
            exp[power] = value
            log[Int(value)] = UInt8(power)
            // value × 3 = value × 2 ⊕ value; × 2 reduces by 0x1B on overflow.
            let doubled = (value << 1) ^ (value & 0x80 != 0 ? 0x1B : 0)
            value = doubled ^ value
        }
        for power in 255..<510 { exp[power] = exp[power - 255] }
        return (exp, log)
    }()

    static func multiply(_ a: UInt8, _ b: UInt8) -> UInt8 {
        guard a != 0, b != 0 else { return 0 }
        return tables.exp[Int(tables.log[Int(a)]) + Int(tables.log[Int(b)])]
    }

    static func divide(_ a: UInt8, _ b: UInt8) -> UInt8 {
        precondition(b != 0, "division by zero in GF(2^8)")
        guard a != 0 else { return 0 }
        return tables.exp[Int(tables.log[Int(a)]) + 255 - Int(tables.log[Int(b)])]
    }
}

func sha256(_ bytes: [UInt8]) -> [UInt8] { Array(SHA256.hash(data: bytes)) }

/// SHA-256, for places where a property named `sha256` hides the function.
func digest(_ bytes: [UInt8]) -> [UInt8] { sha256(bytes) }
