import CA
import Codecs
import CustosTestSupport
import Foundation
import MetadataStore
import PKCS11
import Server
import SwiftASN1
import Testing
import X509

/// The certificate authority over real HTTP: CAs with keys in the HSM, CSRs made by openssl, and every
/// chain checked with `openssl verify`.
@Suite(.serialized, .stopsServers) struct CARouteTests {
    /// openssl `-newkey` arguments for each subject key algorithm Custos certifies.
    static let leafKeys: [(name: String, newkey: [String])] = [
        ("ec-p256", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]),
        ("ec-p384", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"]),
        ("ec-p521", ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-521"]),
        ("rsa-2048", ["-newkey", "rsa:2048"]),
        ("rsa-3072", ["-newkey", "rsa:3072"]),
        ("rsa-4096", ["-newkey", "rsa:4096"]),
        ("ed25519", ["-newkey", "ed25519"]),
    ]

    // MARK: Helpers

    func certificateCount(_ server: ServerFixture) async throws -> Int {
        try await server.api.store.read { try $0.records(CertificateRecord.self, after: nil, limit: .max).count }
    }

    /// Creates a CA through the API; returns its JSON (or the error object when `expect` is not 201).
    @discardableResult
    func createCA(
        _ server: ServerFixture,
        id: String,
        algorithm: String,
        subject: String,
        parent: String? = nil,
        pathLength: Int? = nil,
        validityDays: Int? = nil,
        expect status: Int = 201
    ) async throws -> [String: Any] {
        var body: [String: Any] = ["id": id, "algorithm": algorithm, "subject": subject]
        if let validityDays { body["validityDays"] = validityDays }
        if let parent { body["parent"] = parent }
        if let pathLength { body["pathLength"] = pathLength }
        let result = try await server.request("POST", "/v1/cas", token: server.adminToken, json: body)
        #expect(result.status == status, "creating CA \(id): \(result.text)")
        return status == 201 ? result.json : (result.json["error"] as? [String: Any] ?? [:])
    }
}

/// A CSR made by openssl with a fresh key; returns its PEM.
func makeCSR(_ directory: String, name: String, newkey: [String], subject: String, extra: [String] = []) throws
    -> String
{
    let csrPath = "\(directory)/\(name).csr"
    let result = try runCommand(
        "openssl",
        ["req", "-new"] + newkey + ["-nodes", "-keyout", "\(directory)/\(name).key", "-subj", subject, "-out", csrPath]
            + extra
    )
    guard result.status == 0 else { throw TestFailure("openssl req: \(result.stderr)") }
    return try String(contentsOfFile: csrPath, encoding: .utf8)
}

/// A certificate from `ca` for a fresh P-256 key made by openssl (`CN=<name>`), written to
/// `<directory>/<name>.pem`: its serial, the file and the PEM.
func issueLeaf(
    _ server: ServerFixture,
    ca: String,
    name: String,
    category: String = "device",
    in directory: String
) async throws -> (serial: String, path: String, pem: String) {
    let csr = try makeCSR(directory, name: name, newkey: CARouteTests.leafKeys[0].newkey, subject: "/CN=\(name)")
    let issued = try await server.request(
        "POST",
        "/v1/cas/\(ca)/certificates",
        token: server.adminToken,
        json: ["csr": csr, "category": category]
    )
    try #require(issued.status == 201, "\(issued.text)")
    let pem = issued.json["certificate"] as! String
    return (issued.json["serial"] as! String, try writeFile(directory, "\(name).pem", Data(pem.utf8)), pem)
}

/// A stored-policy body for the role matrix.
enum IssuancePolicyJSON {
    static var user: [String: Any] {
        [
            "validityDays": 365, "maxValidityDays": 365, "certificatePolicies": [],
            "allowedKeyAlgorithms": ["ec-p256"], "requiredSubjectAttributes": ["CN"],
            "allowedSubjectAttributes": ["CN": ".+"], "allowedSANTypes": ["email": ".+"],
            "requireSAN": false, "commonNameInSAN": false, "allowPublicKeyReuse": true,
        ]
    }
}
