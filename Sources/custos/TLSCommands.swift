import ArgumentParser
import Foundation
import HSM
import MetadataStore
import PKCS11
import Signing
import SwiftASN1
import X509

/// `custos tls init`: the HTTPS server key, generated in the HSM, with a CSR (signed in the HSM) for
/// the operator's CA, or a self-signed certificate to start with.
struct TLSCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tls",
        abstract: "Set up HTTPS: the server key in the HSM and its certificate.",
        subcommands: [TLSInitCommand.self]
    )
}

struct TLSInitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Generate the TLS server key in the HSM; write a CSR and, on request, a self-signed chain.",
        discussion: """
            Writes <data-dir>/tls.csr. Have your CA issue a server certificate for it, put the chain (leaf \
            first) in a file and name it in the configuration (tls.certificateChain). With --self-signed, \
            <data-dir>/tls-chain.pem is a self-signed certificate to use until then.
            """
    )

    @Option(help: "Data directory (the development token lives here with the softhsm2 profile).")
    var dataDir = ".custos"
    @OptionGroup var profileOptions: ProfileOptions
    @Option(help: "PKCS#11 module path (default: the profile's first installed path).")
    var module: String?
    @Option(help: "Label of the token to use.")
    var token = DevEnvironment.tokenLabel
    @OptionGroup var pin: PINOptions

    @Option(help: "Server DNS names (comma-separated); the first is also the common name.")
    var dns = "localhost"
    @Option(help: "Server IP addresses (comma-separated).")
    var ip = "127.0.0.1"
    @Option(help: "Key algorithm: ec-p256, ec-p384 or rsa-2048 / rsa-3072 / rsa-4096.")
    var algorithm = "ec-p256"
    @Option(help: "Service key name.")
    var key = "custos-tls"
    @Flag(help: "Also write a self-signed certificate valid for 90 days.")
    var selfSigned = false

    func run() async throws {
        guard let algorithm = KeyAlgorithm(rawValue: algorithm), algorithm != .ed25519 else {
            throw ValidationError("--algorithm must be ec-p256, ec-p384, ec-p521, rsa-2048, rsa-3072 or rsa-4096")
        }
        let names = dns.split(separator: ",").map(String.init)
        guard let commonName = names.first else { throw ValidationError("--dns needs at least one name") }
        var addresses: [[UInt8]] = []
        for text in ip.split(separator: ",") {
            var address = in_addr()
            guard inet_pton(AF_INET, String(text), &address) == 1 else {
                throw ValidationError("--ip takes IPv4 addresses, not \(text)")
            }
            addresses.append(withUnsafeBytes(of: address) { Array($0) })
        }
        let pool = try await SessionPool.start(
            try poolConfiguration(
                profile: try profileOptions.load(),
                module: module,
                token: token,
                pin: pin,
                sessions: 1,
                dataDir: dataDir
            )
        )
        defer { pool.shutdown() }
        let (schema, writer) = try await CustosStore.open(dataDirectory: dataDir)
        defer { writer.shutdown() }
        let signing = try await SigningService(pool: pool, store: LMDBBackend(schema: schema, writer: writer))
        let requester = Requester(actor: "cli/\(NSUserName())")
        let serviceKey: SigningKey
        if let existing = try? await signing.keys.serviceKey(key) {
            serviceKey = existing
            say("using the existing key \(key) (\(existing.algorithm.rawValue))")
        } else {
            serviceKey = try await signing.keys.createServiceKey(name: key, algorithm: algorithm, requester: requester)
            say("generated \(key) (\(algorithm.rawValue)) in the HSM, token \(serviceKey.token)")
        }
        let privateKey = try HSMPrivateKey(
            reference: serviceKey.reference,
            algorithm: serviceKey.algorithm,
            publicKey: serviceKey.publicKey,
            keyStore: signing.keyStore
        )
        let subject = try DistinguishedName { CommonName(commonName) }
        let alternativeNames = SubjectAlternativeNames(
            names.map { GeneralName.dnsName($0) }
                + addresses.map { GeneralName.ipAddress(ASN1OctetString(contentBytes: $0[...])) }
        )
        let csr = try await CertificateSigningRequest(
            version: .v1,
            subject: subject,
            asyncPrivateKey: .init(privateKey),
            attributes: CertificateSigningRequest.Attributes([
                try .init(ExtensionRequest(extensions: try Certificate.Extensions { alternativeNames }))
            ]),
            signatureAlgorithm: privateKey.defaultSignatureAlgorithm
        )
        let csrPath = dataDir + "/tls.csr"
        try csr.serializeAsPEM().pemString.appending("\n").write(toFile: csrPath, atomically: true, encoding: .utf8)
        say("wrote \(csrPath): have your CA issue a TLS server certificate for it")
        if selfSigned {
            let now = Date()
            let certificate = try await Certificate(
                version: .v3,
                serialNumber: .init(),
                publicKey: privateKey.publicKey,
                notValidBefore: now - 300,
                notValidAfter: now + 90 * 86400,
                issuer: subject,
                subject: subject,
                signatureAlgorithm: privateKey.defaultSignatureAlgorithm,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.notCertificateAuthority)
                    Critical(KeyUsage(digitalSignature: true))
                    try ExtendedKeyUsage([.serverAuth])
                    alternativeNames
                },
                issuerAsyncPrivateKey: .init(privateKey)
            )
            let chainPath = dataDir + "/tls-chain.pem"
            try certificate.serializeAsPEM().pemString.appending("\n")
                .write(toFile: chainPath, atomically: true, encoding: .utf8)
            say("wrote \(chainPath) (self-signed, 90 days)")
        }
        say(
            "to serve HTTPS, add to the configuration file:\n  tls:\n    certificateChain: <chain file>\n    key: \(key)"
        )
    }
}
