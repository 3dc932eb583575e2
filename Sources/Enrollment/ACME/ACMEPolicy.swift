import ACME
public import ACMEValidation
import Foundation

/// What an ACME profile issues and to whom (part of an `EnrollmentProfile` that offers `acme`): which
/// identifiers may be asked for, which challenges prove them, and how much one account or one name may
/// order. The CA, category and validity are the profile's.
public struct ACMEPolicy: Codable, Sendable, Hashable {
    /// DNS names that may be certified: each entry allows itself and every name below it
    /// (`example.com` allows `example.com` and `www.example.com`); `.` allows every name.
    public var allowedDomains: [String]
    /// Address ranges in CIDR notation (`10.0.0.0/8`, `fd00::/8`) whose addresses may be certified (RFC 8738).
    public var allowedIPRanges: [String]
    /// Whether `*.name` may be ordered (proved by dns-01 only, RFC 8555 section 7.1.3).
    public var allowWildcards: Bool
    /// The challenge types offered, of `http-01`, `dns-01`, `tls-alpn-01`.
    public var challenges: [String]
    /// A URL of the terms clients must agree to; nil: none.
    public var termsOfService: String?
    /// Whether a new account must be bound to an external account key of the profile (RFC 8555
    /// section 7.3.4); without, a binding is still checked when a client sends one.
    public var externalAccountRequired: Bool
    /// New orders one account may place per hour; nil: no limit.
    public var ordersPerAccountPerHour: Int?
    /// Orders naming one identifier per week, over all accounts; nil: no limit.
    public var ordersPerIdentifierPerWeek: Int?
    /// How long a new order and its pending authorizations wait for the client, in hours.
    public var pendingHours: Int
    /// How long a valid authorization proves its identifier for later orders of the account, in days.
    public var validAuthorizationDays: Int

    public init(
        allowedDomains: [String] = [],
        allowedIPRanges: [String] = [],
        allowWildcards: Bool = true,
        challenges: [String] = ChallengeValidator.types,
        termsOfService: String? = nil,
        externalAccountRequired: Bool = false,
        ordersPerAccountPerHour: Int? = 300,
        ordersPerIdentifierPerWeek: Int? = nil,
        pendingHours: Int = 24,
        validAuthorizationDays: Int = 30
    ) {
        self.allowedDomains = allowedDomains
        self.allowedIPRanges = allowedIPRanges
        self.allowWildcards = allowWildcards
        self.challenges = challenges
        self.termsOfService = termsOfService
        self.externalAccountRequired = externalAccountRequired
        self.ordersPerAccountPerHour = ordersPerAccountPerHour
        self.ordersPerIdentifierPerWeek = ordersPerIdentifierPerWeek
        self.pendingHours = pendingHours
        self.validAuthorizationDays = validAuthorizationDays
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = ACMEPolicy()
        allowedDomains = try container.decodeIfPresent([String].self, forKey: .allowedDomains) ?? []
        allowedIPRanges = try container.decodeIfPresent([String].self, forKey: .allowedIPRanges) ?? []
        allowWildcards = try container.decodeIfPresent(Bool.self, forKey: .allowWildcards) ?? defaults.allowWildcards
        challenges = try container.decodeIfPresent([String].self, forKey: .challenges) ?? defaults.challenges
        termsOfService = try container.decodeIfPresent(String.self, forKey: .termsOfService)
        externalAccountRequired = try container.decodeIfPresent(Bool.self, forKey: .externalAccountRequired) ?? false
        ordersPerAccountPerHour =
            try container.decodeIfPresent(Int.self, forKey: .ordersPerAccountPerHour)
            ?? (container.contains(.ordersPerAccountPerHour) ? nil : defaults.ordersPerAccountPerHour)
        ordersPerIdentifierPerWeek = try container.decodeIfPresent(Int.self, forKey: .ordersPerIdentifierPerWeek)
        pendingHours = try container.decodeIfPresent(Int.self, forKey: .pendingHours) ?? defaults.pendingHours
        validAuthorizationDays =
            try container.decodeIfPresent(Int.self, forKey: .validAuthorizationDays) ?? defaults.validAuthorizationDays
    }

