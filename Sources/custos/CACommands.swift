import APIModels
import ArgumentParser
import Foundation

/// `custos ca …`: certificate authorities, through the running service's API (so the server's
/// checks, roles and audit apply, also while it serves).
struct CACommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ca",
        abstract: "Create, import, list, renew and retire certificate authorities (through the API).",
        subcommands: [
            ListCAsCommand.self, ShowCACommand.self, CreateCACommand.self, ImportCACommand.self,
            ImportCeremonyCommand.self, CreateUpstreamCACommand.self, SetCACertificateCommand.self,
            RenewCACommand.self, RetireCACommand.self, ChainCommand.self, CRLCommand.self,
        ]
    )
}

struct ListCAsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List CAs: id, kind, state, tenant, subject."
    )
    @OptionGroup var api: APIOptions

    func run() async throws {
        let client = try api.client()
        var cursor: String?
        repeat {
            let page = try await client.call(
                "GET",
                "/v1/cas?limit=1000" + (cursor.map { "&cursor=\(APIClient.segment($0))" } ?? ""),
                as: CAList.self
            )
            for ca in page.cas { print([ca.id, ca.kind, ca.state, ca.tenant, ca.subject].joined(separator: "\t")) }
            cursor = page.nextCursor
        } while cursor != nil
    }
}

struct ShowCACommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "A CA's details as JSON.")
    @OptionGroup var api: APIOptions
    @Argument(help: "The CA's id.") var id: String

    func run() async throws {
        try printJSON(try await api.client().call("GET", "/v1/cas/\(APIClient.segment(id))", as: CAView.self))
    }
}

struct CreateCACommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create a root CA, a sub-CA of a CA held here, or (--external) a sub-CA of an outside parent.",
        discussion: "The key is generated in the HSM. For --external the CSR to send to the parent is printed."
    )
    @OptionGroup var api: APIOptions
    @Option(help: "The CA's id (letters, digits, '-', '_').") var id: String
    @Option(help: "Subject, e.g. \"CN=Acme Issuing CA,O=Acme\".") var subject: String
    @Option(help: "ec-p256, ec-p384, ec-p521, rsa-2048, rsa-3072, rsa-4096 or ed25519.") var algorithm = "ec-p384"
    @Option(help: "The parent CA's id (none: a root).") var parent: String?
    @Option(help: "Path length constraint.") var pathLength: Int?
    @Option(help: "Validity in days.") var validityDays: Int?
    @Option(help: "Tenant.") var tenant: String?
    @Flag(help: "A sub-CA whose parent is outside Custos: a key and a CSR now, the certificate imported later.")
    var external = false

    func run() async throws {
        let body = CreateCABody(
            id: id,
            subject: subject,
            algorithm: algorithm,
            validityDays: validityDays,
            pathLength: pathLength,
            parent: parent,
            tenant: tenant,
            external: external
        )
        let ca = try await api.client().call("POST", "/v1/cas", body: body, as: CAView.self)
        say(
            "created CA \(ca.id): \(ca.kind) \(ca.subject), state \(ca.state)"
                + (ca.serial.map { ", serial \($0)" } ?? "")
        )
        if let csr = ca.csr { print(csr, terminator: csr.hasSuffix("\n") ? "" : "\n") }
    }
}

struct ImportCACommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import a CA: with its key from PKCS#12 (the key moves into the HSM), or a CA certificate alone.",
        discussion: """
            --pkcs12 FILE --password-file FILE: an existing CA with its private key; the key becomes a \
            sensitive, non-extractable HSM object (administrators only). --certificate FILE: a CA \
            certificate of another PKI, without a key (a trust anchor); --parent names an imported CA \
            that signed it. The password is read from a file, never from an argument.
            """
    )
    @OptionGroup var api: APIOptions
    @Option(help: "The CA's id in Custos.") var id: String
    @Option(help: "PKCS#12 file with the CA certificate, its private key and its chain.") var pkcs12: String?
    @Option(help: "File holding the PKCS#12 password (one line).") var passwordFile: String?
    @Option(help: "PEM file with a CA certificate (no key).") var certificate: String?
    @Option(help: "With --certificate: the imported CA that signed it.") var parent: String?
    @Option(help: "Tenant.") var tenant: String?

    func validate() throws {
        guard (pkcs12 == nil) != (certificate == nil) else {
            throw ValidationError("give --pkcs12 (with --password-file) or --certificate")
        }
        if pkcs12 != nil, parent != nil { throw ValidationError("--parent goes with --certificate") }
    }

    func run() async throws {
        var body = ImportCABody(id: id, tenant: tenant)
        if let pkcs12 {
            body.pkcs12 = try readFile(pkcs12, what: "the PKCS#12 file").base64EncodedString()
            if let passwordFile { body.password = String(decoding: try readPasswordFile(passwordFile), as: UTF8.self) }
        } else if let certificate {
            body.certificate = String(decoding: try readFile(certificate, what: "the certificate file"), as: UTF8.self)
            body.parent = parent
        }
        let ca = try await api.client().call("POST", "/v1/cas/import", body: body, as: CAView.self)
        say(
            "imported CA \(ca.id): \(ca.kind) \(ca.subject), state \(ca.state)"
                + (pkcs12 != nil ? "; its key is in the HSM now, delete the PKCS#12 file when you are done" : "")
        )
    }
}

