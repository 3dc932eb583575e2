import APIModels
import ArgumentParser
import Foundation

/// `custos enrollment …`: enrollment profiles, their passwords, and the requests officers decide,
/// through the running service's API.
struct EnrollmentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enrollment",
        abstract:
            "Enrollment profiles (EST, SCEP, ACME), their passwords, and requests waiting for approval (through the API).",
        subcommands: [
            CreateProfileCommand.self, UpdateProfileCommand.self, ListProfilesCommand.self, ShowProfileCommand.self,
            DeleteProfileCommand.self, SharedPasswordCommand.self, OneTimePasswordCommand.self,
            ListEnrollmentRequestsCommand.self, ApproveEnrollmentCommand.self, RejectEnrollmentCommand.self,
            DeviceKeyCommand.self, ACMEAccountsCommand.self, ACMEOrdersCommand.self, ACMEDeactivateCommand.self,
            ACMEExternalKeyCommand.self,
        ]
    )
}

/// What a profile is, as options (create and update both take the whole profile).
struct EnrollmentProfileOptions: ParsableArguments {
    @Option(help: "The issuing CA.") var ca: String
    @Option(help: "tls-server, tls-client, device, user or code-signing.") var category = "device"
    @Option(help: "Validity of issued certificates in days (default: the CA policy's).") var validityDays: Int?
    @Option(help: "Subject to certify, e.g. \"CN={SERIALNUMBER},O=Acme\" ({X}: the request's value of X).")
    var subjectTemplate: String?
    @Option(help: "Protocols, comma-separated: est, scep, acme, cmp, portal, console.") var protocols = "est,scep"
    @Flag(help: "Accept the profile's shared password (make it with `enrollment password`).")
    var sharedPassword = false
    @Flag(help: "Refuse one-time passwords.") var noOneTimePasswords = false
    @Option(help: "A PEM file of certificates client certificates may chain to (IDevID CAs); repeatable.")
    var anchor: [String] = []
    @Flag(help: "Hold each request until an officer approves it.") var manualApproval = false
    @Flag(help: "For an upstream CA: hold requests while it cannot be reached, and send them again later.")
    var holdWhenUpstreamUnavailable = false
    @Option(help: "Renewal opens this many days before expiry (default: any time).") var renewalWindowDays: Int?
    @Flag(help: "Renewals must bring a new key.") var newKeyOnRenewal = false
    @Option(help: "A description for operators.") var description: String?
    @OptionGroup var acme: ACMEProfileOptions
    @OptionGroup var cmp: CMPProfileOptions

    func body(id: String) throws -> EnrollmentProfileBody {
        var anchors: [String] = []
        for path in anchor {
            let text: String
            do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
                throw ValidationError("cannot read --anchor \(path): \(error.localizedDescription)")
            }
            // One PEM block per anchor, as the API takes them.
            let end = "-----END CERTIFICATE-----"
            for block in text.components(separatedBy: end).dropLast() {
                guard let start = block.range(of: "-----BEGIN CERTIFICATE-----") else { continue }
                anchors.append(String(block[start.lowerBound...]) + end)
            }
        }
        return EnrollmentProfileBody(
            id: id,
            ca: ca,
            category: category,
            validityDays: validityDays,
            subjectTemplate: subjectTemplate,
            protocols: protocols.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) },
            authentication: EnrollmentAuthenticationBody(
                sharedPassword: sharedPassword,
                oneTimePasswords: !noOneTimePasswords,
                clientCertificateAnchors: anchors
            ),
            approval: manualApproval ? "manual" : "automatic",
            renewal: EnrollmentRenewalBody(windowDays: renewalWindowDays, allowSameKey: !newKeyOnRenewal),
            description: description,
            acme: protocols.contains("acme") ? acme.body : nil,
            cmp: protocols.contains("cmp") ? cmp.body : nil,
            whenUpstreamUnavailable: holdWhenUpstreamUnavailable ? "hold" : "fail"
        )
    }
}

struct CreateProfileCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create an enrollment profile.")
    @OptionGroup var api: APIOptions
    @Argument(help: "The profile's name (a-z 0-9 -); `default` also answers /.well-known/est/.") var id: String
    @OptionGroup var profile: EnrollmentProfileOptions

    func run() async throws {
        let created = try await api.client().call(
            "POST",
            "/v1/enrollment/profiles",
            body: try profile.body(id: id),
            as: EnrollmentProfileView.self
        )
        say("created enrollment profile \(created.id): \(created.endpoints.joined(separator: " "))")
    }
}

struct UpdateProfileCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "update",
        abstract: "Replace an enrollment profile (every option as for create)."
    )
    @OptionGroup var api: APIOptions
    @Argument(help: "The profile's name.") var id: String
    @OptionGroup var profile: EnrollmentProfileOptions

    func run() async throws {
        let updated = try await api.client().call(
            "PUT",
            "/v1/enrollment/profiles/\(APIClient.segment(id))",
            body: try profile.body(id: id),
            as: EnrollmentProfileView.self
        )
        say("updated enrollment profile \(updated.id)")
    }
}

