import APIModels
import ArgumentParser
import Foundation

/// The ACME part of a profile, as options of `enrollment create` and `update`.
struct ACMEProfileOptions: ParsableArguments {
    @Option(
        name: .customLong("acme-domain"),
        help: "ACME: a domain whose names may be certified (with the names below it); repeatable, `.` for all."
    )
    var domains: [String] = []
    @Option(
        name: .customLong("acme-ip-range"),
        help: "ACME: a CIDR range whose addresses may be certified; repeatable."
    )
    var ipRanges: [String] = []
    @Option(
        name: .customLong("acme-challenges"),
        help: "ACME: challenge types offered, comma-separated (default: http-01,dns-01,tls-alpn-01)."
    )
    var challenges: String?
    @Option(name: .customLong("acme-terms"), help: "ACME: URL of the terms of service clients must agree to.")
    var terms: String?
    @Flag(name: .customLong("acme-no-wildcards"), help: "ACME: refuse wildcard names.") var noWildcards = false
    @Flag(
        name: .customLong("acme-eab-required"),
        help: "ACME: new accounts must be bound to an external account key (`enrollment acme-eab`)."
    )
    var externalAccountRequired = false
    @Option(name: .customLong("acme-orders-per-hour"), help: "ACME: new orders per account per hour (default 300).")
    var ordersPerHour: Int?

    var body: EnrollmentACMEBody {
        EnrollmentACMEBody(
            allowedDomains: domains,
            allowedIPRanges: ipRanges,
            allowWildcards: !noWildcards,
            challenges: challenges.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } },
            termsOfService: terms,
            externalAccountRequired: externalAccountRequired,
            ordersPerAccountPerHour: ordersPerHour
        )
    }
}

struct ACMEAccountsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "acme-accounts",
        abstract: "List a profile's ACME accounts: id, status, contacts, key thumbprint, created."
    )
    @OptionGroup var api: APIOptions
    @Argument(help: "The profile.") var profile: String

    func run() async throws {
        let client = try api.client()
        var after: String?
        repeat {
            let page = try await client.call(
                "GET",
                "/v1/enrollment/profiles/\(APIClient.segment(profile))/acme/accounts?limit=1000"
                    + (after.map { "&after=\(APIClient.segment($0))" } ?? ""),
                as: ACMEAccountPage.self
            )
            for account in page.accounts {
                print(
                    [
                        account.id, account.status, account.contacts.joined(separator: ","), account.keyThumbprint,
                        account.created.formatted(.iso8601),
                    ].joined(separator: "\t")
                )
            }
            after = page.next
        } while after != nil
    }
}

struct ACMEOrdersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "acme-orders",
        abstract: "List an ACME account's orders: id, status, identifiers, certificate serial."
    )
    @OptionGroup var api: APIOptions
    @Argument(help: "The profile.") var profile: String
    @Argument(help: "The account id.") var account: String

    func run() async throws {
        let list = try await api.client().call(
            "GET",
            "/v1/enrollment/profiles/\(APIClient.segment(profile))/acme/accounts/\(APIClient.segment(account))/orders",
            as: ACMEOrderList.self
        )
        for order in list.orders {
            print(
                [order.id, order.status, order.identifiers.joined(separator: ","), order.serial ?? "-"].joined(
                    separator: "\t"
                )
            )
        }
    }
}

struct ACMEDeactivateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "acme-deactivate",
        abstract: "Deactivate an ACME account: it can no longer order or revoke (its certificates stay valid)."
    )
    @OptionGroup var api: APIOptions
    @Argument(help: "The profile.") var profile: String
    @Argument(help: "The account id.") var account: String

    func run() async throws {
        let changed = try await api.client().call(
            "POST",
            "/v1/enrollment/profiles/\(APIClient.segment(profile))/acme/accounts/\(APIClient.segment(account))/deactivate",
            as: ACMEAccountView.self
        )
        say("ACME account \(changed.id) of profile \(changed.profile) is \(changed.status)")
    }
}

struct ACMEExternalKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "acme-eab",
        abstract: "Make an ACME external account binding key for a profile; prints its id and HMAC key (shown once)."
    )
    @OptionGroup var api: APIOptions
    @Argument(help: "The profile.") var profile: String
    @Option(help: "Who the key is for.") var label: String?

    func run() async throws {
        let made = try await api.client().call(
            "POST",
            "/v1/enrollment/profiles/\(APIClient.segment(profile))/acme/external-keys",
            body: ACMEExternalKeyBody(label: label),
            as: ACMEExternalKeyView.self
        )
        say(
            "external account key for profile \(made.profile) (give both to the ACME client; the key is not shown again):"
        )
        print("kid \(made.id)")
        print("hmac \(made.hmacKey ?? "")")
    }
}
