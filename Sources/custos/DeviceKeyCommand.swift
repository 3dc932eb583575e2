import APIModels
import ArgumentParser
import Foundation

/// `custos enrollment device-key`: a key pair made in the HSM for a device, its certificate, and the
/// key handed out only wrapped to the line's RSA key (or, on tokens that can, in a PKCS#12 file).
struct DeviceKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "device-key",
        abstract: "Generate a device's key pair in the HSM, certify it, and write the key only encrypted.",
        discussion: """
            With --rsa-public-key the key is written wrapped to that RSA key (RSA-OAEP of a one-use AES-256 \
            key, then the PKCS#8 key under it with RFC 5649). With --pkcs12-password-file it is written as a \
            PKCS#12 file (tokens that wrap private keys with CKM_AES_CBC_PAD only; SoftHSM 2.6 cannot).
            """
    )
    @OptionGroup var api: APIOptions
    @Option(help: "The issuing CA.") var ca: String
    @Option(help: "tls-server, tls-client, device, user or code-signing.") var category = "device"
    @Option(help: "Subject, e.g. \"CN=PLC 4711,O=Acme\".") var subject: String
    @Option(help: "Subject alternative names (comma-separated dns:, ip:, email:, uri: names).") var san: String?
    @Option(help: "ec-p256, ec-p384, ec-p521, rsa-2048, rsa-3072 or rsa-4096.") var algorithm = "ec-p256"
    @Option(help: "Validity in days (default: the CA policy's).") var validityDays: Int?
    @Option(help: "PEM RSA public key to wrap the device key to.") var rsaPublicKey: String?
    @Option(help: "RSA-OAEP hash: sha256, sha1 (SoftHSM 2.6), sha384 or sha512.") var oaepHash = "sha256"
    @Option(help: "File holding the PKCS#12 password (instead of --rsa-public-key).") var pkcs12PasswordFile: String?
    @Option(help: "Where the certificate goes (PEM, with its chain).") var certificateOut: String
    @Option(help: "Where the wrapped key or PKCS#12 file goes (created new, mode 0600).") var keyOut: String

    func run() async throws {
        var body = GenerateDeviceKeyBody(
            category: category,
            subject: subject,
            alternativeNames: san.map { $0.split(separator: ",").map(String.init) },
            algorithm: algorithm,
            validityDays: validityDays
        )
        switch (rsaPublicKey, pkcs12PasswordFile) {
        case (let path?, nil):
            body.rsaPublicKey = String(decoding: try readFile(path, what: "--rsa-public-key"), as: UTF8.self)
            body.oaepHash = oaepHash
        case (nil, let path?):
            let password = String(decoding: try readFile(path, what: "--pkcs12-password-file"), as: UTF8.self)
                .trimmingCharacters(in: .newlines)
            body.pkcs12 = DeviceKeyPKCS12Body(password: password)
        default:
            throw ValidationError("give exactly one of --rsa-public-key and --pkcs12-password-file")
        }
        let answer = try await api.client().call(
            "POST",
            "/v1/cas/\(APIClient.segment(ca))/device-keys",
            body: body,
            as: DeviceKeyAnswer.self
        )
        guard let key = Data(base64Encoded: answer.pkcs12 ?? answer.wrappedKey ?? "") else {
            throw CLIError("the answer holds no key")
        }
        let descriptor = open(keyOut, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard descriptor >= 0 else { throw CLIError("cannot create \(keyOut): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        let written = key.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == key.count else { throw CLIError("cannot write \(keyOut)") }
        let chain = ([answer.certificate.certificate] + (answer.certificate.chain ?? [])).map { $0 + "\n" }.joined()
        try output(Data(chain.utf8), to: certificateOut)
        say(
            "certificate \(answer.certificate.serial) for \(answer.certificate.subject) in \(certificateOut); key "
                + (answer.pkcs12 != nil ? "as PKCS#12" : "wrapped to the RSA key") + " in \(keyOut)"
        )
    }
}
