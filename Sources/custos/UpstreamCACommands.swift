import APIModels
import ArgumentParser
import Foundation

/// `custos ca upstream`: record a CA elsewhere that Custos forwards requests to as its RA.
struct CreateUpstreamCACommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "upstream",
        abstract: "Record an upstream CA (its key elsewhere) that Custos forwards requests to over CMP, EST or ACME.",
        discussion: """
            Custos makes the RA's key in the HSM and prints its CSR: have the upstream PKI certify it, then \
            give the certificate with `custos ca set-certificate`, which makes the CA active. Certificates it \
            issues through Custos are stored here like those of Custos's own CAs; revocations go to it first.
            """
    )
    @OptionGroup var api: APIOptions
    @Option(help: "The CA's id in Custos.") var id: String
    @Option(name: .customLong("protocol"), help: "How Custos reaches it: cmp, est or acme.") var protocolName = "cmp"
    @Option(help: "Its endpoint: CMP's full URL, EST's https base, ACME's directory URL.")
    var endpoint: String
    @Option(help: "PEM file: the upstream CA's certificate, then the certificates above it.") var certificate: String
    @Option(help: "PEM file: trust anchors for its signed answers or EST TLS certificate (default: the chain's top).")
    var responseAnchors: String?
    @Option(help: "Subject of the RA's CSR (default \"CN=Custos RA for <id>\").") var raSubject: String?
    @Option(help: "The RA key's algorithm.") var algorithm = "ec-p256"
    @Option(help: "Seconds one exchange may take, polling included (1-600).") var timeout = 30
    @Option(help: "How often a request is sent while it cannot be reached (1-10).") var attempts = 3
    @Option(help: "ACME: the external account key id the upstream gave.") var eabKid: String?
    @Option(help: "ACME: a file holding the external account MAC key (base64url); it moves into the HSM.")
    var eabKeyFile: String?
    @Option(help: "Tenant.") var tenant: String?

    func validate() throws {
        guard (eabKid == nil) == (eabKeyFile == nil) else {
            throw ValidationError("give --eab-kid with --eab-key-file")
        }
    }

    func run() async throws {
        let eabKey = try eabKeyFile.map { path in
            String(decoding: try readPasswordFile(path), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        let body = CreateUpstreamCABody(
            id: id,
            tenant: tenant,
            protocol: protocolName,
            url: endpoint,
            certificate: String(decoding: try readFile(certificate, what: "the certificate file"), as: UTF8.self),
            responseAnchors: try responseAnchors.map { path in
                String(decoding: try readFile(path, what: "the response anchors file"), as: UTF8.self)
            },
            raSubject: raSubject,
            algorithm: algorithm,
            timeoutSeconds: timeout,
            attempts: attempts,
            externalAccountKeyID: eabKid,
            externalAccountKey: eabKey
        )
        let ca = try await api.client().call("POST", "/v1/cas/upstream", body: body, as: CAView.self)
        say("recorded upstream CA \(ca.id): \(ca.subject), state \(ca.state); the RA's CSR follows")
        if let csr = ca.csr { print(csr, terminator: csr.hasSuffix("\n") ? "" : "\n") }
    }
}

/// `custos ca set-certificate`: the certificate a pending CA waits for.
struct SetCACertificateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set-certificate",
        abstract: "Give a pending CA its certificate: an external sub-CA's from its parent, an upstream CA's RA's.",
        discussion: "The certificate must certify the CA's (or the RA's) key in the HSM; the CA becomes active."
    )
    @OptionGroup var api: APIOptions
    @Argument(help: "The CA's id.") var id: String
    @Option(help: "PEM file with the certificate.") var certificate: String
    @Option(help: "PEM file with the chain above it, issuer first.") var issuerChain: String

    func run() async throws {
        let body = CACertificateBody(
            certificate: String(decoding: try readFile(certificate, what: "the certificate file"), as: UTF8.self),
            issuerChain: String(decoding: try readFile(issuerChain, what: "the issuer chain file"), as: UTF8.self)
        )
        let ca = try await api.client().call(
            "PUT",
            "/v1/cas/\(APIClient.segment(id))/certificate",
            body: body,
            as: CAView.self
        )
        say("CA \(ca.id): \(ca.kind) \(ca.subject), state \(ca.state)")
    }
}
