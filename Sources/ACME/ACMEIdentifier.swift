import Foundation

/// An identifier an order asks for (RFC 8555 section 9.7.7): a DNS name, possibly a wildcard
/// (`*.example.com`, section 7.1.3), or an IP address (RFC 8738), IPv6 in its canonical form (RFC 5952).
public struct ACMEIdentifier: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        case dns, ip
    }

    public let kind: Kind
    /// Lower-case DNS name (with `*.` for a wildcard), or the address as text.
    public let value: String

    /// Reads `{"type": …, "value": …}`; throws `unsupportedIdentifier` for other types and
    /// `rejectedIdentifier`/`malformed` for names that are no names.
    public init(json: Any?) throws(ACMEProblem) {
        guard let object = json as? [String: Any], let type = object["type"] as? String,
            let value = object["value"] as? String
        else { throw ACMEProblem(.malformed, "an identifier is an object with \"type\" and \"value\"") }
        guard let kind = Kind(rawValue: type) else {
            throw ACMEProblem(.unsupportedIdentifier, "identifiers of type \"\(type.prefix(32))\" are not issued")
        }
        try self.init(kind: kind, value: value)
    }

    public init(kind: Kind, value: String) throws(ACMEProblem) {
        self.kind = kind
        switch kind {
        case .dns:
            let name = value.lowercased()
            guard Self.isDNSName(name) else {
                throw ACMEProblem(.rejectedIdentifier, "\"\(value.prefix(255))\" is not a DNS name")
            }
            self.value = name
        case .ip:
            guard let bytes = Self.addressBytes(value) else {
                throw ACMEProblem(.malformed, "\"\(value.prefix(64))\" is not an IP address")
            }
            self.value = Self.addressText(bytes)
        }
    }

    /// The store's form, `dns:…` or `ip:…` (the wildcard's `*.` kept).
    public var description: String { "\(kind.rawValue):\(value)" }

    /// Reads the store's form.
    public init(text: String) throws(ACMEProblem) {
        guard let colon = text.firstIndex(of: ":"), let kind = Kind(rawValue: String(text[..<colon])) else {
            throw ACMEProblem(.malformed, "\"\(text)\" is not a stored identifier")
        }
        try self.init(kind: kind, value: String(text[text.index(after: colon)...]))
    }

    public var isWildcard: Bool { kind == .dns && value.hasPrefix("*.") }

    /// The name an authorization is for: the wildcard's base domain (section 7.1.3).
    public var authorizationValue: String { isWildcard ? String(value.dropFirst(2)) : value }

    /// The JSON object.
    public var json: [String: String] { ["type": kind.rawValue, "value": value] }

    /// The address's bytes, 4 or 16, for `ip` identifiers.
    public var addressBytes: [UInt8]? { kind == .ip ? Self.addressBytes(value) : nil }

    static func isDNSName(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 253, !name.hasSuffix(".") else { return false }
        let labels = name.split(separator: ".", omittingEmptySubsequences: false)
        for (index, label) in labels.enumerated() {
            if label == "*" && index == 0 && labels.count > 2 { continue }
            guard (1...63).contains(label.utf8.count), label.first != "-", label.last != "-",
                label.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D })
            else { return false }
        }
        // All-numeric names are addresses, not names.
        return !labels.allSatisfy { $0.allSatisfy(\.isNumber) }
    }

    /// IPv4 dotted quad or IPv6 text to bytes.
    public static func addressBytes(_ text: String) -> [UInt8]? {
        if text.contains(":") {
            var address = in6_addr()
            guard inet_pton(AF_INET6, text, &address) == 1 else { return nil }
            return withUnsafeBytes(of: &address) { Array($0) }
        }
        var address = in_addr()
        guard inet_pton(AF_INET, text, &address) == 1 else { return nil }
        return withUnsafeBytes(of: &address) { Array($0) }
    }

    /// Bytes to canonical text.
    public static func addressText(_ bytes: [UInt8]) -> String {
        var buffer = [CChar](repeating: 0, count: 64)
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        _ = bytes.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &buffer, socklen_t(buffer.count)) }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The reverse-lookup name of an address (RFC 8738 section 6: the TLS-ALPN-01 SNI).
    public var reverseName: String? {
        guard let bytes = addressBytes else { return nil }
        if bytes.count == 4 { return bytes.reversed().map { String($0) }.joined(separator: ".") + ".in-addr.arpa" }
        let nibbles = bytes.flatMap { [$0 >> 4, $0 & 0x0F] }.reversed().map { String($0, radix: 16) }
        return nibbles.joined(separator: ".") + ".ip6.arpa"
    }
}