struct ListProfilesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List enrollment profiles: name, CA, category, protocols, approval."
    )
    @OptionGroup var api: APIOptions

    func run() async throws {
        let client = try api.client()
        var after: String?
        repeat {
            let page = try await client.call(
                "GET",
                "/v1/enrollment/profiles?limit=1000" + (after.map { "&after=\(APIClient.segment($0))" } ?? ""),
                as: EnrollmentProfilePage.self
            )
            for profile in page.profiles {
                print(
                    [
                        profile.id, profile.ca, profile.category, profile.protocols.joined(separator: ","),
                        profile.approval,
                    ]
                    .joined(separator: "\t")
                )
            }
            after = page.next
        } while after != nil
    }
}

struct ShowProfileCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "An enrollment profile as JSON.")
    @OptionGroup var api: APIOptions
    @Argument(help: "The profile's name.") var id: String

    func run() async throws {
        try printJSON(
            try await api.client().call(
                "GET",
                "/v1/enrollment/profiles/\(APIClient.segment(id))",
                as: EnrollmentProfileView.self
            )
        )
    }
}

struct DeleteProfileCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Delete an enrollment profile and its passwords; its pending requests are rejected."
    )
    @OptionGroup var api: APIOptions
    @Argument(help: "The profile's name.") var id: String

    func run() async throws {
        _ = try await api.client().send("DELETE", "/v1/enrollment/profiles/\(APIClient.segment(id))")
        say("deleted enrollment profile \(id)")
    }
}

struct SharedPasswordCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "password",
        abstract: "Make a profile's shared password (replacing the old one) and print it once."
    )
    @OptionGroup var api: APIOptions
    @Argument(help: "The profile's name.") var id: String

    func run() async throws {
        let made = try await api.client().call(
            "POST",
            "/v1/enrollment/profiles/\(APIClient.segment(id))/password",
            as: EnrollmentSecretView.self
        )
        say("new shared password \(made.id) of profile \(id)")
        print(made.secret ?? "")
    }
}

struct OneTimePasswordCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "otp",
        abstract: "Make a one-time password for one device and print it once."
    )
    @OptionGroup var api: APIOptions
    @Argument(help: "The profile's name.") var id: String
    @Option(help: "Who it is for (device name, serial number).") var label: String?
    @Option(help: "Hours until it expires (1 to 8760).") var validHours = 72

    func run() async throws {
        let made = try await api.client().call(
            "POST",
            "/v1/enrollment/profiles/\(APIClient.segment(id))/one-time-passwords",
            body: OneTimePasswordBody(label: label, validHours: validHours),
            as: EnrollmentSecretView.self
        )
        say("one-time password \(made.id) of profile \(id)" + (made.expires.map { ", valid until \($0)" } ?? ""))
        print(made.secret ?? "")
    }
}

struct ListEnrollmentRequestsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "requests",
        abstract: "Requests held for approval or an upstream CA: id, profile, client, subject (and the decision)."
    )
    @OptionGroup var api: APIOptions
    @Option(help: "pending, issued or rejected.") var state = "pending"

    func run() async throws {
        let client = try api.client()
        var after: String?
        repeat {
            let page = try await client.call(
                "GET",
                "/v1/enrollment/requests?limit=1000&state=\(APIClient.segment(state))"
                    + (after.map { "&after=\(APIClient.segment($0))" } ?? ""),
                as: EnrollmentRequestPage.self
            )
            for request in page.requests {
                // A request held for its upstream CA says so, with the last error.
                let waiting = request.awaitingUpstream ? ["awaiting upstream: " + (request.upstreamError ?? "")] : []
                let decision = [request.decidedBy, request.serial, request.reason].compactMap { $0 } + waiting
                print(
                    ([request.id, request.profile, request.client, request.subject, request.state] + decision)
                        .joined(separator: "\t")
                )
            }
            after = page.next
        } while after != nil
    }
}

struct ApproveEnrollmentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approve",
        abstract: "Issue the certificate a held request asks for; the client gets it when it asks again."
    )
    @OptionGroup var api: APIOptions
    @Argument(help: "The request's id.") var id: String

    func run() async throws {
        let request = try await api.client().call(
            "POST",
            "/v1/enrollment/requests/\(APIClient.segment(id))/approve",
            as: EnrollmentRequestView.self
        )
        say("approved request \(request.id) of \(request.client): certificate \(request.serial ?? "?")")
    }
}

struct RejectEnrollmentCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reject",
        abstract: "Reject a held request; the client is told the reason when it asks again."
    )
    @OptionGroup var api: APIOptions
    @Argument(help: "The request's id.") var id: String
    @Option(help: "The reason the client is told.") var reason: String?

    func run() async throws {
        let request = try await api.client().call(
            "POST",
            "/v1/enrollment/requests/\(APIClient.segment(id))/reject",
            body: RejectEnrollmentBody(reason: reason),
            as: EnrollmentRequestView.self
        )
        say("rejected request \(request.id) of \(request.client)")
    }
}
