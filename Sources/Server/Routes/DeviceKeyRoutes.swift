import APIModels
import CA
import Codecs
import Enrollment
import HSM
import Hummingbird
import PKCS11

/// `POST /v1/cas/{ca}/device-keys`: a key pair made in the HSM for a device that cannot make one, its
/// certificate, and the key delivered only inside a PKCS#12 file under the caller's password.
struct DeviceKeyRoutes {
    let enrollment: EnrollmentService
    let maxBodyBytes: Int

    func add(to group: RouterGroup<CustosRequestContext>) {
        group.post("v1/cas/:ca/device-keys", use: generate)
    }

    @Sendable func generate(_ request: Request, context: CustosRequestContext) async throws -> Response {
        try context.require(.admin, .officer)
        let ca = try await context.ca(enrollment.authority)
        let body = try await JSONBody.decode(GenerateDeviceKeyBody.self, from: request, limit: maxBodyBytes)
        guard let category = CertificateCategory(rawValue: body.category) else {
            throw APIError.badRequest(
                "invalid_input",
                "unknown category \"\(body.category)\"; one of "
                    + CertificateCategory.allCases.map(\.rawValue).joined(separator: ", ")
            )
        }
        let algorithmName = body.algorithm ?? KeyAlgorithm.ecP256.rawValue
        guard let algorithm = KeyAlgorithm(rawValue: algorithmName) else {
            throw APIError.badRequest("unknown_algorithm", "unknown key algorithm \"\(algorithmName)\"")
        }
        let delivery: EnrollmentService.Delivery
        switch (body.pkcs12, body.rsaPublicKey) {
        case (let pkcs12?, nil):
            delivery = .pkcs12(password: pkcs12.password, iterations: pkcs12.iterations ?? 2048)
        case (nil, let pem?):
            let name = body.oaepHash ?? OAEPHash.sha256.rawValue
            guard let hash = OAEPHash(rawValue: name) else {
                throw APIError.badRequest("invalid_input", "oaepHash is sha1, sha256, sha384 or sha512, not \(name)")
            }
            delivery = .rsaPublicKey(pem: pem, hash: hash)
        default:
            throw APIError.badRequest(
                "invalid_input",
                "say how the key is delivered: pkcs12 (a password) or rsaPublicKey, exactly one"
            )
        }
        let delivered = try await enrollment.generateDeviceKey(
            .init(
                ca: ca,
                category: category,
                subject: body.subject,
                alternativeNames: body.alternativeNames ?? [],
                algorithm: algorithm,
                validityDays: body.validityDays,
                metadata: body.metadata ?? [:],
                delivery: delivery
            ),
            requester: context.requester
        )
        func base64(_ bytes: [UInt8]?) -> String? {
            guard let bytes else { return nil }
            var encoded: [UInt8] = []
            Base64.encode(bytes, into: &encoded, lineLength: 1 << 40)
            return String(decoding: encoded, as: UTF8.self)
        }
        return try JSONResponse(
            status: .created,
            body: DeviceKeyAnswer(
                certificate: CertificateAnswer(delivered.record, chain: delivered.chain).model,
                pkcs12: base64(delivered.pkcs12),
                wrappedKey: base64(delivered.wrappedKey)
            )
        ).makeResponse()
    }
}
