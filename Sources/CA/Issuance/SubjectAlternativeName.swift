import Foundation
import SwiftASN1
public import X509

/// One subject alternative name (RFC 5280 section 4.2.1.6) of the kinds Custos issues: DNS name, IP
/// address, email address (rfc822Name) or URI. Text form: `dns:host.example`, `ip:10.0.0.1`, …
public struct SubjectAlternativeName: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        case dns, ip, email, uri
    }

    public let kind: Kind
    /// The name as text (IP addresses in their usual notation).
    public let value: String

    public var description: String { "\(kind.rawValue):\(value)" }

    public init(kind: Kind, value: String) {
        self.kind = kind
        self.value = value
    }

    /// Parses `dns:…`, `ip:…`, `email:…` or `uri:…`.
    public init(text: String) throws(CAError) {
        guard let colon = text.firstIndex(of: ":"), let kind = Kind(rawValue: String(text[..<colon]).lowercased())
        else {
            throw CAError(.invalidInput, "\"\(text)\" is not a SAN: use dns:, ip:, email: or uri: before the name")
        }
        self.init(kind: kind, value: String(text[text.index(after: colon)...]))
        _ = try generalName
    }

    /// Reads a general name; names of other kinds (directory names, other names) are refused.
    public init(_ name: GeneralName) throws(CAError) {
        switch name {
        case .dnsName(let value): self.init(kind: .dns, value: value)
        case .rfc822Name(let value): self.init(kind: .email, value: value)
        case .uniformResourceIdentifier(let value): self.init(kind: .uri, value: value)
        case .ipAddress(let octets):
            let bytes = Array(octets.bytes)
            guard let text = Self.ipText(bytes) else {
                throw CAError(.invalidCSR, "an IP address SAN has \(bytes.count) bytes, not 4 or 16")
            }
            self.init(kind: .ip, value: text)
        default: throw CAError(.policyViolation, "rule allowedSANTypes: SANs of the kind \(name) are not issued")
        }
    }

    /// The general name to encode; checks the text fits its kind.
    public var generalName: GeneralName {
        get throws(CAError) {
            switch kind {
            case .dns:
                let labels = value.split(separator: ".", omittingEmptySubsequences: false)
                let valid =
                    !value.isEmpty && value.utf8.count <= 253
                    && labels.allSatisfy { label in
                        (1...63).contains(label.utf8.count) && label.first != "-" && label.last != "-"
                            && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "*") }
                    }
                guard valid else {
                    throw CAError(.invalidInput, "\"\(value)\" is not a DNS name (RFC 1034 preferred syntax)")
                }
                return .dnsName(value.lowercased() == value ? value : value.lowercased())
            case .ip:
                guard let bytes = Self.ipBytes(value) else {
                    throw CAError(.invalidInput, "\"\(value)\" is not an IP address")
                }
                return .ipAddress(ASN1OctetString(contentBytes: bytes[...]))
            case .email:
                let parts = value.split(separator: "@", omittingEmptySubsequences: false)
                guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty, value.allSatisfy(\.isASCII) else {
                    throw CAError(.invalidInput, "\"\(value)\" is not an email address")
                }
                return .rfc822Name(value)
            case .uri:
                guard let url = URL(string: value), url.scheme != nil, value.allSatisfy(\.isASCII) else {
                    throw CAError(.invalidInput, "\"\(value)\" is not an absolute URI")
                }
                return .uniformResourceIdentifier(value)
            }
        }
    }

    static func ipBytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }

    static func ipText(_ bytes: [UInt8]) -> String? {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        var buffer = [CChar](repeating: 0, count: 64)
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        let done = bytes.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &buffer, socklen_t(buffer.count)) }
        guard done != nil else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
