import Crypto
import CustosTestSupport
import Foundation
import MetadataStore
import PKCS11
import Server
import Signing
import Testing
import X509

/// The real server over HTTPS for EST: its TLS key made in the HSM with a self-signed certificate for
/// localhost (`tls.pem`, what clients trust), a CA `devices` with a P-256 key, and helpers that drive
/// the enrollment API and the command-line clients.
struct ESTServer {
    let server: ServerFixture
    let directory: String
    var tlsChain: String { "\(directory)/tls.pem" }
    var base: String { "https://localhost:\(server.port)" }

    /// With `tlsFromTestCA`, the TLS certificate is issued by a test CA (software key) saved as
    /// `tls-ca.pem`, for clients that take only CA certificates as trust anchors (BoringSSL's).
    static func start(
        retryAfterSeconds: Int = 1,
        ca: String = "devices",
        tlsFromTestCA: Bool = false,
        configure: (inout ServerConfiguration) -> Void = { _ in }
    ) async throws -> ESTServer {
        let directory = try makeTemporaryDirectory("est")
        var configuration = ServerConfiguration(port: 0)
        configuration.tls = .init(certificateChainPath: "\(directory)/tls.pem")
        configuration.enrollmentRetryAfterSeconds = retryAfterSeconds
        // The TLS handshake counts toward the head's time; with every suite starting servers at once on
        // two cores it has taken over the default 10 s (a 408 before the first request).
        configuration.connections.headerTimeout = .seconds(60)
        configure(&configuration)
        let server = try await ServerFixture(configuration: configuration) { api in
            let key = try await api.signing.keys.createServiceKey(
                name: "custos-tls",
                algorithm: .ecP256,
                requester: Requester(actor: "test")
            )
            let privateKey = try HSMPrivateKey(key, keyStore: api.signing.keyStore)
            let subject = try DistinguishedName { CommonName("localhost") }
            let now = Date()
            let extensions = try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames([.dnsName("localhost")])
            }
            guard tlsFromTestCA else {
                let certificate = try await Certificate(
                    version: .v3,
                    serialNumber: .init(),
                    publicKey: privateKey.publicKey,
                    notValidBefore: now - 300,
                    notValidAfter: now + 86_400,
                    issuer: subject,
                    subject: subject,
                    signatureAlgorithm: privateKey.defaultSignatureAlgorithm,
                    extensions: extensions,
                    issuerAsyncPrivateKey: .init(privateKey)
                )
                try certificate.serializeAsPEM().pemString.appending("\n")
                    .write(toFile: "\(directory)/tls.pem", atomically: true, encoding: .utf8)
                return
            }
            let caKey = Certificate.PrivateKey(P256.Signing.PrivateKey())
            let caName = try DistinguishedName { CommonName("EST Test TLS CA") }
            let caCertificate = try Certificate(
                version: .v3,
                serialNumber: .init(),
                publicKey: caKey.publicKey,
                notValidBefore: now - 300,
                notValidAfter: now + 86_400,
                issuer: caName,
                subject: caName,
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                    Critical(KeyUsage(keyCertSign: true))
                },
                issuerPrivateKey: caKey
            )
            let leaf = try Certificate(
                version: .v3,
                serialNumber: .init(),
                publicKey: privateKey.publicKey,
                notValidBefore: now - 300,
                notValidAfter: now + 86_400,
                issuer: caName,
                subject: subject,
                signatureAlgorithm: .ecdsaWithSHA256,
                extensions: extensions,
                issuerPrivateKey: caKey
            )
            let caPEM = try caCertificate.serializeAsPEM().pemString + "\n"
            try caPEM.write(toFile: "\(directory)/tls-ca.pem", atomically: true, encoding: .utf8)
            try (try leaf.serializeAsPEM().pemString + "\n" + caPEM)
                .write(toFile: "\(directory)/tls.pem", atomically: true, encoding: .utf8)
        }
        let setup = ESTServer(server: server, directory: directory)
        let created = try await setup.api(
            "POST",
            "/v1/cas",
            ["id": ca, "algorithm": "ec-p256", "subject": "CN=Devices CA,O=Custos Tests"]
        )
        try #require(created.status == 201, "\(created.text)")
        return setup
    }

    /// An API call over HTTPS as the administrator (or `token`).
    func api(_ method: String, _ path: String, _ json: Any? = nil, token: String? = nil) async throws -> HTTPResult {
        var arguments = ["-s", "-X", method, "-H", "Authorization: Bearer \(token ?? server.adminToken)"]
        if let json {
            arguments += [
                "-H", "Content-Type: application/json", "--data-binary",
                String(decoding: try JSONSerialization.data(withJSONObject: json), as: UTF8.self),
            ]
        }
        return try await curl(arguments + ["\(base)\(path)"])
    }

    /// curl trusting the server's certificate; the answer's status, headers and body. (On a thread of
    /// its own: the server in this process needs the cooperative threads.)
    func curl(_ arguments: [String]) async throws -> HTTPResult {
        let result = try await runClient(
            "curl",
            ["-sS", "--cacert", tlsChain, "-D", "-", "--output", "-"] + arguments,
            currentDirectory: directory
        )
        guard result.status == 0 else { throw TestFailure("curl \(arguments): \(result.stderr)") }
        return HTTPResult.parse(Data(result.stdout.utf8))
    }

    /// Creates an enrollment profile; returns its JSON.
    @discardableResult
    func profile(_ id: String, _ fields: [String: Any] = [:]) async throws -> [String: Any] {
        var body: [String: Any] = ["id": id, "ca": "devices", "category": "device"]
        body.merge(fields) { $1 }
        let created = try await api("POST", "/v1/enrollment/profiles", body)
        try #require(created.status == 201, "\(created.text)")
        return created.json
    }

    /// A new one-time password of `profile`.
    func oneTimePassword(_ profile: String, label: String = "device") async throws -> String {
        let made = try await api("POST", "/v1/enrollment/profiles/\(profile)/one-time-passwords", ["label": label])
        try #require(made.status == 201, "\(made.text)")
        return made.json["secret"] as! String
    }

    /// A fresh P-256 key and a CSR for it with `subject`, base64 DER in `<name>.b64` (what EST sends).
    @discardableResult
    func csr(_ name: String, subject: String, key: String? = nil) throws -> String {
        let keyPath = key ?? "\(name).key"
        var arguments = ["req", "-new", "-subj", subject, "-out", "\(name).der", "-outform", "DER"]
        if FileManager.default.fileExists(atPath: "\(directory)/\(keyPath)") {
            arguments += ["-key", keyPath]
        } else {
            arguments += ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", keyPath]
        }
        try openssl(arguments)
        try openssl(["base64", "-in", "\(name).der", "-out", "\(name).b64"])
        return "\(directory)/\(name).b64"
    }

    /// POSTs `<name>.b64` to `operation` of `profile` with extra curl arguments (credentials).
    func enroll(_ profile: String, _ name: String, operation: String = "simpleenroll", _ extra: [String] = [])
        async throws -> HTTPResult
    {
        try await curl(
            ["-X", "POST", "-H", "Content-Type: application/pkcs10", "--data-binary", "@\(name).b64"] + extra
                + ["\(base)/.well-known/est/\(profile)/\(operation)"]
        )
    }

    /// The certificate of a certs-only answer, written as `<name>.pem`.
    @discardableResult
    func saveCertificate(_ answer: HTTPResult, as name: String) throws -> String {
        try answer.body.write(to: URL(fileURLWithPath: "\(directory)/\(name).p7.b64"))
        try openssl(["base64", "-d", "-A", "-in", "\(name).p7.b64", "-out", "\(name).p7"])
        try openssl(["pkcs7", "-inform", "DER", "-in", "\(name).p7", "-print_certs", "-out", "\(name).pem"])
        return try String(contentsOfFile: "\(directory)/\(name).pem", encoding: .utf8)
    }

    /// The CA certificate of `devices` as `ca.pem`.
    func saveCA() async throws {
        let answer = try await curl(["\(base)/.well-known/est/\(try await firstProfile())/cacerts"])
        try #require(answer.status == 200, "\(answer.text)")
        try saveCertificate(answer, as: "ca")
    }

    private func firstProfile() async throws -> String {
        let page = try await api("GET", "/v1/enrollment/profiles")
        return ((page.json["profiles"] as? [[String: Any]])?.first?["id"] as? String) ?? "default"
    }

    func openssl(_ arguments: [String]) throws {
        let result = try runCommand("openssl", arguments, currentDirectory: directory)
        guard result.status == 0 else { throw TestFailure("openssl \(arguments): \(result.stderr)") }
    }

    /// `openssl verify` of `<name>.pem` against `ca.pem`.
    func verify(_ name: String) throws -> Bool { try IssuedCertificateChecks.verify(name, in: directory) }

    /// pkilint's findings (warnings and worse) on `<name>.pem`.
    func lint(_ name: String) throws -> [String] { try IssuedCertificateChecks.lint(name, in: directory) }

    /// Audit entries whose action is `action`.
    func audit(_ action: String) async throws -> [AuditEntry] {
        try await server.api.store.read { try $0.auditEntries(after: nil, limit: 100_000) }.filter {
            $0.event.action == action
        }
    }
}

extension HTTPResult {
    /// A response as curl writes it with `-D - --output -`: head, blank line, body. A `100 Continue`
    /// head, when there is one, is skipped.
    static func parse(_ bytes: Data) -> HTTPResult {
        var rest = bytes[...]
        while true {
            guard let end = rest.firstRange(of: Data("\r\n\r\n".utf8)) else {
                return HTTPResult(status: 0, headers: [:], body: Data(rest))
            }
            let head = String(decoding: rest[..<end.lowerBound], as: UTF8.self)
            rest = rest[end.upperBound...]
            let lines = head.split(separator: "\r\n")
            let status = Int(lines.first?.split(separator: " ").dropFirst().first ?? "") ?? 0
            if status == 100 { continue }
            var headers: [String: String] = [:]
            for line in lines.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                // Repeated fields (Link) are joined as RFC 9110 section 5.3 allows.
                let name = line[..<colon].lowercased()
                let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                headers[name] = headers[name].map { "\($0), \(value)" } ?? value
            }
            return HTTPResult(status: status, headers: headers, body: Data(rest))
        }
    }
}