    /// Checks the fields; throws naming the first problem.
    func validate() throws(EnrollmentError) {
        guard !allowedDomains.isEmpty || !allowedIPRanges.isEmpty else {
            throw EnrollmentError(
                .invalidInput,
                "acme.allowedDomains or acme.allowedIPRanges names what may be certified"
            )
        }
        guard allowedDomains.count <= 256, allowedIPRanges.count <= 256 else {
            throw EnrollmentError(.invalidInput, "acme allows at most 256 domains and 256 address ranges")
        }
        for domain in allowedDomains where domain != "." {
            guard (try? ACMEIdentifier(kind: .dns, value: domain)) != nil, !domain.hasPrefix("*") else {
                throw EnrollmentError(.invalidInput, "acme.allowedDomains: \"\(domain.prefix(64))\" is not a DNS name")
            }
        }
        for range in allowedIPRanges where AddressRange(range) == nil {
            throw EnrollmentError(.invalidInput, "acme.allowedIPRanges: \"\(range.prefix(64))\" is not CIDR")
        }
        guard !challenges.isEmpty, Set(challenges).count == challenges.count,
            challenges.allSatisfy(ChallengeValidator.types.contains)
        else {
            throw EnrollmentError(
                .invalidInput,
                "acme.challenges lists some of " + ChallengeValidator.types.joined(separator: ", ") + ", each once"
            )
        }
        if let terms = termsOfService {
            guard let url = URL(string: terms), ["http", "https"].contains(url.scheme ?? ""), terms.utf8.count <= 1024
            else { throw EnrollmentError(.invalidInput, "acme.termsOfService is an http(s) URL") }
        }
        for (name, value) in [
            ("ordersPerAccountPerHour", ordersPerAccountPerHour),
            ("ordersPerIdentifierPerWeek", ordersPerIdentifierPerWeek),
        ] {
            if let value, !(1...1_000_000).contains(value) {
                throw EnrollmentError(.invalidInput, "acme.\(name) is from 1 to 1000000")
            }
        }
        guard (1...720).contains(pendingHours) else {
            throw EnrollmentError(.invalidInput, "acme.pendingHours is from 1 to 720")
        }
        guard (1...397).contains(validAuthorizationDays) else {
            throw EnrollmentError(.invalidInput, "acme.validAuthorizationDays is from 1 to 397")
        }
    }

    /// Why `identifier` may not be certified, or nil.
    func refusal(_ identifier: ACMEIdentifier) -> String? {
        switch identifier.kind {
        case .dns:
            if identifier.isWildcard && !allowWildcards { return "wildcard names are not issued" }
            let name = identifier.authorizationValue
            let allowed = allowedDomains.contains { domain in
                domain == "." || name == domain.lowercased() || name.hasSuffix("." + domain.lowercased())
            }
            return allowed ? nil : "\(identifier.value) is not in the profile's allowed domains"
        case .ip:
            guard let bytes = identifier.addressBytes,
                allowedIPRanges.contains(where: { AddressRange($0)?.contains(bytes) == true })
            else { return "\(identifier.value) is not in the profile's allowed address ranges" }
            return nil
        }
    }

    /// The challenges offered for an identifier: a wildcard only by dns-01, an address not by dns-01.
    func challenges(for identifier: ACMEIdentifier) -> [String] {
        if identifier.isWildcard { return challenges.filter { $0 == "dns-01" } }
        if identifier.kind == .ip { return challenges.filter { $0 != "dns-01" } }
        return challenges
    }
}

/// An address range in CIDR notation.
struct AddressRange {
    let network: [UInt8]
    let prefix: Int

    init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let bytes = ACMEIdentifier.addressBytes(String(parts[0])), let prefix = Int(parts[1]),
            (0...bytes.count * 8).contains(prefix)
        else { return nil }
        network = bytes
        self.prefix = prefix
    }

    func contains(_ address: [UInt8]) -> Bool {
        guard address.count == network.count else { return false }
        var bits = prefix
        for index in network.indices where bits > 0 {
            let mask: UInt8 = bits >= 8 ? 0xFF : ~(0xFF >> UInt8(bits))
            guard address[index] & mask == network[index] & mask else { return false }
            bits -= 8
        }
        return true
    }
}