struct ImportCeremonyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-ceremony",
        abstract: "Put a CA made in a key ceremony into service; its key stays on the token, used by reference.",
        discussion: """
            The server checks the transcript's signature (and, with --audit-key, which audit key made \
            it), that the ceremony ran on the token this Custos uses, and that the key the transcript \
            records for the certificate's public key is that object on the token. No key is copied.
            """
    )
    @OptionGroup var api: APIOptions
    @Option(help: "The CA's id in Custos.") var id: String
    @Option(help: "The ceremony's transcript (JSON).") var transcript: String
    @Option(help: "The CA certificate (PEM) the ceremony or its parent made.") var certificate: String
    @Option(help: "For a sub-CA: PEM files of its issuers.") var chain: [String] = []
    @Option(help: "The audit key's SPKI SHA-256 (hex) recorded at the ceremony.") var auditKey: String?
    @Option(help: "Tenant.") var tenant: String?

    func run() async throws {
        let body = ImportCeremonyBody(
            id: id,
            transcript: String(decoding: try readFile(transcript, what: "the transcript"), as: UTF8.self),
            certificate: String(decoding: try readFile(certificate, what: "the certificate file"), as: UTF8.self),
            chain: try chain.map { String(decoding: try readFile($0, what: "the chain file"), as: UTF8.self) },
            auditKey: auditKey,
            tenant: tenant
        )
        let ca = try await api.client().call("POST", "/v1/cas/import-ceremony", body: body, as: CAView.self)
        say("CA \(ca.id) in service: \(ca.kind) \(ca.subject), its key used by reference on the token")
    }
}

struct RenewCACommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "renew",
        abstract: "Renew a CA's certificate, with the same key or (--rekey) a new one."
    )
    @OptionGroup var api: APIOptions
    @Argument(help: "The CA's id.") var id: String
    @Flag(help: "Generate a new key in the HSM.") var rekey = false
    @Option(help: "Validity in days.") var validityDays: Int?

    func run() async throws {
        let ca = try await api.client().call(
            "POST",
            "/v1/cas/\(APIClient.segment(id))/renew",
            body: RenewCABody(rekey: rekey, validityDays: validityDays),
            as: CAView.self
        )
        say(
            "renewed CA \(id): serial \(ca.serial ?? "?"), valid until "
                + (ca.notAfter.map { $0.formatted(.iso8601) } ?? "?")
        )
    }
}

struct RetireCACommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retire",
        abstract: "Retire a CA: it issues nothing more; its CRLs go on."
    )
    @OptionGroup var api: APIOptions
    @Argument(help: "The CA's id.") var id: String

    func run() async throws {
        let ca = try await api.client().call("POST", "/v1/cas/\(APIClient.segment(id))/retire", as: CAView.self)
        say("CA \(id) is \(ca.state)")
    }
}

struct ChainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chain",
        abstract: "A CA's certificate chain (itself first)."
    )
    @OptionGroup var api: APIOptions
    @Argument(help: "The CA's id.") var id: String
    @Option(help: "pem or pkcs7.") var format = "pem"
    @Option(help: "Output file (default: standard output).") var out: String?

    func run() async throws {
        guard format == "pem" || format == "pkcs7" else { throw ValidationError("--format must be pem or pkcs7") }
        let data = try await api.client().send("GET", "/v1/cas/\(APIClient.segment(id))/chain?format=\(format)")
        try output(data, to: out)
    }
}

struct CRLCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crl",
        abstract: "A CA's current CRL (DER); --publish signs a new one first."
    )
    @OptionGroup var api: APIOptions
    @Argument(help: "The CA's id.") var id: String
    @Flag(help: "Sign and publish a new CRL now.") var publish = false
    @Option(help: "Output file (default: standard output).") var out: String?

    func run() async throws {
        let client = try api.client()
        if publish { _ = try await client.send("POST", "/v1/cas/\(APIClient.segment(id))/crl") }
        try output(try await client.send("GET", "/v1/cas/\(APIClient.segment(id))/crl"), to: out)
    }
}
